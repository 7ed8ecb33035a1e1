package whisper

import (
	"context"
	"encoding/binary"
	"errors"
	"math"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/testmodel"
)

// model loads the generated micro whisper model once per test binary.
var (
	modelOnce sync.Once
	model     *Model
	modelErr  error
)

func microModel(t testing.TB) *Model {
	t.Helper()
	modelOnce.Do(func() {
		path, err := testmodel.Generate(context.Background(), "", "whisper-micro")
		if err != nil {
			modelErr = err
			return
		}
		model, modelErr = Load(path)
	})
	if modelErr != nil {
		t.Fatalf("micro whisper model: %v", modelErr)
	}
	return model
}

// jfk reads the 11 s public-domain speech sample as 16 kHz floats.
func jfk(t testing.TB) []float32 {
	t.Helper()
	path := filepath.Join(sharedDir(t), "data", "speech", "jfk-inaugural-1961-excerpt-16k-mono.wav")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Skipf("shared speech sample not available (%v); set MEDSCRIBE_SHARED", err)
	}
	// A canonical 44-byte header precedes 16-bit mono PCM.
	pcm := b[44:]
	out := make([]float32, len(pcm)/2)
	for i := range out {
		out[i] = float32(int16(binary.LittleEndian.Uint16(pcm[2*i:]))) / 32768
	}
	return out
}

func sharedDir(t testing.TB) string {
	if d := os.Getenv("MEDSCRIBE_SHARED"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

func TestTranscribeGeneratedModel(t *testing.T) {
	m := microModel(t)
	e, err := m.NewEngine(2)
	if err != nil {
		t.Fatal(err)
	}
	defer e.Close()
	audio := jfk(t)
	if len(audio) < 10*speech.SampleRate {
		t.Fatalf("jfk sample is %d samples, want ≥ 10 s", len(audio))
	}
	window := audio[:3*speech.SampleRate]
	opts := speech.Options{Prompt: "metformin lisinopril", AudioCtx: 3 * 50, Threads: 2}
	segs, err := e.Transcribe(context.Background(), window, opts)
	if err != nil {
		t.Fatal(err)
	}
	// A random-weight model's words are noise, but everything about their
	// shape must hold: finite probabilities and times inside the window.
	for _, s := range segs {
		if s.Start < 0 || s.End > 3*time.Second || s.End < s.Start {
			t.Errorf("segment times %v..%v outside the 3 s window", s.Start, s.End)
		}
		if math.IsNaN(float64(s.NoSpeechProb)) || math.IsNaN(float64(s.AvgLogProb)) || s.AvgLogProb > 0 {
			t.Errorf("segment probabilities: no-speech %v, avg log-prob %v", s.NoSpeechProb, s.AvgLogProb)
		}
		for _, w := range s.Words {
			if w.Prob < 0 || w.Prob > 1 || w.End < w.Start {
				t.Errorf("word %+v malformed", w)
			}
		}
	}
	// Same input, same state reset: the same output (greedy decoding).
	again, err := e.Transcribe(context.Background(), window, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(again) != len(segs) {
		t.Fatalf("second run gave %d segments, first %d", len(again), len(segs))
	}
	for i := range segs {
		if segs[i].Text != again[i].Text {
			t.Fatalf("non-deterministic: %q then %q", segs[i].Text, again[i].Text)
		}
	}
}

// TestEnginesShareModel runs two sessions' engines at once on one model.
func TestEnginesShareModel(t *testing.T) {
	m := microModel(t)
	audio := jfk(t)[:2*speech.SampleRate]
	var wg sync.WaitGroup
	results := make([]string, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			e, err := m.NewEngine(1)
			if err != nil {
				t.Error(err)
				return
			}
			defer e.Close()
			segs, err := e.Transcribe(context.Background(), audio, speech.Options{AudioCtx: 100})
			if err != nil {
				t.Error(err)
				return
			}
			for _, s := range segs {
				results[i] += s.Text
			}
		}()
	}
	wg.Wait()
	if results[0] != results[1] {
		t.Fatalf("two engines on the same audio disagree: %q vs %q", results[0], results[1])
	}
	if err := m.Close(); err != nil {
		// Engines are closed; closing must work, then reopen for others.
		t.Fatal(err)
	}
	modelOnce = sync.Once{}
}

func TestCanceledAndClosed(t *testing.T) {
	m := microModel(t)
	e, err := m.NewEngine(1)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := e.Transcribe(ctx, make([]float32, speech.SampleRate), speech.Options{}); !errors.Is(err, context.Canceled) {
		t.Fatalf("canceled context: err = %v", err)
	}
	if err := m.Close(); err == nil {
		t.Fatal("model closed while an engine was open")
	}
	e.Close()
	if _, err := e.Transcribe(context.Background(), make([]float32, 100), speech.Options{}); !errors.Is(err, ErrClosed) {
		t.Fatalf("closed engine: err = %v", err)
	}
	if segs, err := (&Engine{}).Transcribe(context.Background(), nil, speech.Options{}); err == nil || segs != nil {
		t.Fatalf("zero engine: %v %v", segs, err)
	}
}

func TestLoadErrors(t *testing.T) {
	if _, err := Load(filepath.Join(t.TempDir(), "missing.bin")); err == nil {
		t.Fatal("loading a missing file succeeded")
	}
	bad := filepath.Join(t.TempDir(), "bad.bin")
	os.WriteFile(bad, []byte("not a model"), 0o600)
	if _, err := Load(bad); err == nil {
		t.Fatal("loading a corrupt file succeeded")
	}
}
