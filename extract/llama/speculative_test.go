package llama

import (
	"context"
	"slices"
	"testing"

	"github.com/medscribe/medscribe/extract/testmodel"
)

func tokenIDs(ts []Token) []int {
	ids := make([]int, len(ts))
	for i, t := range ts {
		ids[i] = t.ID
	}
	return ids
}

// TestSpeculativeMatchesGreedy: whatever the draft proposes, speculative
// output equals plain greedy decoding. With the target as its own draft
// every proposal is accepted; with another model's weights as draft
// (the Q4_0 quantization of the same random model) some are rejected.
func TestSpeculativeMatchesGreedy(t *testing.T) {
	m := microModel(t)
	path, err := testmodel.Generate(context.Background(), "", "gemma3-micro-q4_0")
	if err != nil {
		t.Fatal(err)
	}
	q4, err := Load(path, LoadOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer q4.Close()
	ctx := context.Background()
	prompt, _ := m.Tokenize("<start_of_turn>user\nThe patient takes metformin and lisinopril.<end_of_turn>\n<start_of_turn>model\n", true, true)
	opts := SeqOptions{Context: 256, Batch: 64, Threads: 1}

	target, _ := m.NewSeq(opts)
	defer target.Close()
	target.Eval(ctx, prompt)
	want, err := target.Generate(ctx, GenOptions{MaxTokens: 40}, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, dm := range []*Model{m, q4} {
		draft, _ := dm.NewSeq(opts)
		draft.Eval(ctx, prompt)
		target.Truncate(len(prompt) - 1)
		target.Eval(ctx, prompt[len(prompt)-1:])
		got, st, err := target.GenerateSpeculative(ctx, draft, 4, 40, nil)
		draft.Close()
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tokenIDs(got), tokenIDs(want)) {
			t.Fatalf("draft %s: speculative output differs from greedy\n got %v\nwant %v", dm.Path(), tokenIDs(got), tokenIDs(want))
		}
		t.Logf("draft %s: %d rounds for %d tokens, acceptance %.2f", dm.Path(), st.Rounds, len(got), st.AcceptRate())
		if dm == m && st.AcceptRate() < 0.99 {
			t.Fatalf("the target as its own draft was accepted %.2f of the time, want all", st.AcceptRate())
		}
		if target.Len() != len(prompt) {
			t.Fatalf("target cache holds %d tokens after generating, want %d", target.Len(), len(prompt))
		}
	}
}
