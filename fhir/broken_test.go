package fhir

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// fakeTerminology knows a few ICD-10-CM and RxNorm codes.
type fakeTerminology struct{}

var fakeCodes = map[string]string{
	SystemICD10CM + "|I10":     "Essential (primary) hypertension",
	SystemICD10CM + "|R07.9":   "Chest pain, unspecified",
	SystemICD10CM + "|J18.9":   "Pneumonia, unspecified organism",
	SystemICD10CM + "|R50.9":   "Fever, unspecified",
	SystemICD10CM + "|I25.2":   "Old myocardial infarction",
	SystemICD10CM + "|Z87.891": "Personal history of nicotine dependence",
	SystemICD10CM + "|C50.919": "Malignant neoplasm of unspecified site of unspecified female breast",
	SystemRxNorm + "|860975":   "24 HR metformin hydrochloride 500 MG Extended Release Oral Tablet",
	SystemRxNorm + "|29046":    "lisinopril",
	SystemRxNorm + "|7804":     "oxycodone",
	SystemRxNorm + "|723":      "amoxicillin",
	SystemRxNorm + "|11124":    "vancomycin",
	SystemRxNorm + "|70618":    "penicillin",
}

func (fakeTerminology) KnowsSystem(system string) bool {
	return system == SystemICD10CM || system == SystemRxNorm || system == "http://example.org/broken-terminology"
}

func (fakeTerminology) Display(system, code string) (string, bool, error) {
	if system == "http://example.org/broken-terminology" {
		return "", false, errors.New("database closed")
	}
	d, ok := fakeCodes[system+"|"+code]
	return d, ok, nil
}

const (
	subject   = `"subject":{"reference":"Patient/p1"}`
	medCC     = `"medicationCodeableConcept":{"text":"aspirin"}`
	activeCS  = `"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active"}]}`
	confirmVS = `"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"confirmed"}]}`
)

func condition(extra string) string {
	return `{"resourceType":"Condition","id":"c1",` + subject + `,"code":{"text":"x"}` + extra + `}`
}

func medStatement(extra string) string {
	return `{"resourceType":"MedicationStatement","id":"m1","status":"active",` + medCC + `,` + subject + extra + `}`
}

func dosage(d string) string { return medStatement(`,"dosage":[` + d + `]`) }

func repeat(r string) string { return dosage(`{"timing":{"repeat":{` + r + `}}}`) }

func bundle(typ, entries string) string {
	return `{"resourceType":"Bundle","type":"` + typ + `","entry":[` + entries + `]}`
}

const patientEntry = `{"fullUrl":"urn:uuid:7f1c1e2a-0000-4000-8000-000000000001","resource":{"resourceType":"Patient","id":"p"},"request":{"method":"POST","url":"Patient"}}`

type brokenCase struct {
	name     string
	json     string
	severity string
	expr     string // FHIRPath expression of the expected issue ("" for none)
	msg      string // substring of the expected message
}

var brokenCases = []brokenCase{
	// Structure: what the strict parser refuses as well.
	{"unknown element", condition(`,"foo":1`), "error", "Condition.foo", "Unrecognized property 'foo'"},
	{"null value", condition(`,"onsetString":null`), "error", "Condition.onset.ofType(string)", "cannot be null"},
	{"empty object", condition(`,"severity":{}`), "error", "Condition.severity", "must have some content"},
	{"empty array", condition(`,"bodySite":[]`), "error", "Condition.bodySite", "cannot be empty"},
	{"array for a single value", condition(`,"severity":[{"text":"x"}]`), "error", "Condition.severity", "must not be an array"},
	{"single value for an array", condition(`,"bodySite":{"text":"x"}`), "error", "Condition.bodySite", "must be a JSON array"},
	{"number for a string", condition(`,"recordedDate":20200101`), "error", "Condition.recordedDate", "must be a string"},
	{"string for a boolean", dosage(`{"asNeededBoolean":"true"}`), "error", "MedicationStatement.dosage[0].asNeeded.ofType(boolean)", "must be a boolean"},
	{"string for a number", dosage(`{"sequence":"1"}`), "error", "MedicationStatement.dosage[0].sequence", "must be a number"},
	{"fraction for an integer", dosage(`{"sequence":1.5}`), "error", "MedicationStatement.dosage[0].sequence", "not a valid integer"},
	{"zero positiveInt", repeat(`"frequency":0,"period":1,"periodUnit":"d"`), "error", "MedicationStatement.dosage[0].timing.repeat.frequency", "positive integer"},
	{"two choice types", medStatement(`,"medicationReference":{"reference":"Medication/x"}`), "error", "MedicationStatement.medication.ofType(Reference)", "Only one of the medication[x]"},
	{"unknown resource type", `{"resourceType":"Condtion","id":"x"}`, "error", "Condtion", "Unknown resource type"},
	{"empty string", condition(`,"onsetString":""`), "error", "Condition.onset.ofType(string)", "Empty string"},
	{"empty string in a primitive array", repeat(`"when":["HS",""]`), "error", "MedicationStatement.dosage[0].timing.repeat.when[1]", "Empty string"},
	{"null in a primitive array", repeat(`"when":["HS",null]`), "error", "MedicationStatement.dosage[0].timing.repeat.when[1]", "Null values are only allowed"},
	// Primitive formats.
	{"bad month", condition(`,"recordedDate":"2020-13-01"`), "error", "Condition.recordedDate", "not a valid dateTime"},
	{"February 30", condition(`,"onsetDateTime":"2021-02-30"`), "error", "Condition.onset.ofType(dateTime)", "(day)"},
	{"time without zone", condition(`,"recordedDate":"2020-01-01T10:00:00"`), "error", "Condition.recordedDate", "must have a timezone"},
	{"id with a space", `{"resourceType":"Condition","id":"c 1",` + subject + `}`, "error", "Condition.id", "Invalid Resource id"},
	{"id too long", `{"resourceType":"Condition","id":"` + strings.Repeat("a", 65) + `",` + subject + `}`, "error", "Condition.id", "too long"},
	{"control character in a string", condition(`,"onsetString":"a\u0001b"`), "error", "Condition.onset.ofType(string)", "control character"},
	{"code with doubled space", repeat(`"when":["H  S"]`), "error", "MedicationStatement.dosage[0].timing.repeat.when[0]", "repeated whitespace"},
	{"uri with a space", condition(`,"implicitRules":"http://x y"`), "error", "Condition.implicitRules", "whitespace"},
	// Cardinality.
	{"Condition without subject", `{"resourceType":"Condition","id":"c1","code":{"text":"x"}}`, "error", "Condition", "Condition.subject: minimum required = 1"},
	{"MedicationStatement without status", `{"resourceType":"MedicationStatement",` + medCC + `,` + subject + `}`, "error", "MedicationStatement", "MedicationStatement.status: minimum required = 1"},
	{"MedicationStatement without medication", `{"resourceType":"MedicationStatement","status":"active",` + subject + `}`, "error", "MedicationStatement", "MedicationStatement.medication[x]: minimum required = 1"},
	{"Annotation without text", condition(`,"note":[{"authorString":"dr"}]`), "error", "Condition.note[0]", "Annotation.text: minimum required = 1"},
	{"FamilyMemberHistory without relationship", `{"resourceType":"FamilyMemberHistory","status":"completed","patient":{"reference":"Patient/p"}}`, "error", "FamilyMemberHistory", "FamilyMemberHistory.relationship: minimum required = 1"},
	{"comparator on a SimpleQuantity", dosage(`{"doseAndRate":[{"doseQuantity":{"value":1,"comparator":"<"}}]}`), "error", "MedicationStatement.dosage[0].doseAndRate[0].dose.ofType(Quantity)", "max allowed = 0"},
	// Bindings and codes.
	{"status not in the value set", `{"resourceType":"MedicationStatement","status":"taking",` + medCC + `,` + subject + `}`, "error", "MedicationStatement.status", "was not found in the value set"},
	{"clinicalStatus from another system", condition(`,"clinicalStatus":{"coding":[{"system":"http://snomed.info/sct","code":"55561003"}]}`), "error", "Condition.clinicalStatus", "None of the codings provided are in the value set 'Condition Clinical Status Codes'"},
	{"clinicalStatus without coding", condition(`,"clinicalStatus":{"text":"active"}`), "error", "Condition.clinicalStatus", "No code provided"},
	{"unknown code in a core code system", condition(`,"clinicalStatus":{"coding":[{"system":"http://hl7.org/fhir/ValueSet/condition-clinical-x","code":"active"}]}`), "error", "Condition.clinicalStatus.coding[0].system", "references a value set"},
	{"wrong display", condition(`,"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"active","display":"Ongoing"}]}`), "warning", "Condition.clinicalStatus.coding[0].display", "Wrong Display Name 'Ongoing'"},
	{"unknown code in a THO code system", condition(`,"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-clinical","code":"ongoing"}]}`), "warning", "Condition.clinicalStatus.coding[0].code", "Unknown code 'ongoing'"},
	{"unknown code in an HL7 code system", repeat(`"when":["HS"],"dayOfWeek":["monday"]`), "error", "MedicationStatement.dosage[0].timing.repeat.dayOfWeek[0]", "was not found in the value set 'DaysOfWeek'"},
	{"period unit not UCUM time", repeat(`"frequency":1,"period":1,"periodUnit":"day"`), "error", "MedicationStatement.dosage[0].timing.repeat.periodUnit", "UnitsOfTime"},
	{"extensible category", condition(`,` + activeCS + `,"category":[{"coding":[{"system":"http://snomed.info/sct","code":"439401001"}]}]`), "warning", "Condition.category[0]", "should come from this value set"},
	{"relative code system", condition(`,"severity":{"coding":[{"system":"severity","code":"mild"}]}`), "error", "Condition.severity.coding[0].system", "must be an absolute reference"},
	{"code without system", condition(`,"severity":{"coding":[{"code":"mild"}]}`), "warning", "Condition.severity.coding[0].code", "no system"},
	{"unknown ICD-10-CM code", condition(`,"bodySite":[{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"X99.999"}]}]`), "error", "Condition.bodySite[0].coding[0].code", "Unknown code 'X99.999'"},
	{"ICD-10-CM display differs", `{"resourceType":"Condition","id":"c1",` + subject + `,"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"I10","display":"High blood pressure"}]}}`, "warning", "Condition.code.coding[0].display", "Valid display is 'Essential (primary) hypertension'"},
	{"unknown RxNorm code", `{"resourceType":"MedicationStatement","status":"active","medicationCodeableConcept":{"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":"0000"}]},` + subject + `}`, "error", "MedicationStatement.medication.ofType(CodeableConcept).coding[0].code", "Unknown code '0000'"},
	{"unknown code system", condition(`,"severity":{"coding":[{"system":"http://example.org/sev","code":"mild"}]}`), "information", "Condition.severity.coding[0].system", "could not be found"},
	{"terminology failure", condition(`,"severity":{"coding":[{"system":"http://example.org/broken-terminology","code":"x"}]}`), "warning", "Condition.severity.coding[0].code", "lookup of http://example.org/broken-terminology#x failed"},
	// Invariants.
	{"con-3", condition(`,"category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-category","code":"problem-list-item"}]}]`), "warning", "Condition", "con-3"},
	{"con-4", condition(`,` + activeCS + `,"abatementDateTime":"2020"`), "error", "Condition", "con-4"},
	{"con-5", condition(`,` + activeCS + `,"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/condition-ver-status","code":"entered-in-error"}]}`), "error", "Condition", "con-5"},
	{"con-1", condition(`,"stage":[{"type":{"text":"x"}}]`), "error", "Condition.stage[0]", "con-1"},
	{"con-2", condition(`,"evidence":[{"id":"e1","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}]`), "error", "Condition.evidence[0]", "con-2"},
	{"tim-1", repeat(`"duration":1`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-1"},
	{"tim-2", repeat(`"period":8`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-2"},
	{"tim-4", repeat(`"duration":-1,"durationUnit":"h"`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-4"},
	{"tim-5", repeat(`"period":-8,"periodUnit":"h"`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-5"},
	{"tim-6", repeat(`"periodMax":6,"periodUnit":"h"`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-6"},
	{"tim-7", repeat(`"durationMax":6,"durationUnit":"h"`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-7"},
	{"tim-8", repeat(`"countMax":3`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-8"},
	{"tim-9", repeat(`"when":["C"],"offset":30`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-9"},
	{"tim-10", repeat(`"when":["HS"],"timeOfDay":["21:00:00"]`), "error", "MedicationStatement.dosage[0].timing.repeat", "tim-10"},
	{"qty-3", dosage(`{"doseAndRate":[{"doseQuantity":{"value":1,"code":"mg"}}]}`), "error", "MedicationStatement.dosage[0].doseAndRate[0].dose.ofType(Quantity)", "qty-3"},
	{"sqty-1", dosage(`{"maxDosePerAdministration":{"value":1,"comparator":">"}}`), "error", "MedicationStatement.dosage[0].maxDosePerAdministration", "sqty-1"},
	{"rng-2", dosage(`{"doseAndRate":[{"doseRange":{"low":{"value":10,"code":"mg","system":"http://unitsofmeasure.org"},"high":{"value":5,"code":"mg","system":"http://unitsofmeasure.org"}}}]}`), "error", "MedicationStatement.dosage[0].doseAndRate[0].dose.ofType(Range)", "rng-2"},
	{"rat-1", dosage(`{"maxDosePerPeriod":{"numerator":{"value":4}}}`), "error", "MedicationStatement.dosage[0].maxDosePerPeriod", "rat-1"},
	{"per-1", medStatement(`,"effectivePeriod":{"start":"2021-05-01","end":"2020-01-01"}`), "error", "MedicationStatement.effective.ofType(Period)", "per-1"},
	{"ele-1", condition(`,"severity":{"id":"s1"}`), "error", "Condition.severity", "ele-1"},
	{"ext-1", condition(`,"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown","extension":[{"url":"x","valueString":"y"}]}]`), "error", "Condition.extension[0]", "ext-1"},
	{"ait-1", `{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p"},"verificationStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-verification","code":"confirmed"}]}}`, "error", "AllergyIntolerance", "ait-1"},
	{"fhs-1", `{"resourceType":"FamilyMemberHistory","status":"completed","patient":{"reference":"Patient/p"},"relationship":{"text":"mother"},"bornDate":"1950","ageString":"70"}`, "error", "FamilyMemberHistory", "fhs-1"},
	{"dom-3", condition(`,"contained":[{"resourceType":"Practitioner","id":"pr1"}]`), "error", "Condition.contained[0]", "dom-3"},
	{"dom-6", condition(``), "warning", "Condition", "dom-6"},
	{"ref-1", condition(`,"asserter":{"reference":"#nobody"}`), "error", "Condition.asserter", "ref-1"},
	{"txt-1", `{"resourceType":"Condition",` + subject + `,"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"><script>x()</script></div>"}}`, "error", "Condition.text.div", "txt-1"},
	{"txt-2", `{"resourceType":"Condition",` + subject + `,"text":{"status":"generated","div":"<div xmlns=\"http://www.w3.org/1999/xhtml\"> </div>"}}`, "error", "Condition.text.div", "txt-2"},
	{"narrative outside XHTML", `{"resourceType":"Condition",` + subject + `,"text":{"status":"generated","div":"<div>plain</div>"}}`, "error", "Condition.text.div", "XHTML namespace"},
	// Extensions.
	{"unknown extension", condition(`,"extension":[{"url":"http://example.org/x","valueString":"y"}]`), "error", "Condition.extension[0]", "could not be found"},
	{"extension value type", `{"resourceType":"Patient","birthDate":"1970-01-01","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueString":"noon"}]}}`, "error", "Patient.birthDate.extension[0]", "allows for the types [dateTime]"},
	{"extension context", condition(`,"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"2020-01-01T00:00:00Z"}]`), "error", "Condition.extension[0]", "not allowed to be used at this point"},
	{"code with only a data-absent-reason", `{"resourceType":"AllergyIntolerance","patient":{"reference":"Patient/p"},` + `"clinicalStatus":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical","code":"active"}]},"_category":[{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}]}`, "error", "AllergyIntolerance.category[0]", "No code provided"},
	// References.
	{"reference to a wrong type", `{"resourceType":"Condition",` + `"subject":{"reference":"Practitioner/1"}}`, "error", "Condition.subject", "not a valid Target"},
	{"malformed relative reference", `{"resourceType":"Condition",` + `"subject":{"reference":"Patient"}}`, "error", "Condition.subject", "Relative URLs must be of the format"},
	{"contained reference to a wrong type", `{"resourceType":"Condition","contained":[{"resourceType":"Practitioner","id":"pr"}],"subject":{"reference":"#pr"}}`, "error", "Condition.subject", "is not a valid Target"},
	// Bundles.
	{"transaction entry without request", bundle("transaction", `{"fullUrl":"urn:uuid:7f1c1e2a-0000-4000-8000-000000000001","resource":{"resourceType":"Patient"}}`), "error", "Bundle", "bdl-3"},
	{"request in a collection", bundle("collection", patientEntry), "error", "Bundle", "bdl-3"},
	{"total on a transaction", `{"resourceType":"Bundle","type":"transaction","total":1}`, "error", "Bundle", "bdl-1"},
	{"relative fullUrl", bundle("collection", `{"fullUrl":"Patient/p","resource":{"resourceType":"Patient","id":"p"}}`), "error", "Bundle.entry[0].fullUrl", "must be an absolute URL"},
	{"duplicate fullUrl", bundle("transaction", patientEntry+","+patientEntry), "error", "Bundle", "bdl-7"},
	{"fullUrl with a version", bundle("collection", `{"fullUrl":"http://x/Patient/p/_history/1","resource":{"resourceType":"Patient","id":"p"}}`), "error", "Bundle.entry[0]", "bdl-8"},
	{"fullUrl id mismatch", bundle("collection", `{"fullUrl":"http://x/Patient/p","resource":{"resourceType":"Patient","id":"q"}}`), "error", "Bundle.entry[0].fullUrl", "does not match"},
	{"unresolved urn reference", bundle("transaction", `{"fullUrl":"urn:uuid:7f1c1e2a-0000-4000-8000-000000000002","resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:7f1c1e2a-0000-4000-8000-00000000dead"}},"request":{"method":"POST","url":"Condition"}}`), "warning", "Bundle.entry[0].resource.subject", "not locally contained"},
	{"resolved reference of a wrong type", bundle("transaction", `{"fullUrl":"urn:uuid:7f1c1e2a-0000-4000-8000-000000000002","resource":{"resourceType":"Condition","subject":{"reference":"urn:uuid:7f1c1e2a-0000-4000-8000-000000000003"}},"request":{"method":"POST","url":"Condition"}},{"fullUrl":"urn:uuid:7f1c1e2a-0000-4000-8000-000000000003","resource":{"resourceType":"Device"},"request":{"method":"POST","url":"Device"}}`), "error", "Bundle.entry[0].resource.subject", "implied by the reference URL"},
	{"bad request method", bundle("transaction", `{"fullUrl":"urn:uuid:7f1c1e2a-0000-4000-8000-000000000001","resource":{"resourceType":"Patient"},"request":{"method":"FETCH","url":"Patient"}}`), "error", "Bundle.entry[0].request.method", "HTTPVerb"},
}

// TestBrokenResources checks that each deliberately broken resource yields the expected
// issue at the expected FHIRPath expression.
func TestBrokenResources(t *testing.T) {
	t.Parallel()
	if len(brokenCases) < 40 {
		t.Fatalf("only %d broken cases", len(brokenCases))
	}
	v := &Validator{Terminology: fakeTerminology{}}
	for _, tc := range brokenCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if !json.Valid([]byte(tc.json)) {
				t.Fatalf("test input is not JSON: %s", tc.json)
			}
			oo := v.ValidateJSON([]byte(tc.json))
			for _, is := range oo.Issue {
				expr := ""
				if len(is.Expression) > 0 {
					expr = is.Expression[0]
				}
				if is.Severity == tc.severity && expr == tc.expr && strings.Contains(is.Details.Text, tc.msg) {
					return
				}
			}
			out, _ := json.MarshalIndent(oo.Issue, "", " ")
			t.Errorf("no %s at %s containing %q; got:\n%s", tc.severity, tc.expr, tc.msg, out)
		})
	}
}

// TestBrokenBasesAreValid makes sure the broken cases fail for their own reason: the
// resources they start from validate without errors.
func TestBrokenBasesAreValid(t *testing.T) {
	t.Parallel()
	v := &Validator{Terminology: fakeTerminology{}}
	for _, base := range []string{condition(``), medStatement(``), bundle("transaction", patientEntry),
		dosage(`{"timing":{"repeat":{"frequency":1,"period":8,"periodUnit":"h"}}}`)} {
		if oo := v.ValidateJSON([]byte(base)); oo.HasErrors() {
			out, _ := json.Marshal(oo.Issue)
			t.Errorf("base %s has errors: %s", base, out)
		}
	}
}
