package testmodel

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync"
)

// GGUF v3, the subset this package writes: little-endian, strings as a
// uint64 length and bytes, tensor data aligned to 32 bytes.
const (
	ggufVersion   = 3
	ggufAlignment = 32

	ggufUint32  = 4
	ggufInt32   = 5
	ggufFloat32 = 6
	ggufBool    = 7
	ggufString  = 8
	ggufArray   = 9
)

// kv is one metadata entry; the value is a string, uint32, float32, bool,
// []string, []float32 or []int32.
type kv struct {
	key   string
	value any
}

// ggufWriter streams a GGUF file to an io.Writer: header, metadata and
// tensor index first, then every tensor's data in index order, each
// generated in parallel chunks and written in sequence. Nothing needs
// seeking, so the output can be hashed on the way to disk, and memory stays
// at a few megabytes per CPU whatever the model size.
type ggufWriter struct {
	w   io.Writer
	buf []byte
	n   int64 // bytes written
}

func (g *ggufWriter) u32(v uint32) { g.buf = binary.LittleEndian.AppendUint32(g.buf, v) }
func (g *ggufWriter) u64(v uint64) { g.buf = binary.LittleEndian.AppendUint64(g.buf, v) }
func (g *ggufWriter) str(s string) {
	g.u64(uint64(len(s)))
	g.buf = append(g.buf, s...)
}

func (g *ggufWriter) value(v any) error {
	switch v := v.(type) {
	case string:
		g.u32(ggufString)
		g.str(v)
	case uint32:
		g.u32(ggufUint32)
		g.u32(v)
	case float32:
		g.u32(ggufFloat32)
		g.u32(math.Float32bits(v))
	case bool:
		g.u32(ggufBool)
		if v {
			g.buf = append(g.buf, 1)
		} else {
			g.buf = append(g.buf, 0)
		}
	case []string:
		g.u32(ggufArray)
		g.u32(ggufString)
		g.u64(uint64(len(v)))
		for _, s := range v {
			g.str(s)
		}
	case []float32:
		g.u32(ggufArray)
		g.u32(ggufFloat32)
		g.u64(uint64(len(v)))
		for _, f := range v {
			g.u32(math.Float32bits(f))
		}
	case []int32:
		g.u32(ggufArray)
		g.u32(ggufInt32)
		g.u64(uint64(len(v)))
		for _, i := range v {
			g.u32(uint32(i))
		}
	default:
		return fmt.Errorf("metadata value of type %T", v)
	}
	return nil
}

func (g *ggufWriter) flush() error {
	n, err := g.w.Write(g.buf)
	g.n += int64(n)
	g.buf = g.buf[:0]
	return err
}

// pad flushes, zero-filling to the next aligned offset.
func (g *ggufWriter) pad() error {
	if r := (g.n + int64(len(g.buf))) % ggufAlignment; r != 0 {
		g.buf = append(g.buf, make([]byte, ggufAlignment-r)...)
	}
	return g.flush()
}

func alignUp(n int64) int64 { return (n + ggufAlignment - 1) / ggufAlignment * ggufAlignment }

// writeGGUF writes metadata and tensors; data for tensor i comes from
// gen(i, chunk, dst), which must fill dst (chunk number chunk of that
// tensor) deterministically from its arguments alone.
func writeGGUF(ctx context.Context, w io.Writer, meta []kv, ts []tensorPlan, gen func(i, chunk int, dst []byte)) error {
	g := &ggufWriter{w: w, buf: make([]byte, 0, 1<<20)}
	g.buf = append(g.buf, "GGUF"...)
	g.u32(ggufVersion)
	g.u64(uint64(len(ts)))
	g.u64(uint64(len(meta)))
	for _, e := range meta {
		g.str(e.key)
		if err := g.value(e.value); err != nil {
			return fmt.Errorf("metadata %s: %w", e.key, err)
		}
		if len(g.buf) > 1<<20 {
			if err := g.flush(); err != nil {
				return err
			}
		}
	}
	var off int64
	for _, t := range ts {
		g.str(t.name)
		g.u32(uint32(len(t.shape)))
		for _, d := range t.shape {
			g.u64(d)
		}
		g.u32(uint32(t.typ))
		g.u64(uint64(off))
		off = alignUp(off + t.bytes())
	}
	if err := g.pad(); err != nil {
		return err
	}

	workers := runtime.GOMAXPROCS(0)
	for i, t := range ts {
		_, blockBytes, err := blockInfo(t.typ)
		if err != nil {
			return fmt.Errorf("tensor %s: %w", t.name, err)
		}
		chunkBytes := int64(chunkBlocks(blockBytes) * blockBytes)
		total := t.bytes()
		chunks := int((total + chunkBytes - 1) / chunkBytes)
		bufs := make([][]byte, min(workers, chunks))
		for b := range bufs {
			bufs[b] = make([]byte, chunkBytes)
		}
		// Generate a batch of chunks in parallel, then write it in order.
		for first := 0; first < chunks; first += len(bufs) {
			if err := ctx.Err(); err != nil {
				return err
			}
			batch := min(len(bufs), chunks-first)
			var wg sync.WaitGroup
			for b := range batch {
				c := first + b
				size := min(chunkBytes, total-int64(c)*chunkBytes)
				bufs[b] = bufs[b][:size]
				wg.Go(func() { gen(i, c, bufs[b]) })
			}
			wg.Wait()
			for b := range batch {
				n, err := w.Write(bufs[b])
				g.n += int64(n)
				if err != nil {
					return fmt.Errorf("tensor %s: %w", t.name, err)
				}
			}
		}
		if err := g.pad(); err != nil {
			return err
		}
	}
	return nil
}

// chunkBlocks is the number of blocks generated per chunk: about 1 MiB.
// It is part of the output's definition (each chunk has its own random
// stream), so changing it changes the files.
func chunkBlocks(blockBytes int) int { return max(1, (1<<20)/blockBytes) }
