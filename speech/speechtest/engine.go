package speechtest

import (
	"context"
	"hash/fnv"
	"math/rand/v2"
	"strings"
	"sync"
	"time"

	"github.com/medscribe/medscribe/speech"
)

// Engine is a speech.Engine that replays a Script the way a recognizer
// hears a window of audio: it returns the script's words that lie in the
// window (it finds the window through Options.Offset), with realistic
// instability at the end of the window. A word cut off by the window's end
// comes out garbled or not at all, depending on how much of it was heard,
// the last complete words are sometimes misheard, and word times jitter by
// a few tens of milliseconds. The same window always gives the same answer.
//
// Engine is safe for concurrent use when Compute is nil or is itself.
type Engine struct {
	Script Script
	// Instability is the probability that each of the two complete words
	// nearest the window's end is misheard when it ends right at the
	// window's end, falling to zero for a word followed by 600 ms of audio;
	// default 0.25. Set it negative for a perfect recognizer.
	Instability float64
	// Seed varies the instability between runs of a test.
	Seed uint64
	// Jitter is the largest shift of a word boundary; default 30 ms.
	Jitter time.Duration
	// Delay, if set, is how long each call takes, to model compute.
	Delay time.Duration
	// Compute, if set, is run on every window with the same options and
	// its output discarded: each call then costs what that recognizer
	// costs, while the words stay the script's. Benchmarks use it with
	// random-weight whisper models, whose own output is noise that no two
	// overlapping windows agree on, to time the windows a trained model
	// would be given.
	Compute speech.Engine

	mu    sync.Mutex
	calls []Call
}

// Call records one Transcribe call.
type Call struct {
	Offset, Duration time.Duration
	Options          speech.Options
}

// Calls returns the calls made so far.
func (e *Engine) Calls() []Call {
	e.mu.Lock()
	defer e.mu.Unlock()
	return append([]Call(nil), e.calls...)
}

// Transcribe implements speech.Engine.
func (e *Engine) Transcribe(ctx context.Context, samples []float32, opts speech.Options) ([]speech.Segment, error) {
	dur := at(len(samples))
	e.mu.Lock()
	e.calls = append(e.calls, Call{Offset: opts.Offset, Duration: dur, Options: opts})
	e.mu.Unlock()
	if e.Delay > 0 {
		t := time.NewTimer(e.Delay)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		case <-t.C:
		}
	}
	if e.Compute != nil {
		if _, err := e.Compute.Transcribe(ctx, samples, opts); err != nil {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return e.hear(opts.Offset, dur), nil
}

func (e *Engine) hear(off, dur time.Duration) []speech.Segment {
	instability := e.Instability
	if instability == 0 {
		instability = 0.25
	}
	jitter := e.Jitter
	if jitter == 0 {
		jitter = 30 * time.Millisecond
	}
	end := off + dur
	h := fnv.New64a()
	var key [24]byte
	for i, v := range []uint64{e.Seed, uint64(off), uint64(dur)} {
		for b := range 8 {
			key[i*8+b] = byte(v >> (8 * b))
		}
	}
	h.Write(key[:])
	r := rand.New(rand.NewPCG(h.Sum64(), 4))

	var heard []speech.Word
	for _, w := range e.Script {
		mid := (w.Start + w.End) / 2
		if mid < off || w.Start >= end {
			continue
		}
		if w.End <= end {
			heard = append(heard, w)
			continue
		}
		// Cut off by the window's end: heard in part.
		frac := float64(end-w.Start) / float64(w.End-w.Start)
		if frac < 0.3 {
			break
		}
		c := w
		c.End = end
		if frac < 0.75 {
			c.Text = mishear(w.Text, r)
		}
		heard = append(heard, c)
		break
	}
	// The words nearest the end have the least right context.
	complete := len(heard)
	if complete > 0 && heard[complete-1].End == end {
		complete--
	}
	for i := max(0, complete-2); i < complete; i++ {
		// Less right context, more doubt: a word followed by 600 ms or more
		// of audio in the window is heard as reliably as any other.
		p := instability * max(0, 1-float64(end-heard[i].End)/float64(600*time.Millisecond))
		if r.Float64() < p {
			heard[i].Text = mishear(heard[i].Text, r)
		}
	}
	var segs []speech.Segment
	var cur *speech.Segment
	for _, w := range heard {
		j := func() time.Duration { return time.Duration((r.Float64()*2 - 1) * float64(jitter)) }
		w.Start = min(max(w.Start+j()-off, 0), dur)
		w.End = min(max(w.End+j()-off, w.Start), dur)
		w.Prob = 0.9
		if cur == nil {
			segs = append(segs, speech.Segment{Start: w.Start, AvgLogProb: -0.3, NoSpeechProb: 0.02})
			cur = &segs[len(segs)-1]
		}
		cur.Words = append(cur.Words, w)
		cur.End = w.End
		if strings.HasSuffix(w.Text, ".") || strings.HasSuffix(w.Text, "?") {
			cur = nil
		}
	}
	for i := range segs {
		var b strings.Builder
		for _, w := range segs[i].Words {
			b.WriteString(" ")
			b.WriteString(w.Text)
		}
		segs[i].Text = b.String()
	}
	return segs
}

// confusions are plausible mishearings; other words lose their ending or
// gain an "s", the typical errors on a word heard without what follows.
var confusions = map[string]string{
	"for": "four", "to": "two", "two": "to", "can": "can't", "not": "knot",
	"you": "your", "your": "you", "the": "a", "a": "the", "and": "in",
	"daily": "Daly", "twice": "twice a", "milligrams": "milligram",
}

func mishear(w string, r *rand.Rand) string {
	core := strings.TrimRight(w, ".,;:?!")
	if c, ok := confusions[strings.ToLower(core)]; ok {
		return c
	}
	if len(core) > 3 && r.IntN(2) == 0 {
		return core[:len(core)-1-r.IntN(len(core)/3)]
	}
	return core + "s"
}

// EngineFunc adapts a function to speech.Engine, for tests that need
// exact control of the output.
type EngineFunc func(ctx context.Context, samples []float32, opts speech.Options) ([]speech.Segment, error)

// Transcribe implements speech.Engine.
func (f EngineFunc) Transcribe(ctx context.Context, samples []float32, opts speech.Options) ([]speech.Segment, error) {
	return f(ctx, samples, opts)
}
