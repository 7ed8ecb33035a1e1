package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/medscribe/medscribe/db"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/realtime/sched"
	"github.com/medscribe/medscribe/speech"
)

// Scheduler grants lanes for native compute (see package sched).
type Scheduler interface {
	Acquire(ctx context.Context, c sched.Class, session string) (release func(), err error)
	// Yield gives the lane to waiting work, if any, and takes it back.
	Yield(ctx context.Context, c sched.Class, session string, release func()) (func(), error)
}

// Config wires a Server. Zero durations and sizes take the defaults given.
type Config struct {
	Store     SessionStore
	Scheduler Scheduler
	// NewTranscriber makes one session's speech pipeline.
	NewTranscriber func(sessionID string) (Transcriber, error)
	// NewExtractor makes one session's extractor; patient is the
	// session's FHIR patient reference, "" when the client gave none.
	NewExtractor func(sessionID, patient string) (extract.Extractor, error)
	Log          *slog.Logger
	// OriginPatterns are the host patterns (as in websocket.AcceptOptions)
	// allowed to open sessions from a browser besides the server's own
	// host. Nil allows same-origin pages only; clients that send no Origin
	// header (not browsers) are always allowed.
	OriginPatterns []string
	// MaxMessageBytes bounds one client frame (default 1 MiB; 100 ms of
	// 48 kHz float audio is 19 KiB). Larger frames close the connection
	// with websocket.StatusMessageTooBig.
	MaxMessageBytes int64
	// PingInterval (default 15 s), WriteTimeout (default 10 s),
	// DrainTimeout: how long received audio may take to be transcribed and
	// extracted after the client stopped or vanished (default 2 min).
	PingInterval, WriteTimeout, DrainTimeout time.Duration
	// EventQueue is the number of events that may wait for a slow client
	// before the session is closed with CloseOverloaded (default 4096).
	EventQueue int
	// Describe what the session runs on; shown to the client.
	SpeechModel, Extractor string
	GeneratedModels        bool
	// NewID returns a fresh session id (default: 16 random bytes, hex).
	NewID func() string
}

// Server accepts sessions on GET /v1/listen.
type Server struct {
	cfg    Config
	base   context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// NewServer checks cfg and fills in defaults.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil || cfg.Scheduler == nil || cfg.NewTranscriber == nil || cfg.NewExtractor == nil {
		return nil, errors.New("realtime: Store, Scheduler, NewTranscriber and NewExtractor are required")
	}
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = 1 << 20
	}
	if cfg.PingInterval <= 0 {
		cfg.PingInterval = 15 * time.Second
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 10 * time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 2 * time.Minute
	}
	if cfg.EventQueue <= 0 {
		cfg.EventQueue = 4096
	}
	if cfg.NewID == nil {
		cfg.NewID = randomID
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{cfg: cfg, base: ctx, cancel: cancel}, nil
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// Shutdown tells live sessions to flush what they received and end, and
// waits for them or ctx.
func (s *Server) Shutdown(ctx context.Context) error {
	s.cancel()
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// formatFromQuery reads encoding (default pcm_s16le), sample_rate (default
// 16000) and channels (default 1).
func formatFromQuery(r *http.Request) (speech.Format, error) {
	q := r.URL.Query()
	f := speech.Format{Encoding: speech.EncodingS16LE, SampleRate: speech.SampleRate, Channels: 1}
	if v := q.Get("encoding"); v != "" {
		f.Encoding = speech.Encoding(v)
	}
	for _, p := range []struct {
		name string
		dst  *int
	}{{"sample_rate", &f.SampleRate}, {"channels", &f.Channels}} {
		v := q.Get(p.name)
		if v == "" {
			continue
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return f, fmt.Errorf("%s %q is not a number: %w", p.name, v, speech.ErrUnsupportedFormat)
		}
		*p.dst = n
	}
	return f, f.Validate()
}

// validPatientRef accepts a relative FHIR reference such as Patient/123.
func validPatientRef(ref string) bool {
	typ, id, ok := strings.Cut(ref, "/")
	if !ok || typ != "Patient" || id == "" || len(id) > 64 {
		return false
	}
	for _, c := range id {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// ServeHTTP upgrades the request and runs one session.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if s.base.Err() != nil {
		http.Error(w, "server is shutting down", http.StatusServiceUnavailable)
		return
	}
	conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{
		OriginPatterns:  s.cfg.OriginPatterns,
		CompressionMode: websocket.CompressionDisabled, // audio does not compress; save the CPU
	})
	if err != nil {
		s.cfg.Log.Warn("websocket upgrade refused", "err", err)
		return
	}
	conn.SetReadLimit(s.cfg.MaxMessageBytes)
	s.wg.Add(1)
	defer s.wg.Done()

	format, ferr := formatFromQuery(r)
	patient := r.URL.Query().Get("patient")
	if ferr == nil && patient != "" && !validPatientRef(patient) {
		ferr = fmt.Errorf("patient %q is not a reference of the form Patient/<id>", patient)
	}
	if ferr != nil {
		s.refuse(r.Context(), conn, ErrCodeUnsupportedFormat, ferr.Error(), CloseUnsupportedFormat)
		return
	}
	decoder, err := speech.NewDecoder(format)
	if err != nil {
		s.refuse(r.Context(), conn, ErrCodeUnsupportedFormat, err.Error(), CloseUnsupportedFormat)
		return
	}

	id := s.cfg.NewID()
	log := s.cfg.Log.With("session", id)
	ctx := r.Context()
	if err := s.cfg.Store.CreateSession(ctx, db.Session{
		ID: id, PatientRef: patient, Encoding: string(format.Encoding), SampleRate: format.SampleRate,
		SpeechModel: s.cfg.SpeechModel, Extractor: s.cfg.Extractor, GeneratedModels: s.cfg.GeneratedModels,
	}); err != nil {
		log.Error("create session", "err", err)
		s.refuse(ctx, conn, ErrCodeStorage, "could not create the session", CloseInternal)
		return
	}
	tr, err := s.cfg.NewTranscriber(id)
	if err != nil {
		log.Error("new transcriber", "err", err)
		s.cfg.Store.EndSession(ctx, id, db.StatusFailed, 0)
		s.refuse(ctx, conn, ErrCodeInternal, "speech recognition is not available", CloseInternal)
		return
	}
	defer tr.Close()
	ex, err := s.cfg.NewExtractor(id, patient)
	if err != nil {
		log.Error("new extractor", "err", err)
		s.cfg.Store.EndSession(ctx, id, db.StatusFailed, 0)
		s.refuse(ctx, conn, ErrCodeInternal, "extraction is not available", CloseInternal)
		return
	}
	defer ex.Close()

	sess := &Session{
		ID: id, conn: conn, log: log, store: s.cfg.Store, transcriber: tr, extractor: ex,
		decoder: decoder, cfg: &s.cfg,
		out: make(chan any, s.cfg.EventQueue), overflow: make(chan struct{}), items: map[string]bool{},
	}
	log.Info("session started", "encoding", format.Encoding, "sample_rate", format.SampleRate)
	sess.send(sessionStarted{Type: TypeSessionStarted, SessionID: id, SpeechModel: s.cfg.SpeechModel,
		Extractor: s.cfg.Extractor, GeneratedModels: s.cfg.GeneratedModels})
	// The session outlives neither the server nor the connection's reads,
	// but r.Context() ends when the handler returns, so run on the server's.
	sess.run(s.base)
	if sc, ok := s.cfg.Scheduler.(interface{ Forget(string) }); ok {
		sc.Forget(id)
	}
}

// refuse sends one error event and closes with code.
func (s *Server) refuse(ctx context.Context, conn *websocket.Conn, code, msg string, close websocket.StatusCode) {
	b, _ := jsonMarshal(errorEvent{Type: TypeError, Code: code, Message: msg})
	wctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	_ = conn.Write(wctx, websocket.MessageText, b)
	conn.Close(close, code)
}
