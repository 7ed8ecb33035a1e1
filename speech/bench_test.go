package speech_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
)

// BenchmarkCommitLatency measures the policy's commit latency, from the
// end of a spoken word to the audio time at which it is committed, over
// two minutes of dictation (three readings of the note, with the pauses of
// the timing model) through the whole pure-Go path: 16-bit frames of 20 ms,
// the energy detector on synthetic voiced audio, and the scripted
// recognizer with its default instability. Compute time is not included:
// a real engine adds its own time per step. Each iteration varies the
// recognizer's seed. Metrics:
//
//	p50-commit-s, p95-commit-s  latency percentiles over all words
//	engine-audio-x              seconds transcribed per second of audio
//	calls/min                   engine calls per minute of audio
//	wer-%                       word error rate of the committed text
func BenchmarkCommitLatency(b *testing.B) {
	script := speechtest.Dictate(dictation+" "+dictation+" "+dictation, speechtest.Timing{})
	end := script.End() + time.Second
	frames := frameS16(speechtest.Synth(script, end, 1), 320)
	for _, step := range []time.Duration{time.Second, 500 * time.Millisecond} {
		b.Run(fmt.Sprintf("step=%v", step), func(b *testing.B) {
			var lat []float64
			var engineAudio time.Duration
			var calls, errs, words int
			for i := 0; b.Loop(); i++ {
				eng := &speechtest.Engine{Script: script, Seed: uint64(i)}
				s, err := speech.NewStream(eng, &speech.StreamOptions{Step: step})
				if err != nil {
					b.Fatal(err)
				}
				r := &result{}
				for _, f := range frames {
					if err := s.Write(f); err != nil {
						b.Fatal(err)
					}
					for s.Due() {
						ev, err := s.Step(context.Background())
						if err != nil {
							b.Fatal(err)
						}
						r.add(ev)
					}
				}
				ev, err := s.Stop(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				r.add(ev)
				for _, f := range r.finals {
					for _, w := range f.Words {
						lat = append(lat, (f.At - w.End).Seconds())
					}
				}
				st := s.Stats()
				engineAudio += st.EngineAudio
				calls += st.EngineCalls
				errs += wordErrors(r.text(), script.Text())
				words += len(script)
			}
			slices.Sort(lat)
			n := float64(b.N)
			b.ReportMetric(lat[len(lat)/2], "p50-commit-s")
			b.ReportMetric(lat[len(lat)*95/100], "p95-commit-s")
			b.ReportMetric(engineAudio.Seconds()/n/end.Seconds(), "engine-audio-x")
			b.ReportMetric(float64(calls)/n/end.Minutes(), "calls/min")
			b.ReportMetric(100*float64(errs)/float64(words), "wer-%")
		})
	}
}

func frameS16(audio []float32, n int) [][]byte {
	var out [][]byte
	for i := 0; i < len(audio); i += n {
		out = append(out, s16(audio[i:min(i+n, len(audio))], 1))
	}
	return out
}

// BenchmarkDecode48k: 20 ms frames of 16-bit 48 kHz audio decoded and
// resampled to 16 kHz; x-realtime is seconds of audio per second of CPU.
func BenchmarkDecode48k(b *testing.B) {
	frame := s16(speechtest.Tone(440, 0.5, 48000, 960), 1)
	d, _ := speech.NewDecoder(speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000})
	out := make([]float32, 0, 400)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		out, _ = d.Decode(out[:0], frame)
	}
	b.ReportMetric(0.02*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}

// BenchmarkDecode44k1 is BenchmarkDecode48k at 44.1 kHz, the rate with
// 160 filter phases.
func BenchmarkDecode44k1(b *testing.B) {
	frame := s16(speechtest.Tone(440, 0.5, 44100, 882), 1)
	d, _ := speech.NewDecoder(speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 44100})
	out := make([]float32, 0, 400)
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		out, _ = d.Decode(out[:0], frame)
	}
	b.ReportMetric(0.02*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}

// BenchmarkEnergyVAD: the energy detector on 20 ms frames of speech.
func BenchmarkEnergyVAD(b *testing.B) {
	audio := speechtest.Synth(speechtest.Dictate("the patient takes metformin", speechtest.Timing{}), 0, 1)
	v, _ := speech.NewVAD(nil, nil)
	i := 0
	for b.Loop() {
		if i+320 > len(audio) {
			i = 0
		}
		_ = v.Write(audio[i : i+320])
		i += 320
	}
	b.ReportMetric(0.02*float64(b.N)/b.Elapsed().Seconds(), "x-realtime")
}
