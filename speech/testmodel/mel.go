package testmodel

import "math"

// Whisper's front end: 16 kHz audio, 400-sample FFT (201 bins), 80 mel bands.
const (
	sampleRate = 16000
	nFFT       = 400
	nFFTBins   = nFFT/2 + 1
)

// MelFilters returns the nMels×(nFFT/2+1) triangular filterbank, row-major,
// that whisper's preprocessing uses: the Slaney mel scale (linear below
// 1 kHz, logarithmic above) from 0 Hz to the Nyquist frequency, each
// triangle scaled to unit area ("slaney" normalization). whisper.cpp reads it
// from the model file instead of computing it, so it must be right here.
func MelFilters(nMels int) []float32 {
	const fMax = sampleRate / 2
	bins := make([]float64, nFFTBins)
	for i := range bins {
		bins[i] = float64(i) * fMax / (nFFTBins - 1)
	}
	lo, hi := hzToMel(0), hzToMel(fMax)
	edges := make([]float64, nMels+2)
	for i := range edges {
		edges[i] = melToHz(lo + (hi-lo)*float64(i)/float64(nMels+1))
	}
	out := make([]float32, nMels*nFFTBins)
	for m := range nMels {
		left, center, right := edges[m], edges[m+1], edges[m+2]
		norm := 2 / (right - left)
		for k, f := range bins {
			rise := (f - left) / (center - left)
			fall := (right - f) / (right - center)
			w := math.Max(0, math.Min(rise, fall))
			out[m*nFFTBins+k] = float32(w * norm)
		}
	}
	return out
}

// Slaney's mel scale: 200/3 Hz per mel up to 1 kHz (15 mel), then a
// constant ratio of 6.4 per 27 mel.
const (
	melLinHz    = 200.0 / 3
	melBreakHz  = 1000.0
	melBreakMel = melBreakHz / melLinHz
)

var melLogStep = math.Log(6.4) / 27

func hzToMel(f float64) float64 {
	if f < melBreakHz {
		return f / melLinHz
	}
	return melBreakMel + math.Log(f/melBreakHz)/melLogStep
}

func melToHz(m float64) float64 {
	if m < melBreakMel {
		return m * melLinHz
	}
	return melBreakHz * math.Exp(melLogStep*(m-melBreakMel))
}
