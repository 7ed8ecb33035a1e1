package whisper

import (
	"context"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
	"github.com/medscribe/medscribe/speech/testmodel"
)

// benchDictation is about a minute of dictation when espeak-ng reads it
// word by word with the default timing (speechtest.EspeakDictation).
const benchDictation = "Patient is a sixty two year old woman seen today for follow up of type two diabetes, " +
	"hypertension and chronic kidney disease stage three. She takes metformin five hundred milligrams twice daily, " +
	"lisinopril twenty milligrams once daily and atorvastatin forty milligrams at bedtime. " +
	"No chest pain, no shortness of breath, no swelling of the ankles. Blood pressure today is one forty two over eighty eight, " +
	"heart rate seventy six and regular. The hemoglobin A one C was seven point nine percent. " +
	"Plan, continue metformin, increase lisinopril to forty milligrams daily, start empagliflozin ten milligrams daily, " +
	"and recheck kidney function in two weeks."

// benchVocabulary stands in for the terminology's drug and condition names
// in the prompt: every mode gets it, so the comparison is of windowing
// alone.
var benchVocabulary = []string{"metformin", "lisinopril", "atorvastatin", "glipizide", "empagliflozin",
	"levothyroxine", "acetaminophen", "amlodipine", "apixaban", "warfarin", "insulin glargine", "losartan",
	"hydrochlorothiazide", "omeprazole", "sertraline", "gabapentin", "prednisone", "albuterol",
	"hypertension", "hyperlipidemia", "atrial fibrillation", "hypothyroidism", "osteoarthritis"}

// generatedGuards turn off the confidence guards, as serve does for a
// generated model: random weights give low confidence everywhere, and with
// the guards on no window would ever agree.
var generatedGuards = &speech.GuardOptions{MaxNoSpeechProb: 2, SilenceLogProb: -1e9, MinAvgLogProb: -1e9}

// timedEngine records how long each engine call takes.
type timedEngine struct {
	e      *Engine
	mu     sync.Mutex
	calls  []time.Duration
	audio  time.Duration
	tokens int
}

func (t *timedEngine) Transcribe(ctx context.Context, samples []float32, opts speech.Options) ([]speech.Segment, error) {
	start := time.Now()
	segs, err := t.e.Transcribe(ctx, samples, opts)
	d := time.Since(start)
	t.mu.Lock()
	defer t.mu.Unlock()
	t.calls = append(t.calls, d)
	t.audio += time.Duration(len(samples)) * time.Second / speech.SampleRate
	t.tokens += t.e.decodedTokens()
	return segs, err
}

func (t *timedEngine) total() time.Duration {
	var sum time.Duration
	for _, d := range t.calls {
		sum += d
	}
	return sum
}

// cpuTime is the process's user and system CPU time so far. Unlike wall
// time it does not count the time other processes hold the cores, so the
// CPU-time ratios are steadier on a shared machine (spinning threads
// still count).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var (
	tinyOnce  sync.Once
	tinyModel *Model
	tinyErr   error
)

// tinyEnModel loads the generated tiny.en-shaped model once.
func tinyEnModel(tb testing.TB) *Model {
	tb.Helper()
	tinyOnce.Do(func() {
		path, err := testmodel.Generate(context.Background(), "", "whisper-tiny.en")
		if err != nil {
			tinyErr = err
			return
		}
		tinyModel, tinyErr = Load(path)
	})
	if tinyErr != nil {
		tb.Fatalf("tiny.en-shaped whisper model: %v", tinyErr)
	}
	return tinyModel
}

// benchThreads is the threads per engine call: 2 in the speed goals. On a
// machine shared with other work, ggml's two spinning threads stall each
// other whenever one is descheduled, which inflates short calls most; a
// run with -args -threads=1 shows the compute without that effect.
var benchThreads = 2

func init() {
	flag.IntVar(&benchThreads, "threads", 2, "threads per whisper call in benchmarks")
}

// runStreaming feeds audio through a Stream in 100 ms frames as fast as
// compute allows and returns the finals.
func runStreaming(ctx context.Context, eng speech.Engine, audio []float32, opts *speech.StreamOptions) ([]speech.Final, speech.StreamStats, error) {
	s, err := speech.NewStream(eng, opts)
	if err != nil {
		return nil, speech.StreamStats{}, err
	}
	var finals []speech.Final
	keep := func(evs []speech.Event) {
		for _, ev := range evs {
			if f, ok := ev.(speech.Final); ok {
				finals = append(finals, f)
			}
		}
	}
	const frame = speech.SampleRate / 10
	for off := 0; off < len(audio); off += frame {
		if err := s.WriteSamples(audio[off:min(off+frame, len(audio))]); err != nil {
			return nil, speech.StreamStats{}, err
		}
		for s.Due() {
			evs, err := s.Step(ctx)
			if err != nil {
				return nil, speech.StreamStats{}, err
			}
			keep(evs)
		}
	}
	evs, err := s.Stop(ctx)
	keep(evs)
	return finals, s.Stats(), err
}

// runBatch transcribes audio in one pass of windows of at most 30 s, the
// encoder cut to each window (whisper's audio_ctx plus the stream's
// margin), as medscribe transcribe does without --stream.
func runBatch(ctx context.Context, eng speech.Engine, audio []float32, prompt string) error {
	const window = 30 * speech.SampleRate
	for off := 0; off < len(audio); off += window {
		chunk := audio[off:min(off+window, len(audio))]
		audioCtx := 0
		if len(chunk) < window {
			audioCtx = min(1500, (len(chunk)+encoderSamples-1)/encoderSamples+16)
		}
		if _, err := eng.Transcribe(ctx, chunk, speech.Options{Prompt: prompt, AudioCtx: audioCtx, Threads: benchThreads}); err != nil {
			return err
		}
	}
	return nil
}

// encoderSamples is the audio per encoder frame (20 ms).
const encoderSamples = speech.SampleRate / 50

// runNaive re-transcribes the way whisper.cpp's stream example does with
// no VAD: every second, all audio since the last reset, at most 30 s,
// with the full 30 s encoder; the window resets once it reaches 30 s.
func runNaive(ctx context.Context, eng speech.Engine, audio []float32, prompt string) error {
	const step, window = speech.SampleRate, 30 * speech.SampleRate
	start := 0
	for end := step; ; end += step {
		end = min(end, len(audio))
		if _, err := eng.Transcribe(ctx, audio[start:end], speech.Options{Prompt: prompt, Threads: benchThreads}); err != nil {
			return err
		}
		if end == len(audio) {
			return nil
		}
		if end-start >= window {
			start = end
		}
	}
}

// BenchmarkStreamCompute compares, in the same run and on the same engine
// (the generated tiny.en-shaped model, 2 threads), the compute of three
// ways to transcribe the same audio: the streaming policy fed as fast as
// compute allows (speech.Stream: VAD, 1 s steps of new speech,
// LocalAgreement-2, encoder cut to the window, prompt of glossary and
// committed tail), one batch pass in windows of at most 30 s with the
// encoder cut to the window, and naive re-transcription every second of
// everything since the last reset with the full 30 s encoder. All three
// get the glossary prompt. Each iteration runs the modes in turn, so load
// on the machine falls on all of them.
//
// The model's weights are random, so its text is noise, and no two
// overlapping windows agree on it: the stream then commits only at pauses
// and at the 15 s window limit, and re-transcribes far more than with a
// trained model. For the dictation, whose word times are known, the
// stream also runs steered: every window goes through the real engine
// (its cost), but the words the stream sees are the script's, with the
// instability of speechtest.Engine, so the windows are those a trained
// model would get. Metrics, per iteration:
//
//	stream-s, batch-s, naive-s     engine wall time of each mode
//	stream/batch, naive/batch      their ratios (goal stream/batch ≤ 1.3)
//	stream/batch-cpu               the same from process CPU time
//	step-p50-ms, step-p95-ms       engine time per streaming call
//	calls, engine-audio-x          streaming calls, and audio transcribed
//	                               per second of input
//	stream-tok, batch-tok          tokens decoded (text, timestamps,
//	                               special): the decoder's work
//	prompt-chars                   mean prompt length of a streaming call
//	steered-s, steered/batch, ...  the steered stream's time, ratio, calls,
//	                               engine-audio-x and step percentiles
func BenchmarkStreamCompute(b *testing.B) {
	m := tinyEnModel(b)
	dict, script := speechtest.EspeakDictation(b, benchDictation, speechtest.Timing{})
	cases := []struct {
		name   string
		audio  []float32
		script speechtest.Script
	}{
		{"jfk", speechtest.JFK(b), nil},
		{fmt.Sprintf("dictation-%ds", len(dict)/speech.SampleRate), dict, script},
	}
	glossary := strings.Join(benchVocabulary, ", ")
	streamOpts := &speech.StreamOptions{Threads: benchThreads, Vocabulary: benchVocabulary, Guards: generatedGuards}
	for _, c := range cases {
		b.Run("audio="+c.name, func(b *testing.B) {
			eng, err := m.NewEngine(benchThreads)
			if err != nil {
				b.Fatal(err)
			}
			defer eng.Close()
			ctx := context.Background()
			warmUp(b, eng, c.audio)
			var stream, steered, batch, naive, streamCPU, batchCPU time.Duration
			var steps, steeredSteps []time.Duration
			var calls, steeredCalls, streamTok, batchTok, promptChars int
			var engAudio, steeredAudio time.Duration
			for i := 0; b.Loop(); i++ {
				te := &timedEngine{e: eng}
				pe := &promptMeter{Engine: te}
				c0 := cpuTime()
				_, st, err := runStreaming(ctx, pe, c.audio, streamOpts)
				if err != nil {
					b.Fatal(err)
				}
				streamCPU += cpuTime() - c0
				stream += te.total()
				steps = append(steps, te.calls...)
				calls += st.EngineCalls
				engAudio += st.EngineAudio
				streamTok += te.tokens
				promptChars += pe.chars

				if c.script != nil {
					te = &timedEngine{e: eng}
					se := &speechtest.Engine{Script: c.script, Seed: uint64(i), Compute: te}
					_, st, err := runStreaming(ctx, se, c.audio, streamOpts)
					if err != nil {
						b.Fatal(err)
					}
					steered += te.total()
					steeredSteps = append(steeredSteps, te.calls...)
					steeredCalls += st.EngineCalls
					steeredAudio += st.EngineAudio
				}

				te = &timedEngine{e: eng}
				c0 = cpuTime()
				if err := runBatch(ctx, te, c.audio, glossary); err != nil {
					b.Fatal(err)
				}
				batchCPU += cpuTime() - c0
				batch += te.total()
				batchTok += te.tokens

				te = &timedEngine{e: eng}
				if err := runNaive(ctx, te, c.audio, glossary); err != nil {
					b.Fatal(err)
				}
				naive += te.total()
			}
			n := float64(b.N)
			audioSecs := float64(len(c.audio)) / speech.SampleRate
			b.ReportMetric(stream.Seconds()/n, "stream-s")
			b.ReportMetric(batch.Seconds()/n, "batch-s")
			b.ReportMetric(naive.Seconds()/n, "naive-s")
			b.ReportMetric(stream.Seconds()/batch.Seconds(), "stream/batch")
			b.ReportMetric(naive.Seconds()/batch.Seconds(), "naive/batch")
			b.ReportMetric(streamCPU.Seconds()/batchCPU.Seconds(), "stream/batch-cpu")
			b.ReportMetric(percentileMS(steps, 50), "step-p50-ms")
			b.ReportMetric(percentileMS(steps, 95), "step-p95-ms")
			b.ReportMetric(float64(calls)/n, "calls")
			b.ReportMetric(engAudio.Seconds()/n/audioSecs, "engine-audio-x")
			b.ReportMetric(float64(streamTok)/n, "stream-tok")
			b.ReportMetric(float64(batchTok)/n, "batch-tok")
			b.ReportMetric(float64(promptChars)/float64(calls), "prompt-chars")
			if c.script != nil {
				b.ReportMetric(steered.Seconds()/n, "steered-s")
				b.ReportMetric(steered.Seconds()/batch.Seconds(), "steered/batch")
				b.ReportMetric(float64(steeredCalls)/n, "steered-calls")
				b.ReportMetric(steeredAudio.Seconds()/n/audioSecs, "steered-engine-audio-x")
				b.ReportMetric(percentileMS(steeredSteps, 50), "steered-step-p50-ms")
				b.ReportMetric(percentileMS(steeredSteps, 95), "steered-step-p95-ms")
			}
		})
	}
}

// percentileMS is the p-th percentile of ds in milliseconds.
func percentileMS(ds []time.Duration, p int) float64 {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return ms(s[(len(s)-1)*p/100])
}

// warmUp makes the calls that size whisper.cpp's buffers (the longest
// prompt, the stream's longest window, a full 30 s window) so that no mode
// pays for the allocation in the timed loop.
func warmUp(b *testing.B, eng *Engine, audio []float32) {
	b.Helper()
	long := strings.Repeat(speechtest.JFKText+" ", 8)
	for _, secs := range []int{15, 30} {
		w := audio[:min(len(audio), secs*speech.SampleRate)]
		if _, err := eng.Transcribe(context.Background(), w, speech.Options{Prompt: long, Threads: benchThreads}); err != nil {
			b.Fatal(err)
		}
	}
}

// promptMeter counts the prompt characters the stream sends.
type promptMeter struct {
	speech.Engine
	chars int
}

func (p *promptMeter) Transcribe(ctx context.Context, samples []float32, opts speech.Options) ([]speech.Segment, error) {
	p.chars += len(opts.Prompt)
	return p.Engine.Transcribe(ctx, samples, opts)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// BenchmarkTranscribeWindow is one engine call on a window of jfk.wav (the
// generated tiny.en-shaped model, 2 threads, encoder cut to the window as
// the stream cuts it) with prompts of several lengths, to show where a
// streaming step's time goes: the encoder grows with the window, and
// whisper.cpp computes vocabulary logits for every prompt token, about
// 40 MFLOP each on this model. tokens/call is what the decoder produced.
func BenchmarkTranscribeWindow(b *testing.B) {
	eng, err := tinyEnModel(b).NewEngine(benchThreads)
	if err != nil {
		b.Fatal(err)
	}
	defer eng.Close()
	jfk := speechtest.JFK(b)
	long := strings.Join(benchVocabulary, ", ") + ". " + speechtest.JFKText + " " + speechtest.JFKText
	for _, secs := range []float64{1, 2, 4, 8} {
		for _, chars := range []int{0, 100, 300, 500} {
			b.Run(fmt.Sprintf("window=%gs/prompt=%d", secs, chars), func(b *testing.B) {
				w := jfk[:int(secs*speech.SampleRate)]
				opts := speech.Options{Prompt: long[:chars], Threads: benchThreads,
					AudioCtx: (len(w)+encoderSamples-1)/encoderSamples + 16}
				// Warm up: the first call with a new prompt length
				// reallocates whisper.cpp's compute buffers.
				if _, err := eng.Transcribe(context.Background(), w, opts); err != nil {
					b.Fatal(err)
				}
				tokens := 0
				for b.Loop() {
					if _, err := eng.Transcribe(context.Background(), w, opts); err != nil {
						b.Fatal(err)
					}
					tokens += eng.decodedTokens()
				}
				b.ReportMetric(float64(tokens)/float64(b.N), "tokens/call")
			})
		}
	}
}
