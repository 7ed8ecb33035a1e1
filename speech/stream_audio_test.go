package speech_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
)

// TestStreamBadFrames: malformed frames are rejected with typed errors
// and leave the session's audio and time base as they were.
func TestStreamBadFrames(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate("continue metformin five hundred milligrams twice daily.", speechtest.Timing{})
	audio := speechtest.Synth(script, script.End()+time.Second, 1)
	for _, tc := range []struct {
		name   string
		format speech.Format
		encode func([]float32) []byte
		bad    []byte
		want   error
	}{
		{"odd byte count", speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 16000},
			func(s []float32) []byte { return s16(s, 1) }, make([]byte, 321), speech.ErrFrameLength},
		{"f32 length", speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 48000},
			func(s []float32) []byte { return f32(upsample3(s)) }, make([]byte, 1023), speech.ErrFrameLength},
		{"NaN", speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 48000},
			func(s []float32) []byte { return f32(upsample3(s)) }, f32([]float32{0, float32(math.NaN()), 0}), speech.ErrNonFinite},
		{"Inf", speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 16000},
			func(s []float32) []byte { return f32(s) }, f32([]float32{float32(math.Inf(-1))}), speech.ErrNonFinite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng := &speechtest.Engine{Script: script, Instability: -1}
			s := newStream(t, eng, &speech.StreamOptions{Format: tc.format})
			rejected := 0
			r := &result{end: script.End() + time.Second}
			for i := 0; i < len(audio); i += 320 {
				if i%(320*25) == 0 {
					if err := s.Write(tc.bad); !errors.Is(err, tc.want) {
						t.Fatalf("bad frame: %v, want %v", err, tc.want)
					}
					rejected++
				}
				if err := s.Write(tc.encode(audio[i:min(i+320, len(audio))])); err != nil {
					t.Fatal(err)
				}
				for s.Due() {
					ev, err := s.Step(context.Background())
					if err != nil {
						t.Fatal(err)
					}
					r.add(ev)
				}
			}
			ev, err := s.Stop(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			r.add(ev)
			checkInvariants(t, r)
			if got := s.Stats().Audio; (got - r.end).Abs() > time.Millisecond {
				t.Errorf("stream holds %v of audio after %d rejected frames, want %v", got, rejected, r.end)
			}
			if r.text() != script.Text() {
				t.Errorf("transcript %q, want %q", r.text(), script.Text())
			}
		})
	}
	s := newStream(t, &speechtest.Engine{}, nil)
	if err := s.WriteSamples([]float32{0, float32(math.Inf(1))}); !errors.Is(err, speech.ErrNonFinite) {
		t.Errorf("WriteSamples(+Inf): %v, want ErrNonFinite", err)
	}
	if _, err := speech.NewStream(&speechtest.Engine{}, &speech.StreamOptions{Format: speech.Format{Encoding: "mulaw", SampleRate: 8000}}); !errors.Is(err, speech.ErrUnsupportedFormat) {
		t.Errorf("NewStream(mulaw): %v, want ErrUnsupportedFormat", err)
	}
}

// upsample3 holds each sample for three, turning 16 kHz into 48 kHz
// without new content above 8 kHz that matters to the detector.
func upsample3(s []float32) []float32 {
	out := make([]float32, 0, 3*len(s))
	for _, v := range s {
		out = append(out, v, v, v)
	}
	return out
}

// TestStreamClipping: dictation recorded far too loud (clipped at full
// scale) is still transcribed, and the clipping is counted.
func TestStreamClipping(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate("no chest pain, no shortness of breath.", speechtest.Timing{})
	audio := speechtest.Synth(script, script.End()+time.Second, 2)
	for i := range audio {
		audio[i] *= 40 // about +12 dBFS: the loud parts clip
	}
	eng := &speechtest.Engine{Script: script, Instability: -1}
	s := newStream(t, eng, &speech.StreamOptions{Format: speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 16000}})
	r := &result{end: script.End() + time.Second}
	for i := 0; i < len(audio); i += 320 {
		if err := s.Write(f32(audio[i:min(i+320, len(audio))])); err != nil {
			t.Fatal(err)
		}
		for s.Due() {
			ev, _ := s.Step(context.Background())
			r.add(ev)
		}
	}
	ev, _ := s.Stop(context.Background())
	r.add(ev)
	checkInvariants(t, r)
	if s.Stats().Clipped < 1000 {
		t.Errorf("clipped count %d", s.Stats().Clipped)
	}
	if r.text() != script.Text() {
		t.Errorf("transcript %q, want %q", r.text(), script.Text())
	}
}

// TestStreamRateChange: a client that switches from 48 kHz to 44.1 kHz
// mid-sentence keeps one time base: the words are committed at the times
// they were spoken.
func TestStreamRateChange(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate(dictation, speechtest.Timing{})
	end := script.End() + time.Second
	eng := &speechtest.Engine{Script: script, Instability: -1}
	s := newStream(t, eng, &speech.StreamOptions{
		Format:   speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000, Channels: 2},
		Detector: &speechtest.ScriptDetector{Script: script},
	})
	r := &result{end: end}
	step := func() {
		for s.Due() {
			ev, err := s.Step(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			r.add(ev)
		}
	}
	// 20 ms frames; the change comes at 13.37 s, inside a word.
	change := 13370 * time.Millisecond
	for t0 := time.Duration(0); t0 < change; t0 += 20 * time.Millisecond {
		n := int(min(20*time.Millisecond, change-t0).Seconds() * 48000)
		if err := s.Write(make([]byte, n*4)); err != nil {
			t.Fatal(err)
		}
		step()
	}
	if err := s.SetFormat(speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 44100}); err != nil {
		t.Fatal(err)
	}
	if got := s.Stats().Audio; (got - change).Abs() > 100*time.Microsecond {
		t.Fatalf("after the change the stream holds %v, want %v", got, change)
	}
	for t0 := change; t0 < end; t0 += 20 * time.Millisecond {
		if err := s.Write(make([]byte, 882*4)); err != nil {
			t.Fatal(err)
		}
		step()
	}
	ev, err := s.Stop(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	r.add(ev)
	checkInvariants(t, r)
	if r.text() != script.Text() {
		t.Fatalf("transcript %q", r.text())
	}
	i := 0
	for _, f := range r.finals {
		for _, w := range f.Words {
			if d := (w.Start - script[i].Start).Abs(); d > 60*time.Millisecond {
				t.Errorf("word %q at %v, spoken at %v", w.Text, w.Start, script[i].Start)
			}
			i++
		}
	}
	if err := s.SetFormat(speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 44100}); !errors.Is(err, speech.ErrStopped) {
		t.Errorf("SetFormat after Stop: %v", err)
	}
}

// TestStreamOverflow: a transcriber that stops stepping makes the bounded
// buffer fill during speech; the reader then gets ErrBufferFull, for good.
func TestStreamOverflow(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate(dictation+" "+dictation, speechtest.Timing{})
	s := newStream(t, &speechtest.Engine{Script: script}, &speech.StreamOptions{
		Detector:  &speechtest.ScriptDetector{Script: script},
		MaxBuffer: 20 * time.Second,
	})
	var err error
	var at time.Duration
	for i := 0; err == nil && at < script.End(); i++ {
		err = s.WriteSamples(make([]float32, 320))
		at = s.Stats().Audio
	}
	if !errors.Is(err, speech.ErrBufferFull) {
		t.Fatalf("after %v without a step: %v, want ErrBufferFull", at, err)
	}
	if at > 21*time.Second {
		t.Errorf("buffer full only after %v, want about 20 s", at)
	}
	if err := s.WriteSamples(make([]float32, 320)); !errors.Is(err, speech.ErrBufferFull) {
		t.Errorf("write after overflow: %v, want ErrBufferFull again", err)
	}
	if _, err := speech.NewStream(&speechtest.Engine{}, &speech.StreamOptions{MaxBuffer: 10 * time.Second}); err == nil {
		t.Error("MaxBuffer below MaxWindow accepted")
	}
}

// TestStreamConcurrent runs the documented goroutine split: a reader that
// writes as fast as it can and a transcriber that waits on Ready, with an
// engine that takes time. Run with -race.
func TestStreamConcurrent(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate(dictation, speechtest.Timing{})
	audio := silence(script.End() + time.Second)
	eng := &speechtest.Engine{Script: script, Instability: -1, Delay: 2 * time.Millisecond}
	s := newStream(t, eng, &speech.StreamOptions{Detector: &speechtest.ScriptDetector{Script: script}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		for i := 0; i < len(audio); i += 320 {
			if err := s.WriteSamples(audio[i:min(i+320, len(audio))]); err != nil {
				done <- err
				return
			}
			if i%(320*50) == 0 {
				time.Sleep(time.Millisecond)
			}
			_ = s.Due() // any goroutine may ask
		}
		done <- nil
	}()
	r := &result{end: script.End() + time.Second}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // metrics poller
		defer wg.Done()
		for ctx.Err() == nil {
			_ = s.Stats()
			time.Sleep(time.Millisecond)
		}
	}()
	var readerErr error
	for reading := true; reading; {
		select {
		case readerErr = <-done:
			reading = false
		case <-s.Ready():
		}
		for s.Due() {
			ev, err := s.Step(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r.add(ev)
		}
	}
	if readerErr != nil {
		t.Fatal(readerErr)
	}
	ev, err := s.Stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.add(ev)
	cancel()
	wg.Wait()
	checkInvariants(t, r)
	if r.text() != script.Text() {
		t.Errorf("transcript %q", r.text())
	}
}

// TestStreamEspeak runs dictation synthesized by espeak-ng through the
// whole front end (16-bit frames at 48 kHz, resampler, energy detector)
// and the policy, with a recognizer scripted from the known word times.
func TestStreamEspeak(t *testing.T) {
	t.Parallel()
	text := "Patient is a fifty six year old man. He takes metformin five hundred milligrams twice daily, " +
		"and lisinopril ten milligrams once daily. No chest pain. Plan, recheck the hemoglobin A one C in three months."
	audio, script := speechtest.EspeakDictation(t, text, speechtest.Timing{})
	audio = append(audio, silence(time.Second)...)
	for _, instability := range []float64{-1, 0.3} {
		eng := &speechtest.Engine{Script: script, Instability: instability, Seed: 11}
		s := newStream(t, eng, &speech.StreamOptions{Format: speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000}})
		r := &result{end: time.Duration(len(audio)) * time.Second / speech.SampleRate}
		up := upsample3(audio)
		for i := 0; i < len(up); i += 960 {
			if err := s.Write(s16(up[i:min(i+960, len(up))], 1)); err != nil {
				t.Fatal(err)
			}
			for s.Due() {
				ev, err := s.Step(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				r.add(ev)
			}
		}
		ev, err := s.Stop(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		r.add(ev)
		r.stats = s.Stats()
		checkInvariants(t, r)
		e := wordErrors(r.text(), script.Text())
		t.Logf("instability %v: %d calls, %v transcribed for %v of audio, %d word errors", instability,
			len(eng.Calls()), r.stats.EngineAudio, r.end, e)
		if (instability < 0 && e != 0) || e > 3 {
			t.Errorf("instability %v: transcript %q has %d word errors", instability, r.text(), e)
		}
		// No window may be silence: each holds at least one word.
		for _, c := range eng.Calls() {
			has := false
			for _, w := range script {
				has = has || (w.Start < c.Offset+c.Duration && w.End > c.Offset)
			}
			if !has {
				t.Errorf("engine called on %v+%v, which holds no speech", c.Offset, c.Duration)
			}
		}
	}
}

// TestStreamHallucinations: what a recognizer invents over the silence at
// the end of an utterance, or in a decoding loop, never reaches the
// transcript.
func TestStreamHallucinations(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate("He takes apixaban five milligrams twice daily.", speechtest.Timing{})
	audio := speechtest.Synth(script, script.End()+3*time.Second, 3)
	inner := &speechtest.Engine{Script: script, Instability: -1}
	eng := speechtest.EngineFunc(func(ctx context.Context, samples []float32, o speech.Options) ([]speech.Segment, error) {
		segs, err := inner.Transcribe(ctx, samples, o)
		d := time.Duration(len(samples)) * time.Second / speech.SampleRate
		// Whisper's favourite inventions, placed in the window's last 300 ms.
		segs = append(segs,
			speech.Segment{Text: " Thank you.", Start: d - 300*time.Millisecond, End: d, NoSpeechProb: 0.4, AvgLogProb: -0.5,
				Words: []speech.Word{{Text: "Thank", Start: d - 300*time.Millisecond, End: d - 150*time.Millisecond}, {Text: "you.", Start: d - 150*time.Millisecond, End: d}}},
			speech.Segment{Text: " [BLANK_AUDIO]", Start: d - 100*time.Millisecond, End: d},
			speech.Segment{Text: " the the the", Start: d - 100*time.Millisecond, End: d, NoSpeechProb: 0.7, AvgLogProb: -1.3},
			speech.Segment{Text: " garbled noise", Start: d - 100*time.Millisecond, End: d, NoSpeechProb: 0.1, AvgLogProb: -2.3},
		)
		return segs, err
	})
	s := newStream(t, eng, nil)
	r := feed(t, s, audio, 320)
	checkInvariants(t, r)
	if r.text() != script.Text() {
		t.Errorf("transcript %q, want %q", r.text(), script.Text())
	}
	g := r.stats.Guards
	if g.Phrase == 0 || g.Annotation == 0 || g.NoSpeech == 0 || g.LowConfidence == 0 {
		t.Errorf("guard counts %+v", g)
	}
}
