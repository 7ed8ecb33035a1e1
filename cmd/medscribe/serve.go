package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/medscribe/medscribe/cmd/medscribe/internal/buildinfo"
	"github.com/medscribe/medscribe/db"
	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/fhir"
	"github.com/medscribe/medscribe/realtime"
	"github.com/medscribe/medscribe/realtime/sched"
	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/whisper"
	"github.com/medscribe/medscribe/web"
)

func init() {
	register("serve", "run the dictation server (web page, WebSocket API, HTTP API)", runServe)
}

// serveConfig is everything serve can be told.
type serveConfig struct {
	addr, data, dbPath     string
	whisperModel, vadModel string
	llmModel, extractor    string
	gpuLibs                string
	gpuLayers              int
	threads, llmContext    int
	origins                string
	logLevel, logFormat    string
	drain                  time.Duration
}

func serveFlags(stderr io.Writer) (*flag.FlagSet, *serveConfig) {
	c := &serveConfig{}
	fs := newFlags("serve", "[flags]", stderr)
	fs.StringVar(&c.addr, "addr", "127.0.0.1:8080", "address to listen on; loopback by default, since pages and API carry patient data and there is no authentication yet")
	fs.StringVar(&c.data, "data", dataDir(), "folder for the session database (created owner-only)")
	fs.StringVar(&c.dbPath, "db", "", "terminology database (default: the session database if terminology was imported into it, else the embedded starter set)")
	fs.StringVar(&c.whisperModel, "whisper-model", "", "whisper ggml model file (default: a generated test model whose transcripts are noise)")
	fs.StringVar(&c.vadModel, "vad-model", "", "whisper.cpp Silero VAD model (default: the built-in energy detector)")
	fs.StringVar(&c.llmModel, "llm-model", "", "GGUF language model for extraction")
	fs.StringVar(&c.extractor, "extractor", "auto", "auto (the language model when --llm-model is set or one was pulled with 'models pull', else rules), rules, or llm (with no --llm-model: the generated test model)")
	fs.StringVar(&c.gpuLibs, "gpu-libs", "", "folder with ggml GPU backend libraries (its path must contain lib/ollama); empty: CPU only")
	fs.IntVar(&c.gpuLayers, "gpu-layers", 999, "layers to offload to the GPU when --gpu-libs is set")
	fs.IntVar(&c.threads, "threads", defaultThreads(), "CPU threads per native job; jobs run side by side on cores/threads lanes")
	fs.IntVar(&c.llmContext, "llm-context", 4096, "language model context per session, in tokens")
	fs.StringVar(&c.origins, "allowed-origins", "", "comma-separated extra browser origins (host patterns) allowed to open sessions; same-origin is always allowed")
	fs.StringVar(&c.logLevel, "log-level", "info", "debug, info, warn or error")
	fs.StringVar(&c.logFormat, "log-format", "text", "text or json")
	fs.DurationVar(&c.drain, "drain", 2*time.Minute, "how long received audio may take to finish after a client stops or the server shuts down")
	return fs, c
}

// defaultThreads gives each native job half the cores, at most 4: two or
// more lanes, so that a session's speech never waits for another's whole
// job. On 2 cores, 1 thread per job kept 6 real-time sessions within a
// 3 s p95 commit latency, 2 threads 4 (BenchmarkConcurrentSessions).
func defaultThreads() int { return max(1, min(4, runtime.NumCPU()/2)) }

func newLogger(level, format string, w io.Writer) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level %q: %w", level, err)
	}
	opts := &slog.HandlerOptions{Level: l}
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(w, opts)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(w, opts)), nil
	}
	return nil, fmt.Errorf("--log-format %q: want text or json", format)
}

// app is the wired server; tests build it through newApp.
type app struct {
	cfg      *serveConfig
	log      *slog.Logger
	store    *db.Store
	term     *terminology.DB
	termName string
	speech   *speechModel
	llm      *llmModel
	sched    *sched.Scheduler
	rt       *realtime.Server
	handler  http.Handler
	kind     string // extractor in use: rules or llm
	llmOpts  *extract.LLMOptions
	vad      *whisper.VADModel // nil: the built-in energy detector
}

func newApp(ctx context.Context, c *serveConfig, log *slog.Logger) (*app, error) {
	a := &app{cfg: c, log: log}
	ok := false
	defer func() {
		if !ok {
			a.Close()
		}
	}()
	if err := os.MkdirAll(c.data, 0o700); err != nil {
		return nil, fmt.Errorf("data folder: %w", err)
	}
	var err error
	storePath := filepath.Join(c.data, "medscribe.db")
	if a.store, err = db.OpenStore(ctx, storePath); err != nil {
		return nil, err
	}
	if n, err := a.store.MarkInterrupted(ctx); err != nil {
		return nil, err
	} else if n > 0 {
		log.Warn("sessions left live by an earlier run marked interrupted; their committed text is kept", "sessions", n)
	}
	termPath := c.dbPath
	if termPath == "" {
		termPath = storePath
	}
	if a.term, a.termName, err = openTerminology(ctx, termPath, log); err != nil {
		return nil, err
	}
	// The rules' matcher over the whole terminology takes seconds to
	// build: build it now, not when the first clinician starts talking.
	start := time.Now()
	if err := lexiconOf(a.term).Build(ctx); err != nil {
		return nil, fmt.Errorf("build the terminology matcher: %w", err)
	}
	log.Info("terminology matcher ready", "ms", time.Since(start).Milliseconds())
	if a.speech, err = loadSpeech(ctx, c.whisperModel, log); err != nil {
		return nil, err
	}
	if a.vad, err = loadVAD(c.vadModel, log); err != nil {
		return nil, err
	}
	if err := a.chooseExtractor(ctx); err != nil {
		return nil, err
	}
	if c.threads <= 0 {
		c.threads = defaultThreads()
	}
	a.sched = sched.New(runtime.NumCPU(), c.threads)
	log.Info("compute", "cores", runtime.NumCPU(), "threads_per_job", c.threads, "lanes", a.sched.Lanes())

	var origins []string
	for _, o := range strings.Split(c.origins, ",") {
		if o = strings.TrimSpace(o); o != "" {
			origins = append(origins, o)
		}
	}
	a.rt, err = realtime.NewServer(realtime.Config{
		Store:          a.store,
		Scheduler:      a.sched,
		NewTranscriber: a.newTranscriber,
		NewExtractor: func(id, patient string) (extract.Extractor, error) {
			return a.newExtractor(context.Background(), id, patient)
		},
		Log:             log.With("component", "realtime"),
		OriginPatterns:  origins,
		DrainTimeout:    c.drain,
		SpeechModel:     a.speech.name,
		Extractor:       a.extractorName(),
		GeneratedModels: a.speech.generated || (a.llm != nil && a.llm.generated),
	})
	if err != nil {
		return nil, err
	}
	a.handler = web.Handler(web.Config{
		Sessions: a.store,
		Bundle:   a.bundle,
		Text:     a,
		Info:     a.info(),
		Listen:   a.rt,
		Metrics:  func() any { return map[string]any{"scheduler": a.sched.Stats()} },
		Log:      log.With("component", "web"),
	})
	ok = true
	return a, nil
}

// chooseExtractor settles --extractor: auto takes the language model when
// one is configured or pulled, else the rules; llm loads the model.
func (a *app) chooseExtractor(ctx context.Context) error {
	c := a.cfg
	switch c.extractor {
	case "auto":
		a.kind = "rules"
		if c.llmModel == "" {
			c.llmModel = pulledLLM(c.gpuLibs != "")
		}
		if c.llmModel != "" {
			a.kind = "llm"
		}
	case "rules", "llm":
		a.kind = c.extractor
	default:
		return fmt.Errorf("--extractor %q: want auto, rules or llm", c.extractor)
	}
	if a.kind != "llm" {
		return nil
	}
	var err error
	a.llm, err = loadLLM(ctx, c.llmModel, c.gpuLibs, c.gpuLayers, a.log)
	return err
}

func (a *app) extractorName() string {
	if a.kind == "llm" {
		return "llm: " + a.llm.name
	}
	return "rules"
}

func (a *app) info() web.ModelInfo {
	mi := web.ModelInfo{
		SpeechModel: a.speech.name, SpeechPath: a.speech.path, GeneratedSpeech: a.speech.generated,
		Extractor: a.extractorName(), Terminology: a.termName, Threads: a.cfg.threads, Lanes: a.sched.Lanes(),
	}
	if a.llm != nil {
		mi.LLMModel, mi.GeneratedLLM = a.llm.name, a.llm.generated
	}
	return mi
}

// vocabulary is the domain vocabulary put in whisper's prompt: common drug
// and condition names, so that the recognizer prefers their spellings.
func vocabulary() []string {
	var out []string
	drugs, _ := terminology.StarterDrugs()
	for i, d := range drugs {
		if i >= 40 {
			break
		}
		out = append(out, d.Name)
	}
	return out
}

func (a *app) newTranscriber(id string) (realtime.Transcriber, error) {
	eng, err := a.speech.model.NewEngine(a.cfg.threads)
	if err != nil {
		return nil, err
	}
	opts := a.speech.streamOptions(a.cfg.threads)
	closeFn := eng.Close
	if a.vad != nil {
		det, err := a.vad.NewDetector()
		if err != nil {
			eng.Close()
			return nil, err
		}
		opts.Detector = det
		closeFn = func() error {
			err := eng.Close()
			if e := det.Close(); err == nil {
				err = e
			}
			return err
		}
	}
	s, err := speech.NewStream(eng, opts)
	if err != nil {
		closeFn()
		return nil, err
	}
	return realtime.NewStreamTranscriber(s, closeFn), nil
}

// newExtractor makes one session's extractor. patient is the session's
// patient reference ("" for a placeholder).
func (a *app) newExtractor(ctx context.Context, sessionID, patient string) (extract.Extractor, error) {
	subject := fhir.PlaceholderPatientReference(sessionID)
	if patient != "" {
		subject = fhir.Reference{Reference: patient}
	}
	asm := &extract.Assembler{Subject: subject, Validator: fhirValidator{fhir.Validator{Terminology: a.term}}}
	rules, err := newRulesExtractor(ctx, a.term, asm)
	if err != nil || a.kind != "llm" {
		return rules, err
	}
	lm := a.llm.model.LM(llamaSeqOptions(a.cfg.llmContext, a.cfg.threads))
	llm, err := extract.NewLLM(ctx, lm, a.term, asm, a.llmOpts)
	if err != nil {
		rules.Close()
		return nil, err
	}
	// The rules give instant items; the model confirms, enriches or adds.
	return extract.NewMerged(rules, llm, asm, a.term), nil
}

// bundle builds a saved session's FHIR transaction Bundle.
func (a *app) bundle(ctx context.Context, s db.Session, items []db.Item) (json.RawMessage, error) {
	var res []fhir.Resource
	for _, it := range items {
		r, err := fhir.Parse(it.Resource)
		if err != nil {
			return nil, fmt.Errorf("item %s: %w", it.ItemID, err)
		}
		res = append(res, r)
	}
	fs := fhir.Session{ID: s.ID, Recorded: s.EndedAt, Version: buildinfo.Version,
		Models: []fhir.ModelVersion{{Role: "speech", Name: s.SpeechModel}, {Role: "extraction", Name: s.Extractor}}}
	if fs.Recorded.IsZero() {
		fs.Recorded = time.Now()
	}
	if s.PatientRef != "" {
		fs.Patient = &fhir.Reference{Reference: s.PatientRef}
	}
	b, err := fhir.NewSessionBundle(fs, res)
	if err != nil {
		return nil, err
	}
	return fhir.Marshal(b)
}

// ProcessText implements web.TextProcessor: the whole transcript as one
// segment through a fresh extractor.
func (a *app) ProcessText(ctx context.Context, req web.TextRequest) (web.TextResult, error) {
	ex, err := a.newExtractor(ctx, "text", "")
	if err != nil {
		return web.TextResult{}, err
	}
	defer ex.Close()
	release, err := a.sched.Acquire(ctx, sched.Extract, "api")
	if err != nil {
		return web.TextResult{}, err
	}
	items, err := ex.Feed(ctx, extract.Segment{ID: 0, Text: req.Transcript}, nil)
	release()
	if err != nil {
		return web.TextResult{}, err
	}
	var res web.TextResult
	var issues []json.RawMessage
	for _, it := range items {
		switch it.Kind {
		case "MedicationStatement":
			res.Medications = append(res.Medications, it.Resource)
		case "Condition":
			res.Conditions = append(res.Conditions, it.Resource)
		default:
			res.Other = append(res.Other, it.Resource)
		}
		if req.ValidateFHIR == nil || *req.ValidateFHIR {
			issues = append(issues, it.Validation)
		}
	}
	if len(issues) > 0 {
		res.Validation, _ = json.Marshal(issues)
	}
	return res, nil
}

func (a *app) Close() {
	if a.term != nil {
		a.term.Close()
	}
	if a.store != nil {
		a.store.Close()
	}
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, c := serveFlags(stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	log, err := newLogger(c.logLevel, c.logFormat, stderr)
	if err != nil {
		return err
	}
	a, err := newApp(ctx, c, log)
	if err != nil {
		return err
	}
	defer a.Close()
	ln, err := net.Listen("tcp", c.addr)
	if err != nil {
		return err
	}
	if host, _, _ := net.SplitHostPort(c.addr); host != "127.0.0.1" && host != "localhost" && host != "::1" {
		log.Warn("listening beyond loopback: anyone who can reach this address can dictate and read sessions (no authentication yet)", "addr", c.addr)
	}
	srv := &http.Server{Handler: a.handler, ReadHeaderTimeout: 10 * time.Second, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelWarn)}
	log.Info("listening", "url", "http://"+ln.Addr().String()+"/")
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("shutting down: flushing live sessions")
	sctx, cancel := context.WithTimeout(context.Background(), c.drain+10*time.Second)
	defer cancel()
	if err := a.rt.Shutdown(sctx); err != nil {
		log.Warn("sessions did not finish in time", "err", err)
	}
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
