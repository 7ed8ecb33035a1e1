package fhir

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

func TestParseErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, in, path, msg string
	}{
		{"syntax", `{"resourceType":"Condition",}`, "", "property name expected"},
		{"duplicate key", `{"resourceType":"Condition","id":"a","id":"b"}`, "", "duplicate property name"},
		{"trailing data", `{"resourceType":"Condition"} x`, "", "after the top-level value"},
		{"bad escape", `{"resourceType":"Condition","id":"\q"}`, "", "invalid escape"},
		{"lone surrogate", `{"resourceType":"Condition","id":"\ud800"}`, "", "surrogate"},
		{"invalid UTF-8", "{\"resourceType\":\"Condition\",\"id\":\"\xff\"}", "", "UTF-8"},
		{"leading zero", `{"resourceType":"Condition","x":01}`, "", "expected in object"},
		{"not an object", `[1]`, "", "must be a JSON object"},
		{"no resourceType", `{"id":"x"}`, "", "resourceType"},
		{"unknown element", `{"resourceType":"Condition","subject":{"reference":"Patient/1","foo":true}}`, "Condition.subject.foo", "Unrecognized property 'foo'"},
		{"null", `{"resourceType":"Condition","code":null}`, "Condition.code", "cannot be null"},
		{"empty object", `{"resourceType":"Condition","code":{}}`, "Condition.code", "some content"},
		{"empty array", `{"resourceType":"Condition","note":[]}`, "Condition.note", "cannot be empty"},
		{"empty string", `{"resourceType":"Patient","name":[{"given":["","0"]}]}`, "Patient.name[0].given[0]", "Empty string"},
		{"wrong kind", `{"resourceType":"MedicationStatement","status":1}`, "MedicationStatement.status", "must be a string"},
		{"array for single", `{"resourceType":"MedicationStatement","status":["active"]}`, "MedicationStatement.status", "must not be an array"},
		{"decimal as string", `{"resourceType":"MedicationStatement","dosage":[{"doseAndRate":[{"doseQuantity":{"value":"5"}}]}]}`, "MedicationStatement.dosage[0].doseAndRate[0].dose.ofType(Quantity).value", "must be a number"},
		{"integer overflow", `{"resourceType":"MedicationStatement","dosage":[{"sequence":3000000000}]}`, "MedicationStatement.dosage[0].sequence", "32-bit"},
		{"nested resource", `{"resourceType":"Bundle","entry":[{"resource":{"resourceType":"Condition","bogus":1}}]}`, "Bundle.entry[0].resource.bogus", "Unrecognized"},
		{"unknown resource type", `{"resourceType":"Nonsense"}`, "Nonsense", "Unknown resource type"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tc.in))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want *ParseError", err)
			}
			for _, is := range pe.Issues {
				if is.Path == tc.path && strings.Contains(is.Message, tc.msg) {
					return
				}
			}
			t.Errorf("no issue at %q containing %q: %+v", tc.path, tc.msg, pe.Issues)
		})
	}
}

func TestParseAccepts(t *testing.T) {
	t.Parallel()
	// Validation problems are not parse errors: this parses, then fails validation.
	in := []byte(`{"resourceType":"MedicationStatement","status":"taking","medicationCodeableConcept":{"text":"x"}}`)
	ms, err := ParseMedicationStatement(in)
	if err != nil {
		t.Fatal(err)
	}
	if ms.Status != "taking" || ms.MedicationCodeableConcept.Text != "x" {
		t.Errorf("decoded %+v", ms)
	}
	if oo := Validate(ms, nil); !oo.HasErrors() {
		t.Error("validation accepted an unknown status and a missing subject")
	}
	// Unmodelled resources come back raw and survive a round trip.
	raw := `{"resourceType":"Observation","status":"final","code":{"text":"bp"}}`
	r, err := Parse([]byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if rr, ok := r.(*RawResource); !ok || rr.Type != "Observation" {
		t.Fatalf("got %T", r)
	}
	out, err := Marshal(r)
	if err != nil || string(out) != raw {
		t.Errorf("raw round trip: %s, %v", out, err)
	}
	// Primitive extensions with nulls in arrays decode and re-encode aligned.
	pat := `{"resourceType":"Patient","name":[{"given":["Ann",null],"_given":[null,{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}]}]}`
	p, err := ParsePatient([]byte(pat))
	if err != nil {
		t.Fatal(err)
	}
	if out, _ := Marshal(p); string(out) != pat {
		t.Errorf("primitive extensions: %s", out)
	}
}

func TestParseWrongType(t *testing.T) {
	t.Parallel()
	_, err := ParseCondition([]byte(`{"resourceType":"Patient"}`))
	var pe *ParseError
	if !errors.As(err, &pe) || !strings.Contains(pe.Error(), "expected 'Condition'") {
		t.Errorf("err = %v", err)
	}
}

func TestEncodingJSONInterop(t *testing.T) {
	t.Parallel()
	// json.Unmarshal into the generated types is strict too.
	var c Condition
	if err := json.Unmarshal([]byte(`{"resourceType":"Condition","foo":1}`), &c); err == nil {
		t.Error("json.Unmarshal accepted an unknown property")
	}
	var d Dosage
	if err := json.Unmarshal([]byte(`{"text":"1 tab","timing":{"code":{"text":"BID"}}}`), &d); err != nil || d.Timing.Code.Text != "BID" {
		t.Errorf("data type: %v %+v", err, d)
	}
	if err := json.Unmarshal([]byte(`{"text":null}`), &d); err == nil {
		t.Error("json.Unmarshal accepted null")
	}
	// json.Marshal of a resource writes resourceType and leaves out empty values.
	out, err := json.Marshal(Condition{ID: "x", Code: &CodeableConcept{}})
	if err != nil || string(out) != `{"resourceType":"Condition","id":"x"}` {
		t.Errorf("json.Marshal: %s %v", out, err)
	}
	if _, err := json.Marshal(Quantity{Value: "1.2.3"}); !errors.Is(err, ErrInvalidDecimal) {
		t.Errorf("bad decimal: %v", err)
	}
}

func TestDecimal(t *testing.T) {
	t.Parallel()
	if d := DecimalOf(0.1); d != "0.1" {
		t.Errorf("DecimalOf(0.1) = %s", d)
	}
	if _, err := ParseDecimal("1e"); !errors.Is(err, ErrInvalidDecimal) {
		t.Error("accepted 1e")
	}
	q := Quantity{Value: "1.50"}
	out, _ := json.Marshal(q)
	if string(out) != `{"value":1.50}` {
		t.Errorf("precision lost: %s", out)
	}
}

func TestJSONDepthLimit(t *testing.T) {
	t.Parallel()
	deep := strings.Repeat(`{"extension":[`, 300) + strings.Repeat(`]}`, 300)
	if _, err := parseJSON([]byte(deep)); err == nil || !strings.Contains(err.Error(), "too deep") {
		t.Errorf("err = %v", err)
	}
}
