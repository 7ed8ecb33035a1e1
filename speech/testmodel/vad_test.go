package testmodel

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
	"github.com/medscribe/medscribe/speech/speechtest"
)

const vadName = "silero-vad-generated"

// loaderVADTensors is whisper_vad_init_with_params' create_tensor list
// (whisper.rn 0.7.4's whisper.cpp) for hparams h: each tensor's type and
// the dimensions it is created with (ggml order). The loader compares the
// file's dimensions, padded with ones, with the first three of these, and
// the file's element size with the type's.
func loaderVADTensors(h VADHparams) map[string]expectation {
	want := map[string]expectation{
		"_model.stft.forward_basis_buffer": {[]int32{256, 1, 258}, TypeF16},
	}
	for i, c := range h.Encoder {
		p := fmt.Sprintf("_model.encoder.%d.reparam_conv", i)
		want[p+".weight"] = expectation{[]int32{c.Kernel, c.In, c.Out}, TypeF16}
		want[p+".bias"] = expectation{[]int32{c.Out}, TypeF32}
	}
	gates := 4 * h.LSTMHidden
	want["_model.decoder.rnn.weight_ih"] = expectation{[]int32{h.LSTMHidden, gates}, TypeF32}
	want["_model.decoder.rnn.bias_ih"] = expectation{[]int32{gates}, TypeF32}
	want["_model.decoder.rnn.weight_hh"] = expectation{[]int32{h.LSTMHidden, gates}, TypeF32}
	want["_model.decoder.rnn.bias_hh"] = expectation{[]int32{gates}, TypeF32}
	want["_model.decoder.decoder.2.weight"] = expectation{[]int32{h.FinalIn, 1}, TypeF16}
	want["_model.decoder.decoder.2.bias"] = expectation{[]int32{1}, TypeF32}
	// The loader sizes its context for exactly this many tensors.
	if n := 2*len(h.Encoder) + 4 + 2 + 1; len(want) != n {
		panic(fmt.Sprintf("table has %d tensors, loader budgets %d", len(want), n))
	}
	return want
}

// converterOrder is the order and the number of dimensions in which
// convert-silero-vad-to-ggml.py writes the tensors.
var converterOrder = []struct {
	name  string
	nDims int
}{
	{"_model.encoder.0.reparam_conv.weight", 3}, {"_model.encoder.0.reparam_conv.bias", 1},
	{"_model.encoder.1.reparam_conv.weight", 3}, {"_model.encoder.1.reparam_conv.bias", 1},
	{"_model.encoder.2.reparam_conv.weight", 3}, {"_model.encoder.2.reparam_conv.bias", 1},
	{"_model.encoder.3.reparam_conv.weight", 3}, {"_model.encoder.3.reparam_conv.bias", 1},
	{"_model.decoder.rnn.weight_ih", 2}, {"_model.decoder.rnn.weight_hh", 2},
	{"_model.decoder.rnn.bias_ih", 1}, {"_model.decoder.rnn.bias_hh", 1},
	{"_model.decoder.decoder.2.weight", 1}, {"_model.decoder.decoder.2.bias", 0},
	{"_model.stft.forward_basis_buffer", 3},
}

// pad3 pads ggml dimensions with ones to the three the loader compares.
func pad3(d []int32) [3]int32 {
	out := [3]int32{1, 1, 1}
	copy(out[:], d)
	return out
}

func writeVADFile(t *testing.T) (string, []byte) {
	t.Helper()
	var buf bytes.Buffer
	// No tokenizer: a VAD model has no vocabulary, so a bogus directory
	// must not matter.
	if err := Write(context.Background(), &buf, vadName, &Options{TokenizerDir: t.TempDir()}); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), vadName+".bin")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return path, buf.Bytes()
}

// checkVADTable checks a parsed VAD file against the loader and the
// converter.
func checkVADTable(t *testing.T, f *VADFile) {
	t.Helper()
	want := silero16k()
	got := f.Hparams
	got.Version = want.Version // the version is informational
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("hparams %+v, want %+v", f.Hparams, want)
	}
	exp := loaderVADTensors(f.Hparams)
	if len(f.Tensors) != len(converterOrder) {
		t.Fatalf("%d tensors, want %d", len(f.Tensors), len(converterOrder))
	}
	for i, ts := range f.Tensors {
		if ts.Name != converterOrder[i].name || len(ts.Dims) != converterOrder[i].nDims {
			t.Errorf("tensor %d is %s with %d dims; the converter writes %s with %d", i, ts.Name, len(ts.Dims),
				converterOrder[i].name, converterOrder[i].nDims)
		}
		e, ok := exp[ts.Name]
		if !ok {
			t.Errorf("tensor %s: the loader does not know it", ts.Name)
			continue
		}
		if pad3(ts.Dims) != pad3(e.dims) {
			t.Errorf("tensor %s: dims %v, loader wants %v", ts.Name, ts.Dims, e.dims)
		}
		if ts.Type != e.typ {
			t.Errorf("tensor %s: type %d, loader wants %d", ts.Name, ts.Type, e.typ)
		}
	}
}

func TestVADMatchesLoader(t *testing.T) {
	t.Parallel()
	_, data := writeVADFile(t)
	info, ok := lookupVAD(vadName)
	if !ok || len(VADNames()) != 1 || VADNames()[0].Name != vadName {
		t.Fatalf("VADNames() = %+v", VADNames())
	}
	if int64(len(data)) != info.ApproxBytes {
		t.Errorf("file is %d bytes, VADNames() says %d", len(data), info.ApproxBytes)
	}
	f, err := ReadVAD(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	checkVADTable(t, f)
	checkVADWeights(t, data, f)
}

// checkVADWeights: the STFT basis is exactly STFTBasis in f16, the other
// tensors are finite, centred noise except the constant final bias.
func checkVADWeights(t *testing.T, data []byte, f *VADFile) {
	t.Helper()
	basis := STFTBasis()
	for _, ts := range f.Tensors {
		raw := data[ts.Offset : ts.Offset+ts.Size]
		vals := decode(ts.Type, raw)
		switch ts.Name {
		case "_model.stft.forward_basis_buffer":
			for i, v := range vals {
				if want := modelfile.F16ToF32(modelfile.F32ToF16(basis[i])); v != want {
					t.Fatalf("STFT basis value %d = %g, want %g", i, v, want)
				}
			}
			continue
		case "_model.decoder.decoder.2.bias":
			if len(vals) != 1 || vals[0] != -0.62 {
				t.Errorf("final bias %v, want [-0.62]", vals)
			}
			continue
		}
		var sum, sq float64
		for _, v := range vals {
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				t.Fatalf("tensor %s holds %g", ts.Name, v)
			}
			sum += float64(v)
			sq += float64(v) * float64(v)
		}
		n := float64(len(vals))
		mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
		// Five standard errors around zero: the seeds are fixed, so this
		// checks the generator, not luck.
		if std == 0 || std > 2 || math.Abs(mean) > 5*std/math.Sqrt(n) {
			t.Errorf("%s: mean %g std %g; want centred noise", ts.Name, mean, std)
		}
	}
}

func decode(typ int32, raw []byte) []float32 {
	if typ == TypeF16 {
		out := make([]float32, len(raw)/2)
		for i := range out {
			out[i] = modelfile.F16ToF32(binary.LittleEndian.Uint16(raw[2*i:]))
		}
		return out
	}
	out := make([]float32, len(raw)/4)
	for i := range out {
		out[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}
	return out
}

// TestVADMatchesReleased compares the generated model with a released one
// (skipped when none is on the machine): the same header apart from the
// version, the same tensor records in the same order, and the same STFT
// basis to within one f16 step.
func TestVADMatchesReleased(t *testing.T) {
	t.Parallel()
	path := speechtest.SileroModel(t)
	real, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rf, err := ReadVAD(bytes.NewReader(real))
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	t.Logf("%s: Silero %v, %d bytes", filepath.Base(path), rf.Hparams.Version, len(real))
	checkVADTable(t, rf)
	_, data := writeVADFile(t)
	gf, err := ReadVAD(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	for i := range gf.Tensors {
		g, r := gf.Tensors[i], rf.Tensors[i]
		if g.Name != r.Name || g.Type != r.Type || fmt.Sprint(g.Dims) != fmt.Sprint(r.Dims) || g.Size != r.Size {
			t.Errorf("tensor %d: generated %+v, released %+v", i, g, r)
		}
		if g.Name != "_model.stft.forward_basis_buffer" {
			continue
		}
		gv := decode(g.Type, data[g.Offset:g.Offset+g.Size])
		rv := decode(r.Type, real[r.Offset:r.Offset+r.Size])
		for j := range gv {
			// One f16 step at the value's magnitude (values are at most 1).
			if d := math.Abs(float64(gv[j] - rv[j])); d > 1.0/1024 {
				t.Fatalf("STFT basis value %d: generated %g, released %g", j, gv[j], rv[j])
			}
		}
	}
}

func TestVADDeterministicAndCached(t *testing.T) {
	t.Parallel()
	_, a := writeVADFile(t)
	_, b := writeVADFile(t)
	if sha256.Sum256(a) != sha256.Sum256(b) {
		t.Fatal("two writes differ")
	}
	dir := t.TempDir()
	first, err := Ensure(context.Background(), dir, vadName, nil)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated || first.Path != filepath.Join(dir, vadName+".bin") || first.SHA256 != fmt.Sprintf("%x", sha256.Sum256(a)) {
		t.Fatalf("first Ensure = %+v", first)
	}
	second, err := Ensure(context.Background(), dir, vadName, nil)
	if err != nil || second.Generated || second.SHA256 != first.SHA256 {
		t.Fatalf("second Ensure = %+v, %v; want the cached file", second, err)
	}
}

func TestReadVADRejects(t *testing.T) {
	t.Parallel()
	_, good := writeVADFile(t)
	if _, err := ReadVAD(bytes.NewReader(good)); err != nil {
		t.Fatal(err)
	}
	neg := bytes.Clone(good)
	binary.LittleEndian.PutUint32(neg[4:], 0xffffffff)
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("GGUF"), good[4:]...)},
		{"negative type length", neg},
		{"truncated header", good[:30]},
		{"truncated tensor data", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
	}
	for _, tt := range tests {
		_, err := ReadVAD(bytes.NewReader(tt.data))
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a *FormatError", tt.name, err)
		}
	}
}

func FuzzReadVAD(f *testing.F) {
	var buf bytes.Buffer
	if err := Write(context.Background(), &buf, vadName, nil); err != nil {
		f.Fatal(err)
	}
	good := buf.Bytes()
	f.Add(good[:2048])
	f.Add(good[:200])
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := ReadVAD(bytes.NewReader(data))
		if err != nil {
			var fe *FormatError
			if !errors.As(err, &fe) {
				t.Fatalf("error %v is not a *FormatError", err)
			}
			return
		}
		for _, ts := range file.Tensors {
			if ts.Offset < 0 || ts.Offset+ts.Size > int64(len(data)) {
				t.Fatalf("tensor %s at %d+%d outside %d bytes", ts.Name, ts.Offset, ts.Size, len(data))
			}
		}
	})
}
