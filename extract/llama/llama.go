// Package llama is the thin edge between medscribe and llama.cpp (through
// github.com/ollama/ollama/llama, pinned because upstream removed that
// package). It loads a GGUF model and runs sequences with a KV cache that
// persists between calls, so that a session appends only what is new.
// Prompting, parsing and grounding live in the pure-Go parent package.
package llama

/*
// Declared here rather than through llama.h/ggml.h so that this file needs
// no include path into the module cache; the enum argument is an int.
typedef void (*ms_log_cb)(int level, const char *text, void *user);
void llama_log_set(ms_log_cb cb, void *user);
void ggml_log_set(ms_log_cb cb, void *user);
void llama_free(void *ctx);

extern void medscribeLlamaLog(int level, char *text);

static void ms_llama_log(int level, const char *text, void *user) {
	(void)user;
	medscribeLlamaLog(level, (char *)text);
}

static void ms_llama_install_log(void) {
	llama_log_set(ms_llama_log, 0);
	ggml_log_set(ms_llama_log, 0);
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"unsafe"

	"github.com/ollama/ollama/llama"
	"github.com/ollama/ollama/ml"

	"github.com/medscribe/medscribe/extract"
)

var (
	logMu  sync.Mutex
	logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	logBuf strings.Builder
)

// SetLogger routes llama.cpp's log lines to l. They describe the model and
// the machine, never prompts or output.
func SetLogger(l *slog.Logger) {
	logMu.Lock()
	logger = l
	logMu.Unlock()
}

//export medscribeLlamaLog
func medscribeLlamaLog(level C.int, text *C.char) {
	logMu.Lock()
	defer logMu.Unlock()
	logBuf.WriteString(C.GoString(text))
	s := logBuf.String()
	if !strings.HasSuffix(s, "\n") {
		return
	}
	logBuf.Reset()
	// ggml levels: 1 debug, 2 info, 3 warn, 4 error, 5 continuation.
	lvl := slog.LevelDebug
	switch level {
	case 3:
		lvl = slog.LevelWarn
	case 4:
		lvl = slog.LevelError
	}
	logger.Log(context.Background(), lvl, "llama.cpp", "msg", strings.TrimSpace(s))
}

var initOnce sync.Once

// keepContexts leaves KV caches allocated when a model is closed
// (MEDSCRIBE_LLAMA_KEEP_CONTEXTS=1), as is always done for GPU models:
// freeing a context on the CUDA backend crashed once in a benchmark, and
// the process exit frees them anyway.
var keepContexts = os.Getenv("MEDSCRIBE_LLAMA_KEEP_CONTEXTS") != ""

// Init prepares the llama.cpp backends once per process. libraryPath names
// a folder of GPU backend libraries (its path must contain lib/ollama); ""
// means CPU only, and then a non-existent path is set so that an installed
// ollama's libraries are never loaded into this process.
func Init(libraryPath string) {
	initOnce.Do(func() {
		if libraryPath == "" {
			libraryPath = "/nonexistent/medscribe-cpu-only/lib/ollama"
		}
		os.Setenv("OLLAMA_LIBRARY_PATH", libraryPath)
		llama.BackendInit()
		C.ms_llama_install_log()
	})
}

// GPUs lists the GPU devices the backends found.
func GPUs() []llama.Devices { return llama.EnumerateGPUs() }

// LoadOptions control where a model's weights live.
type LoadOptions struct {
	// GPULayers is the number of layers to offload; 0 keeps everything on
	// the CPU. GPU must then name a device from GPUs.
	GPULayers int
	GPU       []uint64
}

// Model is a loaded GGUF model; safe for concurrent use by sequences.
type Model struct {
	m    *llama.Model
	path string
	arch string
	gpu  bool // weights offloaded to a GPU

	mu    sync.Mutex
	piece map[int]string
	// idle holds the contexts of closed sequences for reuse: allocating a
	// KV cache per session is costly, and freeing one on the CUDA
	// backend crashed once, so contexts are recycled instead.
	idle []*pooledCtx
}

type pooledCtx struct {
	ctx   *llama.Context
	batch *llama.Batch
	opts  SeqOptions
}

// Load reads a GGUF model file. Init must have been called.
func Load(path string, opts LoadOptions) (*Model, error) {
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("load llm: %w", err)
	}
	arch, err := llama.GetModelArch(path)
	if err != nil {
		return nil, fmt.Errorf("load llm %s: %w", path, err)
	}
	m, err := llama.LoadModelFromFile(path, llama.ModelParams{
		NumGpuLayers: opts.GPULayers,
		Devices:      opts.GPU,
		UseMmap:      true,
	})
	if err != nil {
		return nil, fmt.Errorf("load llm %s: %w", path, err)
	}
	return &Model{m: m, path: path, arch: arch, gpu: opts.GPULayers > 0, piece: map[int]string{}}, nil
}

// Close frees the idle contexts (on the CPU) and the weights. Sequences
// must be closed first.
func (m *Model) Close() {
	m.mu.Lock()
	idle := m.idle
	m.idle = nil
	m.mu.Unlock()
	for _, p := range idle {
		p.batch.Free()
		if !m.gpu && !keepContexts {
			freeContext(p.ctx)
		}
	}
	llama.FreeModel(m.m)
}

// freeContext releases a llama context: ollama's wrapper has no Free for
// one; its only field before numThreads is the C pointer.
func freeContext(c *llama.Context) { C.llama_free(*(*unsafe.Pointer)(unsafe.Pointer(c))) }

// Path is the model file.
func (m *Model) Path() string { return m.path }

// Arch is the GGUF general.architecture (for example "gemma3").
func (m *Model) Arch() string { return m.arch }

// VocabSize is the number of tokens.
func (m *Model) VocabSize() int { return m.m.NumVocab() }

// Tokenize turns text into tokens. special parses control tokens such as
// <start_of_turn>; bos adds the model's begin-of-sequence token.
func (m *Model) Tokenize(text string, bos, special bool) ([]int, error) {
	if text == "" {
		return nil, nil
	}
	return m.m.Tokenize(text, bos && m.m.AddBOSToken(), special)
}

// Piece is the text of one token.
func (m *Model) Piece(tok int) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	if p, ok := m.piece[tok]; ok {
		return p
	}
	p := m.m.TokenToPiece(tok)
	m.piece[tok] = p
	return p
}

// IsEOG reports whether tok ends generation.
func (m *Model) IsEOG(tok int) bool { return m.m.TokenIsEog(tok) }

// SeqOptions size a sequence.
type SeqOptions struct {
	Context int // KV cache size in tokens (default 4096)
	Batch   int // tokens per decode call (default 512)
	Threads int // CPU threads (default 2)
	// FlashAttention enables the fused attention kernel.
	FlashAttention bool
}

// Seq is one conversation with a KV cache that survives between calls:
// Eval appends tokens; Generate samples a reply and then removes it from the
// cache again, so the next Eval continues right after the last evaluated
// input. Not safe for concurrent use.
type Seq struct {
	m       *Model
	ctx     *llama.Context
	batch   *llama.Batch
	opts    SeqOptions
	tokens  []int // evaluated input, position i holds tokens[i]
	logitOK bool  // the last decode produced logits for the last token
}

// ErrContextFull is returned when an Eval would not fit the KV cache; the
// caller must Truncate or start over.
var ErrContextFull = errors.New("llama: context full")

// NewSeq allocates a KV cache for one conversation.
func (m *Model) NewSeq(opts SeqOptions) (*Seq, error) {
	if opts.Context <= 0 {
		opts.Context = 4096
	}
	if opts.Batch <= 0 {
		opts.Batch = 512
	}
	if opts.Threads <= 0 {
		opts.Threads = 2
	}
	fa := ml.FlashAttentionDisabled
	if opts.FlashAttention {
		fa = ml.FlashAttentionEnabled
	}
	m.mu.Lock()
	for i, p := range m.idle {
		if p.opts == opts {
			m.idle = append(m.idle[:i], m.idle[i+1:]...)
			m.mu.Unlock()
			p.ctx.KvCacheClear()
			return &Seq{m: m, ctx: p.ctx, batch: p.batch, opts: opts}, nil
		}
	}
	m.mu.Unlock()
	cp := llama.NewContextParams(opts.Context, opts.Batch, 1, opts.Threads, fa, "")
	lc, err := llama.NewContextWithModel(m.m, cp)
	if err != nil {
		return nil, fmt.Errorf("llama: new context: %w", err)
	}
	b, err := llama.NewBatch(opts.Batch, 1, 0)
	if err != nil {
		return nil, fmt.Errorf("llama: new batch: %w", err)
	}
	return &Seq{m: m, ctx: lc, batch: b, opts: opts}, nil
}

// Close gives the KV cache back to the model for the next sequence.
func (s *Seq) Close() {
	if s.ctx == nil {
		return
	}
	s.ctx.KvCacheClear()
	s.m.mu.Lock()
	s.m.idle = append(s.m.idle, &pooledCtx{ctx: s.ctx, batch: s.batch, opts: s.opts})
	s.m.mu.Unlock()
	s.ctx, s.batch, s.tokens, s.logitOK = nil, nil, nil, false
}

// Len is the number of evaluated tokens held in the cache.
func (s *Seq) Len() int { return len(s.tokens) }

// Tokens returns the evaluated tokens (not to be modified).
func (s *Seq) Tokens() []int { return s.tokens }

// Capacity is the KV cache size in tokens.
func (s *Seq) Capacity() int { return s.opts.Context }

// Truncate drops everything after the first n evaluated tokens.
func (s *Seq) Truncate(n int) {
	if n >= len(s.tokens) {
		return
	}
	if n < 0 {
		n = 0
	}
	s.ctx.KvCacheSeqRm(0, n, -1)
	s.tokens = s.tokens[:n]
	s.logitOK = false
}

// Reuse keeps the longest prefix of the cache that equals prefix and returns
// its length; the caller then evaluates prefix[n:].
func (s *Seq) Reuse(prefix []int) int {
	n := 0
	for n < len(prefix) && n < len(s.tokens) && prefix[n] == s.tokens[n] {
		n++
	}
	// The last token must be re-evaluated to get logits for sampling.
	if n == len(prefix) && n > 0 && !s.logitOK {
		n--
	}
	s.Truncate(n)
	return n
}

// Eval appends tokens to the cache. The logits of the last one are kept for
// Generate. It returns the number of tokens decoded.
func (s *Seq) Eval(ctx context.Context, tokens []int) (int, error) {
	if len(tokens) == 0 {
		return 0, nil
	}
	if len(s.tokens)+len(tokens) > s.opts.Context {
		return 0, ErrContextFull
	}
	for start := 0; start < len(tokens); start += s.opts.Batch {
		if err := ctx.Err(); err != nil {
			return start, err
		}
		if start > 0 {
			if err := extract.Yield(ctx); err != nil {
				return start, err
			}
		}
		end := min(start+s.opts.Batch, len(tokens))
		s.batch.Clear()
		for i := start; i < end; i++ {
			s.batch.Add(tokens[i], nil, len(s.tokens)+i-start, i == len(tokens)-1, 0)
		}
		if err := s.ctx.Decode(s.batch); err != nil {
			s.Truncate(len(s.tokens))
			return start, fmt.Errorf("llama: decode: %w", err)
		}
		s.tokens = append(s.tokens, tokens[start:end]...)
	}
	s.logitOK = true
	return len(tokens), nil
}

// GenOptions steer one Generate call.
type GenOptions struct {
	// Grammar is a GBNF grammar the output must follow ("" for none).
	Grammar   string
	MaxTokens int
	// Temperature 0 is greedy decoding.
	Temperature float32
	Seed        uint32
}

// Token is one sampled token.
type Token struct {
	ID    int
	Piece string
}

// ErrNoLogits is returned by Generate when nothing has been evaluated.
var ErrNoLogits = errors.New("llama: generate before eval")

// Generate samples up to MaxTokens tokens after the evaluated input, calling
// fn for each (fn returns false to stop early). The sampled tokens are
// evaluated to continue, and removed from the cache before returning, so
// the cache again ends at the evaluated input. It returns the tokens.
func (s *Seq) Generate(ctx context.Context, opts GenOptions, fn func(Token) bool) ([]Token, error) {
	if !s.logitOK || len(s.tokens) == 0 {
		return nil, ErrNoLogits
	}
	sp := llama.SamplingParams{
		TopK:          40,
		TopP:          1,
		MinP:          0,
		TypicalP:      1, // anything else makes ollama's sampler greedy
		Temp:          opts.Temperature,
		RepeatLastN:   0,
		PenaltyRepeat: 1,
		Seed:          opts.Seed,
		Grammar:       opts.Grammar,
	}
	sc, err := llama.NewSamplingContext(s.m.m, sp)
	if err != nil {
		return nil, fmt.Errorf("llama: sampler: %w", err)
	}
	base := len(s.tokens)
	defer func() {
		// Drop the generated tail; the input prefix stays cached.
		s.ctx.KvCacheSeqRm(0, base, -1)
		s.logitOK = false
	}()
	max := opts.MaxTokens
	if max <= 0 {
		max = 256
	}
	idx := s.batch.NumTokens() - 1
	var out []Token
	pos := base
	for len(out) < max {
		if err := ctx.Err(); err != nil {
			return out, err
		}
		id := sc.Sample(s.ctx, idx)
		sc.Accept(id, true)
		if s.m.IsEOG(id) {
			break
		}
		t := Token{ID: id, Piece: s.m.Piece(id)}
		out = append(out, t)
		if fn != nil && !fn(t) {
			break
		}
		if pos+1 >= s.opts.Context {
			return out, ErrContextFull
		}
		if err := extract.Yield(ctx); err != nil {
			return out, err
		}
		s.batch.Clear()
		s.batch.Add(id, nil, pos, true, 0)
		if err := s.ctx.Decode(s.batch); err != nil {
			return out, fmt.Errorf("llama: decode: %w", err)
		}
		pos++
		idx = 0
	}
	return out, nil
}

// SchemaGrammar converts a JSON schema to a GBNF grammar.
func SchemaGrammar(schema []byte) (string, error) {
	g := llama.SchemaToGrammar(schema)
	if g == nil {
		return "", errors.New("llama: JSON schema could not be converted to a grammar")
	}
	return string(g), nil
}
