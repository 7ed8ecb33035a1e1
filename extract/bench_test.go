package extract_test

import (
	"context"
	"os"
	"runtime"
	"sort"
	"testing"
	"time"

	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/internal/termtest"
	"github.com/medscribe/medscribe/fhir"
)

// The speed goals: a 3,000-character note end to end in 5 ms at the 95th
// percentile with the full terminology, one incremental segment in 1 ms.
// "End to end" is text in, validated FHIR items out: tokens, sections,
// matches, sigs, assertions, the FHIR resources built, encoded and (in the
// Validated variants) checked by the fhir validator. The lexicon is built
// once per terminology before timing, as a server does at start.

func readNote(b *testing.B) string {
	b.Helper()
	data, err := os.ReadFile("testdata/note-3000.txt")
	if err != nil {
		b.Fatal(err)
	}
	return string(data)
}

// percentiles reports the median and 95th percentile of per-operation
// wall times (and, where the OS reports it, of the thread CPU time, which
// a loaded machine does not inflate) as custom metrics.
func percentiles(b *testing.B, d, cpu []time.Duration) {
	b.Helper()
	report := func(d []time.Duration, prefix string) {
		if len(d) == 0 {
			return
		}
		sort.Slice(d, func(i, j int) bool { return d[i] < d[j] })
		b.ReportMetric(float64(d[len(d)/2].Microseconds()), prefix+"p50-µs")
		b.ReportMetric(float64(d[len(d)*95/100].Microseconds()), prefix+"p95-µs")
	}
	report(d, "")
	report(cpu, "cpu-")
}

// timer measures one operation's wall and thread CPU time.
type timer struct {
	wall, cpu []time.Duration
	start     time.Time
	cpuStart  time.Duration
	cpuOK     bool
}

func (t *timer) begin() {
	t.cpuStart, t.cpuOK = threadCPU()
	t.start = time.Now()
}

func (t *timer) end() {
	t.wall = append(t.wall, time.Since(t.start))
	if c, ok := threadCPU(); ok && t.cpuOK {
		t.cpu = append(t.cpu, c-t.cpuStart)
	}
}

func benchNote(b *testing.B, lex *extract.Lexicon, validator extract.Validator) {
	note := readNote(b)
	asm := &extract.Assembler{Subject: fhir.PlaceholderPatientReference("bench"), Validator: validator}
	ctx := context.Background()
	if _, err := extract.Text(ctx, lex, asm, note); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(note)))
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var tm timer
	items := 0
	for b.Loop() {
		tm.begin()
		out, err := extract.Text(ctx, lex, asm, note)
		tm.end()
		if err != nil {
			b.Fatal(err)
		}
		items = len(out)
	}
	b.ReportMetric(float64(items), "items")
	percentiles(b, tm.wall, tm.cpu)
}

// BenchmarkNoteFull: the 2,779-character test note, full shared
// terminology, resources built and encoded.
func BenchmarkNoteFull(b *testing.B) { benchNote(b, termtest.FullLexicon(b), nil) }

// BenchmarkNoteFullValidated: the same with every resource validated
// (structure, bindings, invariants; terminology codes unchecked, as
// the lexicon only holds codes of the terminology).
func BenchmarkNoteFullValidated(b *testing.B) {
	benchNote(b, termtest.FullLexicon(b), extract.FHIRValidator{Validator: &fhir.Validator{}})
}

// BenchmarkNoteStarter: the note with the embedded starter terminology.
func BenchmarkNoteStarter(b *testing.B) { benchNote(b, termtest.StarterLexicon(b), nil) }

// BenchmarkSegmentFull: one committed segment (one dictated sentence) fed
// to a session that has already read the note, full terminology.
func BenchmarkSegmentFull(b *testing.B) {
	lex := termtest.FullLexicon(b)
	note := readNote(b)
	ctx := context.Background()
	asm := &extract.Assembler{Subject: fhir.PlaceholderPatientReference("bench")}
	segments := []string{
		"She also takes amlodipine 5 mg by mouth once daily.",
		"Make that 10 mg.",
		"She denies chest pain, palpitations or syncope.",
		"Her father had coronary artery disease.",
		"Start ceftriaxone 1 g IV every 24 hours for 7 days.",
		"Allergic to codeine, it gives her nausea.",
		"Possible urinary tract infection, will check a urinalysis.",
		"Continue omeprazole 20 mg before breakfast.",
	}
	b.ReportAllocs()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var tm timer
	var r *extract.Rules
	i := 0
	for b.Loop() {
		if i%len(segments) == 0 {
			// A fresh session that has read the note, so that updates and
			// lookups run against a realistic item list.
			b.StopTimer()
			r = extract.NewRules(lex, asm)
			if _, err := r.Feed(ctx, extract.Segment{ID: 0, Text: note}, nil); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		seg := extract.Segment{ID: i + 1, Text: segments[i%len(segments)]}
		tm.begin()
		_, err := r.Feed(ctx, seg, nil)
		tm.end()
		if err != nil {
			b.Fatal(err)
		}
		i++
	}
	percentiles(b, tm.wall, tm.cpu)
}

// BenchmarkLexiconBuildStarter builds the matcher over the starter
// terminology (done once per process).
func BenchmarkLexiconBuildStarter(b *testing.B) {
	db := termtest.Starter(b)
	for b.Loop() {
		l := extract.NewLexicon(termtest.Vocabulary{DB: db})
		if err := l.Build(context.Background()); err != nil {
			b.Fatal(err)
		}
	}
}
