// Package speechtest provides audio and a scripted speech.Engine for tests
// of speech and of the packages that drive it, so that none of them needs
// real model weights: the shared reference recordings, speech synthesized at
// test time with espeak-ng, synthetic voiced audio that follows a
// word-timed script, noise, and an engine that replays that script the way
// a recognizer sees a growing window of audio.
package speechtest

import (
	"bytes"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
)

// JFKText is the transcript of the shared JFK recording.
const JFKText = "And so, my fellow Americans, ask not what your country can do for you, ask what you can do for your country."

// SharedDir returns the read-only shared reference directory: $MEDSCRIBE_SHARED
// if set, else ../shared next to the repository root (the directory holding
// go.mod). It skips the test when the directory is absent.
func SharedDir(tb testing.TB) string {
	tb.Helper()
	if d := os.Getenv("MEDSCRIBE_SHARED"); d != "" {
		if _, err := os.Stat(d); err != nil {
			tb.Skipf("MEDSCRIBE_SHARED=%s is not readable (%v); shared reference data absent", d, err)
		}
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Skip("no go.mod above the working directory; set MEDSCRIBE_SHARED to the shared data directory")
		}
		dir = parent
	}
	shared := filepath.Join(filepath.Dir(dir), "shared")
	if _, err := os.Stat(filepath.Join(shared, "data")); err != nil {
		tb.Skipf("shared reference data not found at %s; set MEDSCRIBE_SHARED", shared)
	}
	return shared
}

// JFKPath is the path of the 11 s, 16 kHz mono JFK recording.
func JFKPath(tb testing.TB) string {
	tb.Helper()
	return filepath.Join(SharedDir(tb), "data", "speech", "jfk-inaugural-1961-excerpt-16k-mono.wav")
}

// JFK returns the shared JFK recording as 16 kHz samples.
func JFK(tb testing.TB) []float32 {
	tb.Helper()
	return ReadWAVFile(tb, JFKPath(tb))
}

// ReadWAVFile reads a WAV file as 16 kHz mono samples or fails the test.
func ReadWAVFile(tb testing.TB, path string) []float32 {
	tb.Helper()
	f, err := os.Open(path)
	if err != nil {
		tb.Fatalf("open %s: %v", path, err)
	}
	defer f.Close()
	s, err := speech.ReadWAV(f)
	if err != nil {
		tb.Fatalf("read %s: %v", path, err)
	}
	return s
}

var espeakCache sync.Map // text → []float32

// Espeak synthesizes text with Debian's espeak-ng (package espeak-ng) and
// returns it as 16 kHz samples. It skips the test when espeak-ng is not
// installed. Results are cached per process; callers must not modify them.
func Espeak(tb testing.TB, text string) []float32 {
	tb.Helper()
	if v, ok := espeakCache.Load(text); ok {
		return v.([]float32)
	}
	bin, err := exec.LookPath("espeak-ng")
	if err != nil {
		tb.Skip("espeak-ng not installed (apt-get install espeak-ng); needed to synthesize test speech")
	}
	var out, errb bytes.Buffer
	// The text goes on stdin so nothing in it is read as an option.
	cmd := exec.Command(bin, "--stdout", "-v", "en-us", "-s", "160")
	cmd.Stdin = strings.NewReader(text)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		tb.Fatalf("espeak-ng: %v: %s", err, errb.String())
	}
	s, err := speech.ReadWAV(&out)
	if err != nil {
		tb.Fatalf("read espeak-ng output: %v", err)
	}
	espeakCache.Store(text, s)
	return s
}

// EspeakDictation synthesizes text word by word and joins the words with
// short gaps, and with longer pauses after commas and sentence ends, so
// that every word's time in the result is known exactly. It returns the
// audio and the word-timed script of it. Leading and trailing silence of
// each synthesized word is cut at a -50 dBFS threshold.
func EspeakDictation(tb testing.TB, text string, t Timing) ([]float32, Script) {
	tb.Helper()
	t = t.withDefaults()
	var audio []float32
	var script Script
	audio = append(audio, make([]float32, samples(t.Lead))...)
	for _, w := range strings.Fields(text) {
		spoken := strings.Trim(w, ".,;:!?\"")
		s := trimSilence(Espeak(tb, spoken), 0.003)
		start := len(audio)
		audio = append(audio, s...)
		script = append(script, speech.Word{Text: w, Start: at(start), End: at(len(audio))})
		audio = append(audio, make([]float32, samples(t.gapAfter(w)))...)
	}
	return audio, script
}

func trimSilence(s []float32, thr float32) []float32 {
	i, j := 0, len(s)
	for i < j && abs32(s[i]) < thr {
		i++
	}
	for j > i && abs32(s[j-1]) < thr {
		j--
	}
	return s[i:j]
}

func abs32(v float32) float32 { return float32(math.Abs(float64(v))) }

func samples(d time.Duration) int { return int(d * speech.SampleRate / time.Second) }

func at(n int) time.Duration { return time.Duration(n) * time.Second / speech.SampleRate }

// Tone returns a sine of freq Hz and amplitude amp, n samples at rate Hz.
func Tone(freq, amp float64, rate, n int) []float32 {
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(amp * math.Sin(2*math.Pi*freq*float64(i)/float64(rate)))
	}
	return out
}

// WhiteNoise returns n samples of Gaussian white noise with RMS level rms.
func WhiteNoise(seed uint64, rms float64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 1))
	out := make([]float32, n)
	for i := range out {
		out[i] = float32(r.NormFloat64() * rms)
	}
	return out
}

// PinkNoise returns n samples of 1/f noise with RMS level rms (Paul
// Kellet's economy filter over white noise).
func PinkNoise(seed uint64, rms float64, n int) []float32 {
	r := rand.New(rand.NewPCG(seed, 2))
	out := make([]float32, n)
	var b0, b1, b2 float64
	var sq float64
	for i := range out {
		w := r.NormFloat64()
		b0 = 0.99765*b0 + w*0.0990460
		b1 = 0.96300*b1 + w*0.2965164
		b2 = 0.57000*b2 + w*1.0526913
		v := b0 + b1 + b2 + w*0.1848
		out[i] = float32(v)
		sq += v * v
	}
	scale := rms / math.Sqrt(sq/float64(max(n, 1)))
	for i := range out {
		out[i] *= float32(scale)
	}
	return out
}

// Mix adds b into a (up to the shorter length) and returns a.
func Mix(a, b []float32) []float32 {
	for i := range min(len(a), len(b)) {
		a[i] += b[i]
	}
	return a
}

// RMS is the root mean square of s.
func RMS(s []float32) float64 {
	var sq float64
	for _, v := range s {
		sq += float64(v) * float64(v)
	}
	return math.Sqrt(sq / float64(max(len(s), 1)))
}
