// Package speech turns a stream of audio into committed transcript text.
// Policy (resampling, voice activity, when to commit) is pure Go; the
// recognizer itself sits behind Engine so that the policy can be tested with
// a scripted engine and run on whisper.cpp in production (speech/whisper).
package speech

import (
	"context"
	"time"
)

// SampleRate is the rate, in Hz, of every sample slice an Engine receives.
const SampleRate = 16000

// Engine recognizes speech in a short window of 16 kHz mono audio.
// Implementations must be safe for use by one goroutine at a time per
// Engine value; sessions that run concurrently use separate Engines that may
// share one loaded model.
type Engine interface {
	// Transcribe recognizes samples (16 kHz mono, -1..1). Times in the
	// result are relative to the first sample.
	Transcribe(ctx context.Context, samples []float32, opts Options) ([]Segment, error)
}

// Options steer one Transcribe call.
type Options struct {
	// Prompt is text the recognizer should treat as preceding the window:
	// the committed tail and domain vocabulary. Empty means none.
	Prompt string
	// AudioCtx limits the encoder to the window length (whisper's
	// audio_ctx, in encoder frames of 20 ms; 0 means the full 30 s).
	AudioCtx int
	// Threads is the number of CPU threads the call may use; 0 means the
	// engine's default.
	Threads int
	// Offset is the session audio time of samples[0]. Engines report times
	// relative to the window and may ignore it; it lets logs and scripted
	// test engines place the window in the session.
	Offset time.Duration
}

// Segment is one recognized stretch of speech.
type Segment struct {
	Text       string
	Start, End time.Duration
	Words      []Word
	// NoSpeechProb is the recognizer's probability that the segment holds
	// no speech; AvgLogProb the mean token log-probability. Both feed the
	// hallucination guards.
	NoSpeechProb float32
	AvgLogProb   float32
}

// Word is one word with its time span in the window and its probability.
type Word struct {
	Text       string
	Start, End time.Duration
	Prob       float32
}
