package llama

import (
	"context"
	"os"
	"runtime"
	"strconv"
	"testing"

	"github.com/medscribe/medscribe/extract/testmodel"
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
