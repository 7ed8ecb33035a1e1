package speech

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sync"
	"time"
)

// StreamOptions configure a Stream. A nil *StreamOptions means all
// defaults; the zero value of each field means its default.
type StreamOptions struct {
	// Format is the audio Write receives; default pcm_s16le, 16 kHz, mono.
	Format Format
	// Step is how much new speech triggers the next engine call; default
	// 1 s. Silence does not count, so a silent session never calls the
	// engine.
	Step time.Duration
	// MaxWindow is the longest audio window the engine ever sees; when the
	// uncommitted audio reaches it, everything but a possibly cut last word
	// is committed; default 15 s.
	MaxWindow time.Duration
	// EndSilence is how long the voice activity detector must hear silence
	// after speech before the pending text is committed in full; default
	// 500 ms.
	EndSilence time.Duration
	// PreRoll is how much audio before detected speech the window starts
	// with, because detectors open late on soft onsets such as "f" or "h";
	// default 300 ms.
	PreRoll time.Duration
	// MaxBuffer bounds the audio a stream holds; Write fails with
	// ErrBufferFull if the transcriber falls this far behind; default 60 s
	// (3.8 MB). It must exceed MaxWindow.
	MaxBuffer time.Duration
	// AudioCtxMargin is added to the window's length in encoder frames
	// (20 ms each) to form Options.AudioCtx; default 16 (320 ms).
	AudioCtxMargin int
	// Threads is passed to the engine as Options.Threads.
	Threads int
	// Vocabulary is the initial domain vocabulary (drug and condition
	// names) put in the prompt; SetVocabulary replaces it.
	Vocabulary []string
	// Detector scores frames for voice activity; default a new
	// EnergyDetector. Each Stream needs its own.
	Detector VoiceDetector
	// VAD tunes onset and hangover; nil means defaults.
	VAD *VADOptions
	// Guards tune the hallucination guards; nil means defaults.
	Guards *GuardOptions
}

// CommitReason says why words were committed.
type CommitReason string

// Reasons for a commit.
const (
	// CommitAgreement: two consecutive hypotheses agreed on the words.
	CommitAgreement CommitReason = "agreement"
	// CommitEndOfSpeech: the speaker paused for EndSilence.
	CommitEndOfSpeech CommitReason = "end_of_speech"
	// CommitMaxWindow: the uncommitted audio reached MaxWindow.
	CommitMaxWindow CommitReason = "max_window"
	// CommitStop: the stream was stopped.
	CommitStop CommitReason = "stop"
)

// Event is a Partial or a Final.
type Event interface{ isEvent() }

// Partial is the uncommitted tail of the transcript: the words after the
// last Final, which the next step may still change. Each Partial replaces
// the previous one; an empty Text clears it. Times are session audio time.
type Partial struct {
	Text       string
	Start, End time.Duration
}

// Final is committed text. It never changes; Finals are numbered from 0 in
// order, and the transcript is their texts joined with spaces. Start, End
// and the words' times are session audio time, and never decrease from one
// word or Final to the next.
type Final struct {
	SegmentID  int
	Text       string
	Start, End time.Duration
	Words      []Word
	// At is the session audio time at which the commit was decided, so
	// At − a word's End is the commit latency in audio time, before
	// compute time is added.
	At     time.Duration
	Reason CommitReason
}

func (Partial) isEvent() {}
func (Final) isEvent()   {}

// StreamStats are counters for metrics and tests.
type StreamStats struct {
	Audio       time.Duration // audio received, at 16 kHz
	Buffered    time.Duration // audio held now
	MaxBuffered time.Duration // most audio ever held at once
	EngineCalls int
	EngineAudio time.Duration // total length of the windows transcribed
	Finals      int
	Forced      int // Finals committed for end of speech, max window or stop
	Clipped     int64
	Guards      GuardStats
}

// Stream turns a session's audio into committed and partial transcript
// text with LocalAgreement-2 over a growing window of uncommitted audio.
//
// Goroutines: audio arrives on one goroutine (the reader), which calls
// Write, WriteSamples and SetFormat; these never wait for the engine. A
// second goroutine (the transcriber) waits on Ready, calls Step while Due,
// and finally calls Stop; Step and Stop run the engine and are serialized
// with each other. Due, Ready, SetVocabulary and Stats may be called from
// any goroutine. Writes after Stop fail with ErrStopped.
type Stream struct {
	engine Engine
	guard  *guard
	// Options in 16 kHz samples.
	step, maxWin, endSil, preRoll int64
	ctxMargin, threads            int

	ready  chan struct{}
	stepMu sync.Mutex // held by Step and Stop for their whole run

	mu       sync.Mutex
	dec      *Decoder
	ring     *ring
	vad      *VAD
	scratch  []float32
	err      error // sticky: the stream lost audio
	stopped  bool
	vocab    []string
	bufStart int64  // audio before it is committed, or was silence
	stepEnd  int64  // end of the last window the engine saw
	pending  []Word // uncommitted words of the latest hypothesis
	lastEnd  int64  // end of the last committed word
	tail     []Word // the last committed words, for the prompt and overlap
	tailText string
	nextID   int
	partial  string
	stats    StreamStats
}

// NewStream returns a stream that transcribes with engine.
func NewStream(engine Engine, opts *StreamOptions) (*Stream, error) {
	var o StreamOptions
	if opts != nil {
		o = *opts
	}
	if o.Format == (Format{}) {
		o.Format = Format{Encoding: EncodingS16LE, SampleRate: SampleRate, Channels: 1}
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&o.Step, time.Second)
	def(&o.MaxWindow, 15*time.Second)
	def(&o.EndSilence, 500*time.Millisecond)
	def(&o.PreRoll, 300*time.Millisecond)
	def(&o.MaxBuffer, 60*time.Second)
	if o.AudioCtxMargin == 0 {
		o.AudioCtxMargin = 16
	}
	if o.MaxBuffer < o.MaxWindow+o.Step {
		return nil, fmt.Errorf("new stream: MaxBuffer %v must exceed MaxWindow %v plus Step %v", o.MaxBuffer, o.MaxWindow, o.Step)
	}
	if engine == nil {
		return nil, errors.New("new stream: nil engine")
	}
	dec, err := NewDecoder(o.Format)
	if err != nil {
		return nil, fmt.Errorf("new stream: %w", err)
	}
	vad, err := NewVAD(o.Detector, o.VAD)
	if err != nil {
		return nil, fmt.Errorf("new stream: %w", err)
	}
	return &Stream{
		engine:    engine,
		guard:     newGuard(o.Guards),
		step:      timeSamples(o.Step),
		maxWin:    timeSamples(o.MaxWindow),
		endSil:    timeSamples(o.EndSilence),
		preRoll:   timeSamples(o.PreRoll),
		ctxMargin: o.AudioCtxMargin,
		threads:   o.Threads,
		ready:     make(chan struct{}, 1),
		dec:       dec,
		ring:      newRing(int(timeSamples(o.MaxBuffer))),
		vad:       vad,
		vocab:     cleanVocabulary(o.Vocabulary),
	}, nil
}

// Write decodes one binary frame of audio in the stream's format and
// appends it. A malformed frame (ErrFrameLength, ErrNonFinite) is rejected
// whole and the stream stays usable. ErrBufferFull means audio was lost;
// the stream then refuses all further audio.
func (s *Stream) Write(frame []byte) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	out, err := s.dec.Decode(s.scratch[:0], frame)
	if err != nil {
		return fmt.Errorf("stream write: %w", err)
	}
	s.scratch = out[:0]
	return s.append(out)
}

// WriteSamples appends 16 kHz mono samples in -1..1 (values beyond are
// clamped and counted as clipped); NaN or ±Inf rejects the whole call with
// ErrNonFinite. Audio the decoder still holds from Write is flushed first,
// so the two can be mixed without a gap in the time base.
func (s *Stream) WriteSamples(samples []float32) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	out := s.dec.Flush(s.scratch[:0])
	for i, v := range samples {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			return fmt.Errorf("stream write samples: sample %d is %v: %w", i, v, ErrNonFinite)
		}
	}
	for _, v := range samples {
		if v >= 1 || v <= -1 {
			s.dec.clipped++
		}
		out = append(out, clamp1(v))
	}
	s.scratch = out[:0]
	return s.append(out)
}

// SetFormat changes the format of later Write frames, as when a client
// switches sample rate mid-session. Audio already received keeps its place
// in the time base; see Decoder.SetFormat.
func (s *Stream) SetFormat(f Format) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.writable(); err != nil {
		return err
	}
	out, err := s.dec.SetFormat(s.scratch[:0], f)
	if err != nil {
		return fmt.Errorf("stream: %w", err)
	}
	s.scratch = out[:0]
	return s.append(out)
}

// SetVocabulary replaces the domain vocabulary used in prompts from the
// next engine call on.
func (s *Stream) SetVocabulary(terms []string) {
	v := cleanVocabulary(terms)
	s.mu.Lock()
	s.vocab = v
	s.mu.Unlock()
}

func (s *Stream) writable() error {
	if s.stopped {
		return fmt.Errorf("stream write: %w", ErrStopped)
	}
	return s.err
}

// append adds decoded audio to the buffer and the VAD; mu is held.
func (s *Stream) append(samples []float32) error {
	if len(samples) == 0 {
		return nil
	}
	if err := s.ring.Append(samples); err != nil {
		s.err = fmt.Errorf("stream write: %w", err)
		return s.err
	}
	if err := s.vad.Write(samples); err != nil {
		s.err = fmt.Errorf("stream write: %w", err)
		return s.err
	}
	s.stats.Audio = sampleTime(s.ring.End())
	s.stats.MaxBuffered = max(s.stats.MaxBuffered, sampleTime(int64(s.ring.Len())))
	s.trim()
	if s.due() {
		select {
		case s.ready <- struct{}{}:
		default:
		}
	}
	return nil
}

// Ready delivers a value when a step may have become due. The channel
// holds at most one value; after receiving, call Step while Due reports
// true.
func (s *Stream) Ready() <-chan struct{} { return s.ready }

// Due reports whether Step has work: enough new speech, a pause after
// speech, or a full window.
func (s *Stream) Due() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.due()
}

// windowStart is where the next window begins: the commit point, or, with
// nothing pending, PreRoll before the next speech (or before the end of
// the audio while all is silence).
func (s *Stream) windowStart() int64 {
	ws := max(s.bufStart, s.ring.Start())
	if len(s.pending) > 0 {
		return ws
	}
	if at, ok := s.vad.firstSpeechAfter(ws); ok {
		return max(ws, at-s.preRoll)
	}
	return max(ws, s.vad.scored()-s.preRoll)
}

// untranscribed reports whether voiced audio arrived after the last window
// the engine saw.
func (s *Stream) untranscribed() bool {
	return s.vad.lastSpeechEnd() > s.stepEnd
}

// endOfSpeech reports whether the speaker has paused for EndSilence with
// text pending or speech not yet transcribed.
func (s *Stream) endOfSpeech() bool {
	last := s.vad.lastSpeechEnd()
	return !s.vad.InSpeech() && last >= 0 && s.vad.scored()-last >= s.endSil &&
		(len(s.pending) > 0 || s.untranscribed())
}

func (s *Stream) due() bool {
	if s.stopped || s.err != nil {
		return false
	}
	pos := s.vad.scored()
	ws := s.windowStart()
	fresh := s.vad.speechIn(max(ws, s.stepEnd), pos)
	switch {
	case fresh >= s.step:
		return true
	case pos-ws >= s.maxWin && fresh > 0:
		return true
	}
	return s.endOfSpeech()
}

// trim drops audio no window will need again; mu is held.
func (s *Stream) trim() {
	ws := s.windowStart()
	s.ring.TrimBefore(ws)
	s.vad.forget(ws)
	if len(s.pending) == 0 {
		s.bufStart = max(s.bufStart, ws)
	}
	s.stats.Buffered = sampleTime(int64(s.ring.Len()))
}

// window is one planned engine call.
type window struct {
	start, end int64
	reason     CommitReason // "" for an agreement step
	at         int64        // audio position when planned
	samples    []float32
	engine     bool // false: commit the pending words without a call
	prompt     string
}

// plan decides the next window; mu is held.
func (s *Stream) plan(stopping bool) window {
	pos := s.vad.scored()
	if stopping {
		pos = s.ring.End()
	}
	w := window{start: s.windowStart(), end: pos, at: pos, engine: true}
	switch {
	case stopping:
		w.reason = CommitStop
	case s.endOfSpeech():
		w.reason = CommitEndOfSpeech
		// Trailing silence invites invented text; give the engine the
		// speech and a short tail only.
		w.end = min(w.end, s.vad.lastSpeechEnd()+s.preRoll)
	}
	if w.end-w.start >= s.maxWin {
		w.end = w.start + s.maxWin
		w.reason = CommitMaxWindow
	}
	if w.reason == CommitEndOfSpeech || w.reason == CommitStop {
		if !s.untranscribed() {
			// The engine has already seen all the speech: what it said
			// last is the answer.
			w.engine = false
		}
	}
	if w.end <= w.start || s.vad.speechIn(w.start, w.end) == 0 {
		w.engine = false
	}
	return w
}

// Step runs the engine on the uncommitted window if work is due and
// returns the events it produced (none if nothing was due). Call it from
// the transcriber goroutine. If the engine fails, the stream is unchanged
// and the step can be retried.
func (s *Stream) Step(ctx context.Context) ([]Event, error) {
	s.stepMu.Lock()
	defer s.stepMu.Unlock()
	s.mu.Lock()
	if !s.due() {
		s.mu.Unlock()
		return nil, nil
	}
	w := s.plan(false)
	s.mu.Unlock()
	return s.run(ctx, w)
}

// Stop ends the stream: the audio held back by the resampler and the VAD
// is flushed, the remaining speech is transcribed, and all pending text is
// committed. Call it from the transcriber goroutine once the reader is
// done; later calls return nothing. If the engine fails, the pending words
// of the last hypothesis are committed anyway and the error is returned
// with the events.
func (s *Stream) Stop(ctx context.Context) ([]Event, error) {
	s.stepMu.Lock()
	defer s.stepMu.Unlock()
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil, nil
	}
	var ferr error
	if s.err == nil {
		tail := s.dec.Flush(s.scratch[:0])
		ferr = s.append(tail)
	}
	if err := s.vad.Flush(); err != nil && ferr == nil {
		ferr = fmt.Errorf("stream stop: %w", err)
	}
	s.stopped = true
	var events []Event
	for {
		w := s.plan(true)
		s.mu.Unlock()
		ev, err := s.run(ctx, w)
		events = append(events, ev...)
		s.mu.Lock()
		if err != nil {
			events = append(events, s.commit(w, s.pending, CommitStop)...)
			s.mu.Unlock()
			return events, err
		}
		if !s.untranscribed() || !w.engine {
			break
		}
	}
	events = append(events, s.commit(window{at: s.ring.End()}, s.pending, CommitStop)...)
	s.mu.Unlock()
	return events, ferr
}

// run carries out a planned window: the engine call without the lock,
// then the commit decision with it.
func (s *Stream) run(ctx context.Context, w window) ([]Event, error) {
	var segs []Segment
	if w.engine {
		s.mu.Lock()
		var err error
		w.samples, err = s.ring.Read(nil, w.start, w.end)
		w.prompt = buildPrompt(s.vocab, s.tailText)
		s.mu.Unlock()
		if err != nil {
			return nil, fmt.Errorf("stream step: %w", err)
		}
		n := len(w.samples)
		segs, err = s.engine.Transcribe(ctx, w.samples, Options{
			Prompt:   w.prompt,
			AudioCtx: min(1500, (n+encoderFrame-1)/encoderFrame+s.ctxMargin),
			Threads:  s.threads,
			Offset:   sampleTime(w.start),
		})
		if err != nil {
			return nil, fmt.Errorf("stream step: transcribe %v of audio at %v: %w",
				sampleTime(int64(n)), sampleTime(w.start), err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if !w.engine {
		if w.reason == "" {
			return nil, nil
		}
		return s.commit(w, s.pending, w.reason), nil
	}
	s.stats.EngineCalls++
	s.stats.EngineAudio += sampleTime(w.end - w.start)
	hyp := s.hypothesis(w, segs)
	s.stepEnd = max(s.stepEnd, w.end)
	switch w.reason {
	case CommitEndOfSpeech, CommitStop:
		ev := s.commit(w, hyp, w.reason)
		s.bufStart = max(s.bufStart, w.end)
		s.trim()
		return ev, nil
	case CommitMaxWindow:
		n := len(hyp)
		// A word that runs into the window's end was probably cut; it goes
		// to the next window unless that would leave too little progress.
		if n > 0 && hyp[n-1].End >= sampleTime(w.end)-cutWordMargin &&
			hyp[n-1].Start > sampleTime(w.start+s.maxWin/2) {
			n--
		}
		ev := s.commit(w, hyp[:n], w.reason)
		s.pending = hyp[n:]
		// The next window starts at the cut word, or after this window if
		// nothing survived the guards: either way at least half a window
		// further on, so a stream that never agrees still moves forward.
		next := w.end
		if len(s.pending) > 0 {
			next = timeSamples(s.pending[0].Start) - timeSamples(cutBackoff)
		}
		s.bufStart = max(s.bufStart, next)
		ev = append(ev, s.updatePartial()...)
		s.trim()
		return ev, nil
	}
	n := agreedPrefix(s.pending, hyp)
	ev := s.commit(w, hyp[:n], CommitAgreement)
	s.pending = hyp[n:]
	ev = append(ev, s.updatePartial()...)
	s.trim()
	return ev, nil
}

// encoderFrame is whisper's encoder resolution: 1500 frames for 30 s.
const encoderFrame = SampleRate * 30 / 1500

// cutWordMargin: a word ending this close to a forced cut may be cut.
const cutWordMargin = 200 * time.Millisecond

// cutBackoff is how far before a committed word's end the audio is cut.
const cutBackoff = 80 * time.Millisecond

// hypothesis turns engine output into guarded words in session time,
// ordered, inside the window and after the committed text; mu is held.
func (s *Stream) hypothesis(w window, segs []Segment) []Word {
	off := sampleTime(w.start)
	share := func(a, b time.Duration) float64 {
		from, to := w.start+timeSamples(a), w.start+timeSamples(b)
		if to <= from {
			return 0
		}
		return float64(s.vad.voicedIn(from, to)) / float64(to-from)
	}
	words := s.guard.words(segs, share, &s.stats.Guards)
	lo, hi := max(sampleTime(s.lastEnd), off), sampleTime(w.end)
	out := make([]Word, 0, len(words))
	prev := lo
	for _, wd := range words {
		// Session times sit on the sample grid, like the commit point.
		wd.Start = min(max(onGrid(wd.Start+off), prev), hi)
		wd.End = min(max(onGrid(wd.End+off), wd.Start), hi)
		// A word that lies within the committed audio was heard again
		// across the cut; it is already in the transcript.
		if len(s.tail) > 0 && wd.End <= sampleTime(s.lastEnd)+overlapTolerance && len(out) == 0 {
			continue
		}
		out = append(out, wd)
		prev = wd.End
	}
	if k := overlapWithTail(s.tail, out); k > 0 && out[0].Start-sampleTime(s.lastEnd) < time.Second {
		out = out[k:]
	}
	return out
}

func onGrid(d time.Duration) time.Duration { return sampleTime(timeSamples(d)) }

// overlapTolerance: words ending this little after the last committed word
// lie inside audio that was already transcribed.
const overlapTolerance = 50 * time.Millisecond

// maxTailWords bounds the committed words a stream remembers.
const maxTailWords = 64

// commit emits ws as a Final and moves the commit point past them; mu is
// held.
func (s *Stream) commit(w window, ws []Word, reason CommitReason) []Event {
	if len(ws) == 0 {
		if reason != CommitAgreement && reason != CommitMaxWindow {
			s.pending = nil
			return s.updatePartial()
		}
		return nil
	}
	words := append([]Word(nil), ws...)
	f := Final{
		SegmentID: s.nextID,
		Text:      joinWords(words),
		Start:     words[0].Start,
		End:       words[len(words)-1].End,
		Words:     words,
		At:        sampleTime(w.at),
		Reason:    reason,
	}
	s.nextID++
	s.stats.Finals++
	if reason != CommitAgreement {
		s.stats.Forced++
	}
	s.lastEnd = timeSamples(f.End)
	// Word ends are approximate: cut the audio a little before the last
	// committed word ends rather than risk cutting off the next word's
	// onset. A recognizer that hears the committed word's tail again
	// produces an overlap that hypothesis removes.
	s.bufStart = max(s.bufStart, s.lastEnd-timeSamples(cutBackoff))
	s.tail = append(s.tail, words...)
	if len(s.tail) > maxTailWords {
		s.tail = append(s.tail[:0:0], s.tail[len(s.tail)-maxTailWords:]...)
	}
	s.tailText = joinWords(s.tail)
	ev := []Event{f}
	if reason == CommitEndOfSpeech || reason == CommitStop {
		s.pending = nil
		ev = append(ev, s.updatePartial()...)
	}
	return ev
}

// updatePartial emits the pending words if they changed; mu is held.
func (s *Stream) updatePartial() []Event {
	text := joinWords(s.pending)
	if text == s.partial {
		return nil
	}
	s.partial = text
	p := Partial{Text: text, Start: sampleTime(s.lastEnd), End: sampleTime(s.lastEnd)}
	if len(s.pending) > 0 {
		p.Start, p.End = s.pending[0].Start, s.pending[len(s.pending)-1].End
	}
	return []Event{p}
}

// Stats returns the stream's counters.
func (s *Stream) Stats() StreamStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Clipped = s.dec.Clipped()
	return st
}
