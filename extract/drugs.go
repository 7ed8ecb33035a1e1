package extract

import (
	"sort"
	"strings"

	"github.com/medscribe/medscribe/fhir"
)

// statusCue is a phrase that says what happens to a drug.
type statusCue struct {
	status string // MedicationStatement.status
	near   int    // forward cues: how many words before the drug they reach
	strong bool   // right before the drug, it wins over a cue after it
}

// forwardStatus are cues before a drug ("start", "discontinue").
var forwardStatus = func() map[string]statusCue {
	m := map[string]statusCue{}
	add := func(status string, near int, phrases ...string) {
		for _, p := range phrases {
			m[normPhrase(p)] = statusCue{status: status, near: near}
		}
	}
	add("intended", 6, "start", "will start", "to start", "begin", "initiate", "initiated on", "prescribe", "prescribed",
		"recommend", "recommended", "suggest", "suggested", "plan to start", "will add", "add", "try", "trial of",
		"will be started on", "going to start", "going to give", "going to prescribe", "I'll give", "i will give",
		"give you", "I'll prescribe", "i will prescribe", "we will start", "well start", "will begin", "will try",
		"would like to start", "new prescription for", "advised to start", "advised to take", "to take",
		"we will give", "prescription for", "rx", "will be given", "plan", "can take", "could take",
		"you can have", "switch to", "switched to", "change to", "changed to", "instead", "I'll start")
	add("not-taken", 6, "consider", "considering", "could consider", "not taking", "not on", "never took",
		"never taken", "refused", "refuses", "declined", "declines", "doesnt take", "does not take", "didnt take",
		"did not take", "not been taking", "hasnt been taking", "has not been taking", "denies taking", "no",
		"not currently taking", "not currently on", "isnt taking", "is not taking", "wasnt taking", "without",
		"havent taken", "have not taken", "hasnt taken", "has not taken", "not tried", "not using", "dont take",
		"do not take", "dont use", "requests", "requested", "asks for", "asked for", "asking for", "avoid",
		"avoiding", "should not take", "should avoid", "must not take", "contraindicated")
	add("stopped", 6, "stop", "stopped", "discontinue", "discontinued", "dc", "d c", "dced", "off", "taken off",
		"came off", "come off", "no longer on", "no longer taking", "switched from", "changed from", "instead of",
		"previously on", "used to take", "was on", "were on", "had been on", "quit", "stopped taking",
		"discontinuation of", "ran out of", "weaned off", "tapered off", "was taken off")
	add("on-hold", 6, "hold", "held", "holding", "withhold", "withheld")
	add("completed", 6, "was given", "were given", "given", "received", "was administered", "administered",
		"completed", "finished", "got", "treated with", "was treated with")
	add("active", 6, "continue", "continued", "continues", "continuing", "remains on", "remain on", "maintained on",
		"currently on", "currently taking", "taking", "takes", "uses", "using", "increase", "increased", "decrease",
		"decreased", "reduce", "reduced", "titrate", "titrated", "resume", "resumed", "restart", "restarted",
		"started on", "was started on", "has been started on", "had been started on", "is on", "are on",
		"been on", "also on", "still on", "still taking", "takes", "take", "went up on", "stays on")
	add("active", 2, "on")
	for _, p := range []string{"samples of", "sample of", "samples", "gave her samples of", "gave him samples of"} {
		m[normPhrase(p)] = statusCue{status: "active", near: 6, strong: true}
	}
	return m
}()

// backwardStatus are cues after a drug ("...was discontinued").
var backwardStatus = func() map[string]string {
	m := map[string]string{}
	add := func(status string, phrases ...string) {
		for _, p := range phrases {
			m[normPhrase(p)] = status
		}
	}
	add("stopped", "was discontinued", "discontinued", "was stopped", "stopped", "were discontinued",
		"were stopped", "has been discontinued", "has been stopped", "was dc", "dced", "was switched",
		"no longer", "was changed")
	add("on-hold", "was held", "held", "on hold", "is on hold", "being held", "will be held")
	add("active", "was started", "started", "was increased", "increased", "was decreased", "decreased",
		"was continued", "continued", "will be continued", "to continue", "was resumed", "resumed", "was added",
		"was restarted")
	add("intended", "was recommended", "recommended", "will be started", "to be started", "was prescribed",
		"prescribed", "to start", "will be prescribed")
	add("completed", "was given", "given", "were given", "was administered", "administered")
	add("not-taken", "not taking", "refused", "declined", "was refused", "was declined", "not tolerated")
	return m
}()

// allergyBefore and allergyAfter mark a drug as an allergy.
var allergyBefore = wordSet("allergic to", "allergy to", "allergies to", "allergies include", "allergic reaction to",
	"intolerant of", "intolerant to", "intolerance to", "reaction to", "reactions to", "sensitive to",
	"sensitivity to", "cannot tolerate", "cant tolerate", "could not tolerate", "couldnt tolerate",
	"anaphylaxis to", "allergy is to", "allergies are to", "allergic", "allergies", "allergy",
	"hypersensitivity to", "bad reaction to", "side effects from", "side effects with", "reacted to",
	"allergies to medications include", "drug allergies to")

var allergyAfter = wordSet("allergy", "allergies", "intolerance", "allergic", "sensitivity", "causes", "caused",
	"gives", "gave", "makes", "made", "hypersensitivity")

// drugs records the drugs of a sentence and returns the token starts of
// conditions they used (allergy reactions, as-needed reasons), which are
// no conditions of their own.
func (d *docState) drugs(toks []token, from, to int, drugs []drugMention, trig []foundTrigger, conds *[]condMention) map[int]bool {
	r := d.r
	used := map[int]bool{}
	sentenceAllergy := r.sec == secAllergies
	for i := from; i < to && !sentenceAllergy; i++ {
		if _, n, ok := phraseAt(toks, i, to, map[string]bool(allergyBefore)); ok && n > 0 {
			first := len(toks)
			for _, m := range drugs {
				if m.start >= i+n && m.start < first {
					first = m.start
				}
			}
			if first < len(toks) && words(toks, i+n, first) <= 3 {
				sentenceAllergy = true
			}
		}
	}
	r.named = r.named[:0]
	defer func() {
		if len(r.named) > 0 {
			r.lastMeds = append(r.lastMeds[:0], r.named...)
		}
	}()
	negatedAllergy := false
	if sentenceAllergy {
		for _, t := range trig {
			if t.cat == catNegated && len(drugs) > 0 && t.end <= drugs[0].start {
				negatedAllergy = true
			}
		}
	}
	for k, m := range drugs {
		limit := to
		if k+1 < len(drugs) {
			limit = drugs[k+1].start
		}
		sig := parseSig(toks, m.end, limit)
		if sig.used == 0 && k+1 < len(drugs) && onlyConjunctions(toks, m.end, drugs[k+1].start) {
			// "Xopenex and albuterol p.r.n.": drugs listed together share
			// how they are taken, not their doses.
			next := to
			if k+2 < len(drugs) {
				next = drugs[k+2].start
			}
			shared := parseSig(toks, drugs[k+1].end, next)
			sig.freq, sig.prn, sig.prnFor, sig.route = shared.freq, shared.prn, shared.prnFor, shared.route
		}
		// A dose said before the name: "two puffs of albuterol", "20 mg of lisinopril".
		if pre := d.sigBefore(toks, from, m.start, drugs, k); !pre.empty() {
			mergeSig(&sig, pre)
		}
		allergy := sentenceAllergy
		if !allergy {
			for k2 := m.end; k2 < limit && k2 < m.end+3; k2++ {
				if allergyAfter[toks[k2].norm] && toks[k2].norm != "causes" && toks[k2].norm != "caused" {
					allergy = true
				}
			}
		}
		shortCaps := m.end-m.start == 1 && toks[m.start].caps && len(toks[m.start].norm) <= 4 && hasLower(d.seg.Text)
		needsCue := m.flags&(flagCommon|flagAbbrev|flagLab) != 0 || m.concept == -1 || shortCaps ||
			m.flags&flagBrand != 0 && !d.capitalized(toks, from, m.start)
		if needsCue && !allergy && sig.used == 0 && !d.medCue(toks, from, m.start, m.end) {
			continue
		}
		if m.flags&flagLab != 0 && sig.used == 0 && !allergy && isLabValue(toks, from, m.start, m.end) {
			continue
		}
		name := d.seg.Text[toks[m.start].start:toks[m.end-1].end]
		if allergy {
			if negatedAllergy {
				continue
			}
			var reactions []string
			for _, c := range *conds {
				if c.start >= m.end && c.start < limit {
					used[c.start] = true
					reactions = append(reactions, d.seg.Text[toks[c.start].start:toks[c.end-1].end])
				}
			}
			r.at = toks[m.start].start
			r.recordAllergy(m, name, reactions, d.seg.ID)
			continue
		}
		for _, c := range *conds {
			if c.start >= m.end && c.start < sig.end {
				used[c.start] = true // "prn pain", "as needed for wheezing"
			}
		}
		if m.concept != -1 && sig.used == 0 && r.items["allergy:"+r.lex.ingredientKey(m.ingredients)] != nil {
			// The patient is allergic to it: a later mention without a dose
			// ("what happens when you take it?") is no medication taken.
			continue
		}
		status, explicit := d.status(toks, from, m, limit, drugs, k)
		r.at = toks[m.start].start
		r.recordMedication(m, name, sig, status, explicit, d.seg.ID)
	}
	return used
}

// capitalized reports a word written with a capital inside its sentence
// (first words are capitalized anyway), or any word of a text written
// without lower case.
func (d *docState) capitalized(toks []token, from, i int) bool {
	if !hasLower(d.seg.Text) {
		return true
	}
	first := from
	for first < i && toks[first].kind != tokWord {
		first++
	}
	return (toks[i].title || toks[i].caps) && i != first
}

// sigBefore reads a dose said before a drug name and joined by "of".
func (d *docState) sigBefore(toks []token, from, start int, drugs []drugMention, k int) sigParts {
	if start-1 <= from || !toks[start-1].is("of") {
		return sigParts{}
	}
	lo := from
	if k > 0 && drugs[k-1].end > lo {
		lo = drugs[k-1].end
	}
	for s := max(lo, start-6); s < start-1; s++ {
		p := parseSig(toks, s, start-1)
		if p.end == start-1 && !p.empty() {
			return p
		}
	}
	return sigParts{}
}

func mergeSig(s *sigParts, pre sigParts) {
	if s.dose.IsZero() && !pre.dose.IsZero() {
		s.dose = pre.dose
	}
	if s.route == "" {
		s.route = pre.route
	}
	if s.freq.IsZero() {
		s.freq = pre.freq
	}
	s.prn = s.prn || pre.prn
	s.used += pre.used
}

// status reads what the sentence says happens to drug k: the nearest cue
// before it in its clause, or a cue right after it.
func (d *docState) status(toks []token, from int, m drugMention, limit int, drugs []drugMention, k int) (string, bool) {
	back, backOK := d.backwardCue(toks, m, limit, drugs, k)
	fwd, fwdAt, fwdOK := d.forwardCue(toks, from, m)
	switch {
	case fwdOK && fwd.strong && words(toks, fwdAt, m.start) <= 4:
		// A cue right before the drug ("samples of Crestor given") is
		// about it more surely than one after.
		return fwd.status, true
	case backOK:
		return back, true
	case fwdOK:
		return fwd.status, true
	}
	return "active", false
}

// backwardCue finds a status cue after a drug and its sig ("...was
// discontinued"); drugs listed together share the cue after the last
// ("Cardizem and metoprolol were discontinued").
func (d *docState) backwardCue(toks []token, m drugMention, limit int, drugs []drugMention, k int) (string, bool) {
	for i := m.end; i < limit && i < m.end+10; i++ {
		if st, n, ok := phraseAt(toks, i, limit, backwardStatus); ok && n > 0 {
			return st, true
		}
	}
	if k+1 < len(drugs) && onlyConjunctions(toks, m.end, drugs[k+1].start) {
		next := limit
		if k+2 < len(drugs) {
			next = drugs[k+2].start
		} else {
			next = len(toks)
		}
		return d.backwardCue(toks, drugs[k+1], next, drugs, k+1)
	}
	return "", false
}

// onlyConjunctions reports that toks[from:to] holds nothing but commas,
// "and" and "or".
func onlyConjunctions(toks []token, from, to int) bool {
	if from >= to {
		return false
	}
	for _, t := range toks[from:to] {
		if !(t.norm == "," || t.is("and", "or", "as", "well")) {
			return false
		}
	}
	return true
}

// forwardCue finds the nearest status cue before a drug in its clause
// and where it starts.
func (d *docState) forwardCue(toks []token, from int, m drugMention) (statusCue, int, bool) {
	var best statusCue
	bestAt := -1
	seen := 0
	for i := m.start - 1; i >= from && seen < 12 && bestAt < 0; i-- {
		t := toks[i]
		if t.kind == tokWord {
			seen++
		}
		if t.kind == tokPunct && (t.norm == ";" || t.norm == ":") {
			break
		}
		// The nearest cue wins; of the cues ending at one word, the
		// longest ("not taking" over "taking").
		for n := 5; n >= 1; n-- {
			if i-n+1 < from {
				continue
			}
			st, ln, ok := phraseAt(toks, i-n+1, i+1, forwardStatus)
			if !ok || ln != n || words(toks, i+1, m.start) > st.near {
				continue
			}
			best, bestAt = st, i-n+1
			break
		}
	}
	return best, bestAt, bestAt >= 0
}

// recordMedication turns a drug mention into a medication item or updates
// the item of the same drug.
func (r *Rules) recordMedication(m drugMention, name string, sig sigParts, status string, explicit bool, segment int) {
	lex := r.lex
	var coding fhir.Coding
	var ingredients []fhir.Coding
	key := ""
	switch {
	case m.concept == -1:
		key = "med:class:" + normPhrase(m.class)
	default:
		ingredients = lex.ingredientCodings(m.ingredients)
		key = "med:" + lex.ingredientKey(m.ingredients)
		coding = lex.drugCoding(m)
		if coding.Code == "" && len(m.ingredients) > 1 {
			// A combination with no combination concept: the clinical drug
			// of those ingredients at the strengths said, if there is one.
			if scd, ok := lex.comboDrug(m.ingredients, comboStrengths(sig.combo)); ok {
				coding = lex.coding(scd)
			}
		}
	}
	it := r.items[key]
	if it == nil {
		it = r.newItem(key, KindMedication, segment)
		it.med = fhir.MedicationItem{Text: name, Name: name, Code: coding, Status: status}
		if m.concept == -1 {
			// A class is named the same way whatever was said: "steroids",
			// "a steroid" -> corticosteroid.
			it.med.Name = m.class
		}
		it.ingredients = ingredients
		it.explicit = explicit
	} else if explicit || !it.explicit {
		if it.med.Status != status {
			it.med.Status = status
		}
		it.explicit = it.explicit || explicit
	}
	before := it.med
	sig.apply(&it.med)
	if sig.combo != "" {
		it.med.SigText = strings.TrimSpace(sig.combo + " " + sigWords(it.med))
	}
	if !it.changed {
		it.changed = !sameMedication(before, it.med) || it.med.Status != before.Status || it.json == nil
	}
	it.segment = segment
	r.named = append(r.named, it)
}

// comboStrengths reads the numbers of a combination strength ("50 mg/25
// mg" -> 50, 25).
func comboStrengths(combo string) []string {
	var out []string
	for _, f := range strings.FieldsFunc(combo, func(r rune) bool { return r == '/' || r == ' ' }) {
		if isDigits(strings.ReplaceAll(f, ".", "")) {
			out = append(out, f)
		}
	}
	return out
}

// sigWords says a medication's route and frequency for a sig text that
// also names a combination strength.
func sigWords(m fhir.MedicationItem) string {
	var parts []string
	if m.Route != "" {
		parts = append(parts, m.Route)
	}
	if f := freqText(m.Frequency, m.AsNeeded); f != "" {
		parts = append(parts, f)
	}
	return strings.Join(parts, " ")
}

func sameMedication(a, b fhir.MedicationItem) bool {
	return a.Dose == b.Dose && a.Route == b.Route && a.AsNeeded == b.AsNeeded && a.AsNeededFor == b.AsNeededFor &&
		a.Duration == b.Duration && a.SigText == b.SigText && a.Status == b.Status && sameFrequency(a.Frequency, b.Frequency)
}

func sameFrequency(a, b fhir.Frequency) bool {
	if a.Code != b.Code || a.Times != b.Times || a.Period != b.Period || a.PeriodMax != b.PeriodMax ||
		a.PeriodUnit != b.PeriodUnit || a.Count != b.Count || len(a.When) != len(b.When) {
		return false
	}
	for i := range a.When {
		if a.When[i] != b.When[i] {
			return false
		}
	}
	return true
}

// drugCoding is the code a drug mention gets: an ingredient (IN, or the
// salt when one was named), a combination (MIN) for brands and
// combinations of several ingredients, a brand only when the terminology
// has no combination concept for it.
func (l *Lexicon) drugCoding(m drugMention) fhir.Coding {
	if m.concept >= 0 {
		c := l.concepts[m.concept]
		switch {
		case c.kind == "IN" || c.kind == "PIN" || c.kind == "MIN":
			return l.coding(m.concept)
		case len(m.ingredients) == 1:
			return l.coding(m.ingredients[0])
		}
	}
	if len(m.ingredients) > 1 {
		if min, ok := l.minBySet[l.ingredientKey(m.ingredients)]; ok {
			return l.coding(min)
		}
	}
	if m.concept >= 0 {
		return l.coding(m.concept)
	}
	return fhir.Coding{}
}

// recordAllergy turns a drug mention in an allergy context into an
// AllergyIntolerance item.
func (r *Rules) recordAllergy(m drugMention, name string, reactions []string, segment int) {
	lex := r.lex
	key := "allergy:"
	var coding fhir.Coding
	if m.concept == -1 {
		key += "class:" + normPhrase(m.class)
	} else {
		key += lex.ingredientKey(m.ingredients)
		coding = lex.drugCoding(m)
	}
	it := r.items[key]
	if it == nil {
		it = r.newItem(key, KindAllergy, segment)
		it.allergy = fhir.AllergyItem{Text: name, Name: name, Code: coding}
		if m.concept != -1 {
			it.ingredients = lex.ingredientCodings(m.ingredients)
		}
		it.changed = true
	}
	for _, re := range reactions {
		if !containsFold(it.allergy.Reactions, re) {
			it.allergy.Reactions = append(it.allergy.Reactions, re)
			sort.Strings(it.allergy.Reactions)
			it.changed = true
		}
	}
}

func containsFold(list []string, s string) bool {
	for _, x := range list {
		if strings.EqualFold(x, s) {
			return true
		}
	}
	return false
}
