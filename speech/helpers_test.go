package speech_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
)

// dictation is a clinical note read at dictation pace.
const dictation = "Patient is a fifty six year old man seen today for follow up of type two diabetes and hypertension. " +
	"He reports good adherence to metformin five hundred milligrams twice daily, and lisinopril ten milligrams once daily. " +
	"No chest pain, no shortness of breath. Blood pressure today is one thirty two over eighty four. " +
	"Plan, continue metformin, increase lisinopril to twenty milligrams daily, and recheck the hemoglobin A one C in three months. " +
	"He also has a history of atrial fibrillation on apixaban five milligrams twice daily, with no bleeding reported."

// result is what one run of a stream produced.
type result struct {
	events   []speech.Event
	finals   []speech.Final
	partials []speech.Partial
	stats    speech.StreamStats
	end      time.Duration // audio fed
}

func (r *result) add(ev []speech.Event) {
	for _, e := range ev {
		r.events = append(r.events, e)
		switch e := e.(type) {
		case speech.Final:
			r.finals = append(r.finals, e)
		case speech.Partial:
			r.partials = append(r.partials, e)
		}
	}
}

// text is the committed transcript.
func (r *result) text() string {
	var parts []string
	for _, f := range r.finals {
		parts = append(parts, f.Text)
	}
	return strings.Join(parts, " ")
}

// feed writes audio to s in frames of frameLen samples, stepping whenever a
// step is due, as a transcriber that keeps up would, then stops the stream.
func feed(tb testing.TB, s *speech.Stream, audio []float32, frameLen int) *result {
	tb.Helper()
	ctx := context.Background()
	r := &result{}
	for i := 0; i < len(audio); i += frameLen {
		if err := s.WriteSamples(audio[i:min(i+frameLen, len(audio))]); err != nil {
			tb.Fatalf("write at sample %d: %v", i, err)
		}
		for s.Due() {
			ev, err := s.Step(ctx)
			if err != nil {
				tb.Fatalf("step: %v", err)
			}
			r.add(ev)
		}
	}
	ev, err := s.Stop(ctx)
	if err != nil {
		tb.Fatalf("stop: %v", err)
	}
	r.add(ev)
	r.stats = s.Stats()
	r.end = time.Duration(len(audio)) * time.Second / speech.SampleRate
	return r
}

func newStream(tb testing.TB, e speech.Engine, o *speech.StreamOptions) *speech.Stream {
	tb.Helper()
	s, err := speech.NewStream(e, o)
	if err != nil {
		tb.Fatalf("new stream: %v", err)
	}
	return s
}

func normWords(s string) []string {
	f := strings.Fields(strings.ToLower(s))
	for i := range f {
		f[i] = strings.Trim(f[i], ".,;:?!")
	}
	return f
}
