package speech

import (
	"math"
	"math/bits"
	"math/cmplx"
)

// fft is an in-place radix-2 complex FFT of a fixed power-of-two size with
// precomputed twiddles. The VAD needs one small transform per 20 ms frame;
// this is all of the spectral machinery it uses.
type fft struct {
	n       int
	twiddle []complex128 // e^{-2πik/n}, k < n/2
	rev     []int        // bit-reversal permutation
}

func newFFT(n int) *fft {
	if n < 2 || n&(n-1) != 0 {
		panic("speech: fft size must be a power of two")
	}
	f := &fft{n: n, twiddle: make([]complex128, n/2), rev: make([]int, n)}
	for k := range f.twiddle {
		f.twiddle[k] = cmplx.Rect(1, -2*math.Pi*float64(k)/float64(n))
	}
	shift := bits.UintSize - bits.Len(uint(n-1))
	for i := range f.rev {
		f.rev[i] = int(bits.Reverse(uint(i)) >> shift)
	}
	return f
}

// transform replaces x (length n) with its discrete Fourier transform.
func (f *fft) transform(x []complex128) {
	for i, j := range f.rev {
		if i < j {
			x[i], x[j] = x[j], x[i]
		}
	}
	for size := 2; size <= f.n; size <<= 1 {
		step := f.n / size
		for start := 0; start < f.n; start += size {
			for k := range size / 2 {
				t := f.twiddle[k*step] * x[start+k+size/2]
				x[start+k+size/2] = x[start+k] - t
				x[start+k] += t
			}
		}
	}
}
