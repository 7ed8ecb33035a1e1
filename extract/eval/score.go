package eval

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// Canonical code systems the scorer reads.
const (
	systemRxNorm  = "http://www.nlm.nih.gov/research/umls/rxnorm"
	systemICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
)

// Counts are the tallies of one document or of a set of documents; every
// metric is computed from sums of Counts (micro-averaged).
type Counts struct {
	Docs int `json:"docs"`

	// Medications, strict (RxCUI set equality, or name when the gold has
	// no RxCUI, or the class term for nonspecific gold items).
	MedGold int `json:"med_gold"` // non-allergy gold items with status active, intended or stopped
	MedTP   int `json:"med_tp"`
	MedFP   int `json:"med_fp"`
	// Lenient: any ingredient in common.
	MedLenientTP int `json:"med_lenient_tp"`
	MedLenientFP int `json:"med_lenient_fp"`
	// RxCUI only: nonspecific gold items and the statements matching them left out.
	MedRxGold int `json:"med_rx_gold"`
	MedRxTP   int `json:"med_rx_tp"`
	MedRxFP   int `json:"med_rx_fp"`

	AllergyGold   int `json:"allergy_gold"`   // gold items with is_allergy
	AllergyAsMed  int `json:"allergy_as_med"` // MedicationStatements matching a gold allergy
	AllergyFound  int `json:"allergy_found"`  // gold allergies matched by an AllergyIntolerance
	AllergyFP     int `json:"allergy_fp"`     // AllergyIntolerances matching no gold allergy
	StatusErrors  int `json:"status_errors"`  // not-taken gold emitted as active or intended
	StatusMatched int `json:"status_matched"` // matched items whose status group agrees
	DoseGold      int `json:"dose_gold"`
	DoseMatched   int `json:"dose_matched"`
	FreqGold      int `json:"freq_gold"`
	FreqMatched   int `json:"freq_matched"`
	RouteGold     int `json:"route_gold"`
	RouteMatched  int `json:"route_matched"`

	// Conditions: present and historical gold items are the positives.
	CondGold    int `json:"cond_gold"`
	CondExactTP int `json:"cond_exact_tp"`
	CondExactFP int `json:"cond_exact_fp"`
	CondCatTP   int `json:"cond_cat_tp"`
	CondCatFP   int `json:"cond_cat_fp"`
	// The same without gold items of kind finding (and the system
	// conditions matched to them).
	CondNFGold    int `json:"cond_nf_gold"`
	CondNFExactTP int `json:"cond_nf_exact_tp"`
	CondNFExactFP int `json:"cond_nf_exact_fp"`
	CondNFCatTP   int `json:"cond_nf_cat_tp"`
	CondNFCatFP   int `json:"cond_nf_cat_fp"`

	// Assertion errors (category level), each also a false positive.
	NegatedAsserted      int `json:"negated_asserted"`
	FamilyAsserted       int `json:"family_asserted"`
	PossibleConfirmed    int `json:"possible_confirmed"`
	HypotheticalAsserted int `json:"hypothetical_confirmed"`
	NegatedGold          int `json:"negated_gold"`
	NegatedRefuted       int `json:"negated_refuted"` // negated gold items matched by a refuted Condition
	FamilyGold           int `json:"family_gold"`
	FamilyFound          int `json:"family_found"` // matched by a FamilyMemberHistory
	HistoricalMatched    int `json:"historical_matched"`
	HistoricalMarked     int `json:"historical_marked"` // ...emitted resolved/inactive/remission or with a Z85-Z87 code

	Resources        int `json:"resources"`
	CodesNotInTerm   int `json:"codes_not_in_terminology"`
	ValidationErrors int `json:"validation_errors"`
}

// Add sums o into c.
func (c *Counts) Add(o Counts) {
	c.Docs += o.Docs
	c.MedGold += o.MedGold
	c.MedTP += o.MedTP
	c.MedFP += o.MedFP
	c.MedLenientTP += o.MedLenientTP
	c.MedLenientFP += o.MedLenientFP
	c.MedRxGold += o.MedRxGold
	c.MedRxTP += o.MedRxTP
	c.MedRxFP += o.MedRxFP
	c.AllergyGold += o.AllergyGold
	c.AllergyAsMed += o.AllergyAsMed
	c.AllergyFound += o.AllergyFound
	c.AllergyFP += o.AllergyFP
	c.StatusErrors += o.StatusErrors
	c.StatusMatched += o.StatusMatched
	c.DoseGold += o.DoseGold
	c.DoseMatched += o.DoseMatched
	c.FreqGold += o.FreqGold
	c.FreqMatched += o.FreqMatched
	c.RouteGold += o.RouteGold
	c.RouteMatched += o.RouteMatched
	c.CondGold += o.CondGold
	c.CondExactTP += o.CondExactTP
	c.CondExactFP += o.CondExactFP
	c.CondCatTP += o.CondCatTP
	c.CondCatFP += o.CondCatFP
	c.CondNFGold += o.CondNFGold
	c.CondNFExactTP += o.CondNFExactTP
	c.CondNFExactFP += o.CondNFExactFP
	c.CondNFCatTP += o.CondNFCatTP
	c.CondNFCatFP += o.CondNFCatFP
	c.NegatedAsserted += o.NegatedAsserted
	c.FamilyAsserted += o.FamilyAsserted
	c.PossibleConfirmed += o.PossibleConfirmed
	c.HypotheticalAsserted += o.HypotheticalAsserted
	c.NegatedGold += o.NegatedGold
	c.NegatedRefuted += o.NegatedRefuted
	c.FamilyGold += o.FamilyGold
	c.FamilyFound += o.FamilyFound
	c.HistoricalMatched += o.HistoricalMatched
	c.HistoricalMarked += o.HistoricalMarked
	c.Resources += o.Resources
	c.CodesNotInTerm += o.CodesNotInTerm
	c.ValidationErrors += o.ValidationErrors
}

// DocResult is the score of one document with what went wrong.
type DocResult struct {
	ID             string   `json:"id"`
	Source         string   `json:"source"`
	Counts         Counts   `json:"counts"`
	Misses         []string `json:"misses,omitempty"`
	FalsePositives []string `json:"false_positives,omitempty"`
	UnknownCodes   []string `json:"codes_not_in_terminology,omitempty"`
	// Attributes lists matched medications whose status, dose, frequency
	// or route disagrees with the gold.
	Attributes []string `json:"attribute_mismatches,omitempty"`
}

// KnownFunc reports whether a code exists in the terminology.
type KnownFunc func(system, code string) bool

// Score scores the resources a system emitted for one document (FHIR
// JSON: single resources or Bundles) against the document's gold items.
func Score(doc Doc, resources []json.RawMessage, rx *RxMap, known KnownFunc) (DocResult, error) {
	res := DocResult{ID: doc.ID, Source: doc.Source}
	var all []resource
	for _, raw := range resources {
		rs, err := flatten(raw)
		if err != nil {
			return res, fmt.Errorf("score %s: %w", doc.ID, err)
		}
		all = append(all, rs...)
	}
	res.Counts.Docs = 1
	res.Counts.Resources = len(all)
	for _, r := range all {
		for _, c := range r.codings() {
			if known == nil || (c.System != systemRxNorm && c.System != systemICD10CM) {
				continue
			}
			if !known(c.System, c.Code) {
				res.Counts.CodesNotInTerm++
				res.UnknownCodes = append(res.UnknownCodes, c.System+"|"+c.Code)
			}
		}
	}
	scoreMedications(&res, doc, all, rx)
	scoreConditions(&res, doc, all)
	return res, nil
}

// resource is the part of a FHIR resource the scorer reads.
type resource struct {
	ResourceType       string    `json:"resourceType"`
	Status             string    `json:"status"`
	Medication         *concept  `json:"medicationCodeableConcept"`
	Dosage             []dosage  `json:"dosage"`
	Code               *concept  `json:"code"`
	VerificationStatus *concept  `json:"verificationStatus"`
	ClinicalStatus     *concept  `json:"clinicalStatus"`
	Condition          []fmhCond `json:"condition"`
	Entry              []struct {
		Resource json.RawMessage `json:"resource"`
	} `json:"entry"`
}

type concept struct {
	Coding []coding `json:"coding"`
	Text   string   `json:"text"`
}

type coding struct {
	System  string `json:"system"`
	Code    string `json:"code"`
	Display string `json:"display"`
}

type fmhCond struct {
	Code *concept `json:"code"`
}

type dosage struct {
	Text   string `json:"text"`
	Timing *struct {
		Code   *concept `json:"code"`
		Repeat *struct {
			Frequency  *int         `json:"frequency"`
			Period     *json.Number `json:"period"`
			PeriodUnit string       `json:"periodUnit"`
			When       []string     `json:"when"`
			Count      *int         `json:"count"`
		} `json:"repeat"`
	} `json:"timing"`
	AsNeededBoolean         *bool    `json:"asNeededBoolean"`
	AsNeededCodeableConcept *concept `json:"asNeededCodeableConcept"`
	Route                   *concept `json:"route"`
	DoseAndRate             []struct {
		DoseQuantity *quantity `json:"doseQuantity"`
		DoseRange    *struct {
			Low  *quantity `json:"low"`
			High *quantity `json:"high"`
		} `json:"doseRange"`
	} `json:"doseAndRate"`
}

type quantity struct {
	Value *json.Number `json:"value"`
	Unit  string       `json:"unit"`
	Code  string       `json:"code"`
}

func flatten(raw json.RawMessage) ([]resource, error) {
	var r resource
	if err := json.Unmarshal(raw, &r); err != nil {
		return nil, err
	}
	if r.ResourceType != "Bundle" {
		return []resource{r}, nil
	}
	var out []resource
	for _, e := range r.Entry {
		if len(e.Resource) == 0 {
			continue
		}
		rs, err := flatten(e.Resource)
		if err != nil {
			return nil, err
		}
		out = append(out, rs...)
	}
	return out, nil
}

func (r resource) codings() []coding {
	var out []coding
	for _, c := range []*concept{r.Medication, r.Code} {
		if c != nil {
			out = append(out, c.Coding...)
		}
	}
	for _, fc := range r.Condition {
		if fc.Code != nil {
			out = append(out, fc.Code.Coding...)
		}
	}
	return out
}

// sysMed is a system MedicationStatement or AllergyIntolerance as the
// scorer sees it.
type sysMed struct {
	ins    []string // ingredient RxCUIs, sorted
	names  []string // normalized ingredient names, sorted
	text   string   // normalized text and displays
	label  string
	status string
	dose   string
	freq   string
	route  string
}

func newSysMed(c *concept, rx *RxMap) sysMed {
	var m sysMed
	if c == nil {
		return m
	}
	var texts []string
	if c.Text != "" {
		texts = append(texts, c.Text)
		m.label = c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			texts = append(texts, cd.Display)
		}
		if m.label == "" {
			m.label = cd.Display
		}
		if cd.System != systemRxNorm || rx == nil {
			continue
		}
		if ins, ok := rx.Ingredients(cd.Code); ok {
			for _, in := range ins {
				m.ins = appendNew(m.ins, in)
			}
		} else {
			// An unknown level: the code stands for itself.
			m.ins = appendNew(m.ins, cd.Code)
		}
	}
	for _, t := range texts {
		for _, p := range NameParts(t) {
			m.names = appendNew(m.names, p)
		}
	}
	sort.Strings(m.names)
	if rx != nil {
		// The shared links table lacks the ingredients starting with "A":
		// a combination drug's code may map to only some of its
		// ingredients. Names said in the text fill in ingredients the codes
		// leave out ("atenolol/chlorthalidone" coded as its clinical drug).
		for _, p := range m.names {
			if !rx.represented(p, m.ins) {
				if in, ok := rx.IngredientByName(p); ok {
					m.ins = appendNew(m.ins, in)
				}
			}
		}
	}
	sort.Strings(m.ins)
	m.text = NormalizeDrugName(strings.Join(texts, " "))
	return m
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) || len(a) == 0 {
		return false
	}
	as := append([]string(nil), a...)
	bs := append([]string(nil), b...)
	sort.Strings(as)
	sort.Strings(bs)
	for i := range as {
		if as[i] != bs[i] {
			return false
		}
	}
	return true
}

func overlaps(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if x == y {
				return true
			}
		}
	}
	return false
}

// medMatch reports whether a system drug matches a gold item, strictly or
// leniently.
func medMatch(s sysMed, g GoldMed, lenient bool) bool {
	if g.Nonspecific {
		return classMatch(g.Ingredient, s.text)
	}
	if len(g.RxCUIs) > 0 {
		if lenient {
			return overlaps(s.ins, g.RxCUIs)
		}
		return sameSet(s.ins, g.RxCUIs)
	}
	gn := NameParts(g.Ingredient)
	if lenient {
		return overlaps(gn, s.names) || strings.Contains(" "+s.text+" ", " "+NormalizeDrugName(g.Ingredient)+" ")
	}
	return sameSet(gn, s.names) || NormalizeDrugName(g.Ingredient) == s.text
}

// classMatch: a nonspecific gold item ("antihistamine", "oral
// corticosteroid") is matched when its term occurs in the system's text,
// word by word, singular or plural; or when the system's head word occurs
// inside the gold term ("steroid" in "corticosteroid").
func classMatch(term, text string) bool {
	tw := stemWords(NormalizeDrugName(term))
	sw := stemWords(text)
	if len(tw) == 0 || len(sw) == 0 {
		return false
	}
	set := map[string]bool{}
	for _, w := range sw {
		set[w] = true
	}
	all := true
	for _, w := range tw {
		all = all && set[w]
	}
	if all {
		return true
	}
	head := tw[len(tw)-1]
	for _, w := range sw {
		if len(w) >= 5 && !classStop[w] && strings.Contains(head, w) {
			return true
		}
	}
	return false
}

var classStop = map[string]bool{"supplement": true, "supplementation": true, "dose": true, "therapy": true,
	"medication": true, "replacement": true, "tablet": true}

func stemWords(s string) []string {
	var out []string
	for _, w := range strings.Fields(s) {
		if len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") {
			w = w[:len(w)-1]
		}
		out = append(out, w)
	}
	return out
}

var statusGroups = map[string]map[string]bool{
	"active":    {"active": true, "intended": true},
	"intended":  {"active": true, "intended": true},
	"stopped":   {"stopped": true, "completed": true, "on-hold": true},
	"not-taken": {"not-taken": true},
}

func countable(g GoldMed) bool {
	return !g.IsAllergy && (g.Status == "active" || g.Status == "intended" || g.Status == "stopped")
}

func scoreMedications(res *DocResult, doc Doc, all []resource, rx *RxMap) {
	var stmts, allergies []sysMed
	for _, r := range all {
		switch r.ResourceType {
		case "MedicationStatement":
			m := newSysMed(r.Medication, rx)
			m.status = r.Status
			m.dose, m.freq, m.route = dosageParts(r.Dosage)
			stmts = append(stmts, m)
		case "AllergyIntolerance":
			allergies = append(allergies, newSysMed(r.Code, rx))
		}
	}
	c := &res.Counts
	for _, g := range doc.Medications {
		if countable(g) {
			c.MedGold++
			if !g.Nonspecific {
				c.MedRxGold++
			}
		}
		if g.IsAllergy {
			c.AllergyGold++
		}
	}
	// Strict, with attributes and the per-document report.
	matched := matchMeds(doc, stmts, false)
	for i, s := range stmts {
		gi := matched[i]
		switch {
		case gi >= 0 && countable(doc.Medications[gi]):
			g := doc.Medications[gi]
			c.MedTP++
			if !g.Nonspecific {
				c.MedRxTP++
			}
			bad := func(what, gold, got string) {
				res.Attributes = append(res.Attributes, fmt.Sprintf("med %q %s: gold %q, system %q", g.Mention, what, gold, got))
			}
			if statusGroups[g.Status][s.status] {
				c.StatusMatched++
			} else {
				bad("status", g.Status, s.status)
			}
			if g.Dose != nil {
				c.DoseGold++
				if normDose(*g.Dose) == s.dose {
					c.DoseMatched++
				} else {
					bad("dose", *g.Dose, s.dose)
				}
			}
			if g.Frequency != nil {
				c.FreqGold++
				if strings.EqualFold(*g.Frequency, s.freq) {
					c.FreqMatched++
				} else {
					bad("frequency", *g.Frequency, s.freq)
				}
			}
			if g.Route != nil {
				c.RouteGold++
				if *g.Route == s.route {
					c.RouteMatched++
				} else {
					bad("route", *g.Route, s.route)
				}
			}
		case gi >= 0:
			g := doc.Medications[gi]
			if g.Status == "not-taken" && (s.status == "active" || s.status == "intended" || s.status == "") {
				c.StatusErrors++
				c.MedFP++
				c.MedRxFP++
				res.FalsePositives = append(res.FalsePositives, fmt.Sprintf("med %q: status %s for a not-taken drug", s.label, s.status))
			}
		default:
			c.MedFP++
			reason := "no gold medication"
			if allergyHit(doc, s) {
				c.AllergyAsMed++
				reason = "ALLERGY emitted as a medication"
			}
			if !matchesNonspecific(doc, s) {
				c.MedRxFP++
			}
			res.FalsePositives = append(res.FalsePositives, fmt.Sprintf("med %q (%s): %s", s.label, strings.Join(s.ins, "+"), reason))
		}
	}
	used := map[int]bool{}
	for _, gi := range matched {
		used[gi] = true
	}
	for gi, g := range doc.Medications {
		if countable(g) && !used[gi] {
			res.Misses = append(res.Misses, fmt.Sprintf("med %q %s %v (%s)", g.Mention, g.Ingredient, g.RxCUIs, g.Status))
		}
	}
	// Lenient.
	lm := matchMeds(doc, stmts, true)
	for i, s := range stmts {
		gi := lm[i]
		switch {
		case gi >= 0 && countable(doc.Medications[gi]):
			c.MedLenientTP++
		case gi >= 0:
			g := doc.Medications[gi]
			if g.Status == "not-taken" && (s.status == "active" || s.status == "intended" || s.status == "") {
				c.MedLenientFP++
			}
		default:
			c.MedLenientFP++
		}
	}
	// Allergy recall, and allergies the gold does not have.
	found := map[int]bool{}
	for _, a := range allergies {
		hit := false
		for gi, g := range doc.Medications {
			if g.IsAllergy && !found[gi] && medMatch(a, g, false) {
				found[gi] = true
				hit = true
				break
			}
		}
		if !hit {
			c.AllergyFP++
			res.FalsePositives = append(res.FalsePositives, fmt.Sprintf("allergy %q (%s): no gold allergy", a.label, strings.Join(a.ins, "+")))
		}
	}
	c.AllergyFound += len(found)
}

// matchMeds matches system statements to gold items one-to-one, greedily
// in the order the system emitted them: a statement takes the first
// unmatched gold non-allergy item it matches whose status counts, else the
// first neutral one. It returns the gold index per statement (-1: none).
func matchMeds(doc Doc, stmts []sysMed, lenient bool) []int {
	out := make([]int, len(stmts))
	used := map[int]bool{}
	for i, s := range stmts {
		out[i] = -1
		for pass := 0; pass < 2 && out[i] < 0; pass++ {
			for gi, g := range doc.Medications {
				if used[gi] || g.IsAllergy || countable(g) != (pass == 0) {
					continue
				}
				if medMatch(s, g, lenient) {
					out[i] = gi
					used[gi] = true
					break
				}
			}
		}
	}
	return out
}

// allergyHit reports an allergy-as-medication error: the statement matches
// a gold allergy and no non-allergy gold item has that drug.
func allergyHit(doc Doc, s sysMed) bool {
	hit := false
	for _, g := range doc.Medications {
		if g.IsAllergy && medMatch(s, g, false) {
			hit = true
		}
	}
	if !hit {
		return false
	}
	for _, g := range doc.Medications {
		if !g.IsAllergy && medMatch(s, g, false) {
			return false
		}
	}
	return true
}

func matchesNonspecific(doc Doc, s sysMed) bool {
	for _, g := range doc.Medications {
		if g.Nonspecific && medMatch(s, g, false) {
			return true
		}
	}
	return false
}

// dosageParts reads the first dosage as the gold writes dose, frequency
// and route.
func dosageParts(ds []dosage) (dose, freq, route string) {
	if len(ds) == 0 {
		return "", "", ""
	}
	d := ds[0]
	for _, dr := range d.DoseAndRate {
		switch {
		case dr.DoseQuantity != nil && dr.DoseQuantity.Value != nil:
			dose = normDose(string(*dr.DoseQuantity.Value) + " " + dr.DoseQuantity.Unit)
		case dr.DoseRange != nil && dr.DoseRange.Low != nil && dr.DoseRange.High != nil && dr.DoseRange.Low.Value != nil && dr.DoseRange.High.Value != nil:
			dose = normDose(string(*dr.DoseRange.Low.Value) + "-" + string(*dr.DoseRange.High.Value) + " " + dr.DoseRange.High.Unit)
		}
	}
	freq = frequencyOf(d)
	if d.Route != nil {
		route = routeOf(d.Route)
	}
	return dose, freq, route
}

// normDose writes a dose as "<number> <unit>" with the unit singular and
// lower case ("2 Tablets" -> "2 tablet", "1-2 tablets" -> "1-2 tablet").
func normDose(s string) string {
	f := strings.Fields(strings.ToLower(strings.TrimSpace(s)))
	if len(f) == 0 {
		return ""
	}
	num := f[0]
	if v, err := strconv.ParseFloat(num, 64); err == nil {
		num = strconv.FormatFloat(v, 'f', -1, 64)
	}
	unit := strings.Join(f[1:], " ")
	switch unit {
	case "units", "unit", "iu", "[iu]":
		unit = "unit"
	case "ug", "microgram", "micrograms":
		unit = "mcg"
	case "ml", "cc":
		unit = "ml"
	}
	if len(unit) > 3 && strings.HasSuffix(unit, "s") {
		unit = strings.TrimSuffix(unit, "s")
	}
	return strings.TrimSpace(num + " " + unit)
}

// frequencyOf names a dosage's timing in the gold's vocabulary.
func frequencyOf(d dosage) string {
	f := ""
	if d.Timing != nil {
		code := ""
		if d.Timing.Code != nil {
			code = d.Timing.Code.Text
			for _, c := range d.Timing.Code.Coding {
				code = c.Code
			}
		}
		f = codeFrequency[strings.ToUpper(code)]
		if f == "" && d.Timing.Repeat != nil {
			f = repeatFrequency(d.Timing.Repeat.Frequency, d.Timing.Repeat.Period, d.Timing.Repeat.PeriodUnit,
				d.Timing.Repeat.When, d.Timing.Repeat.Count)
		}
		if f == "" && strings.HasPrefix(strings.ToUpper(code), "Q") && strings.HasSuffix(strings.ToUpper(code), "H") {
			f = strings.ToLower(code)
		}
	}
	prn := (d.AsNeededBoolean != nil && *d.AsNeededBoolean) || d.AsNeededCodeableConcept != nil
	switch {
	case prn && f == "":
		return "PRN"
	case prn:
		return f + " PRN"
	}
	return f
}

var codeFrequency = map[string]string{
	"QD": "daily", "BID": "BID", "TID": "TID", "QID": "QID", "Q4H": "q4h", "Q6H": "q6h", "Q8H": "q8h",
	"Q12H": "q12h", "Q24H": "q24h", "BED": "at bedtime", "HS": "at bedtime", "QHS": "at bedtime",
	"AM": "every morning", "PM": "every evening", "QOD": "every other day", "WK": "weekly", "MO": "monthly",
	"Q2WK": "every 2 weeks", "Q3WK": "q3 weeks", "Q2D": "every other day", "Q1WK": "weekly",
}

func repeatFrequency(freq *int, period *json.Number, unit string, when []string, count *int) string {
	n := 1
	if freq != nil {
		n = *freq
	}
	p := ""
	if period != nil {
		p = string(*period)
	}
	switch {
	case p == "1" && unit == "d" && n >= 1 && n <= 4:
		return []string{"", "daily", "BID", "TID", "QID"}[n]
	case n == 1 && unit == "h" && p != "":
		return "q" + p + "h"
	case p == "1" && unit == "wk":
		return map[int]string{1: "weekly", 2: "twice weekly", 3: "three times weekly"}[n] + fallbackTimes(n, "weekly")
	case n == 1 && p == "2" && unit == "wk":
		return "every 2 weeks"
	case n == 1 && p == "3" && unit == "wk":
		return "q3 weeks"
	case n == 1 && p == "1" && unit == "mo":
		return "monthly"
	case n == 1 && p == "2" && unit == "d":
		return "every other day"
	}
	for _, w := range when {
		switch w {
		case "HS":
			return "at bedtime"
		case "MORN":
			return "every morning"
		case "EVE":
			return "every evening"
		case "C", "CM", "CD", "CV":
			return "with meals"
		}
	}
	if count != nil && *count == 1 {
		return "once"
	}
	return ""
}

func fallbackTimes(n int, unit string) string {
	if n > 3 {
		return strconv.Itoa(n) + " times " + unit
	}
	return ""
}

// routeOf names a route in the gold's vocabulary, from its SNOMED CT code
// or its text.
func routeOf(c *concept) string {
	for _, cd := range c.Coding {
		if r, ok := snomedRoutes[cd.Code]; ok && cd.System == "http://snomed.info/sct" {
			return r
		}
	}
	t := strings.ToLower(c.Text)
	if r, ok := textRoutes[t]; ok {
		return r
	}
	return t
}

var snomedRoutes = map[string]string{
	"26643006": "oral", "37839007": "sublingual", "54471007": "buccal", "47625008": "intravenous",
	"78421000": "intramuscular", "34206005": "subcutaneous", "372464004": "intradermal", "6064005": "topical",
	"45890007": "transdermal", "447694001": "inhalation", "46713006": "nasal", "54485002": "ophthalmic",
	"10547007": "otic", "37161004": "rectal", "16857009": "vaginal", "372473007": "oromucosal",
}

var textRoutes = map[string]string{
	"po": "oral", "by mouth": "oral", "orally": "oral", "iv": "intravenous", "im": "intramuscular",
	"sc": "subcutaneous", "sq": "subcutaneous", "subq": "subcutaneous", "inhaled": "inhalation",
}

// sysCond is a system Condition.
type sysCond struct {
	code      string
	asserted  bool
	tentative bool
	verified  string
	clinical  string
	label     string
}

func scoreConditions(res *DocResult, doc Doc, all []resource) {
	var conds []sysCond
	var fmh []string
	for _, r := range all {
		switch r.ResourceType {
		case "Condition":
			s := sysCond{asserted: true}
			if r.Code != nil {
				s.label = r.Code.Text
				for _, c := range r.Code.Coding {
					if c.System == systemICD10CM {
						s.code = c.Code
						break
					}
				}
			}
			if r.VerificationStatus != nil {
				for _, c := range r.VerificationStatus.Coding {
					s.verified = c.Code
				}
			}
			if r.ClinicalStatus != nil {
				for _, c := range r.ClinicalStatus.Coding {
					s.clinical = c.Code
				}
			}
			switch s.verified {
			case "refuted", "entered-in-error":
				s.asserted = false
			case "provisional", "differential", "unconfirmed":
				s.tentative = true
			}
			conds = append(conds, s)
		case "FamilyMemberHistory":
			for _, fc := range r.Condition {
				if fc.Code == nil {
					continue
				}
				for _, c := range fc.Code.Coding {
					if c.System == systemICD10CM {
						fmh = append(fmh, c.Code)
					}
				}
			}
		}
	}
	c := &res.Counts
	for _, g := range doc.Conditions {
		switch g.Assertion {
		case "present", "historical":
			c.CondGold++
			if g.Kind != "finding" {
				c.CondNFGold++
			}
		case "negated":
			c.NegatedGold++
		case "family":
			c.FamilyGold++
		}
	}
	// Family recall through FamilyMemberHistory.
	usedF := map[int]bool{}
	for _, code := range fmh {
		for gi, g := range doc.Conditions {
			if g.Assertion == "family" && !usedF[gi] && condMatch(code, g, true) {
				usedF[gi] = true
				break
			}
		}
	}
	c.FamilyFound = len(usedF)
	for _, category := range []bool{false, true} {
		m := matchConds(doc, conds, category)
		tp, fp, nftp, nffp := 0, 0, 0, 0
		for i, s := range conds {
			gi := m[i]
			if !s.asserted {
				if category && gi >= 0 && doc.Conditions[gi].Assertion == "negated" {
					c.NegatedRefuted++
				}
				continue
			}
			finding := gi >= 0 && doc.Conditions[gi].Kind == "finding"
			verdict := ""
			if gi < 0 {
				verdict = "fp"
			} else {
				g := doc.Conditions[gi]
				switch g.Assertion {
				case "present", "historical":
					verdict = "tp"
				case "negated":
					verdict = "negated"
				case "family":
					if !familyCode(s.code) {
						verdict = "family"
					}
				case "possible", "hypothetical":
					if !s.tentative {
						verdict = g.Assertion
					}
				}
			}
			switch verdict {
			case "tp":
				tp++
				if !finding {
					nftp++
				}
				if category && doc.Conditions[gi].Assertion == "historical" {
					c.HistoricalMatched++
					if s.clinical == "resolved" || s.clinical == "inactive" || s.clinical == "remission" || historyCode(s.code) {
						c.HistoricalMarked++
					}
				}
			case "":
				// Neutral: a tentative possible or hypothetical item, a family
				// history code for a family item.
			default:
				fp++
				if !finding {
					nffp++
				}
				if !category {
					continue
				}
				switch verdict {
				case "negated":
					c.NegatedAsserted++
				case "family":
					c.FamilyAsserted++
				case "possible":
					c.PossibleConfirmed++
				case "hypothetical":
					c.HypotheticalAsserted++
				}
				if verdict == "fp" {
					res.FalsePositives = append(res.FalsePositives, fmt.Sprintf("cond %q %s: no gold condition", s.label, s.code))
				} else {
					g := doc.Conditions[gi]
					res.FalsePositives = append(res.FalsePositives, fmt.Sprintf("cond %q %s: %s gold item %q asserted (%s)", s.label, s.code, verdict, g.Mention, firstNonEmpty(s.verified, "no status")))
				}
			}
		}
		if category {
			c.CondCatTP, c.CondCatFP, c.CondNFCatTP, c.CondNFCatFP = tp, fp, nftp, nffp
			used := map[int]bool{}
			for i, gi := range m {
				if gi >= 0 && conds[i].asserted {
					used[gi] = true
				}
			}
			for gi, g := range doc.Conditions {
				if (g.Assertion == "present" || g.Assertion == "historical") && !used[gi] {
					res.Misses = append(res.Misses, fmt.Sprintf("cond %q %s %s (%s)", g.Mention, g.Code, g.Kind, g.Assertion))
				}
			}
		} else {
			c.CondExactTP, c.CondExactFP, c.CondNFExactTP, c.CondNFExactFP = tp, fp, nftp, nffp
		}
	}
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

// matchConds matches system conditions to gold items one-to-one: asserted
// conditions to present and historical items first (exactly, then by
// category when category is true), then every condition to the remaining
// items the same way. It returns the gold index per condition.
func matchConds(doc Doc, conds []sysCond, category bool) []int {
	out := make([]int, len(conds))
	for i := range out {
		out[i] = -1
	}
	used := map[int]bool{}
	modes := []bool{false}
	if category {
		modes = append(modes, true)
	}
	for _, positives := range []bool{true, false} {
		for _, byCat := range modes {
			for i, s := range conds {
				if out[i] >= 0 || s.code == "" || (positives && !s.asserted) {
					continue
				}
				for gi, g := range doc.Conditions {
					pos := g.Assertion == "present" || g.Assertion == "historical"
					if used[gi] || pos != positives {
						continue
					}
					if condMatch(s.code, g, byCat) {
						out[i] = gi
						used[gi] = true
						break
					}
				}
			}
		}
	}
	return out
}

func condMatch(code string, g GoldCond, category bool) bool {
	if code == g.Code {
		return true
	}
	for _, a := range g.Acceptable {
		if code == a {
			return true
		}
	}
	if !category || len(code) < 3 {
		return false
	}
	if code[:3] == g.Category {
		return true
	}
	for _, a := range g.Acceptable {
		if len(a) >= 3 && code[:3] == a[:3] {
			return true
		}
	}
	return false
}

// familyCode is a Z80-Z84 family-history code.
func familyCode(code string) bool {
	return len(code) >= 3 && code[0] == 'Z' && code[1] == '8' && code[2] >= '0' && code[2] <= '4'
}

// historyCode is a Z85-Z87 personal-history code.
func historyCode(code string) bool {
	return len(code) >= 3 && code[0] == 'Z' && code[1] == '8' && code[2] >= '5' && code[2] <= '7'
}
