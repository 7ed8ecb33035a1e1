package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"time"

	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/llama"
	gemmagen "github.com/medscribe/medscribe/extract/testmodel"
	"github.com/medscribe/medscribe/fhir"
)

func init() {
	register("bench", "measure language-model throughput on this machine (bench llm)", runBench)
}

// benchTranscript is a 200-word dictation, committed in ten segments,
// for the end-to-end measurement.
var benchTranscript = []string{
	"This is a 64-year-old man seen today in the clinic for follow-up of his type 2 diabetes and hypertension, accompanied by his wife.",
	"He reports good adherence to metformin 1000 mg twice daily and lisinopril 20 mg once daily, and checks his sugars every morning.",
	"He denies chest pain, shortness of breath, palpitations or leg swelling, and he has no polyuria, polydipsia or blurred vision.",
	"He does report numbness and tingling in both feet at night, worse over the past three months, without any foot ulcers.",
	"His mother had breast cancer and his father had coronary artery disease and a heart attack at the age of 58.",
	"He is allergic to penicillin, which caused hives as a child, and he does not take aspirin because of stomach upset.",
	"Past medical history is also significant for hyperlipidemia, gastroesophageal reflux disease and obstructive sleep apnea on CPAP.",
	"Assessment: type 2 diabetes with diabetic neuropathy, uncontrolled, and hypertension not at goal.",
	"Plan: start atorvastatin 40 mg at bedtime, continue metformin, increase lisinopril to 40 mg daily, and start gabapentin 300 mg at bedtime for the neuropathy.",
	"Check a hemoglobin A1c and a lipid panel today, and return in three months, or sooner if he develops chest pain or foot wounds.",
}

type benchReport struct {
	Model       string              `json:"model"`
	Device      string              `json:"device"`
	Threads     int                 `json:"threads"`
	Throughput  llama.BenchResult   `json:"throughput"`
	Speculative *specReport         `json:"speculative,omitempty"`
	Transcript  *transcriptReport   `json:"transcript_200_words,omitempty"`
	Extra       map[string]any      `json:"extra,omitempty"`
	GPUs        []map[string]string `json:"gpus,omitempty"`
}

type specReport struct {
	Draft        string  `json:"draft"`
	K            int     `json:"k"`
	Tokens       int     `json:"tokens"`
	Rounds       int     `json:"rounds"`
	AcceptRate   float64 `json:"accept_rate"`
	TokensPerSec float64 `json:"effective_tok_per_s"`
	// VerifyMS is the time of one target pass over k+1 tokens, and
	// DraftStepMS one draft step: with them, the effective rate at any
	// acceptance rate a is (1+a+…+a^k)/(k·draft+verify).
	VerifyMS    float64            `json:"verify_pass_ms"`
	DraftStepMS float64            `json:"draft_step_ms"`
	Projected   map[string]float64 `json:"projected_tok_per_s_at_accept_rate"`
}

type transcriptReport struct {
	Words        int     `json:"words"`
	Segments     int     `json:"segments"`
	TotalMS      float64 `json:"total_ms"`
	PerSegmentMS []int64 `json:"per_segment_ms"`
	Items        int     `json:"items"`
	PromptTokens int     `json:"prompt_tokens_evaluated"`
	FullPrompt   int     `json:"full_reprompt_tokens"`
	Generated    int     `json:"generated_tokens"`
}

func runBench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "llm" {
		fmt.Fprintln(stderr, "usage: medscribe bench llm [flags]   (medscribe bench llm --help for the flags)")
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "-help") {
			return flag.ErrHelp
		}
		return errUsage
	}
	fs := newFlags("bench llm", "[flags]", stderr)
	model := fs.String("model", "", "GGUF file, or the name of a generated test model (default gemma3-1b-q8_0)")
	draft := fs.String("draft", "", "draft model for speculative decoding (GGUF file or generated name); empty: none")
	k := fs.Int("k", 4, "tokens the draft proposes per target pass")
	threads := fs.Int("threads", runtime.NumCPU(), "CPU threads")
	prompt := fs.Int("prompt", 512, "prompt tokens to prefill")
	decode := fs.Int("decode", 128, "tokens to generate")
	gpuLibs := fs.String("gpu-libs", "", "folder with ggml GPU backend libraries (path containing lib/ollama)")
	gpuLayers := fs.Int("gpu-layers", 999, "layers to offload")
	flash := fs.Bool("flash-attention", true, "use flash attention")
	transcript := fs.Bool("transcript", true, "also run the 200-word dictation through the model extractor")
	tokenizer := fs.String("tokenizer", "", "tokenizer folder for generating test models on a machine without the Go module cache")
	logLevel := fs.String("log-level", "warn", "log level")
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	log, err := newLogger(*logLevel, "text", stderr)
	if err != nil {
		return err
	}
	llama.SetLogger(log)
	llama.Init(*gpuLibs)
	load := func(spec string) (*llama.Model, string, error) {
		path := spec
		if _, err := os.Stat(spec); err != nil {
			r, err := gemmagen.Ensure(ctx, filepath.Join(cacheDir(), "testmodels"), spec, &gemmagen.Options{TokenizerDir: *tokenizer})
			if err != nil {
				return nil, "", err
			}
			path = r.Path
		}
		opts := llama.LoadOptions{}
		if *gpuLibs != "" {
			gpus := llama.GPUs()
			if len(gpus) == 0 {
				return nil, "", fmt.Errorf("--gpu-libs %s: no GPU backend loaded", *gpuLibs)
			}
			opts.GPULayers = *gpuLayers
			for _, g := range gpus {
				opts.GPU = append(opts.GPU, g.LlamaID)
			}
		}
		m, err := llama.Load(path, opts)
		return m, path, err
	}
	if *model == "" {
		*model = "gemma3-1b-q8_0"
	}
	m, path, err := load(*model)
	if err != nil {
		return err
	}
	defer m.Close()
	rep := benchReport{Model: filepath.Base(path), Device: "cpu", Threads: *threads}
	if *gpuLibs != "" {
		rep.Device = "gpu"
		for _, g := range llama.GPUs() {
			rep.GPUs = append(rep.GPUs, map[string]string{"id": g.ID, "library": g.Library})
		}
	}
	seqOpts := llama.SeqOptions{Context: *prompt + 2**decode + 1024, Batch: 512, Threads: *threads, FlashAttention: *flash}
	g, err := llama.SchemaGrammar([]byte(benchSchemaJSON))
	if err != nil {
		return err
	}
	rep.Throughput, err = llama.Bench(ctx, m, llama.BenchOptions{Prompt: *prompt, Decode: *decode, Grammar: g, Seq: seqOpts})
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "prefill %.0f tok/s, decode %.1f tok/s, with grammar %.1f tok/s\n",
		rep.Throughput.PrefillPerSec, rep.Throughput.DecodePerSec, rep.Throughput.GrammarPerSec)

	if *draft != "" {
		dm, dpath, err := load(*draft)
		if err != nil {
			return err
		}
		defer dm.Close()
		sr, err := benchSpeculative(ctx, m, dm, seqOpts, *prompt, *decode, *k)
		if err != nil {
			return err
		}
		sr.Draft = filepath.Base(dpath)
		rep.Speculative = sr
		fmt.Fprintf(stderr, "speculative (k=%d): %.1f tok/s effective, acceptance %.2f\n", *k, sr.TokensPerSec, sr.AcceptRate)
	}
	if *transcript {
		tr, err := benchTranscriptRun(ctx, m, seqOpts)
		if err != nil {
			return err
		}
		rep.Transcript = tr
		fmt.Fprintf(stderr, "200-word dictation: %.0f ms, %d items\n", tr.TotalMS, tr.Items)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(rep)
}

const benchSchemaJSON = `{"type":"object","properties":{"items":{"type":"array","maxItems":6,"items":{"type":"object","properties":{"type":{"enum":["medication","condition"]},"name":{"type":"string","maxLength":40},"dose":{"type":"string","maxLength":16}},"required":["type","name"]}}},"required":["items"]}`

func benchSpeculative(ctx context.Context, m, dm *llama.Model, opts llama.SeqOptions, promptLen, decode, k int) (*specReport, error) {
	words, err := m.Tokenize(" The patient takes metformin 500 mg twice daily and lisinopril 10 mg for hypertension.", false, false)
	if err != nil {
		return nil, err
	}
	prompt, _ := m.Tokenize("<start_of_turn>user\n", true, true)
	for len(prompt) < promptLen {
		prompt = append(prompt, words...)
	}
	prompt = prompt[:promptLen]
	t, err := m.NewSeq(opts)
	if err != nil {
		return nil, err
	}
	defer t.Close()
	d, err := dm.NewSeq(opts)
	if err != nil {
		return nil, err
	}
	defer d.Close()
	if _, err := t.Eval(ctx, prompt); err != nil {
		return nil, err
	}
	if _, err := d.Eval(ctx, prompt); err != nil {
		return nil, err
	}
	start := time.Now()
	out, st, err := t.GenerateSpeculative(ctx, d, k, decode, nil)
	if err != nil {
		return nil, err
	}
	el := time.Since(start)
	sr := &specReport{K: k, Tokens: len(out), Rounds: st.Rounds, AcceptRate: st.AcceptRate(),
		TokensPerSec: float64(len(out)) / el.Seconds(), Projected: map[string]float64{}}

	// Cost of one verify pass (k+1 tokens) and of one draft step.
	verify := func(s *llama.Seq, n int) (time.Duration, error) {
		s.Truncate(len(prompt))
		start := time.Now()
		if _, err := s.Eval(ctx, slices.Repeat(words[:1], n)); err != nil {
			return 0, err
		}
		return time.Since(start), nil
	}
	const reps = 8
	var tv, td time.Duration
	for range reps {
		v, err := verify(t, k+1)
		if err != nil {
			return nil, err
		}
		s, err := verify(d, 1)
		if err != nil {
			return nil, err
		}
		tv += v
		td += s
	}
	sr.VerifyMS = float64(tv.Microseconds()) / reps / 1000
	sr.DraftStepMS = float64(td.Microseconds()) / reps / 1000
	for _, a := range []float64{0.5, 0.6, 0.7, 0.8, 0.9} {
		exp, p := 1.0, 1.0
		for range k {
			p *= a
			exp += p
		}
		sr.Projected[fmt.Sprintf("%.1f", a)] = exp / ((float64(k)*sr.DraftStepMS + sr.VerifyMS) / 1000)
	}
	return sr, nil
}

// benchTranscriptRun runs the 200-word dictation through the model
// extractor, grounded in the embedded starter terminology and validated.
func benchTranscriptRun(ctx context.Context, m *llama.Model, opts llama.SeqOptions) (*transcriptReport, error) {
	term, _, err := openTerminology(ctx, "", slogDiscard())
	if err != nil {
		return nil, err
	}
	defer term.Close()
	asm := &extract.Assembler{Subject: fhir.Reference{Reference: "Patient/bench"}, Validator: fhirValidator{fhir.Validator{Terminology: term}}}
	x, err := extract.NewLLM(ctx, m.LM(opts), term, asm, nil)
	if err != nil {
		return nil, err
	}
	defer x.Close()
	tr := &transcriptReport{Segments: len(benchTranscript)}
	start := time.Now()
	for i, s := range benchTranscript {
		tr.Words += len(strings.Fields(s))
		t0 := time.Now()
		items, err := x.Feed(ctx, extract.Segment{ID: i, Text: s}, nil)
		if err != nil {
			return nil, err
		}
		tr.Items += len(items)
		tr.PerSegmentMS = append(tr.PerSegmentMS, time.Since(t0).Milliseconds())
	}
	tr.TotalMS = float64(time.Since(start).Microseconds()) / 1000
	st := x.Stats()
	tr.PromptTokens, tr.FullPrompt, tr.Generated = st.PromptTokens, st.FullPromptTokens, st.GeneratedTokens
	return tr, nil
}
