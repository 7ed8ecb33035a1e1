package testmodel

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"testing"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

// tokenizerOrSkip finds the ollama tokenizer data or skips: the tests need
// the module cache (go mod download), not the network.
func tokenizerOrSkip(t testing.TB) string {
	t.Helper()
	dir, err := modelfile.TokenizerDir(context.Background(), "")
	if errors.Is(err, modelfile.ErrNoTokenizer) {
		t.Skipf("ollama tokenizer data not available (run go mod download): %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return dir
}

// Type classes in whisper.cpp's loader: F32 always, the model's weight type
// (wtype, from ftype), and the convolution type (vtype: f16 unless the model
// is f32).
const (
	classF32 = iota
	classW
	classV
)

type shapeFn func(h Hparams, n int32) []int32

func dims(f func(h Hparams, n int32) []int32) shapeFn { return f }

// loaderTensors is whisper_model_load's create_tensor list (whisper.rn
// 0.7.4's whisper.cpp), one row per call: the name, whether it repeats per
// encoder or decoder layer, the shape passed to ggml_new_tensor_Nd with n as
// the layer's state width, and the type class.
var loaderTensors = []struct {
	name  string
	layer string // "", "encoder" or "decoder"
	shape shapeFn
	class int
}{
	{"encoder.positional_embedding", "", dims(func(h Hparams, _ int32) []int32 { return []int32{h.NAudioState, h.NAudioCtx} }), classF32},
	{"encoder.conv1.weight", "", dims(func(h Hparams, _ int32) []int32 { return []int32{3, h.NMels, h.NAudioState} }), classV},
	{"encoder.conv1.bias", "", dims(func(h Hparams, _ int32) []int32 { return []int32{1, h.NAudioState} }), classF32},
	{"encoder.conv2.weight", "", dims(func(h Hparams, _ int32) []int32 { return []int32{3, h.NAudioState, h.NAudioState} }), classV},
	{"encoder.conv2.bias", "", dims(func(h Hparams, _ int32) []int32 { return []int32{1, h.NAudioState} }), classF32},
	{"encoder.ln_post.weight", "", dims(func(h Hparams, _ int32) []int32 { return []int32{h.NAudioState} }), classF32},
	{"encoder.ln_post.bias", "", dims(func(h Hparams, _ int32) []int32 { return []int32{h.NAudioState} }), classF32},
	{"decoder.positional_embedding", "", dims(func(h Hparams, _ int32) []int32 { return []int32{h.NTextState, h.NTextCtx} }), classF32},
	{"decoder.token_embedding.weight", "", dims(func(h Hparams, _ int32) []int32 { return []int32{h.NTextState, h.NVocab} }), classW},
	{"decoder.ln.weight", "", dims(func(h Hparams, _ int32) []int32 { return []int32{h.NTextState} }), classF32},
	{"decoder.ln.bias", "", dims(func(h Hparams, _ int32) []int32 { return []int32{h.NTextState} }), classF32},
}

// Per-layer rows, shared by encoder and decoder blocks (n = state width).
var loaderLayerTensors = []struct {
	suffix string
	shape  func(n int32) []int32
	class  int
	cross  bool // decoder only
}{
	{"mlp_ln.weight", func(n int32) []int32 { return []int32{n} }, classF32, false},
	{"mlp_ln.bias", func(n int32) []int32 { return []int32{n} }, classF32, false},
	{"mlp.0.weight", func(n int32) []int32 { return []int32{n, 4 * n} }, classW, false},
	{"mlp.0.bias", func(n int32) []int32 { return []int32{4 * n} }, classF32, false},
	{"mlp.2.weight", func(n int32) []int32 { return []int32{4 * n, n} }, classW, false},
	{"mlp.2.bias", func(n int32) []int32 { return []int32{n} }, classF32, false},
	{"attn_ln.weight", func(n int32) []int32 { return []int32{n} }, classF32, false},
	{"attn_ln.bias", func(n int32) []int32 { return []int32{n} }, classF32, false},
	{"attn.query.weight", func(n int32) []int32 { return []int32{n, n} }, classW, false},
	{"attn.query.bias", func(n int32) []int32 { return []int32{n} }, classF32, false},
	{"attn.key.weight", func(n int32) []int32 { return []int32{n, n} }, classW, false},
	{"attn.value.weight", func(n int32) []int32 { return []int32{n, n} }, classW, false},
	{"attn.value.bias", func(n int32) []int32 { return []int32{n} }, classF32, false},
	{"attn.out.weight", func(n int32) []int32 { return []int32{n, n} }, classW, false},
	{"attn.out.bias", func(n int32) []int32 { return []int32{n} }, classF32, false},
	{"cross_attn_ln.weight", func(n int32) []int32 { return []int32{n} }, classF32, true},
	{"cross_attn_ln.bias", func(n int32) []int32 { return []int32{n} }, classF32, true},
	{"cross_attn.query.weight", func(n int32) []int32 { return []int32{n, n} }, classW, true},
	{"cross_attn.query.bias", func(n int32) []int32 { return []int32{n} }, classF32, true},
	{"cross_attn.key.weight", func(n int32) []int32 { return []int32{n, n} }, classW, true},
	{"cross_attn.value.weight", func(n int32) []int32 { return []int32{n, n} }, classW, true},
	{"cross_attn.value.bias", func(n int32) []int32 { return []int32{n} }, classF32, true},
	{"cross_attn.out.weight", func(n int32) []int32 { return []int32{n, n} }, classW, true},
	{"cross_attn.out.bias", func(n int32) []int32 { return []int32{n} }, classF32, true},
}

type expectation struct {
	dims []int32
	typ  int32
}

func loaderExpectations(h Hparams) map[string]expectation {
	wtype := TypeF32
	if h.FType == 1 {
		wtype = TypeF16
	}
	vtype := TypeF16
	if wtype == TypeF32 {
		vtype = TypeF32
	}
	typeOf := func(class int) int32 {
		switch class {
		case classW:
			return wtype
		case classV:
			return vtype
		}
		return TypeF32
	}
	want := map[string]expectation{}
	for _, e := range loaderTensors {
		want[e.name] = expectation{e.shape(h, 0), typeOf(e.class)}
	}
	for _, side := range []struct {
		prefix string
		layers int32
		n      int32
		cross  bool
	}{{"encoder", h.NAudioLayer, h.NAudioState, false}, {"decoder", h.NTextLayer, h.NTextState, true}} {
		for i := range side.layers {
			for _, e := range loaderLayerTensors {
				if e.cross && !side.cross {
					continue
				}
				want[fmt.Sprintf("%s.blocks.%d.%s", side.prefix, i, e.suffix)] = expectation{e.shape(side.n), typeOf(e.class)}
			}
		}
	}
	// The loader sizes its context for exactly this many tensors.
	if n := 10 + 15 + 15*int(h.NAudioLayer) + 24*int(h.NTextLayer); len(want) > n {
		panic(fmt.Sprintf("table has %d tensors, loader budgets %d", len(want), n))
	}
	return want
}

func TestModelsMatchLoader(t *testing.T) {
	t.Parallel()
	tokDir := tokenizerOrSkip(t)
	wantDims := map[string]Hparams{
		// The dimensions of the released tiny.en and the micro test model.
		"whisper-tiny.en": {51864, 1500, 384, 6, 4, 448, 384, 6, 4, 80, 1},
		"whisper-micro":   {51864, 1500, 64, 1, 1, 448, 64, 1, 1, 80, 1},
	}
	if len(Names()) != len(wantDims) {
		t.Fatalf("Names() has %d models, test knows %d", len(Names()), len(wantDims))
	}
	for _, m := range Names() {
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			path := filepath.Join(t.TempDir(), m.Name+".bin")
			fh, err := os.Create(path)
			if err != nil {
				t.Fatal(err)
			}
			if err := Write(context.Background(), fh, m.Name, &Options{TokenizerDir: tokDir}); err != nil {
				t.Fatal(err)
			}
			if err := fh.Close(); err != nil {
				t.Fatal(err)
			}
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if d := math.Abs(float64(fi.Size()-m.ApproxBytes)) / float64(fi.Size()); d > 0.01 {
				t.Errorf("size %d, Names() says about %d", fi.Size(), m.ApproxBytes)
			}
			t.Logf("%s: %d bytes", m.Name, fi.Size())

			fh, err = os.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			defer fh.Close()
			f, err := Read(fh)
			if err != nil {
				t.Fatal(err)
			}
			h := wantDims[m.Name]
			if f.Hparams != h {
				t.Fatalf("hparams %+v, want %+v", f.Hparams, h)
			}
			if f.MelCount != 80 || f.MelBins != 201 {
				t.Errorf("filterbank %d×%d, want 80×201", f.MelCount, f.MelBins)
			}
			for i, v := range MelFilters(80) {
				if f.Filters[i] != v {
					t.Fatalf("filter value %d = %g, want %g", i, f.Filters[i], v)
				}
			}
			checkVocab(t, f.Vocab)

			want := loaderExpectations(h)
			seen := map[string]bool{}
			for _, ts := range f.Tensors {
				e, ok := want[ts.Name]
				if !ok {
					t.Errorf("tensor %s: the loader does not know it (it would fail with \"unknown tensor\")", ts.Name)
					continue
				}
				if seen[ts.Name] {
					t.Errorf("tensor %s written twice", ts.Name)
				}
				seen[ts.Name] = true
				if fmt.Sprint(ts.Dims) != fmt.Sprint(e.dims) {
					t.Errorf("tensor %s: dims %v, loader wants %v", ts.Name, ts.Dims, e.dims)
				}
				if ts.Type != e.typ {
					t.Errorf("tensor %s: type %d, loader wants %d", ts.Name, ts.Type, e.typ)
				}
			}
			for name := range want {
				if !seen[name] {
					t.Errorf("tensor %s missing (the loader would fail with \"not all tensors loaded\")", name)
				}
			}
			checkWeights(t, fh, f)
		})
	}
}

func checkVocab(t *testing.T, vocab [][]byte) {
	t.Helper()
	if len(vocab) != englishVocabSize {
		t.Fatalf("vocabulary has %d tokens, want %d", len(vocab), englishVocabSize)
	}
	index := map[string]int{}
	for id, tok := range vocab {
		if len(tok) == 0 {
			t.Fatalf("token %d is empty", id)
		}
		if prev, dup := index[string(tok)]; dup {
			t.Fatalf("tokens %d and %d are both %q", prev, id, tok)
		}
		index[string(tok)] = id
	}
	// Byte-level BPE ids: the printable bytes first, then the shifted ones
	// (space is 220, newline 198), then merges by frequency.
	for tok, id := range map[string]int{"!": 0, "A": 32, " ": 220, "\n": 198, " the": 279} {
		if got, ok := index[tok]; !ok || got != id {
			t.Errorf("token %q has id %d (present %v), want %d", tok, got, ok, id)
		}
	}
	for _, word := range []string{" patient", " blood", " pressure", " daily", " tablet"} {
		if _, ok := index[word]; !ok {
			t.Errorf("clinical word %q is not a single token", word)
		}
	}
}

// checkWeights reads every tensor's data: finite values, norms at 1 and 0,
// noise with roughly the intended spread.
func checkWeights(t *testing.T, r io.ReaderAt, f *File) {
	t.Helper()
	for _, ts := range f.Tensors {
		raw := make([]byte, ts.Size)
		if _, err := r.ReadAt(raw, ts.Offset); err != nil {
			t.Fatalf("tensor %s: %v", ts.Name, err)
		}
		vals := make([]float64, 0, ts.Size/2)
		if ts.Type == TypeF16 {
			for i := 0; i < len(raw); i += 2 {
				vals = append(vals, float64(modelfile.F16ToF32(binary.LittleEndian.Uint16(raw[i:]))))
			}
		} else {
			for i := 0; i < len(raw); i += 4 {
				vals = append(vals, float64(math.Float32frombits(binary.LittleEndian.Uint32(raw[i:]))))
			}
		}
		var sum, sq float64
		for _, v := range vals {
			if math.IsNaN(v) || math.IsInf(v, 0) {
				t.Fatalf("tensor %s holds %g", ts.Name, v)
			}
			sum += v
			sq += v * v
		}
		n := float64(len(vals))
		mean, std := sum/n, math.Sqrt(sq/n-(sum/n)*(sum/n))
		isNorm := bytes.Contains([]byte(ts.Name), []byte("ln")) && !bytes.Contains([]byte(ts.Name), []byte("attn."))
		switch {
		case isNorm && bytes.HasSuffix([]byte(ts.Name), []byte(".weight")):
			if mean != 1 || std != 0 {
				t.Errorf("norm %s: mean %g std %g, want all 1", ts.Name, mean, std)
			}
		case isNorm:
			if mean != 0 || std != 0 {
				t.Errorf("norm %s: mean %g std %g, want all 0", ts.Name, mean, std)
			}
		case ts.Name == "encoder.positional_embedding":
			// sin and cos: every value in [-1, 1], mean square 1/2.
			if math.Abs(sq/n-0.5) > 0.05 {
				t.Errorf("%s: mean square %g, want 0.5", ts.Name, sq/n)
			}
		default:
			// Five standard errors: the seeds are fixed, so this is a
			// check on the generator, not a flaky statistic.
			if std == 0 || std > 0.5 || math.Abs(mean) > 5*std/math.Sqrt(n) {
				t.Errorf("%s: mean %g std %g; want centred noise", ts.Name, mean, std)
			}
		}
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	tokDir := tokenizerOrSkip(t)
	sum := func() [32]byte {
		h := sha256.New()
		if err := Write(context.Background(), h, "whisper-micro", &Options{TokenizerDir: tokDir}); err != nil {
			t.Fatal(err)
		}
		return [32]byte(h.Sum(nil))
	}
	if a, b := sum(), sum(); a != b {
		t.Errorf("two writes differ: %x vs %x", a, b)
	}
}

func TestEnsureCache(t *testing.T) {
	t.Parallel()
	tokDir := tokenizerOrSkip(t)
	dir := t.TempDir()
	ctx := context.Background()
	opts := &Options{TokenizerDir: tokDir}

	first, err := Ensure(ctx, dir, "whisper-micro", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated || first.Path != filepath.Join(dir, "whisper-micro.bin") {
		t.Fatalf("first Ensure = %+v", first)
	}
	for _, p := range []string{first.Path, first.Path + ".json"} {
		if fi, err := os.Stat(p); err != nil || fi.Mode().Perm() != 0o644 {
			t.Errorf("%s: %v, %v; want a 0644 file", p, fi.Mode(), err)
		}
	}
	second, err := Ensure(ctx, dir, "whisper-micro", opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.Generated || second.SHA256 != first.SHA256 || second.Size != first.Size {
		t.Errorf("second Ensure = %+v, want the cached %+v", second, first)
	}

	// A damaged file is detected by its hash and rewritten.
	fh, err := os.OpenFile(first.Path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fh.WriteAt([]byte{0xff}, first.Size/2); err != nil {
		t.Fatal(err)
	}
	fh.Close()
	third, err := Ensure(ctx, dir, "whisper-micro", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !third.Generated || third.SHA256 != first.SHA256 {
		t.Errorf("after damage Ensure = %+v, want a regenerated identical file", third)
	}

	// A sidecar from another generator version does not count.
	sc, err := os.ReadFile(first.Path + ".json")
	if err != nil {
		t.Fatal(err)
	}
	stale := bytes.Replace(sc, fmt.Appendf(nil, `"version": %d`, Version), []byte(`"version": 0`), 1)
	if bytes.Equal(stale, sc) {
		t.Fatalf("sidecar has no version field: %s", sc)
	}
	if err := os.WriteFile(first.Path+".json", stale, 0o644); err != nil {
		t.Fatal(err)
	}
	fourth, err := Ensure(ctx, dir, "whisper-micro", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !fourth.Generated {
		t.Error("a stale sidecar was trusted")
	}

	entries, _ := os.ReadDir(dir)
	if len(entries) != 2 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("cache dir holds %v, want the model and its sidecar only", names)
	}
}

func TestEnsureErrors(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	if _, err := Ensure(ctx, t.TempDir(), "whisper-huge", nil); err == nil {
		t.Error("unknown name accepted")
	}
	_, err := Ensure(ctx, t.TempDir(), "whisper-micro", &Options{TokenizerDir: t.TempDir()})
	if err == nil {
		t.Error("empty tokenizer dir accepted")
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	tokDir := tokenizerOrSkip(t)
	dir := t.TempDir()
	if _, err := Ensure(cctx, dir, "whisper-micro", &Options{TokenizerDir: tokDir}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Ensure: %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Errorf("cancelled Ensure left %d files", len(entries))
	}
}

func TestDefaultDir(t *testing.T) {
	t.Setenv("MEDSCRIBE_CACHE", "/x/cache")
	if d, err := DefaultDir(); err != nil || d != "/x/cache/testmodels" {
		t.Errorf("DefaultDir() = %q, %v", d, err)
	}
}

// tinyFile is a structurally complete whisper file small enough to fuzz.
func tinyFile(t testing.TB) []byte {
	var buf bytes.Buffer
	bw := bufio.NewWriter(&buf)
	m := Info{Name: "fuzz", Hparams: Hparams{NVocab: 4, NAudioCtx: 2, NAudioState: 2, NAudioHead: 1, NAudioLayer: 1,
		NTextCtx: 2, NTextState: 2, NTextHead: 1, NTextLayer: 1, NMels: 2, FType: 1}}
	if err := writeModel(context.Background(), bw, m, [][]byte{[]byte("a"), []byte(" b")}); err != nil {
		t.Fatal(err)
	}
	bw.Flush()
	return buf.Bytes()
}

func TestReadRejects(t *testing.T) {
	t.Parallel()
	good := tinyFile(t)
	if _, err := Read(bytes.NewReader(good)); err != nil {
		t.Fatalf("tiny file: %v", err)
	}
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"bad magic", append([]byte("GGUF"), good[4:]...)},
		{"truncated header", good[:20]},
		{"truncated tensor data", good[:len(good)-1]},
		{"trailing byte", append(bytes.Clone(good), 0)},
	}
	for _, tt := range tests {
		_, err := Read(bytes.NewReader(tt.data))
		var fe *FormatError
		if !errors.As(err, &fe) {
			t.Errorf("%s: err = %v, want a *FormatError", tt.name, err)
		}
	}
}

func FuzzRead(f *testing.F) {
	good := tinyFile(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Read(bytes.NewReader(data))
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

func BenchmarkWrite(b *testing.B) {
	tokDir := tokenizerOrSkip(b)
	for _, m := range Names() {
		b.Run(m.Name, func(b *testing.B) {
			b.SetBytes(m.ApproxBytes)
			for b.Loop() {
				if err := Write(context.Background(), io.Discard, m.Name, &Options{TokenizerDir: tokDir}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
