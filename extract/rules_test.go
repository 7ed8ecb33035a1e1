package extract_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/internal/termtest"
	"github.com/medscribe/medscribe/fhir"
)

// session feeds segments to a fresh rules extractor over the starter
// terminology, validating every item it returns.
type session struct {
	t     *testing.T
	r     *extract.Rules
	db    *terminology.DB
	items map[string]extract.Item // latest version by id
	order []string
}

func newSession(t *testing.T) *session {
	t.Helper()
	db := termtest.Starter(t)
	asm := &extract.Assembler{
		Subject:   fhir.PlaceholderPatientReference("test"),
		Validator: extract.FHIRValidator{Validator: &fhir.Validator{Terminology: db}},
		Now:       func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) },
	}
	return &session{t: t, r: extract.NewRules(termtest.StarterLexicon(t), asm), db: db, items: map[string]extract.Item{}}
}

// feed feeds one segment and returns the items it changed.
func (s *session) feed(text string) []extract.Item {
	s.t.Helper()
	var partials []string
	items, err := s.r.Feed(context.Background(), extract.Segment{ID: len(s.order) + 1, Text: text}, func(p extract.Partial) {
		partials = append(partials, p.ItemID)
	})
	if err != nil {
		s.t.Fatalf("feed %q: %v", text, err)
	}
	for _, it := range items {
		found := false
		for _, p := range partials {
			found = found || p == it.ID
		}
		if !found {
			s.t.Errorf("item %s returned without a partial first", it.ID)
		}
		s.check(it)
		if _, ok := s.items[it.ID]; !ok {
			s.order = append(s.order, it.ID)
		}
		s.items[it.ID] = it
	}
	return items
}

// check validates an item: no validation error, the JSON schema, every
// code in the terminology.
func (s *session) check(it extract.Item) {
	s.t.Helper()
	var oo struct {
		Issue []struct{ Severity, Diagnostics string }
	}
	if err := json.Unmarshal(it.Validation, &oo); err != nil {
		s.t.Fatalf("item %s: validation outcome: %v", it.ID, err)
	}
	for _, is := range oo.Issue {
		if is.Severity == "error" || is.Severity == "fatal" {
			s.t.Errorf("item %s: %s: %s", it.ID, is.Severity, string(it.Validation))
		}
	}
	if err := termtest.SchemaValidate(s.t, it.Resource); err != nil {
		s.t.Errorf("item %s fails the R4 JSON schema: %v", it.ID, err)
	}
	for _, c := range codings(it.Resource) {
		if c.System != fhir.SystemICD10CM && c.System != fhir.SystemRxNorm {
			continue
		}
		if _, ok, err := s.db.LookupCoding(context.Background(), c.System, c.Code); err != nil || !ok {
			s.t.Errorf("item %s: code %s|%s is not in the terminology", it.ID, c.System, c.Code)
		}
	}
}

// codings returns every coding of a resource's JSON.
func codings(raw json.RawMessage) []fhir.Coding {
	var out []fhir.Coding
	var walk func(v any)
	walk = func(v any) {
		switch x := v.(type) {
		case map[string]any:
			if sys, ok := x["system"].(string); ok {
				if code, ok := x["code"].(string); ok {
					out = append(out, fhir.Coding{System: sys, Code: code})
				}
			}
			for _, e := range x {
				walk(e)
			}
		case []any:
			for _, e := range x {
				walk(e)
			}
		}
	}
	var v any
	_ = json.Unmarshal(raw, &v)
	walk(v)
	return out
}

// resource decodes an item's resource into v.
func resource[T any](t *testing.T, it extract.Item) *T {
	t.Helper()
	var v T
	if err := json.Unmarshal(it.Resource, &v); err != nil {
		t.Fatalf("decode %s: %v", it.ID, err)
	}
	return &v
}

func byKind(items []extract.Item, kind string) []extract.Item {
	var out []extract.Item
	for _, it := range items {
		if it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

func (s *session) all(kind string) []extract.Item {
	var out []extract.Item
	for _, id := range s.order {
		if it := s.items[id]; it.Kind == kind {
			out = append(out, it)
		}
	}
	return out
}

func medCode(t *testing.T, it extract.Item) (code, status string, ms *fhir.MedicationStatement) {
	t.Helper()
	ms = resource[fhir.MedicationStatement](t, it)
	if ms.MedicationCodeableConcept != nil && len(ms.MedicationCodeableConcept.Coding) > 0 {
		code = ms.MedicationCodeableConcept.Coding[0].Code
	}
	return code, ms.Status, ms
}

func timingCode(ms *fhir.MedicationStatement) string {
	if len(ms.Dosage) == 0 || ms.Dosage[0].Timing == nil || ms.Dosage[0].Timing.Code == nil {
		return ""
	}
	return ms.Dosage[0].Timing.Code.Text
}

// TestAmendLastMedication: "...metformin 500 mg. Make that twice daily."
// updates the item under the same id.
func TestAmendLastMedication(t *testing.T) {
	s := newSession(t)
	first := s.feed("Start metformin 500 mg by mouth.")
	meds := byKind(first, "MedicationStatement")
	if len(meds) != 1 {
		t.Fatalf("first segment gave %d medications, want 1", len(meds))
	}
	id := meds[0].ID
	code, status, ms := medCode(t, meds[0])
	if code != "6809" || status != "intended" || timingCode(ms) != "" {
		t.Errorf("metformin: code %s status %s timing %q", code, status, timingCode(ms))
	}
	second := s.feed("Make that twice daily.")
	if len(second) != 1 || second[0].ID != id {
		t.Fatalf("the amendment returned %v, want one update of %s", ids(second), id)
	}
	_, _, ms = medCode(t, second[0])
	if timingCode(ms) != "BID" || ms.Dosage[0].DoseAndRate[0].DoseQuantity.Value != "500" {
		t.Errorf("amended dosage %s", ms.Dosage[0].Text)
	}
}

func ids(items []extract.Item) []string {
	var out []string
	for _, it := range items {
		out = append(out, it.ID)
	}
	return out
}

// TestSameDrugOneItem: a drug mentioned again, by brand or generic name,
// updates its item; an unchanged mention returns nothing.
func TestSameDrugOneItem(t *testing.T) {
	s := newSession(t)
	s.feed("She takes lisinopril 10 mg daily.")
	if got := s.feed("Continue lisinopril."); len(got) != 0 {
		t.Errorf("an unchanged mention returned %v", ids(got))
	}
	s.feed("Increase Zestril to 20 mg daily.")
	meds := s.all("MedicationStatement")
	if len(meds) != 1 {
		t.Fatalf("%d medication items, want 1: %v", len(meds), ids(meds))
	}
	_, status, ms := medCode(t, meds[0])
	if q := ms.Dosage[0].DoseAndRate[0].DoseQuantity; q.Value != "20" || status != "active" {
		t.Errorf("after the increase: %s %s, status %s", q.Value, q.Unit, status)
	}
}

// TestAllergiesAreNeverMedications: allergy cues and sections give
// AllergyIntolerance; the drug is no MedicationStatement.
func TestAllergiesAreNeverMedications(t *testing.T) {
	for _, text := range []string{
		"She is allergic to amoxicillin.",
		"I'm allergic to penicillin.",
		"ALLERGIES: Amoxicillin and codeine.",
		"Allergies: amoxicillin (hives).",
		"For allergies, amoxicillin.",
		"Amoxicillin allergy.",
		"Allergies colon amoxicillin period",
	} {
		t.Run(text, func(t *testing.T) {
			s := newSession(t)
			items := s.feed(text)
			if n := len(byKind(items, "MedicationStatement")); n != 0 {
				t.Errorf("%d MedicationStatements", n)
			}
			al := byKind(items, "AllergyIntolerance")
			if len(al) == 0 {
				t.Fatalf("no AllergyIntolerance: %v", ids(items))
			}
			a := resource[fhir.AllergyIntolerance](t, al[0])
			if a.Code == nil || len(a.Code.Coding) == 0 || a.Code.Coding[0].System != fhir.SystemRxNorm {
				t.Errorf("allergy not coded in RxNorm: %s", al[0].Resource)
			}
		})
	}
	s := newSession(t)
	s.feed("Allergic to codeine.")
	if got := byKind(s.feed("What happens when you take codeine?"), "MedicationStatement"); len(got) != 0 {
		t.Errorf("the allergen asked about became a medication")
	}
	if got := byKind(s.feed("No known drug allergies."), "AllergyIntolerance"); len(got) != 0 {
		t.Errorf("NKDA gave allergies")
	}
}

// TestConditionAssertions: negated, possible, historical and family
// mentions become refuted, provisional and resolved Conditions and
// FamilyMemberHistory.
func TestConditionAssertions(t *testing.T) {
	cases := []struct {
		text, kind, code, verification, clinical, relative string
	}{
		{"Patient has hypertension.", "Condition", "I10", "confirmed", "active", ""},
		{"He denies chest pain.", "Condition", "R07.9", "refuted", "", ""},
		{"Possible pneumonia.", "Condition", "J18.9", "provisional", "active", ""},
		{"History of myocardial infarction.", "Condition", "", "confirmed", "resolved", ""},
		{"Mother had breast cancer.", "FamilyMemberHistory", "", "", "", "MTH"},
		{"FAMILY HISTORY: Diabetes.", "FamilyMemberHistory", "E11.9", "", "", "FAMMEMB"},
		{"Family history is positive for coronary artery disease in his father.", "FamilyMemberHistory", "I25.10", "", "", "FTH"},
		{"Former smoker.", "Condition", "Z87.891", "confirmed", "resolved", ""},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			s := newSession(t)
			items := s.feed(tc.text)
			got := byKind(items, tc.kind)
			if len(got) != 1 {
				t.Fatalf("%d %s items (all: %v)", len(got), tc.kind, ids(items))
			}
			if tc.kind == "FamilyMemberHistory" {
				f := resource[fhir.FamilyMemberHistory](t, got[0])
				if rel := f.Relationship.Coding[0].Code; rel != tc.relative {
					t.Errorf("relative %s, want %s", rel, tc.relative)
				}
				if tc.code != "" && f.Condition[0].Code.Coding[0].Code != tc.code {
					t.Errorf("code %s, want %s", f.Condition[0].Code.Coding[0].Code, tc.code)
				}
				if n := len(byKind(items, "Condition")); n != 0 {
					t.Errorf("a relative's disease also became %d patient Conditions", n)
				}
				return
			}
			c := resource[fhir.Condition](t, got[0])
			if tc.code != "" && c.Code.Coding[0].Code != tc.code {
				t.Errorf("code %s, want %s", c.Code.Coding[0].Code, tc.code)
			}
			if v := c.VerificationStatus.Coding[0].Code; v != tc.verification {
				t.Errorf("verification %s, want %s", v, tc.verification)
			}
			clinical := ""
			if c.ClinicalStatus != nil {
				clinical = c.ClinicalStatus.Coding[0].Code
			}
			if clinical != tc.clinical {
				t.Errorf("clinical status %q, want %q", clinical, tc.clinical)
			}
		})
	}
	s := newSession(t)
	if got := s.feed("Return if you develop chest pain."); len(got) != 0 {
		t.Errorf("a hypothetical condition was recorded: %v", ids(got))
	}
}

// TestMedicationStatus: status words set MedicationStatement.status.
func TestMedicationStatus(t *testing.T) {
	cases := map[string]string{
		"Start amlodipine 5 mg daily.":                "intended",
		"Continue metoprolol 25 mg twice daily.":      "active",
		"Discontinue aspirin.":                        "stopped",
		"Aspirin was discontinued.":                   "stopped",
		"Hold warfarin.":                              "on-hold",
		"She is not taking her atorvastatin.":         "not-taken",
		"He takes lisinopril 10 mg daily.":            "active",
		"She was given ceftriaxone 1 g IV in the ER.": "completed",
	}
	for text, want := range cases {
		t.Run(text, func(t *testing.T) {
			s := newSession(t)
			meds := byKind(s.feed(text), "MedicationStatement")
			if len(meds) != 1 {
				t.Fatalf("%d medications", len(meds))
			}
			if _, status, _ := medCode(t, meds[0]); status != want {
				t.Errorf("status %s, want %s", status, want)
			}
		})
	}
}

// TestSpokenSectionsAndPunctuation: dictated headings and punctuation
// work like written ones.
func TestSpokenSectionsAndPunctuation(t *testing.T) {
	s := newSession(t)
	s.feed("For past medical history, hypertension and asthma period new paragraph medications colon " +
		"albuterol two puffs every four hours as needed comma lisinopril 20 mg daily period new paragraph " +
		"allergies colon codeine period new paragraph family history is significant for colon cancer in her father period")
	conds := s.all("Condition")
	meds := s.all("MedicationStatement")
	allergies := s.all("AllergyIntolerance")
	family := s.all("FamilyMemberHistory")
	if len(conds) != 2 || len(meds) != 2 || len(allergies) != 1 || len(family) != 1 {
		t.Fatalf("conditions %v, medications %v, allergies %v, family %v", ids(conds), ids(meds), ids(allergies), ids(family))
	}
	_, _, ms := medCode(t, meds[0])
	if timingCode(ms) != "Q4H" || ms.Dosage[0].AsNeededBoolean == nil || ms.Dosage[0].DoseAndRate[0].DoseQuantity.Unit != "puffs" {
		t.Errorf("albuterol sig: %s", ms.Dosage[0].Text)
	}
	f := resource[fhir.FamilyMemberHistory](t, family[0])
	if f.Relationship.Coding[0].Code != "FTH" {
		t.Errorf("relative %s", f.Relationship.Coding[0].Code)
	}
	if !strings.HasPrefix(f.Condition[0].Code.Coding[0].Code, "C18") {
		t.Errorf("colon cancer coded %s", f.Condition[0].Code.Coding[0].Code)
	}
}

// TestNoMatchInsideWords: names match whole words only.
func TestNoMatchInsideWords(t *testing.T) {
	s := newSession(t)
	if items := s.feed("The reaspirination of fluid and the hypertensiveness were discussed."); len(items) != 0 {
		t.Errorf("matches inside words: %v", ids(items))
	}
}

// TestItemsNotFromText: nothing is recorded from text without clinical
// content, and lab values of drug-like substances are no medications.
func TestItemsNotFromText(t *testing.T) {
	s := newSession(t)
	for _, text := range []string{
		"The weather was fine and we talked about the weekend.",
		"Potassium 3.2, sodium 138, glucose of 250.",
		"Check TSH.",
		"No ethanol use or illicit drug use.",
		"Heart: S1, S2 regular.",
		"Temperature 98.6.",
	} {
		for _, it := range s.feed(text) {
			if it.Kind == "MedicationStatement" || it.Kind == "AllergyIntolerance" {
				t.Errorf("%q gave %s: %s", text, it.Kind, it.Resource)
			}
			if it.Kind == "Condition" && !strings.Contains(string(it.Resource), `"refuted"`) {
				t.Errorf("%q gave an asserted Condition: %s", text, it.Resource)
			}
		}
	}
}

// TestLexiconConcurrent: sessions share one lexicon; the first ones to
// feed build it together, safely (run with -race).
func TestLexiconConcurrent(t *testing.T) {
	lex := extract.NewLexicon(termtest.Vocabulary{DB: termtest.Starter(t)})
	texts := []string{"Metformin 500 mg twice daily.", "Denies chest pain.", "Allergic to codeine.",
		"Mother had diabetes.", "Start lisinopril 10 mg daily.", "Possible pneumonia."}
	errs := make(chan error, len(texts)*4)
	done := make(chan int, len(texts)*4)
	for i := 0; i < len(texts)*4; i++ {
		go func(i int) {
			r := extract.NewRules(lex, &extract.Assembler{Subject: fhir.PlaceholderPatientReference("c")})
			items, err := r.Feed(context.Background(), extract.Segment{ID: 1, Text: texts[i%len(texts)]}, nil)
			if err != nil {
				errs <- err
			}
			done <- len(items)
		}(i)
	}
	for i := 0; i < len(texts)*4; i++ {
		if n := <-done; n == 0 {
			t.Error("a session got no item")
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if s := lex.Stats(); s.Keys == 0 || s.Concepts == 0 {
		t.Errorf("lexicon stats %+v", s)
	}
}

// TestQuestionAndAnswer: in a conversation, the patient's answer asserts
// or denies what the doctor asked; an unanswered question asserts nothing.
func TestQuestionAndAnswer(t *testing.T) {
	cases := []struct {
		text, want string // want: the verification status of the chest pain item, or "" for none
	}{
		{"Doctor: Any chest pain?\nPatient: Um, no, not at all.", "refuted"},
		{"Doctor: Any chest pain?\nPatient: Yeah, a little.", "confirmed"},
		{"Doctor: Any chest pain?\nPatient: It started on Monday.", ""},
		{"Doctor: Do you get chest pain, or just tightness?\nPatient: Uh, yeah, a bit of tightness.", ""},
		{"Doctor: Do you get chest pain, or just tightness?\nPatient: Yes, the chest pain.", "confirmed"},
	}
	for _, tc := range cases {
		t.Run(tc.text, func(t *testing.T) {
			s := newSession(t)
			s.feed(tc.text)
			got := ""
			for _, it := range s.all("Condition") {
				c := resource[fhir.Condition](t, it)
				if c.Code.Coding[0].Code == "R07.9" {
					got = c.VerificationStatus.Coding[0].Code
				}
			}
			if got != tc.want {
				t.Errorf("chest pain: %q, want %q", got, tc.want)
			}
		})
	}
	// The answer may come in the next segment.
	s := newSession(t)
	s.feed("Doctor: Any fever?")
	items := s.feed("Patient: No.")
	if len(items) != 1 || !strings.Contains(string(items[0].Resource), `"refuted"`) {
		t.Errorf("answer in the next segment gave %v", ids(items))
	}
}
