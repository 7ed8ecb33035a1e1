package llama

/*
#include <stdint.h>
float *llama_get_logits_ith(void *ctx, int32_t i);

// ms_argmax returns the index of the largest of n logits of output i, or
// -1 when the context kept no logits for it.
static int ms_argmax(void *ctx, int32_t i, int n) {
	float *l = llama_get_logits_ith(ctx, i);
	if (!l) return -1;
	int best = 0;
	for (int j = 1; j < n; j++) if (l[j] > l[best]) best = j;
	return best;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"unsafe"
)

// cptr is the llama_context pointer inside ollama's Context (its first
// field; the wrapper does not export it).
func (s *Seq) cptr() unsafe.Pointer { return *(*unsafe.Pointer)(unsafe.Pointer(s.ctx)) }

// argmax is greedy sampling of output i of the last decode, done in C so
// that a 262k-entry vocabulary is not copied into Go per token.
func (s *Seq) argmax(i int) (int, error) {
	t := int(C.ms_argmax(s.cptr(), C.int32_t(i), C.int(s.m.VocabSize())))
	if t < 0 {
		return 0, errors.New("llama: no logits for that output")
	}
	return t, nil
}

// SpecStats describe a speculative generation.
type SpecStats struct {
	Rounds   int // target passes
	Drafted  int // tokens the draft proposed
	Accepted int // proposals the target agreed with
}

// AcceptRate is the share of drafted tokens the target accepted.
func (st SpecStats) AcceptRate() float64 {
	if st.Drafted == 0 {
		return 0
	}
	return float64(st.Accepted) / float64(st.Drafted)
}

// GenerateSpeculative generates greedily, like Generate without a grammar,
// with draft proposing k tokens at a time that s verifies in one pass:
// every agreed proposal is a token for the price of a small model's step.
// The output is exactly what greedy Generate would give. draft must hold
// the same evaluated input as s (its vocabulary must match). Both caches
// end at their evaluated input again when it returns.
func (s *Seq) GenerateSpeculative(ctx context.Context, draft *Seq, k, maxTokens int, fn func(Token) bool) ([]Token, SpecStats, error) {
	var st SpecStats
	if !s.logitOK || !draft.logitOK || len(s.tokens) == 0 {
		return nil, st, ErrNoLogits
	}
	if len(draft.tokens) != len(s.tokens) {
		return nil, st, fmt.Errorf("llama: draft holds %d tokens, target %d", len(draft.tokens), len(s.tokens))
	}
	if k < 1 {
		k = 4
	}
	base := len(s.tokens)
	defer func() {
		s.ctx.KvCacheSeqRm(0, base, -1)
		draft.ctx.KvCacheSeqRm(0, base, -1)
		s.logitOK, draft.logitOK = false, false
	}()

	var out []Token
	emit := func(id int) bool {
		if s.m.IsEOG(id) {
			return false
		}
		t := Token{ID: id, Piece: s.m.Piece(id)}
		out = append(out, t)
		return (fn == nil || fn(t)) && len(out) < maxTokens
	}
	first, err := s.argmax(s.batch.NumTokens() - 1)
	if err != nil {
		return nil, st, err
	}
	if !emit(first) {
		return out, st, nil
	}
	// accepted: generated tokens, the last of which (pending) the target has
	// not evaluated yet. draftAt: how many of them the draft has evaluated.
	pending := first
	pos := base  // target position of pending
	draftAt := 0 // generated tokens in the draft's cache
	for {
		if err := ctx.Err(); err != nil {
			return out, st, err
		}
		if pos+k+1 >= s.opts.Context || pos+k+1 >= draft.opts.Context {
			return out, st, ErrContextFull
		}
		// Draft: evaluate what it lacks of the output, then k greedy steps.
		draft.batch.Clear()
		for i := draftAt; i < len(out); i++ {
			draft.batch.Add(out[i].ID, nil, base+i, i == len(out)-1, 0)
		}
		proposals := make([]int, 0, k)
		dpos := base + len(out)
		for j := 0; j < k; j++ {
			if err := draft.ctx.Decode(draft.batch); err != nil {
				return out, st, fmt.Errorf("llama: draft decode: %w", err)
			}
			d, err := draft.argmax(draft.batch.NumTokens() - 1)
			if err != nil {
				return out, st, err
			}
			proposals = append(proposals, d)
			if j == k-1 {
				break
			}
			draft.batch.Clear()
			draft.batch.Add(d, nil, dpos, true, 0)
			dpos++
		}
		// Draft cache now holds the output and proposals[:k-1].

		// Verify: pending and the proposals in one target pass.
		s.batch.Clear()
		s.batch.Add(pending, nil, pos, true, 0)
		for i, d := range proposals {
			s.batch.Add(d, nil, pos+1+i, true, 0)
		}
		if err := s.ctx.Decode(s.batch); err != nil {
			return out, st, fmt.Errorf("llama: verify decode: %w", err)
		}
		st.Rounds++
		st.Drafted += len(proposals)
		m := 0
		var next int
		for {
			q, err := s.argmax(m)
			if err != nil {
				return out, st, err
			}
			if m < len(proposals) && proposals[m] == q {
				m++
				continue
			}
			next = q
			break
		}
		st.Accepted += m
		// Keep pending and the m accepted proposals in the target cache.
		s.ctx.KvCacheSeqRm(0, pos+m+1, -1)
		pos += m + 1
		// The draft keeps the output plus the accepted proposals it evaluated.
		kept := min(m, k-1)
		draft.ctx.KvCacheSeqRm(0, base+len(out)+kept, -1)
		draftAt = len(out) + kept
		for _, d := range proposals[:m] {
			if !emit(d) {
				return out, st, nil
			}
		}
		if !emit(next) {
			return out, st, nil
		}
		pending = next
	}
}
