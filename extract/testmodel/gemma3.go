// Package testmodel generates Gemma 3 GGUF models for tests and benchmarks:
// the real gemma3 architecture and dimensions (micro for tests, then the
// exact 270M, 1B and 27B text shapes) with the real Gemma SentencePiece
// vocabulary, but deterministic random weights. llama.cpp loads and runs
// them like released models; what they generate is noise. The same name
// always yields a byte-identical file.
//
// Metadata and tensors follow llama.cpp's gemma3 loader (llama-model.cpp,
// LLM_ARCH_GEMMA3, in the ollama module this repository pins). The GGUF
// writer is this package's own streaming one: ollama's fs/ggml.WriteGGUF
// also writes loadable files, but needs an *os.File and issues two
// unbuffered writes per vocabulary entry (half a million system calls for
// Gemma's 262144 tokens, over a second per file).
package testmodel

import (
	"context"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"

	"github.com/ollama/ollama/fs/ggml"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

// Version identifies the generator's output; it changes whenever the bytes
// written for a name change, which invalidates cached files.
const Version = 2

// Arch holds the gemma3.* hyperparameters of a model.
type Arch struct {
	Embd, Layers, Heads, KVHeads, HeadDim, FFN uint32
	// Context is the training context length; SlidingWindow the local
	// attention window (five of every six layers).
	Context, SlidingWindow uint32
	// RopeScale is the linear RoPE scaling factor of the global layers
	// (Gemma 3 4B and larger); 0 means none.
	RopeScale float32
}

// Info describes a model this package can generate.
type Info struct {
	// Name is "gemma3-<size>-<quant>", also the file name without ".gguf".
	Name string
	Arch Arch
	// Quant is the type of the large matrices: "f16", "q8_0", "q4_0" or
	// "q4_k".
	Quant string
	// Params is the parameter count; ApproxBytes the file size to within
	// the GGUF header's slack.
	Params      int64
	ApproxBytes int64
	Purpose     string
}

var sizes = []struct {
	size    string
	arch    Arch
	quants  []string
	purpose string
}{
	{"micro", Arch{Embd: 256, Layers: 6, Heads: 4, KVHeads: 1, HeadDim: 64, FFN: 512, Context: 32768, SlidingWindow: 512},
		[]string{"q8_0", "q4_0", "q4_k", "f16"},
		"tests: loads and generates in well under a second; six layers, so both local and global attention run"},
	{"270m", Arch{Embd: 640, Layers: 18, Heads: 4, KVHeads: 1, HeadDim: 256, FFN: 2048, Context: 32768, SlidingWindow: 512},
		[]string{"q8_0", "q4_0", "q4_k", "f16"}, "the shape of Gemma 3 270M"},
	{"1b", Arch{Embd: 1152, Layers: 26, Heads: 4, KVHeads: 1, HeadDim: 256, FFN: 6912, Context: 32768, SlidingWindow: 512},
		[]string{"q8_0", "q4_0", "q4_k", "f16"}, "the shape of Gemma 3 1B"},
	{"27b", Arch{Embd: 5376, Layers: 62, Heads: 32, KVHeads: 16, HeadDim: 128, FFN: 21504, Context: 131072, SlidingWindow: 1024, RopeScale: 8},
		[]string{"q4_k", "q4_0", "q8_0"}, "the shape of Gemma 3 27B (text), for GPU benchmarks"},
}

var quantTypes = map[string]struct {
	matrix   ggml.TensorType
	fileType ggml.FileType
}{
	"f16":  {ggml.TensorTypeF16, ggml.FileTypeF16},
	"q8_0": {ggml.TensorTypeQ8_0, ggml.FileTypeQ8_0},
	"q4_0": {ggml.TensorTypeQ4_0, 2},                   // LLAMA_FTYPE_MOSTLY_Q4_0
	"q4_k": {ggml.TensorTypeQ4_K, ggml.FileTypeQ4_K_S}, // Q4_K everywhere the row length allows
}

var models = func() []Info {
	var ms []Info
	for _, s := range sizes {
		for _, q := range s.quants {
			m := Info{Name: "gemma3-" + s.size + "-" + q, Arch: s.arch, Quant: q, Purpose: s.purpose}
			for _, t := range plan(s.arch, q) {
				m.Params += t.elements()
				m.ApproxBytes += t.bytes()
			}
			// Header: the vocabulary (~7 bytes a piece plus length,
			// score and type) and tensor infos, padding.
			m.ApproxBytes += vocabSize*24 + 1<<16
			ms = append(ms, m)
		}
	}
	return ms
}()

// Names lists the models this package generates: sizes from micro to
// 27b, each in its quantizations, the default (q8_0 or q4_k) first.
func Names() []Info { return slices.Clone(models) }

func lookup(name string) (Info, error) {
	for _, m := range models {
		if m.Name == name {
			return m, nil
		}
	}
	return Info{}, fmt.Errorf("unknown gemma3 test model %q", name)
}

// Options adjust generation. A nil *Options means the defaults.
type Options struct {
	// TokenizerDir is a directory laid out like ollama's
	// tokenizer/testdata (gemma2/tokenizer.model is read). Default: found
	// in the Go module cache.
	TokenizerDir string
}

// tensorPlan is one tensor: its GGUF name and shape (innermost first), its
// type, and how its values are made.
type tensorPlan struct {
	name  string
	shape []uint64
	typ   ggml.TensorType
	// std > 0: random weights; otherwise every value is gain (f32).
	std  float64
	gain float32
}

func (t tensorPlan) elements() int64 {
	n := int64(1)
	for _, d := range t.shape {
		n *= int64(d)
	}
	return n
}

func (t tensorPlan) bytes() int64 {
	e, b, err := blockInfo(t.typ)
	if err != nil {
		panic(err)
	}
	return t.elements() / int64(e) * int64(b)
}

// Weight scales, chosen so that greedy decoding neither repeats the input
// token nor settles on one output. The embeddings are tied: the input is
// row·sqrt(n_embd) and the logits are the normed final state dotted with
// the same rows, so a token's own row must stay faint in the final residual
// stream or every token would predict itself (its logit grows as
// sqrt(n_embd)·embedRMS² against the stream's RMS). And the stream must not
// be dominated by attention, whose output averages over the context and
// barely changes from one step to the next. So: a faint input (RMS 0.3),
// attention sublayers added at RMS 0.2 and feed-forward sublayers at RMS 2
// (the post-norm gains); the feed-forward chain then makes each step's
// state a pseudo-random function of the current token, nudged by the
// context. The final norm's gain restores logits of std 3. Every matrix is
// unit-variance (std 1/sqrt(fan in)); the other norms are 1.
const (
	embedRMS   = 0.3
	attnGain   = 0.2
	ffnGain    = 2.0
	logitStd   = 3.0
	outputGain = logitStd / embedRMS
)

// plan lists every tensor of the gemma3 loader for a model, in the order of
// its create_tensor calls.
func plan(a Arch, quant string) []tensorPlan {
	mat := quantTypes[quant].matrix
	// The token embedding is also the output matrix; llama-quantize keeps
	// it at Q8_0 in the quantized types whenever the row length is not a
	// multiple of 256 (its Q6_K otherwise is not a type this package
	// writes, so Q8_0 throughout).
	embType := ggml.TensorTypeQ8_0
	if quant == "f16" {
		embType = ggml.TensorTypeF16
	}
	// Like llama-quantize, fall back from Q4_K to Q5_0 for rows that are
	// not whole 256-element super-blocks (most of the 270M and 1B).
	typeFor := func(rowLen uint32) ggml.TensorType {
		if mat == ggml.TensorTypeQ4_K && rowLen%256 != 0 {
			return ggml.TensorTypeQ5_0
		}
		return mat
	}
	matrix := func(name string, in, out uint32) tensorPlan {
		return tensorPlan{name: name, shape: []uint64{uint64(in), uint64(out)}, typ: typeFor(in), std: 1 / math.Sqrt(float64(in))}
	}
	norm := func(name string, n uint32, gain float32) tensorPlan {
		return tensorPlan{name: name, shape: []uint64{uint64(n)}, typ: ggml.TensorTypeF32, gain: gain}
	}
	q, kv := a.Heads*a.HeadDim, a.KVHeads*a.HeadDim
	ts := []tensorPlan{
		{name: "token_embd.weight", shape: []uint64{uint64(a.Embd), vocabSize}, typ: embType, std: embedRMS / math.Sqrt(float64(a.Embd))},
		norm("output_norm.weight", a.Embd, outputGain),
	}
	for i := range a.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		ts = append(ts,
			norm(p+"attn_norm.weight", a.Embd, 1),
			matrix(p+"attn_q.weight", a.Embd, q),
			matrix(p+"attn_k.weight", a.Embd, kv),
			matrix(p+"attn_v.weight", a.Embd, kv),
			matrix(p+"attn_output.weight", q, a.Embd),
			norm(p+"post_attention_norm.weight", a.Embd, attnGain),
			norm(p+"attn_k_norm.weight", a.HeadDim, 1),
			norm(p+"attn_q_norm.weight", a.HeadDim, 1),
			norm(p+"ffn_norm.weight", a.Embd, 1),
			matrix(p+"ffn_gate.weight", a.Embd, a.FFN),
			matrix(p+"ffn_up.weight", a.Embd, a.FFN),
			matrix(p+"ffn_down.weight", a.FFN, a.Embd),
			norm(p+"post_ffw_norm.weight", a.Embd, ffnGain),
		)
	}
	return ts
}

// chatTemplate is a minimal Jinja template for Gemma's turn format, so that
// tools which render the stored template produce the same prompt as
// llama.cpp's built-in "gemma" format (which it selects because the
// template mentions <start_of_turn>): a system message is folded into the
// first user turn, the assistant's role is "model".
const chatTemplate = `{{ bos_token }}{% set ns = namespace(system='') %}` +
	`{% for m in messages %}{% if m['role'] == 'system' %}{% set ns.system = m['content'] + '\n\n' %}` +
	`{% else %}<start_of_turn>{{ 'model' if m['role'] == 'assistant' else m['role'] }}
{% if m['role'] == 'user' %}{{ ns.system }}{% set ns.system = '' %}{% endif %}{{ m['content'] | trim }}<end_of_turn>
{% endif %}{% endfor %}{% if add_generation_prompt %}<start_of_turn>model
{% endif %}`

// metadata lists the GGUF key-value pairs in the order llama.cpp's
// converter writes them: general, architecture, tokenizer.
func metadata(m Info, v *vocab) []kv {
	a := m.Arch
	meta := []kv{
		{"general.architecture", "gemma3"},
		{"general.name", "medscribe random " + m.Name},
		{"general.file_type", uint32(quantTypes[m.Quant].fileType)},
		{"general.quantization_version", uint32(2)},

		{"gemma3.context_length", a.Context},
		{"gemma3.embedding_length", a.Embd},
		{"gemma3.block_count", a.Layers},
		{"gemma3.feed_forward_length", a.FFN},
		{"gemma3.attention.head_count", a.Heads},
		{"gemma3.attention.head_count_kv", a.KVHeads},
		{"gemma3.attention.key_length", a.HeadDim},
		{"gemma3.attention.value_length", a.HeadDim},
		{"gemma3.attention.layer_norm_rms_epsilon", float32(1e-6)},
		{"gemma3.attention.sliding_window", a.SlidingWindow},
		{"gemma3.rope.freq_base", float32(1e6)},
		// The local layers' base; older llama.cpp hard-codes it, newer
		// reads this key and would otherwise use the global base.
		{"gemma3.rope.freq_base_swa", float32(1e4)},
	}
	if a.RopeScale != 0 {
		meta = append(meta,
			kv{"gemma3.rope.scaling.type", "linear"},
			kv{"gemma3.rope.scaling.factor", a.RopeScale})
	}
	return append(meta,
		kv{"tokenizer.ggml.model", "llama"},
		kv{"tokenizer.ggml.pre", "default"},
		kv{"tokenizer.ggml.tokens", v.tokens},
		kv{"tokenizer.ggml.scores", v.scores},
		kv{"tokenizer.ggml.token_type", v.types},
		kv{"tokenizer.ggml.bos_token_id", uint32(TokenBOS)},
		kv{"tokenizer.ggml.eos_token_id", uint32(TokenEOS)},
		kv{"tokenizer.ggml.unknown_token_id", uint32(TokenUnk)},
		kv{"tokenizer.ggml.padding_token_id", uint32(TokenPad)},
		kv{"tokenizer.ggml.eot_token_id", uint32(TokenEndOfTurn)},
		kv{"tokenizer.ggml.add_bos_token", true},
		kv{"tokenizer.ggml.add_eos_token", false},
		kv{"tokenizer.ggml.add_space_prefix", v.addSpacePrefix},
		kv{"tokenizer.chat_template", chatTemplate},
	)
}

// Write writes the model called name to w as a stream: tensor data is
// generated in parallel (one goroutine per CPU) in 1 MiB chunks and written
// in order, so memory stays in the megabytes whatever the model size.
func Write(ctx context.Context, w io.Writer, name string, opts *Options) error {
	m, err := lookup(name)
	if err != nil {
		return err
	}
	if opts == nil {
		opts = &Options{}
	}
	dir, err := modelfile.TokenizerDir(ctx, opts.TokenizerDir)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	v, err := loadVocab(dir)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	ts := plan(m.Arch, m.Quant)
	gen := func(i, chunk int, dst []byte) {
		t := ts[i]
		if t.std == 0 {
			fillConst(dst, t.gain)
			return
		}
		fillRandom(newRNG(fmt.Sprintf("%s/%s/%d", m.Name, t.name, chunk)), t.typ, dst, t.std)
	}
	if err := writeGGUF(ctx, w, metadata(m, v), ts, gen); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

// String names the model for logs.
func (m Info) String() string {
	return fmt.Sprintf("%s (%s, %.2f B params, ~%d MB)", m.Name, strings.ToUpper(m.Quant), float64(m.Params)/1e9, m.ApproxBytes/1e6)
}
