package extract

import (
	"strconv"
	"strings"

	"github.com/medscribe/medscribe/fhir"
)

// A sig is the dosing instruction that follows a drug name: dose, route,
// frequency, as-needed use, duration ("metformin 500 mg by mouth twice a
// day with meals for 90 days"). parseSig reads one from tokens and reports
// where it ended, so the caller knows which words it used.

// sigParts is a parsed sig.
type sigParts struct {
	dose     fhir.Dose // the amount per administration
	strength fhir.Dose // a strength said before a count ("500 mg, one tablet")
	combo    string    // a combination strength kept as said: "250 mcg/50 mcg"
	route    string    // a key of fhir's route words: oral, intravenous...
	freq     fhir.Frequency
	prn      bool
	prnFor   string
	duration fhir.Amount
	form     string // a dose form said: tablet, inhaler, cream...
	end      int    // token index after the last token used
	used     int    // number of tokens that carried sig meaning
}

func (s sigParts) empty() bool {
	return s.dose.IsZero() && s.strength.IsZero() && s.combo == "" && s.route == "" && s.freq.IsZero() &&
		!s.prn && s.duration.Value == ""
}

// numberWords are counts said as words.
var numberWords = map[string]string{
	"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6", "seven": "7", "eight": "8",
	"nine": "9", "ten": "10", "eleven": "11", "twelve": "12", "fifteen": "15", "twenty": "20", "thirty": "30",
	"forty": "40", "fifty": "50", "sixty": "60", "ninety": "90", "hundred": "100", "half": "0.5", "a": "1", "an": "1",
	"single": "1", "couple": "2",
}

// doseUnits maps unit words (normalized) to the unit written in the dose;
// fhir's builder maps them to UCUM or dose-form codes.
var doseUnits = map[string]string{
	"mg": "mg", "milligram": "mg", "mgs": "mg", "mcg": "mcg", "microgram": "mcg", "ug": "mcg", "mcgs": "mcg",
	"g": "g", "gm": "g", "gram": "g", "gms": "g", "kg": "kg", "ng": "ng", "ml": "mL", "milliliter": "mL",
	"millilitre": "mL", "cc": "mL", "l": "L", "liter": "L", "unit": "units", "u": "units", "iu": "units",
	"meq": "mEq", "milliequivalent": "mEq", "mmol": "mmol", "%": "%", "percent": "%",
	"tablet": "tablet", "tab": "tablet", "pill": "tablet", "capsule": "capsule", "cap": "capsule",
	"puff": "puff", "inhalation": "puff", "drop": "drop", "gtt": "drop", "spray": "spray", "patch": "patch",
	"suppository": "suppository", "supp": "suppository", "lozenge": "lozenge", "teaspoon": "teaspoon",
	"tsp": "teaspoon", "tablespoon": "tablespoon", "tbsp": "tablespoon", "vial": "vial", "ampule": "ampule",
	"application": "application", "applicator": "applicator", "scoop": "scoop", "packet": "packet",
	"sachet": "sachet", "injection": "injection", "shot": "injection", "dose": "dose",
}

// countUnits are dose forms (counted), not measures.
var countUnits = map[string]bool{
	"tablet": true, "capsule": true, "puff": true, "drop": true, "spray": true, "patch": true, "suppository": true,
	"lozenge": true, "vial": true, "ampule": true, "application": true, "applicator": true, "scoop": true,
	"packet": true, "sachet": true, "injection": true, "dose": true, "teaspoon": true, "tablespoon": true,
}

// formRoutes are dose forms that imply their route when none is said.
var formRoutes = map[string]string{
	"puff": "inhalation", "inhaler": "inhalation", "nebulizer": "inhalation", "neb": "inhalation",
	"cream": "topical", "ointment": "topical", "gel": "topical", "lotion": "topical",
	"eye drop": "ophthalmic", "patch": "transdermal", "suppository": "rectal",
}

// dosageForms are form words that may follow a drug name without a count.
var dosageForms = map[string]string{
	"tablet": "tablet", "tab": "tablet", "capsule": "capsule", "cap": "capsule", "inhaler": "inhaler",
	"cream": "cream", "ointment": "ointment", "gel": "gel", "lotion": "lotion", "patch": "patch",
	"suppository": "suppository", "nebulizer": "nebulizer", "neb": "nebulizer", "solution": "solution",
	"suspension": "suspension", "syrup": "syrup", "elixir": "elixir", "injection": "injection",
	"spray": "spray", "drop": "drop", "eye drop": "eye drop", "pen": "pen", "er": "", "xr": "", "xl": "",
	"sr": "", "cr": "", "la": "", "dr": "", "ec": "", "ds": "", "extended release": "", "delayed release": "",
	"sustained release": "", "controlled release": "", "slow release": "", "chewable": "", "odt": "",
	"single strength": "", "double strength": "", "hfa": "inhaler", "diskus": "inhaler", "mdi": "inhaler",
}

// routePhrases map how routes are said (normalized) to fhir route words.
var routePhrases = map[string]string{
	"po": "oral", "by mouth": "oral", "orally": "oral", "oral": "oral", "per os": "oral", "p o": "oral",
	"iv": "intravenous", "intravenous": "intravenous", "intravenously": "intravenous", "iv push": "intravenous",
	"im": "intramuscular", "intramuscular": "intramuscular", "intramuscularly": "intramuscular",
	"sc": "subcutaneous", "sq": "subcutaneous", "subq": "subcutaneous", "sub q": "subcutaneous",
	"subcut": "subcutaneous", "subcutaneous": "subcutaneous", "subcutaneously": "subcutaneous",
	"sl": "sublingual", "sublingual": "sublingual", "sublingually": "sublingual", "under the tongue": "sublingual",
	"topical": "topical", "topically": "topical", "to skin": "topical", "to the skin": "topical",
	"transdermal": "transdermal", "transdermally": "transdermal",
	"inhaled": "inhalation", "inhalation": "inhalation", "by inhalation": "inhalation", "via inhaler": "inhalation",
	"nebulized": "inhalation", "via nebulizer": "inhalation", "inh": "inhalation",
	"nasal": "nasal", "intranasal": "nasal", "intranasally": "nasal", "in each nostril": "nasal", "per nostril": "nasal",
	"in the nose": "nasal", "nasally": "nasal",
	"rectal": "rectal", "rectally": "rectal", "pr": "rectal", "per rectum": "rectal",
	"vaginal": "vaginal", "vaginally": "vaginal", "pv": "vaginal", "per vagina": "vaginal",
	"ophthalmic": "ophthalmic", "in the eye": "ophthalmic", "in each eye": "ophthalmic", "in both eye": "ophthalmic",
	"ou": "ophthalmic", "os": "ophthalmic", "in the affected eye": "ophthalmic",
	"otic": "otic", "in the ear": "otic", "in each ear": "otic", "in the affected ear": "otic",
	"per g tube": "gastrostomy", "via g tube": "gastrostomy", "per peg": "gastrostomy", "via peg": "gastrostomy",
	"per ng tube": "nasogastric", "via ng tube": "nasogastric", "intrathecal": "intrathecal", "epidural": "epidural",
}

// freqCodes are frequency phrases (normalized) that are one timing code.
var freqCodes = map[string]string{
	"qd": "QD", "daily": "QD", "once daily": "QD", "once a day": "QD", "every day": "QD", "each day": "QD",
	"once per day": "QD", "one time a day": "QD", "1 time a day": "QD", "od": "QD", "q day": "QD", "qday": "QD",
	"a day": "QD", "per day": "QD", "once day": "QD",
	"bid": "BID", "twice daily": "BID", "twice a day": "BID", "two times a day": "BID", "2 times a day": "BID",
	"two times daily": "BID", "2 times daily": "BID", "twice per day": "BID", "twice day": "BID", "bd": "BID",
	"tid": "TID", "three times daily": "TID", "three times a day": "TID", "3 times a day": "TID",
	"3 times daily": "TID", "thrice daily": "TID", "three times per day": "TID", "tds": "TID",
	"qid": "QID", "four times daily": "QID", "four times a day": "QID", "4 times a day": "QID", "4 times daily": "QID",
	"four times per day": "QID", "qds": "QID",
	"qhs": "BED", "hs": "BED", "at bedtime": "BED", "bedtime": "BED", "at night": "BED", "nightly": "BED",
	"every night": "BED", "before bed": "BED", "before bedtime": "BED", "at hs": "BED", "q night": "BED",
	"each night": "BED", "every evening at bedtime": "BED", "q hs": "BED",
	"qam": "AM", "every morning": "AM", "in the morning": "AM", "each morning": "AM", "q am": "AM", "mane": "AM",
	"qpm": "PM", "every evening": "PM", "in the evening": "PM", "each evening": "PM", "q pm": "PM",
	"qod": "QOD", "every other day": "QOD", "on alternate day": "QOD", "alternate day": "QOD", "eod": "QOD",
	"weekly": "WK", "once a week": "WK", "every week": "WK", "q week": "WK", "qwk": "WK", "once weekly": "WK",
	"once per week": "WK", "monthly": "MO", "once a month": "MO", "every month": "MO", "q month": "MO",
	"once monthly": "MO", "on a monthly basis": "MO", "monthly basis": "MO", "on a daily basis": "QD",
	"daily basis": "QD", "on a weekly basis": "WK", "weekly basis": "WK", "every bedtime": "BED",
	"each bedtime": "BED", "at night time": "BED", "nightly at bedtime": "BED",
}

// whenPhrases are meal and day-time events (fhir event-timing codes).
var whenPhrases = map[string]string{
	"with meal": "C", "with each meal": "C", "with food": "C", "ac": "AC", "before meal": "AC",
	"before each meal": "AC", "pc": "PC", "after meal": "PC", "after each meal": "PC", "with breakfast": "CM",
	"with lunch": "CD", "with dinner": "CV", "with supper": "CV", "before breakfast": "ACM", "before dinner": "ACV",
	"before supper": "ACV", "after breakfast": "PCM", "after dinner": "PCV",
}

// prnPhrases mark as-needed use.
var prnPhrases = map[string]bool{
	"prn": true, "as needed": true, "as required": true, "when needed": true, "if needed": true,
	"as necessary": true, "on an as needed basis": true, "on a prn basis": true, "on prn basis": true, "pr n": true,
	"p r n": true, "when required": true,
}

// sigFillers may sit between the parts of a sig.
var sigFillers = map[string]bool{
	"take": true, "takes": true, "taking": true, "and": true, "then": true, "of": true, "for": false, "by": false,
	"to": true, "with": false, "a": false, "an": false, "the": false, "x": false, "at": false, "in": false,
	"dose": false, "given": true, "give": true, "use": true, "using": true, "inhale": true, "apply": true,
	"instill": true, "each": false, "total": true, "once": false, "up": false, "approximately": true,
	"about": true, "around": true, "usually": true, "regularly": true, "also": true, "orally": false,
}

// parseSig reads the sig in toks[from:to]. It stops at the first token
// that is neither part of a sig nor a filler between sig parts.
func parseSig(toks []token, from, to int) sigParts {
	s := sigParts{end: from}
	i := from
loop:
	for i < to {
		t := toks[i]
		switch {
		case t.kind == tokBreak:
			break loop
		case t.kind == tokPunct:
			switch t.norm {
			case ",", "-", "(", ")", "/", "#", ":":
				i++
				continue
			case ".":
				// A dot inside a sig ("q.4h.") is part of it only when the
				// sig goes on right after it.
				if i+1 < to && toks[i+1].start == t.end && toks[i+1].kind != tokBreak {
					i++
					continue
				}
			}
			break loop
		}
		if n := s.readPart(toks, i, to); n > 0 {
			i += n
			s.end = i
			s.used++
			continue
		}
		if sigFillers[t.norm] {
			i++
			continue
		}
		break
	}
	if s.route == "" {
		if r, ok := formRoutes[s.dose.Unit]; ok {
			s.route = r
		} else if r, ok := formRoutes[s.form]; ok {
			s.route = r
		}
	}
	return s
}

// phraseAt returns the longest phrase of dict starting at toks[i] (up to
// five words, dots and hyphens inside skipped), its value and length.
func phraseAt[V any](toks []token, i, to int, dict map[string]V) (V, int, bool) {
	var zero, best V
	var buf [96]byte
	b := buf[:0]
	bestN := 0
	words := 0
	for j := i; j < to && words < 5; j++ {
		t := toks[j]
		if t.kind == tokPunct && (t.norm == "-" || t.norm == ".") && j > i {
			continue
		}
		if t.kind != tokWord && t.kind != tokNum && !(t.kind == tokPunct && t.norm == "%") {
			break
		}
		if len(b) > 0 {
			b = append(b, ' ')
		}
		b = append(b, t.norm...)
		words++
		// The conversion in the index expression does not allocate.
		if v, ok := dict[string(b)]; ok {
			best, bestN = v, j-i+1
		}
	}
	if bestN == 0 {
		return zero, 0, false
	}
	return best, bestN, true
}

// number reads a number at toks[i]: digits, a number word, or a fraction
// before a dose form ("1/2 tablet"). It returns the value and tokens used.
func number(toks []token, i, to int) (string, int) {
	t := toks[i]
	if t.kind == tokNum {
		if i+3 < to && toks[i+1].norm == "/" && toks[i+2].kind == tokNum && countUnits[unitAt(toks, i+3, to)] {
			a, _ := strconv.ParseFloat(t.norm, 64)
			b, _ := strconv.ParseFloat(toks[i+2].norm, 64)
			if b > a && b > 0 && b <= 4 {
				return string(fhir.DecimalOf(a / b)), 3
			}
		}
		v, ok := canonicalNumber(t.norm)
		if !ok {
			return "", 0
		}
		return v, 1
	}
	if t.kind == tokWord {
		if t.norm == "one" && i+2 < to && toks[i+1].norm == "half" {
			return "0.5", 2
		}
		if t.norm == "one" && i+3 < to && toks[i+1].norm == "-" && toks[i+2].norm == "half" {
			return "0.5", 3
		}
		if v, ok := numberWords[t.norm]; ok {
			return v, 1
		}
	}
	return "", 0
}

// canonicalNumber writes a positive number as a FHIR decimal ("007" ->
// "7", "1.50" -> "1.5"); zero and numbers too large for a dose are none.
func canonicalNumber(s string) (string, bool) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f <= 0 || f > 1e9 {
		return "", false
	}
	return string(fhir.DecimalOf(f)), true
}

func unitAt(toks []token, i, to int) string {
	if i >= to {
		return ""
	}
	u, _, _ := phraseAt(toks, i, to, doseUnits)
	return u
}

// readPart reads one sig part at toks[i] into s and returns the tokens
// used, or 0.
func (s *sigParts) readPart(toks []token, i, to int) int {
	t := toks[i]
	// Duration: "for 7 days", "x 10 days", "for a week", "times 5 days".
	if t.is("for", "x", "times", "over") && i+1 < to {
		j := i + 1
		if j < to && toks[j].is("the", "another") {
			j++
		}
		if j < to && toks[j].is("next", "additional", "more") {
			j++
		}
		if v, n := number(toks, j, to); n > 0 && j+n < to {
			if j+n+1 < to && toks[j+n].is("more", "additional", "further") {
				n++
			}
			if u, ok := durationUnit(toks[j+n].norm); ok && s.duration.Value == "" {
				s.duration = fhir.Amount{Value: fhir.Decimal(v), Unit: u}
				return j + n + 1 - i
			}
		}
	}
	// Frequencies said with a number: "every 8 hours", "q4-6h", "q 3 weeks",
	// "3 times a week".
	if n := s.readEvery(toks, i, to); n > 0 {
		return n
	}
	if n := s.readTimes(toks, i, to); n > 0 {
		return n
	}
	if n := s.readWeekdays(toks, i, to); n > 0 {
		return n
	}
	// A dose: "500 mg", "1-2 tablets", "5 to 10 mg", "one tablet", "250/50".
	if n := s.readDose(toks, i, to); n > 0 {
		return n
	}
	if code, n, ok := phraseAt(toks, i, to, freqCodes); ok {
		if s.freq.Code == "" || s.freq.Code == "QD" {
			s.freq.Code = code
		}
		return n
	}
	if w, n, ok := phraseAt(toks, i, to, whenPhrases); ok {
		s.freq.When = appendWhen(s.freq.When, w)
		return n
	}
	if _, n, ok := phraseAt(toks, i, to, prnPhrases); ok {
		s.prn = true
		n += s.readPRNReason(toks, i+n, to)
		return n
	}
	if r, n, ok := phraseAt(toks, i, to, routePhrases); ok {
		if s.route == "" {
			s.route = r
		}
		return n
	}
	if f, n, ok := phraseAt(toks, i, to, dosageForms); ok {
		if f != "" && s.form == "" {
			s.form = f
		}
		return n
	}
	if t.is("once") {
		s.freq.Count = 1
		return 1
	}
	if t.is("stat", "now") && i > 0 {
		s.freq.Count = 1
		return 1
	}
	return 0
}

func appendWhen(list []string, w string) []string {
	for _, x := range list {
		if x == w {
			return list
		}
	}
	return append(list, w)
}

func durationUnit(w string) (string, bool) {
	switch w {
	case "day", "d":
		return "days", true
	case "week", "wk":
		return "weeks", true
	case "month", "mo":
		return "months", true
	case "hour", "hr", "h":
		return "hours", true
	case "minute", "min":
		return "minutes", true
	case "year", "yr":
		return "years", true
	}
	return "", false
}

// readEvery reads "every N hours", "every N to M hours", "q N h", "q4-6h",
// "every N days/weeks", "q N weeks".
func (s *sigParts) readEvery(toks []token, i, to int) int {
	t := toks[i]
	if !t.is("every", "q", "each") {
		return 0
	}
	j := i + 1
	for j < to && toks[j].kind == tokPunct && toks[j].norm == "." {
		j++
	}
	if j >= to {
		return 0
	}
	lo, n := number(toks, j, to)
	if n == 0 || toks[j].norm == "a" || toks[j].norm == "an" {
		if t.norm == "every" && j < to && toks[j].norm == "other" && j+1 < to && toks[j+1].is("week") {
			s.freq = fhir.Frequency{Times: 1, Period: "2", PeriodUnit: "wk"}
			return j + 2 - i
		}
		return 0
	}
	j += n
	hi := ""
	if j+1 < to && (toks[j].norm == "-" || toks[j].norm == "to" || toks[j].norm == "or") {
		if v, m := number(toks, j+1, to); m > 0 {
			hi = v
			j += 1 + m
		}
	}
	if j >= to {
		return 0
	}
	unit, ok := durationUnit(toks[j].norm)
	if !ok {
		// "q.3 weekly": every 3 weeks.
		unit, ok = map[string]string{"weekly": "weeks", "daily": "days", "monthly": "months", "hourly": "hours"}[toks[j].norm]
		if !ok {
			return 0
		}
	}
	j++
	for j < to && toks[j].kind == tokPunct && toks[j].norm == "." && j+1 < to && toks[j+1].start == toks[j].end {
		j++
	}
	code := map[string]string{"hours": "H", "days": "D", "weeks": "WK"}[unit]
	if code == "" {
		s.freq = fhir.Frequency{Times: 1, Period: fhir.Decimal(lo), PeriodUnit: unit}
		return j - i
	}
	if lo == "24" && code == "H" && hi == "" {
		s.freq.Code = "QD"
		return j - i
	}
	if hi != "" {
		if a, _ := strconv.Atoi(lo); a > 0 {
			if b, _ := strconv.Atoi(hi); b > a && code == "H" {
				s.freq.Code = "Q" + lo + "-" + hi + "H"
				return j - i
			}
		}
		return 0
	}
	if _, err := strconv.Atoi(lo); err != nil {
		return 0
	}
	s.freq.Code = "Q" + lo + code
	return j - i
}

// readTimes reads "N times a day/week", "twice weekly", "three times weekly".
func (s *sigParts) readTimes(toks []token, i, to int) int {
	t := toks[i]
	times := 0
	j := i
	switch {
	case t.is("twice"):
		times, j = 2, i+1
	case t.is("thrice"):
		times, j = 3, i+1
	default:
		v, n := number(toks, i, to)
		if n == 0 || i+n >= to || !toks[i+n].is("time", "x") {
			return 0
		}
		c, err := strconv.Atoi(v)
		if err != nil || c <= 0 || c > 24 {
			return 0
		}
		times, j = c, i+n+1
	}
	if j < to && toks[j].is("a", "per", "each", "every") {
		j++
	}
	if j >= to {
		return 0
	}
	unit := ""
	switch toks[j].norm {
	case "day", "daily":
		unit = "d"
	case "week", "weekly":
		unit = "wk"
	case "month", "monthly":
		unit = "mo"
	default:
		return 0
	}
	if unit == "d" && times <= 4 {
		s.freq.Code = []string{"", "QD", "BID", "TID", "QID"}[times]
	} else {
		s.freq = fhir.Frequency{Times: times, Period: "1", PeriodUnit: unit}
	}
	return j + 1 - i
}

var weekdays = map[string]bool{"monday": true, "tuesday": true, "wednesday": true, "thursday": true,
	"friday": true, "saturday": true, "sunday": true, "mon": true, "tue": true, "wed": true, "thu": true, "fri": true,
	"sat": true, "sun": true}

// readWeekdays reads days of the week ("Mondays, Wednesdays and Fridays"):
// so many times a week.
func (s *sigParts) readWeekdays(toks []token, i, to int) int {
	if !weekdays[toks[i].norm] {
		return 0
	}
	days := map[string]bool{}
	j, end := i, i
	for j < to {
		t := toks[j]
		switch {
		case weekdays[t.norm]:
			days[t.norm[:3]] = true
			j++
			end = j
		case t.norm == "," || t.is("and", "or", "on"):
			j++
		default:
			j = to
		}
	}
	if len(days) > 1 {
		s.freq = fhir.Frequency{Times: len(days), Period: "1", PeriodUnit: "wk"}
	} else {
		s.freq = fhir.Frequency{Times: 1, Period: "1", PeriodUnit: "wk"}
	}
	return end - i
}

// readDose reads a dose or strength.
func (s *sigParts) readDose(toks []token, i, to int) int {
	lo, n := number(toks, i, to)
	if n == 0 {
		return 0
	}
	j := i + n
	hi := ""
	combo := false
	if j+1 < to && (toks[j].norm == "-" || toks[j].norm == "to" || toks[j].norm == "or") {
		if v, m := number(toks, j+1, to); m > 0 {
			hi, j = v, j+1+m
		}
	} else if j+1 < to && toks[j].norm == "/" && toks[j+1].kind == tokNum {
		// "250/50": a combination strength.
		hi, j, combo = toks[j+1].norm, j+2, true
	}
	if lo == "0.5" && j < to && toks[j].is("a", "an") {
		j++ // "half a tablet"
	}
	unit, un, ok := phraseAt(toks, j, to, doseUnits)
	if !ok {
		return s.bareDose(toks, i, j, to, lo, hi, combo)
	}
	if (toks[i].norm == "a" || toks[i].norm == "an") && !countUnits[unit] {
		return 0
	}
	j += un
	// "mg/kg", "mg/mL", "mcg/hr": a rate or concentration unit.
	if j+1 < to && toks[j].norm == "/" {
		if u2, n2, ok := phraseAt(toks, j+1, to, doseUnits); ok && !countUnits[u2] {
			unit += "/" + u2
			j += 1 + n2
		} else if w := toks[j+1].norm; w == "kg" || w == "hr" || w == "h" || w == "day" {
			unit += "/" + w
			j += 2
		}
	}
	if combo {
		// "250/50 mcg" or "250 mcg/50 mcg".
		s.combo = lo + " " + unit + "/" + hi + " " + unit
		if j+1 < to && toks[j].norm == "/" && toks[j+1].kind == tokNum {
			if u2, n2, ok := phraseAt(toks, j+2, to, doseUnits); ok {
				s.combo = lo + " " + unit + "/" + toks[j+1].norm + " " + u2
				j += 2 + n2
			}
		}
		return j - i
	}
	d := fhir.Dose{Unit: unit}
	if hi != "" {
		a, _ := strconv.ParseFloat(lo, 64)
		b, _ := strconv.ParseFloat(hi, 64)
		if b <= a {
			return 0
		}
		d.Low, d.High = fhir.Decimal(lo), fhir.Decimal(hi)
	} else {
		d.Value = fhir.Decimal(lo)
	}
	if j+1 < to && toks[j].norm == "/" && toks[j+1].kind == tokNum {
		// "250 mcg/50 mcg".
		if u2, n2, ok := phraseAt(toks, j+2, to, doseUnits); ok {
			s.combo = lo + " " + unit + "/" + toks[j+1].norm + " " + u2
			return j + 2 + n2 - i
		}
	}
	switch {
	case s.dose.IsZero():
		s.dose = d
	case !countUnits[s.dose.Unit] && countUnits[unit]:
		// "500 mg, one tablet": the tablets are the dose, the mg its strength,
		// unless it is one tablet of that strength.
		s.strength = s.dose
		if d.Value != "1" {
			s.dose = d
		}
	case countUnits[s.dose.Unit] && !countUnits[unit]:
		// "one tablet 500 mg".
		s.strength = d
		if s.dose.Value == "1" {
			s.dose = d
		}
	default:
		// A second dose of the same kind: the new one ("increase to 1000 mg").
		s.dose = d
	}
	return j - i
}

// bareDose reads a number said without a unit where its meaning is clear:
// a combination strength before a frequency or the end ("Advair 250/50
// b.i.d."), a new dose after "to" ("increase Lasix to 40 b.i.d.": the unit
// of the dose before), or a count before a frequency ("one daily": a
// tablet).
func (s *sigParts) bareDose(toks []token, i, j, to int, lo, hi string, combo bool) int {
	if toks[i].kind == tokWord && !(numberWords[toks[i].norm] != "" && toks[i].norm != "a" && toks[i].norm != "an") {
		return 0
	}
	nextIsSig := j >= to || toks[j].kind == tokPunct && toks[j].norm != "/" && toks[j].norm != "%" || sigStartWord(toks[j]) ||
		freqCodes[toks[j].norm] != ""
	if _, _, ok := phraseAt(toks, j, to, freqCodes); ok {
		nextIsSig = true
	}
	switch {
	case combo:
		a, _ := strconv.ParseFloat(lo, 64)
		if a <= 2 || !nextIsSig {
			return 0
		}
		s.combo = lo + "/" + hi
	case hi != "" || !nextIsSig:
		return 0
	case i > 0 && toks[i-1].is("to") && toks[i].kind == tokNum:
		s.dose = fhir.Dose{Value: fhir.Decimal(lo)} // the unit comes from the dose before
	default:
		n, err := strconv.ParseFloat(lo, 64)
		if err != nil || n > 4 || j >= to {
			return 0
		}
		if _, _, ok := phraseAt(toks, j, to, freqCodes); !ok {
			return 0
		}
		if s.dose.IsZero() {
			s.dose = fhir.Dose{Value: fhir.Decimal(lo), Unit: "tablet"}
		}
	}
	return j - i
}

// sigStartWord reports words that begin a sig.
func sigStartWord(t token) bool {
	_, ok := freqCodes[t.norm]
	_, ok2 := routePhrases[t.norm]
	return ok || ok2 || prnPhrases[t.norm] || t.is("every", "q", "twice", "once", "at", "with", "for", "x")
}

// readPRNReason reads "for pain", "pain", "for shortness of breath" after
// an as-needed phrase: up to four words before punctuation or sig words.
func (s *sigParts) readPRNReason(toks []token, i, to int) int {
	j := i
	if j < to && toks[j].is("for") {
		j++
	}
	start := j
	for j < to && j-start < 4 && toks[j].kind == tokWord && !sigStartWord(toks[j]) && !toks[j].is("and", "or", "but") {
		j++
	}
	if j == start || (start == i && !prnReasonWords[toks[start].norm]) {
		return 0
	}
	parts := make([]string, 0, j-start)
	for _, t := range toks[start:j] {
		parts = append(parts, t.norm)
	}
	s.prnFor = strings.Join(parts, " ")
	return j - i
}

// prnReasonWords may follow "prn" without "for": "prn pain", "prn nausea".
var prnReasonWords = map[string]bool{
	"pain": true, "nausea": true, "anxiety": true, "insomnia": true, "sleep": true, "wheezing": true,
	"headache": true, "itching": true, "constipation": true, "fever": true, "agitation": true, "cough": true,
	"shortness": true, "sob": true, "chest": true, "muscle": true, "spasm": true, "vomiting": true,
}

// apply writes the sig into a medication item. Later sigs overwrite what
// they say; what they do not say is kept.
func (s sigParts) apply(m *fhir.MedicationItem) {
	switch {
	case !s.dose.IsZero() && s.dose.Unit == "":
		if m.Dose.Unit != "" {
			m.Dose = fhir.Dose{Value: s.dose.Value, Unit: m.Dose.Unit}
		}
	case !s.dose.IsZero():
		m.Dose = s.dose
	case !s.strength.IsZero():
		m.Dose = s.strength
	}
	if s.route != "" {
		m.Route = s.route
	}
	if !s.freq.IsZero() {
		if s.freq.Code != "" || s.freq.Times != 0 || s.freq.Count != 0 {
			when := s.freq.When
			if len(when) == 0 && m.Frequency.Code == "" && m.Frequency.Times == 0 {
				when = m.Frequency.When
			}
			m.Frequency = s.freq
			m.Frequency.When = when
		} else {
			m.Frequency.When = s.freq.When
		}
	}
	if s.prn {
		m.AsNeeded = true
		if s.prnFor != "" {
			m.AsNeededFor = s.prnFor
		}
	}
	if s.duration.Value != "" {
		m.Duration = s.duration
	}
}
