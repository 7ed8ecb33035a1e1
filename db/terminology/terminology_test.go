package terminology

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// sharedDir returns the shared reference data folder: $MEDSCRIBE_SHARED, or
// ../shared next to the repository root (found by walking up to go.mod).
// Tests that need it skip when it is absent.
func sharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("MEDSCRIBE_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(filepath.Dir(dir), "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no go.mod above the test directory")
		}
		dir = parent
	}
}

// sharedFile returns a file under the shared data folder, skipping the test
// when it is not there.
func sharedFile(t testing.TB, rel string) string {
	t.Helper()
	p := filepath.Join(sharedDir(t), "data", rel)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared reference data not available (%s): set MEDSCRIBE_SHARED or provide ../shared/data", p)
	}
	return p
}

func openTemp(t testing.TB) *DB {
	t.Helper()
	d, err := Open(context.Background(), filepath.Join(t.TempDir(), "terminology.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var (
	starterOnce sync.Once
	starterDB   *DB
	starterErr  error
)

// starter returns one starter database shared by the read-only tests.
func starter(t testing.TB) *DB {
	t.Helper()
	starterOnce.Do(func() { starterDB, starterErr = OpenStarter(context.Background()) })
	if starterErr != nil {
		t.Fatal(starterErr)
	}
	return starterDB
}

func TestOpenStarterLookups(t *testing.T) {
	t.Parallel()
	d := starter(t)
	ctx := context.Background()
	tests := []struct {
		system, code, wantCode, wantDisplay string
		billable                            bool
	}{
		{ICD10CM, "I10", "I10", "Essential (primary) hypertension", true},
		{ICD10CM, "E119", "E11.9", "Type 2 diabetes mellitus without complications", true},
		{ICD10CMURL, "e11.9", "E11.9", "Type 2 diabetes mellitus without complications", true},
		{ICD10CM, "N18.31", "N18.31", "Chronic kidney disease, stage 3a", true},
		{RxNorm, "29046", "29046", "lisinopril", true},
		{RxNormURL, "314076", "314076", "lisinopril 10 MG Oral Tablet", true},
	}
	for _, tc := range tests {
		c, err := d.Lookup(ctx, tc.system, tc.code)
		if err != nil {
			t.Errorf("Lookup(%s, %s): %v", tc.system, tc.code, err)
			continue
		}
		if c.Code != tc.wantCode || c.Display != tc.wantDisplay || c.Billable != tc.billable {
			t.Errorf("Lookup(%s, %s) = %+v, want %s %q billable=%v", tc.system, tc.code, c, tc.wantCode, tc.wantDisplay, tc.billable)
		}
	}
	if _, err := d.Lookup(ctx, ICD10CM, "E11.999"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Lookup of a missing code: err = %v, want ErrNotFound", err)
	}
	if _, err := d.Lookup(ctx, "snomed", "38341003"); !errors.Is(err, ErrUnknownSystem) {
		t.Errorf("Lookup in an unknown system: err = %v, want ErrUnknownSystem", err)
	}
	disp, ok, err := d.Display(ICD10CMURL, "J45909")
	if err != nil || !ok || disp != "Unspecified asthma, uncomplicated" {
		t.Errorf("Display(icd-10-cm, J45909) = %q, %v, %v", disp, ok, err)
	}
	if _, ok, err := d.Display(RxNormURL, "999999999"); ok || err != nil {
		t.Errorf("Display of a missing RxCUI: ok=%v err=%v, want false, nil", ok, err)
	}
	for _, s := range []string{ICD10CMURL, RxNormURL, ICD10CM, RxNorm} {
		if !d.KnowsSystem(s) {
			t.Errorf("KnowsSystem(%s) = false", s)
		}
	}
	if d.KnowsSystem("http://snomed.info/sct") {
		t.Error("KnowsSystem(snomed) = true")
	}
}

func TestStarterRelations(t *testing.T) {
	t.Parallel()
	d := starter(t)
	ctx := context.Background()
	ins, err := d.Ingredients(ctx, "153165") // Lipitor
	if err != nil || len(ins) != 1 || ins[0].Code != "83367" {
		t.Errorf("Ingredients(Lipitor) = %v, %v; want atorvastatin 83367", ins, err)
	}
	ins, err = d.Ingredients(ctx, "218772") // Norco
	if err != nil || len(ins) != 2 {
		t.Errorf("Ingredients(Norco) = %v, %v; want acetaminophen and hydrocodone", ins, err)
	}
	brands, err := d.Brands(ctx, "29046")
	if err != nil {
		t.Fatal(err)
	}
	found := false
	for _, b := range brands {
		found = found || b.Display == "Zestril"
	}
	if !found {
		t.Errorf("Brands(lisinopril) = %v, want Zestril among them", brands)
	}
	var n int
	if err := d.ForEachRelation(ctx, func(r Relation) error { n++; return nil }); err != nil || n < 1000 {
		t.Errorf("ForEachRelation: %d relations, %v", n, err)
	}
	kinds := map[string]int{}
	if err := d.ForEachDesignation(ctx, func(r DesignationRecord) error {
		kinds[r.Kind]++
		if r.Norm != Normalize(r.Text) {
			t.Errorf("designation %q: norm %q, want %q", r.Text, r.Norm, Normalize(r.Text))
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{DesignationPreferred, DesignationSynonym, DesignationAbbreviation, DesignationBrand} {
		if kinds[k] == 0 {
			t.Errorf("no %s designations in the starter set (%v)", k, kinds)
		}
	}
	stop := errors.New("stop")
	if err := d.ForEachDesignation(ctx, func(DesignationRecord) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("ForEachDesignation did not return fn's error: %v", err)
	}
}

func TestOpenFileLoadsStarterOnce(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "t.db")
	for i := 0; i < 2; i++ {
		d, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		st, err := d.Stats(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(st) != 2 || st[0].System != ICD10CM || st[0].Concepts < 400 || st[1].Concepts < 300 {
			t.Fatalf("open %d: stats %+v", i, st)
		}
		if len(st[0].Sources) != 1 || st[0].Sources[0].Name != SourceStarter {
			t.Fatalf("open %d: sources %+v", i, st[0].Sources)
		}
		d.Close()
	}
}

func TestCanonicalCode(t *testing.T) {
	t.Parallel()
	tests := []struct{ system, in, want string }{
		{ICD10CM, "E119", "E11.9"},
		{ICD10CM, "e11.9", "E11.9"},
		{ICD10CM, " I10 ", "I10"},
		{ICD10CM, "S82891A", "S82.891A"},
		{RxNorm, " 29046", "29046"},
	}
	for _, tc := range tests {
		if got := CanonicalCode(tc.system, tc.in); got != tc.want {
			t.Errorf("CanonicalCode(%s, %q) = %q, want %q", tc.system, tc.in, got, tc.want)
		}
	}
}
