package fhir

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedDir returns the shared reference data directory: $MEDSCRIBE_SHARED, or
// ../shared next to the repository root. Tests that need it skip when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	if dir := os.Getenv("MEDSCRIBE_SHARED"); dir != "" {
		return dir
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("shared data not found: no go.mod above the test directory and MEDSCRIBE_SHARED unset")
		}
		dir = parent
	}
}

// fhirData returns shared/data/fhir-r4/<rel>, skipping the test when it is missing.
func fhirData(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(sharedDir(t), "data", "fhir-r4", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared FHIR data missing (%v); set MEDSCRIBE_SHARED to the shared directory", err)
	}
	return p
}
