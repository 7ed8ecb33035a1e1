package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"time"

	"github.com/medscribe/medscribe/realtime"
	"github.com/medscribe/medscribe/realtime/sched"
	"github.com/medscribe/medscribe/speech"
)

func init() {
	register("transcribe", "transcribe a WAV file: JSON segments, or --stream events as a live session sends them", runTranscribe)
}

type transcribeSegment struct {
	Start float64 `json:"start"`
	End   float64 `json:"end"`
	Text  string  `json:"text"`
}

type transcribeResult struct {
	File      string              `json:"file"`
	Audio     float64             `json:"audio_seconds"`
	Model     string              `json:"model"`
	Generated bool                `json:"generated_model"`
	ComputeMS int64               `json:"compute_ms"`
	Segments  []transcribeSegment `json:"segments"`
}

func runTranscribe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("transcribe", "[flags] FILE.wav", stderr)
	model := fs.String("whisper-model", "", "whisper ggml model (default: the generated tiny.en-shaped test model; its text is noise)")
	threads := fs.Int("threads", runtime.NumCPU(), "CPU threads")
	stream := fs.Bool("stream", false, "print partial and final events, one JSON object per line, as a live session streams them")
	fast := fs.Bool("fast", false, "with --stream: feed audio as fast as compute allows instead of in real time")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errUsage
	}
	log, err := newLogger(*logLevel, "text", stderr)
	if err != nil {
		return err
	}
	path := fs.Arg(0)
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	samples, err := speech.ReadWAV(f)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	sm, err := loadSpeech(ctx, *model, log)
	if err != nil {
		return err
	}
	eng, err := sm.model.NewEngine(*threads)
	if err != nil {
		return err
	}
	defer eng.Close()
	if *stream {
		return streamFile(ctx, eng, samples, sm.streamOptions(*threads), *fast, stdout)
	}

	res := transcribeResult{File: path, Audio: float64(len(samples)) / speech.SampleRate, Model: sm.name, Generated: sm.generated,
		Segments: []transcribeSegment{}}
	start := time.Now()
	// whisper reads 30 s at a time; longer files go in consecutive windows.
	const window = 30 * speech.SampleRate
	for off := 0; off < len(samples); off += window {
		chunk := samples[off:min(off+window, len(samples))]
		audioCtx := 0
		if len(chunk) < window {
			audioCtx = (len(chunk)*50+speech.SampleRate-1)/speech.SampleRate + 16
		}
		segs, err := eng.Transcribe(ctx, chunk, speech.Options{Threads: *threads, AudioCtx: audioCtx})
		if err != nil {
			return err
		}
		base := time.Duration(off) * time.Second / speech.SampleRate
		for _, s := range segs {
			res.Segments = append(res.Segments, transcribeSegment{
				Start: (base + s.Start).Seconds(), End: (base + s.End).Seconds(), Text: s.Text})
		}
	}
	res.ComputeMS = time.Since(start).Milliseconds()
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(res)
}

// streamFile feeds samples through the streaming policy in 100 ms frames,
// at real-time pace unless fast, and prints every event.
func streamFile(ctx context.Context, eng speech.Engine, samples []float32, opts *speech.StreamOptions, fast bool, stdout io.Writer) error {
	s, err := speech.NewStream(eng, opts)
	if err != nil {
		return err
	}
	tr := realtime.NewStreamTranscriber(s, nil)
	sc := sched.New(runtime.NumCPU(), max(1, opts.Threads))
	print := func(evs []realtime.TranscriptEvent) error {
		for _, ev := range evs {
			b, err := realtime.MarshalTranscript(ev)
			if err != nil {
				return err
			}
			if _, err := fmt.Fprintf(stdout, "%s\n", b); err != nil {
				return err
			}
		}
		return nil
	}
	step := func(stop bool) error {
		rel, err := sc.Acquire(ctx, sched.Speech, "cli")
		if err != nil {
			return err
		}
		defer rel()
		var evs []realtime.TranscriptEvent
		if stop {
			evs, err = tr.Stop(ctx)
		} else {
			evs, err = tr.Step(ctx)
		}
		if err != nil {
			return err
		}
		return print(evs)
	}
	const frame = speech.SampleRate / 10
	start := time.Now()
	if fast {
		for off := 0; off < len(samples); off += frame {
			if err := tr.Append(samples[off:min(off+frame, len(samples))]); err != nil {
				return err
			}
			for tr.Due() {
				if err := step(false); err != nil {
					return err
				}
			}
		}
		return step(true)
	}
	// Real time: a feeder appends frames on the clock, as a client would;
	// this goroutine transcribes whenever work is due.
	errc := make(chan error, 1)
	fed := make(chan struct{})
	go func() {
		defer close(fed)
		for off, i := 0, 0; off < len(samples); off, i = off+frame, i+1 {
			if d := time.Until(start.Add(time.Duration(i) * 100 * time.Millisecond)); d > 0 {
				select {
				case <-time.After(d):
				case <-ctx.Done():
					errc <- ctx.Err()
					return
				}
			}
			if err := tr.Append(samples[off:min(off+frame, len(samples))]); err != nil {
				errc <- err
				return
			}
		}
	}()
	for {
		select {
		case <-tr.Ready():
			for tr.Due() {
				if err := step(false); err != nil {
					return err
				}
			}
		case err := <-errc:
			return err
		case <-fed:
			select {
			case err := <-errc:
				return err
			default:
			}
			return step(true)
		}
	}
}
