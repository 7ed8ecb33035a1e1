package terminology

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"
)

// The speed goals of the terminology: with the full shared ICD-10-CM and
// RxNorm loaded, fuzzy search p99 <= 2 ms, and the full ICD-10-CM codes
// file imported in <= 10 s.
//
//	go test -run '^$' -bench . -benchtime 2000x ./db/terminology/

// BenchmarkImportICD10CM imports the full FY2026 codes file into a fresh
// database per iteration and reports the database size.
func BenchmarkImportICD10CM(b *testing.B) {
	codes := sharedFile(b, "icd10cm/icd10cm-codes-2026.txt.gz")
	ctx := context.Background()
	var size int64
	for b.Loop() {
		b.StopTimer()
		path := filepath.Join(b.TempDir(), "t.db")
		d, err := Open(ctx, path)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		res, err := d.ImportICD10CMCodes(ctx, codes, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if res.Concepts != 74719 {
			b.Fatalf("imported %d codes, want 74719", res.Concepts)
		}
		if _, err := d.sql.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			b.Fatal(err)
		}
		st, err := os.Stat(path)
		if err != nil {
			b.Fatal(err)
		}
		size = st.Size()
		d.Close()
		b.StartTimer()
	}
	b.ReportMetric(float64(size)/1e6, "MB-db")
}

// BenchmarkFullDatabaseSize reports the size of the database holding the
// full shared ICD-10-CM (codes and order file) and RxNorm tables.
func BenchmarkFullDatabaseSize(b *testing.B) {
	d := full(b)
	if fullDir == "" {
		b.Skip("the database was built elsewhere (TERMINOLOGY_BENCH_DB)")
	}
	if _, err := d.sql.Exec(`PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(filepath.Join(fullDir, "full.db"))
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
	}
	b.ReportMetric(float64(st.Size())/1e6, "MB-db")
	for _, r := range fullRes {
		b.Logf("%s", r)
	}
}

func BenchmarkLookup(b *testing.B) {
	d := full(b)
	ctx := context.Background()
	codes := []struct{ system, code string }{
		{ICD10CM, "E11.9"}, {ICD10CM, "I10"}, {ICD10CM, "S82.891A"}, {ICD10CM, "E119"},
		{RxNorm, "29046"}, {RxNorm, "314076"}, {RxNorm, "866436"}, {ICD10CM, "Z99.999"},
	}
	i := 0
	for b.Loop() {
		c := codes[i%len(codes)]
		i++
		if _, err := d.Lookup(ctx, c.system, c.code); err != nil && c.code != "Z99.999" {
			b.Fatal(err)
		}
	}
}

// fuzzyQueries are misspelled, mis-heard and reworded phrases: every one
// goes past the exact-name lookup into the phonetic, trigram and word
// routes.
var fuzzyQueries = []struct{ system, phrase string }{
	{RxNorm, "lysine april"}, {RxNorm, "met for men"}, {RxNorm, "lip it or"}, {RxNorm, "gapapentin"},
	{RxNorm, "acetominophen"}, {RxNorm, "amox a cillin"}, {RxNorm, "car ved a lol"}, {RxNorm, "sertaline"},
	{RxNorm, "hydro chlorothiazide"}, {RxNorm, "metoprolol succinate er 50 mg"}, {RxNorm, "alprazaolam"},
	{RxNorm, "clopidigrel"}, {ICD10CM, "hypertention"}, {ICD10CM, "type 2 diabetes with diabetic neuropathy"},
	{ICD10CM, "congestive heart failiure"}, {ICD10CM, "pain in the right knee"}, {ICD10CM, "gasteroenteritis"},
	{ICD10CM, "chronic kidney disease stage 3b"}, {ICD10CM, "diabetes type two"}, {ICD10CM, "shortness of breath on exertion"},
}

// BenchmarkSearchFuzzy reports per-query latency percentiles over the
// fuzzy query set.
func BenchmarkSearchFuzzy(b *testing.B) {
	benchSearch(b, fuzzyQueries)
}

// BenchmarkSearchExact covers names found by the first, exact step.
func BenchmarkSearchExact(b *testing.B) {
	benchSearch(b, []struct{ system, phrase string }{
		{ICD10CM, "HTN"}, {ICD10CM, "type 2 diabetes"}, {RxNorm, "lisinopril"}, {RxNorm, "Lipitor"},
		{ICD10CM, "COPD"}, {RxNorm, "metformin"}, {ICD10CM, "Essential (primary) hypertension"}, {RxNorm, "Norco"},
	})
}

func benchSearch(b *testing.B, queries []struct{ system, phrase string }) {
	d := full(b)
	ctx := context.Background()
	for _, q := range queries { // warm the page cache and the per-import counts
		if _, err := d.Search(ctx, q.system, q.phrase, nil); err != nil {
			b.Fatal(err)
		}
	}
	lat := make([]time.Duration, 0, b.N)
	i := 0
	for b.Loop() {
		q := queries[i%len(queries)]
		i++
		t0 := time.Now()
		cs, err := d.Search(ctx, q.system, q.phrase, nil)
		lat = append(lat, time.Since(t0))
		if err != nil || len(cs) == 0 {
			b.Fatalf("Search(%q) = %v, %v", q.phrase, cs, err)
		}
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// BenchmarkOpenStarter is the start-up cost of the embedded starter set.
func BenchmarkOpenStarter(b *testing.B) {
	ctx := context.Background()
	for b.Loop() {
		d, err := OpenStarter(ctx)
		if err != nil {
			b.Fatal(err)
		}
		d.Close()
	}
}
