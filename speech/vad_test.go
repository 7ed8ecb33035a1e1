package speech_test

import (
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
)

func sec(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }

// coverage is the share of [a, b) inside the spans.
func coverage(spans []speech.Span, a, b time.Duration) float64 {
	var in time.Duration
	for _, s := range spans {
		if lo, hi := max(s.Start, a), min(s.End, b); hi > lo {
			in += hi - lo
		}
	}
	return float64(in) / float64(b-a)
}

func detect(tb testing.TB, audio []float32) []speech.Span {
	tb.Helper()
	v, err := speech.NewVAD(nil, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if err := v.Write(audio); err != nil {
		tb.Fatal(err)
	}
	if err := v.Flush(); err != nil {
		tb.Fatal(err)
	}
	return v.Speech()
}

// JFK's phrases and the two long pauses between them, read off the
// recording's energy envelope (the pauses hold crowd noise at about
// -42 dBFS, 30 dB under the voice).
var (
	jfkPhrases = [][2]float64{{0.3, 2.0}, {3.4, 4.2}, {5.5, 7.5}, {8.3, 10.1}}
	jfkPauses  = [][2]float64{{2.5, 3.2}, {4.7, 5.3}}
)

func checkJFK(t *testing.T, spans []speech.Span, minSpeech, maxPause float64) {
	t.Helper()
	for _, p := range jfkPhrases {
		if c := coverage(spans, sec(p[0]), sec(p[1])); c < minSpeech {
			t.Errorf("phrase %.1f–%.1f s: %.0f%% detected, want ≥ %.0f%%", p[0], p[1], 100*c, 100*minSpeech)
		}
	}
	for _, p := range jfkPauses {
		if c := coverage(spans, sec(p[0]), sec(p[1])); c > maxPause {
			t.Errorf("pause %.1f–%.1f s: %.0f%% detected as speech, want ≤ %.0f%%", p[0], p[1], 100*c, 100*maxPause)
		}
	}
}

func TestVADJFK(t *testing.T) {
	t.Parallel()
	spans := detect(t, speechtest.JFK(t))
	t.Logf("speech: %v", spans)
	checkJFK(t, spans, 0.95, 0)
}

// TestVADSpeechInNoise: with white noise added 10 dB below the voice, the
// phrases are still found and the pauses still are not speech.
func TestVADSpeechInNoise(t *testing.T) {
	t.Parallel()
	jfk := slices.Clone(speechtest.JFK(t))
	noisy := speechtest.Mix(jfk, speechtest.WhiteNoise(7, speechtest.RMS(jfk)/3.16, len(jfk)))
	spans := detect(t, noisy)
	t.Logf("speech: %v", spans)
	checkJFK(t, spans, 0.8, 0.1)
}

func TestVADChunkingInvariant(t *testing.T) {
	t.Parallel()
	jfk := speechtest.JFK(t)
	want := detect(t, jfk)
	r := rand.New(rand.NewPCG(3, 4))
	v, _ := speech.NewVAD(nil, nil)
	for i := 0; i < len(jfk); {
		n := min(len(jfk)-i, r.IntN(1500))
		if err := v.Write(jfk[i : i+n]); err != nil {
			t.Fatal(err)
		}
		i += n
	}
	_ = v.Flush()
	if got := v.Speech(); !slices.Equal(got, want) {
		t.Errorf("chunked writes found %v, one write found %v", got, want)
	}
}

// TestVADNoSpeech: silence, steady noise of several colours, mains hum and
// a steady tone are never speech, including noise that starts after
// silence.
func TestVADNoSpeech(t *testing.T) {
	t.Parallel()
	const n = 10 * 16000
	hum := make([]float32, n)
	for _, h := range []float64{50, 100, 150, 250} {
		speechtest.Mix(hum, speechtest.Tone(h, 0.05/h*50, 16000, n))
	}
	onset := append(make([]float32, 2*16000), speechtest.WhiteNoise(5, 0.05, n)...)
	for _, tc := range []struct {
		name  string
		audio []float32
	}{
		{"digital silence", make([]float32, n)},
		{"dither at -70 dBFS", speechtest.WhiteNoise(1, 0.0003, n)},
		{"white noise at -30 dBFS", speechtest.WhiteNoise(2, 0.03, n)},
		{"white noise at -10 dBFS", speechtest.WhiteNoise(3, 0.3, n)},
		{"pink noise at -20 dBFS", speechtest.PinkNoise(4, 0.1, n)},
		{"mains hum", hum},
		{"steady 1 kHz tone", speechtest.Tone(1000, 0.3, 16000, n)},
		{"white noise starting after silence", onset},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if spans := detect(t, tc.audio); len(spans) != 0 {
				t.Errorf("found speech: %v", spans)
			}
		})
	}
}

// TestVADEspeak: dictation synthesized with espeak-ng, word by word so
// every word's span is known, is found word for word, and the pauses at
// sentence ends split it into one interval per sentence.
func TestVADEspeak(t *testing.T) {
	t.Parallel()
	text := "The patient takes metformin five hundred milligrams twice daily. " +
		"Blood pressure is one thirty over eighty. " +
		"History of atrial fibrillation, on apixaban."
	audio, script := speechtest.EspeakDictation(t, text, speechtest.Timing{})
	spans := detect(t, audio)
	t.Logf("speech: %v", spans)
	var total, covered time.Duration
	for _, w := range script {
		c := coverage(spans, w.Start, w.End)
		if c < 0.6 {
			t.Errorf("word %q at %v–%v: %.0f%% detected", w.Text, w.Start, w.End, 100*c)
		}
		total += w.End - w.Start
		covered += time.Duration(c * float64(w.End-w.Start))
	}
	if share := float64(covered) / float64(total); share < 0.9 {
		t.Errorf("%.0f%% of word time detected, want ≥ 90%%", 100*share)
	}
	if sentences := strings.Count(text, "."); len(spans) != sentences {
		t.Errorf("%d speech intervals, want one per sentence (%d)", len(spans), sentences)
	}
}

// scores is a VoiceDetector that replays fixed probabilities.
type scores struct {
	p    []float32
	i    int
	fail int // frame index that fails; -1 none
}

func (s *scores) FrameSize() int { return 512 }

func (s *scores) Score(frame []float32) (float32, error) {
	if len(frame) != 512 {
		return 0, errors.New("wrong frame size")
	}
	if s.i == s.fail {
		return 0, errors.New("model failed")
	}
	s.i++
	if s.i-1 < len(s.p) {
		return s.p[s.i-1], nil
	}
	return 0, nil
}

// TestVADGate: with a pluggable detector of 32 ms frames, an interval opens
// after MinSpeech of frames at or above the threshold, stays open through
// frames down to threshold-0.15 and through Hangover of silence, and is
// dated from the first speech frame.
func TestVADGate(t *testing.T) {
	t.Parallel()
	const fr = 32 * time.Millisecond
	opts := &speech.VADOptions{Threshold: 0.5, MinSpeech: 64 * time.Millisecond, Hangover: 96 * time.Millisecond}
	for _, tc := range []struct {
		name string
		p    []float32
		want []speech.Span
	}{
		{"single frame is a click", []float32{0, 0.9, 0, 0, 0, 0}, nil},
		{"two frames open", []float32{0, 0.9, 0.9, 0, 0, 0, 0, 0}, []speech.Span{{fr, 6 * fr}}},
		{"hysteresis keeps it open", []float32{0.6, 0.6, 0.4, 0.4, 0.4, 0.1, 0.1, 0.1, 0.1}, []speech.Span{{0, 8 * fr}}},
		{"short gap bridged", []float32{0.9, 0.9, 0, 0, 0.9, 0, 0, 0, 0}, []speech.Span{{0, 8 * fr}}},
		{"long gap splits", []float32{0.9, 0.9, 0, 0, 0, 0, 0.9, 0.9, 0, 0, 0, 0}, []speech.Span{{0, 5 * fr}, {6 * fr, 11 * fr}}},
		{"open at the end is closed by Flush", []float32{0, 0.9, 0.9, 0.9}, []speech.Span{{fr, 4 * fr}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			v, err := speech.NewVAD(&scores{p: tc.p, fail: -1}, opts)
			if err != nil {
				t.Fatal(err)
			}
			if err := v.Write(make([]float32, 512*len(tc.p))); err != nil {
				t.Fatal(err)
			}
			if err := v.Flush(); err != nil {
				t.Fatal(err)
			}
			if got := v.Speech(); !slices.Equal(got, tc.want) {
				t.Errorf("speech %v, want %v", got, tc.want)
			}
		})
	}
	v, _ := speech.NewVAD(&scores{fail: 2}, nil)
	if err := v.Write(make([]float32, 512*4)); err == nil || !strings.Contains(err.Error(), "model failed") {
		t.Errorf("detector failure: %v", err)
	}
}
