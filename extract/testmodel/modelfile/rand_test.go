package modelfile

import (
	"math"
	"testing"
)

func TestF16Known(t *testing.T) {
	t.Parallel()
	tests := []struct {
		f float32
		h uint16
	}{
		{0, 0x0000},
		{float32(math.Copysign(0, -1)), 0x8000},
		{1, 0x3c00},
		{-2, 0xc000},
		{65504, 0x7bff},
		{65520, 0x7c00}, // halfway to the next binade rounds to infinity
		{float32(math.Inf(1)), 0x7c00},
		{6.1035156e-05, 0x0400}, // smallest normal
		{6.0975552e-05, 0x03ff}, // largest subnormal
		{5.9604645e-8, 0x0001},  // smallest subnormal
		{2.9802322e-8, 0x0000},  // half of it: tie to even (zero)
		{4.4703484e-8, 0x0001},  // 0.75 of it rounds up
		{1 + 1.0/2048, 0x3c00},  // tie between 1 and 1+2^-10 goes to even
		{1 + 3.0/2048, 0x3c02},  // tie between 1+2^-10 and 1+2^-9 goes to even
		{0.1, 0x2e66},
	}
	for _, tt := range tests {
		if got := F32ToF16(tt.f); got != tt.h {
			t.Errorf("F32ToF16(%g) = %#04x, want %#04x", tt.f, got, tt.h)
		}
	}
	if h := F32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("F32ToF16(NaN) = %#04x, not a NaN", h)
	}
}

// Every finite half must survive widening and narrowing unchanged.
func TestF16RoundTrip(t *testing.T) {
	t.Parallel()
	for h := range 1 << 16 {
		if h&0x7c00 == 0x7c00 && h&0x3ff != 0 {
			continue // NaN payloads are not preserved
		}
		f := F16ToF32(uint16(h))
		if got := F32ToF16(f); got != uint16(h) {
			t.Fatalf("round trip of %#04x (%g) gave %#04x", h, f, got)
		}
	}
}

func TestRNGUniform(t *testing.T) {
	t.Parallel()
	r := NewRNG("test", "x")
	const n = 1 << 16
	var sum, sq float64
	for range n {
		v := float64(r.Uniform())
		if v < -1 || v >= 1 {
			t.Fatalf("uniform() = %g out of [-1, 1)", v)
		}
		sum += v
		sq += v * v
	}
	mean, variance := sum/n, sq/n
	if math.Abs(mean) > 0.02 || math.Abs(variance-1.0/3) > 0.02 {
		t.Errorf("mean %g variance %g; want 0 and 1/3", mean, variance)
	}
	a, b := NewRNG("test", "a"), NewRNG("test", "b")
	if a.Next() == b.Next() {
		t.Error("different labels gave the same stream")
	}
}
