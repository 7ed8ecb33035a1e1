package testmodel

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/ollama/ollama/fs/ggml"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

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

// Generated files are shared by the tests of one run; each is written once.
var (
	filesMu  sync.Mutex
	files    = map[string]string{}
	filesDir string
)

func modelFile(t *testing.T, name string) string {
	t.Helper()
	tokDir := tokenizerOrSkip(t)
	filesMu.Lock()
	defer filesMu.Unlock()
	if p, ok := files[name]; ok {
		return p
	}
	if filesDir == "" {
		d, err := os.MkdirTemp("", "gemma3-testmodel-")
		if err != nil {
			t.Fatal(err)
		}
		filesDir = d
	}
	r, err := Ensure(context.Background(), filesDir, name, &Options{TokenizerDir: tokDir})
	if err != nil {
		t.Fatal(err)
	}
	files[name] = r.Path
	return r.Path
}

func TestMain(m *testing.M) {
	code := m.Run()
	if filesDir != "" {
		os.RemoveAll(filesDir)
	}
	os.Exit(code)
}

func decode(t *testing.T, path string) (*ggml.GGML, *os.File) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	g, err := ggml.Decode(f, -1)
	if err != nil {
		t.Fatalf("decode %s: %v", path, err)
	}
	return g, f
}

// The published parameter counts of the Gemma 3 text models (Keras Hub
// presets gemma3_270m, gemma3_1b, gemma3_27b_text): matching them to the
// parameter checks every dimension at once.
func TestParameterCounts(t *testing.T) {
	t.Parallel()
	want := map[string]int64{"270m": 268098176, "1b": 999885952, "27b": 27009002240}
	for _, m := range Names() {
		size := strings.Split(m.Name, "-")[1]
		if n, ok := want[size]; ok && m.Params != n {
			t.Errorf("%s: %d parameters, Gemma 3 %s has %d", m.Name, m.Params, size, n)
		}
	}
}

// loaderKeys are the gemma3.* keys llama.cpp's loader reads
// (llm_load_hparams: required unless marked optional there, and the gemma3
// case), with the value each model must carry.
func loaderKeys(a Arch) map[string]any {
	return map[string]any{
		"gemma3.context_length":                   a.Context,
		"gemma3.embedding_length":                 a.Embd,
		"gemma3.block_count":                      a.Layers,
		"gemma3.feed_forward_length":              a.FFN,
		"gemma3.attention.head_count":             a.Heads,
		"gemma3.attention.head_count_kv":          a.KVHeads,
		"gemma3.attention.key_length":             a.HeadDim,
		"gemma3.attention.value_length":           a.HeadDim,
		"gemma3.attention.layer_norm_rms_epsilon": float32(1e-6),
		"gemma3.attention.sliding_window":         a.SlidingWindow,
		"gemma3.rope.freq_base":                   float32(1e6),
		"tokenizer.ggml.model":                    "llama",
		"tokenizer.ggml.bos_token_id":             uint32(2),
		"tokenizer.ggml.eos_token_id":             uint32(1),
		"tokenizer.ggml.unknown_token_id":         uint32(3),
		"tokenizer.ggml.padding_token_id":         uint32(0),
		"tokenizer.ggml.eot_token_id":             uint32(107),
		"tokenizer.ggml.add_bos_token":            true,
		"tokenizer.ggml.add_space_prefix":         false,
	}
}

type loaderTensor struct {
	shape  []uint64
	matrix bool // quantized in quantized files; norms stay f32
}

// loaderTensors mirrors the gemma3 case of llama_model::load_tensors: every
// create_tensor call with its shape (n_embd_head_k·n_head for q, the GQA
// width for k and v). output.weight is optional and absent: the loader then
// reuses token_embd.
func loaderTensors(a Arch) map[string]loaderTensor {
	e, v := uint64(a.Embd), uint64(262144)
	q, kv, hd, ff := uint64(a.HeadDim*a.Heads), uint64(a.HeadDim*a.KVHeads), uint64(a.HeadDim), uint64(a.FFN)
	want := map[string]loaderTensor{
		"token_embd.weight":  {[]uint64{e, v}, true},
		"output_norm.weight": {[]uint64{e}, false},
	}
	for i := range a.Layers {
		p := fmt.Sprintf("blk.%d.", i)
		for name, lt := range map[string]loaderTensor{
			"attn_norm.weight":           {[]uint64{e}, false},
			"attn_q.weight":              {[]uint64{e, q}, true},
			"attn_k.weight":              {[]uint64{e, kv}, true},
			"attn_v.weight":              {[]uint64{e, kv}, true},
			"attn_output.weight":         {[]uint64{q, e}, true},
			"post_attention_norm.weight": {[]uint64{e}, false},
			"attn_k_norm.weight":         {[]uint64{hd}, false},
			"attn_q_norm.weight":         {[]uint64{hd}, false},
			"ffn_norm.weight":            {[]uint64{e}, false},
			"ffn_gate.weight":            {[]uint64{e, ff}, true},
			"ffn_up.weight":              {[]uint64{e, ff}, true},
			"ffn_down.weight":            {[]uint64{ff, e}, true},
			"post_ffw_norm.weight":       {[]uint64{e}, false},
		} {
			want[p+name] = lt
		}
	}
	return want
}

// wantType is the type a tensor must have in a file of the given quant.
func wantType(quant, name string, lt loaderTensor) ggml.TensorType {
	switch {
	case !lt.matrix:
		return ggml.TensorTypeF32
	case quant == "f16":
		return ggml.TensorTypeF16
	case name == "token_embd.weight":
		return ggml.TensorTypeQ8_0
	case quant == "q8_0":
		return ggml.TensorTypeQ8_0
	case quant == "q4_0":
		return ggml.TensorTypeQ4_0
	case lt.shape[0]%256 != 0:
		return ggml.TensorTypeQ5_0
	}
	return ggml.TensorTypeQ4_K
}

// Every model's tensor plan against the loader, without writing the big ones.
func TestPlansMatchLoader(t *testing.T) {
	t.Parallel()
	for _, m := range Names() {
		want := loaderTensors(m.Arch)
		got := plan(m.Arch, m.Quant)
		if len(got) != len(want) {
			t.Errorf("%s: %d tensors, loader creates %d", m.Name, len(got), len(want))
		}
		for _, p := range got {
			lt, ok := want[p.name]
			if !ok {
				t.Errorf("%s: tensor %s unknown to the loader", m.Name, p.name)
				continue
			}
			if fmt.Sprint(p.shape) != fmt.Sprint(lt.shape) {
				t.Errorf("%s: %s shape %v, loader wants %v", m.Name, p.name, p.shape, lt.shape)
			}
			if w := wantType(m.Quant, p.name, lt); p.typ != w {
				t.Errorf("%s: %s type %v, want %v", m.Name, p.name, p.typ, w)
			}
			if e, _, _ := blockInfo(p.typ); p.shape[0]%uint64(e) != 0 {
				t.Errorf("%s: %s rows of %d are not whole %v blocks", m.Name, p.name, p.shape[0], p.typ)
			}
		}
	}
}

// The micro models are written and decoded with ollama's GGUF reader.
func TestMicroFiles(t *testing.T) {
	t.Parallel()
	for _, m := range Names() {
		if !strings.HasPrefix(m.Name, "gemma3-micro-") {
			continue
		}
		t.Run(m.Name, func(t *testing.T) {
			t.Parallel()
			path := modelFile(t, m.Name)
			if fi, err := os.Stat(path); err != nil {
				t.Fatal(err)
			} else if d := math.Abs(float64(fi.Size()-m.ApproxBytes)) / float64(fi.Size()); d > 0.01 {
				t.Errorf("size %d, Names() says about %d", fi.Size(), m.ApproxBytes)
			}
			g, _ := decode(t, path)
			kv := g.KV()
			if kv.Architecture() != "gemma3" {
				t.Fatalf("architecture %q", kv.Architecture())
			}
			for k, want := range loaderKeys(m.Arch) {
				if got := kv[k]; fmt.Sprintf("%T %v", got, got) != fmt.Sprintf("%T %v", want, want) {
					t.Errorf("%s = %T %v, want %T %v", k, got, got, want, want)
				}
			}
			if ft := kv.FileType(); ft != quantTypes[m.Quant].fileType {
				t.Errorf("file type %v, want %v", ft, quantTypes[m.Quant].fileType)
			}
			if !strings.Contains(kv.ChatTemplate(), "<start_of_turn>") {
				t.Error("chat template lacks <start_of_turn>: llama.cpp would not pick the gemma format")
			}
			tokens := kv.Strings("tokenizer.ggml.tokens")
			scores := kv.Floats("tokenizer.ggml.scores")
			types := kv.Ints("tokenizer.ggml.token_type")
			if len(tokens) != vocabSize || len(scores) != vocabSize || len(types) != vocabSize {
				t.Fatalf("vocabulary arrays %d/%d/%d, want %d", len(tokens), len(scores), len(types), vocabSize)
			}
			for id, want := range map[int]string{0: "<pad>", 1: "<eos>", 2: "<bos>", 3: "<unk>", 106: "<start_of_turn>", 107: "<end_of_turn>", 227: "<0x0A>"} {
				if tokens[id] != want {
					t.Errorf("token %d = %q, want %q", id, tokens[id], want)
				}
			}
			if types[106] != TokenControl || types[107] != TokenControl || types[2] != TokenControl {
				t.Errorf("turn markers and <bos> typed %d %d %d, want CONTROL", types[106], types[107], types[2])
			}

			want := loaderTensors(m.Arch)
			items := g.Tensors().Items()
			if len(items) != len(want) {
				t.Errorf("%d tensors, loader creates %d", len(items), len(want))
			}
			if kv.ParameterCount() != uint64(m.Params) {
				t.Errorf("parameter count %d, Names() says %d", kv.ParameterCount(), m.Params)
			}
			for _, ts := range items {
				lt, ok := want[ts.Name]
				if !ok {
					t.Errorf("tensor %s unknown to the loader", ts.Name)
					continue
				}
				if fmt.Sprint(ts.Shape) != fmt.Sprint(lt.shape) {
					t.Errorf("%s shape %v, loader wants %v", ts.Name, ts.Shape, lt.shape)
				}
				if w := wantType(m.Quant, ts.Name, lt); ggml.TensorType(ts.Kind) != w {
					t.Errorf("%s type %v, want %v", ts.Name, ggml.TensorType(ts.Kind), w)
				}
			}
		})
	}
}

func TestDeterministic(t *testing.T) {
	t.Parallel()
	tokDir := tokenizerOrSkip(t)
	sum := func() [32]byte {
		h := sha256.New()
		if err := Write(context.Background(), h, "gemma3-micro-q4_k", &Options{TokenizerDir: tokDir}); err != nil {
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
	first, err := Ensure(ctx, dir, "gemma3-micro-q4_0", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !first.Generated || first.Path != filepath.Join(dir, "gemma3-micro-q4_0.gguf") {
		t.Fatalf("first Ensure = %+v", first)
	}
	path, err := Generate(ctx, dir, "gemma3-micro-q4_0")
	if err != nil || path != first.Path {
		t.Fatalf("Generate = %q, %v; want the cached %q", path, err, first.Path)
	}
	second, err := Ensure(ctx, dir, "gemma3-micro-q4_0", opts)
	if err != nil {
		t.Fatal(err)
	}
	if second.Generated || second.SHA256 != first.SHA256 {
		t.Errorf("second Ensure = %+v, want the cached %+v", second, first)
	}
	if err := os.Truncate(first.Path, first.Size-1); err != nil {
		t.Fatal(err)
	}
	third, err := Ensure(ctx, dir, "gemma3-micro-q4_0", opts)
	if err != nil {
		t.Fatal(err)
	}
	if !third.Generated || third.SHA256 != first.SHA256 {
		t.Errorf("after truncation Ensure = %+v, want a regenerated identical file", third)
	}

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	empty := t.TempDir()
	if _, err := Ensure(cctx, empty, "gemma3-micro-q8_0", opts); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled Ensure: %v, want context.Canceled", err)
	}
	if entries, _ := os.ReadDir(empty); len(entries) != 0 {
		t.Errorf("cancelled Ensure left %d files", len(entries))
	}
	if _, err := Ensure(ctx, empty, "gemma3-2b-q8_0", opts); err == nil {
		t.Error("unknown name accepted")
	}
}

func BenchmarkWriteFile(b *testing.B) {
	tokDir := tokenizerOrSkip(b)
	for _, name := range []string{"gemma3-micro-q8_0", "gemma3-1b-q8_0"} {
		m, err := lookup(name)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(name, func(b *testing.B) {
			b.SetBytes(m.ApproxBytes)
			path := filepath.Join(b.TempDir(), "m.gguf")
			for b.Loop() {
				f, err := os.Create(path)
				if err != nil {
					b.Fatal(err)
				}
				if err := Write(context.Background(), f, name, &Options{TokenizerDir: tokDir}); err != nil {
					b.Fatal(err)
				}
				f.Close()
			}
		})
	}
}
