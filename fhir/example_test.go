package fhir_test

import (
	"fmt"
	"time"

	"github.com/medscribe/medscribe/fhir"
)

// A medication as an extractor hands it over, built into a MedicationStatement and
// validated. Without a terminology the RxNorm and SNOMED CT codes are reported as not
// checked (information), nothing worse.
func ExampleNewMedicationStatement() {
	bc := fhir.BuildContext{
		Subject:  fhir.PlaceholderPatientReference("session-42"),
		Recorded: time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC),
	}
	ms, err := fhir.NewMedicationStatement(fhir.MedicationItem{
		ID:        "med-1",
		Text:      "lisinopril 10 mg by mouth daily",
		Code:      fhir.Coding{System: fhir.SystemRxNorm, Code: "29046", Display: "lisinopril"},
		Dose:      fhir.Dose{Value: "10", Unit: "mg"},
		Route:     "by mouth",
		Frequency: fhir.Frequency{Code: "daily"},
	}, bc)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(ms.Dosage[0].Text)
	oo := fhir.Validate(ms, nil)
	fmt.Println("errors:", oo.Count(fhir.SeverityError), "warnings:", oo.Count(fhir.SeverityWarning))
	for _, is := range oo.Issue {
		fmt.Println(is.Severity, is.Expression[0])
	}
	// Output:
	// 10 mg by mouth once a day
	// errors: 0 warnings: 0
	// information MedicationStatement.medication.ofType(CodeableConcept).coding[0].system
	// information MedicationStatement.dosage[0].route.coding[0].system
}

// A broken resource: each issue says where, in FHIRPath.
func ExampleValidateJSON() {
	oo := fhir.ValidateJSON([]byte(`{"resourceType":"Condition","clinicalStatus":{"text":"active"},
		"onsetDateTime":"2020-01-01T10:00"}`), nil)
	for _, is := range oo.Issue {
		fmt.Printf("%s %s %s\n", is.Severity, is.Code, is.Expression[0])
	}
	// Output:
	// error code-invalid Condition.clinicalStatus
	// error invalid Condition.onset.ofType(dateTime)
	// error structure Condition
	// warning invariant Condition
}

// A session's items in one transaction Bundle, ready to POST to a FHIR server.
func ExampleNewSessionBundle() {
	recorded := time.Date(2025, 3, 4, 10, 30, 0, 0, time.UTC)
	bc := fhir.BuildContext{Subject: fhir.PlaceholderPatientReference("session-42"), Recorded: recorded}
	c, err := fhir.NewCondition(fhir.ConditionItem{ID: "c1", Text: "denies chest pain", Name: "chest pain",
		Code: fhir.Coding{Code: "R07.9"}, Assertion: fhir.AssertionNegated}, bc)
	if err != nil {
		fmt.Println(err)
		return
	}
	b, err := fhir.NewSessionBundle(fhir.Session{ID: "session-42", Recorded: recorded, Version: "0.1.0",
		Models: []fhir.ModelVersion{{Role: "speech", Name: "ggml-base.en"}}}, []fhir.Resource{c})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, e := range b.Entry {
		fmt.Println(e.Request.Method, e.Request.URL)
	}
	fmt.Println(fhir.Validate(b, nil).HasErrors())
	// Output:
	// POST Patient
	// POST Device
	// POST Condition
	// POST Provenance
	// false
}
