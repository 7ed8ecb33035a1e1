package whisper

import (
	"encoding/binary"
	"fmt"
	"maps"
	"slices"
)

// VADFormatError reports a VAD model file that is not the Silero 16 kHz
// model in whisper.cpp's format. whisper.cpp's own loader trusts the
// lengths and dimensions in the file (a bad one ends the process) and its
// graph hard-codes Silero's channel counts, so every file is checked here
// first.
type VADFormatError struct {
	Offset int64
	Msg    string
}

func (e *VADFormatError) Error() string {
	return fmt.Sprintf("silero vad model: %s at offset %d", e.Msg, e.Offset)
}

// vadTensor is a tensor whisper.cpp's VAD loader creates: its type (0 f32,
// 1 f16) and dimensions, padded with ones to the three the loader checks.
type vadTensor struct {
	typ  int32
	dims [3]int32
}

// sileroTensors are the tensors of the Silero 16 kHz model as
// whisper_vad_init_with_params creates them.
var sileroTensors = map[string]vadTensor{
	"_model.stft.forward_basis_buffer":     {1, [3]int32{256, 1, 258}},
	"_model.encoder.0.reparam_conv.weight": {1, [3]int32{3, 129, 128}},
	"_model.encoder.0.reparam_conv.bias":   {0, [3]int32{128, 1, 1}},
	"_model.encoder.1.reparam_conv.weight": {1, [3]int32{3, 128, 64}},
	"_model.encoder.1.reparam_conv.bias":   {0, [3]int32{64, 1, 1}},
	"_model.encoder.2.reparam_conv.weight": {1, [3]int32{3, 64, 64}},
	"_model.encoder.2.reparam_conv.bias":   {0, [3]int32{64, 1, 1}},
	"_model.encoder.3.reparam_conv.weight": {1, [3]int32{3, 64, 128}},
	"_model.encoder.3.reparam_conv.bias":   {0, [3]int32{128, 1, 1}},
	"_model.decoder.rnn.weight_ih":         {0, [3]int32{128, 512, 1}},
	"_model.decoder.rnn.weight_hh":         {0, [3]int32{128, 512, 1}},
	"_model.decoder.rnn.bias_ih":           {0, [3]int32{512, 1, 1}},
	"_model.decoder.rnn.bias_hh":           {0, [3]int32{512, 1, 1}},
	"_model.decoder.decoder.2.weight":      {1, [3]int32{128, 1, 1}},
	"_model.decoder.decoder.2.bias":        {0, [3]int32{1, 1, 1}},
}

// sileroHeader are the int32 header fields after the version, in file
// order: window, context, 4 encoder layers as (in, out, kernel), LSTM input
// and hidden sizes, final convolution in and out. The context is not
// checked: whisper.cpp reads it and never uses it.
var sileroHeader = []int32{512, -1, 4, 129, 128, 3, 128, 64, 3, 64, 64, 3, 64, 128, 3, 128, 128, 128, 1}

// sileroWindow is the frame whisper.cpp scores per call, in samples.
const sileroWindow = 512

// checkVADFile verifies that data is a complete Silero 16 kHz model that
// whisper.cpp can load and run: the header names that architecture, every
// tensor it needs is present once with the right type and dimensions, and
// nothing follows the last one.
func checkVADFile(data []byte) error {
	off := 0
	fail := func(format string, args ...any) error {
		return &VADFormatError{Offset: int64(off), Msg: fmt.Sprintf(format, args...)}
	}
	i32 := func() (int32, bool) {
		if len(data)-off < 4 {
			return 0, false
		}
		v := int32(binary.LittleEndian.Uint32(data[off:]))
		off += 4
		return v, true
	}
	magic, ok := i32()
	if !ok {
		return fail("truncated")
	}
	if uint32(magic) != 0x67676d6c {
		return fail("bad magic %#08x", uint32(magic))
	}
	n, ok := i32()
	if !ok || n < 0 || n > 64 || len(data)-off < int(n) {
		return fail("bad model type length")
	}
	if typ := string(data[off : off+int(n)]); typ != "silero-16k" {
		return fail("model type %q, want silero-16k", typ)
	}
	off += int(n)
	for range 3 { // version
		if _, ok := i32(); !ok {
			return fail("truncated")
		}
	}
	for i, want := range sileroHeader {
		v, ok := i32()
		if !ok {
			return fail("truncated")
		}
		if want >= 0 && v != want {
			return fail("header field %d is %d, the Silero 16 kHz model has %d", i, v, want)
		}
	}
	seen := map[string]bool{}
	for off < len(data) {
		nDims, ok1 := i32()
		nameLen, ok2 := i32()
		typ, ok3 := i32()
		if !ok1 || !ok2 || !ok3 {
			return fail("truncated tensor header")
		}
		if nDims < 0 || nDims > 3 || nameLen <= 0 || nameLen > 128 {
			return fail("bad tensor header (%d dims, name of %d bytes)", nDims, nameLen)
		}
		dims := [3]int32{1, 1, 1}
		for d := range nDims {
			if dims[d], ok = i32(); !ok {
				return fail("truncated tensor header")
			}
		}
		if len(data)-off < int(nameLen) {
			return fail("truncated tensor name")
		}
		name := string(data[off : off+int(nameLen)])
		off += int(nameLen)
		want, known := sileroTensors[name]
		switch {
		case !known:
			return fail("unknown tensor %q", name)
		case seen[name]:
			return fail("tensor %s appears twice", name)
		case typ != want.typ || dims != want.dims:
			return fail("tensor %s has type %d and dimensions %v, want type %d and %v", name, typ, dims, want.typ, want.dims)
		}
		seen[name] = true
		size := int(dims[0]) * int(dims[1]) * int(dims[2]) * 4
		if typ == 1 {
			size /= 2
		}
		if len(data)-off < size {
			return fail("tensor %s truncated", name)
		}
		off += size
	}
	for _, name := range slices.Sorted(maps.Keys(sileroTensors)) {
		if !seen[name] {
			return fail("tensor %s missing", name)
		}
	}
	return nil
}
