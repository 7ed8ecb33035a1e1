package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/medscribe/medscribe/fhir"
)

// Validator checks one resource. cmd/medscribe backs it with the fhir
// package's validator and the terminology.
type Validator interface {
	// Validate returns r's OperationOutcome as JSON and its number of
	// error-level issues.
	Validate(ctx context.Context, r fhir.Resource) (outcome json.RawMessage, errors int, err error)
}

// Grounder answers from the terminology in FHIR codings. Extractors never
// emit a code it did not return.
type Grounder interface {
	// LookupCoding returns the coding of code in system; ok is false when
	// the terminology does not hold it.
	LookupCoding(ctx context.Context, system, code string) (c fhir.Coding, ok bool, err error)
	// ResolveDrugCoding resolves a drug as said (name, optional strength
	// and form) to its most specific coding and its ingredients' codings.
	ResolveDrugCoding(ctx context.Context, name, strength, form string) (drug fhir.Coding, ingredients []fhir.Coding, score float64, ok bool, err error)
	// ResolveConditionCoding resolves a condition phrase to a billable
	// ICD-10-CM coding.
	ResolveConditionCoding(ctx context.Context, phrase string) (c fhir.Coding, score float64, ok bool, err error)
}

// Assembler turns item descriptions into FHIR resources for one session
// and validates them.
type Assembler struct {
	// Subject is the session's patient.
	Subject fhir.Reference
	// Validator may be nil: items then carry no OperationOutcome.
	Validator Validator
	// Now stamps recorded times; tests fix it.
	Now func() time.Time
}

func (a *Assembler) context() fhir.BuildContext {
	now := time.Now
	if a.Now != nil {
		now = a.Now
	}
	return fhir.BuildContext{Subject: a.Subject, Recorded: now().UTC().Truncate(time.Second)}
}

// Resource builds the resource of one item description.
func (a *Assembler) Resource(d Description) (fhir.Resource, error) {
	bc := a.context()
	switch d.Kind {
	case KindMedication:
		if d.Medication != nil {
			m := *d.Medication
			m.ID = d.ID
			return fhir.NewMedicationStatement(m, bc)
		}
		return fhir.NewMedicationStatement(d.medication(), bc)
	case KindCondition:
		if d.Condition != nil {
			c := *d.Condition
			c.ID = d.ID
			return fhir.NewCondition(c, bc)
		}
		return fhir.NewCondition(d.condition(), bc)
	case KindAllergy:
		if d.Allergy != nil {
			a := *d.Allergy
			a.ID = d.ID
			return fhir.NewAllergyIntolerance(a, bc)
		}
		return fhir.NewAllergyIntolerance(fhir.AllergyItem{ID: d.ID, Text: d.Text, Code: d.Code, Name: d.Name}, bc)
	case KindFamily:
		if d.Family != nil {
			f := *d.Family
			f.ID = d.ID
			return fhir.NewFamilyMemberHistory(f, bc)
		}
		return fhir.NewFamilyMemberHistory(fhir.FamilyHistoryItem{ID: d.ID, Text: d.Text, Code: d.Code, Name: d.Name, Relationship: d.Relative}, bc)
	}
	return nil, fmt.Errorf("build item %s: unknown kind %q", d.ID, d.Kind)
}

// Item builds, marshals and validates one description. It returns the
// item and the number of validation errors.
func (a *Assembler) Item(ctx context.Context, d Description, source string, segment int) (Item, int, error) {
	r, err := a.Resource(d)
	if err != nil {
		return Item{}, 0, err
	}
	b, err := fhir.Marshal(r)
	if err != nil {
		return Item{}, 0, fmt.Errorf("encode item %s: %w", d.ID, err)
	}
	it := Item{ID: d.ID, Kind: r.ResourceType(), Resource: b, Source: source, SegmentID: segment, desc: &d}
	var nerr int
	if a.Validator != nil {
		it.Validation, nerr, err = a.Validator.Validate(ctx, r)
		if err != nil {
			return Item{}, 0, fmt.Errorf("validate item %s: %w", d.ID, err)
		}
	}
	return it, nerr, nil
}

// Item kinds.
const (
	KindMedication = "medication"
	KindCondition  = "condition"
	KindAllergy    = "allergy"
	KindFamily     = "family_history"
)

// Description is an extractor's account of one item before it becomes a
// resource: what was said and the code the terminology gave it.
type Description struct {
	ID   string
	Kind string
	Name string // as a clinician writes it
	Text string // as said
	Code fhir.Coding
	// Ingredients identify a medication across mentions.
	Ingredients []fhir.Coding

	Dose      string // "500 mg", "5 to 10 mg", "1 tablet"
	Route     string
	Frequency string // abbreviation (BID) or words (twice daily)
	AsNeeded  bool
	Status    string // medication status
	Assertion string // condition assertion
	Relative  string // family history

	// A fully parsed item (the rules extractor's), when set, is built as
	// it is instead of from the strings above; only its ID is taken from
	// the description.
	Medication *fhir.MedicationItem
	Condition  *fhir.ConditionItem
	Allergy    *fhir.AllergyItem
	Family     *fhir.FamilyHistoryItem
}

var (
	doseRe  = regexp.MustCompile(`^\s*(\d+(?:\.\d+)?)\s*(?:(?:to|-)\s*(\d+(?:\.\d+)?)\s*)?([a-zA-Z%/]+(?:\s?[a-zA-Z]+)?)?\s*$`)
	everyRe = regexp.MustCompile(`^(?:q|every\s+)(\d+)(?:\s*-\s*(\d+))?\s*(?:h|hr|hrs|hours?)$`)
)

// parseDose reads "500 mg", "5 to 10 mg" or "2 puffs"; anything else is
// kept only in the sig text.
func parseDose(s string) (fhir.Dose, bool) {
	m := doseRe.FindStringSubmatch(strings.ToLower(strings.TrimSpace(s)))
	if m == nil {
		return fhir.Dose{}, false
	}
	d := fhir.Dose{Unit: strings.TrimSpace(m[3])}
	if m[2] != "" {
		d.Low, d.High = fhir.Decimal(m[1]), fhir.Decimal(m[2])
	} else {
		d.Value = fhir.Decimal(m[1])
	}
	return d, true
}

// frequencyWords maps how frequencies are said to timing abbreviations.
var frequencyWords = map[string]string{
	"daily": "QD", "once daily": "QD", "once a day": "QD", "every day": "QD", "qd": "QD", "q.d.": "QD",
	"twice daily": "BID", "twice a day": "BID", "two times a day": "BID", "bid": "BID", "b.i.d.": "BID",
	"three times daily": "TID", "three times a day": "TID", "tid": "TID", "t.i.d.": "TID",
	"four times daily": "QID", "four times a day": "QID", "qid": "QID", "q.i.d.": "QID",
	"at bedtime": "HS", "nightly": "HS", "qhs": "HS", "q.h.s.": "HS", "hs": "HS",
	"every other day": "QOD", "qod": "QOD", "weekly": "WK", "once a week": "WK", "monthly": "MO",
	"every morning": "AM", "in the morning": "AM", "every evening": "PM", "in the evening": "PM",
}

// parseFrequency maps a frequency as said to a timing code; "prn" in it
// marks as-needed use.
func parseFrequency(s string) (fhir.Frequency, bool) {
	t := strings.ToLower(strings.TrimSpace(s))
	prn := false
	for _, w := range []string{" as needed", " prn", " p.r.n.", "prn", "as needed"} {
		if strings.HasSuffix(t, w) || t == strings.TrimSpace(w) {
			prn = true
			t = strings.TrimSpace(strings.TrimSuffix(t, w))
		}
	}
	if code, ok := frequencyWords[t]; ok {
		return fhir.Frequency{Code: code}, prn
	}
	if m := everyRe.FindStringSubmatch(strings.ReplaceAll(t, ".", "")); m != nil {
		code := "Q" + m[1] + "H"
		if m[2] != "" {
			code = "Q" + m[1] + "-" + m[2] + "H"
		}
		return fhir.Frequency{Code: code}, prn
	}
	return fhir.Frequency{}, prn
}

var medicationStatuses = map[string]string{
	"active": "active", "intended": "intended", "stopped": "stopped", "completed": "completed",
	"on-hold": "on-hold", "not-taken": "not-taken", "unknown": "unknown",
}

func (d Description) medication() fhir.MedicationItem {
	m := fhir.MedicationItem{ID: d.ID, Text: d.Text, Code: d.Code, Name: d.Name, Route: d.Route, AsNeeded: d.AsNeeded}
	if st, ok := medicationStatuses[d.Status]; ok {
		m.Status = st
	}
	var sig []string
	if dose, ok := parseDose(d.Dose); ok {
		m.Dose = dose
	} else if d.Dose != "" {
		sig = append(sig, d.Dose)
	}
	if f, prn := parseFrequency(d.Frequency); !f.IsZero() || prn {
		m.Frequency = f
		m.AsNeeded = m.AsNeeded || prn
		if f.IsZero() {
			sig = append(sig, d.Frequency)
		}
	} else if d.Frequency != "" {
		sig = append(sig, d.Frequency)
	}
	if len(sig) > 0 {
		// Parts no field holds are kept as said, with what was parsed.
		parts := []string{d.Dose, d.Route, d.Frequency}
		m.SigText = strings.Join(nonEmpty(parts), " ")
	}
	return m
}

func nonEmpty(ss []string) []string {
	var out []string
	for _, s := range ss {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out
}

var assertions = map[string]string{
	"present": fhir.AssertionPresent, "negated": fhir.AssertionNegated, "possible": fhir.AssertionPossible,
	"hypothetical": fhir.AssertionHypothetical, "historical": fhir.AssertionHistorical,
}

func (d Description) condition() fhir.ConditionItem {
	c := fhir.ConditionItem{ID: d.ID, Text: d.Text, Code: d.Code, Name: d.Name}
	c.Assertion = assertions[d.Assertion]
	return c
}
