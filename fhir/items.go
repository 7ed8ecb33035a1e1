package fhir

import "time"

// The item types below are what the extractors fill in; the builders in builders.go
// turn them into resources. Every field is plain data so that extractors need no FHIR
// knowledge: codes are (system, code, display), doses and frequencies are the parts of
// a spoken sig.

// BuildContext is what every resource of a session shares.
type BuildContext struct {
	// Subject is the patient the resources are about. Use the session's Patient
	// reference, or PlaceholderPatientReference(sessionID) when none was supplied.
	Subject Reference
	// Encounter, when set, is referenced by Condition.encounter and
	// MedicationStatement.context.
	Encounter *Reference
	// Recorded is when the item was recorded (Condition.recordedDate,
	// MedicationStatement.dateAsserted...). The zero time leaves those elements out;
	// builders never read the clock, so output is reproducible.
	Recorded time.Time
}

// MedicationItem is one medication the patient takes, took, will take or refused.
type MedicationItem struct {
	// ID is the extractor's stable item id; it becomes the resource id (characters
	// outside [A-Za-z0-9.-] become '-', longer than 64 is shortened with a hash).
	ID string
	// Text is the original spoken or written mention, shown in the narrative.
	Text string
	// Code is the RxNorm coding (an empty System means RxNorm); leave Code.Code empty
	// when none was found.
	Code Coding
	// Name is the medication as said ("Lipitor"); it defaults to Code.Display, then Text.
	Name string
	// Dose is the amount per administration.
	Dose Dose
	// Route is a plain word such as "oral", "po", "IV", "inhaled" or "topical".
	Route string
	// Frequency is when it is taken.
	Frequency Frequency
	// AsNeeded marks PRN use. AsNeededFor ("for pain") implies it.
	AsNeeded    bool
	AsNeededFor string
	// Duration is how long it is taken ("for 7 days").
	Duration Amount
	// SigText is the dosage instruction as said; when empty one is composed from the parts.
	SigText string
	// Status is MedicationStatement.status: active | intended | stopped | completed |
	// on-hold | not-taken | unknown | entered-in-error. Empty means active.
	Status string
	// Note is a free-text annotation.
	Note string
}

// Dose is an amount per administration: a single value or a range ("5 to 10 mg").
type Dose struct {
	// Value is the amount; leave it empty for a range.
	Value Decimal
	// Low and High bound a range.
	Low, High Decimal
	// Unit is as said or as UCUM: "mg", "mcg", "mL", "units", "tablet", "puff", "drop".
	Unit string
}

// IsZero reports whether no dose was given.
func (d Dose) IsZero() bool { return d.Value == "" && d.Low == "" && d.High == "" }

// Amount is a value with a unit, used for durations ("7 days").
type Amount struct {
	Value Decimal
	// Unit is a word ("day", "weeks") or a UCUM unit of time ("d", "wk").
	Unit string
}

// Frequency is when a medication is taken: an abbreviation, explicit repeat fields, or both
// (explicit fields win where both say something).
type Frequency struct {
	// Code is a timing abbreviation: QD, BID, TID, QID, QOD, AM, PM, HS (or BED), WK, MO,
	// Q<n>H (Q4H, Q6H, Q12H...), Q<n>-<m>H (Q4-6H), Q<n>D, Q<n>WK. Case and dots are
	// ignored ("b.i.d.").
	Code string
	// Times is how many times per period (2 for "twice a day").
	Times int
	// Period and PeriodMax give the period or its range; PeriodUnit is a UCUM unit of time
	// (s, min, h, d, wk, mo, a) or a word ("hours").
	Period, PeriodMax Decimal
	PeriodUnit        string
	// When lists event-timing codes: HS, WAKE, C, CM, CD, CV, AC, ACM, ACD, ACV, PC, PCM,
	// PCD, PCV, MORN, NOON, AFT, EVE, NIGHT...
	When []string
	// Count is the total number of administrations (1 for "once").
	Count int
}

// IsZero reports whether no frequency was given.
func (f Frequency) IsZero() bool {
	return f.Code == "" && f.Times == 0 && f.Period == "" && f.PeriodMax == "" && f.PeriodUnit == "" && len(f.When) == 0 && f.Count == 0
}

// Condition assertions: how the text asserts a finding.
const (
	AssertionPresent      = "present"
	AssertionNegated      = "negated"
	AssertionPossible     = "possible"
	AssertionHypothetical = "hypothetical"
	AssertionHistorical   = "historical"
	AssertionFamily       = "family"
)

// ConditionItem is one problem, diagnosis, symptom or finding.
type ConditionItem struct {
	// ID is the extractor's stable item id; it becomes the resource id.
	ID string
	// Text is the original mention, shown in the narrative.
	Text string
	// Code is the ICD-10-CM coding (an empty System means ICD-10-CM); leave Code.Code
	// empty when none was found.
	Code Coding
	// Name is the condition as said; it defaults to Code.Display, then Text.
	Name string
	// Assertion is one of the Assertion constants; empty means present. Family
	// assertions are refused: use NewFamilyMemberHistory, so that a relative's disease
	// never becomes the patient's.
	Assertion string
	// Kind is the extractor's class: diagnosis | symptom | finding | problem. R4 Condition
	// has no element for it except the category: "problem" gives problem-list-item,
	// everything else encounter-diagnosis (refuted and hypothetical findings get none).
	Kind string
	// ClinicalStatus overrides the status the assertion implies (historical defaults to
	// resolved; "inactive" or "remission" may be more accurate).
	ClinicalStatus string
	// Onset is when it began, as said ("2019", "three years ago"): a FHIR date or
	// dateTime goes to onsetDateTime, anything else to onsetString.
	Onset string
	// Note is a free-text annotation.
	Note string
}

// AllergyItem is one allergy or intolerance. Allergies are never MedicationStatements.
type AllergyItem struct {
	// ID is the extractor's stable item id; it becomes the resource id.
	ID string
	// Text is the original mention, shown in the narrative.
	Text string
	// Code codes the substance (an empty System means RxNorm); leave Code.Code empty
	// when none was found.
	Code Coding
	// Name is the substance as said; it defaults to Code.Display, then Text.
	Name string
	// Category is medication | food | environment | biologic. Empty means medication
	// when Code is RxNorm, otherwise it is left out.
	Category string
	// Type is allergy | intolerance, or empty when not said.
	Type string
	// Reactions are the manifestations as said ("hives", "rash").
	Reactions []string
	// Note is a free-text annotation.
	Note string
}

// FamilyHistoryItem is a condition of a relative.
type FamilyHistoryItem struct {
	// ID is the extractor's stable item id; it becomes the resource id.
	ID string
	// Text is the original mention, shown in the narrative.
	Text string
	// Relationship is the relative as said: "mother", "father", "brother", "maternal
	// grandmother"... Unknown words become "family member" with the word as text.
	Relationship string
	// Code is the condition's coding (an empty System means ICD-10-CM); leave Code.Code
	// empty when none was found.
	Code Coding
	// Name is the condition as said; it defaults to Code.Display, then Text.
	Name string
	// Note is a free-text annotation.
	Note string
}
