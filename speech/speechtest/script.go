package speechtest

import (
	"math"
	"math/rand/v2"
	"strings"
	"time"
	"unicode"

	"github.com/medscribe/medscribe/speech"
)

// Script is a known transcript aligned to session audio time: the words a
// perfect recognizer would hear, with their spans.
type Script []speech.Word

// Text joins the script's words with single spaces.
func (s Script) Text() string {
	var b strings.Builder
	for i, w := range s {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(w.Text)
	}
	return b.String()
}

// End is the end of the last word.
func (s Script) End() time.Duration {
	if len(s) == 0 {
		return 0
	}
	return s[len(s)-1].End
}

// Timing is a simple model of dictation pace. Zero fields take defaults.
type Timing struct {
	// Lead is the silence before the first word; default 500 ms.
	Lead time.Duration
	// Gap is the pause between words in a phrase; default 60 ms.
	Gap time.Duration
	// Comma is the pause after , ; or :; default 250 ms.
	Comma time.Duration
	// Sentence is the pause after . ? or !; default 800 ms.
	Sentence time.Duration
	// PerLetter and Base give a word's duration: Base + PerLetter·letters;
	// defaults 55 ms and 90 ms, about 2.5 words a second with the gaps.
	PerLetter, Base time.Duration
}

func (t Timing) withDefaults() Timing {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&t.Lead, 500*time.Millisecond)
	def(&t.Gap, 60*time.Millisecond)
	def(&t.Comma, 250*time.Millisecond)
	def(&t.Sentence, 800*time.Millisecond)
	def(&t.PerLetter, 55*time.Millisecond)
	def(&t.Base, 90*time.Millisecond)
	return t
}

func (t Timing) gapAfter(word string) time.Duration {
	switch {
	case strings.HasSuffix(word, ".") || strings.HasSuffix(word, "?") || strings.HasSuffix(word, "!"):
		return t.Sentence
	case strings.HasSuffix(word, ",") || strings.HasSuffix(word, ";") || strings.HasSuffix(word, ":"):
		return t.Comma
	}
	return t.Gap
}

// Dictate aligns text to audio time with the timing model, as if spoken at
// a steady dictation pace.
func Dictate(text string, t Timing) Script {
	t = t.withDefaults()
	var s Script
	now := t.Lead
	for _, w := range strings.Fields(text) {
		letters := 0
		for _, r := range w {
			if unicode.IsLetter(r) || unicode.IsDigit(r) {
				letters++
			}
		}
		d := t.Base + time.Duration(letters)*t.PerLetter
		s = append(s, speech.Word{Text: w, Start: now, End: now + d})
		now += d + t.gapAfter(w)
	}
	return s
}

// Synth renders a script as synthetic voiced audio at 16 kHz lasting until
// end (at least the script's end): each word is a harmonic buzz with a
// drifting pitch, vowel-like spectral peaks and a syllable-rate envelope,
// at about -20 dBFS; between words there is faint white noise at -70 dBFS.
// It is not intelligible, but a voice activity detector sees speech exactly
// where the script has words.
func Synth(s Script, end time.Duration, seed uint64) []float32 {
	end = max(end, s.End())
	out := make([]float32, samples(end))
	r := rand.New(rand.NewPCG(seed, 3))
	for i := range out {
		out[i] = float32(r.NormFloat64() * 0.0003)
	}
	for wi, w := range s {
		a, b := samples(w.Start), min(samples(w.End), len(out))
		f0 := 105 + 30*r.Float64()
		syll := 0.18 + 0.08*r.Float64() // seconds per syllable
		phase := 0.0
		for i := a; i < b; i++ {
			t := float64(i-a) / speech.SampleRate
			dur := float64(b-a) / speech.SampleRate
			f := f0 * (1 + 0.08*math.Sin(2*math.Pi*1.3*t+float64(wi)))
			phase += 2 * math.Pi * f / speech.SampleRate
			var v float64
			for h := 1; float64(h)*f < 4000; h++ {
				hf := float64(h) * f
				// Three formant-like peaks over a falling tilt.
				g := 1/float64(h) + formant(hf, 600, 150) + 0.7*formant(hf, 1500, 200) + 0.4*formant(hf, 2600, 250)
				v += g * math.Sin(float64(h)*phase)
			}
			env := 0.55 + 0.45*math.Cos(2*math.Pi*t/syll)
			ramp := math.Min(1, math.Min(t, dur-t)/0.015)
			out[i] += float32(0.05 * v * env * ramp)
		}
	}
	return out
}

func formant(f, centre, width float64) float64 {
	d := (f - centre) / width
	return math.Exp(-d * d)
}

// ScriptDetector is a speech.VoiceDetector that knows where the script's
// words are instead of listening: a 20 ms frame is speech when it overlaps
// a word. Policy tests use it to separate the commit policy from the
// acoustics of the built-in detector.
type ScriptDetector struct {
	Script Script
	frame  int
	next   int // first word that may still overlap a frame
}

// FrameSize implements speech.VoiceDetector.
func (d *ScriptDetector) FrameSize() int { return 320 }

// Score implements speech.VoiceDetector.
func (d *ScriptDetector) Score(frame []float32) (float32, error) {
	start, end := at(d.frame*320), at((d.frame+1)*320)
	d.frame++
	for d.next < len(d.Script) && d.Script[d.next].End <= start {
		d.next++
	}
	if d.next < len(d.Script) && d.Script[d.next].Start < end {
		return 1, nil
	}
	return 0, nil
}
