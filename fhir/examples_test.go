package fhir

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// officialExampleWarnings are the warnings expected on the official R4 examples. The
// three are the ones HL7's validator gives too: their Condition.category is coded with
// SNOMED CT 439401001 "Diagnosis", which is not in the extensible condition-category
// value set. Everything else must validate without errors or warnings.
var officialExampleWarnings = map[string]int{
	"Condition-f001.json": 1,
	"Condition-f002.json": 1,
	"Condition-f003.json": 1,
}

// TestOfficialExamples parses every official example, checks that writing it back gives
// semantically equal JSON, and validates it.
func TestOfficialExamples(t *testing.T) {
	dir := fhirData(t, "examples")
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no examples in %s: %v", dir, err)
	}
	passed := 0
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(data)
			if err != nil {
				t.Fatalf("parse: %v", err)
			}
			if _, raw := r.(*RawResource); raw {
				t.Fatalf("%s parsed as an unmodelled resource", r.ResourceType())
			}
			out, err := Marshal(r)
			if err != nil {
				t.Fatalf("marshal: %v", err)
			}
			if diff := jsonDiff(data, out); diff != "" {
				t.Fatalf("round trip differs: %s", diff)
			}
			oo := Validate(r, nil)
			if e, w := oo.Count(SeverityError), oo.Count(SeverityWarning); e != 0 || w != officialExampleWarnings[name] {
				issues, _ := json.MarshalIndent(oo.Issue, "", " ")
				t.Fatalf("%d errors, %d warnings (want 0, %d):\n%s", e, w, officialExampleWarnings[name], issues)
			}
			// Validating the original bytes must agree with validating the parsed value.
			if oo2 := ValidateJSON(data, nil); !reflect.DeepEqual(oo, oo2) {
				t.Errorf("ValidateJSON of the file differs from Validate of the parsed resource")
			}
			passed++
		})
	}
	t.Logf("official examples: %d of %d parse, round-trip and validate as expected", passed, len(files))
}

// jsonDiff compares two JSON documents as values (numbers by their literal value) and
// describes the first difference.
func jsonDiff(a, b []byte) string {
	decode := func(data []byte) (any, error) {
		d := json.NewDecoder(bytes.NewReader(data))
		d.UseNumber()
		var v any
		err := d.Decode(&v)
		return v, err
	}
	va, err := decode(a)
	if err != nil {
		return "first: " + err.Error()
	}
	vb, err := decode(b)
	if err != nil {
		return "second: " + err.Error()
	}
	return valueDiff("$", va, vb)
}

func valueDiff(path string, a, b any) string {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		if !ok {
			return path + ": object vs " + reflect.TypeOf(b).String()
		}
		for k, v := range x {
			w, ok := y[k]
			if !ok {
				return path + "." + k + ": missing"
			}
			if d := valueDiff(path+"."+k, v, w); d != "" {
				return d
			}
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				return path + "." + k + ": added"
			}
		}
		return ""
	case []any:
		y, ok := b.([]any)
		if !ok || len(x) != len(y) {
			return path + ": arrays differ in length or type"
		}
		for i := range x {
			if d := valueDiff(path+"["+strconv.Itoa(i)+"]", x[i], y[i]); d != "" {
				return d
			}
		}
		return ""
	case json.Number:
		y, ok := b.(json.Number)
		if !ok {
			return path + ": number vs other"
		}
		fx, _ := x.Float64()
		fy, _ := y.Float64()
		if fx != fy {
			return path + ": " + x.String() + " vs " + y.String()
		}
		return ""
	default:
		if !reflect.DeepEqual(a, b) {
			return path + ": " + strings.TrimSpace(strings.ReplaceAll(reflect.ValueOf(a).String(), "\n", " ")) + " differs"
		}
		return ""
	}
}
