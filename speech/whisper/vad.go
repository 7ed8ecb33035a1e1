package whisper

/*
#include <stdlib.h>
#include <string.h>
#include <whisper.h>

// ms_buf lets whisper.cpp's model loader read a model from memory, so the
// file is read once however many sessions open a detector.
typedef struct {
	const unsigned char *data;
	size_t size, off;
} ms_buf;

static size_t ms_buf_read(void *ctx, void *out, size_t n) {
	ms_buf *b = (ms_buf *)ctx;
	size_t k = b->size - b->off < n ? b->size - b->off : n;
	memcpy(out, b->data + b->off, k);
	b->off += k;
	return k;
}

static bool ms_buf_eof(void *ctx) {
	ms_buf *b = (ms_buf *)ctx;
	return b->off >= b->size;
}

static void ms_buf_close(void *ctx) { (void)ctx; }

static struct whisper_vad_context *ms_vad_init(const void *data, size_t size, int threads) {
	ms_buf b = { (const unsigned char *)data, size, 0 };
	struct whisper_model_loader l = { &b, ms_buf_read, ms_buf_eof, ms_buf_close };
	struct whisper_vad_context_params p = whisper_vad_default_context_params();
	p.n_threads = threads;
	p.use_gpu = false;
	struct whisper_vad_context *v = whisper_vad_init_with_params(&l, p);
	if (v != NULL) {
		// The recurrent state is allocated, not cleared: a stream must
		// start from zeros like Silero's.
		whisper_vad_reset_state(v);
	}
	return v;
}

// ms_vad_score runs one frame through the model, carrying the LSTM state
// over from the previous frame, and stores its speech probability.
static int ms_vad_score(struct whisper_vad_context *v, const float *s, int n, float *prob) {
	if (!whisper_vad_detect_speech_no_reset(v, s, n)) {
		return -1;
	}
	if (whisper_vad_n_probs(v) != 1) {
		return -2;
	}
	*prob = whisper_vad_probs(v)[0];
	return 0;
}
*/
import "C"

import (
	"errors"
	"fmt"
	"math"
	"os"
	"runtime"
	"sync"
	"unsafe"

	"github.com/medscribe/medscribe/speech"
)

// maxVADFile bounds what LoadVAD reads: the Silero model is 885 kB.
const maxVADFile = 16 << 20

// VADModel is a Silero voice activity model for whisper.cpp, read once and
// checked. whisper.cpp keeps a model's weights and its recurrent state in
// one context, so models cannot be shared between streams: each
// NewDetector builds its own context from the bytes held here (about
// 0.9 MB of weights and a small compute buffer per detector). A VADModel
// holds no C memory and is safe for concurrent use.
type VADModel struct {
	path string
	data []byte
}

// LoadVAD reads a whisper.cpp Silero VAD model (ggml-silero-v5.1.2.bin,
// ggml-silero-v6.2.0.bin) and checks that whisper.cpp can run it. A file
// of another shape fails with a *VADFormatError.
func LoadVAD(path string) (*VADModel, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("load vad model: %w", err)
	}
	if fi.Size() > maxVADFile {
		return nil, fmt.Errorf("load vad model %s: %w", path,
			&VADFormatError{Offset: maxVADFile, Msg: fmt.Sprintf("file of %d bytes is far larger than a Silero model", fi.Size())})
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("load vad model: %w", err)
	}
	if err := checkVADFile(data); err != nil {
		return nil, fmt.Errorf("load vad model %s: %w", path, err)
	}
	m := &VADModel{path: path, data: data}
	// Build one context now so a model whisper.cpp refuses fails at
	// startup, not when the first session opens.
	d, err := m.NewDetector()
	if err != nil {
		return nil, fmt.Errorf("load vad model %s: %w", path, err)
	}
	d.Close()
	return m, nil
}

// Path is the file the model was read from.
func (m *VADModel) Path() string { return m.path }

// ErrVADInit is returned when whisper.cpp cannot build a VAD context.
var ErrVADInit = errors.New("whisper: vad context could not be created")

// NewDetector returns a speech.VoiceDetector for one stream, with its own
// recurrent state. It must be closed when the stream ends.
func (m *VADModel) NewDetector() (*VADDetector, error) {
	// One thread: a frame is a few hundred thousand multiply-adds, less
	// than a thread pool's start-up and spinning would cost, and the
	// detector runs on the session's reader goroutine beside whisper's
	// threads.
	ctx := C.ms_vad_init(unsafe.Pointer(&m.data[0]), C.size_t(len(m.data)), 1)
	runtime.KeepAlive(m.data)
	if ctx == nil {
		return nil, ErrVADInit
	}
	return &VADDetector{ctx: ctx}, nil
}

// VADDetector scores 512-sample frames (32 ms at 16 kHz) with Silero,
// carrying the model's recurrent state from frame to frame as Silero does
// when streaming. It implements speech.VoiceDetector. Like every
// VoiceDetector it serves one stream from one goroutine; Close may be
// called from any goroutine.
type VADDetector struct {
	mu  sync.Mutex
	ctx *C.struct_whisper_vad_context
}

// FrameSize is 512 samples.
func (d *VADDetector) FrameSize() int { return sileroWindow }

// ErrVADClosed is returned by a VADDetector used after Close.
var ErrVADClosed = errors.New("whisper: vad detector closed")

// Score returns the probability that frame holds speech.
func (d *VADDetector) Score(frame []float32) (float32, error) {
	if len(frame) != sileroWindow {
		return 0, fmt.Errorf("silero vad: frame of %d samples, want %d", len(frame), sileroWindow)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil {
		return 0, ErrVADClosed
	}
	var p C.float
	rc := C.ms_vad_score(d.ctx, (*C.float)(unsafe.Pointer(&frame[0])), sileroWindow, &p)
	runtime.KeepAlive(frame)
	if rc != 0 {
		return 0, fmt.Errorf("silero vad: whisper.cpp failed to score a frame (code %d)", int(rc))
	}
	prob := float32(p)
	if math.IsNaN(float64(prob)) || prob < 0 || prob > 1 {
		return 0, fmt.Errorf("silero vad: probability %v", prob)
	}
	return prob, nil
}

// Close frees the detector's whisper.cpp context. Later calls to Score
// fail with ErrVADClosed.
func (d *VADDetector) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.ctx == nil {
		return nil
	}
	C.whisper_vad_free(d.ctx)
	d.ctx = nil
	return nil
}

var _ speech.VoiceDetector = (*VADDetector)(nil)
