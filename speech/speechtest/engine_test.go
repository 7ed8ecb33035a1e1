package speechtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
)

// TestEngineCompute: a Compute engine sees every window with its options,
// its output is discarded, and its error is the call's.
func TestEngineCompute(t *testing.T) {
	t.Parallel()
	script := Dictate("the patient takes metformin daily.", Timing{})
	var seen []speech.Options
	var fail error
	compute := EngineFunc(func(_ context.Context, samples []float32, opts speech.Options) ([]speech.Segment, error) {
		seen = append(seen, opts)
		return []speech.Segment{{Text: "noise"}}, fail
	})
	e := &Engine{Script: script, Instability: -1, Compute: compute}
	window := make([]float32, int(script.End()*speech.SampleRate/time.Second)+1)
	opts := speech.Options{Prompt: "Glossary: metformin.", AudioCtx: 120, Threads: 2}
	segs, err := e.Transcribe(context.Background(), window, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 1 || seen[0] != opts {
		t.Fatalf("compute saw %+v, want one call with %+v", seen, opts)
	}
	var words int
	for _, s := range segs {
		if s.Text == "noise" {
			t.Fatal("the compute engine's output was returned")
		}
		words += len(s.Words)
	}
	if words != len(script) {
		t.Fatalf("%d words, want the script's %d", words, len(script))
	}
	fail = errors.New("out of memory")
	if _, err := e.Transcribe(context.Background(), window, opts); !errors.Is(err, fail) {
		t.Fatalf("compute error: got %v", err)
	}
}
