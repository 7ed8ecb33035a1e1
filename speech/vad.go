package speech

import (
	"fmt"
	"math"
	"time"
)

// VoiceDetector scores 16 kHz mono audio, one fixed-size frame at a time,
// with the probability that the frame holds speech. The built-in detector
// is EnergyDetector; a neural detector (Silero through whisper.cpp) can be
// plugged in instead. A VoiceDetector keeps whatever state it needs between
// frames and is used by one goroutine at a time.
type VoiceDetector interface {
	// FrameSize is the number of samples in each frame passed to Score
	// (320 for EnergyDetector, 512 for Silero at 16 kHz).
	FrameSize() int
	// Score returns the speech probability, 0..1, of the next frame of
	// audio. len(frame) == FrameSize().
	Score(frame []float32) (float32, error)
}

// VADOptions tune how frame scores become speech intervals. The zero value
// of each field means its default.
type VADOptions struct {
	// Threshold is the score at which a frame counts as speech; default
	// 0.5. Inside speech, frames stay speech down to Threshold-0.15 so a
	// soft detector does not chatter at the boundary.
	Threshold float32
	// MinSpeech is how long speech must last, in consecutive frames, before
	// an interval opens; default 60 ms. Clicks and knocks are shorter.
	MinSpeech time.Duration
	// Hangover is how long an interval stays open after its last speech
	// frame; default 300 ms. It bridges the gaps between words and the
	// quiet ends of words, which the detector scores low.
	Hangover time.Duration
}

func (o *VADOptions) withDefaults() VADOptions {
	var v VADOptions
	if o != nil {
		v = *o
	}
	if v.Threshold == 0 {
		v.Threshold = 0.5
	}
	if v.MinSpeech == 0 {
		v.MinSpeech = 60 * time.Millisecond
	}
	if v.Hangover == 0 {
		v.Hangover = 300 * time.Millisecond
	}
	return v
}

// Span is a stretch of session audio time.
type Span struct {
	Start, End time.Duration
}

// interval is a span of audio in absolute 16 kHz sample numbers, [start, end).
type interval struct{ start, end int64 }

// VAD finds speech in a stream of 16 kHz audio: a VoiceDetector scores
// frames, and onset, hysteresis and hangover turn the scores into speech
// intervals in session audio time. The same audio always gives the same
// intervals, however it is split into writes. A VAD used on its own keeps
// its intervals and one byte per frame (180 kB an hour); inside a Stream it
// keeps only those of the audio the stream still holds. A VAD is not safe
// for concurrent use.
type VAD struct {
	det     VoiceDetector
	frame   int
	thr     float32
	minRun  int   // frames needed to open an interval
	hang    int64 // samples
	pending []float32
	pos     int64 // samples scored so far

	inSpeech  bool
	runStart  int64 // first frame of the current candidate onset
	runLen    int
	openStart int64
	lastVoice int64 // end of the last speech frame
	closed    []interval
	// voiced holds, for each frame from frame number voicedBase on, whether
	// its own score reached the threshold: the raw decisions without
	// onset or hangover, which the hallucination guards weigh text against.
	voiced     []bool
	voicedBase int64
}

// NewVAD returns a VAD scoring frames with det (nil: a new EnergyDetector).
func NewVAD(det VoiceDetector, opts *VADOptions) (*VAD, error) {
	if det == nil {
		det = NewEnergyDetector()
	}
	o := opts.withDefaults()
	fs := det.FrameSize()
	if fs <= 0 {
		return nil, fmt.Errorf("new vad: detector frame size %d", fs)
	}
	frameDur := sampleTime(int64(fs))
	return &VAD{
		det:    det,
		frame:  fs,
		thr:    o.Threshold,
		minRun: max(1, int((o.MinSpeech+frameDur-1)/frameDur)),
		hang:   timeSamples(o.Hangover),
	}, nil
}

// Write scores the samples, which continue the audio of earlier writes.
func (v *VAD) Write(samples []float32) error {
	for len(samples) > 0 {
		if len(v.pending) == 0 && len(samples) >= v.frame {
			if err := v.score(samples[:v.frame]); err != nil {
				return err
			}
			samples = samples[v.frame:]
			continue
		}
		k := min(v.frame-len(v.pending), len(samples))
		v.pending = append(v.pending, samples[:k]...)
		samples = samples[k:]
		if len(v.pending) == v.frame {
			if err := v.score(v.pending); err != nil {
				return err
			}
			v.pending = v.pending[:0]
		}
	}
	return nil
}

func (v *VAD) score(frame []float32) error {
	p, err := v.det.Score(frame)
	if err != nil {
		return fmt.Errorf("vad: score frame at %v: %w", sampleTime(v.pos), err)
	}
	start := v.pos
	v.pos += int64(v.frame)
	v.voiced = append(v.voiced, p >= v.thr)
	if v.inSpeech {
		if p >= v.thr-0.15 {
			v.lastVoice = v.pos
		} else if v.pos-v.lastVoice >= v.hang {
			v.closed = append(v.closed, interval{v.openStart, v.pos})
			v.inSpeech = false
			v.runLen = 0
		}
		return nil
	}
	if p < v.thr {
		v.runLen = 0
		return nil
	}
	if v.runLen == 0 {
		v.runStart = start
	}
	v.runLen++
	if v.runLen >= v.minRun {
		v.inSpeech = true
		v.openStart = v.runStart
		v.lastVoice = v.pos
	}
	return nil
}

// Flush ends the audio: a partial last frame is scored as if padded with
// silence and an open interval is closed at the end of the audio.
func (v *VAD) Flush() error {
	end := v.pos + int64(len(v.pending))
	if len(v.pending) > 0 {
		pad := append(v.pending, make([]float32, v.frame-len(v.pending))...)
		v.pending = v.pending[:0]
		if err := v.score(pad); err != nil {
			return err
		}
	}
	if v.inSpeech {
		v.closed = append(v.closed, interval{v.openStart, min(end, v.pos)})
		v.inSpeech = false
	}
	v.runLen = 0
	return nil
}

// InSpeech reports whether speech is going on at the end of the audio
// scored so far (including the hangover after the last speech frame).
func (v *VAD) InSpeech() bool { return v.inSpeech }

// Speech returns the speech intervals found so far, the last one ending at
// the audio scored so far if speech is still going on.
func (v *VAD) Speech() []Span {
	var out []Span
	for _, iv := range v.intervals() {
		out = append(out, Span{sampleTime(iv.start), sampleTime(iv.end)})
	}
	return out
}

func (v *VAD) intervals() []interval {
	out := append([]interval(nil), v.closed...)
	if v.inSpeech {
		out = append(out, interval{v.openStart, v.pos})
	}
	return out
}

// scored is the absolute number one past the last sample scored.
func (v *VAD) scored() int64 { return v.pos }

// lastSpeechEnd is the end of the last frame scored as speech inside an
// interval, or -1 if there was none yet.
func (v *VAD) lastSpeechEnd() int64 {
	if v.inSpeech || len(v.closed) > 0 {
		return v.lastVoice
	}
	return -1
}

// speechIn is how many samples of [from, to) lie inside speech intervals.
func (v *VAD) speechIn(from, to int64) int64 {
	var n int64
	add := func(iv interval) {
		if s, e := max(iv.start, from), min(iv.end, to); e > s {
			n += e - s
		}
	}
	for _, iv := range v.closed {
		add(iv)
	}
	if v.inSpeech {
		add(interval{v.openStart, v.pos})
	}
	return n
}

// voicedIn is how many samples of [from, to) lie in frames that scored as
// speech on their own.
func (v *VAD) voicedIn(from, to int64) int64 {
	fs := int64(v.frame)
	var n int64
	for f := max(from/fs, v.voicedBase); f*fs < to && f-v.voicedBase < int64(len(v.voiced)); f++ {
		if v.voiced[f-v.voicedBase] {
			n += max(0, min(to, (f+1)*fs)-max(from, f*fs))
		}
	}
	return n
}

// firstSpeechAfter returns the first sample number at or after from that
// lies in speech, or false.
func (v *VAD) firstSpeechAfter(from int64) (int64, bool) {
	for _, iv := range v.closed {
		if iv.end > from {
			return max(iv.start, from), true
		}
	}
	if v.inSpeech && v.pos > from {
		return max(v.openStart, from), true
	}
	return 0, false
}

// forget drops closed intervals that end at or before sample before, so a
// long session keeps only the intervals of the audio it still holds.
func (v *VAD) forget(before int64) {
	i := 0
	for i < len(v.closed) && v.closed[i].end <= before {
		i++
	}
	v.closed = v.closed[:copy(v.closed, v.closed[i:])]
	if drop := before/int64(v.frame) - v.voicedBase; drop > 0 {
		drop = min(drop, int64(len(v.voiced)))
		v.voiced = v.voiced[:copy(v.voiced, v.voiced[drop:])]
		v.voicedBase += drop
	}
}

// EnergyDetector is a VoiceDetector built from signal statistics alone: a
// frame is speech when its energy stands well above an adaptive noise floor
// and its spectrum looks voiced (energy concentrated in the speech band and
// harmonic rather than flat). The noise floor is the quietest frame of the
// last two seconds: speech always dips between syllables within that time,
// while steady noise, hum or tones never rise above their own minimum and
// so are never speech. Decisions are 0 or 1; frames are 20 ms.
type EnergyDetector struct {
	win     [vadWindow]float32 // the last vadWindow samples
	hann    *[vadWindow]float32
	fft     *fft
	buf     []complex128
	floor   minWindow
	minDBFS float64
	snrDB   float64
	minBand float64
	maxFlat float64
}

const (
	vadFrame  = 320 // 20 ms hop
	vadWindow = 512 // 32 ms analysis window, a power of two for the FFT
	binLow    = 2   // 62.5 Hz (bins are 31.25 Hz wide): below it is rumble and hum
	binBandLo = 8   // 250 Hz
	binBandHi = 128 // 4000 Hz
)

// NewEnergyDetector returns a detector with the thresholds tested on real,
// synthetic and noise audio in this package's tests.
func NewEnergyDetector() *EnergyDetector {
	h := new([vadWindow]float32)
	for i := range h {
		h[i] = float32(0.5 - 0.5*math.Cos(2*math.Pi*float64(i)/vadWindow))
	}
	return &EnergyDetector{
		hann:    h,
		fft:     newFFT(vadWindow),
		buf:     make([]complex128, vadWindow),
		floor:   minWindow{size: 100},
		minDBFS: -55,
		snrDB:   9,
		minBand: 0.35,
		maxFlat: 0.4,
	}
}

// FrameSize is 320 samples (20 ms).
func (d *EnergyDetector) FrameSize() int { return vadFrame }

// Score returns 1 for a speech frame and 0 otherwise.
func (d *EnergyDetector) Score(frame []float32) (float32, error) {
	if len(frame) != vadFrame {
		return 0, fmt.Errorf("energy detector: frame of %d samples, want %d", len(frame), vadFrame)
	}
	f := d.features(frame)
	if f.energy >= d.minDBFS && f.energy-f.floor >= d.snrDB && f.band >= d.minBand && f.flatness <= d.maxFlat {
		return 1, nil
	}
	return 0, nil
}

// frameFeatures are the per-frame statistics the decision uses, in one
// place so tests can look at them.
type frameFeatures struct {
	energy   float64 // dBFS of the 20 ms frame
	floor    float64 // dBFS, the adaptive noise floor including this frame
	band     float64 // share of 62–8000 Hz power that lies in 250–4000 Hz
	flatness float64 // geometric/arithmetic mean of power in 250–4000 Hz
}

func (d *EnergyDetector) features(frame []float32) frameFeatures {
	copy(d.win[:], d.win[len(frame):])
	copy(d.win[vadWindow-len(frame):], frame)
	var sq float64
	for _, s := range frame {
		sq += float64(s) * float64(s)
	}
	e := 10 * math.Log10(sq/float64(len(frame))+1e-12)
	for i, s := range d.win {
		d.buf[i] = complex(float64(s*d.hann[i]), 0)
	}
	d.fft.transform(d.buf)
	var total, band, logSum float64
	for k := binLow; k <= vadWindow/2; k++ {
		p := real(d.buf[k])*real(d.buf[k]) + imag(d.buf[k])*imag(d.buf[k])
		total += p
		if k >= binBandLo && k <= binBandHi {
			band += p
			logSum += math.Log(p + 1e-20)
		}
	}
	nb := float64(binBandHi - binBandLo + 1)
	flat := 1.0
	if band > 0 {
		flat = math.Exp(logSum/nb) / (band / nb)
	}
	ratio := 0.0
	if total > 0 {
		ratio = band / total
	}
	return frameFeatures{energy: e, floor: d.floor.push(e), band: ratio, flatness: flat}
}

// minWindow tracks the minimum of the last size values pushed, in O(1)
// amortized time, with a monotonic queue.
type minWindow struct {
	size int
	n    int64 // values pushed
	q    []minEntry
}

type minEntry struct {
	at int64
	v  float64
}

func (w *minWindow) push(v float64) float64 {
	for len(w.q) > 0 && w.q[len(w.q)-1].v >= v {
		w.q = w.q[:len(w.q)-1]
	}
	w.q = append(w.q, minEntry{w.n, v})
	w.n++
	if w.q[0].at <= w.n-1-int64(w.size) {
		w.q = w.q[1:]
	}
	return w.q[0].v
}
