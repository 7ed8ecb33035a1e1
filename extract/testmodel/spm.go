package testmodel

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// SentencePiece piece types (sentencepiece_model.proto), which GGUF's
// tokenizer.ggml.token_type uses with the same numbers.
const (
	TokenNormal      int32 = 1
	TokenUnknown     int32 = 2
	TokenControl     int32 = 3
	TokenUserDefined int32 = 4
	TokenUnused      int32 = 5
	TokenByte        int32 = 6
)

// spmModel is the part of a SentencePiece ModelProto a GGUF vocabulary needs.
type spmModel struct {
	pieces []string
	scores []float32
	types  []int32
	// addDummyPrefix is normalizer_spec.add_dummy_prefix (default true):
	// whether a space is prepended to the text before tokenizing.
	addDummyPrefix bool
}

// errProto reports malformed protobuf input.
var errProto = errors.New("malformed SentencePiece model")

// parseSPM decodes the protobuf wire format by hand: three fields of two
// messages are all that is needed, which does not justify a protobuf
// runtime. ModelProto: 1 = repeated SentencePiece {1 piece, 2 score,
// 3 type}; 3 = NormalizerSpec {3 add_dummy_prefix}.
func parseSPM(b []byte) (*spmModel, error) {
	m := &spmModel{addDummyPrefix: true}
	err := eachField(b, func(num int, wt int, v uint64, data []byte) error {
		switch {
		case num == 1 && wt == 2:
			piece, score, typ := "", float32(0), TokenNormal
			err := eachField(data, func(num int, wt int, v uint64, data []byte) error {
				switch {
				case num == 1 && wt == 2:
					piece = string(data)
				case num == 2 && wt == 5:
					score = math.Float32frombits(uint32(v))
				case num == 3 && wt == 0:
					typ = int32(v)
				}
				return nil
			})
			if err != nil {
				return err
			}
			if typ < TokenNormal || typ > TokenByte {
				return fmt.Errorf("%w: piece %d has type %d", errProto, len(m.pieces), typ)
			}
			m.pieces = append(m.pieces, piece)
			m.scores = append(m.scores, score)
			m.types = append(m.types, typ)
		case num == 3 && wt == 2:
			return eachField(data, func(num int, wt int, v uint64, _ []byte) error {
				if num == 3 && wt == 0 {
					m.addDummyPrefix = v != 0
				}
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}

// eachField calls fn for each top-level field of a protobuf message with its
// number, wire type, and value (varint or fixed) or bytes (length-delimited).
func eachField(b []byte, fn func(num, wt int, v uint64, data []byte) error) error {
	for len(b) > 0 {
		key, n := binary.Uvarint(b)
		if n <= 0 {
			return fmt.Errorf("%w: bad field key", errProto)
		}
		b = b[n:]
		num, wt := int(key>>3), int(key&7)
		if num == 0 {
			return fmt.Errorf("%w: field number 0", errProto)
		}
		var v uint64
		var data []byte
		switch wt {
		case 0:
			v, n = binary.Uvarint(b)
			if n <= 0 {
				return fmt.Errorf("%w: bad varint in field %d", errProto, num)
			}
			b = b[n:]
		case 1:
			if len(b) < 8 {
				return fmt.Errorf("%w: short fixed64 in field %d", errProto, num)
			}
			v, b = binary.LittleEndian.Uint64(b), b[8:]
		case 2:
			l, n := binary.Uvarint(b)
			if n <= 0 || l > uint64(len(b)-n) {
				return fmt.Errorf("%w: bad length in field %d", errProto, num)
			}
			data, b = b[n:n+int(l)], b[n+int(l):]
		case 5:
			if len(b) < 4 {
				return fmt.Errorf("%w: short fixed32 in field %d", errProto, num)
			}
			v, b = uint64(binary.LittleEndian.Uint32(b)), b[4:]
		default:
			return fmt.Errorf("%w: wire type %d in field %d", errProto, wt, num)
		}
		if err := fn(num, wt, v, data); err != nil {
			return err
		}
	}
	return nil
}
