package terminology

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"
)

func runCLI(t *testing.T, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err := Main(context.Background(), args, &out, &errOut)
	return out.String(), errOut.String(), err
}

// The CLI tests set environment variables, so they do not run in parallel.
func TestCLIImportSearchStats(t *testing.T) {
	db := filepath.Join(t.TempDir(), "cli.db")
	out, _, err := runCLI(t, "import", "--db", db,
		"--icd10cm", "testdata/icd10cm-codes-2099.txt",
		"--icd10cm-order", "testdata/icd10cm-order-2099.txt",
		"--rxnorm", "testdata/rrf",
		"--tsv", "rxnorm=testdata/custom-rxnorm.tsv")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"icd10cm icd10cm-codes 2099: 12 concepts", "icd10cm icd10cm-order 2099: 5 concepts", "rxnorm rxnorm-rrf", "rxnorm tsv:custom-rxnorm.tsv"} {
		if !strings.Contains(out, want) {
			t.Errorf("import output %q lacks %q", out, want)
		}
	}

	out, _, err = runCLI(t, "search", "--db", db, "--system", "icd10cm", "type", "2", "diabetes", "with", "neuropathy")
	if err != nil {
		t.Fatal(err)
	}
	first := strings.Split(strings.Split(out, "\n")[0], "\t")
	if len(first) != 5 || first[0] != ICD10CM || first[1] != "E11.40" || first[4] != string(ReasonSynonym) {
		t.Errorf("search output %q", out)
	}

	t.Setenv("MEDSCRIBE_DB", db)
	out, _, err = runCLI(t, "search", "--limit", "2", "lip it or")
	if err != nil {
		t.Fatal(err)
	}
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[0], "153165\tLipitor") {
		t.Errorf("search via MEDSCRIBE_DB = %q", out)
	}

	out, _, err = runCLI(t, "stats")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"icd10cm\t", "header 5", "icd10cm-codes\tversion 2099", "rxnorm-rrf", "starter"} {
		if !strings.Contains(out, want) {
			t.Errorf("stats output %q lacks %q", out, want)
		}
	}
}

func TestCLIStarterAndErrors(t *testing.T) {
	t.Setenv("MEDSCRIBE_DB", "")
	out, _, err := runCLI(t, "search", "HTN")
	if err != nil || !strings.HasPrefix(out, "icd10cm\tI10\tEssential (primary) hypertension\t0.960\tabbreviation\n") {
		t.Errorf("starter search = %q, %v", out, err)
	}
	out, _, err = runCLI(t, "stats")
	if err != nil || !strings.Contains(out, "starter") {
		t.Errorf("starter stats = %q, %v", out, err)
	}
	_, stderr, err := runCLI(t, "search", "--help")
	if err != nil || !strings.Contains(stderr, "-system") {
		t.Errorf("--help: %q, %v", stderr, err)
	}
	tests := []struct {
		args []string
		want string
	}{
		{nil, "missing command"},
		{[]string{"frobnicate"}, "unknown command"},
		{[]string{"import", "--icd10cm", "x"}, "--db is required"},
		{[]string{"import", "--db", filepath.Join(t.TempDir(), "x.db")}, "nothing to import"},
		{[]string{"import", "--db", "x.db", "--tsv", "loinc=x.tsv"}, "unknown code system"},
		{[]string{"search"}, "missing PHRASE"},
		{[]string{"search", "--system", "snomed", "x"}, "unknown code system"},
		{[]string{"stats", "--db", filepath.Join(t.TempDir(), "missing.db")}, "no such file"},
	}
	for _, tc := range tests {
		if _, _, err := runCLI(t, tc.args...); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Main(%q) = %v, want an error containing %q", tc.args, err, tc.want)
		}
	}
	bad := filepath.Join(t.TempDir(), "bad.db")
	if _, _, err := runCLI(t, "import", "--db", bad, "--icd10cm", "testdata/custom-icd10cm.tsv"); err == nil || !strings.Contains(err.Error(), "custom-icd10cm.tsv:1:") {
		t.Errorf("import of a wrong file: %v, want file:line", err)
	}
}
