package llama

import (
	"context"
	"os"
	"runtime"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/testmodel"
	"github.com/medscribe/medscribe/fhir"
)

// benchModel loads a generated model by name (gemma3-1b-q8_0 by default,
// MEDSCRIBE_BENCH_LLM to choose another).
func benchModel(b *testing.B, def string) *Model {
	b.Helper()
	name := def
	if v := os.Getenv("MEDSCRIBE_BENCH_LLM"); v != "" {
		name = v
	}
	Init("")
	path, err := testmodel.Generate(context.Background(), "", name)
	if err != nil {
		b.Fatal(err)
	}
	m, err := Load(path, LoadOptions{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(m.Close)
	return m
}

func benchThreads() int {
	if v, err := strconv.Atoi(os.Getenv("MEDSCRIBE_BENCH_THREADS")); err == nil && v > 0 {
		return v
	}
	return runtime.NumCPU()
}

const benchSchema = `{"type":"object","properties":{"items":{"type":"array","maxItems":6,"items":{"type":"object","properties":{"type":{"enum":["medication","condition"]},"name":{"type":"string","maxLength":40},"dose":{"type":"string","maxLength":16}},"required":["type","name"]}}},"required":["items"]}`

// BenchmarkThroughput1B reports prefill and decode tokens per second of
// the Gemma-3-1B-shaped Q8_0 model on the CPU, with and without a
// JSON-schema grammar, and the cost of appending to a cached prefix
// against re-evaluating it.
//
//	go test -run '^$' -bench Throughput1B -benchtime 3x ./extract/llama
func BenchmarkThroughput1B(b *testing.B) {
	m := benchModel(b, "gemma3-1b-q8_0")
	g, err := SchemaGrammar([]byte(benchSchema))
	if err != nil {
		b.Fatal(err)
	}
	var last BenchResult
	for b.Loop() {
		last, err = Bench(context.Background(), m, BenchOptions{Prompt: 256, Decode: 64, Grammar: g,
			Seq: SeqOptions{Threads: benchThreads(), Context: 1024}})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(last.PrefillPerSec, "prefill-tok/s")
	b.ReportMetric(last.DecodePerSec, "decode-tok/s")
	b.ReportMetric(last.GrammarPerSec, "grammar-tok/s")
	b.ReportMetric(float64(last.Append.Milliseconds()), "append16-ms")
	b.ReportMetric(float64(last.FullReeval.Milliseconds()), "reeval-ms")
}

// dictation10 is a scripted ten-segment dictation.
var dictation10 = []string{
	"Chief complaint: follow-up of diabetes and high blood pressure.",
	"She takes metformin 500 mg twice daily with meals.",
	"Lisinopril 10 mg once daily for hypertension.",
	"She denies chest pain or shortness of breath.",
	"Her mother had breast cancer.",
	"She is allergic to penicillin, which gave her a rash.",
	"Past history of asthma, uses albuterol inhaler two puffs as needed.",
	"Blood pressure today is 150 over 90.",
	"Plan: increase lisinopril to 20 mg daily.",
	"Start atorvastatin 20 mg at bedtime and recheck labs in three months.",
}

// BenchmarkIncrementalExtraction1B feeds the ten-segment dictation to the
// model extractor on the Gemma-3-1B-shaped model (CPU) and reports the
// prompt tokens evaluated per segment against a full re-prompt, and the
// time from a committed segment to its first item.partial and to its
// first item.final (p50/p95 over the segments).
//
//	go test -run '^$' -bench IncrementalExtraction1B -benchtime 1x ./extract/llama
func BenchmarkIncrementalExtraction1B(b *testing.B) {
	m := benchModel(b, "gemma3-1b-q8_0")
	term, err := terminology.OpenStarter(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer term.Close()
	asm := &extract.Assembler{Subject: fhir.Reference{Reference: "Patient/bench"},
		Validator: extract.FHIRValidator{Validator: &fhir.Validator{Terminology: term}}}
	var partial, final []time.Duration
	var st extract.LLMStats
	for b.Loop() {
		x, err := extract.NewLLM(context.Background(), m.LM(SeqOptions{Context: 4096, Threads: benchThreads()}), term, asm, nil)
		if err != nil {
			b.Fatal(err)
		}
		for i, s := range dictation10 {
			start := time.Now()
			first := time.Duration(0)
			items, err := x.Feed(context.Background(), extract.Segment{ID: i, Text: s}, func(extract.Partial) {
				if first == 0 {
					first = time.Since(start)
				}
			})
			if err != nil {
				b.Fatal(err)
			}
			if first > 0 {
				partial = append(partial, first)
			}
			if len(items) > 0 {
				final = append(final, x.Stats().FirstFinal[len(x.Stats().FirstFinal)-1])
			}
		}
		st = x.Stats()
		x.Close()
	}
	// Instructions are evaluated once per session; per segment, only the
	// segment's line and the turn markers are.
	perSeg := float64(st.PromptTokens-st.InstructionTokens) / float64(st.Calls)
	b.ReportMetric(perSeg, "prompt-tok/segment")
	b.ReportMetric(float64(st.FullPromptTokens)/float64(st.Calls), "full-reprompt-tok/segment")
	b.ReportMetric(perSeg/(float64(st.FullPromptTokens)/float64(st.Calls)), "incremental/full")
	b.ReportMetric(float64(st.PromptTokens)/float64(st.FullPromptTokens), "session-incremental/full")
	b.ReportMetric(float64(st.GeneratedTokens)/float64(st.Calls), "generated-tok/segment")
	report := func(name string, ds []time.Duration) {
		if len(ds) == 0 {
			return
		}
		slices.Sort(ds)
		b.ReportMetric(float64(ds[len(ds)/2].Milliseconds()), name+"-p50-ms")
		b.ReportMetric(float64(ds[(len(ds)*95+99)/100-1].Milliseconds()), name+"-p95-ms")
	}
	report("first-partial", partial)
	report("first-final", final)
}
