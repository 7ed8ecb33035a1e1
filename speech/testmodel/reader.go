package testmodel

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
)

// File is the parsed header and tensor index of a whisper ggml model.
type File struct {
	Hparams Hparams
	// MelCount×MelBins filterbank, row-major.
	MelCount, MelBins int32
	Filters           []float32
	// Vocab holds the stored tokens' raw bytes, by id.
	Vocab   [][]byte
	Tensors []Tensor
}

// Tensor locates one tensor in the file.
type Tensor struct {
	Name string
	Type int32
	// Dims are in ggml order, innermost first.
	Dims []int32
	// Offset and Size locate the data in the file, in bytes.
	Offset, Size int64
}

// FormatError reports a file that is not a well-formed whisper model.
type FormatError struct {
	Offset int64
	Msg    string
}

func (e *FormatError) Error() string {
	return fmt.Sprintf("whisper model: %s at offset %d", e.Msg, e.Offset)
}

// Bounds that keep a corrupt header from asking for absurd allocations; the
// largest released models are well inside them.
const (
	maxFilterValues = 1 << 20
	maxVocab        = 1 << 20
	maxTokenLen     = 1 << 16
	maxNameLen      = 1 << 12
	maxElements     = 1 << 40
)

// blockSize and blockBytes for the ggml types a whisper file may hold.
var ggmlTypes = map[int32]struct{ block, bytes int64 }{
	0: {1, 4},   // F32
	1: {1, 2},   // F16
	2: {32, 18}, // Q4_0
	3: {32, 20}, // Q4_1
	6: {32, 22}, // Q5_0
	7: {32, 24}, // Q5_1
	8: {32, 34}, // Q8_0
}

// Read parses a whisper model the way whisper.cpp's loader does, skipping
// over tensor data. It checks structure only; Read accepts any dimensions
// and leaves it to the caller to compare them with expectations.
func Read(r io.Reader) (*File, error) {
	p := &parser{r: bufio.NewReaderSize(r, 1<<16)}
	f, err := p.file()
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

type parser struct {
	r   *bufio.Reader
	off int64
}

func (p *parser) fail(format string, args ...any) error {
	return &FormatError{Offset: p.off, Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) u32() (uint32, error) {
	var b [4]byte
	n, err := io.ReadFull(p.r, b[:])
	p.off += int64(n)
	return binary.LittleEndian.Uint32(b[:]), err
}

func (p *parser) i32() (int32, error) {
	v, err := p.u32()
	return int32(v), err
}

func (p *parser) bytes(n int) ([]byte, error) {
	b := make([]byte, n)
	m, err := io.ReadFull(p.r, b)
	p.off += int64(m)
	return b, err
}

func (p *parser) file() (*File, error) {
	magic, err := p.u32()
	if err != nil {
		return nil, err
	}
	if magic != Magic {
		return nil, p.fail("bad magic %#08x", magic)
	}
	f := &File{}
	h := &f.Hparams
	for _, dst := range []*int32{&h.NVocab, &h.NAudioCtx, &h.NAudioState, &h.NAudioHead, &h.NAudioLayer,
		&h.NTextCtx, &h.NTextState, &h.NTextHead, &h.NTextLayer, &h.NMels, &h.FType} {
		if *dst, err = p.i32(); err != nil {
			return nil, err
		}
	}

	if f.MelCount, err = p.i32(); err != nil {
		return nil, err
	}
	if f.MelBins, err = p.i32(); err != nil {
		return nil, err
	}
	nf := int64(f.MelCount) * int64(f.MelBins)
	if f.MelCount < 0 || f.MelBins < 0 || nf > maxFilterValues {
		return nil, p.fail("bad filterbank size %d×%d", f.MelCount, f.MelBins)
	}
	raw, err := p.bytes(int(4 * nf))
	if err != nil {
		return nil, err
	}
	f.Filters = make([]float32, nf)
	for i := range f.Filters {
		f.Filters[i] = math.Float32frombits(binary.LittleEndian.Uint32(raw[4*i:]))
	}

	nv, err := p.i32()
	if err != nil {
		return nil, err
	}
	if nv < 0 || nv > maxVocab {
		return nil, p.fail("bad vocabulary size %d", nv)
	}
	f.Vocab = make([][]byte, nv)
	for i := range f.Vocab {
		n, err := p.u32()
		if err != nil {
			return nil, err
		}
		if n > maxTokenLen {
			return nil, p.fail("token %d is %d bytes long", i, n)
		}
		if f.Vocab[i], err = p.bytes(int(n)); err != nil {
			return nil, err
		}
	}

	// Tensors run to the end of the file, as in the loader.
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

// tensor reads one tensor record.
func (p *parser) tensor() (Tensor, error) {
	var t Tensor
	nDims, err := p.i32()
	if err != nil {
		return t, err
	}
	nameLen, err := p.i32()
	if err != nil {
		return t, err
	}
	if t.Type, err = p.i32(); err != nil {
		return t, err
	}
	if nDims < 0 || nDims > 4 {
		return t, p.fail("tensor with %d dimensions", nDims)
	}
	if nameLen <= 0 || nameLen > maxNameLen {
		return t, p.fail("tensor name of %d bytes", nameLen)
	}
	gt, ok := ggmlTypes[t.Type]
	if !ok {
		return t, p.fail("unknown tensor type %d", t.Type)
	}
	elements := int64(1)
	t.Dims = make([]int32, nDims)
	for i := range t.Dims {
		if t.Dims[i], err = p.i32(); err != nil {
			return t, err
		}
		if t.Dims[i] <= 0 {
			return t, p.fail("tensor dimension %d", t.Dims[i])
		}
		elements *= int64(t.Dims[i])
		if elements > maxElements {
			return t, p.fail("tensor too large")
		}
	}
	if nDims > 0 && int64(t.Dims[0])%gt.block != 0 {
		return t, p.fail("row of %d elements is not whole blocks of type %d", t.Dims[0], t.Type)
	}
	name, err := p.bytes(int(nameLen))
	if err != nil {
		return t, err
	}
	t.Name = string(name)
	t.Offset = p.off
	t.Size = elements / gt.block * gt.bytes
	n, err := io.CopyN(io.Discard, p.r, t.Size)
	p.off += n
	return t, err
}
