package whisper

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
	"github.com/medscribe/medscribe/speech/testmodel"
)

// generatedVAD returns the path of the generated Silero model.
func generatedVAD(t testing.TB) string {
	t.Helper()
	path, err := testmodel.Generate(context.Background(), "", "silero-vad-generated")
	if err != nil {
		t.Fatalf("generated vad model: %v", err)
	}
	return path
}

// vadAudio is jfk.wav, one second of digital silence and one second of
// quiet white noise, so that frames of every kind are scored.
func vadAudio(t testing.TB) []float32 {
	audio := slices.Clone(speechtest.JFK(t))
	audio = append(audio, make([]float32, speech.SampleRate)...)
	return append(audio, speechtest.WhiteNoise(1, 0.01, speech.SampleRate)...)
}

// scoreAll scores audio frame by frame with a fresh detector.
func scoreAll(t testing.TB, m *VADModel, audio []float32) []float32 {
	t.Helper()
	d, err := m.NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	var out []float32
	for i := 0; i+sileroWindow <= len(audio); i += sileroWindow {
		p, err := d.Score(audio[i : i+sileroWindow])
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, p)
	}
	return out
}

func TestVADDetectorGeneratedModel(t *testing.T) {
	t.Parallel()
	m, err := LoadVAD(generatedVAD(t))
	if err != nil {
		t.Fatal(err)
	}
	audio := vadAudio(t)
	probs := scoreAll(t, m, audio)
	if len(probs) != len(audio)/sileroWindow {
		t.Fatalf("%d probabilities for %d frames", len(probs), len(audio)/sileroWindow)
	}
	distinct := map[float32]bool{}
	for i, p := range probs {
		if !(p >= 0 && p <= 1) {
			t.Fatalf("frame %d: probability %v", i, p)
		}
		distinct[p] = true
	}
	// Random weights: what the values mean is arbitrary, but they must
	// depend on the audio.
	if len(distinct) < len(probs)/2 {
		t.Errorf("%d distinct probabilities over %d frames; the model does not respond to the audio", len(distinct), len(probs))
	}
	t.Logf("%d frames, probabilities %.3f..%.3f", len(probs), slices.Min(probs), slices.Max(probs))
	// The generator sets the final bias so that digital silence scores
	// below 0.5, as with a trained model; the last second before the noise
	// is silence, long after the state has settled.
	silence := probs[(len(audio)-speech.SampleRate)/sileroWindow-8]
	if silence >= 0.5 {
		t.Errorf("digital silence scores %v, want < 0.5", silence)
	}

	// Deterministic: a second detector gives the same values.
	if again := scoreAll(t, m, audio); !slices.Equal(probs, again) {
		t.Fatal("a second detector on the same audio gives other probabilities")
	}
}

// TestVADDetectorState checks that each detector carries its own state:
// a frame's probability depends on the frames before it in that detector
// only, so two detectors used in turns give what each gives alone.
func TestVADDetectorState(t *testing.T) {
	t.Parallel()
	m, err := LoadVAD(generatedVAD(t))
	if err != nil {
		t.Fatal(err)
	}
	speechAudio := speechtest.JFK(t)[:2*speech.SampleRate]
	noise := speechtest.WhiteNoise(2, 0.05, 2*speech.SampleRate)
	wantA, wantB := scoreAll(t, m, speechAudio), scoreAll(t, m, noise)

	a, err := m.NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	b, err := m.NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	for i := range wantA {
		f := i * sileroWindow
		pa, err := a.Score(speechAudio[f : f+sileroWindow])
		if err != nil {
			t.Fatal(err)
		}
		pb, err := b.Score(noise[f : f+sileroWindow])
		if err != nil {
			t.Fatal(err)
		}
		if pa != wantA[i] || pb != wantB[i] {
			t.Fatalf("frame %d: interleaved %v/%v, alone %v/%v", i, pa, pb, wantA[i], wantB[i])
		}
	}
	// The state is carried: the same frame scores differently after other
	// audio than in a fresh detector.
	frame := speechAudio[sileroWindow : 2*sileroWindow]
	fresh := scoreAll(t, m, frame)[0]
	after := scoreAll(t, m, append(slices.Clone(noise[:4*sileroWindow]), frame...))[4]
	if fresh == after {
		t.Errorf("frame scores %v fresh and after noise: no state carried between frames", fresh)
	}
}

// TestVADDetectorInStream plugs the detector into a speech.Stream with the
// micro whisper model: whisper runs exactly when the detector heard speech.
func TestVADDetectorInStream(t *testing.T) {
	path := generatedVAD(t)
	t.Run("jfk", func(t *testing.T) {
		runVADStream(t, path, vadAudio(t))
	})
	t.Run("silence", func(t *testing.T) {
		if st, _ := runVADStream(t, path, make([]float32, 3*speech.SampleRate)); st.EngineCalls != 0 {
			t.Fatalf("%d engine calls on silence", st.EngineCalls)
		}
	})
}

// runVADStream streams audio through a Stream whose detector is Silero and
// returns the stream's stats and the speech a second detector finds.
func runVADStream(t *testing.T, path string, audio []float32) (speech.StreamStats, []speech.Span) {
	t.Helper()
	m, err := LoadVAD(path)
	if err != nil {
		t.Fatal(err)
	}
	det, err := m.NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	defer det.Close()
	eng, err := microModel(t).NewEngine(1)
	if err != nil {
		t.Fatal(err)
	}
	defer eng.Close()
	s, err := speech.NewStream(eng, &speech.StreamOptions{Detector: det, Threads: 1,
		// Random weights: the confidence guards would drop everything.
		Guards: &speech.GuardOptions{MaxNoSpeechProb: 2, SilenceLogProb: -1e9, MinAvgLogProb: -1e9}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var finals []speech.Final
	collect := func(evs []speech.Event) {
		for _, ev := range evs {
			if f, ok := ev.(speech.Final); ok {
				finals = append(finals, f)
			}
		}
	}
	const frame = speech.SampleRate / 10
	for off := 0; off < len(audio); off += frame {
		if err := s.WriteSamples(audio[off:min(off+frame, len(audio))]); err != nil {
			t.Fatal(err)
		}
		for s.Due() {
			evs, err := s.Step(ctx)
			if err != nil {
				t.Fatal(err)
			}
			collect(evs)
		}
	}
	evs, err := s.Stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	collect(evs)
	st := s.Stats()

	// The same detector on its own, through the same onset and hangover
	// rules.
	det2, err := m.NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	defer det2.Close()
	v, err := speech.NewVAD(det2, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := v.Write(audio); err != nil {
		t.Fatal(err)
	}
	if err := v.Flush(); err != nil {
		t.Fatal(err)
	}
	spans := v.Speech()
	t.Logf("%d speech spans, %d engine calls over %v of audio, %d finals", len(spans), st.EngineCalls, st.EngineAudio, len(finals))
	if (len(spans) == 0) != (st.EngineCalls == 0) {
		t.Fatalf("detector found %d speech spans but the stream made %d engine calls", len(spans), st.EngineCalls)
	}
	var speechLen time.Duration
	for _, sp := range spans {
		speechLen += sp.End - sp.Start
	}
	if st.EngineCalls > 0 && st.EngineAudio < speechLen/2 {
		t.Errorf("engine saw %v of audio for %v of speech", st.EngineAudio, speechLen)
	}
	for i, f := range finals {
		if f.SegmentID != i || f.End < f.Start {
			t.Errorf("final %d: %+v", i, f)
		}
	}
	return st, spans
}

// TestVADReleasedModel runs a released Silero model, when one is on the
// machine, on real speech and on silence: the plumbing (frame layout,
// state carried between frames) must let the trained model do its job.
func TestVADReleasedModel(t *testing.T) {
	path := speechtest.SileroModel(t)
	m, err := LoadVAD(path)
	if err != nil {
		t.Fatal(err)
	}
	jfk := speechtest.JFK(t)
	probs := scoreAll(t, m, jfk)
	loud := 0
	for _, p := range probs {
		if p >= 0.5 {
			loud++
		}
	}
	// JFK's excerpt is about 70% speech with long pauses between phrases.
	if share := float64(loud) / float64(len(probs)); share < 0.4 || share > 0.95 {
		t.Errorf("%.0f%% of jfk.wav's frames scored as speech; want 40-95%%", 100*share)
	}
	silent := scoreAll(t, m, make([]float32, 2*speech.SampleRate))
	noise := scoreAll(t, m, speechtest.WhiteNoise(3, 0.005, 2*speech.SampleRate))
	for i := range silent {
		if silent[i] >= 0.2 || noise[i] >= 0.5 {
			t.Fatalf("frame %d: silence %v, quiet noise %v; want low", i, silent[i], noise[i])
		}
	}
	t.Logf("jfk.wav: %d of %d frames speech; silence ≤ %.3f, noise ≤ %.3f", loud, len(probs), slices.Max(silent), slices.Max(noise))

	st, spans := runVADStream(t, path, append(slices.Clone(jfk), make([]float32, speech.SampleRate)...))
	if len(spans) == 0 || st.EngineCalls == 0 {
		t.Fatalf("no speech found in jfk.wav: %d spans, %d calls", len(spans), st.EngineCalls)
	}
	st, _ = runVADStream(t, path, make([]float32, 3*speech.SampleRate))
	if st.EngineCalls != 0 {
		t.Fatalf("%d engine calls on silence", st.EngineCalls)
	}
}

func TestVADDetectorErrors(t *testing.T) {
	t.Parallel()
	m, err := LoadVAD(generatedVAD(t))
	if err != nil {
		t.Fatal(err)
	}
	if m.Path() == "" {
		t.Error("no path")
	}
	d, err := m.NewDetector()
	if err != nil {
		t.Fatal(err)
	}
	if d.FrameSize() != 512 {
		t.Errorf("frame size %d", d.FrameSize())
	}
	if _, err := d.Score(make([]float32, 320)); err == nil {
		t.Error("a 320-sample frame was scored")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	if _, err := d.Score(make([]float32, 512)); !errors.Is(err, ErrVADClosed) {
		t.Fatalf("closed detector: %v", err)
	}
}

func TestLoadVADRejects(t *testing.T) {
	t.Parallel()
	good, err := os.ReadFile(generatedVAD(t))
	if err != nil {
		t.Fatal(err)
	}
	le := binary.LittleEndian
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	// Header: magic, type length 10, "silero-16k", version, then the
	// window at offset 30 and the first encoder layer's channels at 42.
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", edit(func(b []byte) []byte { copy(b, "GGUF"); return b })},
		{"huge type length", edit(func(b []byte) []byte { le.PutUint32(b[4:], 1<<31-1); return b })},
		{"other model type", edit(func(b []byte) []byte { copy(b[8:], "silero-08k"); return b })},
		{"window 256", edit(func(b []byte) []byte { le.PutUint32(b[30:], 256); return b })},
		{"encoder channels", edit(func(b []byte) []byte { le.PutUint32(b[42:], 130); return b })},
		{"truncated header", good[:40]},
		{"truncated tensor", good[:len(good)-1]},
		{"missing tensor", good[:len(good)-(12+12+32+256*258*2)]},
		{"trailing bytes", append(bytes.Clone(good), 0, 0, 0, 0)},
		{"tensor name changed", bytes.Replace(good, []byte("rnn.weight_ih"), []byte("rnn.weight_xx"), 1)},
		{"tensor type changed", edit(func(b []byte) []byte {
			// The first tensor record follows the 106-byte header: its
			// type (f16) becomes f32.
			le.PutUint32(b[106+8:], 0)
			return b
		})},
	}
	dir := t.TempDir()
	for _, tt := range tests {
		p := filepath.Join(dir, "bad.bin")
		if err := os.WriteFile(p, tt.data, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := LoadVAD(p)
		var fe *VADFormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a *VADFormatError", tt.name, err)
		}
	}
	if _, err := LoadVAD(filepath.Join(dir, "missing.bin")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	// A whisper model is not a VAD model.
	var fe *VADFormatError
	if _, err := LoadVAD(microModel(t).Path()); !errors.As(err, &fe) {
		t.Errorf("whisper model loaded as VAD: %v", err)
	}
}

func FuzzCheckVADFile(f *testing.F) {
	good, err := os.ReadFile(generatedVAD(f))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(good[:200])
	f.Add(good[:106+64])
	f.Fuzz(func(t *testing.T, data []byte) {
		err := checkVADFile(data)
		var fe *VADFormatError
		if err != nil && !errors.As(err, &fe) {
			t.Fatalf("error %v is not a *VADFormatError", err)
		}
		if fe != nil && (fe.Offset < 0 || fe.Offset > int64(len(data))) {
			t.Fatalf("offset %d outside %d bytes", fe.Offset, len(data))
		}
	})
}

// BenchmarkVADDetector: one 32 ms frame through Silero (generated weights,
// the same arithmetic as the released model); x-realtime is seconds of
// audio scored per second.
func BenchmarkVADDetector(b *testing.B) {
	m, err := LoadVAD(generatedVAD(b))
	if err != nil {
		b.Fatal(err)
	}
	d, err := m.NewDetector()
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	audio := speechtest.WhiteNoise(4, 0.1, 64*sileroWindow)
	i := 0
	for b.Loop() {
		if _, err := d.Score(audio[i : i+sileroWindow]); err != nil {
			b.Fatal(err)
		}
		i = (i + sileroWindow) % len(audio)
	}
	b.ReportMetric(float64(sileroWindow)/speech.SampleRate*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}
