package testmodel

import (
	"encoding/binary"
	"fmt"
	"math"
	"testing"

	"github.com/ollama/ollama/fs/ggml"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

// Dequantizers written from ggml's block definitions (ggml-common.h) and
// dequantize_row_* (ggml-quants.c), independently of the writer.

func f16At(b []byte) float32 { return modelfile.F16ToF32(binary.LittleEndian.Uint16(b)) }

func deqQ8_0(b []byte) []float32 {
	d := f16At(b)
	out := make([]float32, 32)
	for j := range out {
		out[j] = d * float32(int8(b[2+j]))
	}
	return out
}

func deqQ4_0(b []byte) []float32 {
	d := f16At(b)
	qs := b[2:18]
	out := make([]float32, 32)
	for j := range 16 {
		out[j] = d * float32(int(qs[j]&0xf)-8)
		out[j+16] = d * float32(int(qs[j]>>4)-8)
	}
	return out
}

func deqQ5_0(b []byte) []float32 {
	d := f16At(b)
	qh := binary.LittleEndian.Uint32(b[2:6])
	qs := b[6:22]
	out := make([]float32, 32)
	for j := range 16 {
		h0 := byte((qh>>j)<<4) & 0x10
		h1 := byte(qh>>(j+12)) & 0x10
		out[j] = d * float32(int(qs[j]&0xf|h0)-16)
		out[j+16] = d * float32(int(qs[j]>>4|h1)-16)
	}
	return out
}

// scaleMinK4 is ggml's get_scale_min_k4.
func scaleMinK4(j int, q []byte) (sc, m byte) {
	if j < 4 {
		return q[j] & 63, q[j+4] & 63
	}
	return q[j+4]&0xf | (q[j-4]>>6)<<4, q[j+4]>>4 | (q[j]>>6)<<4
}

func deqQ4_K(b []byte) []float32 {
	d, dmin := f16At(b), f16At(b[2:])
	scales, qs := b[4:16], b[16:144]
	out := make([]float32, 0, 256)
	for c := range 4 {
		sc1, m1 := scaleMinK4(2*c, scales)
		sc2, m2 := scaleMinK4(2*c+1, scales)
		q := qs[32*c : 32*c+32]
		for l := range 32 {
			out = append(out, d*float32(sc1)*float32(q[l]&0xf)-dmin*float32(m1))
		}
		for l := range 32 {
			out = append(out, d*float32(sc2)*float32(q[l]>>4)-dmin*float32(m2))
		}
	}
	return out
}

func dequantize(t ggml.TensorType, data []byte) ([]float32, error) {
	var deq func([]byte) []float32
	switch t {
	case ggml.TensorTypeQ8_0:
		deq = deqQ8_0
	case ggml.TensorTypeQ4_0:
		deq = deqQ4_0
	case ggml.TensorTypeQ5_0:
		deq = deqQ5_0
	case ggml.TensorTypeQ4_K:
		deq = deqQ4_K
	case ggml.TensorTypeF16:
		deq = func(b []byte) []float32 { return []float32{f16At(b)} }
	case ggml.TensorTypeF32:
		deq = func(b []byte) []float32 { return []float32{math.Float32frombits(binary.LittleEndian.Uint32(b))} }
	default:
		return nil, fmt.Errorf("type %v", t)
	}
	_, size, err := blockInfo(t)
	if err != nil {
		return nil, err
	}
	var out []float32
	for b := 0; b+size <= len(data); b += size {
		out = append(out, deq(data[b:b+size])...)
	}
	return out, nil
}

// checkNoise asserts finite, centred values of about the intended spread.
func checkNoise(t *testing.T, what string, vals []float32, std float64) {
	t.Helper()
	var sum, sq float64
	for _, v := range vals {
		if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
			t.Fatalf("%s: value %g", what, v)
		}
		sum += float64(v)
		sq += float64(v) * float64(v)
	}
	n := float64(len(vals))
	mean := sum / n
	got := math.Sqrt(sq/n - mean*mean)
	if math.Abs(got-std)/std > 0.1 {
		t.Errorf("%s: std %.4g, want %.4g", what, got, std)
	}
	// Five standard errors; the streams are fixed, so this cannot flake.
	if math.Abs(mean) > 5*std/math.Sqrt(n) {
		t.Errorf("%s: mean %.3g for std %.3g over %d values", what, mean, std, len(vals))
	}
}

func TestFillRandomBlocks(t *testing.T) {
	t.Parallel()
	for _, typ := range []ggml.TensorType{ggml.TensorTypeF16, ggml.TensorTypeQ8_0, ggml.TensorTypeQ4_0, ggml.TensorTypeQ5_0, ggml.TensorTypeQ4_K} {
		for _, std := range []float64{0.002, 0.03} {
			_, size, _ := blockInfo(typ)
			buf := make([]byte, 1024*size)
			fillRandom(newRNG(typ.String()), typ, buf, std)
			vals, err := dequantize(typ, buf)
			if err != nil {
				t.Fatal(err)
			}
			checkNoise(t, fmt.Sprintf("%v std %g", typ, std), vals, std)
		}
	}
}

// Block sizes must agree with ollama's (and so ggml's) type table.
func TestBlockInfo(t *testing.T) {
	t.Parallel()
	for _, typ := range []ggml.TensorType{ggml.TensorTypeF32, ggml.TensorTypeF16, ggml.TensorTypeQ8_0, ggml.TensorTypeQ4_0, ggml.TensorTypeQ5_0, ggml.TensorTypeQ4_K} {
		elems, size, err := blockInfo(typ)
		if err != nil {
			t.Fatal(err)
		}
		if uint64(elems) != typ.BlockSize() || uint64(size) != typ.TypeSize() {
			t.Errorf("%v: %d elements in %d bytes, ggml has %d in %d", typ, elems, size, typ.BlockSize(), typ.TypeSize())
		}
	}
	if _, _, err := blockInfo(ggml.TensorTypeQ6_K); err == nil {
		t.Error("Q6_K claimed")
	}
}

func TestQ4KScalePacking(t *testing.T) {
	t.Parallel()
	r := newRNG("scales")
	for range 1000 {
		var sc, m [8]byte
		for k := range 8 {
			v := r.Next()
			sc[k], m[k] = byte(v&63), byte(v>>8&63)
		}
		var packed [12]byte
		packQ4KScales(packed[:], sc, m)
		for k := range 8 {
			gs, gm := scaleMinK4(k, packed[:])
			if gs != sc[k] || gm != m[k] {
				t.Fatalf("sub-block %d: packed %d/%d, unpacked %d/%d", k, sc[k], m[k], gs, gm)
			}
		}
	}
}

// The quantized tensors in a written file decode, at the offsets ollama's
// reader computes, to the planned noise; norms are their constant gains.
func TestFileBlocks(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"gemma3-micro-q8_0", "gemma3-micro-q4_0", "gemma3-micro-q4_k", "gemma3-micro-f16"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m, err := lookup(name)
			if err != nil {
				t.Fatal(err)
			}
			g, f := decode(t, modelFile(t, name))
			plans := map[string]tensorPlan{}
			for _, p := range plan(m.Arch, m.Quant) {
				plans[p.name] = p
			}
			for _, ts := range g.Tensors().Items() {
				p := plans[ts.Name]
				typ := ggml.TensorType(ts.Kind)
				// Up to 1024 blocks from the start of the tensor and from
				// the end: the ends catch offset or padding errors.
				_, size, _ := blockInfo(typ)
				n := min(int64(ts.Size()), int64(1024*size))
				start := int64(g.Tensors().Offset + ts.Offset)
				for _, at := range []int64{start, start + int64(ts.Size()) - n} {
					data := make([]byte, n)
					if _, err := f.ReadAt(data, at); err != nil {
						t.Fatalf("%s: %v", ts.Name, err)
					}
					vals, err := dequantize(typ, data)
					if err != nil {
						t.Fatal(err)
					}
					if p.std == 0 {
						for _, v := range vals {
							if v != p.gain {
								t.Fatalf("%s: %g, want all %g", ts.Name, v, p.gain)
							}
						}
						continue
					}
					checkNoise(t, ts.Name, vals, p.std)
				}
			}
		})
	}
}
