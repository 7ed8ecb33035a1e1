package fhir

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

// FuzzParseValidate feeds arbitrary bytes to the validator and the strict parser. Neither
// may panic; the validator always returns an outcome; whatever parses must write back
// to JSON that parses to the same JSON again, and validating the parsed value must
// agree with validating its JSON.
func FuzzParseValidate(f *testing.F) {
	for _, tc := range brokenCases {
		f.Add([]byte(tc.json))
	}
	golden, _ := filepath.Glob(filepath.Join("testdata", "golden", "*.json"))
	for _, g := range golden {
		if data, err := os.ReadFile(g); err == nil {
			f.Add(data)
		}
	}
	// The official examples, when the shared data is there.
	if dir := os.Getenv("MEDSCRIBE_SHARED"); dir != "" || fileExists(filepath.Join("..", "..", "shared")) {
		if dir == "" {
			dir = filepath.Join("..", "..", "shared")
		}
		examples, _ := filepath.Glob(filepath.Join(dir, "data", "fhir-r4", "examples", "*.json"))
		for _, e := range examples {
			if data, err := os.ReadFile(e); err == nil {
				f.Add(data)
			}
		}
	}
	f.Add([]byte(`{"resourceType":"Patient","name":[{"given":["a",null],"_given":[null,{"id":"x"}]}]}`))
	v := &Validator{Terminology: fakeTerminology{}}
	f.Fuzz(func(t *testing.T, data []byte) {
		oo := v.ValidateJSON(data)
		if len(oo.Issue) == 0 {
			t.Fatal("empty OperationOutcome")
		}
		r, err := Parse(data)
		if err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) || len(pe.Issues) == 0 {
				t.Fatalf("parse error %T without issues: %v", err, err)
			}
			return
		}
		out, err := Marshal(r)
		if err != nil {
			t.Fatalf("marshal of a parsed resource: %v", err)
		}
		r2, err := Parse(out)
		if err != nil {
			t.Fatalf("re-parse of %s: %v", out, err)
		}
		out2, err := Marshal(r2)
		if err != nil || !bytes.Equal(out, out2) {
			t.Fatalf("round trip unstable:\n%s\n%s", out, out2)
		}
		if a, b := v.Validate(r), v.ValidateJSON(out); !reflect.DeepEqual(a, b) {
			t.Fatalf("Validate and ValidateJSON(Marshal) differ for %s:\n%+v\n%+v", out, a.Issue, b.Issue)
		}
	})
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}
