package testmodel

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Gemma 3's vocabulary size. The Gemma 2 SentencePiece model shipped in
// ollama's test data has 256000 pieces, the same pieces Gemma 3 starts with
// (<pad> 0, <eos> 1, <bos> 2, <unk> 3, <start_of_turn> 106,
// <end_of_turn> 107, byte pieces <0x00>… from 217); Gemma 3 added 6144 more.
const vocabSize = 262144

// Special token ids shared by Gemma 2 and Gemma 3.
const (
	TokenPad         = 0
	TokenEOS         = 1
	TokenBOS         = 2
	TokenUnk         = 3
	TokenStartOfTurn = 106
	TokenEndOfTurn   = 107
)

var tokenizerFile = filepath.Join("gemma2", "tokenizer.model")

type vocab struct {
	tokens         []string
	scores         []float32
	types          []int32
	addSpacePrefix bool
}

// loadVocab reads Gemma's SentencePiece model and pads it to Gemma 3's
// size with unused pieces "<unusedN>", continuing the numbering after the
// last <unusedN> the model already has (N = 100… for ids 256000…). They are
// typed UNUSED, so llama.cpp neither matches them in text nor prints them.
// The chat-turn markers become CONTROL tokens, as in converted Gemma GGUFs.
func loadVocab(dir string) (*vocab, error) {
	path := filepath.Join(dir, tokenizerFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read tokenizer: %w", err)
	}
	m, err := parseSPM(raw)
	if err != nil {
		return nil, fmt.Errorf("read tokenizer %s: %w", path, err)
	}
	if len(m.pieces) > vocabSize || len(m.pieces) <= TokenEndOfTurn {
		return nil, fmt.Errorf("read tokenizer %s: %d pieces, want at most %d", path, len(m.pieces), vocabSize)
	}
	want := map[int]string{TokenPad: "<pad>", TokenEOS: "<eos>", TokenBOS: "<bos>", TokenUnk: "<unk>",
		TokenStartOfTurn: "<start_of_turn>", TokenEndOfTurn: "<end_of_turn>"}
	for id, piece := range want {
		if m.pieces[id] != piece {
			return nil, fmt.Errorf("read tokenizer %s: token %d is %q, want %q (not a Gemma tokenizer)", path, id, m.pieces[id], piece)
		}
	}
	v := &vocab{
		tokens:         make([]string, 0, vocabSize),
		scores:         make([]float32, 0, vocabSize),
		types:          make([]int32, 0, vocabSize),
		addSpacePrefix: m.addDummyPrefix,
	}
	v.tokens = append(v.tokens, m.pieces...)
	v.scores = append(v.scores, m.scores...)
	v.types = append(v.types, m.types...)
	v.types[TokenStartOfTurn] = TokenControl
	v.types[TokenEndOfTurn] = TokenControl

	seen := make(map[string]bool, vocabSize)
	next := 0
	for _, t := range v.tokens {
		seen[t] = true
		if num, ok := strings.CutPrefix(t, "<unused"); ok {
			if num, ok := strings.CutSuffix(num, ">"); ok {
				if n, err := strconv.Atoi(num); err == nil && n >= next {
					next = n + 1
				}
			}
		}
	}
	if len(seen) != len(v.tokens) {
		return nil, fmt.Errorf("read tokenizer %s: duplicate pieces", path)
	}
	for len(v.tokens) < vocabSize {
		t := fmt.Sprintf("<unused%d>", next)
		next++
		if seen[t] {
			continue
		}
		v.tokens = append(v.tokens, t)
		v.scores = append(v.scores, 0)
		v.types = append(v.types, TokenUnused)
	}
	return v, nil
}
