package realtime

import (
	"context"

	"github.com/medscribe/medscribe/speech"
)

// streamTranscriber adapts a speech.Stream to Transcriber.
type streamTranscriber struct {
	s     *speech.Stream
	close func() error
}

// NewStreamTranscriber makes a Transcriber of a speech stream; closeFn
// (may be nil) frees the stream's engine when the session ends.
func NewStreamTranscriber(s *speech.Stream, closeFn func() error) Transcriber {
	return &streamTranscriber{s: s, close: closeFn}
}

func (t *streamTranscriber) Append(samples []float32) error { return t.s.WriteSamples(samples) }
func (t *streamTranscriber) Ready() <-chan struct{}         { return t.s.Ready() }
func (t *streamTranscriber) Due() bool                      { return t.s.Due() }

func (t *streamTranscriber) Step(ctx context.Context) ([]TranscriptEvent, error) {
	evs, err := t.s.Step(ctx)
	return convert(evs), err
}

func (t *streamTranscriber) Stop(ctx context.Context) ([]TranscriptEvent, error) {
	evs, err := t.s.Stop(ctx)
	return convert(evs), err
}

func (t *streamTranscriber) Close() error {
	if t.close != nil {
		return t.close()
	}
	return nil
}

func convert(evs []speech.Event) []TranscriptEvent {
	out := make([]TranscriptEvent, 0, len(evs))
	for _, ev := range evs {
		switch e := ev.(type) {
		case speech.Partial:
			out = append(out, TranscriptEvent{Text: e.Text, Start: e.Start, End: e.End})
		case speech.Final:
			out = append(out, TranscriptEvent{Final: true, SegmentID: e.SegmentID, Text: e.Text, Start: e.Start, End: e.End})
		}
	}
	return out
}
