package extract

import (
	"strings"

	"github.com/medscribe/medscribe/fhir"
)

// drugMention is a drug named in a sentence.
type drugMention struct {
	start, end  int   // tokens
	concept     int32 // lexicon concept; -1 for a drug class
	ingredients []int32
	class       string // a drug class said ("antibiotics"), coded by no one
	flags       uint8
	fuzzy       bool // found by sound or spelling, not by name
}

// condMention is a condition named in a sentence.
type condMention struct {
	start, end int
	concept    int32
	text       string
	a          assertion
	sec        section
	segment    int
	at         int // byte offset of the mention in its segment
	question   bool
}

// sentence finds and records the mentions of toks[from:to].
func (d *docState) sentence(from, to int) {
	lex := d.r.lex
	toks := d.toks[:to]
	var drugs []drugMention
	var conds []condMention
	caseless := !hasLower(d.seg.Text)
	for i := from; i < to; {
		m, ok := lex.longestAt(toks, i)
		if !ok {
			i++
			continue
		}
		if _, cn, ok := phraseAt(toks, i, to, drugClasses); ok && cn > m.end-i {
			// "thyroid supplementation" is a class, not the drug thyroid.
			i += cn
			continue
		}
		drug := m.rx.concept >= 0 && m.rx.flags&flagExcluded == 0
		cond := m.icd.concept >= 0 && (m.icd.flags&flagAbbrev == 0 || caseless || writtenAsAbbrev(toks[m.start:m.end]))
		if drug && cond && !d.medCue(toks, from, m.start, m.end) {
			drug = false
		}
		switch {
		case drug:
			drugs = append(drugs, drugMention{start: m.start, end: m.end, concept: m.rx.concept,
				ingredients: lex.concepts[m.rx.concept].ingredients, flags: m.rx.flags})
		case cond:
			conds = append(conds, condMention{start: m.start, end: m.end, concept: d.diabetesType(toks, from, m.start, m.end, m.icd.concept)})
		case m.rx.concept >= 0 || m.icd.concept >= 0:
			// An excluded substance or an abbreviation in lower case: the
			// words are taken, nothing is recorded.
		default:
			i++
			continue
		}
		i = m.end
	}
	drugs = append(drugs, d.fuzzyDrugs(toks, from, to, drugs, conds)...)
	drugs = append(drugs, d.drugClasses(toks, from, to, drugs, conds)...)
	sortDrugs(drugs)
	drugs = d.combine(toks, drugs)
	trig := findTriggers(toks, from, to)
	d.answer(toks, from, trig)
	reactions := d.drugs(toks, from, to, drugs, trig, &conds)
	if len(drugs) == 0 {
		d.amend(toks, from, to)
	}
	d.conditions(toks, from, to, conds, trig, reactions)
}

// amendCues open a sentence that corrects the last drug's sig: "Make
// that twice daily", "Change it to 1000 mg".
var amendCues = wordSet("uh", "um", "so", "and", "okay", "ok", "right", "then", "er", "erm", "well",
	"make that", "make it", "change that to", "change it to", "change to", "actually",
	"sorry", "i mean", "correction", "rather", "that should be", "that is", "thats", "it is", "its", "no",
	"instead", "scratch that", "let me correct that", "make the dose", "increase to", "decrease to",
	"increase it to", "decrease it to", "increase that to", "decrease that to", "dose", "the dose is")

// amend applies a sentence that is only a sig ("Twice daily.", "Make that
// 1000 mg.") to the last medication of the session.
func (d *docState) amend(toks []token, from, to int) {
	if len(d.r.lastMeds) == 0 {
		return
	}
	i := from
	for i < to {
		_, n, ok := phraseAt(toks, i, to, map[string]bool(amendCues))
		if !ok {
			break
		}
		i += n
		for i < to && toks[i].kind == tokPunct && toks[i].norm == "," {
			i++
		}
	}
	cue := i > from
	s := parseSig(toks, i, to)
	if s.used == 0 || words(toks, s.end, to) > 1 {
		return
	}
	if !cue && words(toks, from, to) > 6 {
		return
	}
	// "Either nitrofurantoin or trimethoprim. One tablet twice a day.":
	// the sig is each one's.
	for _, it := range d.r.lastMeds {
		before := it.med
		s.apply(&it.med)
		if !sameMedication(before, it.med) {
			it.changed = true
			it.segment = d.seg.ID
		}
	}
}

func hasLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 'a' && s[i] <= 'z' {
			return true
		}
	}
	return false
}

// writtenAsAbbrev: every word of the match is in capitals or dotted.
func writtenAsAbbrev(toks []token) bool {
	for _, t := range toks {
		if t.kind == tokWord && !t.caps && !t.dotted && len(t.norm) > 1 {
			return false
		}
	}
	return true
}

func sortDrugs(ds []drugMention) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].start < ds[j-1].start; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// covered reports whether token i is inside a mention.
func covered(i int, drugs []drugMention, conds []condMention) bool {
	for _, m := range drugs {
		if i >= m.start && i < m.end {
			return true
		}
	}
	for _, m := range conds {
		if i >= m.start && i < m.end {
			return true
		}
	}
	return false
}

// fuzzyDrugs finds drug names the recognizer mangled, where a medication
// is being talked about: a word no terminology name holds that is one
// edit from a drug name or sounds like one, or two or three words that
// together sound like one and are followed by a dose ("lysine april 10
// mg"). Everyday words never count, whatever they sound like.
func (d *docState) fuzzyDrugs(toks []token, from, to int, drugs []drugMention, conds []condMention) []drugMention {
	lex := d.r.lex
	var out []drugMention
	skip := func(k int) bool {
		t := toks[k]
		return t.kind != tokWord || covered(k, drugs, conds) || covered(k, out, nil) || commonWords[t.norm] ||
			fillerWords[t.norm] || englishWords[t.norm]
	}
	add := func(i, n int, c int32) {
		out = append(out, drugMention{start: i, end: i + n, concept: c, ingredients: lex.concepts[c].ingredients,
			flags: flagCommon, fuzzy: true})
	}
	for i := from; i < to; i++ {
		if skip(i) {
			continue
		}
		t := toks[i]
		if !lex.knownWord(t.norm) && len(t.norm) >= minFuzzyLen && d.medCue(toks, from, i, i+1) {
			if c, ok := lex.nearDrug(t.norm); ok {
				add(i, 1, c)
				continue
			}
			if c, name, ok := lex.soundAlike(t.norm); ok && similar(t.norm, name) {
				add(i, 1, c)
				continue
			}
		}
		for n := 3; n >= 2; n-- {
			if i+n > to {
				continue
			}
			var b strings.Builder
			ok, unknown := true, false
			for k := i; k < i+n; k++ {
				if skip(k) {
					ok = false
					break
				}
				unknown = unknown || !lex.knownWord(toks[k].norm)
				b.WriteString(toks[k].norm)
			}
			if !ok || !unknown && n > 2 {
				continue
			}
			joined := b.String()
			c, name, found := lex.soundAlike(joined)
			if !found || !similar(joined, name) {
				continue
			}
			if s := parseSig(toks, i+n, to); s.dose.IsZero() && s.strength.IsZero() {
				continue
			}
			add(i, n, c)
			i += n - 1
			break
		}
	}
	return out
}

// fillerWords never start or join a sound-alike drug name.
var fillerWords = wordSet("the", "a", "an", "and", "or", "of", "to", "in", "on", "for", "with", "at", "by",
	"is", "was", "be", "he", "she", "it", "we", "you", "i", "my", "his", "her", "this", "that", "take",
	"taking", "mg", "daily", "twice", "once", "tablet", "day", "patient", "also", "then", "will", "as",
	"needed", "has", "had", "have", "not", "no", "but", "so", "if", "are", "were", "they", "them", "me")

// drugClasses are unspecific drugs ("antibiotics", "a steroid",
// "potassium supplementation"): listed as said, with no code, where a
// medication is being talked about.
var drugClasses = func() map[string]string {
	m := map[string]string{}
	canonical := map[string]string{"steroid": "corticosteroid", "oral steroid": "oral corticosteroid",
		"thyroid supplement": "thyroid hormone", "thyroid supplementation": "thyroid hormone",
		"thyroid replacement": "thyroid hormone", "multi vitamin": "multivitamin", "multiple vitamin": "multivitamin",
		"water pill": "diuretic", "blood thinner": "anticoagulant", "painkiller": "analgesic",
		"pain killer": "analgesic", "pain medication": "analgesic", "pain medicine": "analgesic",
		"inhaled steroid": "inhaled corticosteroid", "steroid inhaler": "inhaled corticosteroid",
		"insulin supplementation": "insulin", "potassium supplementation": "potassium supplement",
		"iron supplementation": "iron supplement", "calcium supplementation": "calcium supplement"}
	for _, c := range []string{"antibiotic", "steroid", "corticosteroid", "oral steroid", "oral corticosteroid",
		"antihistamine", "multivitamin", "multi vitamin", "multiple vitamin", "vitamin", "vitamin d",
		"potassium supplement", "potassium supplementation", "thyroid supplement", "thyroid supplementation",
		"thyroid replacement", "thyroid hormone", "iron supplement", "iron supplementation", "calcium supplement",
		"calcium supplementation", "insulin", "insulin supplementation", "diuretic", "water pill", "beta blocker",
		"statin", "nsaid", "painkiller", "pain killer", "pain medication", "pain medicine", "blood thinner",
		"anticoagulant", "stool softener", "laxative", "antacid", "antidepressant",
		"birth control pill", "oral contraceptive", "contraceptive pill", "inhaled steroid", "steroid inhaler",
		"nebulizer treatment", "breathing treatment", "chemotherapy", "hormone replacement therapy",
		"sleeping pill", "sleeping tablet", "antiemetic", "antiviral", "antifungal", "probiotic",
		"fish oil", "omega 3", "herbal supplement", "supplement", "prenatal vitamin", "b vitamin",
		"vitamin b complex", "ace inhibitor", "calcium channel blocker", "proton pump inhibitor", "ppi",
		"immunosuppressant", "antipsychotic", "anticonvulsant", "antiepileptic", "benzodiazepine", "opioid",
		"narcotic", "muscle relaxant", "eye drop", "ear drop", "nasal spray", "cough syrup", "cough medicine",
		"decongestant", "antiseptic", "iv fluid", "electrolyte replacement"} {
		m[normPhrase(c)] = firstNonEmpty(canonical[c], c)
	}
	return m
}()

// drugClasses finds drug classes where a medication is being talked about.
func (d *docState) drugClasses(toks []token, from, to int, drugs []drugMention, conds []condMention) []drugMention {
	var out []drugMention
	for i := from; i < to; i++ {
		if toks[i].kind != tokWord || covered(i, drugs, conds) {
			continue
		}
		name, n, ok := phraseAt(toks, i, to, drugClasses)
		if !ok {
			continue
		}
		blocked := false
		for k := i; k < i+n; k++ {
			blocked = blocked || covered(k, drugs, conds)
		}
		if blocked || !d.medCue(toks, from, i, i+n) {
			continue
		}
		if name == "supplement" || name == "vitamin" {
			// Too vague alone: only with a drug verb right before it.
			if !d.verbBefore(toks, from, i, 2) {
				continue
			}
		}
		out = append(out, drugMention{start: i, end: i + n, concept: -1, class: name})
		i += n - 1
	}
	return out
}

// combine joins drugs written as a combination ("atenolol/chlorthalidone",
// "hydrocodone-acetaminophen") into one drug.
func (d *docState) combine(toks []token, ds []drugMention) []drugMention {
	if len(ds) < 2 {
		return ds
	}
	out := ds[:1]
	for _, m := range ds[1:] {
		last := &out[len(out)-1]
		if last.concept >= 0 && m.concept >= 0 && m.start == last.end+1 && (toks[last.end].norm == "/" || toks[last.end].norm == "-") {
			last.ingredients = appendUnique(append([]int32(nil), last.ingredients...), m.ingredients...)
			last.end = m.end
			last.concept = -2 // a combination: coded below
			continue
		}
		out = append(out, m)
	}
	return out
}

// medCue reports whether a medication is being talked about around
// toks[start:end]: a medication or allergy list, a dose or sig right
// after, or a drug verb shortly before.
func (d *docState) medCue(toks []token, from, start, end int) bool {
	switch d.r.sec {
	case secMeds, secAllergies:
		return true
	}
	if end < len(toks) {
		s := parseSig(toks, end, len(toks))
		if s.used > 0 {
			return true
		}
		if medAfter[toks[end].norm] {
			return true
		}
	}
	return d.verbBefore(toks, from, start, 4)
}

// verbBefore reports a drug verb within n words before toks[start].
func (d *docState) verbBefore(toks []token, from, start, n int) bool {
	seen := 0
	for k := start - 1; k >= from && seen < n; k-- {
		if toks[k].kind != tokWord {
			continue
		}
		seen++
		if medVerbs[toks[k].norm] {
			return true
		}
	}
	return false
}

var medVerbs = wordSet("take", "takes", "taking", "took", "taken", "on", "start", "started", "starting", "begin",
	"began", "continue", "continued", "continues", "prescribe", "prescribed", "given", "give", "gave", "received",
	"receiving", "receive", "using", "use", "uses", "used", "tried", "try", "trial", "increase", "increased",
	"decrease", "decreased", "reduce", "reduced", "stop", "stopped", "discontinue", "discontinued", "hold", "held",
	"switch", "switched", "change", "changed", "restart", "restarted", "resume", "resumed", "add", "added",
	"maintained", "medication", "medications", "meds", "medicine", "medicines", "prescription", "rx", "counter",
	"allergic", "allergy", "allergies", "intolerant", "dose", "doses", "dosage", "titrate", "titrated",
	"recommend", "recommended", "administered", "injection", "injections", "iv", "po", "treated", "treatment",
	"therapy", "course", "prescribing", "dispense", "dispensed", "refill", "refilled", "supplement",
	"supplementation", "inhaler", "puffer", "tablets", "pills", "capsules", "cream", "ointment", "drops")

var medAfter = wordSet("supplement", "supplementation", "tablet", "tablets", "pill", "pills", "capsule",
	"capsules", "therapy", "drip", "infusion", "injection", "injections", "inhaler", "puffer", "cream",
	"ointment", "patch", "spray", "drops", "was", "dose", "regimen", "prn", "daily", "bid", "tid", "qid",
	"qhs", "qd", "nightly")

// labAfter are words after a name that make it a laboratory value
// ("potassium level", "potassium of 3.2", "glucose 250").
var labAfter = wordSet("level", "levels", "of", "is", "was", "were", "value", "values", "count", "concentration",
	"test", "tests", "study", "studies", "panel", "measurement", "reading", "check", "screen", "trough", "peak")

var labBefore = wordSet("serum", "blood", "urine", "plasma", "fasting", "random", "check", "checked", "low",
	"high", "elevated", "normal", "abnormal", "decreased", "increased", "his", "her", "your", "repeat")

// isLabValue reports a lab-like drug name used as a lab value.
func isLabValue(toks []token, from, start, end int) bool {
	if end < len(toks) {
		t := toks[end]
		if labAfter[t.norm] || t.kind == tokNum && !(end+1 < len(toks) && doseUnitWord(toks[end+1].norm)) {
			return true
		}
		if t.kind == tokPunct && t.norm == ":" {
			return true
		}
	}
	if start > from && labBefore[toks[start-1].norm] {
		return true
	}
	return false
}

func doseUnitWord(w string) bool {
	_, ok := doseUnits[w]
	return ok
}

// conditions records the conditions of a sentence.
func (d *docState) conditions(toks []token, from, to int, conds []condMention, trig []foundTrigger, skip map[int]bool) {
	r := d.r
	asking := to < len(d.toks) && d.toks[to].norm == "?"
	var asked []condMention
	for _, m := range conds {
		if skip[m.start] || r.sec == secAllergies {
			continue
		}
		if d.notACondition(toks, m.start, m.end, m.concept) {
			continue
		}
		m.a = assess(toks, trig, m.start, m.end)
		if m.a.family && m.a.relative != "" && r.sec != secFamily && !relativeSpeaks(toks, trig, from, m.start, catFamily) {
			m.a.family, m.a.relative = false, ""
		}
		if m.a.other && relativeSpeaks(toks, trig, from, m.start, catOther) {
			continue // the spouse's or a friend's condition
		}
		m.text = d.seg.Text[toks[m.start].start:toks[m.end-1].end]
		m.at = toks[m.start].start
		m.sec = r.sec
		m.segment = d.seg.ID
		if asking && !m.a.negated && !m.a.family {
			m.question = true
			asked = append(asked, m)
			continue
		}
		r.recordCondition(m)
	}
	if len(asked) > 0 {
		alt := false
		for _, t := range toks[from:to] {
			alt = alt || t.is("or")
		}
		r.question = &question{mentions: asked, alternative: alt}
	}
}

// procedureWords after a condition name make the words a procedure, a
// vaccine or a test ("cataract surgery", "hepatitis A vaccine", "carpal
// tunnel decompression"), which the record does not list as a problem.
var procedureWords = wordSet("surgery", "surgeries", "repair", "removal", "extraction", "resection", "replacement",
	"decompression", "release", "excision", "procedure", "operation", "vaccine", "vaccination", "immunization",
	"shot", "booster", "screening", "test", "testing", "titer", "titers", "panel", "prophylaxis", "clinic",
	"specialist", "service", "team", "unit", "protocol", "study", "studies", "scan", "workup", "ligation",
	"ablation", "stent", "stenting", "bypass", "graft", "grafting", "reconstruction", "fixation", "fusion",
	"biopsy", "drainage", "consult", "consultation", "medication", "medications", "medicine", "management",
	"precautions", "risk", "education", "counseling", "pathway", "center", "centre", "ward", "department",
	"foundation", "association", "society", "awareness", "program", "programme", "diet", "meds", "drug", "drugs")

// notACondition reports a condition name used as something else: followed
// by a procedure word (but a tumor resected is still a tumor), or by a
// number (a measurement: "temperature 98.6", "weight of 198"; not an age:
// "obese 54-year-old").
func (d *docState) notACondition(toks []token, start, end int, concept int32) bool {
	j := end
	for j < len(toks) && toks[j].kind == tokPunct && toks[j].norm == "-" {
		j++
	}
	if j >= len(toks) {
		return false
	}
	t := toks[j]
	if t.kind == tokWord && procedureWords[t.norm] {
		code := d.r.lex.concepts[concept].code
		neoplasm := code[0] == 'C' || code[0] == 'D' && code[1] <= '4'
		return !neoplasm
	}
	num := j
	if t.norm == ":" || t.is("of", "is", "was") {
		num = j + 1
	}
	if num < len(toks) && toks[num].kind == tokNum {
		k := num + 1
		for k < len(toks) && toks[k].kind == tokPunct && toks[k].norm == "-" {
			k++
		}
		if k < len(toks) && toks[k].is("year", "yr", "yo", "month", "week", "day") {
			return false
		}
		return true
	}
	return false
}

// relativeSpeaks reports whether a relative before the condition is its
// subject ("mother had", "father died of", "Mother with diabetes"), not a
// bystander ("her mother brought her in for fever").
func relativeSpeaks(toks []token, trig []foundTrigger, from, start int, c cat) bool {
	for _, t := range trig {
		if t.cat != c || t.relative == "" || t.end > start {
			continue
		}
		if words(toks, t.end, start) <= 1 {
			return true // "his wife's rheumatoid arthritis"
		}
		if t.start == from || t.start > from && toks[t.start-1].is("his", "her", "my", "the", "patient", "your", "a") && t.start-1 == from {
			return true
		}
		if t.end < len(toks) && relativeVerbs[toks[t.end].norm] {
			return true
		}
		if t.end+1 < len(toks) && toks[t.end].kind == tokPunct && relativeVerbs[toks[t.end+1].norm] {
			return true
		}
	}
	return false
}

var relativeVerbs = wordSet("with", "has", "had", "have", "died", "passed", "history", "suffers", "suffered",
	"diagnosed", "was", "is", "also", "who", "developed", "got", "gets", "and", "both", "s", "deceased", "age")

// answer settles the question of the previous sentence from the first
// words of this one: "No." denies what was asked, "Yes" affirms it.
// Anything else leaves it unasked: a question asserts nothing.
func (d *docState) answer(toks []token, from int, trig []foundTrigger) {
	r := d.r
	q := r.question
	if q == nil {
		return
	}
	r.question = nil
	var first []string
	for k := from; k < len(toks) && len(first) < 3; k++ {
		if toks[k].kind == tokWord && !(len(first) == 0 && answerFillers[toks[k].norm]) {
			first = append(first, toks[k].norm)
		}
	}
	s := strings.Join(first, " ")
	var verdict int
	switch {
	case hasPrefixWord(s, "no", "nope", "not really", "none", "never", "nah", "not that", "i dont", "i havent",
		"not at all", "nothing", "negative"):
		verdict = -1
	case hasPrefixWord(s, "yes", "yeah", "yep", "a bit", "a little", "sometimes", "i do", "i have", "yea",
		"occasionally", "mm hmm", "uh huh", "correct", "right", "it is", "definitely"):
		verdict = 1
	default:
		return
	}
	answered := map[string]bool{}
	for k := from; k < len(toks) && k < from+24; k++ {
		if toks[k].kind == tokWord {
			answered[toks[k].norm] = true
		}
	}
	for _, m := range q.mentions {
		m.question = false
		if verdict < 0 {
			m.a.negated = true
		} else if (len(q.mentions) > 1 || q.alternative) && !anyWord(keyTokens(m.text), answered) {
			// "Wheezy, or just tightness?" "Yeah, a bit of tightness.": the
			// yes is for what the answer names.
			continue
		}
		r.recordCondition(m)
	}
}

func anyWord(ws []string, set map[string]bool) bool {
	for _, w := range ws {
		if set[w] && !fillerWords[w] {
			return true
		}
	}
	return false
}

// answerFillers may open an answer before its "no" or "yes".
var answerFillers = wordSet("um", "uh", "er", "erm", "hmm", "oh", "well", "so", "ah", "mm")

func hasPrefixWord(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if s == p || strings.HasPrefix(s, p+" ") {
			return true
		}
	}
	return false
}

// diabetesType codes type 1 diabetes said around a name that alone means
// type 2 ("diabetes mellitus, type 1", "juvenile diabetes", "diabetic
// neuropathy" in a patient with type 1): E11 codes become the E10 code
// with the same detail, when the terminology has it.
func (d *docState) diabetesType(toks []token, from, start, end int, concept int32) int32 {
	lex := d.r.lex
	code := lex.concepts[concept].code
	if strings.HasPrefix(code, "E10") {
		d.r.type1 = true
		return concept
	}
	if !strings.HasPrefix(code, "E11") {
		return concept
	}
	type1 := d.r.type1
	var ws []string
	for k := max(from, start-4); k < min(len(toks), end+4); k++ {
		if toks[k].kind == tokWord || toks[k].kind == tokNum {
			ws = append(ws, toks[k].norm)
		}
	}
	s := " " + strings.Join(ws, " ") + " "
	switch {
	case strings.Contains(s, " type 1 "), strings.Contains(s, " type i "), strings.Contains(s, " type one "),
		strings.Contains(s, " juvenile "), strings.Contains(s, " iddm "),
		strings.Contains(s, " insulin dependent ") && !strings.Contains(s, " non insulin dependent "):
		type1 = true
	case strings.Contains(s, " type 2 "), strings.Contains(s, " type ii "), strings.Contains(s, " type two "):
		return concept
	}
	if !type1 {
		return concept
	}
	if c, ok := lex.icd["E10"+code[3:]]; ok {
		d.r.type1 = true
		return c
	}
	return concept
}

// relatedCondition finds the item of a condition said before in other
// words: the same name with more or fewer words ("depression", "major
// depression"; "anemia", "microcytic anemia"), in the same ICD-10-CM
// category or with the shorter name's code an unspecified one. Such
// mentions are one concept; the item keeps the more detailed code.
func (r *Rules) relatedCondition(coding fhir.Coding, text string) *ruleItem {
	nt := keyTokens(text)
	for _, it := range r.order {
		if it.kind != KindCondition || len(nt) == 0 {
			continue
		}
		ot := it.words
		if len(ot) == 0 || !(subsetOf(nt, ot) || subsetOf(ot, nt)) {
			continue
		}
		oc := it.cond.Code.Code
		if len(oc) >= 3 && len(coding.Code) >= 3 && oc[:3] == coding.Code[:3] {
			return it
		}
		general := it.cond.Code.Display
		if len(nt) < len(ot) {
			general = coding.Display
		}
		if nt[len(nt)-1] == ot[len(ot)-1] && strings.Contains(strings.ToLower(general), "unspecified") {
			return it
		}
	}
	return nil
}

func subsetOf(a, b []string) bool {
	for _, x := range a {
		found := false
		for _, y := range b {
			found = found || x == y
		}
		if !found {
			return false
		}
	}
	return true
}

// recordCondition turns a condition mention into an item or updates one.
func (r *Rules) recordCondition(m condMention) {
	lex := r.lex
	r.at = m.at
	concept := m.concept
	a := m.a
	if a.family && a.negated {
		return // "no family history of..." names no relative's disease
	}
	if m.sec == secFamily && !a.family {
		if a.negated || a.hypothetical {
			return
		}
		a.family = true
	}
	if a.hypothetical {
		// "If you develop chest pain...", side effects to watch for, a test
		// to look for something: nothing the patient has. Not recorded.
		return
	}
	code := lex.concepts[concept].code
	assertionName := fhir.AssertionPresent
	switch {
	case a.family:
	case a.hypothetical:
		assertionName = fhir.AssertionHypothetical
	case a.negated:
		assertionName = fhir.AssertionNegated
	case a.possible:
		assertionName = fhir.AssertionPossible
	case a.historical || m.sec == secPSH:
		if chronic(code) && !a.historicalAfter {
			break
		}
		assertionName = fhir.AssertionHistorical
		if h, ok := historyCode(code); ok {
			if c, ok := lex.icd[h]; ok {
				concept = c
			}
		}
	}
	name := m.text
	coding := lex.coding(concept)
	if a.family {
		rel := firstNonEmpty(a.relative, "family member")
		key := "fhx:" + coding.Code + ":" + rel
		it := r.items[key]
		if it == nil {
			it = r.newItem(key, KindFamily, m.segment)
			it.family = fhir.FamilyHistoryItem{Text: name, Name: name, Code: coding, Relationship: rel}
			it.changed = true
		}
		return
	}
	level := assertionLevel(assertionName)
	key := "cond:" + coding.Code
	it := r.items[key]
	if it == nil {
		if rel := r.relatedCondition(coding, name); rel != nil {
			it = rel
			r.items[key] = it
			// The more detailed wording keeps its code.
			if nw := keyTokens(name); len(nw) > len(it.words) {
				it.cond.Code, it.cond.Text, it.cond.Name = coding, name, name
				it.words = nw
				it.changed = true
			}
			if level < it.level || level == it.level && it.cond.Assertion == assertionName {
				return
			}
			coding, name = it.cond.Code, it.cond.Text
		} else {
			it = r.newItem(key, KindCondition, m.segment)
		}
	} else if level < it.level {
		return
	} else if level == it.level && it.cond.Assertion == assertionName {
		return
	}
	it.level = level
	kind := ""
	if m.sec == secPMH || m.sec == secAssessment {
		kind = "problem"
	}
	it.cond = fhir.ConditionItem{Text: name, Name: name, Code: coding, Assertion: assertionName, Kind: kind}
	it.words = keyTokens(name)
	it.segment = m.segment
	it.changed = true
}

// assertionLevel orders assertions for updates: a later mention replaces
// an item only with an assertion at least as strong, so a present
// problem stays present when a later review of systems denies a symptom
// of it.
func assertionLevel(a string) int {
	switch a {
	case fhir.AssertionPresent, fhir.AssertionHistorical:
		return 3
	case fhir.AssertionPossible:
		return 2
	case fhir.AssertionNegated:
		return 1
	}
	return 0
}

// chronicCategories are ICD-10-CM categories of lasting disease: "history
// of diabetes" means the patient has diabetes, not that it resolved.
var chronicCategories = map[string]bool{}

func init() {
	for _, c := range strings.Fields(`E08 E09 E10 E11 E13 I10 I11 I12 I13 I15 I25 I27 I42 I48 I50 I73 J44 J45 J47
		E78 E03 E05 E06 E66 K21 K50 K51 K58 N18 M05 M06 M15 M16 M17 M18 M19 M10 M81 F20 F25 F31 F32 F33 F41 F42
		F43 F90 F84 F10 F11 G20 G30 G35 G40 G43 G47 G89 N40 D50 D64 D69 D47 J30 L20 L30 L40 B20 H40 H26 H35
		E27 E28 E21 E22 E23 E87 N39 R32 Z94 Z95 I34 I35 I08 I47 I49 I51 G62 G63 E11 K70 K74 K76 B18 I70 I71 Q21`) {
		chronicCategories[c] = true
	}
}

func chronic(code string) bool {
	if strings.HasPrefix(code, "I25.2") {
		return false // old myocardial infarction: a past event
	}
	return len(code) >= 3 && chronicCategories[code[:3]]
}

// historyCode is the personal-history code of a condition said to be in
// the past, where the ICD-10-CM convention uses one instead of the
// disease: a former smoker has Z87.891.
func historyCode(code string) (string, bool) {
	if strings.HasPrefix(code, "F17") || code == "Z72.0" {
		return "Z87.891", true
	}
	return "", false
}
