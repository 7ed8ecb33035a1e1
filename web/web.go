// Package web serves medscribe's pages (templ) and its HTTP API over stored
// sessions. Handlers hold no application logic: they call the small
// interfaces declared here, which cmd/medscribe wires to the database,
// the extractor and the FHIR builders.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/a-h/templ"

	"github.com/medscribe/medscribe/db"
)

//go:embed static
var static embed.FS

// SessionReader reads saved sessions.
type SessionReader interface {
	Sessions(ctx context.Context, limit int) ([]db.Session, error)
	Session(ctx context.Context, id string) (db.Session, error)
	Segments(ctx context.Context, id string) ([]db.Segment, error)
	Items(ctx context.Context, id string) ([]db.Item, error)
}

// BundleFunc builds a session's FHIR transaction Bundle.
type BundleFunc func(ctx context.Context, s db.Session, items []db.Item) (json.RawMessage, error)

// TextRequest is the body of POST /api/process-medical-text.
type TextRequest struct {
	Transcript   string `json:"transcript"`
	ValidateFHIR *bool  `json:"validate_fhir,omitempty"` // default true
	UseFallback  *bool  `json:"use_fallback,omitempty"`  // default true: repair codes from the terminology
}

// TextResult is what a TextProcessor returns.
type TextResult struct {
	Medications []json.RawMessage `json:"medications"`
	Conditions  []json.RawMessage `json:"conditions"`
	// Other holds resources that are neither (allergies, family history).
	Other      []json.RawMessage `json:"other,omitempty"`
	Validation json.RawMessage   `json:"validation,omitempty"`
}

// TextProcessor extracts items from a whole transcript.
type TextProcessor interface {
	ProcessText(ctx context.Context, req TextRequest) (TextResult, error)
}

// ModelInfo describes the models in use.
type ModelInfo struct {
	SpeechModel     string `json:"speech_model"`
	SpeechPath      string `json:"speech_model_path,omitempty"`
	GeneratedSpeech bool   `json:"speech_model_generated"`
	Extractor       string `json:"extractor"`
	LLMModel        string `json:"llm_model,omitempty"`
	GeneratedLLM    bool   `json:"llm_model_generated"`
	Terminology     string `json:"terminology"`
	Threads         int    `json:"threads_per_job"`
	Lanes           int    `json:"compute_lanes"`
}

// Config wires the handlers.
type Config struct {
	Sessions SessionReader
	Bundle   BundleFunc
	Text     TextProcessor
	Info     ModelInfo
	// Listen serves GET /v1/listen (the realtime server).
	Listen http.Handler
	// Metrics returns a JSON-encodable snapshot for GET /api/metrics.
	Metrics func() any
	Log     *slog.Logger
	// MaxBodyBytes bounds request bodies (default 1 MiB).
	MaxBodyBytes int64
}

// Handler returns the HTTP handler for everything medscribe serves.
func Handler(cfg Config) http.Handler {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	if cfg.MaxBodyBytes <= 0 {
		cfg.MaxBodyBytes = 1 << 20
	}
	h := &handler{cfg: cfg}
	mux := http.NewServeMux()
	sub, _ := fs.Sub(static, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(sub)))
	mux.HandleFunc("GET /{$}", h.index)
	mux.HandleFunc("GET /sessions", h.sessionList)
	mux.HandleFunc("GET /sessions/{id}", h.sessionView)
	mux.HandleFunc("GET /api/health", h.health)
	mux.HandleFunc("GET /api/model-info", h.modelInfo)
	mux.HandleFunc("POST /api/process-medical-text", h.processText)
	mux.HandleFunc("GET /api/sessions", h.apiSessions)
	mux.HandleFunc("GET /api/sessions/{id}", h.apiSession)
	mux.HandleFunc("GET /api/sessions/{id}/bundle", h.apiBundle)
	if cfg.Metrics != nil {
		mux.HandleFunc("GET /api/metrics", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, cfg.Metrics()) })
	}
	if cfg.Listen != nil {
		mux.Handle("GET /v1/listen", cfg.Listen)
	}
	return secure(mux)
}

// secure sets headers every response carries: pages load scripts only from
// this server, nothing is cached (responses hold patient data), and no
// referrer leaves the machine.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hd := w.Header()
		hd.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'")
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("Referrer-Policy", "no-referrer")
		hd.Set("Cache-Control", "no-store")
		hd.Set("Permissions-Policy", "microphone=(self)")
		next.ServeHTTP(w, r)
	})
}

type handler struct{ cfg Config }

// apiError is the body of every failed API response.
type apiError struct {
	Success bool `json:"success"`
	Error   struct {
		Code    string `json:"code"`
		Message string `json:"message"`
	} `json:"error"`
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v)
}

func writeFHIR(w http.ResponseWriter, v json.RawMessage) {
	w.Header().Set("Content-Type", "application/fhir+json")
	w.WriteHeader(http.StatusOK)
	w.Write(v)
}

func (h *handler) fail(w http.ResponseWriter, status int, code, msg string, err error) {
	if status >= 500 && err != nil {
		h.cfg.Log.Error("request failed", "code", code, "err", err)
	}
	var e apiError
	e.Error.Code, e.Error.Message = code, msg
	writeJSON(w, status, e)
}

// failLookup maps a store error to 404 or 500.
func (h *handler) failLookup(w http.ResponseWriter, err error) {
	if errors.Is(err, db.ErrNotFound) {
		h.fail(w, http.StatusNotFound, "not_found", "no such session", nil)
		return
	}
	h.fail(w, http.StatusInternalServerError, "internal", "could not read the session", err)
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, title string, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := Layout(title, c).Render(r.Context(), w); err != nil {
		h.cfg.Log.Error("render", "page", title, "err", err)
	}
}

func (h *handler) index(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, "Dictate", Index(h.cfg.Info))
}

func (h *handler) sessionList(w http.ResponseWriter, r *http.Request) {
	list, err := h.cfg.Sessions.Sessions(r.Context(), 200)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "internal", "could not list sessions", err)
		return
	}
	h.render(w, r, "Saved sessions", SessionList(list))
}

func (h *handler) sessionView(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	s, segs, items, err := h.load(r.Context(), id)
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			http.NotFound(w, r)
			return
		}
		h.fail(w, http.StatusInternalServerError, "internal", "could not read the session", err)
		return
	}
	views := make([]ItemView, 0, len(items))
	for _, it := range items {
		views = append(views, NewItemView(it.Kind, it.Resource, it.Validation, it.Source))
	}
	h.render(w, r, "Session", SessionView(s, segs, views))
}

func (h *handler) load(ctx context.Context, id string) (db.Session, []db.Segment, []db.Item, error) {
	s, err := h.cfg.Sessions.Session(ctx, id)
	if err != nil {
		return s, nil, nil, err
	}
	segs, err := h.cfg.Sessions.Segments(ctx, id)
	if err != nil {
		return s, nil, nil, err
	}
	items, err := h.cfg.Sessions.Items(ctx, id)
	return s, segs, items, err
}

func (h *handler) health(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok", "time": time.Now().UTC().Format(time.RFC3339)})
}

func (h *handler) modelInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, h.cfg.Info)
}

func (h *handler) processText(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	if h.cfg.Text == nil {
		h.fail(w, http.StatusServiceUnavailable, "unavailable", "text extraction is not configured", nil)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes))
	if err != nil {
		h.fail(w, http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("request body over %d bytes", h.cfg.MaxBodyBytes), nil)
		return
	}
	var req TextRequest
	dec := json.NewDecoder(bytesReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil {
		h.fail(w, http.StatusBadRequest, "bad_json", "body must be a JSON object {transcript, validate_fhir, use_fallback}", nil)
		return
	}
	if req.Transcript == "" {
		h.fail(w, http.StatusBadRequest, "missing_transcript", "transcript is empty", nil)
		return
	}
	res, err := h.cfg.Text.ProcessText(r.Context(), req)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "extraction_failed", "extraction failed", err)
		return
	}
	if res.Medications == nil {
		res.Medications = []json.RawMessage{}
	}
	if res.Conditions == nil {
		res.Conditions = []json.RawMessage{}
	}
	h.cfg.Log.Info("processed text", "bytes", len(req.Transcript), "medications", len(res.Medications),
		"conditions", len(res.Conditions), "ms", time.Since(start).Milliseconds())
	writeJSON(w, http.StatusOK, map[string]any{
		"success": true,
		"data": map[string]any{
			"medications": res.Medications,
			"conditions":  res.Conditions,
			"other":       res.Other,
		},
		"validation":         res.Validation,
		"processing_time_ms": float64(time.Since(start).Microseconds()) / 1000,
		"model_info":         h.cfg.Info,
	})
}

func (h *handler) apiSessions(w http.ResponseWriter, r *http.Request) {
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			h.fail(w, http.StatusBadRequest, "bad_limit", "limit must be a positive number", nil)
			return
		}
		limit = n
	}
	list, err := h.cfg.Sessions.Sessions(r.Context(), limit)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "internal", "could not list sessions", err)
		return
	}
	if list == nil {
		list = []db.Session{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"sessions": list})
}

func (h *handler) apiSession(w http.ResponseWriter, r *http.Request) {
	s, segs, items, err := h.load(r.Context(), r.PathValue("id"))
	if err != nil {
		h.failLookup(w, err)
		return
	}
	if segs == nil {
		segs = []db.Segment{}
	}
	if items == nil {
		items = []db.Item{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"session": s, "segments": segs, "items": items})
}

func (h *handler) apiBundle(w http.ResponseWriter, r *http.Request) {
	s, _, items, err := h.load(r.Context(), r.PathValue("id"))
	if err != nil {
		h.failLookup(w, err)
		return
	}
	b, err := h.cfg.Bundle(r.Context(), s, items)
	if err != nil {
		h.fail(w, http.StatusInternalServerError, "internal", "could not build the bundle", err)
		return
	}
	writeFHIR(w, b)
}
