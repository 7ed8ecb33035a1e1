// Package modelfile is what the whisper and Gemma test-model generators
// (speech/testmodel, extract/testmodel) share: a fixed pseudo-random
// stream for weights, f16 conversion, a cache of generated files checked by
// sidecar, and locating the tokenizer data in the Go module cache.
package modelfile

import (
	"encoding/binary"
	"hash/fnv"
	"math"
	"sync"
)

// RNG is SplitMix64: one add and two multiplies per 64 bits, so filling
// tens of megabytes of weights costs milliseconds, and the sequence is
// fixed by this code rather than by a library whose output may change.
type RNG struct{ s uint64 }

// NewRNG seeds a stream from a namespace (the generator) and a label (model
// and tensor name), so that each tensor's bytes depend only on what it is,
// not on the order of writing.
func NewRNG(namespace, label string) *RNG {
	h := fnv.New64a()
	h.Write([]byte(namespace))
	h.Write([]byte{0})
	h.Write([]byte(label))
	return &RNG{s: h.Sum64()}
}

func (r *RNG) Next() uint64 {
	r.s += 0x9e3779b97f4a7c15
	z := r.s
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// Uniform returns a value in [-1, 1) from the top 24 bits (float32 precision).
func (r *RNG) Uniform() float32 {
	return float32(r.Next()>>40)*(2.0/(1<<24)) - 1
}

// Fill fills dst with little-endian f32 or f16 values of std deviation
// std (uniform distribution, std·sqrt(3) half-width).
func (r *RNG) Fill(dst []byte, f16 bool, std float32) {
	a := std * float32(math.Sqrt(3))
	if f16 {
		// Four halves per 64 random bits through a table of 65536
		// evenly spaced values: the conversion costs nothing per element.
		tbl := f16Table(a)
		i := 0
		for ; i+8 <= len(dst); i += 8 {
			v := r.Next()
			binary.LittleEndian.PutUint16(dst[i:], tbl[uint16(v)])
			binary.LittleEndian.PutUint16(dst[i+2:], tbl[uint16(v>>16)])
			binary.LittleEndian.PutUint16(dst[i+4:], tbl[uint16(v>>32)])
			binary.LittleEndian.PutUint16(dst[i+6:], tbl[uint16(v>>48)])
		}
		for ; i+2 <= len(dst); i += 2 {
			binary.LittleEndian.PutUint16(dst[i:], tbl[uint16(r.Next())])
		}
		return
	}
	for i := 0; i+4 <= len(dst); i += 4 {
		binary.LittleEndian.PutUint32(dst[i:], math.Float32bits(a*r.Uniform()))
	}
}

// f16Tables caches, per half-width, the f16 values of the 65536 cell
// centres of [-a, a]; a model uses only a handful of widths.
var f16Tables sync.Map // float32 bits → *[1 << 16]uint16

func f16Table(a float32) *[1 << 16]uint16 {
	key := math.Float32bits(a)
	if t, ok := f16Tables.Load(key); ok {
		return t.(*[1 << 16]uint16)
	}
	t := new([1 << 16]uint16)
	for u := range t {
		t[u] = F32ToF16(a * ((float32(u)+0.5)/(1<<15) - 1))
	}
	actual, _ := f16Tables.LoadOrStore(key, t)
	return actual.(*[1 << 16]uint16)
}

// F32ToF16 converts to IEEE 754 binary16, rounding to nearest even, which
// is what ggml's own conversion does; values beyond the f16 range become
// infinities and NaN stays NaN.
func F32ToF16(f float32) uint16 {
	b := math.Float32bits(f)
	sign := uint16(b>>16) & 0x8000
	e := int32(b>>23) & 0xff
	mant := b & 0x7fffff
	if e == 0xff {
		if mant != 0 {
			return sign | 0x7e00
		}
		return sign | 0x7c00
	}
	exp := e - 127 + 15
	if exp >= 0x1f {
		return sign | 0x7c00
	}
	if exp <= 0 {
		// Subnormal half (or zero): value = m * 2^-24.
		if exp < -10 {
			return sign
		}
		m := mant | 0x800000
		shift := uint32(14 - exp)
		q := m >> shift
		rem := m & (1<<shift - 1)
		half := uint32(1) << (shift - 1)
		if rem > half || (rem == half && q&1 == 1) {
			q++
		}
		return sign | uint16(q)
	}
	q := mant >> 13
	rem := mant & 0x1fff
	if rem > 0x1000 || (rem == 0x1000 && q&1 == 1) {
		q++
		if q == 0x400 {
			q = 0
			exp++
			if exp >= 0x1f {
				return sign | 0x7c00
			}
		}
	}
	return sign | uint16(exp)<<10 | uint16(q)
}

// F16ToF32 is the exact inverse widening of F32ToF16.
func F16ToF32(h uint16) float32 {
	sign := uint32(h&0x8000) << 16
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h & 0x3ff)
	switch {
	case exp == 0x1f:
		return math.Float32frombits(sign | 0x7f800000 | mant<<13)
	case exp == 0:
		if mant == 0 {
			return math.Float32frombits(sign)
		}
		v := float32(mant) / (1 << 24)
		if sign != 0 {
			v = -v
		}
		return v
	}
	return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
}

// Bytes fills dst with random bytes.
func (r *RNG) Bytes(dst []byte) {
	i := 0
	for ; i+8 <= len(dst); i += 8 {
		binary.LittleEndian.PutUint64(dst[i:], r.Next())
	}
	if i < len(dst) {
		var tail [8]byte
		binary.LittleEndian.PutUint64(tail[:], r.Next())
		copy(dst[i:], tail[:])
	}
}

// Sign returns ±1.
func (r *RNG) Sign() float32 {
	if r.Next()&1 == 0 {
		return -1
	}
	return 1
}
