package speech

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func sine(freq, amp float64, rate, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

func resampleAll(t *testing.T, in []float32, from, to int) []float32 {
	t.Helper()
	r, err := NewResampler(from, to)
	if err != nil {
		t.Fatal(err)
	}
	return r.Flush(r.Process(nil, in))
}

// fitTone fits a·sin(2πft)+b·cos(2πft)+c to s by least squares at a given
// frequency and returns the amplitude and the RMS of what the fit leaves.
func fitTone(s []float32, freq float64, rate int) (amp, resid float64) {
	// Normal equations for three unknowns.
	var m [3][4]float64
	for i, v := range s {
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		x := [3]float64{math.Sin(ph), math.Cos(ph), 1}
		for r := range 3 {
			for c := range 3 {
				m[r][c] += x[r] * x[c]
			}
			m[r][3] += x[r] * float64(v)
		}
	}
	for p := range 3 {
		for r := p + 1; r < 3; r++ {
			f := m[r][p] / m[p][p]
			for c := p; c < 4; c++ {
				m[r][c] -= f * m[p][c]
			}
		}
	}
	var sol [3]float64
	for r := 2; r >= 0; r-- {
		v := m[r][3]
		for c := r + 1; c < 3; c++ {
			v -= m[r][c] * sol[c]
		}
		sol[r] = v / m[r][r]
	}
	var sq float64
	for i, v := range s {
		ph := 2 * math.Pi * freq * float64(i) / float64(rate)
		d := float64(v) - sol[0]*math.Sin(ph) - sol[1]*math.Cos(ph) - sol[2]
		sq += d * d
	}
	return math.Hypot(sol[0], sol[1]), math.Sqrt(sq / float64(len(s)))
}

// bestFrequency finds the frequency whose fitted tone leaves the least
// residual, by golden-section search around guess.
func bestFrequency(s []float32, guess float64, rate int) float64 {
	lo, hi := guess-2, guess+2
	g := (math.Sqrt(5) - 1) / 2
	f := func(x float64) float64 { _, r := fitTone(s, x, rate); return r }
	a, b := hi-g*(hi-lo), lo+g*(hi-lo)
	fa, fb := f(a), f(b)
	for hi-lo > 1e-5 {
		if fa < fb {
			hi, b, fb = b, a, fa
			a = hi - g*(hi-lo)
			fa = f(a)
		} else {
			lo, a, fa = a, b, fb
			b = lo + g*(hi-lo)
			fb = f(b)
		}
	}
	return (lo + hi) / 2
}

// TestResamplerKeepsTone: a 1 kHz tone at amplitude 0.5 keeps its
// frequency within 0.001 Hz and its amplitude within 0.001 dB, and what
// is not the tone stays below -90 dB of it.
func TestResamplerKeepsTone(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{48000, 44100} {
		out := resampleAll(t, sine(1000, 0.5, rate, 2*rate), rate, SampleRate)
		if want := 2 * SampleRate; len(out) != want {
			t.Fatalf("%d Hz: %d output samples, want %d", rate, len(out), want)
		}
		// The first and last filter spans see the silence outside the input.
		mid := out[SampleRate/10 : len(out)-SampleRate/10]
		f := bestFrequency(mid, 1000, SampleRate)
		amp, resid := fitTone(mid, f, SampleRate)
		ampDB := 20 * math.Log10(amp/0.5)
		residDB := 20 * math.Log10(resid/(0.5/math.Sqrt2))
		t.Logf("%d Hz → 16 kHz: frequency %.5f Hz, amplitude error %.5f dB, residual %.1f dB", rate, f, ampDB, residDB)
		if math.Abs(f-1000) > 0.001 {
			t.Errorf("%d Hz: frequency %.5f Hz, want 1000 ± 0.001", rate, f)
		}
		if math.Abs(ampDB) > 0.001 {
			t.Errorf("%d Hz: amplitude off by %.5f dB, want within ±0.001 dB", rate, ampDB)
		}
		if residDB > -90 {
			t.Errorf("%d Hz: residual %.1f dB, want below -90 dB", rate, residDB)
		}
	}
}

// TestResamplerRejectsAliases: tones above the output's Nyquist frequency
// are attenuated by at least 60 dB (the requirement) and in fact by the
// designed 80 dB and more, from the stopband edge up to the input's own
// Nyquist frequency.
func TestResamplerRejectsAliases(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{48000, 44100} {
		worst := math.Inf(1)
		for _, freq := range []float64{8000, 8500, 10000, 12000, 15000, 19000, float64(rate)/2 - 100} {
			in := sine(freq, 0.5, rate, rate)
			out := resampleAll(t, in, rate, SampleRate)
			mid := out[SampleRate/10 : len(out)-SampleRate/10]
			var sq float64
			for _, v := range mid {
				sq += float64(v) * float64(v)
			}
			rej := 20 * math.Log10((0.5/math.Sqrt2)/math.Sqrt(sq/float64(len(mid))+1e-30))
			worst = min(worst, rej)
			if freq == 10000 {
				t.Logf("%d Hz input: 10 kHz tone rejected by %.1f dB", rate, rej)
				if rej < 60 {
					t.Errorf("%d Hz: 10 kHz tone rejected by %.1f dB, want ≥ 60 dB", rate, rej)
				}
			}
			if rej < 80 {
				t.Errorf("%d Hz: %.0f Hz tone rejected by %.1f dB, want ≥ 80 dB", rate, freq, rej)
			}
		}
		t.Logf("%d Hz input: worst rejection over 8 kHz to Nyquist %.1f dB", rate, worst)
	}
}

// TestResamplerChunkingInvariant: how the input is split into calls does
// not change a single output bit, so frame boundaries leave no trace.
func TestResamplerChunkingInvariant(t *testing.T) {
	t.Parallel()
	r := rand.New(rand.NewPCG(1, 2))
	for _, rate := range []int{48000, 44100, 22050} {
		in := make([]float32, rate*3/2)
		for i := range in {
			in[i] = float32(r.NormFloat64() * 0.2)
		}
		whole := resampleAll(t, in, rate, SampleRate)
		rs, _ := NewResampler(rate, SampleRate)
		var parts []float32
		for i := 0; i < len(in); {
			n := min(len(in)-i, r.IntN(2000))
			parts = rs.Process(parts, in[i:i+n])
			i += n
		}
		parts = rs.Flush(parts)
		if !slices.Equal(whole, parts) {
			t.Errorf("%d Hz: chunked output differs from one-shot output", rate)
		}
	}
}

// TestResamplerTiming: output sample n is input time n/16000 s exactly:
// an impulse comes out centred where it went in, and the output covers
// the input's duration.
func TestResamplerTiming(t *testing.T) {
	t.Parallel()
	for _, rate := range []int{48000, 44100, 22050} {
		in := make([]float32, rate/2)
		in[rate/10] = 1 // at 100 ms
		out := resampleAll(t, in, rate, SampleRate)
		peak := 0
		for i, v := range out {
			if v > out[peak] {
				peak = i
			}
		}
		if peak != SampleRate/10 {
			t.Errorf("%d Hz: impulse at 100 ms came out at sample %d, want %d", rate, peak, SampleRate/10)
		}
		if want := (len(in)*SampleRate + rate - 1) / rate; len(out) != want {
			t.Errorf("%d Hz: %d output samples for %d input, want %d", rate, len(out), len(in), want)
		}
	}
}

// TestResamplerDCAndClipping: a constant stays constant, and full-scale
// square waves, whose band-limited version overshoots, stay within ±1.
func TestResamplerDCAndClipping(t *testing.T) {
	t.Parallel()
	dc := make([]float32, 48000)
	for i := range dc {
		dc[i] = 0.25
	}
	out := resampleAll(t, dc, 48000, SampleRate)
	for i := 1000; i < len(out)-1000; i++ {
		if math.Abs(float64(out[i])-0.25) > 1e-6 {
			t.Fatalf("DC: sample %d is %v, want 0.25", i, out[i])
		}
	}
	sq := make([]float32, 48000)
	for i := range sq {
		sq[i] = 1
		if (i/24)%2 == 1 {
			sq[i] = -1
		}
	}
	for i, v := range resampleAll(t, sq, 48000, SampleRate) {
		if v > 1 || v < -1 || v != v {
			t.Fatalf("square wave: sample %d is %v, want within ±1", i, v)
		}
	}
}

func TestResamplerRates(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		from, to int
		ok       bool
	}{
		{0, 16000, false}, {16000, -1, false}, {1 << 20, 16000, false},
		{143409, 16000, false}, // 16000 filter phases
		{8000, 16000, true}, {11025, 16000, true}, {22050, 16000, true}, {24000, 16000, true},
		{32000, 16000, true}, {88200, 16000, true}, {96000, 16000, true}, {192000, 16000, true},
	} {
		if _, err := NewResampler(tc.from, tc.to); (err == nil) != tc.ok {
			t.Errorf("NewResampler(%d, %d): %v, want ok=%v", tc.from, tc.to, err, tc.ok)
		}
	}
	// Equal rates pass samples through unchanged.
	in := sine(440, 0.3, 16000, 1000)
	if out := resampleAll(t, in, 16000, 16000); !slices.Equal(in, out) {
		t.Error("16 kHz → 16 kHz changed the samples")
	}
}
