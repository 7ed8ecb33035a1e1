// Package whisper runs whisper.cpp as a speech.Engine. The model is loaded
// through the official Go bindings; a small cgo shim adds what the bindings
// do not expose: per-session decoder state (whisper_state) so that sessions
// share one loaded model, cancellation, and routing whisper's log into slog.
package whisper

/*
#include <stdlib.h>
#include <whisper.h>

extern void medscribeWhisperLog(int level, char *text);

static void ms_log(enum wsp_ggml_log_level level, const char *text, void *user) {
	(void)user;
	medscribeWhisperLog((int)level, (char *)text);
}

static void ms_install_log(void) {
	whisper_log_set(ms_log, NULL);
	wsp_ggml_log_set(ms_log, NULL);
}

static bool ms_abort(void *flag) {
	return __atomic_load_n((int *)flag, __ATOMIC_RELAXED) != 0;
}

// ms_full runs one recognition on state with the greedy decoder, settings
// fixed for short streaming windows: no fallback to higher temperatures (a
// retry costs a full decode and is what produces loops on silence), timestamps
// per token, nothing printed.
static int ms_full(struct whisper_context *ctx, struct whisper_state *state,
		const float *samples, int n, int threads, int audio_ctx,
		const char *prompt, int max_tokens, int *abort_flag) {
	struct whisper_full_params p = whisper_full_default_params(WHISPER_SAMPLING_GREEDY);
	p.n_threads = threads;
	p.audio_ctx = audio_ctx;
	p.initial_prompt = prompt;
	p.no_context = true;
	p.token_timestamps = true;
	p.max_tokens = max_tokens;
	p.temperature = 0.0f;
	p.temperature_inc = 0.0f;
	p.suppress_blank = true;
	p.suppress_nst = true;
	p.print_progress = false;
	p.print_realtime = false;
	p.print_timestamps = false;
	p.print_special = false;
	p.language = "en";
	p.abort_callback = ms_abort;
	p.abort_callback_user_data = abort_flag;
	return whisper_full_with_state(ctx, state, p, samples, n);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	wb "github.com/ggerganov/whisper.cpp/bindings/go"

	"github.com/medscribe/medscribe/speech"
)

var (
	logMu  sync.RWMutex
	logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	logBuf strings.Builder
)

// SetLogger routes whisper.cpp's log lines to l. Its messages describe the
// model and timings, never the audio or text.
func SetLogger(l *slog.Logger) {
	logMu.Lock()
	logger = l
	logMu.Unlock()
}

//export medscribeWhisperLog
func medscribeWhisperLog(level C.int, text *C.char) {
	// whisper.cpp sends a line in pieces; emit on newline.
	logMu.Lock()
	defer logMu.Unlock()
	logBuf.WriteString(C.GoString(text))
	s := logBuf.String()
	if !strings.HasSuffix(s, "\n") {
		return
	}
	logBuf.Reset()
	lvl := slog.LevelDebug
	switch level {
	case C.WSP_GGML_LOG_LEVEL_ERROR:
		lvl = slog.LevelError
	case C.WSP_GGML_LOG_LEVEL_WARN:
		lvl = slog.LevelWarn
	}
	logger.Log(context.Background(), lvl, "whisper.cpp", "msg", strings.TrimSpace(s))
}

func init() { C.ms_install_log() }

// Model is a loaded whisper model. It is safe for concurrent use: every
// Engine made from it has its own decoder state.
type Model struct {
	ctx  *wb.Context
	path string

	mu     sync.Mutex
	closed bool
	live   int // engines not yet closed
}

// Load reads a ggml whisper model file.
func Load(path string) (*Model, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("load whisper model: %w", err)
	}
	ctx := wb.Whisper_init(path)
	if ctx == nil {
		return nil, fmt.Errorf("load whisper model %s: whisper.cpp could not read it", path)
	}
	return &Model{ctx: ctx, path: path}, nil
}

// Path is the file the model was loaded from.
func (m *Model) Path() string { return m.path }

// Vocab is the model's vocabulary size (51864 for English-only models).
func (m *Model) Vocab() int { return m.ctx.Whisper_n_vocab() }

// Close frees the model once every engine made from it is closed.
func (m *Model) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil
	}
	if m.live > 0 {
		return fmt.Errorf("close whisper model: %d engines still open", m.live)
	}
	m.closed = true
	m.ctx.Whisper_free()
	return nil
}

// ErrClosed is returned by an Engine used after Close.
var ErrClosed = errors.New("whisper: engine closed")

// Engine is one session's recognizer over a shared Model. Not safe for
// concurrent use; one session drives it from one goroutine.
type Engine struct {
	m       *Model
	state   *C.struct_whisper_state
	threads int
	abort   *C.int // C memory: whisper.cpp polls it during a call
}

// NewEngine allocates decoder state for one session (tens of MB for
// tiny/base models). threads is the default for calls that do not set one.
func (m *Model) NewEngine(threads int) (*Engine, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	st := C.whisper_init_state((*C.struct_whisper_context)(unsafe.Pointer(m.ctx)))
	if st == nil {
		return nil, errors.New("whisper: allocate state failed")
	}
	if threads <= 0 {
		threads = runtime.NumCPU()
	}
	m.live++
	return &Engine{m: m, state: st, threads: threads, abort: (*C.int)(C.calloc(1, C.size_t(unsafe.Sizeof(C.int(0)))))}, nil
}

// Close frees the engine's state.
func (e *Engine) Close() error {
	if e.state == nil {
		return nil
	}
	C.whisper_free_state(e.state)
	C.free(unsafe.Pointer(e.abort))
	e.state, e.abort = nil, nil
	e.m.mu.Lock()
	e.m.live--
	e.m.mu.Unlock()
	return nil
}

// Transcribe implements speech.Engine.
func (e *Engine) Transcribe(ctx context.Context, samples []float32, opts speech.Options) ([]speech.Segment, error) {
	if e.state == nil {
		return nil, ErrClosed
	}
	if len(samples) == 0 {
		return nil, nil
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	threads := opts.Threads
	if threads <= 0 {
		threads = e.threads
	}
	var prompt *C.char
	if opts.Prompt != "" {
		prompt = C.CString(opts.Prompt)
		defer C.free(unsafe.Pointer(prompt))
	}
	audioCtx := opts.AudioCtx
	if audioCtx < 0 || audioCtx > 1500 {
		audioCtx = 0
	}
	// Natural speech is about 3 tokens a second; allowing three times that
	// bounds the cost of a window that sends the decoder into a loop.
	secs := float64(len(samples)) / speech.SampleRate
	maxTokens := 16 + int(math.Ceil(secs*9))

	atomic.StoreInt32((*int32)(unsafe.Pointer(e.abort)), 0)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			atomic.StoreInt32((*int32)(unsafe.Pointer(e.abort)), 1)
		case <-done:
		}
	}()
	rc := C.ms_full((*C.struct_whisper_context)(unsafe.Pointer(e.m.ctx)), e.state,
		(*C.float)(unsafe.Pointer(&samples[0])), C.int(len(samples)), C.int(threads),
		C.int(audioCtx), prompt, C.int(maxTokens), e.abort)
	close(done)
	runtime.KeepAlive(samples)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if rc != 0 {
		return nil, fmt.Errorf("whisper: recognition failed (code %d)", int(rc))
	}
	return e.segments(time.Duration(len(samples)) * time.Second / speech.SampleRate), nil
}

// segments reads the result of the last call out of the state. Times are
// clamped to the window: whisper's timestamp tokens can point past the end
// of a short window, and later stages rely on times being inside it.
func (e *Engine) segments(window time.Duration) []speech.Segment {
	clamp := func(d time.Duration) time.Duration { return max(0, min(d, window)) }
	ctx := (*C.struct_whisper_context)(unsafe.Pointer(e.m.ctx))
	eot := C.whisper_token_eot(ctx)
	n := int(C.whisper_full_n_segments_from_state(e.state))
	out := make([]speech.Segment, 0, n)
	for i := range n {
		ci := C.int(i)
		seg := speech.Segment{
			Text:         strings.TrimSpace(C.GoString(C.whisper_full_get_segment_text_from_state(e.state, ci))),
			Start:        clamp(centis(int64(C.whisper_full_get_segment_t0_from_state(e.state, ci)))),
			End:          clamp(centis(int64(C.whisper_full_get_segment_t1_from_state(e.state, ci)))),
			NoSpeechProb: float32(C.whisper_full_get_segment_no_speech_prob_from_state(e.state, ci)),
		}
		var sumLog float64
		var nTok int
		var cur *speech.Word
		nt := int(C.whisper_full_n_tokens_from_state(e.state, ci))
		for j := range nt {
			cj := C.int(j)
			td := C.whisper_full_get_token_data_from_state(e.state, ci, cj)
			if td.id >= eot { // special and timestamp tokens
				continue
			}
			text := C.GoString(C.whisper_full_get_token_text_from_state(ctx, e.state, ci, cj))
			sumLog += float64(td.plog)
			nTok++
			t0, t1 := clamp(centis(int64(td.t0))), clamp(centis(int64(td.t1)))
			if t1 < t0 {
				t1 = t0
			}
			if cur == nil || strings.HasPrefix(text, " ") {
				if cur != nil {
					seg.Words = append(seg.Words, *cur)
				}
				cur = &speech.Word{Text: strings.TrimSpace(text), Start: t0, End: t1, Prob: float32(td.p)}
				continue
			}
			cur.Text += text
			if t1 > cur.End {
				cur.End = t1
			}
			cur.Prob = min(cur.Prob, float32(td.p))
		}
		if cur != nil {
			seg.Words = append(seg.Words, *cur)
		}
		if nTok > 0 {
			seg.AvgLogProb = float32(sumLog / float64(nTok))
		}
		out = append(out, seg)
	}
	return out
}

// decodedTokens is the number of tokens, text and special, that the last
// call decoded (benchmarks report it: the decoder's cost grows with it).
func (e *Engine) decodedTokens() int {
	n := 0
	for i := range int(C.whisper_full_n_segments_from_state(e.state)) {
		n += int(C.whisper_full_n_tokens_from_state(e.state, C.int(i)))
	}
	return n
}

// centis converts whisper's 10 ms ticks.
func centis(t int64) time.Duration { return time.Duration(t) * 10 * time.Millisecond }

var _ speech.Engine = (*Engine)(nil)
