package testmodel

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// englishVocabSize is the number of ordinary tokens in an English-only
// whisper vocabulary (GPT-2's byte-level BPE without <|endoftext|>); the file
// stores exactly these and whisper.cpp appends the special and timestamp
// tokens up to n_vocab itself.
const englishVocabSize = 50256

// vocabFile is relative to ollama's tokenizer/testdata directory.
var vocabFile = filepath.Join("llama3.2", "encoder.json")

// loadVocab reads a byte-level BPE vocabulary (token → id JSON, the
// GPT-2/Llama 3 layout) and returns the raw bytes of ids 0..n-1. Both
// vocabularies start with the 256 single bytes in the same order and then
// add merges by rank, so the first 50256 Llama 3 tokens are the most common
// English words and fragments — what whisper's greedy tokenizer needs for
// prompts to split into plausible pieces.
func loadVocab(dir string, n int) ([][]byte, error) {
	path := filepath.Join(dir, vocabFile)
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read vocabulary: %w", err)
	}
	var enc map[string]int
	if err := json.Unmarshal(raw, &enc); err != nil {
		return nil, fmt.Errorf("parse vocabulary %s: %w", path, err)
	}
	dec := byteDecoder()
	out := make([][]byte, n)
	seen := make(map[string]bool, n)
	for tok, id := range enc {
		if id < 0 || id >= n {
			continue
		}
		b := make([]byte, 0, len(tok))
		for _, r := range tok {
			c, ok := dec[r]
			if !ok {
				return nil, fmt.Errorf("parse vocabulary %s: token %d (%q) is not byte-level BPE", path, id, tok)
			}
			b = append(b, c)
		}
		if out[id] != nil {
			return nil, fmt.Errorf("parse vocabulary %s: id %d used twice", path, id)
		}
		if seen[string(b)] {
			return nil, fmt.Errorf("parse vocabulary %s: token %d duplicates another", path, id)
		}
		seen[string(b)] = true
		out[id] = b
	}
	for id, b := range out {
		if b == nil {
			return nil, fmt.Errorf("parse vocabulary %s: id %d missing (need %d tokens)", path, id, n)
		}
	}
	return out, nil
}

// byteDecoder inverts byte-level BPE's printable alias of each byte: bytes
// that are visible Latin-1 characters stand for themselves, the other 68
// (controls, space, DEL, NBSP, soft hyphen) are shifted to U+0100 onwards in
// byte order.
func byteDecoder() map[rune]byte {
	m := make(map[rune]byte, 256)
	shifted := 0
	for b := range 256 {
		if (b >= '!' && b <= '~') || (b >= 0xA1 && b <= 0xAC) || (b >= 0xAE && b <= 0xFF) {
			m[rune(b)] = byte(b)
			continue
		}
		m[rune(256+shifted)] = byte(b)
		shifted++
	}
	return m
}
