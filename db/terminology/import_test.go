package terminology

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

func conceptCount(t testing.TB, d *DB, system string) int {
	t.Helper()
	var n int
	if err := d.sql.QueryRow(`SELECT count(*) FROM term_concept WHERE system = ?`, system).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func mustLookup(t testing.TB, d *DB, system, code string) Concept {
	t.Helper()
	c, err := d.Lookup(context.Background(), system, code)
	if err != nil {
		t.Fatalf("Lookup(%s, %s): %v", system, code, err)
	}
	return c
}

func TestImportICD10CMCodesSample(t *testing.T) {
	t.Parallel()
	d := openTemp(t)
	ctx := context.Background()
	for i := 0; i < 2; i++ { // the second import must change nothing
		res, err := d.ImportICD10CMCodes(ctx, "testdata/icd10cm-codes-2099.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Concepts != 12 || res.Version != "2099" || res.Source != SourceICD10CMCodes {
			t.Errorf("import %d: %+v", i, res)
		}
	}
	c := mustLookup(t, d, ICD10CM, "E1140")
	if c.Code != "E11.40" || c.Display != "Type 2 diabetes mellitus with diabetic neuropathy, unspecified" || !c.Billable || c.Kind != KindCode {
		t.Errorf("E11.40 = %+v", c)
	}
	mustLookup(t, d, ICD10CM, "QA0.0101")
	// The codes file is the complete list of billable codes: starter codes
	// it lacks are gone.
	if _, err := d.Lookup(ctx, ICD10CM, "J44.9"); !errors.Is(err, ErrNotFound) {
		t.Errorf("J44.9 (starter only) after a codes import: %v, want not found", err)
	}
	if n := conceptCount(t, d, ICD10CM); n != 12 {
		t.Errorf("%d ICD-10-CM concepts, want 12", n)
	}
	// Starter abbreviations stay attached to the codes the import kept.
	cs, err := d.Search(ctx, ICD10CM, "HTN", nil)
	if err != nil || len(cs) == 0 || cs[0].Code != "I10" {
		t.Errorf("Search(HTN) after import = %v, %v", cs, err)
	}
	st, err := d.Stats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if got := st[0].Sources; len(got) != 2 || got[1].Name != SourceICD10CMCodes || got[1].Version != "2099" || got[1].Concepts != 12 {
		t.Errorf("sources %+v", got)
	}
}

func TestImportICD10CMOrder(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	t.Run("after codes", func(t *testing.T) {
		t.Parallel()
		d := openTemp(t)
		if _, err := d.ImportICD10CMCodes(ctx, "testdata/icd10cm-codes-2099.txt", nil); err != nil {
			t.Fatal(err)
		}
		res, err := d.ImportICD10CMOrder(ctx, "testdata/icd10cm-order-2099.txt", nil)
		if err != nil {
			t.Fatal(err)
		}
		if res.Concepts != 5 {
			t.Errorf("order import wrote %d headers, want 5: %+v", res.Concepts, res)
		}
		h := mustLookup(t, d, ICD10CM, "E11")
		if h.Billable || h.Kind != KindHeader || h.Display != "Type 2 diabetes mellitus" {
			t.Errorf("E11 = %+v", h)
		}
		// E11.21 is billable in the order file but not in the codes
		// file, which stays the authority on billable codes.
		if _, err := d.Lookup(ctx, ICD10CM, "E11.21"); !errors.Is(err, ErrNotFound) {
			t.Errorf("E11.21: %v, want not found", err)
		}
		// The short title became a designation of the billable code.
		cs, err := d.Search(ctx, ICD10CM, "Type 2 diabetes w diabetic neuropathy, unsp", nil)
		if err != nil || len(cs) == 0 || cs[0].Code != "E11.40" || cs[0].Reason != ReasonExact {
			t.Errorf("short-title search = %v, %v", cs, err)
		}
	})
	t.Run("alone, then codes", func(t *testing.T) {
		t.Parallel()
		d := openTemp(t)
		if _, err := d.ImportICD10CMOrder(ctx, "testdata/icd10cm-order-2099.txt", nil); err != nil {
			t.Fatal(err)
		}
		mustLookup(t, d, ICD10CM, "E11.21")
		if _, err := d.ImportICD10CMCodes(ctx, "testdata/icd10cm-codes-2099.txt", nil); err != nil {
			t.Fatal(err)
		}
		if _, err := d.Lookup(ctx, ICD10CM, "E11.21"); !errors.Is(err, ErrNotFound) {
			t.Errorf("E11.21 after the codes import: %v, want not found", err)
		}
		mustLookup(t, d, ICD10CM, "E11.4") // headers stay
	})
	t.Run("derived tsv", func(t *testing.T) {
		t.Parallel()
		d := openTemp(t)
		p := filepath.Join(t.TempDir(), "order.tsv")
		body := "code\tbillable\tshort_desc\tlong_desc_max100\nI50\t0\tHeart failure\tHeart failure\nI509\t1\tHeart failure, unspecified\tHeart failure, unspecified\n"
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ImportICD10CMOrder(ctx, p, nil); err != nil {
			t.Fatal(err)
		}
		if c := mustLookup(t, d, ICD10CM, "I50"); c.Billable {
			t.Errorf("I50 = %+v, want a header", c)
		}
	})
}

func TestImportRxNormRRFSample(t *testing.T) {
	t.Parallel()
	d := openTemp(t)
	ctx := context.Background()
	var res ImportResult
	var err error
	for i := 0; i < 2; i++ {
		if res, err = d.ImportRxNorm(ctx, "testdata/rrf", nil); err != nil {
			t.Fatal(err)
		}
	}
	if res.Source != SourceRxNormRRF || res.Concepts != 12 {
		t.Errorf("result %+v, want 12 concepts from %s", res, SourceRxNormRRF)
	}
	if c := mustLookup(t, d, RxNorm, "29046"); c.Display != "lisinopril" || c.Kind != "IN" {
		t.Errorf("29046 = %+v (the MTHSPL and suppressed rows must not win)", c)
	}
	tests := []struct {
		code string
		want []string
	}{
		{"314076", []string{"29046"}}, // SCD -> SCDC -> IN
		{"104377", []string{"29046"}}, // SBD -> SCD -> IN
		{"196472", []string{"29046"}}, // BN -> IN
		{"866438", []string{"6918"}},  // SBD of a salt -> base IN
		{"221124", []string{"6918"}},  // PIN -> IN
		{"1370474", []string{"6918"}}, // SCDC -> IN
		{"865575", []string{"6918"}},  // BN -> IN
		{"5553", []string{"5553"}},    // IN is its own ingredient
		{"866436", []string{"6918"}},  // SCD of a salt
		{"316151", []string{"29046"}}, // SCDC
		{"6918", []string{"6918"}},    // IN
	}
	for _, tc := range tests {
		ins, err := d.Ingredients(ctx, tc.code)
		if err != nil {
			t.Errorf("Ingredients(%s): %v", tc.code, err)
			continue
		}
		var got []string
		for _, c := range ins {
			got = append(got, c.Code)
		}
		if strings.Join(got, ",") != strings.Join(tc.want, ",") {
			t.Errorf("Ingredients(%s) = %v, want %v", tc.code, got, tc.want)
		}
	}
	scd, err := d.Related(ctx, RxNorm, "104377", RelTradenameOf, false)
	if err != nil || len(scd) != 1 || scd[0].Code != "314076" {
		t.Errorf("SBD 104377 tradename_of = %v, %v; want SCD 314076", scd, err)
	}
	bn, err := d.Related(ctx, RxNorm, "104377", RelHasBrandName, false)
	if err != nil || len(bn) != 1 || bn[0].Code != "196472" {
		t.Errorf("SBD 104377 has_brand_name = %v, %v; want BN 196472", bn, err)
	}
	// Synonym term types (SY, TMSY) are searchable.
	cs, err := d.Search(ctx, RxNorm, "hydrOXYzine", nil)
	if err != nil || len(cs) == 0 || cs[0].Code != "5553" {
		t.Errorf("Search(hydrOXYzine) = %v, %v", cs, err)
	}
	cs, err = d.Search(ctx, RxNorm, "Zestril 10 MG Oral Tablet", nil)
	if err != nil || len(cs) == 0 || cs[0].Code != "104377" || cs[0].Reason != ReasonSynonym {
		t.Errorf("Search(SY of 104377) = %v, %v", cs, err)
	}
	m, ok, err := d.ResolveDrug(ctx, DrugQuery{Name: "Toprol XL", Strength: "50 mg"})
	if err != nil || !ok || m.Drug.Code != "866438" {
		t.Errorf("ResolveDrug(Toprol XL 50 mg) = %+v, %v, %v; want SBD 866438", m, ok, err)
	}
}

func TestImportTSV(t *testing.T) {
	t.Parallel()
	d := openTemp(t)
	ctx := context.Background()
	res, err := d.ImportTSV(ctx, RxNorm, "testdata/custom-rxnorm.tsv", nil)
	if err != nil || res.Concepts != 3 || res.Source != "tsv:custom-rxnorm.tsv" {
		t.Fatalf("rxnorm list: %+v, %v", res, err)
	}
	if c := mustLookup(t, d, RxNorm, "197806"); c.Kind != "SCD" {
		t.Errorf("197806 = %+v", c)
	}
	ins, err := d.Ingredients(ctx, "197806")
	if err != nil || len(ins) != 1 || ins[0].Code != "5640" {
		t.Errorf("Ingredients(197806) = %v, %v; want 5640 derived from the name", ins, err)
	}
	if _, err := d.ImportTSV(ctx, ICD10CMURL, "testdata/custom-icd10cm.tsv", nil); err != nil {
		t.Fatal(err)
	}
	if c := mustLookup(t, d, ICD10CM, "Z9989"); c.Display != "Dependence on other enabling machines and devices" {
		t.Errorf("Z99.89 = %+v", c)
	}
	if _, err := d.ImportTSV(ctx, "loinc", "testdata/custom-icd10cm.tsv", nil); !errors.Is(err, ErrUnknownSystem) {
		t.Errorf("unknown system: %v", err)
	}
}

func gzipBytes(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	if _, err := zw.Write(b); err != nil {
		t.Fatal(err)
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestImportBadInput feeds malformed files to every importer: each must fail
// with file:line and leave the data of the previous imports as it was.
func TestImportBadInput(t *testing.T) {
	t.Parallel()
	codes, err := os.ReadFile("testdata/icd10cm-codes-2099.txt")
	if err != nil {
		t.Fatal(err)
	}
	conso, err := os.ReadFile("testdata/rrf/RXNCONSO.RRF")
	if err != nil {
		t.Fatal(err)
	}
	gz := gzipBytes(t, codes)
	tests := []struct {
		name   string
		file   string // name written in the temp dir
		body   []byte
		rel    []byte // RXNREL.RRF beside an RRF file, when set
		wantAt string // "file:line"
		want   string // part of the reason
	}{
		{"codes: no line ending at the end", "icd10cm-codes-2100.txt", codes[:len(codes)-2], nil, "icd10cm-codes-2100.txt:12", "truncated"},
		{"codes: gzip cut short", "icd10cm-codes-2100.txt.gz", gz[:len(gz)/2], nil, "icd10cm-codes-2100.txt.gz:", "truncated"},
		{"codes: line cut inside the code field", "icd10cm-codes-2100.txt", append(append([]byte{}, codes...), "E11\r\n"...), nil, "icd10cm-codes-2100.txt:13", "padded to 8"},
		{"codes: non-UTF-8 bytes", "icd10cm-codes-2100.txt", append(append([]byte{}, codes...), "E1122   Type 2 diabetes \xff\xfe\r\n"...), nil, "icd10cm-codes-2100.txt:13", "invalid UTF-8"},
		{"codes: duplicate code", "icd10cm-codes-2100.txt", append(append([]byte{}, codes...), "I10     Essential (primary) hypertension\r\n"...), nil, "icd10cm-codes-2100.txt:13", "duplicate code I10 (first on line 7)"},
		{"codes: not a code", "icd10cm-codes-2100.txt", []byte("11E9    Type 2 diabetes\r\n"), nil, "icd10cm-codes-2100.txt:1", "invalid ICD-10-CM code"},
		{"order: bad billable flag", "icd10cm-order-2100.txt", []byte("00001 E11     7 Type 2 diabetes mellitus                                     Type 2 diabetes mellitus\r\n"), nil, "icd10cm-order-2100.txt:1", "billable flag"},
		{"order tsv: wrong column count", "order.tsv", []byte("code\tbillable\tshort_desc\tlong_desc_max100\nE11\t0\tType 2 diabetes mellitus\n"), nil, "order.tsv:2", "want 4 tab-separated columns, got 3"},
		{"rrf: wrong column count", "RXNCONSO.RRF", append(append([]byte{}, conso...), "29047|ENG||RXNORM|IN|x|\n"...), []byte{}, "RXNCONSO.RRF:18", "want 18 '|'-separated fields, got 6"},
		{"rrf: non-UTF-8", "RXNCONSO.RRF", append(append([]byte{}, conso...), "29047|ENG||||||9|9|29047||RXNORM|IN|29047|caf\xe9||N|4096|\n"...), []byte{}, "RXNCONSO.RRF:18", "invalid UTF-8"},
		{"rrf: relations wrong column count", "RXNCONSO.RRF", conso, []byte("29046||CUI|RO|316151||CUI|has_ingredient|R1||RXNORM|RXNORM||N|\n"), "RXNREL.RRF:1", "want 16 '|'-separated fields"},
		{"tsv: wrong column count", "list.tsv", []byte("rxcui\ttty\tname\n5640\tIN\n"), nil, "list.tsv:2", "want 3 tab-separated columns, got 2"},
		{"tsv: duplicate code", "list.tsv", []byte("5640\tIN\tibuprofen\n5640\tIN\tibuprofen\n"), nil, "list.tsv:2", "duplicate code 5640 (first on line 1)"},
		{"tsv: unknown TTY", "list.tsv", []byte("5640\tXX\tibuprofen\n"), nil, "list.tsv:1", "unsupported TTY"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ctx := context.Background()
			d := openTemp(t)
			if _, err := d.ImportICD10CMCodes(ctx, "testdata/icd10cm-codes-2099.txt", nil); err != nil {
				t.Fatal(err)
			}
			if _, err := d.ImportRxNormRRF(ctx, "testdata/rrf", nil); err != nil {
				t.Fatal(err)
			}
			icdBefore, rxBefore := conceptCount(t, d, ICD10CM), conceptCount(t, d, RxNorm)
			dir := t.TempDir()
			p := filepath.Join(dir, tc.file)
			if err := os.WriteFile(p, tc.body, 0o644); err != nil {
				t.Fatal(err)
			}
			if tc.rel != nil {
				if err := os.WriteFile(filepath.Join(dir, "RXNREL.RRF"), tc.rel, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			switch {
			case strings.HasPrefix(tc.file, "icd10cm-codes"):
				_, err = d.ImportICD10CMCodes(ctx, p, nil)
			case strings.HasPrefix(tc.file, "icd10cm-order"), tc.file == "order.tsv":
				_, err = d.ImportICD10CMOrder(ctx, p, nil)
			case tc.file == "RXNCONSO.RRF":
				_, err = d.ImportRxNorm(ctx, dir, nil)
			default:
				_, err = d.ImportTSV(ctx, RxNorm, p, nil)
			}
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("err = %v, want a *ParseError", err)
			}
			if !strings.Contains(err.Error(), tc.wantAt) || !strings.Contains(pe.Reason, tc.want) {
				t.Errorf("err = %q, want %q and %q", err, tc.wantAt, tc.want)
			}
			if a, b := conceptCount(t, d, ICD10CM), conceptCount(t, d, RxNorm); a != icdBefore || b != rxBefore {
				t.Errorf("after the failed import: %d/%d concepts, want %d/%d", a, b, icdBefore, rxBefore)
			}
			if c := mustLookup(t, d, ICD10CM, "E11.9"); c.Display != "Type 2 diabetes mellitus without complications" {
				t.Errorf("E11.9 = %+v", c)
			}
			mustLookup(t, d, RxNorm, "866438")
			if cs, err := d.Search(ctx, RxNorm, "lisinopril", nil); err != nil || len(cs) == 0 || cs[0].Code != "29046" {
				t.Errorf("search after the failed import = %v, %v", cs, err)
			}
		})
	}
}

// TestImportKilledHalfway kills (SIGKILL) a process in the middle of a
// large import and checks that the database still serves the data of the
// import before it, and none of the interrupted one.
func TestImportKilledHalfway(t *testing.T) {
	if os.Getenv("TERMINOLOGY_IMPORT_HELPER") == "1" {
		importHelper()
		return
	}
	t.Parallel()
	ctx := context.Background()
	dir := t.TempDir()
	dbPath := filepath.Join(dir, "t.db")
	d, err := Open(ctx, dbPath)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.ImportICD10CMCodes(ctx, "testdata/icd10cm-codes-2099.txt", nil); err != nil {
		t.Fatal(err)
	}
	d.Close()
	// A codes file of 300,000 made-up codes (Z99.0000 ...) that the
	// interrupted import would add.
	big := filepath.Join(dir, "icd10cm-codes-2101.txt")
	f, err := os.Create(big)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	for i := 0; i < 300000; i++ {
		fmt.Fprintf(w, "%-8sSynthetic test code %d\r\n", fmt.Sprintf("Z%06d", i), i)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()

	cmd := exec.Command(os.Args[0], "-test.run=^TestImportKilledHalfway$")
	cmd.Env = append(os.Environ(), "TERMINOLOGY_IMPORT_HELPER=1", "TERMINOLOGY_DB="+dbPath, "TERMINOLOGY_FILE="+big)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// The helper prints a line once it has read a third of the file.
	sc := bufio.NewScanner(out)
	gotHalf := false
	deadline := time.AfterFunc(2*time.Minute, func() { cmd.Process.Kill() })
	defer deadline.Stop()
	for sc.Scan() {
		if sc.Text() == "halfway" {
			gotHalf = true
			break
		}
	}
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	werr := cmd.Wait()
	if !gotHalf {
		t.Fatalf("helper never reported progress (exit: %v)", werr)
	}

	d, err = Open(ctx, dbPath)
	if err != nil {
		t.Fatalf("reopen after kill: %v", err)
	}
	defer d.Close()
	if n := conceptCount(t, d, ICD10CM); n != 12 {
		t.Errorf("%d ICD-10-CM concepts after the killed import, want the 12 from before", n)
	}
	if _, err := d.Lookup(ctx, ICD10CM, "Z00.0001"); !errors.Is(err, ErrNotFound) {
		t.Errorf("a code of the killed import is visible: %v", err)
	}
	if cs, err := d.Search(ctx, ICD10CM, "type 2 diabetes with diabetic neuropathy", nil); err != nil || len(cs) == 0 || cs[0].Code != "E11.40" {
		t.Errorf("search after the killed import = %v, %v", cs, err)
	}
}

// importHelper runs in the child process of TestImportKilledHalfway.
func importHelper() {
	d, err := Open(context.Background(), os.Getenv("TERMINOLOGY_DB"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	said := false
	_, err = d.ImportICD10CMCodes(context.Background(), os.Getenv("TERMINOLOGY_FILE"), &ImportOptions{
		Progress: func(done, total int64) {
			if !said && done > total/3 {
				said = true
				fmt.Println("halfway")
				// Keep the transaction open until the parent kills us.
				time.Sleep(time.Minute)
			}
		},
	})
	fmt.Fprintln(os.Stderr, "helper import finished:", err)
	os.Exit(3)
}

func FuzzImportICD10CMCodes(f *testing.F) {
	codes, err := os.ReadFile("testdata/icd10cm-codes-2099.txt")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(codes)
	f.Add([]byte("E119    Type 2 diabetes\r\nE119    again\r\n"))
	f.Add([]byte("\xff\xfe\r\n"))
	d, err := OpenStarter(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	defer d.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		p := filepath.Join(t.TempDir(), "icd10cm-codes-fuzz.txt")
		if err := os.WriteFile(p, body, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ImportICD10CMCodes(context.Background(), p, nil); err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
		}
		if _, err := d.Lookup(context.Background(), ICD10CM, "E11.9"); err != nil && !errors.Is(err, ErrNotFound) {
			t.Fatal(err)
		}
	})
}

func FuzzImportRxNormRRF(f *testing.F) {
	conso, err := os.ReadFile("testdata/rrf/RXNCONSO.RRF")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(conso)
	f.Add([]byte("1|ENG||||||1|1|1||RXNORM|IN|1|x||N|4096|\n"))
	d, err := OpenStarter(context.Background())
	if err != nil {
		f.Fatal(err)
	}
	defer d.Close()
	f.Fuzz(func(t *testing.T, body []byte) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "RXNCONSO.RRF"), body, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, err := d.ImportRxNormRRF(context.Background(), dir, nil); err != nil {
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error is not a ParseError: %v", err)
			}
		}
	})
}
