package testmodel

import (
	"math"
	"testing"
)

func TestMelScale(t *testing.T) {
	t.Parallel()
	// Slaney's scale is linear to 1 kHz = 15 mel, then 27 mel per factor 6.4.
	tests := []struct{ hz, mel float64 }{
		{0, 0},
		{200.0 / 3, 1},
		{1000, 15},
		{6400, 42},
	}
	for _, tt := range tests {
		if got := hzToMel(tt.hz); math.Abs(got-tt.mel) > 1e-9 {
			t.Errorf("hzToMel(%g) = %g, want %g", tt.hz, got, tt.mel)
		}
		if got := melToHz(tt.mel); math.Abs(got-tt.hz) > 1e-9 {
			t.Errorf("melToHz(%g) = %g, want %g", tt.mel, got, tt.hz)
		}
	}
}

func TestMelFilters(t *testing.T) {
	t.Parallel()
	const nMels = 80
	f := MelFilters(nMels)
	if len(f) != nMels*nFFTBins {
		t.Fatalf("len = %d, want %d", len(f), nMels*nFFTBins)
	}
	// The first filter spans 0–74.5 Hz, peaking at 37.2 Hz with height
	// 2/74.5; bin 1 (40 Hz) sits just past the peak. whisper's
	// mel_filters.npz (librosa, slaney) has 0.02486259 there.
	if got := f[1]; math.Abs(float64(got)-0.02486259) > 1e-6 {
		t.Errorf("filter 0 at bin 1 = %.8f, want 0.02486259", got)
	}
	if f[0] != 0 {
		t.Errorf("filter 0 at 0 Hz = %g, want 0", f[0])
	}
	for m := range nMels {
		row := f[m*nFFTBins : (m+1)*nFFTBins]
		// Triangular: non-negative, rising then falling, not empty.
		peak := 0
		for k, v := range row {
			if v < 0 || math.IsNaN(float64(v)) {
				t.Fatalf("filter %d bin %d = %g", m, k, v)
			}
			if v > row[peak] {
				peak = k
			}
		}
		if row[peak] == 0 {
			t.Fatalf("filter %d is empty", m)
		}
		for k := 1; k <= peak; k++ {
			if row[k] < row[k-1] {
				t.Fatalf("filter %d falls before its peak at bin %d", m, k)
			}
		}
		for k := peak + 1; k < nFFTBins; k++ {
			if row[k] > row[k-1] {
				t.Fatalf("filter %d rises after its peak at bin %d", m, k)
			}
		}
		// Unit area in Hz; only the wide upper triangles span enough
		// 40 Hz bins for a sum to measure it.
		if m >= 60 {
			var area float64
			for _, v := range row {
				area += float64(v) * 40
			}
			if math.Abs(area-1) > 0.02 {
				t.Errorf("filter %d area %g, want 1", m, area)
			}
		}
	}
	// The last filter ends at 8 kHz, the last bin.
	if last := f[(nMels-1)*nFFTBins+nFFTBins-1]; last != 0 {
		t.Errorf("last filter at Nyquist = %g, want 0", last)
	}
}
