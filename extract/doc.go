package extract

import (
	"strings"
)

// docState reads one segment: it splits the tokens into sentences, follows
// section headings and speaker labels, and hands each sentence to the
// mention finders.
type docState struct {
	r    *Rules
	toks []token
	seg  Segment
}

// spokenPunctuation turns dictated punctuation into punctuation:
// "period", "full stop", "comma", "semicolon", "question mark", "new
// paragraph", "new line", "colon" after a heading, "slash". "Period" stays
// a word where it names a stretch of time ("a period of", "the last
// period").
func spokenPunctuation(toks []token) []token {
	out := toks[:0:0]
	out = make([]token, 0, len(toks))
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		if t.kind != tokWord {
			out = append(out, t)
			continue
		}
		next := ""
		if i+1 < len(toks) && toks[i+1].kind == tokWord {
			next = toks[i+1].norm
		}
		punct := func(p string, n int) {
			out = append(out, token{norm: p, start: t.start, end: toks[i+n-1].end, kind: tokPunct})
			i += n - 1
		}
		switch {
		case t.norm == "period" && dictatedPeriod(toks, i):
			punct(".", 1)
		case t.norm == "full" && next == "stop":
			punct(".", 2)
		case t.norm == "comma" && !(i > 0 && toks[i-1].is("a", "in", "the")):
			punct(",", 1)
		case t.norm == "semicolon":
			punct(";", 1)
		case t.norm == "question" && next == "mark":
			punct("?", 2)
		case t.norm == "exclamation" && (next == "mark" || next == "point"):
			punct("!", 2)
		case t.norm == "slash" && i > 0 && i+1 < len(toks):
			punct("/", 1)
		case (t.norm == "new" || t.norm == "next") && (next == "paragraph" || next == "line"):
			out = append(out, token{norm: "\n", start: t.start, end: toks[i+1].end, kind: tokBreak, para: next == "paragraph"})
			i++
		case t.norm == "colon" && endsHeading(out):
			punct(":", 1)
		default:
			out = append(out, t)
		}
	}
	return out
}

// dictatedPeriod tells "period" said as punctuation from the word.
func dictatedPeriod(toks []token, i int) bool {
	if i == 0 {
		return false
	}
	if toks[i-1].is("a", "the", "this", "that", "refractory", "menstrual", "last", "postoperative", "latent",
		"incubation", "waiting", "grace", "trial", "same", "short", "long", "time", "first", "second", "one",
		"two", "three", "whole", "entire", "observation", "washout", "recovery", "neonatal", "postpartum", "of",
		"every", "each", "any", "such", "his", "her", "my", "your", "their") {
		return false
	}
	if i+1 == len(toks) || toks[i+1].kind == tokBreak {
		return true
	}
	n := toks[i+1]
	if n.is("of", "in", "for", "when", "during", "after", "before", "between") {
		return false
	}
	return n.title || n.caps || n.kind == tokPunct || n.kind == tokNum || (i+2 < len(toks) && toks[i+2].kind == tokBreak)
}

// endsHeading reports whether the tokens end with a section or body-system
// heading ("allergies", "past medical history").
func endsHeading(toks []token) bool {
	var ws []string
	for k := len(toks) - 1; k >= 0 && len(ws) < 6; k-- {
		if toks[k].kind != tokWord {
			break
		}
		ws = append([]string{toks[k].norm}, ws...)
		key := strings.Join(ws, " ")
		if _, ok := sectionHeadings[key]; ok || subHeadings[key] {
			return true
		}
	}
	return false
}

// speakerLabels are a conversation's speaker names ("Doctor: ...").
var speakerLabels = map[string]string{
	"doctor": "doctor", "dr": "doctor", "clinician": "doctor", "gp": "doctor", "physician": "doctor",
	"nurse": "doctor", "patient": "patient", "pt": "patient", "mother": "patient", "parent": "patient",
	"caller": "patient",
}

// spokenHeadingVerbs follow a heading said in a sentence: "past medical
// history is significant for ...".
var spokenHeadingVerbs = wordSet("is", "are", "include", "includes", "including", "significant for",
	"notable for", "remarkable for", "positive for", "reveals", "revealed", "shows", "showed", "was",
	"consists of", "as follows", "listed", "reviewed", "negative for")

// writtenOnly are headings that are ordinary words in a sentence ("History
// of tobacco use", "Course of antibiotics"): headings only when written,
// with a colon.
var writtenOnly = wordSet("history", "course", "data", "results", "findings", "studies", "condition", "problem",
	"procedure", "social", "general", "exam", "examination", "management", "objective", "subjective",
	"differential", "activity", "diet", "imaging", "laboratory", "labs", "followup", "follow up", "drugs",
	"medicines", "habits", "indication", "indications", "consent", "complications", "anesthesia", "vitals",
	"impressions", "instructions", "disposition", "recommendation", "recommendations", "present illness",
	"personal history", "risk factors", "operations", "surgeries", "specimens")

func (d *docState) run() { d.sentences(d.sentence) }

// sentences calls fn with the token range of each sentence, following
// headings and speaker labels as it goes.
func (d *docState) sentences(fn func(from, to int)) {
	toks := d.toks
	i := 0
	for i < len(toks) {
		// Leading punctuation and list markers ("1.", "2)") start nothing;
		// a paragraph break ends an allergy or family history list.
		for i < len(toks) && (toks[i].kind == tokPunct || toks[i].kind == tokBreak) {
			if toks[i].para && (d.r.sec == secAllergies || d.r.sec == secFamily) {
				d.r.sec = secOther
			}
			i++
		}
		if i >= len(toks) {
			break
		}
		if toks[i].kind == tokNum && i+1 < len(toks) && (toks[i+1].norm == "." || toks[i+1].norm == ")") &&
			(i == 0 || toks[i-1].kind != tokNum) {
			i += 2
			continue
		}
		i = d.heading(i)
		if i >= len(toks) {
			break
		}
		end := d.sentenceEnd(i)
		if end > i {
			fn(i, end)
		}
		i = end
	}
}

// heading reads a heading or a speaker label at toks[i] and returns where
// the sentence content starts.
func (d *docState) heading(i int) int {
	toks := d.toks
	if toks[i].kind == tokWord && i+1 < len(toks) && toks[i+1].norm == ":" {
		if sp, ok := speakerLabels[toks[i].norm]; ok && (i == 0 || toks[i-1].kind == tokBreak || toks[i-1].norm == ".") {
			d.r.speaker = sp
			return i + 2
		}
	}
	start := i
	if toks[i].is("for", "under", "regarding", "in", "on") {
		start = i + 1
	}
	var ws []string
	bestEnd, bestSec, sub := 0, secNone, false
	for j := start; j < len(toks) && len(ws) < 7; j++ {
		t := toks[j]
		if t.kind == tokPunct && (t.norm == "/" || t.norm == "&" || t.norm == "-") {
			continue
		}
		if t.kind != tokWord {
			break
		}
		if t.norm == "and" && len(ws) > 0 {
			ws = append(ws, t.norm)
			continue
		}
		ws = append(ws, t.norm)
		key := strings.Join(ws, " ")
		if s, ok := sectionHeadings[key]; ok {
			bestEnd, bestSec, sub = j+1, s, false
		} else if subHeadings[key] {
			bestEnd, bestSec, sub = j+1, secNone, true
		}
	}
	if bestEnd == 0 {
		return d.unknownHeading(i)
	}
	next := bestEnd
	for next < len(toks) && toks[next].kind == tokPunct && (toks[next].norm == "-" || toks[next].norm == ")") {
		next++
	}
	written := next < len(toks) && toks[next].norm == ":"
	spoken := false
	if !written && !sub && next < len(toks) {
		// "Past medical history is significant for...", "For allergies, ..."
		if start > i && toks[next].norm == "," && !writtenOnly[strings.Join(ws[:bestEnd-start-skipped(toks, start, bestEnd)], " ")] {
			spoken = true
		} else if _, n, ok := phraseAt(toks, next, len(toks), map[string]bool(spokenHeadingVerbs)); ok && n > 0 && start == i &&
			!writtenOnly[strings.Join(ws[:bestEnd-start-skipped(toks, start, bestEnd)], " ")] {
			spoken = true
		} else if allCaps(toks[start:bestEnd]) && (toks[next].kind == tokBreak || toks[next].norm == "," || toks[next].norm == "-") {
			// "CURRENT MEDICATIONS,1.  Lisinopril." and headings alone on
			// their line are headings without a colon.
			written = true
		}
	}
	if !written && !spoken {
		// A known word starting a longer heading ("LABORATORY AT
		// PRESENTATION:").
		return d.unknownHeading(i)
	}
	if !sub {
		d.r.sec = bestSec
	}
	if written || toks[next].norm == "," {
		return next + 1
	}
	return next
}

// unknownHeading skips a heading this package does not know ("CARDIAC
// CATHETERIZATION:"): two or more capitalized words before a colon.
func (d *docState) unknownHeading(i int) int {
	toks := d.toks
	j := i
	for j < len(toks) && j-i < 6 && toks[j].kind == tokWord && (toks[j].caps || len(toks[j].norm) == 1) {
		j++
	}
	if j > i && j < len(toks) && toks[j].norm == ":" && (j-i >= 2 || len(toks[i].norm) > 3) {
		// A section this package does not know has begun: what was true
		// of a list (allergies, medications, the family's diseases) is not
		// true of it.
		switch d.r.sec {
		case secAllergies, secMeds, secFamily:
			d.r.sec = secOther
		}
		return j + 1
	}
	return i
}

// skipped counts the punctuation tokens between start and end that a
// heading's words skip ("assessment/plan").
func skipped(toks []token, start, end int) int {
	n := 0
	for _, t := range toks[start:end] {
		if t.kind == tokPunct {
			n++
		}
	}
	return n
}

func allCaps(toks []token) bool {
	for _, t := range toks {
		if t.kind == tokWord && !t.caps {
			return false
		}
	}
	return true
}

// sentenceEnd returns the index of the token that ends the sentence
// starting at i (exclusive end of its content).
func (d *docState) sentenceEnd(i int) int {
	toks := d.toks
	for j := i; j < len(toks); j++ {
		t := toks[j]
		switch t.kind {
		case tokBreak:
			return j
		case tokNum:
			// "..., 7)TURP for BPH": a list item inside a line starts anew.
			if j > i && j+1 < len(toks) && toks[j+1].norm == ")" && (toks[j-1].norm == "," || toks[j-1].norm == ";") {
				return j
			}
		case tokPunct:
			switch t.norm {
			case ".":
				// A dot with no space after it inside a token run ("q.3
				// weekly", "q.4h") ends no sentence.
				if j+1 < len(toks) && toks[j+1].start == t.end && j > i && toks[j-1].end == t.start &&
					(toks[j+1].kind == tokNum || toks[j+1].kind == tokWord && !toks[j+1].title) {
					continue
				}
				return j
			case "?", "!", ";", ":":
				return j
			}
		case tokWord:
			// "Flomax q.d. Vitamin D q.d.": a dotted abbreviation ending in a
			// dot, then a capital, ends a sentence.
			if t.dotted && j+1 < len(toks) && d.seg.Text[t.end-1] == '.' && toks[j+1].kind == tokWord && toks[j+1].title && !toks[j+1].dotted {
				return j + 1
			}
			// A heading inside a line ("... home.PAST MEDICAL HISTORY:").
			if j > i && t.caps && j+1 < len(toks) {
				if k := d.headingAhead(j); k > 0 {
					return j
				}
			}
		}
	}
	return len(toks)
}

// headingAhead reports whether a written section heading (capitals and a
// colon) starts at toks[j].
func (d *docState) headingAhead(j int) int {
	toks := d.toks
	var ws []string
	for k := j; k < len(toks) && len(ws) < 6; k++ {
		if toks[k].kind == tokPunct && (toks[k].norm == "/" || toks[k].norm == "&") {
			continue
		}
		if toks[k].kind != tokWord || !toks[k].caps && toks[k].norm != "and" && toks[k].norm != "of" {
			return 0
		}
		ws = append(ws, toks[k].norm)
		if k+1 < len(toks) && toks[k+1].norm == ":" {
			key := strings.Join(ws, " ")
			if _, ok := sectionHeadings[key]; ok {
				return k + 1
			}
			return 0
		}
	}
	return 0
}
