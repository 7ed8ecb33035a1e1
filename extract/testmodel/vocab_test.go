package testmodel

import (
	"bytes"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"testing"
)

func TestLoadVocab(t *testing.T) {
	t.Parallel()
	v, err := loadVocab(tokenizerOrSkip(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(v.tokens) != vocabSize || len(v.scores) != vocabSize || len(v.types) != vocabSize {
		t.Fatalf("sizes %d/%d/%d, want %d", len(v.tokens), len(v.scores), len(v.types), vocabSize)
	}
	if v.addSpacePrefix {
		t.Error("Gemma's normalizer adds no dummy prefix; add_space_prefix must be false")
	}
	seen := map[string]int{}
	counts := map[int32]int{}
	for id, tok := range v.tokens {
		if prev, dup := seen[tok]; dup {
			// llama.cpp asserts id_to_token.size() == token_to_id.size().
			t.Fatalf("tokens %d and %d are both %q", prev, id, tok)
		}
		seen[tok] = id
		counts[v.types[id]]++
	}
	for tok, id := range map[string]int{"<pad>": 0, "<eos>": 1, "<bos>": 2, "<unk>": 3, "<start_of_turn>": 106,
		"<end_of_turn>": 107, "<0x00>": 217, "<0x0A>": 227, "<unused99>": 255999, "<unused100>": 256000, "<unused6243>": 262143} {
		if seen[tok] != id {
			t.Errorf("%q has id %d, want %d", tok, seen[tok], id)
		}
	}
	// Every byte has its fallback piece, which SentencePiece needs for
	// text outside the vocabulary.
	if counts[TokenByte] != 256 || counts[TokenUnknown] != 1 {
		t.Errorf("%d byte pieces and %d unknown, want 256 and 1", counts[TokenByte], counts[TokenUnknown])
	}
	if counts[TokenUnused] != vocabSize-256000 {
		t.Errorf("%d unused pieces, want the %d of padding", counts[TokenUnused], vocabSize-256000)
	}
	// Ordinary pieces carry SentencePiece's log-probability scores.
	if v.scores[1000] >= 0 || v.scores[1000] <= v.scores[200000] {
		t.Errorf("scores %g (id 1000) and %g (id 200000): want negative, more frequent higher", v.scores[1000], v.scores[200000])
	}
	for _, word := range []string{"▁patient", "▁blood", "▁pressure", "▁daily", "▁mg"} {
		if _, ok := seen[word]; !ok {
			t.Errorf("%q is not a piece", word)
		}
	}
}

func TestLoadVocabErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	if _, err := loadVocab(dir); err == nil {
		t.Error("missing tokenizer accepted")
	}
	os.MkdirAll(filepath.Join(dir, "gemma2"), 0o755)
	// A well-formed model whose pieces are not Gemma's.
	var model []byte
	for i := range 200 {
		model = appendPiece(model, string(rune('a'+i%26))+string(rune('a'+i/26)), -1, TokenNormal)
	}
	os.WriteFile(filepath.Join(dir, tokenizerFile), model, 0o644)
	if _, err := loadVocab(dir); err == nil {
		t.Error("non-Gemma tokenizer accepted")
	}
}

// appendPiece appends a ModelProto.pieces entry in protobuf wire format.
func appendPiece(b []byte, piece string, score float32, typ int32) []byte {
	var p []byte
	p = append(p, 1<<3|2)
	p = binary.AppendUvarint(p, uint64(len(piece)))
	p = append(p, piece...)
	p = append(p, 2<<3|5)
	p = binary.LittleEndian.AppendUint32(p, math.Float32bits(score))
	p = append(p, 3<<3) // field 3, varint
	p = binary.AppendUvarint(p, uint64(typ))
	b = append(b, 1<<3|2)
	b = binary.AppendUvarint(b, uint64(len(p)))
	return append(b, p...)
}

func TestParseSPM(t *testing.T) {
	t.Parallel()
	var b []byte
	b = appendPiece(b, "<unk>", 0, TokenUnknown)
	b = appendPiece(b, "▁the", -3.5, TokenNormal)
	// normalizer_spec { add_dummy_prefix: false }, and an unknown field.
	b = append(b, 3<<3|2, 2, 3<<3, 0)
	b = append(b, 7<<3, 42)
	m, err := parseSPM(b)
	if err != nil {
		t.Fatal(err)
	}
	if len(m.pieces) != 2 || m.pieces[1] != "▁the" || m.scores[1] != -3.5 || m.types[0] != TokenUnknown || m.addDummyPrefix {
		t.Errorf("parsed %+v", m)
	}

	for _, bad := range [][]byte{
		{0x0a, 0x05, 0x0a},       // length past the end
		{0x0b},                   // wire type 3 (groups) unsupported
		{0x00, 0x01},             // field number 0
		{0x0a, 0x02, 0x18, 0x09}, // piece type 9
		{0x15, 0x00},             // short fixed32
		{0x08, 0x80},             // unterminated varint
	} {
		if _, err := parseSPM(bad); !errors.Is(err, errProto) {
			t.Errorf("parseSPM(%x) = %v, want errProto", bad, err)
		}
	}
}

func FuzzParseSPM(f *testing.F) {
	var b []byte
	b = appendPiece(b, "<pad>", 0, TokenControl)
	b = appendPiece(b, "▁a", -1, TokenNormal)
	f.Add(b)
	f.Add(append(bytes.Clone(b), 3<<3|2, 2, 3<<3, 1))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := parseSPM(data)
		if err != nil {
			if !errors.Is(err, errProto) {
				t.Fatalf("error %v does not wrap errProto", err)
			}
			return
		}
		if len(m.pieces) != len(m.scores) || len(m.pieces) != len(m.types) {
			t.Fatalf("parallel arrays %d/%d/%d", len(m.pieces), len(m.scores), len(m.types))
		}
		for _, typ := range m.types {
			if typ < TokenNormal || typ > TokenByte {
				t.Fatalf("type %d passed", typ)
			}
		}
	})
}
