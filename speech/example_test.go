package speech_test

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
)

// A session runs a reader goroutine, which appends audio frames as they
// arrive, and a transcriber goroutine, which steps the stream when work is
// due and forwards the events; at the end the transcriber stops the
// stream, which commits everything still pending.
func ExampleStream() {
	script := speechtest.Dictate("Continue metformin five hundred milligrams twice daily.", speechtest.Timing{})
	engine := &speechtest.Engine{Script: script, Instability: -1} // whisper in production
	s, err := speech.NewStream(engine, &speech.StreamOptions{
		Format:     speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 16000},
		Vocabulary: []string{"metformin"},
		Detector:   &speechtest.ScriptDetector{Script: script},
	})
	if err != nil {
		panic(err)
	}
	ctx := context.Background()

	// Reader: 20 ms binary frames, as a browser sends them.
	readerDone := make(chan error, 1)
	go func() {
		frame := make([]byte, 640)
		for t := time.Duration(0); t < script.End()+time.Second; t += 20 * time.Millisecond {
			if err := s.Write(frame); err != nil {
				readerDone <- err
				return
			}
		}
		readerDone <- nil
	}()

	// Transcriber.
	var committed []string
	handle := func(events []speech.Event) {
		for _, e := range events {
			if f, ok := e.(speech.Final); ok {
				committed = append(committed, f.Text)
			}
		}
	}
	for reading := true; reading; {
		select {
		case err := <-readerDone:
			if err != nil {
				panic(err)
			}
			reading = false
		case <-s.Ready():
		}
		for s.Due() {
			events, err := s.Step(ctx)
			if err != nil {
				panic(err)
			}
			handle(events)
		}
	}
	events, err := s.Stop(ctx)
	if err != nil {
		panic(err)
	}
	handle(events)
	fmt.Println(strings.Join(committed, " "))
	// Output: Continue metformin five hundred milligrams twice daily.
}
