package speech

import (
	"fmt"
	"math"
	"sync"
)

// Resampler filter design. The passband ends where the output's Nyquist
// band less a transition of 1/16 of the lower rate begins (7.5 kHz for
// 16 kHz output) and the stopband starts at the output Nyquist frequency, so
// nothing that would fold back below 8 kHz survives. 90 dB of stopband
// attenuation is far below the 16-bit noise floor of typical microphones
// and costs about 300 multiply-adds per output sample.
const (
	resampleStopbandDB   = 90
	resampleTransitionDv = 16
)

// Resampler converts a stream of mono float32 audio between two sample
// rates with a polyphase windowed-sinc (Kaiser) low-pass filter. It keeps
// its filter history between calls, so splitting the input into chunks of
// any size gives bit-identical output. Output sample n sits exactly at
// input time n·inRate/outRate: the filter is linear-phase and its delay is
// absorbed by holding back output until enough input has arrived.
// A Resampler is not safe for concurrent use.
type Resampler struct {
	bank *filterBank
	hist []float32 // input history; hist[0] is input sample number base
	base int64
	in   int64 // input samples received in this stretch
	out  int64 // output samples produced in this stretch
}

// filterBank is the immutable polyphase filter for one rate pair, shared
// by every Resampler converting between those rates.
type filterBank struct {
	l, m int       // output = input · l / m, reduced
	half int       // taps on each side of the centre, in input samples
	coef []float32 // l phases of 2·half taps each
}

// maxPhases bounds the filter bank: the output rate divided by the
// greatest common divisor of the rates. Every common rate pair stays far
// below it (11025 → 16000 Hz needs 640), while an odd rate such as
// 143409 Hz would need 16000 phases and tens of megabytes.
const maxPhases = 1024

// maxBanks bounds how many rate pairs keep their filter bank for reuse.
const maxBanks = 8

var (
	banksMu sync.Mutex
	banks   = map[[2]int]*filterBank{}
)

// NewResampler returns a resampler from inRate to outRate (Hz), both at
// most 384 kHz, whose ratio reduces to at most 1024 output phases.
func NewResampler(inRate, outRate int) (*Resampler, error) {
	if inRate <= 0 || outRate <= 0 || inRate > 384000 || outRate > 384000 || outRate/gcd(inRate, outRate) > maxPhases {
		return nil, fmt.Errorf("new resampler %d Hz → %d Hz: %w", inRate, outRate, ErrUnsupportedFormat)
	}
	key := [2]int{inRate, outRate}
	banksMu.Lock()
	b, ok := banks[key]
	banksMu.Unlock()
	if !ok {
		b = designFilterBank(inRate, outRate)
		banksMu.Lock()
		if len(banks) < maxBanks {
			banks[key] = b
		}
		banksMu.Unlock()
	}
	r := &Resampler{bank: b}
	r.reset()
	return r, nil
}

func (r *Resampler) reset() {
	h := r.bank.half
	// Audio before the first sample is silence: h zeros of history let the
	// first outputs use the same filter as every other.
	r.hist = append(r.hist[:0], make([]float32, h)...)
	r.base = -int64(h)
	r.in, r.out = 0, 0
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

func designFilterBank(inRate, outRate int) *filterBank {
	g := gcd(inRate, outRate)
	b := &filterBank{l: outRate / g, m: inRate / g}
	if b.l == 1 && b.m == 1 {
		return b
	}
	low := float64(min(inRate, outRate))
	transition := low / resampleTransitionDv
	cutoff := (low/2 - transition/2) / float64(inRate) // cycles per input sample
	// Kaiser's formulas for the window shape and the length that reach the
	// stopband attenuation over the transition width.
	dw := 2 * math.Pi * transition / float64(inRate)
	taps := (resampleStopbandDB - 8) / (2.285 * dw)
	b.half = int(math.Ceil(taps/2)) + 1
	beta := 0.1102 * (resampleStopbandDB - 8.7)
	n := 2 * b.half
	i0beta := bessI0(beta)
	b.coef = make([]float32, b.l*n)
	for p := range b.l {
		row := make([]float64, n)
		var sum float64
		for k := range n {
			// Distance from tap k to the output instant, in input samples.
			tau := float64(k-b.half+1) - float64(p)/float64(b.l)
			x := tau / float64(b.half)
			w := 0.0
			if x*x < 1 {
				w = bessI0(beta*math.Sqrt(1-x*x)) / i0beta
			}
			row[k] = 2 * cutoff * sinc(2*cutoff*tau) * w
			sum += row[k]
		}
		// Unit gain at DC for every phase, so a constant input stays
		// constant instead of rippling with the phase pattern.
		for k := range n {
			b.coef[p*n+k] = float32(row[k] / sum)
		}
	}
	return b
}

func sinc(x float64) float64 {
	if x == 0 {
		return 1
	}
	return math.Sin(math.Pi*x) / (math.Pi * x)
}

// bessI0 is the modified Bessel function of the first kind, order 0, by
// its power series, which converges quickly for the arguments used here.
func bessI0(x float64) float64 {
	sum, term := 1.0, 1.0
	for k := 1; k < 500; k++ {
		f := x / 2 / float64(k)
		term *= f * f
		sum += term
		if term < sum*1e-17 {
			break
		}
	}
	return sum
}

// Process appends to dst the output for in, up to the last sample the
// filter can compute from the input seen so far.
func (r *Resampler) Process(dst, in []float32) []float32 {
	b := r.bank
	if b.coef == nil {
		return append(dst, in...)
	}
	r.hist = append(r.hist, in...)
	r.in += int64(len(in))
	return r.run(dst, r.in, math.MaxInt64)
}

// run produces outputs, up to output number maxOut, while their filter span
// ends before input sample limit, then drops history no later output needs.
func (r *Resampler) run(dst []float32, limit, maxOut int64) []float32 {
	b := r.bank
	n := 2 * b.half
	for r.out < maxOut {
		pos := r.out * int64(b.m)
		i0 := pos / int64(b.l)
		if i0+int64(b.half) >= limit {
			break
		}
		p := int(pos % int64(b.l))
		start := int(i0 - int64(b.half) + 1 - r.base)
		dst = append(dst, clamp1(dot(r.hist[start:start+n], b.coef[p*n:(p+1)*n])))
		r.out++
	}
	need := r.out*int64(b.m)/int64(b.l) - int64(b.half) + 1
	if drop := int(need - r.base); drop > 0 && drop >= len(r.hist)/2 {
		r.hist = r.hist[:copy(r.hist, r.hist[drop:])]
		r.base += int64(drop)
	}
	return dst
}

// Flush appends the outputs that still wait for input, treating the input
// as ended by silence, so that the output covers exactly the input's
// duration, rounded up to a whole output sample. The resampler then starts
// a new stretch of audio.
func (r *Resampler) Flush(dst []float32) []float32 {
	b := r.bank
	if b.coef == nil {
		return dst
	}
	r.hist = append(r.hist, make([]float32, b.half+1)...)
	// Outputs n with n·m/l < in, i.e. every output instant inside the input.
	want := (r.in*int64(b.l) + int64(b.m) - 1) / int64(b.m)
	dst = r.run(dst, r.in+int64(b.half)+1, want)
	r.reset()
	return dst
}

func dot(x, c []float32) float32 {
	// Four partial sums let the compiler keep independent chains in flight;
	// the order is fixed, so results do not depend on how input was chunked.
	var s0, s1, s2, s3 float32
	i := 0
	for ; i+4 <= len(c); i += 4 {
		s0 += x[i] * c[i]
		s1 += x[i+1] * c[i+1]
		s2 += x[i+2] * c[i+2]
		s3 += x[i+3] * c[i+3]
	}
	for ; i < len(c); i++ {
		s0 += x[i] * c[i]
	}
	return (s0 + s1) + (s2 + s3)
}

// clamp1 keeps samples in -1..1: a clipped (square-topped) input makes any
// band-limiting filter overshoot full scale slightly.
func clamp1(v float32) float32 {
	return max(-1, min(1, v))
}
