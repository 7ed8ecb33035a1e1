package speech_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
)

// checkInvariants asserts what every run must satisfy: Finals numbered in
// order with non-empty text made of their words; word times in session
// audio time, never decreasing and never after the moment of commit;
// partials that start after the committed text; every Final reached by
// agreement already shown, word for word, at the head of the partial
// before it; and an empty partial at the end.
func checkInvariants(t *testing.T, r *result) {
	t.Helper()
	var lastEnd, lastAt time.Duration
	var partial string
	id := 0
	for i, e := range r.events {
		switch e := e.(type) {
		case speech.Final:
			if e.SegmentID != id {
				t.Fatalf("event %d: Final %d, want %d", i, e.SegmentID, id)
			}
			id++
			if e.Text == "" || len(e.Words) == 0 {
				t.Fatalf("event %d: empty Final", i)
			}
			var texts []string
			for _, w := range e.Words {
				texts = append(texts, w.Text)
			}
			if got := strings.Join(texts, " "); got != e.Text {
				t.Fatalf("event %d: text %q is not its words %q", i, e.Text, got)
			}
			if e.Start != e.Words[0].Start || e.End != e.Words[len(e.Words)-1].End {
				t.Fatalf("event %d: span %v–%v is not its words'", i, e.Start, e.End)
			}
			for _, w := range e.Words {
				if w.Start < lastEnd || w.End < w.Start {
					t.Fatalf("event %d: word %q at %v–%v after committed text ending %v", i, w.Text, w.Start, w.End, lastEnd)
				}
				lastEnd = w.End
			}
			if e.End > e.At || e.At < lastAt || e.At > r.end {
				t.Fatalf("event %d: committed at %v (previous %v, audio %v) with words up to %v", i, e.At, lastAt, r.end, e.End)
			}
			lastAt = e.At
			if e.Reason == speech.CommitAgreement {
				got, shown := normWords(e.Text), normWords(partial)
				if len(got) > len(shown) || !slices.Equal(got, shown[:len(got)]) {
					t.Fatalf("event %d: agreed %q was not the head of the partial %q", i, e.Text, partial)
				}
			}
		case speech.Partial:
			if e.Start < lastEnd || e.End < e.Start || e.End > r.end {
				t.Fatalf("event %d: partial %q at %v–%v, committed text ends %v", i, e.Text, e.Start, e.End, lastEnd)
			}
			partial = e.Text
		}
	}
	if partial != "" {
		t.Errorf("the last partial %q was never cleared", partial)
	}
}

// wordErrors is the word-level edit distance between two texts.
func wordErrors(a, b string) int {
	x, y := normWords(a), normWords(b)
	prev := make([]int, len(y)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(x); i++ {
		cur := make([]int, len(y)+1)
		cur[0] = i
		for j := 1; j <= len(y); j++ {
			c := prev[j-1]
			if x[i-1] != y[j-1] {
				c++
			}
			cur[j] = min(c, prev[j]+1, cur[j-1]+1)
		}
		prev = cur
	}
	return prev[len(y)]
}

func silence(d time.Duration) []float32 { return make([]float32, int(d.Seconds()*speech.SampleRate)) }

// TestStreamScripted runs the dictation through the policy with a scripted
// recognizer of increasing instability.
func TestStreamScripted(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate(dictation, speechtest.Timing{})
	audio := silence(script.End() + time.Second)
	for _, tc := range []struct {
		instability float64
		seed        uint64
		maxErrors   int
	}{
		{-1, 0, 0}, {0.25, 1, 5}, {0.25, 2, 5}, {0.5, 3, 9}, {0.9, 4, 14},
	} {
		t.Run(fmt.Sprintf("instability=%v/seed=%d", tc.instability, tc.seed), func(t *testing.T) {
			t.Parallel()
			eng := &speechtest.Engine{Script: script, Instability: tc.instability, Seed: tc.seed}
			s := newStream(t, eng, &speech.StreamOptions{Detector: &speechtest.ScriptDetector{Script: script}})
			r := feed(t, s, audio, 320)
			checkInvariants(t, r)
			e := wordErrors(r.text(), script.Text())
			t.Logf("%d finals, %d engine calls on %v of audio for %v, %d word errors",
				len(r.finals), r.stats.EngineCalls, r.stats.EngineAudio, r.end, e)
			if e > tc.maxErrors {
				t.Errorf("%d word errors, want ≤ %d:\n got %s\nwant %s", e, tc.maxErrors, r.text(), script.Text())
			}
			if tc.instability < 0 {
				// A perfect recognizer's words keep their script times, up
				// to the engine's jitter and the 20 ms VAD frames.
				i := 0
				for _, f := range r.finals {
					for _, w := range f.Words {
						sw := script[i]
						i++
						if d := (w.Start - sw.Start).Abs(); d > 60*time.Millisecond {
							t.Errorf("word %q starts at %v, spoken at %v", w.Text, w.Start, sw.Start)
						}
					}
				}
			}
		})
	}
}

// TestStreamSilence: silence and noise, through the real front end and
// detector, give no engine call and no event, and the stream holds no more
// than its pre-roll.
func TestStreamSilence(t *testing.T) {
	t.Parallel()
	const n = 60 * speech.SampleRate
	for _, tc := range []struct {
		name  string
		audio []float32
	}{
		{"digital silence", make([]float32, n)},
		{"room noise", speechtest.WhiteNoise(1, 0.001, n)},
		{"loud pink noise", speechtest.PinkNoise(2, 0.1, n)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			eng := &speechtest.Engine{}
			s := newStream(t, eng, nil)
			r := feed(t, s, tc.audio, 320)
			if len(eng.Calls()) != 0 || len(r.events) != 0 {
				t.Errorf("%d engine calls and %d events on %s", len(eng.Calls()), len(r.events), tc.name)
			}
			if r.stats.MaxBuffered > 320*time.Millisecond {
				t.Errorf("held up to %v of silence, want at most the 300 ms pre-roll and a frame", r.stats.MaxBuffered)
			}
		})
	}
}

// TestStreamEngineOptions: each call gets the window's audio with
// AudioCtx cut to its length, the window's place in the session, and a
// prompt of the vocabulary (as set at the time) and the committed text.
func TestStreamEngineOptions(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate(dictation, speechtest.Timing{})
	eng := &speechtest.Engine{Script: script, Instability: -1}
	s := newStream(t, eng, &speech.StreamOptions{
		Detector:   &speechtest.ScriptDetector{Script: script},
		Vocabulary: []string{"metformin", "lisinopril"},
		Threads:    2,
	})
	audio := silence(script.End() + time.Second)
	half := len(audio) / 2
	r := &result{end: script.End() + time.Second}
	ctx := context.Background()
	checked, switched := 0, false
	for i := 0; i < len(audio); i += 320 {
		if i >= half && !switched {
			s.SetVocabulary([]string{"apixaban", " apixaban "})
			switched = true
		}
		if err := s.WriteSamples(audio[i:min(i+320, len(audio))]); err != nil {
			t.Fatal(err)
		}
		for s.Due() {
			committed, before := r.text(), len(eng.Calls())
			ev, err := s.Step(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r.add(ev)
			calls := eng.Calls()
			if len(calls) == before {
				continue
			}
			c := calls[len(calls)-1]
			glossary := "Glossary: metformin, lisinopril."
			if i >= half {
				glossary = "Glossary: apixaban."
			}
			if !strings.HasPrefix(c.Options.Prompt, glossary) {
				t.Errorf("call at %v: prompt %q, want it to start with %q", c.Offset, c.Options.Prompt, glossary)
			}
			if tail := committed[max(0, len(committed)-40):]; !strings.HasSuffix(c.Options.Prompt, tail) {
				t.Errorf("call at %v: prompt %q does not end with the committed text %q", c.Offset, c.Options.Prompt, tail)
			}
			checked++
		}
	}
	calls := eng.Calls()
	if checked < 20 {
		t.Fatalf("only %d engine calls checked", checked)
	}
	for i, c := range calls {
		if want := int((c.Duration+20*time.Millisecond-1)/(20*time.Millisecond)) + 16; c.Options.AudioCtx != want {
			t.Errorf("call %d: AudioCtx %d for %v, want %d", i, c.Options.AudioCtx, c.Duration, want)
		}
		if c.Options.Threads != 2 {
			t.Errorf("call %d: Threads %d", i, c.Options.Threads)
		}
		if c.Duration <= 0 || c.Duration > 15*time.Second || c.Offset < 0 || c.Offset+c.Duration > r.end {
			t.Errorf("call %d: window %v+%v", i, c.Offset, c.Duration)
		}
	}
}

// TestStreamStop: audio that ends in the middle of speech is committed in
// full by Stop, after which the stream takes no audio and does nothing.
func TestStreamStop(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate("He reports good adherence to metformin five hundred milligrams twice daily", speechtest.Timing{})
	eng := &speechtest.Engine{Script: script, Instability: 0.3, Seed: 9}
	s := newStream(t, eng, &speech.StreamOptions{Detector: &speechtest.ScriptDetector{Script: script}})
	audio := silence(script.End()) // ends with the last word
	ctx := context.Background()
	r := &result{end: script.End()}
	for i := 0; i < len(audio); i += 320 {
		if err := s.WriteSamples(audio[i:min(i+320, len(audio))]); err != nil {
			t.Fatal(err)
		}
		for s.Due() {
			ev, err := s.Step(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r.add(ev)
		}
	}
	if r.partials == nil || r.partials[len(r.partials)-1].Text == "" {
		t.Fatal("nothing pending before Stop; the test needs pending words")
	}
	ev, err := s.Stop(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r.add(ev)
	checkInvariants(t, r)
	if last := r.finals[len(r.finals)-1]; last.Reason != speech.CommitStop {
		t.Errorf("last Final committed for %q, want %q", last.Reason, speech.CommitStop)
	}
	if e := wordErrors(r.text(), script.Text()); e > 2 {
		t.Errorf("transcript %q has %d word errors", r.text(), e)
	}
	if err := s.WriteSamples(audio[:320]); !errors.Is(err, speech.ErrStopped) {
		t.Errorf("write after Stop: %v, want ErrStopped", err)
	}
	if err := s.Write(make([]byte, 640)); !errors.Is(err, speech.ErrStopped) {
		t.Errorf("write after Stop: %v, want ErrStopped", err)
	}
	if ev, err := s.Stop(ctx); ev != nil || err != nil {
		t.Errorf("second Stop: %v, %v", ev, err)
	}
	if ev, err := s.Step(ctx); ev != nil || err != nil || s.Due() {
		t.Errorf("Step after Stop: %v, %v", ev, err)
	}
}

// TestStreamStopEngineFailure: if the engine fails during Stop, the words
// already shown as partial are committed anyway and the error returned.
func TestStreamStopEngineFailure(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate("ask not what your country can do for you", speechtest.Timing{})
	inner := &speechtest.Engine{Script: script, Instability: -1}
	var fail bool
	var mu sync.Mutex
	eng := speechtest.EngineFunc(func(ctx context.Context, samples []float32, o speech.Options) ([]speech.Segment, error) {
		mu.Lock()
		defer mu.Unlock()
		if fail {
			return nil, errors.New("model crashed")
		}
		return inner.Transcribe(ctx, samples, o)
	})
	s := newStream(t, eng, &speech.StreamOptions{Detector: &speechtest.ScriptDetector{Script: script}})
	audio := silence(script.End())
	ctx := context.Background()
	r := &result{end: script.End()}
	for i := 0; i < len(audio); i += 320 {
		_ = s.WriteSamples(audio[i:min(i+320, len(audio))])
		for s.Due() {
			ev, err := s.Step(ctx)
			if err != nil {
				t.Fatal(err)
			}
			r.add(ev)
		}
	}
	shown := r.text() + " " + r.partials[len(r.partials)-1].Text
	mu.Lock()
	fail = true
	mu.Unlock()
	ev, err := s.Stop(ctx)
	if err == nil || !strings.Contains(err.Error(), "model crashed") {
		t.Fatalf("Stop error %v, want the engine's", err)
	}
	r.add(ev)
	checkInvariants(t, r)
	if got := r.text(); got != strings.TrimSpace(shown) {
		t.Errorf("committed %q, want what was shown: %q", got, shown)
	}
}

// TestStreamStepEngineFailure: a failed step changes nothing, so the same
// step succeeds when retried.
func TestStreamStepEngineFailure(t *testing.T) {
	t.Parallel()
	script := speechtest.Dictate("ask not what your country can do for you", speechtest.Timing{})
	inner := &speechtest.Engine{Script: script, Instability: -1}
	calls := 0
	eng := speechtest.EngineFunc(func(ctx context.Context, samples []float32, o speech.Options) ([]speech.Segment, error) {
		calls++
		if calls == 2 {
			return nil, context.DeadlineExceeded
		}
		return inner.Transcribe(ctx, samples, o)
	})
	s := newStream(t, eng, &speech.StreamOptions{Detector: &speechtest.ScriptDetector{Script: script}})
	audio := silence(script.End() + time.Second)
	r := &result{end: script.End() + time.Second}
	failures := 0
	for i := 0; i < len(audio); i += 320 {
		_ = s.WriteSamples(audio[i:min(i+320, len(audio))])
		for s.Due() {
			ev, err := s.Step(context.Background())
			if err != nil {
				if !errors.Is(err, context.DeadlineExceeded) {
					t.Fatal(err)
				}
				failures++
				continue
			}
			r.add(ev)
		}
	}
	ev, _ := s.Stop(context.Background())
	r.add(ev)
	checkInvariants(t, r)
	if failures != 1 || r.text() != script.Text() {
		t.Errorf("%d failures, transcript %q", failures, r.text())
	}
}

// monologue is ten minutes of dictation without a pause long enough to
// end an utterance.
func monologue() speechtest.Script {
	text := strings.Repeat(dictation+" ", 16)
	return speechtest.Dictate(text, speechtest.Timing{Comma: 120 * time.Millisecond, Sentence: 200 * time.Millisecond})
}

// TestStreamMonologue: ten minutes without a pause. With a recognizer that
// agrees with itself, commits come by agreement and the window stays
// short; with one that never agrees, commits are forced at the maximum
// window. Either way the audio held and the window the engine sees stay
// bounded, and all of the speech is committed.
func TestStreamMonologue(t *testing.T) {
	if testing.Short() {
		t.Skip("ten minutes of audio")
	}
	t.Parallel()
	script := monologue()
	if script.End() < 10*time.Minute {
		t.Fatalf("monologue lasts %v", script.End())
	}
	audio := silence(script.End() + time.Second)
	for _, tc := range []struct {
		name       string
		agree      bool
		maxBuffer  time.Duration
		minForced  int
		maxWindow  time.Duration
		wantErrors int
	}{
		{"agreeing recognizer", true, 4 * time.Second, 0, 4 * time.Second, 40},
		{"recognizer that never agrees", false, 16 * time.Second, 38, 15 * time.Second, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			inner := &speechtest.Engine{Script: script, Seed: 5}
			var n int
			eng := speechtest.EngineFunc(func(ctx context.Context, samples []float32, o speech.Options) ([]speech.Segment, error) {
				segs, err := inner.Transcribe(ctx, samples, o)
				n++
				if !tc.agree {
					// Every hypothesis differs from the last in its first word.
					for i := range segs {
						for j := range segs[i].Words {
							segs[i].Words[j].Text += fmt.Sprint(n % 2)
						}
					}
				}
				return segs, err
			})
			s := newStream(t, eng, &speech.StreamOptions{Detector: &speechtest.ScriptDetector{Script: script}})
			r := feed(t, s, audio, 320)
			checkInvariants(t, r)
			var longest time.Duration
			for _, c := range inner.Calls() {
				longest = max(longest, c.Duration)
			}
			t.Logf("%d finals (%d forced), %d calls, longest window %v, most audio held %v",
				len(r.finals), r.stats.Forced, r.stats.EngineCalls, longest, r.stats.MaxBuffered)
			if r.stats.MaxBuffered > tc.maxBuffer {
				t.Errorf("held up to %v of audio, want ≤ %v", r.stats.MaxBuffered, tc.maxBuffer)
			}
			if longest > tc.maxWindow {
				t.Errorf("longest window %v, want ≤ %v", longest, tc.maxWindow)
			}
			if r.stats.Forced < tc.minForced {
				t.Errorf("%d forced commits, want ≥ %d", r.stats.Forced, tc.minForced)
			}
			committed := 0
			for _, f := range r.finals {
				committed += len(f.Words)
			}
			if committed < len(script)*98/100 {
				t.Errorf("%d of %d words committed", committed, len(script))
			}
			if tc.wantErrors >= 0 {
				if e := wordErrors(r.text(), script.Text()); e > tc.wantErrors {
					t.Errorf("%d word errors in %d words", e, len(script))
				}
			}
		})
	}
}
