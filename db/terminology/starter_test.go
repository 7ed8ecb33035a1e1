package terminology

import (
	"bufio"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// readShared calls row with the tab-separated fields of each line of a
// shared data file (gzipped or not), skipping '#' comments.
func readShared(t *testing.T, path string, row func(f []string)) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		defer zr.Close()
		r = zr
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if strings.HasPrefix(line, "#") {
			continue
		}
		row(strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
}

// TestStarterAgainstOfficialFiles checks every code and display of the
// embedded starter set against the official files in shared/data: each
// ICD-10-CM row must be a billable FY2026 code with exactly the official
// title; each RxNorm row must exist with the same term type and name in the
// RxNorm tables (the partial prescribable release, else the A supplement,
// else the VSAC / NLM lists, compared without case), and rows those partial
// files cannot confirm are listed.
func TestStarterAgainstOfficialFiles(t *testing.T) {
	t.Parallel()
	codesFile := sharedFile(t, "icd10cm/icd10cm-codes-2026.txt.gz")
	rxDir := filepath.Dir(sharedFile(t, "rxnorm/rxnorm-prescribable-20251006-partial-concepts.tsv.gz"))

	official := map[string]string{}
	f, err := os.Open(codesFile)
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if len(line) > 8 {
			official[CanonicalCode(ICD10CM, strings.TrimSpace(line[:8]))] = strings.TrimSpace(line[8:])
		}
	}
	f.Close()
	if len(official) != 74719 {
		t.Fatalf("read %d codes from %s, want 74719", len(official), codesFile)
	}
	conds, err := StarterConditions()
	if err != nil {
		t.Fatal(err)
	}
	if len(conds) < 400 {
		t.Errorf("%d starter conditions, want at least 400", len(conds))
	}
	seen := map[string]bool{}
	for _, c := range conds {
		if seen[c.Code] {
			t.Errorf("starter condition %s listed twice", c.Code)
		}
		seen[c.Code] = true
		want, ok := official[c.Code]
		switch {
		case !ok:
			t.Errorf("starter condition %s %q is not a billable FY2026 ICD-10-CM code", c.Code, c.Display)
		case want != c.Display:
			t.Errorf("starter condition %s display %q, official %q", c.Code, c.Display, want)
		}
	}

	type rx struct{ tty, name string }
	partial := map[string]rx{}
	readShared(t, filepath.Join(rxDir, "rxnorm-prescribable-20251006-partial-concepts.tsv.gz"), func(f []string) {
		partial[f[0]] = rx{f[1], f[2]}
	})
	supplA := map[string]rx{}
	readShared(t, filepath.Join(rxDir, "supplement-A-ingredients-merged.tsv"), func(f []string) {
		if len(f) > 2 {
			supplA[f[0]] = rx{f[1], f[2]}
		}
	})
	names := map[string][]string{} // rxcui -> names in the VSAC and NLM lists
	readShared(t, filepath.Join(rxDir, "supplement-vsac-ecqm-rxnorm-codes.tsv"), func(f []string) {
		names[f[0]] = append(names[f[0]], f[1])
	})
	readShared(t, filepath.Join(rxDir, "supplement-nlm-substance-names-rxcui-icd10cm-tcodes.tsv"), func(f []string) {
		if len(f) > 1 {
			names[f[1]] = append(names[f[1]], f[0])
		}
	})
	drugs, err := StarterDrugs()
	if err != nil {
		t.Fatal(err)
	}
	byCode := map[string]StarterDrug{}
	ingredients := 0
	var unconfirmed []string
	for _, d := range drugs {
		if _, dup := byCode[d.RXCUI]; dup {
			t.Errorf("starter drug %s listed twice", d.RXCUI)
		}
		byCode[d.RXCUI] = d
		if d.TTY == "IN" || d.TTY == "PIN" {
			ingredients++
		}
		if p, ok := partial[d.RXCUI]; ok {
			if p.tty != d.TTY || p.name != d.Name {
				t.Errorf("starter drug %s %s %q; the prescribable release has %s %q", d.RXCUI, d.TTY, d.Name, p.tty, p.name)
			}
			continue
		}
		if a, ok := supplA[d.RXCUI]; ok {
			if a.tty != d.TTY || a.name != d.Name {
				t.Errorf("starter drug %s %s %q; the A supplement has %s %q", d.RXCUI, d.TTY, d.Name, a.tty, a.name)
			}
			continue
		}
		found := false
		for _, n := range names[d.RXCUI] {
			found = found || strings.EqualFold(n, d.Name)
		}
		if !found && len(names[d.RXCUI]) > 0 {
			t.Errorf("starter drug %s %q; the VSAC/NLM lists name it %q", d.RXCUI, d.Name, names[d.RXCUI])
			continue
		}
		if !found {
			unconfirmed = append(unconfirmed, d.RXCUI+" "+d.TTY+" "+d.Name)
		} else {
			// Only a name: the term type cannot be confirmed.
			t.Logf("starter drug %s %s %q: name confirmed by the VSAC/NLM lists, term type not", d.RXCUI, d.TTY, d.Name)
		}
	}
	if ingredients < 250 {
		t.Errorf("%d starter ingredients, want at least 250", ingredients)
	}
	for _, u := range unconfirmed {
		t.Errorf("starter drug not in any shared RxNorm file: %s", u)
	}
	// Relations name ingredients of the starter set.
	for _, d := range drugs {
		for _, in := range d.Ingredients {
			i, ok := byCode[in]
			if !ok || (i.TTY != "IN" && i.TTY != "PIN") {
				t.Errorf("starter drug %s %q names ingredient %s, which is not a starter IN", d.RXCUI, d.Name, in)
				continue
			}
			if d.TTY == "SCD" && !strings.Contains(Normalize(d.Name), StripSalt(Normalize(i.Name))) {
				t.Errorf("starter SCD %s %q does not name its ingredient %q", d.RXCUI, d.Name, i.Name)
			}
		}
	}
	t.Logf("starter: %d conditions checked against %s; %d drugs (%d ingredients) checked against %s",
		len(conds), filepath.Base(codesFile), len(drugs), ingredients, rxDir)
}
