package terminology

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if fullDir != "" {
		os.RemoveAll(fullDir)
	}
	os.Exit(code)
}

var (
	fullOnce sync.Once
	fullDir  string
	fullDB   *DB
	fullErr  error
	fullRes  []ImportResult
)

// full returns one database loaded with the full shared ICD-10-CM (codes
// and order file) and RxNorm tables, built once per test binary; it skips
// when the shared data is absent.
//
// TERMINOLOGY_BENCH_DB names an already built database to use instead, so
// the benchmarks can run on a machine without the shared data.
func full(t testing.TB) *DB {
	t.Helper()
	if p := os.Getenv("TERMINOLOGY_BENCH_DB"); p != "" {
		fullOnce.Do(func() { fullDir = ""; fullDB, fullErr = Open(context.Background(), p) })
		if fullErr != nil {
			t.Fatal(fullErr)
		}
		return fullDB
	}
	codes := sharedFile(t, "icd10cm/icd10cm-codes-2026.txt.gz")
	order := sharedFile(t, "icd10cm/icd10cm-order-April-2025.derived.tsv.gz")
	rx := filepath.Dir(sharedFile(t, "rxnorm/rxnorm-prescribable-20251006-partial-concepts.tsv.gz"))
	fullOnce.Do(func() {
		ctx := context.Background()
		if fullDir, fullErr = os.MkdirTemp("", "terminology-full-"); fullErr != nil {
			return
		}
		if fullDB, fullErr = Open(ctx, filepath.Join(fullDir, "full.db")); fullErr != nil {
			return
		}
		for _, imp := range []func() (ImportResult, error){
			func() (ImportResult, error) { return fullDB.ImportICD10CMCodes(ctx, codes, nil) },
			func() (ImportResult, error) { return fullDB.ImportICD10CMOrder(ctx, order, nil) },
			func() (ImportResult, error) { return fullDB.ImportRxNorm(ctx, rx, nil) },
		} {
			res, err := imp()
			if err != nil {
				fullErr = err
				return
			}
			fullRes = append(fullRes, res)
		}
	})
	if fullErr != nil {
		t.Fatal(fullErr)
	}
	return fullDB
}

type resolutionCase struct {
	system, phrase, want, category string
	line                           int
}

func readResolutionTable(t *testing.T) []resolutionCase {
	t.Helper()
	f, err := os.Open("testdata/resolution.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []resolutionCase
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if strings.HasPrefix(text, "#") || strings.HasPrefix(text, "system\t") || text == "" {
			continue
		}
		fs := strings.Split(text, "\t")
		if len(fs) != 4 {
			t.Fatalf("resolution.tsv:%d: want 4 columns", line)
		}
		out = append(out, resolutionCase{fs[0], fs[1], fs[2], fs[3], line})
	}
	return out
}

// resolve is what the table measures: the billable code for a condition,
// the drug for a phrase with a strength, the top candidate otherwise.
func resolve(ctx context.Context, d *DB, c resolutionCase) (string, error) {
	switch {
	case c.system == ICD10CM:
		r, ok, err := d.ResolveCondition(ctx, c.phrase)
		if err != nil || !ok {
			return "", err
		}
		return r.Code, nil
	case c.category == "strength":
		m, ok, err := d.ResolveDrug(ctx, DrugQuery{Name: c.phrase})
		if err != nil || !ok {
			return "", err
		}
		return m.Drug.Code, nil
	}
	cs, err := d.Search(ctx, c.system, c.phrase, &SearchOptions{Limit: 1})
	if err != nil || len(cs) == 0 {
		return "", err
	}
	return cs[0].Code, nil
}

// checkTable runs the resolution table against d and reports top-1
// accuracy per category and overall.
func checkTable(t *testing.T, d *DB, label string, minAccuracy float64) {
	cases := readResolutionTable(t)
	if len(cases) < 200 {
		t.Fatalf("resolution table has %d phrases, want at least 200", len(cases))
	}
	ctx := context.Background()
	hit, total := map[string]int{}, map[string]int{}
	all := 0
	for _, c := range cases {
		got, err := resolve(ctx, d, c)
		if err != nil {
			t.Fatalf("resolution.tsv:%d %q: %v", c.line, c.phrase, err)
		}
		total[c.category]++
		if got != "" && strings.Contains("|"+c.want+"|", "|"+got+"|") {
			hit[c.category]++
			all++
		} else {
			t.Logf("%s: resolution.tsv:%d %s %q -> %q, want %q", label, c.line, c.category, c.phrase, got, c.want)
		}
	}
	cats := make([]string, 0, len(total))
	for k := range total {
		cats = append(cats, k)
	}
	sort.Strings(cats)
	var parts []string
	for _, k := range cats {
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, hit[k], total[k]))
	}
	acc := float64(all) / float64(len(cases))
	t.Logf("%s: top-1 %d/%d = %.1f%% (%s)", label, all, len(cases), 100*acc, strings.Join(parts, ", "))
	if acc < minAccuracy {
		t.Errorf("%s: top-1 accuracy %.1f%%, want at least %.0f%%", label, 100*acc, 100*minAccuracy)
	}
}

func TestResolutionTableStarter(t *testing.T) {
	t.Parallel()
	checkTable(t, starter(t), "starter", 0.90)
}

func TestResolutionTableFull(t *testing.T) {
	checkTable(t, full(t), "full ICD-10-CM + RxNorm", 0.90)
}

// TestMisspellingsFile measures top-1 accuracy on NLM's 186 real drug-name
// misspellings against the full RxNorm tables (which do not load that file).
func TestMisspellingsFile(t *testing.T) {
	path := sharedFile(t, "rxnorm/drug-name-misspellings-nlm-lhncbc.tsv")
	d := full(t)
	ctx := context.Background()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	n, hit, missing := 0, 0, 0
	for sc.Scan() {
		fs := strings.Split(sc.Text(), "\t")
		if len(fs) != 3 || fs[0] == "name" {
			continue
		}
		n++
		want, msp := fs[1], fs[2]
		if _, err := d.Lookup(ctx, RxNorm, want); err != nil {
			missing++ // the partial RxNorm tables lack this code
		}
		cs, err := d.Search(ctx, RxNorm, msp, &SearchOptions{Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(cs) > 0 && cs[0].Code == want {
			hit++
			continue
		}
		got := ""
		if len(cs) > 0 {
			got = cs[0].Code + " " + cs[0].Display + " (" + string(cs[0].Reason) + ")"
		}
		t.Logf("misspelling %q of %s %s -> %s", msp, fs[0], want, got)
	}
	if n != 186 {
		t.Fatalf("read %d misspellings, want 186", n)
	}
	acc := float64(hit) / float64(n)
	t.Logf("misspellings: top-1 %d/%d = %.1f%% (%d expected codes are not in the partial RxNorm tables)", hit, n, 100*acc, missing)
	if acc < 0.90 {
		t.Errorf("misspellings top-1 accuracy %.1f%%, want at least 90%%", 100*acc)
	}
}

func TestResolveCondition(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d := openTemp(t)
	if _, err := d.ImportICD10CMCodes(ctx, "testdata/icd10cm-codes-2099.txt", nil); err != nil {
		t.Fatal(err)
	}
	if _, err := d.ImportICD10CMOrder(ctx, "testdata/icd10cm-order-2099.txt", nil); err != nil {
		t.Fatal(err)
	}
	tests := []struct{ phrase, want string }{
		{"type 2 diabetes with diabetic neuropathy", "E11.40"},
		{"type 2 diabetes", "E11.9"},
		// The header's own title matches exactly; the answer is its
		// unspecified billable code, never the header.
		{"Type 2 diabetes mellitus", "E11.9"},
		{"Systolic (congestive) heart failure", "I50.20"},
		{"Type 2 diabetes mellitus with neurological complications", "E11.40"},
		{"E11", "E11.9"},
	}
	for _, tc := range tests {
		c, ok, err := d.ResolveCondition(ctx, tc.phrase)
		if err != nil || !ok || c.Code != tc.want || !c.Billable {
			t.Errorf("ResolveCondition(%q) = %+v, %v, %v; want billable %s", tc.phrase, c, ok, err, tc.want)
		}
	}
	if _, ok, err := d.ResolveCondition(ctx, "xyzzy plugh"); ok || err != nil {
		t.Errorf("ResolveCondition(nonsense): ok=%v err=%v", ok, err)
	}
}

func TestResolveDrug(t *testing.T) {
	t.Parallel()
	d := starter(t)
	ctx := context.Background()
	tests := []struct {
		q            DrugQuery
		want         string
		ingredients  string
		brand        string
		strengthSeen bool
	}{
		{DrugQuery{Name: "lisinopril 10 mg tablet"}, "314076", "29046", "", true},
		{DrugQuery{Name: "lisinopril", Strength: "10mg", Form: "tab"}, "314076", "29046", "", true},
		{DrugQuery{Name: "lysine april"}, "29046", "29046", "", false},
		{DrugQuery{Name: "Lipitor"}, "83367", "83367", "153165", false},
		{DrugQuery{Name: "Lipitor", Strength: "40 mg"}, "617311", "83367", "153165", true},
		{DrugQuery{Name: "metoprolol succinate ER 50 mg"}, "866436", "6918", "", true},
		{DrugQuery{Name: "Norco"}, "214182", "161,5489", "218772", false},
		// No 7 mg lisinopril exists: the ingredient.
		{DrugQuery{Name: "lisinopril 7 mg"}, "29046", "29046", "", false},
	}
	for _, tc := range tests {
		m, ok, err := d.ResolveDrug(ctx, tc.q)
		if err != nil || !ok {
			t.Errorf("ResolveDrug(%+v): %v, %v", tc.q, ok, err)
			continue
		}
		var ins []string
		for _, c := range m.Ingredients {
			ins = append(ins, c.Code)
		}
		brand := ""
		if m.Brand != nil {
			brand = m.Brand.Code
		}
		if m.Drug.Code != tc.want || strings.Join(ins, ",") != tc.ingredients || brand != tc.brand || m.StrengthMatched != tc.strengthSeen {
			t.Errorf("ResolveDrug(%+v) = drug %s %q, ingredients %v, brand %q, strength %v; want %s, %s, %q, %v",
				tc.q, m.Drug.Code, m.Drug.Display, ins, brand, m.StrengthMatched, tc.want, tc.ingredients, tc.brand, tc.strengthSeen)
		}
	}
}

func TestSearchReasons(t *testing.T) {
	t.Parallel()
	d := starter(t)
	ctx := context.Background()
	tests := []struct {
		system, phrase, code string
		reason               Reason
	}{
		{ICD10CM, "I10", "I10", ReasonCode},
		{ICD10CM, "Essential (primary) hypertension", "I10", ReasonExact},
		{ICD10CM, "high blood pressure", "I10", ReasonSynonym},
		{ICD10CM, "HTN", "I10", ReasonAbbreviation},
		{RxNorm, "Tylenol", "161", ReasonBrand},
		{RxNorm, "hydro chlorothiazide", "5487", ReasonJoined},
		{RxNorm, "met for men", "6809", ReasonPhonetic},
		{RxNorm, "lisinoprill", "29046", ReasonPhonetic},
		{RxNorm, "gapapentin", "25480", ReasonEditDistance},
		{ICD10CM, "pain in the chest", "R07.9", ReasonSynonym},
		{RxNorm, "atorvast", "83367", ReasonTrigram},
	}
	for _, tc := range tests {
		cs, err := d.Search(ctx, tc.system, tc.phrase, nil)
		if err != nil || len(cs) == 0 || cs[0].Code != tc.code || cs[0].Reason != tc.reason {
			t.Errorf("Search(%s, %q) = %v, %v; want %s by %s first", tc.system, tc.phrase, cs, err, tc.code, tc.reason)
		}
	}
	// A brand brings its ingredient right after it.
	cs, err := d.Search(ctx, RxNorm, "Lipitor", nil)
	if err != nil || len(cs) < 2 || cs[0].Code != "153165" || cs[1].Code != "83367" || cs[1].Reason != ReasonBrandIngredient {
		t.Errorf("Search(Lipitor) = %v, %v", cs, err)
	}
	for i := 1; i < len(cs); i++ {
		if cs[i].Score > cs[i-1].Score {
			t.Errorf("Search(Lipitor) not ranked: %v", cs)
		}
	}
	if cs, err := d.Search(ctx, RxNorm, "   ", nil); err != nil || len(cs) != 0 {
		t.Errorf("Search(blank) = %v, %v", cs, err)
	}
}

// TestFullImport checks what the full shared files load: every FY2026
// ICD-10-CM code, the headers of the order file, and RxNorm with the
// relations the eval maps brands and drugs through.
func TestFullImport(t *testing.T) {
	d := full(t)
	if fullDir == "" {
		t.Skip("the database was built elsewhere (TERMINOLOGY_BENCH_DB)")
	}
	if got := fullRes[0]; got.Concepts != 74719 || got.Designations != 74719 {
		t.Errorf("ICD-10-CM codes import: %+v, want 74719 codes", got)
	}
	ctx := context.Background()
	var billable, headers int
	if err := d.sql.QueryRow(`SELECT coalesce(sum(billable), 0), coalesce(sum(1 - billable), 0) FROM term_concept WHERE system = 'icd10cm'`).Scan(&billable, &headers); err != nil {
		t.Fatal(err)
	}
	if billable != 74719 || headers < 23000 {
		t.Errorf("ICD-10-CM: %d billable, %d headers; want 74719 and the order file's ~23,300 headers", billable, headers)
	}
	if n := conceptCount(t, d, RxNorm); n < 38000 {
		t.Errorf("%d RxNorm concepts, want the ~39,000 of the shared tables", n)
	}
	for _, tc := range []struct{ code, ingredient string }{
		{"153165", "83367"}, // Lipitor -> atorvastatin (A supplement + derived BN relation)
		{"857002", "161"},   // acetaminophen / hydrocodone SCD: the A ingredient comes from the name
		{"866436", "6918"},  // metoprolol succinate ER SCD -> metoprolol through the PIN
		{"104377", "29046"}, // Zestril SBD -> lisinopril
		{"1006917", "4099"}, // Prempro's MIN -> conjugated estrogens
	} {
		ins, err := d.Ingredients(ctx, tc.code)
		if err != nil {
			t.Errorf("Ingredients(%s): %v", tc.code, err)
			continue
		}
		found := false
		for _, in := range ins {
			found = found || in.Code == tc.ingredient
		}
		if !found {
			t.Errorf("Ingredients(%s) = %v, want %s among them", tc.code, ins, tc.ingredient)
		}
	}
}
