package testmodel

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

// A Silero VAD model in whisper.cpp's format, as its converter
// (models/convert-silero-vad-to-ggml.py) writes it and
// whisper_vad_init_with_params reads it: the magic, the model type as a
// length-prefixed string, the version (three int32), the window and
// context sizes in samples, the encoder's convolutions (in, out and kernel
// per layer), the LSTM's input and hidden sizes, the final convolution's
// in and out channels, then tensors until end of file in the same record
// layout as a whisper model.

// VADConv is one encoder convolution of a Silero model.
type VADConv struct {
	In, Out, Kernel int32
}

// VADHparams are the header fields of a Silero VAD model file.
type VADHparams struct {
	// Type is "silero-16k" for the 16 kHz model, the only one whisper.cpp
	// runs.
	Type string
	// Version is the Silero release the architecture follows.
	Version [3]int32
	// Window is the frame scored per step, in samples (512); Context the
	// samples Silero carries over between frames (64), which whisper.cpp
	// reads but does not use.
	Window, Context int32
	Encoder         []VADConv
	LSTMInput       int32
	LSTMHidden      int32
	FinalIn         int32
	FinalOut        int32
}

// VADInfo describes a VAD model this package can generate.
type VADInfo struct {
	Name        string
	Hparams     VADHparams
	ApproxBytes int64
	Purpose     string
}

// silero16k is the architecture of Silero VAD v5 and v6 at 16 kHz, which
// whisper.cpp's graph hard-codes (channel counts 128 and 64, an STFT of 256
// samples at a hop of 128).
func silero16k() VADHparams {
	return VADHparams{
		Type: "silero-16k", Version: [3]int32{6, 2, 0}, Window: 512, Context: 64,
		Encoder:   []VADConv{{129, 128, 3}, {128, 64, 3}, {64, 64, 3}, {64, 128, 3}},
		LSTMInput: 128, LSTMHidden: 128, FinalIn: 128, FinalOut: 1,
	}
}

var vadModels = []VADInfo{{
	Name:    "silero-vad-generated",
	Hparams: silero16k(),
	Purpose: "whisper.cpp's Silero VAD (v6.2.0 dimensions) with random weights and the real STFT basis: loading and streaming mechanics",
}}

func init() {
	for i := range vadModels {
		vadModels[i].ApproxBytes = vadSize(vadModels[i].Hparams)
	}
}

// VADNames lists the VAD models this package generates. Generate, Ensure
// and Write accept their names like the whisper models'.
func VADNames() []VADInfo {
	out := slices.Clone(vadModels)
	for i := range out {
		out[i].Hparams.Encoder = slices.Clone(out[i].Hparams.Encoder)
	}
	return out
}

func lookupVAD(name string) (VADInfo, bool) {
	for _, m := range vadModels {
		if m.Name == name {
			return m, true
		}
	}
	return VADInfo{}, false
}

// stftSize is the STFT's filter length and stftBins its frequency bins;
// the basis holds their real parts, then their imaginary parts.
const (
	stftSize = 256
	stftBins = stftSize/2 + 1
)

// vadTensors lists the tensors in the converter's order (encoder, LSTM,
// final convolution, STFT basis) with the types and dimensions it writes:
// convolution weights f16, everything else f32; PyTorch shapes squeezed and
// reversed, so the final convolution's weight is 1-D and its one-element
// bias has no dimensions at all.
func vadTensors(h VADHparams) []tensorSpec {
	var ts []tensorSpec
	add := func(name string, typ int32, init int, std float32, ne ...int32) {
		ts = append(ts, tensorSpec{name: name, ne: ne, typ: typ, init: init, std: std})
	}
	for i, c := range h.Encoder {
		p := fmt.Sprintf("_model.encoder.%d.reparam_conv", i)
		// He initialization: each layer is followed by a ReLU, and a
		// variance of 2/fan-in keeps the activations' scale through the
		// four layers, so speech and silence still differ at the LSTM.
		add(p+".weight", TypeF16, initRandom, sqrt32(2)/sqrt32(c.In*c.Kernel), c.Kernel, c.In, c.Out)
		add(p+".bias", TypeF32, initRandom, 0.02, c.Out)
	}
	// PyTorch's default LSTM initialization, U(±1/sqrt(hidden)).
	lstm := 1 / sqrt32(h.LSTMHidden) / float32(math.Sqrt(3))
	gates := 4 * h.LSTMHidden
	add("_model.decoder.rnn.weight_ih", TypeF32, initRandom, lstm, h.LSTMInput, gates)
	add("_model.decoder.rnn.weight_hh", TypeF32, initRandom, lstm, h.LSTMHidden, gates)
	add("_model.decoder.rnn.bias_ih", TypeF32, initRandom, lstm, gates)
	add("_model.decoder.rnn.bias_hh", TypeF32, initRandom, lstm, gates)
	// The output is sigmoid(w·relu(h) + b). A gain of 12 on the
	// unit-variance scale spreads the logits over a few units, so
	// probabilities vary with the audio instead of sitting at 0.5. The
	// bias is the released v6.2.0 model's (-0.62); with these weights it
	// puts digital silence at 0.45, below the usual 0.5 threshold, so a
	// silent stream stays silent as with a trained model (tested in
	// speech/whisper).
	add("_model.decoder.decoder.2.weight", TypeF16, initRandom, 12/sqrt32(h.FinalIn), h.FinalIn)
	add("_model.decoder.decoder.2.bias", TypeF32, initConst, -0.62)
	add("_model.stft.forward_basis_buffer", TypeF16, initSTFT, 0, stftSize, 1, 2*stftBins)
	return ts
}

// writeVAD writes the VAD model m: header, then tensors.
func writeVAD(ctx context.Context, w *bufio.Writer, m VADInfo) error {
	h := m.Hparams
	le := binary.LittleEndian
	var hdr []byte
	hdr = le.AppendUint32(hdr, Magic)
	hdr = le.AppendUint32(hdr, uint32(len(h.Type)))
	hdr = append(hdr, h.Type...)
	for _, v := range h.Version {
		hdr = le.AppendUint32(hdr, uint32(v))
	}
	hdr = le.AppendUint32(hdr, uint32(h.Window))
	hdr = le.AppendUint32(hdr, uint32(h.Context))
	hdr = le.AppendUint32(hdr, uint32(len(h.Encoder)))
	for _, c := range h.Encoder {
		hdr = le.AppendUint32(hdr, uint32(c.In))
		hdr = le.AppendUint32(hdr, uint32(c.Out))
		hdr = le.AppendUint32(hdr, uint32(c.Kernel))
	}
	for _, v := range []int32{h.LSTMInput, h.LSTMHidden, h.FinalIn, h.FinalOut} {
		hdr = le.AppendUint32(hdr, uint32(v))
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	buf := make([]byte, 1<<16)
	for _, t := range vadTensors(h) {
		if err := writeTensor(ctx, w, m.Name, t, buf); err != nil {
			return fmt.Errorf("tensor %s: %w", t.name, err)
		}
	}
	return nil
}

// STFTBasis returns Silero's fixed STFT filters as stored in the model:
// 2·129 rows of 256 samples, the cosines of bins 0..128 and then the
// negated sines (the real and imaginary parts of the DFT), each multiplied
// by a periodic Hann window. The model computes the spectrum as a strided
// convolution with them.
func STFTBasis() []float32 {
	out := make([]float32, 2*stftBins*stftSize)
	for k := range stftSize {
		win := 0.5 - 0.5*math.Cos(2*math.Pi*float64(k)/stftSize)
		for f := range stftBins {
			phase := 2 * math.Pi * float64(f*k%stftSize) / stftSize
			out[f*stftSize+k] = float32(win * math.Cos(phase))
			out[(stftBins+f)*stftSize+k] = float32(-win * math.Sin(phase))
		}
	}
	return out
}

// writeSTFT writes the basis as f16 in file order (rows of 256).
func writeSTFT(w io.Writer) error {
	basis := STFTBasis()
	row := make([]byte, 2*stftSize)
	for r := 0; r < len(basis); r += stftSize {
		for k, v := range basis[r : r+stftSize] {
			binary.LittleEndian.PutUint16(row[2*k:], modelfile.F32ToF16(v))
		}
		if _, err := w.Write(row); err != nil {
			return err
		}
	}
	return nil
}

// vadSize is the exact file size of a VAD model.
func vadSize(h VADHparams) int64 {
	n := int64(4 + 4 + len(h.Type) + 3*4 + 2*4 + 4 + 12*len(h.Encoder) + 4*4)
	for _, t := range vadTensors(h) {
		n += int64(12+4*len(t.ne)+len(t.name)) + t.bytes()
	}
	return n
}

// VADFile is the parsed header and tensor index of a Silero VAD model.
type VADFile struct {
	Hparams VADHparams
	Tensors []Tensor
}

// Bounds that keep a corrupt VAD header from asking for absurd
// allocations.
const (
	maxVADTypeLen = 256
	maxVADLayers  = 64
)

// ReadVAD parses a Silero VAD model the way whisper.cpp's loader does,
// skipping over tensor data. Like Read, it checks structure only.
func ReadVAD(r io.Reader) (*VADFile, error) {
	p := &parser{r: bufio.NewReaderSize(r, 1<<16)}
	f, err := p.vadFile()
	if err != nil {
		var fe *FormatError
		if errors.As(err, &fe) {
			return nil, err
		}
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return nil, &FormatError{Offset: p.off, Msg: err.Error()}
	}
	return f, nil
}

func (p *parser) vadFile() (*VADFile, error) {
	magic, err := p.u32()
	if err != nil {
		return nil, err
	}
	if magic != Magic {
		return nil, p.fail("bad magic %#08x", magic)
	}
	f := &VADFile{}
	h := &f.Hparams
	n, err := p.i32()
	if err != nil {
		return nil, err
	}
	if n < 0 || n > maxVADTypeLen {
		return nil, p.fail("model type of %d bytes", n)
	}
	typ, err := p.bytes(int(n))
	if err != nil {
		return nil, err
	}
	h.Type = string(typ)
	for _, dst := range []*int32{&h.Version[0], &h.Version[1], &h.Version[2], &h.Window, &h.Context} {
		if *dst, err = p.i32(); err != nil {
			return nil, err
		}
	}
	layers, err := p.i32()
	if err != nil {
		return nil, err
	}
	if layers < 0 || layers > maxVADLayers {
		return nil, p.fail("%d encoder layers", layers)
	}
	h.Encoder = make([]VADConv, layers)
	for i := range h.Encoder {
		c := &h.Encoder[i]
		for _, dst := range []*int32{&c.In, &c.Out, &c.Kernel} {
			if *dst, err = p.i32(); err != nil {
				return nil, err
			}
		}
	}
	for _, dst := range []*int32{&h.LSTMInput, &h.LSTMHidden, &h.FinalIn, &h.FinalOut} {
		if *dst, err = p.i32(); err != nil {
			return nil, err
		}
	}
	for {
		if _, err := p.r.Peek(1); err == io.EOF {
			return f, nil
		}
		t, err := p.tensor()
		if errors.Is(err, io.EOF) {
			return nil, io.ErrUnexpectedEOF
		}
		if err != nil {
			return nil, err
		}
		f.Tensors = append(f.Tensors, t)
	}
}
