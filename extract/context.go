package extract

import "strings"

// Assertions follow the ConText algorithm (Harkema et al. 2009): trigger
// phrases open a scope forward ("denies ...") or backward ("... was ruled
// out") over the rest of their sentence; a scope stops at a terminating
// word ("but", "however", "which") or at the end of the sentence, and
// pseudo-triggers ("no change", "gram negative") look like triggers but
// open nothing. A condition inside a scope takes its category.

// cat is an assertion category a trigger sets.
type cat uint8

const (
	catNone cat = iota
	catNegated
	catPossible
	catHypothetical
	catHistorical
	catFamily
	catOther     // someone else's condition: the spouse, a friend
	catPseudo    // looks like a trigger, is none
	catTerminate // ends every open scope
)

type direction uint8

const (
	dirForward direction = iota
	dirBackward
	dirBoth
)

type trigger struct {
	cat cat
	dir direction
	// window bounds a backward trigger's reach (words); 0 is the default.
	window int
	// relative is the family member a family trigger names.
	relative string
	// causal terminators ("due to", "secondary to") end every scope but a
	// possible one: "likely due to acid reflux" suspects the reflux.
	causal bool
}

// triggers maps normalized trigger phrases (up to six words) to what they
// do. Built from ConText's and NegEx's published trigger categories plus
// spoken forms.
var triggers = func() map[string]trigger {
	m := map[string]trigger{}
	add := func(c cat, d direction, phrases ...string) {
		for _, p := range phrases {
			k := normPhrase(p)
			if prev, ok := m[k]; ok {
				// A phrase listed both ways works both ways; a phrase of two
				// categories keeps the first.
				if prev.cat == c && prev.dir != d {
					prev.dir = dirBoth
					m[k] = prev
				}
				continue
			}
			m[k] = trigger{cat: c, dir: d}
		}
	}
	add(catNegated, dirForward,
		"no", "not", "denies", "denied", "deny", "denying", "without", "negative for", "neg for", "free of",
		"absence of", "absent", "ruled out", "ruled him out", "ruled her out", "ve", "ve for", "low suspicion for",
		"low suspicion of", "low likelihood of", "low probability of", "no reason to suspect", "no evidence of", "no evidence", "no sign of", "no signs of", "no symptoms of",
		"no history of", "no h o", "no hx of", "no previous", "no prior", "no known", "never had", "never",
		"not have", "doesnt have", "does not have", "didnt have", "did not have", "hasnt had", "has not had",
		"havent had", "have not had", "no complaint of", "no complaints of", "fails to reveal", "failed to reveal",
		"unremarkable for", "not associated with", "with no", "nor", "neither", "not experiencing",
		"no new", "not any", "none", "nil", "no further", "denies any", "denied any", "negative", "no longer",
		"resolution of", "not had", "not seen", "not see", "not demonstrate", "no findings of", "no suggestion of",
		"no suspicious", "not appreciated", "no obvious", "no significant", "no acute", "no active", "no other",
		"without any", "without evidence of", "without signs of", "no clinical", "no associated", "denies having",
		"no recent", "not complaining of", "not complain of", "no episodes of", "no episode of", "no difficulty",
		"dont have", "dont get", "havent got", "havent been", "havent noticed", "not noticed", "no issues with",
		"doesnt get", "not really", "not got", "no problems with", "not suffer from", "doesnt suffer from",
		"not experienced", "no current", "didnt notice", "no more", "nothing", "negative history of",
		"denies history of", "not exhibit", "not reveal", "excluded", "not consistent with", "clear of",
		"cannot see", "ruled out for", "is negative for", "was negative for", "were negative for",
		"no increased", "no increase in", "no family history of", "no fh of")
	add(catNegated, dirBackward,
		"was ruled out", "is ruled out", "are ruled out", "have been ruled out", "has been ruled out",
		"been ruled out", "was negative", "is negative", "were negative", "are negative",
		"unlikely", "is unlikely", "was unlikely", "not seen", "not present", "absent", "is absent", "are absent",
		"denied", "was denied", "were denied", "free", "not identified", "not noted", "not found", "none",
		"not appreciated", "not detected", "not really", "not at all", "not so much")
	add(catPossible, dirForward,
		"possible", "possibly", "probable", "probably", "likely", "suspected", "suspect", "suspicious for",
		"suspicion of", "suspicion for", "concern for", "concerning for", "concerned about", "question of",
		"questionable", "rule out", "r o", "ro", "to rule out", "differential", "differential diagnosis",
		"ddx", "may have", "might have", "could have", "could be", "may be", "might be", "presumed", "presumptive",
		"consider", "considering", "is likely", "most likely", "more likely", "is probably", "cannot exclude", "cannot rule out", "can not rule out", "worrisome for",
		"would consider", "borderline", "equivocal", "evaluate for", "evaluation for", "assess for",
		"worried about", "sounds like", "think you have", "thinking about", "i think it", "perhaps", "maybe",
		"query", "impression of", "compatible with", "might just be", "could just be", "in keeping with")
	add(catPossible, dirBackward,
		"is possible", "is likely", "was suspected", "is suspected", "cannot be excluded", "not excluded",
		"cannot be ruled out", "is questionable", "versus", "vs", "unclear", "is considered",
		"was considered", "suspected", "possible", "probable", "likely")
	add(catHypothetical, dirForward,
		"if", "return if", "call if", "in case", "should you", "should she", "should he", "in the event",
		"watch for", "monitor for", "look for", "looking for", "look out for", "warning signs", "side effect",
		"side effects", "can cause", "may cause", "could cause", "might cause", "risk of", "at risk for",
		"risk for", "to prevent", "prevention of", "prophylaxis", "prophylaxis for", "screen for",
		"screening for", "test for", "testing for", "check for", "checking for", "to check", "unless",
		"whether", "in order to", "worry about", "signs of", "come back if", "contact us if",
		"if you", "if she", "if he", "if it", "if there", "if any", "when you", "anything like",
		"tell us if", "let me know if", "let us know if", "report any", "be aware of",
		"lead to", "leads to", "turn into", "progress to", "can get", "can happen", "might get",
		"could get", "chance of", "in future", "can also cause", "may also cause", "could also cause",
		"can give you", "can make you", "may give you", "might give you", "encouraged", "encourage", "advised",
		"counseled", "counseled on", "counseling", "discussed", "education on", "educated on", "evaluate",
		"to evaluate", "work up for", "workup for", "to exclude", "exclude", "avoid", "prevent", "reduce the risk of",
		"for prevention of", "susceptible to", "immunization for", "immunizations for", "immunized against",
		"vaccinated against", "vaccine for", "vaccination for", "booster for", "vaccine against")
	add(catHistorical, dirForward,
		"history of", "h o", "hx of", "hx", "past history of", "previous", "previously", "prior", "former",
		"old", "remote", "status post", "s p", "in the past", "ex", "quit", "formerly", "resolved",
		"prior history of", "remote history of", "personal history of", "used to",
		"childhood", "as a child", "stopped smoking", "quit smoking", "ex smoker", "previous history of",
		"known history of", "significant for a history of", "recovered from", "since childhood")
	add(catHistorical, dirBackward,
		"in the past", "years ago", "year ago", "resolved", "which resolved", "that resolved", "has resolved",
		"as a child", "in childhood", "when she was young", "when he was young", "when i was young",
		"when i was younger", "when i was little", "as a baby", "as a kid", "now resolved", "quit",
		"months ago", "in remission", "long ago", "previously", "quit in", "stopped in", "remotely",
		"when younger", "which has resolved")
	add(catHypothetical, dirBackward, "prophylaxis", "precautions", "risk", "risk factors", "screening",
		"prevention", "workup", "work up", "evaluation", "testing", "protocol", "will help", "would help",
		"may help", "should help", "would be beneficial", "is recommended", "was recommended", "is advised",
		"was advised", "was discussed", "were discussed", "goal", "goals")
	add(catPseudo, dirForward,
		"no increase", "no suspicious change", "no significant change", "no change", "no interval change",
		"no definite change", "no significant interval change", "not extend", "not cause", "not drain",
		"not certain if", "not certain whether", "gram negative", "without difficulty", "not necessarily",
		"not only", "no further change", "not ruled out", "not been ruled out", "not rule out", "not rule him out",
		"not rule her out", "not been excluded", "not excluded", "not be excluded", "without fail",
		"not limited to", "not just", "no matter", "negative for change", "if not", "not to mention",
		"whether or not", "sure if", "not sure if", "history and physical", "history and exam",
		"no one", "nothing else", "if so", "no other complaints", "no new complaints", "no complaints",
		"any other", "side", "none of", "not only", "not just", "as needed", "if needed", "prior to",
		"old age", "years old", "year old", "month old", "week old", "day old", "not on", "not taking", "not change", "not worse", "not better", "not improve",
		"not improving", "not improved", "not helping", "not help", "not helped", "not working", "not work",
		"not stop", "not go away", "past week", "past month", "past year", "past few", "past several",
		"past couple", "past day", "past two", "past three", "ex wife", "ex husband", "previous visit",
		"prior visit", "prior to admission", "prior to arrival", "had a fall")
	add(catTerminate, dirBoth,
		"but", "however", "although", "though", "except", "apart from", "aside from", "yet", "other than",
		"which", "who", "secondary to", "due to", "because", "because of", "since", "as a result of",
		"cause of", "causes of", "etiology of", "source of", "reason for", "presents", "presented", "presenting",
		"complains", "complained", "complaining", "reports", "reported", "reporting", "states", "stated", "says",
		"said", "now", "still", "has had", "has been having", "admits",
		"endorses", "endorsed", "positive for", "notable for", "significant for", "remarkable for",
		"consistent with", "then", "whereas", "while", "unfortunately", "otherwise", "except for",
		"currently", "today", "presently", "recently", "started", "developed", "began", "accompanied by",
		"associated with", "with associated", "along with", "in addition", "additionally", "also", "plus",
		"ongoing", "got", "gets", "getting", "feels", "feeling", "noticed", "noticing", "experiencing",
		"experienced", "suffers", "suffering", "suffered", "diagnosed with", "shows", "showed", "reveals", "revealed", "demonstrates", "demonstrated", "there is", "there are",
		"there was", "there were", "she has", "he has", "she had", "he had", "i have", "i had", "i get",
		"i got", "i am", "i feel", "ive got", "ive had", "ive been", "I'm", "she is", "he is", "patient has",
		"patient had", "pt has")
	for _, p := range []string{"due to", "secondary to", "because of", "as a result of", "cause of", "causes of",
		"etiology of", "source of"} {
		t := m[normPhrase(p)]
		t.causal = true
		m[normPhrase(p)] = t
	}
	// Relatives open a family scope; the relative is what they say.
	for _, r := range []string{"mother", "father", "brother", "sister", "sibling", "son", "daughter", "aunt",
		"uncle", "grandmother", "grandfather", "grandparent", "cousin", "parent", "niece", "nephew",
		"maternal grandmother", "paternal grandmother", "maternal grandfather", "paternal grandfather",
		"maternal aunt", "paternal aunt", "maternal uncle", "paternal uncle", "half brother", "half sister",
		"twin", "grandson", "granddaughter", "relative", "family member", "sisters", "brothers"} {
		m[normPhrase(r)] = trigger{cat: catFamily, dir: dirForward, relative: normPhrase(r)}
	}
	for _, r := range []string{"wife", "husband", "spouse", "partner", "boyfriend", "girlfriend", "friend",
		"roommate", "coworker", "colleague", "neighbor", "classmate", "fiance", "fiancee"} {
		m[normPhrase(r)] = trigger{cat: catOther, dir: dirForward, relative: normPhrase(r)}
	}
	for _, p := range []string{"family history of", "family history", "fh of", "fhx of", "fhx", "fh",
		"runs in the family", "in the family", "family hx of", "strong family history of", "family history is positive for",
		"family history significant for", "family history notable for", "family history positive for",
		"family history of premature", "family member with", "relatives with", "family"} {
		m[normPhrase(p)] = trigger{cat: catFamily, dir: dirForward}
	}
	for _, r := range []string{"mother", "father", "brother", "sister", "son", "daughter", "aunt", "uncle",
		"grandmother", "grandfather", "cousin", "parent", "sibling", "brothers", "sisters", "mum", "dad"} {
		for _, det := range []string{"in", "in his", "in her", "in the", "in my", "in a", "in their", "in both"} {
			m[normPhrase(det+" "+r)] = trigger{cat: catFamily, dir: dirBackward, relative: normPhrase(r)}
		}
	}
	for _, p := range []string{"runs in the family", "in the family", "in her family", "in his family", "in my family",
		"in the mother", "in the father", "on his mother's side", "on her mother's side", "on his father's side",
		"on her father's side", "on mother's side", "on father's side", "on the maternal side",
		"on the paternal side"} {
		m[normPhrase(p)] = trigger{cat: catFamily, dir: dirBackward}
	}
	return m
}()

// maxTrigger is the longest trigger in words.
const maxTrigger = 7

// foundTrigger is a trigger at tokens [start, end) of a sentence.
type foundTrigger struct {
	trigger
	start, end int
}

// findTriggers returns the triggers of toks[from:to], longest first at
// each position; a "?" is a possible trigger both ways. Terminating words
// that sit inside a longer trigger do not terminate.
func findTriggers(toks []token, from, to int) []foundTrigger {
	var out []foundTrigger
	var buf [128]byte
	key := buf[:0]
	for i := from; i < to; {
		t := toks[i]
		if t.kind == tokPunct && t.norm == "?" {
			out = append(out, foundTrigger{trigger: trigger{cat: catPossible, dir: dirBoth, window: 4}, start: i, end: i + 1})
			i++
			continue
		}
		if t.kind != tokWord {
			i++
			continue
		}
		best, bestEnd := trigger{}, 0
		key = key[:0]
		words := 0
		for j := i; j < to && words < maxTrigger; j++ {
			u := toks[j]
			if u.kind == tokPunct && (u.norm == "/" || u.norm == "-" || u.norm == "'") {
				continue
			}
			if u.kind != tokWord && u.kind != tokNum {
				break
			}
			if len(key) > 0 {
				key = append(key, ' ')
			}
			key = append(key, u.norm...)
			words++
			if tr, ok := triggers[string(key)]; ok {
				best, bestEnd = tr, j+1
			}
		}
		if bestEnd == 0 {
			i++
			continue
		}
		out = append(out, foundTrigger{trigger: best, start: i, end: bestEnd})
		i = bestEnd
	}
	return out
}

// assertion is the combined assertion of one mention.
type assertion struct {
	negated, possible, hypothetical, historical, family bool
	other                                               bool // someone other than the patient or a relative
	relative                                            string
	historicalAfter                                     bool // the historical trigger follows the mention
}

// Scope limits in words: ConText lets a forward trigger run to the end of
// the sentence; dictated sentences run on, so scopes stop after a while.
const (
	forwardScope  = 14
	backwardScope = 5
)

// assess applies the triggers of a sentence to the mention at tokens
// [start, end).
func assess(toks []token, trig []foundTrigger, start, end int) assertion {
	var a assertion
	for ti, tr := range trig {
		if tr.cat == catPseudo && tr.start < start && tr.end > start && end > tr.end {
			// A pseudo-trigger running into the mention ("no change" of "no
			// change in vision") was never one: its words before the mention
			// may be a trigger of their own.
			var ws []string
			for _, t := range toks[tr.start:start] {
				if t.kind == tokWord {
					ws = append(ws, t.norm)
				}
			}
			if t, ok := triggers[strings.Join(ws, " ")]; ok && t.cat != catPseudo && t.cat != catTerminate &&
				t.dir != dirBackward {
				tr.trigger = t
				tr.end = start
			}
		}
		if tr.cat == catPseudo || tr.cat == catTerminate {
			continue
		}
		forward := tr.dir == dirForward || tr.dir == dirBoth
		backward := tr.dir == dirBackward || tr.dir == dirBoth
		switch {
		case forward && tr.start <= start && tr.end <= end && !(tr.start == start && tr.end == end):
			// A trigger may run into the mention's words: "no history of
			// pneumonia" where "history of pneumonia" is a name.
			if tr.end < start && words(toks, tr.end, start) > forwardScope && tr.cat != catFamily {
				continue
			}
			if terminated(trig, ti+1, start, tr.cat) {
				continue
			}
		case backward && tr.start >= end:
			w := backwardScope
			if tr.window > 0 {
				w = tr.window
			}
			if words(toks, end, tr.start) > w {
				continue
			}
			if terminatedBack(trig, end, ti) {
				continue
			}
			if tr.cat == catHistorical {
				a.historicalAfter = true
			}
		default:
			continue
		}
		switch tr.cat {
		case catNegated:
			a.negated = true
		case catPossible:
			a.possible = true
		case catHypothetical:
			a.hypothetical = true
		case catHistorical:
			a.historical = true
		case catFamily:
			a.family = true
			if tr.relative != "" {
				a.relative = tr.relative
			}
		case catOther:
			a.other = true
		}
	}
	return a
}

// terminated reports a terminator between trigger index from and token
// start.
func terminated(trig []foundTrigger, from, start int, c cat) bool {
	for _, t := range trig[from:] {
		if t.start >= start {
			return false
		}
		if t.cat == catTerminate && !(c == catPossible && t.causal) {
			return true
		}
	}
	return false
}

// terminatedBack reports a terminator between the mention's end and
// trigger index upto.
func terminatedBack(trig []foundTrigger, end, upto int) bool {
	for _, t := range trig[:upto] {
		if t.start >= end && t.cat == catTerminate {
			return true
		}
	}
	return false
}

// words counts word and number tokens in toks[from:to].
func words(toks []token, from, to int) int {
	n := 0
	for _, t := range toks[from:to] {
		if t.kind == tokWord || t.kind == tokNum {
			n++
		}
	}
	return n
}

// Assertion is how a text asserts one mention.
type Assertion struct {
	Negated, Possible, Hypothetical, Historical, Family bool
	// Relative is the family member a family mention is about, if said.
	Relative string
}

// Assess returns the assertion of the mention text[start:end] (byte
// offsets) within its sentence, by the triggers and scopes the rules
// extractor uses; sections are not applied. It serves assertion
// benchmarks such as the NegEx test set.
func Assess(text string, start, end int) Assertion {
	toks := spokenPunctuation(tokenize(text))
	ms, me := -1, -1
	for i, t := range toks {
		if t.end > start && t.start < end && (t.kind == tokWord || t.kind == tokNum) {
			if ms < 0 {
				ms = i
			}
			me = i + 1
		}
	}
	if ms < 0 {
		return Assertion{}
	}
	d := &docState{r: &Rules{}, toks: toks, seg: Segment{Text: text}}
	var a assertion
	d.sentences(func(from, to int) {
		if ms < from || ms >= to {
			return
		}
		if me > to {
			me = to
		}
		trig := findTriggers(toks[:to], from, to)
		a = assess(toks[:to], trig, ms, me)
		if to < len(toks) && toks[to].norm == "?" {
			a.possible = true // a question asserts nothing
		}
		if a.family && a.relative != "" && !relativeSpeaks(toks[:to], trig, from, ms, catFamily) {
			a.family, a.relative = false, ""
		}
	})
	return Assertion{Negated: a.negated, Possible: a.possible, Hypothetical: a.hypothetical,
		Historical: a.historical, Family: a.family, Relative: a.relative}
}
