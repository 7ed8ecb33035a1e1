package llama

import (
	"context"
	"strings"
	"sync"

	"github.com/medscribe/medscribe/extract"
)

// LM adapts a Model to extract.LM: each NewSeq gets a KV cache of the
// given size.
type LM struct {
	m    *Model
	opts SeqOptions

	mu       sync.Mutex
	grammars map[string]string
}

// LM returns the model as an extract.LM whose sequences use opts.
func (m *Model) LM(opts SeqOptions) *LM {
	return &LM{m: m, opts: opts, grammars: map[string]string{}}
}

// Tokenize implements extract.LM.
func (l *LM) Tokenize(text string, bos, special bool) ([]int, error) {
	return l.m.Tokenize(text, bos, special)
}

// Grammar implements extract.LM; conversions are cached per schema.
func (l *LM) Grammar(schema string) (string, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if g, ok := l.grammars[schema]; ok {
		return g, nil
	}
	g, err := SchemaGrammar([]byte(schema))
	if err != nil {
		return "", err
	}
	l.grammars[schema] = g
	return g, nil
}

// NewSeq implements extract.LM.
func (l *LM) NewSeq() (extract.Seq, error) {
	s, err := l.m.NewSeq(l.opts)
	if err != nil {
		return nil, err
	}
	return seq{s}, nil
}

type seq struct{ *Seq }

// Generate implements extract.Seq with greedy decoding.
func (s seq) Generate(ctx context.Context, grammar string, maxTokens int, fn func(string) bool) (string, error) {
	if !s.logitOK && s.Len() > 0 {
		// The last input token must be evaluated again to have logits.
		last := s.tokens[len(s.tokens)-1]
		s.Truncate(len(s.tokens) - 1)
		if _, err := s.Eval(ctx, []int{last}); err != nil {
			return "", err
		}
	}
	var b strings.Builder
	_, err := s.Seq.Generate(ctx, GenOptions{Grammar: grammar, MaxTokens: maxTokens}, func(t Token) bool {
		b.WriteString(t.Piece)
		return fn == nil || fn(t.Piece)
	})
	return b.String(), err
}

var _ extract.LM = (*LM)(nil)
