package testmodel

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/ollama/ollama/fs/ggml"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

// Block layouts (ggml-common.h), written straight from the random stream:
// random weights need no float round trip, only a scale that gives the
// block's values the intended standard deviation.
//
//	Q8_0  34 bytes / 32: f16 d, int8 q[32];              w = d·q
//	Q4_0  18 bytes / 32: f16 d, u8 qs[16];               w = d·(q−8), q = nibble j (low: j<16)
//	Q5_0  22 bytes / 32: f16 d, u32 qh, u8 qs[16];       w = d·(q−16), q = nibble | bit j of qh << 4
//	Q4_K 144 bytes / 256: f16 d, f16 dmin, u8 scales[12], u8 qs[128];
//	      w = d·sc_k·q − dmin·m_k for sub-block k of 32, 6-bit sc/m packed in scales
const (
	q8Bytes = 34
	q4Bytes = 18
	q5Bytes = 22
	qkBytes = 144
)

// Standard deviations of the raw quants when every bit is uniform: int8;
// nibble; 5 bits. They turn a target weight std into a block scale.
var (
	stdInt8 = math.Sqrt((256*256 - 1) / 12.0)
	stdQ4   = math.Sqrt((16*16 - 1) / 12.0)
	stdQ5   = math.Sqrt((32*32 - 1) / 12.0)
	// Q4_K sub-block scales are drawn uniformly from [q4kScaleMin, 63];
	// rmsQ4KScale is their root mean square.
	rmsQ4KScale = func() float64 {
		var s float64
		for k := q4kScaleMin; k <= 63; k++ {
			s += float64(k * k)
		}
		return math.Sqrt(s / float64(64-q4kScaleMin))
	}()
)

// q4kScaleMin keeps the 6-bit scales in the upper range so that their top
// two bits (stored apart from the low four for sub-blocks 4–7) vary.
const q4kScaleMin = 8

// blockInfo returns elements per block and bytes per block for the types
// this package writes.
func blockInfo(t ggml.TensorType) (elems, bytes int, err error) {
	switch t {
	case ggml.TensorTypeF32:
		return 1, 4, nil
	case ggml.TensorTypeF16:
		return 1, 2, nil
	case ggml.TensorTypeQ8_0:
		return 32, q8Bytes, nil
	case ggml.TensorTypeQ4_0:
		return 32, q4Bytes, nil
	case ggml.TensorTypeQ5_0:
		return 32, q5Bytes, nil
	case ggml.TensorTypeQ4_K:
		return 256, qkBytes, nil
	}
	return 0, 0, fmt.Errorf("tensor type %v not supported", t)
}

// fillRandom fills dst, a whole number of blocks of type t, with weights of
// the given std. The symmetric types (Q4_0, Q5_0) get a random sign on
// each block's scale, as ggml's own quantizer produces, so that their
// half-step offset (q−8 and q−16 average −0.5) cancels out over a row.
func fillRandom(r *modelfile.RNG, t ggml.TensorType, dst []byte, std float64) {
	le := binary.LittleEndian
	switch t {
	case ggml.TensorTypeF32, ggml.TensorTypeF16:
		r.Fill(dst, t == ggml.TensorTypeF16, float32(std))
	case ggml.TensorTypeQ8_0:
		d := modelfile.F32ToF16(float32(std / stdInt8))
		for b := 0; b+q8Bytes <= len(dst); b += q8Bytes {
			le.PutUint16(dst[b:], d)
			r.Bytes(dst[b+2 : b+q8Bytes])
		}
	case ggml.TensorTypeQ4_0:
		d := float32(std / stdQ4)
		for b := 0; b+q4Bytes <= len(dst); b += q4Bytes {
			r.Bytes(dst[b+2 : b+q4Bytes])
			le.PutUint16(dst[b:], modelfile.F32ToF16(d*r.Sign()))
		}
	case ggml.TensorTypeQ5_0:
		d := float32(std / stdQ5)
		for b := 0; b+q5Bytes <= len(dst); b += q5Bytes {
			r.Bytes(dst[b+2 : b+q5Bytes])
			le.PutUint16(dst[b:], modelfile.F32ToF16(d*r.Sign()))
		}
	case ggml.TensorTypeQ4_K:
		// With m_k = sc_k and dmin = 7.5·d every sub-block is centred:
		// w = d·sc_k·(q − 7.5).
		d := float32(std / (rmsQ4KScale * stdQ4))
		dh, mh := modelfile.F32ToF16(d), modelfile.F32ToF16(7.5*d)
		var sc [8]byte
		for b := 0; b+qkBytes <= len(dst); b += qkBytes {
			le.PutUint16(dst[b:], dh)
			le.PutUint16(dst[b+2:], mh)
			v := r.Next()
			for k := range sc {
				sc[k] = byte(q4kScaleMin + (v>>(8*k)&0xff)*(64-q4kScaleMin)>>8)
			}
			packQ4KScales(dst[b+4:b+16], sc, sc)
			r.Bytes(dst[b+16 : b+qkBytes])
		}
	default:
		panic(fmt.Sprintf("fillRandom: type %v", t))
	}
}

// packQ4KScales stores eight 6-bit scales and mins in twelve bytes: bytes
// 0–3 hold sc0–3 and the top bits of sc4–7, bytes 4–7 m0–3 and the top bits
// of m4–7, bytes 8–11 the low nibbles of sc4–7 and m4–7.
func packQ4KScales(dst []byte, sc, m [8]byte) {
	for j := range 4 {
		dst[j] = sc[j]&63 | (sc[j+4]>>4)<<6
		dst[j+4] = m[j]&63 | (m[j+4]>>4)<<6
		dst[j+8] = sc[j+4]&0xf | (m[j+4]&0xf)<<4
	}
}

// fillConst fills an f32 tensor with v (norm gains).
func fillConst(dst []byte, v float32) {
	for i := 0; i+4 <= len(dst); i += 4 {
		binary.LittleEndian.PutUint32(dst[i:], math.Float32bits(v))
	}
}
