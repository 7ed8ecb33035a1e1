package llama

import (
	"context"
	"fmt"
	"math/rand/v2"
	"time"
)

// BenchOptions size a throughput measurement.
type BenchOptions struct {
	Prompt  int    // prompt tokens to prefill (default 512)
	Decode  int    // tokens to generate (default 128)
	Grammar string // GBNF for the constrained run; "" skips it
	Seq     SeqOptions
}

// BenchResult holds throughputs in tokens per second.
type BenchResult struct {
	PrefillTokens   int
	PrefillPerSec   float64
	DecodeTokens    int
	DecodePerSec    float64
	GrammarTokens   int
	GrammarPerSec   float64
	AppendTokens    int           // tokens appended to a cached prefix
	Append          time.Duration // time to append them
	FullReeval      time.Duration // time to evaluate prefix + appended from scratch
	SamplingPerTok  time.Duration // CPU time per token spent outside decode (sampling, grammar)
	ContextCapacity int
}

// Bench measures prefill, free decoding, grammar-constrained decoding and
// KV-cache reuse on m. The prompt is random ordinary tokens: speed does not
// depend on what the tokens say.
func Bench(ctx context.Context, m *Model, o BenchOptions) (BenchResult, error) {
	if o.Prompt <= 0 {
		o.Prompt = 512
	}
	if o.Decode <= 0 {
		o.Decode = 128
	}
	if o.Seq.Context <= 0 {
		o.Seq.Context = o.Prompt + 2*o.Decode + 64
	}
	var r BenchResult
	seq, err := m.NewSeq(o.Seq)
	if err != nil {
		return r, err
	}
	defer seq.Close()
	r.ContextCapacity = seq.Capacity()
	// Words a clinical dictation is made of, tokenized, repeated to length.
	words, err := m.Tokenize(" The patient takes metformin 500 mg twice daily and lisinopril 10 mg for hypertension; denies chest pain.", false, false)
	if err != nil {
		return r, err
	}
	rng := rand.New(rand.NewPCG(1, 2))
	prompt := []int{}
	if bos, err := m.Tokenize("<start_of_turn>user\n", true, true); err == nil {
		prompt = append(prompt, bos...)
	}
	for len(prompt) < o.Prompt {
		prompt = append(prompt, words[rng.IntN(len(words))])
	}
	prompt = prompt[:o.Prompt]

	start := time.Now()
	if _, err := seq.Eval(ctx, prompt); err != nil {
		return r, fmt.Errorf("prefill: %w", err)
	}
	r.PrefillTokens = len(prompt)
	r.PrefillPerSec = float64(len(prompt)) / time.Since(start).Seconds()

	gen := func(grammar string) (int, time.Duration, error) {
		if !seq.logitOK {
			seq.Truncate(len(prompt) - 1)
			if _, err := seq.Eval(ctx, prompt[len(prompt)-1:]); err != nil {
				return 0, 0, err
			}
		}
		start := time.Now()
		out, err := seq.Generate(ctx, GenOptions{Grammar: grammar, MaxTokens: o.Decode}, nil)
		return len(out), time.Since(start), err
	}
	n, d, err := gen("")
	if err != nil {
		return r, fmt.Errorf("decode: %w", err)
	}
	r.DecodeTokens, r.DecodePerSec = n, float64(n)/d.Seconds()
	if o.Grammar != "" {
		n, d, err := gen(o.Grammar)
		if err != nil {
			return r, fmt.Errorf("grammar decode: %w", err)
		}
		r.GrammarTokens, r.GrammarPerSec = n, float64(n)/d.Seconds()
		if n > 0 && r.DecodePerSec > 0 {
			r.SamplingPerTok = d/time.Duration(n) - time.Duration(float64(time.Second)/r.DecodePerSec)
		}
	}

	// KV reuse: append 16 tokens to the cached prompt, against evaluating
	// everything again in a fresh cache.
	extra := words[:min(16, len(words))]
	seq.Truncate(len(prompt))
	start = time.Now()
	if _, err := seq.Eval(ctx, extra); err != nil {
		return r, fmt.Errorf("append: %w", err)
	}
	r.AppendTokens, r.Append = len(extra), time.Since(start)
	seq.Truncate(0)
	start = time.Now()
	if _, err := seq.Eval(ctx, append(append([]int{}, prompt...), extra...)); err != nil {
		return r, fmt.Errorf("re-evaluate: %w", err)
	}
	r.FullReeval = time.Since(start)
	return r, nil
}
