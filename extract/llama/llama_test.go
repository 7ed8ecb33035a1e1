package llama

import (
	"context"
	"encoding/json"
	"slices"
	"sync"
	"testing"

	"github.com/medscribe/medscribe/extract/testmodel"
)

var (
	modelOnce sync.Once
	model     *Model
	modelErr  error
)

// microModel loads the generated micro gemma3 model (random weights, real
// Gemma tokenizer) once per test binary.
func microModel(t testing.TB) *Model {
	t.Helper()
	modelOnce.Do(func() {
		Init("")
		path, err := testmodel.Generate(context.Background(), "", "gemma3-micro-q8_0")
		if err != nil {
			modelErr = err
			return
		}
		model, modelErr = Load(path, LoadOptions{})
	})
	if modelErr != nil {
		t.Fatalf("micro gemma3 model: %v", modelErr)
	}
	return model
}

func TestLoadAndTokenize(t *testing.T) {
	m := microModel(t)
	if m.Arch() != "gemma3" {
		t.Fatalf("arch %q, want gemma3", m.Arch())
	}
	if m.VocabSize() < 256000 {
		t.Fatalf("vocab %d, want Gemma's 262k", m.VocabSize())
	}
	toks, err := m.Tokenize("<start_of_turn>user\nmetformin 500 mg twice daily<end_of_turn>", true, true)
	if err != nil {
		t.Fatal(err)
	}
	// BOS, then <start_of_turn> as one control token.
	if len(toks) < 5 || m.Piece(toks[1]) != "<start_of_turn>" {
		t.Fatalf("tokens %v: want BOS then <start_of_turn>", toks)
	}
	var text string
	for _, tk := range toks[2:] {
		text += m.Piece(tk)
	}
	if text != "user\nmetformin 500 mg twice daily<end_of_turn>" {
		t.Fatalf("pieces join to %q", text)
	}
}

// TestGrammarJSON: random weights under a JSON-schema grammar still give
// valid JSON of the schema's shape.
func TestGrammarJSON(t *testing.T) {
	m := microModel(t)
	g, err := SchemaGrammar([]byte(`{"type":"object","properties":{"items":{"type":"array","maxItems":2,"items":{"type":"object","properties":{"name":{"type":"string","maxLength":6},"dose":{"type":"string","maxLength":4}},"required":["name","dose"]}}},"required":["items"]}`))
	if err != nil {
		t.Fatal(err)
	}
	s, err := m.NewSeq(SeqOptions{Context: 512, Batch: 128, Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	prompt, _ := m.Tokenize("<start_of_turn>user\nList the medications.<end_of_turn>\n<start_of_turn>model\n", true, true)
	if _, err := s.Eval(context.Background(), prompt); err != nil {
		t.Fatal(err)
	}
	for seed := range uint32(2) {
		if s.Len() != len(prompt) {
			t.Fatalf("cache holds %d tokens before generating, want %d", s.Len(), len(prompt))
		}
		if seed > 0 {
			// Generate removed its tail; the last prompt token must be
			// evaluated again for fresh logits.
			n := s.Reuse(prompt)
			if _, err := s.Eval(context.Background(), prompt[n:]); err != nil {
				t.Fatal(err)
			}
		}
		out, err := s.Generate(context.Background(), GenOptions{Grammar: g, MaxTokens: 80, Temperature: 0.8, Seed: seed}, nil)
		if err != nil {
			t.Fatal(err)
		}
		var text string
		for _, tk := range out {
			text += tk.Piece
		}
		var v struct {
			Items []struct{ Name, Dose string } `json:"items"`
		}
		if err := json.Unmarshal([]byte(text), &v); err != nil {
			t.Fatalf("seed %d: output is not the schema's JSON: %v\n%s", seed, err, text)
		}
	}
}

// TestCacheReuse: appending to a cached prefix gives the same next-token
// choice as evaluating everything from scratch.
func TestCacheReuse(t *testing.T) {
	m := microModel(t)
	a, _ := m.Tokenize("<start_of_turn>user\nThe patient takes lisinopril", true, true)
	b, _ := m.Tokenize(" 10 mg daily for hypertension.", false, false)
	all := slices.Concat(a, b)

	greedy := func(s *Seq) []int {
		out, err := s.Generate(context.Background(), GenOptions{MaxTokens: 8}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int, len(out))
		for i, tk := range out {
			ids[i] = tk.ID
		}
		return ids
	}
	inc, _ := m.NewSeq(SeqOptions{Context: 256, Batch: 64})
	defer inc.Close()
	inc.Eval(context.Background(), a)
	inc.Eval(context.Background(), b)
	full, _ := m.NewSeq(SeqOptions{Context: 256, Batch: 64})
	defer full.Close()
	full.Eval(context.Background(), all)
	x, y := greedy(inc), greedy(full)
	if !slices.Equal(x, y) {
		t.Fatalf("incremental %v != full %v", x, y)
	}
	if inc.Len() != len(all) {
		t.Fatalf("generation left %d tokens in the cache, want %d", inc.Len(), len(all))
	}
	if _, err := inc.Generate(context.Background(), GenOptions{MaxTokens: 2}, nil); err != ErrNoLogits {
		t.Fatalf("generate without fresh logits: %v, want ErrNoLogits", err)
	}
	if _, err := inc.Eval(context.Background(), make([]int, 300)); err != ErrContextFull {
		t.Fatalf("overfilling: %v, want ErrContextFull", err)
	}
}

// TestSeqReuse: a closed sequence's KV cache serves the next sequence of
// the same size, emptied: it generates what a fresh one would.
func TestSeqReuse(t *testing.T) {
	m := microModel(t)
	ctx := context.Background()
	opts := SeqOptions{Context: 192, Batch: 64, Threads: 1}
	prompt, _ := m.Tokenize("<start_of_turn>user\nAllergic to penicillin.", true, true)
	gen := func(s *Seq) []int {
		if _, err := s.Eval(ctx, prompt); err != nil {
			t.Fatal(err)
		}
		out, err := s.Generate(ctx, GenOptions{MaxTokens: 6}, nil)
		if err != nil {
			t.Fatal(err)
		}
		ids := make([]int, len(out))
		for i, tk := range out {
			ids[i] = tk.ID
		}
		return ids
	}
	a, err := m.NewSeq(opts)
	if err != nil {
		t.Fatal(err)
	}
	first := gen(a)
	lc := a.ctx
	other, _ := m.Tokenize(" Something else entirely, to fill the cache.", false, false)
	if _, err := a.Eval(ctx, other); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b, err := m.NewSeq(opts)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if b.ctx != lc {
		t.Fatal("a new sequence of the same size did not reuse the closed one's context")
	}
	if b.Len() != 0 {
		t.Fatalf("reused sequence holds %d tokens", b.Len())
	}
	if again := gen(b); !slices.Equal(again, first) {
		t.Fatalf("reused cache generates %v, fresh %v", again, first)
	}
	c, err := m.NewSeq(SeqOptions{Context: 256, Batch: 64, Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if c.ctx == lc {
		t.Fatal("a sequence of another size got the pooled context")
	}
}
