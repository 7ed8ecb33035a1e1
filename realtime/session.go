package realtime

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"

	"github.com/medscribe/medscribe/db"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/realtime/sched"
	"github.com/medscribe/medscribe/speech"
)

// TranscriptEvent is a partial or final piece of transcript in session
// audio time.
type TranscriptEvent struct {
	Final      bool
	SegmentID  int // finals only, from 1
	Text       string
	Start, End time.Duration
}

// Transcriber is one session's speech pipeline. Append is called by the
// reader goroutine only; Ready, Step and Stop by the transcribe goroutine
// only.
type Transcriber interface {
	// Append adds 16 kHz mono samples. It must not block on recognition;
	// it fails with an error wrapping speech.ErrBufferFull when audio
	// arrives faster than it can be transcribed for too long.
	Append(samples []float32) error
	// Ready is signalled when Step may have work to do.
	Ready() <-chan struct{}
	// Due reports whether Step has work to do now.
	Due() bool
	// Step runs recognition if it is due and returns the new events.
	Step(ctx context.Context) ([]TranscriptEvent, error)
	// Stop transcribes everything still buffered and commits it.
	Stop(ctx context.Context) ([]TranscriptEvent, error)
	// Close releases the recognizer state.
	Close() error
}

// SessionStore is what a session saves as it goes.
type SessionStore interface {
	CreateSession(ctx context.Context, s db.Session) error
	AddSegment(ctx context.Context, sessionID string, seg db.Segment, audioMS int64) error
	PutItem(ctx context.Context, sessionID string, it db.Item) error
	EndSession(ctx context.Context, id, status string, audioMS int64) error
}

// Session is one live dictation over one WebSocket connection.
//
// Run owns the connection. Inside it four goroutines cooperate: the reader
// alone calls conn.Read (binary frames are audio, text frames control);
// the transcribe loop alone touches the Transcriber's recognition side; the
// extract loop alone calls the Extractor; the writer alone calls
// conn.Write and sends pings. Committed text is saved before it is sent, and
// a client that disappears still has its received audio transcribed and
// saved.
type Session struct {
	ID          string
	conn        *websocket.Conn
	log         *slog.Logger
	store       SessionStore
	transcriber Transcriber
	extractor   extract.Extractor
	decoder     *speech.Decoder
	cfg         *Config

	out      chan any      // to the writer
	overflow chan struct{} // closed when out overflowed
	ovOnce   sync.Once

	mu          sync.Mutex
	audio       time.Duration // received, at 16 kHz
	segments    int
	items       map[string]bool
	status      string // first non-normal ending, "" for a normal end
	closeCode   websocket.StatusCode
	closeReason string
}

// errStop ends the reader when the client asked to stop.
var errStop = errors.New("client sent stop")

// send queues an event for the writer without blocking. A client that
// does not read its events fills the queue; the session then ends with
// CloseOverloaded rather than stalling recognition or dropping events.
func (s *Session) send(ev any) {
	select {
	case s.out <- ev:
	default:
		s.ovOnce.Do(func() { close(s.overflow) })
	}
}

func (s *Session) sendError(code, msg string) {
	s.send(errorEvent{Type: TypeError, Code: code, Message: msg})
}

// run drives the session until the client stops, goes away, or ctx (the
// server) ends. It returns the final status.
func (s *Session) run(ctx context.Context) string {
	// Reads and writes end only when the session is over: cancelling a
	// read context would close the connection before the client hears
	// how its session ended.
	connCtx, cancelConn := context.WithCancel(context.Background())
	defer cancelConn()
	// Recognition and extraction continue after the client is gone, so
	// that received audio is not lost, but not beyond the drain limit.
	workCtx, cancelWork := context.WithCancel(context.Background())
	defer cancelWork()

	segs := newQueue[extract.Segment]()
	stopped := make(chan struct{}) // the reader saw stop or the end of the connection
	flush := make(chan struct{})   // stop, client gone, or server shutting down
	var flushOnce sync.Once
	startFlush := func() { flushOnce.Do(func() { close(flush) }) }

	writerDone := make(chan error, 1)
	go func() { writerDone <- s.writer(connCtx) }()

	readerDone := make(chan struct{})
	go func() {
		defer close(readerDone)
		err := s.reader(connCtx)
		switch {
		case errors.Is(err, errStop):
		case errors.Is(err, speech.ErrBufferFull):
			s.setStatus(db.StatusDisconnected)
			s.setClose(CloseOverloaded, "audio faster than real time")
			s.sendError(ErrCodeOverloaded, "audio arrives faster than it can be transcribed")
		case errors.Is(err, speech.ErrStopped):
			// Audio after the flush began (server shutdown): not accepted.
		default:
			s.log.Info("client gone", "err", err)
			s.setStatus(db.StatusDisconnected)
		}
		close(stopped)
		startFlush()
	}()
	go func() {
		select {
		case <-ctx.Done():
			s.setStatus(db.StatusInterrupted)
			s.setClose(CloseShutdown, "server stopping")
			startFlush()
		case <-stopped:
		}
	}()

	g, gctx := errgroup.WithContext(workCtx)
	g.Go(func() error {
		defer segs.close()
		return s.transcribeLoop(gctx, flush, segs)
	})
	g.Go(func() error { return s.extractLoop(gctx, segs) })

	// Drain limit: once flushing starts, the remaining work gets a bounded
	// time.
	go func() {
		select {
		case <-flush:
		case <-gctx.Done():
			return
		}
		select {
		case <-time.After(s.cfg.DrainTimeout):
			s.log.Warn("drain timeout; abandoning unfinished work")
			cancelWork()
		case <-gctx.Done():
		}
	}()
	go func() {
		select {
		case <-s.overflow:
			s.log.Warn("client not reading events; closing")
			s.setStatus(db.StatusDisconnected)
			s.conn.Close(CloseOverloaded, "event queue overflow")
		case <-gctx.Done():
		}
	}()

	err := g.Wait()
	if err != nil && !errors.Is(err, context.Canceled) {
		s.log.Error("session failed", "err", err)
		s.setStatus(db.StatusFailed)
		s.setClose(CloseInternal, "internal error")
		s.sendError(ErrCodeInternal, "the session failed; what was committed is saved")
	}
	final := s.getStatus()

	s.mu.Lock()
	audioMS := s.audio.Milliseconds()
	nseg, nitem := s.segments, len(s.items)
	s.mu.Unlock()
	if err := s.store.EndSession(context.Background(), s.ID, final, audioMS); err != nil {
		s.log.Error("end session", "err", err)
	}
	s.send(sessionEnded{Type: TypeSessionEnded, SessionID: s.ID, Status: final,
		BundleURL: "/api/sessions/" + s.ID + "/bundle", Segments: nseg, Items: nitem})
	close(s.out)
	<-writerDone
	code, reason := s.getClose()
	s.conn.Close(code, reason)
	cancelConn()
	<-readerDone
	s.log.Info("session done", "status", final, "audio_ms", audioMS, "segments", nseg, "items", nitem)
	return final
}

func (s *Session) setStatus(st string) {
	s.mu.Lock()
	if s.status == "" {
		s.status = st
	}
	s.mu.Unlock()
}

func (s *Session) getStatus() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.status == "" {
		return db.StatusEnded
	}
	return s.status
}

// setClose records the first reason to close other than a normal end.
func (s *Session) setClose(code websocket.StatusCode, reason string) {
	s.mu.Lock()
	if s.closeCode == 0 {
		s.closeCode, s.closeReason = code, reason
	}
	s.mu.Unlock()
}

func (s *Session) getClose() (websocket.StatusCode, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closeCode == 0 {
		return websocket.StatusNormalClosure, "session ended"
	}
	return s.closeCode, s.closeReason
}

// reader reads frames until stop, an error, or the end of the connection.
func (s *Session) reader(ctx context.Context) error {
	buf := make([]float32, 0, 8192)
	for {
		typ, data, err := s.conn.Read(ctx)
		if err != nil {
			return err
		}
		switch typ {
		case websocket.MessageBinary:
			buf, err = s.decoder.Decode(buf[:0], data)
			if err != nil {
				code := ErrCodeBadFrame
				if errors.Is(err, speech.ErrNonFinite) {
					code = ErrCodeBadSamples
				}
				s.sendError(code, err.Error())
				continue
			}
			if err := s.transcriber.Append(buf); err != nil {
				return err
			}
			s.mu.Lock()
			s.audio += time.Duration(len(buf)) * time.Second / speech.SampleRate
			s.mu.Unlock()
		case websocket.MessageText:
			var c control
			if err := json.Unmarshal(data, &c); err != nil {
				s.sendError(ErrCodeBadJSON, "control message is not a JSON object: "+trimErr(err))
				continue
			}
			switch c.Type {
			case TypeStop:
				// Keep reading in the background so pongs and the close
				// handshake are still processed; any further data message
				// closes the connection as a policy violation.
				s.conn.CloseRead(context.WithoutCancel(ctx))
				if tail := s.decoder.Flush(buf[:0]); len(tail) > 0 {
					if err := s.transcriber.Append(tail); err != nil {
						return err
					}
				}
				return errStop
			case TypeKeepalive:
			default:
				s.sendError(ErrCodeUnknownType, fmt.Sprintf("unknown control message type %q (want stop or keepalive)", c.Type))
			}
		}
	}
}

// trimErr keeps JSON error messages short and free of echoed input.
func trimErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at byte %d", se.Offset)
	}
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return "expected an object with a string field \"type\""
	}
	return "invalid JSON"
}

// transcribeLoop steps recognition when audio is due and, once the reader
// has stopped, flushes everything.
func (s *Session) transcribeLoop(ctx context.Context, flush <-chan struct{}, segs *queue[extract.Segment]) error {
	step := func(final bool) error {
		release, err := s.cfg.Scheduler.Acquire(ctx, sched.Speech, s.ID)
		if err != nil {
			return err
		}
		var evs []TranscriptEvent
		if final {
			evs, err = s.transcriber.Stop(ctx)
		} else {
			evs, err = s.transcriber.Step(ctx)
		}
		release()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Error("transcription failed", "err", err)
			s.sendError(ErrCodeTranscription, "speech recognition failed for this stretch of audio")
			return nil
		}
		return s.emitTranscript(ctx, evs, segs)
	}
	for {
		select {
		case <-s.transcriber.Ready():
			// Ready coalesces signals: step until nothing is due.
			for s.transcriber.Due() {
				if err := step(false); err != nil {
					return err
				}
				if ctx.Err() != nil {
					return ctx.Err()
				}
			}
		case <-flush:
			return step(true)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Session) emitTranscript(ctx context.Context, evs []TranscriptEvent, segs *queue[extract.Segment]) error {
	for _, ev := range evs {
		if !ev.Final {
			s.send(transcriptPartial{Type: TypeTranscriptPartial, Text: ev.Text, Start: seconds(ev.Start), End: seconds(ev.End)})
			continue
		}
		s.mu.Lock()
		audioMS := s.audio.Milliseconds()
		s.mu.Unlock()
		// Saved before it is shown: what the clinician saw is on disk.
		if err := s.store.AddSegment(context.WithoutCancel(ctx), s.ID, db.Segment{
			Seq: ev.SegmentID, Text: ev.Text, StartMS: ev.Start.Milliseconds(), EndMS: ev.End.Milliseconds(),
		}, audioMS); err != nil {
			s.sendError(ErrCodeStorage, "could not save a transcript segment")
			return fmt.Errorf("save segment: %w", err)
		}
		s.mu.Lock()
		s.segments++
		s.mu.Unlock()
		s.send(transcriptFinal{Type: TypeTranscriptFinal, SegmentID: ev.SegmentID, Text: ev.Text,
			Start: seconds(ev.Start), End: seconds(ev.End)})
		segs.push(extract.Segment{ID: ev.SegmentID, Text: ev.Text, Start: ev.Start, End: ev.End})
	}
	return nil
}

// extractLoop feeds committed segments in order to the extractor. A
// staged extractor's quick pass (pure Go, milliseconds) runs first and its
// items go out at once; the native pass runs under an extraction lane.
func (s *Session) extractLoop(ctx context.Context, segs *queue[extract.Segment]) error {
	staged, _ := s.extractor.(extract.Staged)
	light, _ := s.extractor.(extract.Light)
	for {
		seg, ok := segs.pop(ctx)
		if !ok {
			return ctx.Err()
		}
		if staged != nil {
			items, err := staged.Quick(ctx, seg)
			if err != nil {
				s.extractFailed(seg, err)
			} else if err := s.emitItems(ctx, items); err != nil {
				return err
			}
		}
		release := func() {}
		fctx := ctx
		if light == nil || !light.Light() {
			var err error
			if release, err = s.cfg.Scheduler.Acquire(ctx, sched.Extract, s.ID); err != nil {
				return err
			}
			// A model's answer can take seconds: between tokens it lets
			// waiting speech take the lane, so words keep appearing.
			fctx = extract.WithYield(ctx, func(ctx context.Context) error {
				r, err := s.cfg.Scheduler.Yield(ctx, sched.Extract, s.ID, release)
				if err != nil {
					release = func() {}
					return err
				}
				release = r
				return nil
			})
		}
		items, err := s.extractor.Feed(fctx, seg, func(p extract.Partial) {
			s.send(itemPartial{Type: TypeItemPartial, ItemID: p.ItemID, Kind: p.Kind, Fields: p.Fields})
		})
		release()
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.extractFailed(seg, err)
			continue
		}
		if err := s.emitItems(ctx, items); err != nil {
			return err
		}
	}
}

func (s *Session) extractFailed(seg extract.Segment, err error) {
	s.log.Error("extraction failed", "segment", seg.ID, "err", err)
	s.sendError(ErrCodeExtraction, fmt.Sprintf("extraction failed for segment %d; its transcript is saved", seg.ID))
}

// emitItems saves items, then sends them.
func (s *Session) emitItems(ctx context.Context, items []extract.Item) error {
	for _, it := range items {
		if err := s.store.PutItem(context.WithoutCancel(ctx), s.ID, db.Item{
			ItemID: it.ID, Kind: it.Kind, Resource: it.Resource, Validation: it.Validation,
			Source: it.Source, SegmentSeq: it.SegmentID,
		}); err != nil {
			s.sendError(ErrCodeStorage, "could not save an item")
			return fmt.Errorf("save item: %w", err)
		}
		s.mu.Lock()
		s.items[it.ID] = true
		s.mu.Unlock()
		s.send(itemFinal{Type: TypeItemFinal, ItemID: it.ID, Kind: it.Kind, Resource: it.Resource,
			Validation: it.Validation, Source: it.Source, SegmentID: it.SegmentID, Notes: it.Notes})
	}
	return nil
}

// writer alone writes to the connection, and pings while idle so that
// proxies keep it open and a dead peer is noticed.
func (s *Session) writer(ctx context.Context) error {
	ping := time.NewTicker(s.cfg.PingInterval)
	defer ping.Stop()
	for {
		select {
		case ev, ok := <-s.out:
			if !ok {
				return nil
			}
			b, err := json.Marshal(ev)
			if err != nil {
				return fmt.Errorf("encode event: %w", err)
			}
			wctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
			err = s.conn.Write(wctx, websocket.MessageText, b)
			cancel()
			if err != nil {
				// Keep draining so senders never block; the events are
				// already saved where it matters.
				for range s.out {
				}
				return err
			}
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, s.cfg.WriteTimeout)
			_ = s.conn.Ping(pctx)
			cancel()
		}
	}
}

// queue is an unbounded FIFO between the transcribe and extract loops:
// committed text is never dropped, however slow extraction is.
type queue[T any] struct {
	mu     sync.Mutex
	items  []T
	closed bool
	signal chan struct{}
}

func newQueue[T any]() *queue[T] { return &queue[T]{signal: make(chan struct{}, 1)} }

func (q *queue[T]) push(v T) {
	q.mu.Lock()
	q.items = append(q.items, v)
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

func (q *queue[T]) close() {
	q.mu.Lock()
	q.closed = true
	q.mu.Unlock()
	select {
	case q.signal <- struct{}{}:
	default:
	}
}

// pop returns the next item, or false once the queue is closed and empty
// or ctx ends.
func (q *queue[T]) pop(ctx context.Context) (T, bool) {
	for {
		q.mu.Lock()
		if len(q.items) > 0 {
			v := q.items[0]
			q.items = q.items[1:]
			q.mu.Unlock()
			return v, true
		}
		closed := q.closed
		q.mu.Unlock()
		var zero T
		if closed {
			return zero, false
		}
		select {
		case <-q.signal:
		case <-ctx.Done():
			return zero, false
		}
	}
}
