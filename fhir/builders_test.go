package fhir

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/golden")

var testRecorded = time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)

func testContext() BuildContext {
	return BuildContext{Subject: PlaceholderPatientReference("session-1"), Recorded: testRecorded}
}

// golden checks that r validates cleanly and compares it with testdata/golden/name
// (indented JSON), or rewrites that file with -update.
func golden(t *testing.T, name string, r Resource) {
	t.Helper()
	assertValid(t, r)
	got, err := MarshalIndent(r, "", "  ")
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from golden:\n%s", name, got)
	}
}

// assertValid fails unless r validates without errors or warnings, and checks that
// validating the value and validating its JSON agree.
func assertValid(t *testing.T, r Resource) {
	t.Helper()
	oo := Validate(r, fakeTerminology{})
	if oo.Count(SeverityError) > 0 || oo.Count(SeverityWarning) > 0 {
		out, _ := json.MarshalIndent(oo.Issue, "", " ")
		t.Errorf("%s does not validate cleanly:\n%s", r.ResourceType(), out)
	}
	data, err := Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if oo2 := ValidateJSON(data, fakeTerminology{}); !reflect.DeepEqual(oo, oo2) {
		t.Errorf("Validate and ValidateJSON(Marshal) differ:\n%+v\n%+v", oo.Issue, oo2.Issue)
	}
}

// assertFHIRShape fails on JSON that FHIR forbids: null, "", {} or [].
func assertFHIRShape(t *testing.T, data []byte) {
	t.Helper()
	var v any
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatalf("invalid JSON: %v", err)
	}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch x := v.(type) {
		case nil:
			t.Errorf("%s: null", path)
		case string:
			if x == "" {
				t.Errorf("%s: empty string", path)
			}
		case map[string]any:
			if len(x) == 0 {
				t.Errorf("%s: empty object", path)
			}
			for k, c := range x {
				walk(path+"."+k, c)
			}
		case []any:
			if len(x) == 0 {
				t.Errorf("%s: empty array", path)
			}
			for _, c := range x {
				walk(path+"[]", c)
			}
		}
	}
	walk("$", v)
}

func TestMedicationStatementGolden(t *testing.T) {
	t.Parallel()
	rx := Coding{System: SystemRxNorm, Code: "860975", Display: "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet"}
	tests := []struct {
		name string
		item MedicationItem
	}{
		{"medication-bid.json", MedicationItem{ID: "med-1", Text: "metformin 500 mg by mouth twice daily", Code: rx,
			Name: "metformin", Dose: Dose{Value: "500", Unit: "mg"}, Route: "by mouth", Frequency: Frequency{Code: "b.i.d."}}},
		{"medication-prn-range.json", MedicationItem{ID: "med-2", Text: "oxycodone 5 to 10 mg every 4 to 6 hours as needed for pain",
			Code: Coding{Code: "7804", Display: "oxycodone"}, Dose: Dose{Low: "5", High: "10", Unit: "milligrams"},
			Frequency: Frequency{Code: "q4-6h"}, AsNeededFor: "pain", Status: "active"}},
		{"medication-course.json", MedicationItem{ID: "med-3", Text: "amoxicillin one capsule three times a day for 7 days",
			Code: Coding{Code: "723", Display: "amoxicillin"}, Dose: Dose{Value: "1", Unit: "capsule"}, Route: "oral",
			Frequency: Frequency{Times: 3, Period: "1", PeriodUnit: "day"}, Duration: Amount{Value: "7", Unit: "days"}, Status: "intended"}},
		{"medication-bedtime-inhaled.json", MedicationItem{ID: "med-4", Text: "two puffs at bedtime",
			Name: "fluticasone inhaler", Dose: Dose{Value: "2", Unit: "puffs"}, Route: "inhaled", Frequency: Frequency{Code: "qhs"}}},
		{"medication-uncoded-stopped.json", MedicationItem{ID: "item/5 with spaces", Text: "stopped the fish oil",
			Name: "fish oil", Status: "stopped", Note: "stopped by patient"}},
		{"medication-q12h-unknown-route.json", MedicationItem{ID: "med-6", Text: "vancomycin 1 g via port every 12 hours",
			Code: Coding{Code: "11124"}, Name: "vancomycin", Dose: Dose{Value: "1", Unit: "g"}, Route: "via port",
			Frequency: Frequency{Code: "Q12H"}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ms, err := NewMedicationStatement(tc.item, testContext())
			if err != nil {
				t.Fatal(err)
			}
			data, err := Marshal(ms)
			if err != nil {
				t.Fatal(err)
			}
			assertFHIRShape(t, data)
			golden(t, tc.name, ms)
		})
	}
}

func TestConditionGolden(t *testing.T) {
	t.Parallel()
	htn := Coding{System: SystemICD10CM, Code: "I10", Display: "Essential (primary) hypertension"}
	tests := []struct {
		name             string
		item             ConditionItem
		clinical, verify string
	}{
		{"condition-present.json", ConditionItem{ID: "c1", Text: "hypertension", Code: htn, Kind: "problem", Onset: "2019"}, "active", "confirmed"},
		{"condition-negated.json", ConditionItem{ID: "c2", Text: "denies chest pain", Name: "chest pain",
			Code: Coding{Code: "R07.9", Display: "Chest pain, unspecified"}, Assertion: AssertionNegated, Kind: "problem"}, "", "refuted"},
		{"condition-possible.json", ConditionItem{ID: "c3", Text: "possible pneumonia", Name: "pneumonia",
			Code: Coding{Code: "J18.9", Display: "Pneumonia, unspecified organism"}, Assertion: AssertionPossible}, "active", "provisional"},
		{"condition-hypothetical.json", ConditionItem{ID: "c4", Text: "return if fever develops", Name: "fever",
			Code: Coding{Code: "R50.9", Display: "Fever, unspecified"}, Assertion: AssertionHypothetical}, "", "unconfirmed"},
		{"condition-historical.json", ConditionItem{ID: "c5", Text: "history of myocardial infarction", Name: "old MI",
			Code: Coding{Code: "I25.2", Display: "Old myocardial infarction"}, Assertion: AssertionHistorical, Onset: "three years ago"}, "resolved", "confirmed"},
		{"condition-historical-inactive.json", ConditionItem{ID: "c6", Text: "former smoker", Name: "former smoker",
			Code: Coding{Code: "Z87.891", Display: "Personal history of nicotine dependence"}, Assertion: AssertionHistorical,
			ClinicalStatus: "inactive"}, "inactive", "confirmed"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c, err := NewCondition(tc.item, testContext())
			if err != nil {
				t.Fatal(err)
			}
			gotClinical := ""
			if c.ClinicalStatus != nil {
				gotClinical = c.ClinicalStatus.Coding[0].Code
			}
			if gotClinical != tc.clinical || c.VerificationStatus.Coding[0].Code != tc.verify {
				t.Errorf("status = %q/%q, want %q/%q", gotClinical, c.VerificationStatus.Coding[0].Code, tc.clinical, tc.verify)
			}
			data, err := Marshal(c)
			if err != nil {
				t.Fatal(err)
			}
			assertFHIRShape(t, data)
			golden(t, tc.name, c)
		})
	}
}

func TestFamilyAndAllergyGolden(t *testing.T) {
	t.Parallel()
	f, err := NewFamilyMemberHistory(FamilyHistoryItem{ID: "f1", Text: "mother had breast cancer", Relationship: "Mother",
		Code: Coding{Code: "C50.919", Display: "Malignant neoplasm of unspecified site of unspecified female breast"}, Name: "breast cancer"}, testContext())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "family-mother.json", f)
	if got := f.Relationship.Coding[0].Code; got != "MTH" {
		t.Errorf("relationship = %s, want MTH", got)
	}
	u, err := NewFamilyMemberHistory(FamilyHistoryItem{ID: "f2", Relationship: "godmother", Name: "diabetes"}, testContext())
	if err != nil {
		t.Fatal(err)
	}
	if got := u.Relationship.Coding[0].Code; got != "FAMMEMB" || u.Relationship.Text != "godmother" {
		t.Errorf("unknown relative = %s %q, want FAMMEMB with the word as text", got, u.Relationship.Text)
	}
	a, err := NewAllergyIntolerance(AllergyItem{ID: "a1", Text: "allergic to penicillin, gets hives", Name: "penicillin",
		Code: Coding{Code: "70618", Display: "penicillin"}, Reactions: []string{"hives"}, Type: "allergy"}, testContext())
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "allergy-penicillin.json", a)
	if len(a.Category) != 1 || a.Category[0] != "medication" {
		t.Errorf("category = %v, want [medication] for an RxNorm-coded allergy", a.Category)
	}
}

func TestSessionBundleGolden(t *testing.T) {
	t.Parallel()
	bc := testContext()
	ms, err := NewMedicationStatement(MedicationItem{ID: "med-1", Name: "lisinopril", Code: Coding{Code: "29046", Display: "lisinopril"},
		Dose: Dose{Value: "10", Unit: "mg"}, Frequency: Frequency{Code: "daily"}}, bc)
	if err != nil {
		t.Fatal(err)
	}
	c, err := NewCondition(ConditionItem{ID: "c1", Code: Coding{Code: "I10", Display: "Essential (primary) hypertension"}}, bc)
	if err != nil {
		t.Fatal(err)
	}
	// A reference between two session resources must be rewritten to the fullUrl.
	c.Evidence = []ConditionEvidence{{Detail: []Reference{{Reference: "MedicationStatement/med-1"}}}}
	session := Session{ID: "session-1", Recorded: testRecorded, Version: "0.1.0",
		Models: []ModelVersion{{Role: "speech", Name: "ggml-base.en"}, {Role: "extraction", Name: "deterministic"}}}
	b, err := NewSessionBundle(session, []Resource{ms, c})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "bundle-placeholder-patient.json", b)
	data, err := Marshal(b)
	if err != nil {
		t.Fatal(err)
	}
	assertFHIRShape(t, data)
	if c.Evidence[0].Detail[0].Reference != "MedicationStatement/med-1" {
		t.Error("NewSessionBundle changed the caller's resource")
	}
	cond := b.Entry[3].Resource.(*Condition)
	if got, want := cond.Evidence[0].Detail[0].Reference, b.Entry[2].FullURL; got != want {
		t.Errorf("reference not rewritten: %s, want %s", got, want)
	}
	if got, want := cond.Subject.Reference, b.Entry[0].FullURL; got != want {
		t.Errorf("subject %s, want the placeholder patient %s", got, want)
	}

	// With a known patient: no placeholder entry; resources without a subject get it.
	noSubject := *ms
	noSubject.Subject = nil
	patient := Reference{Reference: "Patient/123", Display: "Test Patient"}
	session.Patient = &patient
	b2, err := NewSessionBundle(session, []Resource{&noSubject})
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "bundle-known-patient.json", b2)
	if got := b2.Entry[1].Resource.(*MedicationStatement).Subject.Reference; got != "Patient/123" {
		t.Errorf("subject = %s, want Patient/123", got)
	}
	if b2.Entry[0].Resource.ResourceType() != "Device" {
		t.Errorf("first entry = %s, want Device (no placeholder patient)", b2.Entry[0].Resource.ResourceType())
	}
}

func TestBuilderErrors(t *testing.T) {
	t.Parallel()
	bc := testContext()
	tests := []struct {
		name  string
		build func() error
		want  error
	}{
		{"family assertion", func() error {
			_, err := NewCondition(ConditionItem{ID: "x", Name: "CHF", Assertion: AssertionFamily}, bc)
			return err
		}, ErrFamilyAssertion},
		{"unknown assertion", func() error {
			_, err := NewCondition(ConditionItem{ID: "x", Name: "CHF", Assertion: "maybe"}, bc)
			return err
		}, ErrInvalidItem},
		{"status for refuted", func() error {
			_, err := NewCondition(ConditionItem{ID: "x", Name: "CHF", Assertion: AssertionNegated, ClinicalStatus: "active"}, bc)
			return err
		}, ErrInvalidItem},
		{"empty id", func() error {
			_, err := NewMedicationStatement(MedicationItem{Name: "aspirin"}, bc)
			return err
		}, ErrInvalidItem},
		{"bad status", func() error {
			_, err := NewMedicationStatement(MedicationItem{ID: "m", Name: "aspirin", Status: "taking"}, bc)
			return err
		}, ErrInvalidItem},
		{"bad dose", func() error {
			_, err := NewMedicationStatement(MedicationItem{ID: "m", Name: "aspirin", Dose: Dose{Value: "one"}}, bc)
			return err
		}, ErrInvalidItem},
		{"reversed range", func() error {
			_, err := NewMedicationStatement(MedicationItem{ID: "m", Name: "aspirin", Dose: Dose{Low: "10", High: "5"}}, bc)
			return err
		}, ErrInvalidItem},
		{"value and range", func() error {
			_, err := NewMedicationStatement(MedicationItem{ID: "m", Name: "aspirin", Dose: Dose{Value: "1", Low: "10"}}, bc)
			return err
		}, ErrInvalidItem},
		{"period without unit", func() error {
			_, err := NewMedicationStatement(MedicationItem{ID: "m", Name: "aspirin", Frequency: Frequency{Period: "8"}}, bc)
			return err
		}, ErrInvalidItem},
		{"bad duration unit", func() error {
			_, err := NewMedicationStatement(MedicationItem{ID: "m", Name: "aspirin", Duration: Amount{Value: "3", Unit: "fortnights"}}, bc)
			return err
		}, ErrInvalidItem},
		{"nothing to name it", func() error {
			_, err := NewMedicationStatement(MedicationItem{ID: "m"}, bc)
			return err
		}, ErrInvalidItem},
		{"allergy type", func() error {
			_, err := NewAllergyIntolerance(AllergyItem{ID: "a", Name: "peanut", Type: "sensitivity"}, bc)
			return err
		}, ErrInvalidItem},
		{"session without id", func() error {
			_, err := NewSessionBundle(Session{Recorded: testRecorded}, nil)
			return err
		}, ErrInvalidSession},
		{"session without time", func() error {
			_, err := NewSessionBundle(Session{ID: "s"}, nil)
			return err
		}, ErrInvalidSession},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if err := tc.build(); !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
		})
	}
}

func TestResourceID(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("a", 80)
	id1, _ := resourceID("x", long)
	id2, _ := resourceID("x", long+"b")
	if len(id1) != 64 || id1 == id2 || checkID(id1) != "" {
		t.Errorf("long ids: %q %q", id1, id2)
	}
	if id, _ := resourceID("x", "a b/c"); id != "a-b-c" {
		t.Errorf("got %q", id)
	}
}

func TestSigText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		item MedicationItem
		want string
	}{
		{MedicationItem{Dose: Dose{Value: "500", Unit: "mg"}, Route: "po", Frequency: Frequency{Code: "BID"}}, "500 mg by mouth twice a day"},
		{MedicationItem{Dose: Dose{Value: "1", Unit: "tab"}, Frequency: Frequency{Code: "QD"}}, "1 tablet once a day"},
		{MedicationItem{Dose: Dose{Value: "2", Unit: "tablets"}, Frequency: Frequency{Code: "q6h"}, AsNeeded: true}, "2 tablets every 6 hours as needed"},
		{MedicationItem{Dose: Dose{Low: "5", High: "10", Unit: "mg"}, Frequency: Frequency{Code: "q4-6h"}, AsNeededFor: "for pain"}, "5 to 10 mg every 4 to 6 hours as needed for pain"},
		{MedicationItem{Frequency: Frequency{Times: 1, Period: "8", PeriodUnit: "hours"}}, "every 8 hours"},
		{MedicationItem{Frequency: Frequency{Times: 2, Period: "1", PeriodUnit: "wk"}}, "twice a week"},
		{MedicationItem{Frequency: Frequency{When: []string{"c"}}}, "with meals"},
		{MedicationItem{Frequency: Frequency{Count: 1}}, "once only"},
		{MedicationItem{Dose: Dose{Value: "10", Unit: "units"}, Route: "subq", Frequency: Frequency{Code: "HS"}}, "10 units subcutaneously at bedtime"},
		{MedicationItem{Frequency: Frequency{Code: "every morning"}}, "every morning"},
		{MedicationItem{SigText: "as directed"}, "as directed"},
	}
	for _, tc := range tests {
		d, err := NewDosage(tc.item)
		if err != nil {
			t.Errorf("%+v: %v", tc.item, err)
			continue
		}
		if d == nil || d.Text != tc.want {
			t.Errorf("%+v: text = %v, want %q", tc.item, d, tc.want)
		}
	}
	if d, err := NewDosage(MedicationItem{Name: "x"}); d != nil || err != nil {
		t.Errorf("no sig: got %v, %v; want nil, nil", d, err)
	}
}

// sampleResources builds one of everything the builders make, for the schema and
// fuzz tests: each kind of medication sig, every condition assertion, family history,
// an allergy and both kinds of session Bundle.
func sampleResources(t testing.TB) []Resource {
	t.Helper()
	bc := testContext()
	var out []Resource
	add := func(r Resource, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	meds := []MedicationItem{
		{ID: "m1", Name: "metformin", Code: Coding{Code: "860975"}, Dose: Dose{Value: "500", Unit: "mg"}, Route: "po", Frequency: Frequency{Code: "BID"}},
		{ID: "m2", Name: "oxycodone", Dose: Dose{Low: "5", High: "10", Unit: "mg"}, Frequency: Frequency{Code: "q4-6h"}, AsNeededFor: "pain"},
		{ID: "m3", Name: "amoxicillin", Dose: Dose{Value: "1", Unit: "capsule"}, Frequency: Frequency{Times: 3, Period: "1", PeriodUnit: "d"}, Duration: Amount{Value: "7", Unit: "days"}, Status: "intended"},
		{ID: "m4", Name: "insulin glargine", Dose: Dose{Value: "10", Unit: "units"}, Route: "subq", Frequency: Frequency{Code: "HS"}},
		{ID: "m5", Name: "albuterol", Dose: Dose{Value: "2", Unit: "puffs"}, Route: "inhaled", Frequency: Frequency{Code: "Q6H"}, AsNeeded: true},
		{ID: "m6", Name: "ceftriaxone", Dose: Dose{Value: "1", Unit: "g"}, Route: "IV", Frequency: Frequency{Count: 1}, Status: "completed"},
		{ID: "m7", Name: "aspirin", Frequency: Frequency{When: []string{"C", "HS"}}, Status: "not-taken"},
		{ID: "m8", Name: "fish oil", Status: "stopped", Note: "stopped"},
		{ID: "m9", Name: "timolol", Dose: Dose{Value: "1", Unit: "drop"}, Route: "in each eye", Frequency: Frequency{Code: "q12h"}},
		{ID: "m10", Name: "methotrexate", Dose: Dose{Value: "15", Unit: "mg"}, Frequency: Frequency{Code: "weekly"}, Status: "on-hold"},
	}
	for _, m := range meds {
		add(NewMedicationStatement(m, bc))
	}
	for i, a := range []string{"", AssertionPresent, AssertionNegated, AssertionPossible, AssertionHypothetical, AssertionHistorical} {
		add(NewCondition(ConditionItem{ID: "c" + string(rune('a'+i)), Name: "hypertension", Code: Coding{Code: "I10"}, Assertion: a, Kind: "problem", Onset: "2019-05"}, bc))
	}
	add(NewFamilyMemberHistory(FamilyHistoryItem{ID: "f1", Relationship: "maternal grandmother", Name: "stroke"}, bc))
	add(NewAllergyIntolerance(AllergyItem{ID: "a1", Name: "peanut", Category: "food", Type: "allergy", Reactions: []string{"anaphylaxis"}}, bc))
	clinical := append([]Resource(nil), out...)
	add(NewSessionBundle(Session{ID: "session-1", Recorded: testRecorded, Version: "1.0", Models: []ModelVersion{{"speech", "whisper"}}}, clinical))
	add(NewSessionBundle(Session{ID: "session-1", Recorded: testRecorded, Patient: &Reference{Reference: "Patient/9"}}, clinical[:2]))
	add(NewSessionBundle(Session{ID: "session-2", Recorded: testRecorded}, nil))
	return out
}

// TestSampleResourcesValidate checks that everything the builders make validates
// without errors or warnings.
func TestSampleResourcesValidate(t *testing.T) {
	t.Parallel()
	for _, r := range sampleResources(t) {
		assertValid(t, r)
	}
}
