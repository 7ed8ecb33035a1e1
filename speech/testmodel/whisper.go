// Package testmodel generates whisper.cpp models for tests and benchmarks:
// real ggml .bin files with real architectures, dimensions, mel filterbank
// and a real byte-level English vocabulary, but deterministic random weights.
// whisper.cpp loads and runs them like released models; what they transcribe
// is noise. The same name always yields a byte-identical file. It also
// generates whisper.cpp's Silero voice activity model (VADNames) in the
// same way.
//
// The file layout follows whisper.cpp's loader (whisper_model_load): the
// magic, eleven int32 hyperparameters, the mel filterbank, the vocabulary,
// then tensors until end of file, each as n_dims, name length, type, the
// dimensions (innermost first), the name and the raw data.
package testmodel

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

// Version identifies the generator's output; it changes whenever the bytes
// written for a name change, which invalidates cached files.
const Version = 3

// Magic is the first word of a legacy ggml file ("ggml" read as a
// little-endian uint32).
const Magic = 0x67676d6c

// ggml tensor types used in whisper files.
const (
	TypeF32 int32 = 0
	TypeF16 int32 = 1
)

// Hparams are the eleven int32 header fields of a whisper model file, in
// file order. FType 1 means the large matrices are f16.
type Hparams struct {
	NVocab      int32
	NAudioCtx   int32
	NAudioState int32
	NAudioHead  int32
	NAudioLayer int32
	NTextCtx    int32
	NTextState  int32
	NTextHead   int32
	NTextLayer  int32
	NMels       int32
	FType       int32
}

// Info describes a model this package can generate.
type Info struct {
	// Name is the model's name, also the file name without ".bin".
	Name string
	// Hparams are the model's dimensions.
	Hparams Hparams
	// ApproxBytes is the file size to within the vocabulary's few hundred
	// kilobytes.
	ApproxBytes int64
	// Purpose says what the model is for.
	Purpose string
}

var models = []Info{
	{
		Name: "whisper-micro",
		// The smallest model whisper.cpp accepts with the real context
		// lengths, mel count and vocabulary: one layer each, one 64-wide
		// head (the head size of every released model).
		Hparams: Hparams{NVocab: 51864, NAudioCtx: 1500, NAudioState: 64, NAudioHead: 1, NAudioLayer: 1,
			NTextCtx: 448, NTextState: 64, NTextHead: 1, NTextLayer: 1, NMels: 80, FType: 1},
		Purpose: "fast tests of loading and the decode loop",
	},
	{
		Name: "whisper-tiny.en",
		Hparams: Hparams{NVocab: 51864, NAudioCtx: 1500, NAudioState: 384, NAudioHead: 6, NAudioLayer: 4,
			NTextCtx: 448, NTextState: 384, NTextHead: 6, NTextLayer: 4, NMels: 80, FType: 1},
		Purpose: "the shape and speed of ggml-tiny.en.bin",
	},
}

func init() {
	for i := range models {
		models[i].ApproxBytes = approxSize(models[i].Hparams)
	}
}

// Names lists the models this package generates, smallest first.
func Names() []Info { return slices.Clone(models) }

func lookup(name string) (Info, error) {
	for _, m := range models {
		if m.Name == name {
			return m, nil
		}
	}
	return Info{}, fmt.Errorf("unknown whisper test model %q", name)
}

// known reports whether name is a whisper or a VAD model of this package.
func known(name string) error {
	if _, ok := lookupVAD(name); ok {
		return nil
	}
	_, err := lookup(name)
	return err
}

// Options adjust generation. A nil *Options means the defaults.
type Options struct {
	// TokenizerDir is a directory laid out like ollama's
	// tokenizer/testdata (llama3.2/encoder.json is read). Default: found in
	// the Go module cache.
	TokenizerDir string
}

// Write writes the model called name to w.
func Write(ctx context.Context, w io.Writer, name string, opts *Options) error {
	if v, ok := lookupVAD(name); ok {
		// A VAD model has no vocabulary: no tokenizer data is needed.
		bw := bufio.NewWriterSize(w, 1<<20)
		if err := writeVAD(ctx, bw, v); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		if err := bw.Flush(); err != nil {
			return fmt.Errorf("write %s: %w", name, err)
		}
		return nil
	}
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
	vocab, err := loadVocab(dir, englishVocabSize)
	if err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	bw := bufio.NewWriterSize(w, 1<<20)
	if err := writeModel(ctx, bw, m, vocab); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("write %s: %w", name, err)
	}
	return nil
}

func writeModel(ctx context.Context, w *bufio.Writer, m Info, vocab [][]byte) error {
	h := m.Hparams
	le := binary.LittleEndian
	var hdr []byte
	hdr = le.AppendUint32(hdr, Magic)
	for _, v := range []int32{h.NVocab, h.NAudioCtx, h.NAudioState, h.NAudioHead, h.NAudioLayer,
		h.NTextCtx, h.NTextState, h.NTextHead, h.NTextLayer, h.NMels, h.FType} {
		hdr = le.AppendUint32(hdr, uint32(v))
	}
	hdr = le.AppendUint32(hdr, uint32(h.NMels))
	hdr = le.AppendUint32(hdr, nFFTBins)
	for _, f := range MelFilters(int(h.NMels)) {
		hdr = le.AppendUint32(hdr, math.Float32bits(f))
	}
	hdr = le.AppendUint32(hdr, uint32(len(vocab)))
	for _, tok := range vocab {
		hdr = le.AppendUint32(hdr, uint32(len(tok)))
		hdr = append(hdr, tok...)
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for _, t := range tensors(h) {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := writeTensor(ctx, w, m.Name, t, buf); err != nil {
			return fmt.Errorf("tensor %s: %w", t.name, err)
		}
	}
	return nil
}

// init kinds for tensor data.
const (
	initRandom   = iota // uniform noise with the tensor's std
	initOnes            // layer-norm gains
	initZeros           // layer-norm shifts
	initSinusoid        // the encoder's fixed positional embedding
	initSTFT            // Silero's fixed STFT basis (see STFTBasis)
	initConst           // every value is the spec's std (f32 tensors only)
)

type tensorSpec struct {
	name string
	ne   []int32 // ggml order: innermost (contiguous) dimension first
	typ  int32
	init int
	std  float32
}

func (t tensorSpec) elements() int64 {
	n := int64(1)
	for _, d := range t.ne {
		n *= int64(d)
	}
	return n
}

func (t tensorSpec) bytes() int64 {
	if t.typ == TypeF16 {
		return 2 * t.elements()
	}
	return 4 * t.elements()
}

// tensors lists every tensor whisper.cpp's loader creates for h, with the
// types the reference converter writes: 2-D and larger weights in the
// model's type (f16 here) except the positional embeddings and the
// convolution biases, which stay f32 like all 1-D tensors.
func tensors(h Hparams) []tensorSpec {
	wtype := TypeF32
	if h.FType == 1 {
		wtype = TypeF16
	}
	bias := float32(0.02)
	var ts []tensorSpec
	add := func(name string, typ int32, init int, std float32, ne ...int32) {
		ts = append(ts, tensorSpec{name: name, ne: ne, typ: typ, init: init, std: std})
	}
	linear := func(prefix string, in, out int32, withBias bool) {
		add(prefix+".weight", wtype, initRandom, 1/sqrt32(in), in, out)
		if withBias {
			add(prefix+".bias", TypeF32, initRandom, bias, out)
		}
	}
	norm := func(prefix string, n int32) {
		add(prefix+".weight", TypeF32, initOnes, 0, n)
		add(prefix+".bias", TypeF32, initZeros, 0, n)
	}
	// outGain scales the attention output projections and mlpGain the
	// MLP's, relative to the unit-variance default (std 1/sqrt(fan in)).
	block := func(prefix string, n int32, cross bool, outGain, mlpGain float32) {
		norm(prefix+".attn_ln", n)
		linear(prefix+".attn.query", n, n, true)
		linear(prefix+".attn.key", n, n, false)
		linear(prefix+".attn.value", n, n, true)
		add(prefix+".attn.out.weight", wtype, initRandom, outGain/sqrt32(n), n, n)
		add(prefix+".attn.out.bias", TypeF32, initRandom, bias, n)
		if cross {
			norm(prefix+".cross_attn_ln", n)
			linear(prefix+".cross_attn.query", n, n, true)
			linear(prefix+".cross_attn.key", n, n, false)
			linear(prefix+".cross_attn.value", n, n, true)
			add(prefix+".cross_attn.out.weight", wtype, initRandom, outGain/sqrt32(n), n, n)
			add(prefix+".cross_attn.out.bias", TypeF32, initRandom, bias, n)
		}
		norm(prefix+".mlp_ln", n)
		linear(prefix+".mlp.0", n, 4*n, true)
		add(prefix+".mlp.2.weight", wtype, initRandom, mlpGain/sqrt32(4*n), 4*n, n)
		add(prefix+".mlp.2.bias", TypeF32, initRandom, bias, n)
	}

	a := h.NAudioState
	add("encoder.positional_embedding", TypeF32, initSinusoid, 0, a, h.NAudioCtx)
	add("encoder.conv1.weight", wtype, initRandom, 1/sqrt32(3*h.NMels), 3, h.NMels, a)
	add("encoder.conv1.bias", TypeF32, initRandom, bias, 1, a)
	add("encoder.conv2.weight", wtype, initRandom, 1/sqrt32(3*a), 3, a, a)
	add("encoder.conv2.bias", TypeF32, initRandom, bias, 1, a)
	for i := range h.NAudioLayer {
		block(fmt.Sprintf("encoder.blocks.%d", i), a, false, 1, 1)
	}
	norm("encoder.ln_post", a)

	// The decoder is scaled so that greedy decoding walks through the
	// vocabulary instead of repeating one token. Logits are the normed final
	// state dotted with the token embeddings (tied, as in whisper); rows of
	// norm 3 give logits of std 3. The current token's own row is part of
	// the residual stream, so if it dominated, each token would predict
	// itself; instead the MLPs (gain 5, output RMS about 3) dominate the
	// stream, and their input is dominated by the current token and the
	// position (token:position:attention RMS about 3:2:1), so the next token
	// is a pseudo-random function of both, nudged by the audio.
	t := h.NTextState
	add("decoder.token_embedding.weight", wtype, initRandom, 3/sqrt32(t), t, h.NVocab)
	add("decoder.positional_embedding", TypeF32, initRandom, 2/sqrt32(t), t, h.NTextCtx)
	for i := range h.NTextLayer {
		block(fmt.Sprintf("decoder.blocks.%d", i), t, true, 1/sqrt32(t), 5)
	}
	norm("decoder.ln", t)
	return ts
}

func sqrt32(n int32) float32 { return float32(math.Sqrt(float64(n))) }

func writeTensor(ctx context.Context, w io.Writer, model string, t tensorSpec, buf []byte) error {
	le := binary.LittleEndian
	var hdr []byte
	hdr = le.AppendUint32(hdr, uint32(len(t.ne)))
	hdr = le.AppendUint32(hdr, uint32(len(t.name)))
	hdr = le.AppendUint32(hdr, uint32(t.typ))
	for _, d := range t.ne {
		hdr = le.AppendUint32(hdr, uint32(d))
	}
	hdr = append(hdr, t.name...)
	if _, err := w.Write(hdr); err != nil {
		return err
	}

	if t.init == initSTFT {
		return writeSTFT(w)
	}
	if t.init == initSinusoid {
		// Whisper's encoder uses fixed sinusoids: for each position, sines
		// of the first half of the channels then cosines, with timescales
		// spaced geometrically from 1 to 10000.
		channels, length := int(t.ne[0]), int(t.ne[1])
		half := channels / 2
		inc := math.Log(10000) / float64(half-1)
		row := make([]byte, 4*channels)
		for p := range length {
			for i := range half {
				x := float64(p) * math.Exp(-inc*float64(i))
				le.PutUint32(row[4*i:], math.Float32bits(float32(math.Sin(x))))
				le.PutUint32(row[4*(half+i):], math.Float32bits(float32(math.Cos(x))))
			}
			if _, err := w.Write(row); err != nil {
				return err
			}
		}
		return nil
	}

	r := newRNG(model + "/" + t.name)
	left := t.bytes()
	for left > 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := buf[:min(int64(len(buf)), left)]
		switch t.init {
		case initRandom:
			r.Fill(chunk, t.typ == TypeF16, t.std)
		case initOnes:
			for i := 0; i < len(chunk); i += 4 {
				le.PutUint32(chunk[i:], math.Float32bits(1))
			}
		case initZeros:
			clear(chunk)
		case initConst:
			for i := 0; i < len(chunk); i += 4 {
				le.PutUint32(chunk[i:], math.Float32bits(t.std))
			}
		}
		if _, err := w.Write(chunk); err != nil {
			return err
		}
		left -= int64(len(chunk))
	}
	return nil
}

// approxSize is the file size with the vocabulary estimated at its usual
// ~6 bytes a token plus the length word.
func approxSize(h Hparams) int64 {
	n := int64(4 + 11*4 + 8 + 4*int64(h.NMels)*nFFTBins + 4 + englishVocabSize*10)
	for _, t := range tensors(h) {
		n += int64(12+4*len(t.ne)+len(t.name)) + t.bytes()
	}
	return n
}
