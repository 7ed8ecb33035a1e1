package terminology

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"unicode/utf8"
)

// ParseError reports a malformed line of an import file. An import that
// meets one aborts and leaves the previous data as it was.
type ParseError struct {
	File   string
	Line   int
	Reason string
}

func (e *ParseError) Error() string { return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Reason) }

// lineReader reads an import file line by line: gzip is recognised by its
// magic bytes, line endings (LF or CRLF) are stripped, every line must be
// UTF-8, and official files must end with a line ending (a missing one
// means the download was cut short).
type lineReader struct {
	name           string
	f              *os.File
	r              *bufio.Reader
	gz             *gzip.Reader
	line           int
	requireNewline bool
	counter        *countingReader
	progress       func(done, total int64)
	total          int64
	lastReport     int64
}

type countingReader struct {
	r io.Reader
	n int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

func openLines(path string, requireNewline bool, progress func(done, total int64)) (*lineReader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	lr := &lineReader{name: filepath.Base(path), f: f, requireNewline: requireNewline, progress: progress, total: st.Size()}
	lr.counter = &countingReader{r: f}
	br := bufio.NewReaderSize(lr.counter, 1<<16)
	magic, _ := br.Peek(2)
	if bytes.Equal(magic, []byte{0x1f, 0x8b}) {
		gz, err := gzip.NewReader(br)
		if err != nil {
			f.Close()
			return nil, &ParseError{File: lr.name, Line: 0, Reason: "bad gzip header: " + err.Error()}
		}
		lr.gz = gz
		lr.r = bufio.NewReaderSize(gz, 1<<16)
	} else {
		lr.r = br
	}
	return lr, nil
}

func (lr *lineReader) Close() error {
	if lr.progress != nil {
		lr.progress(lr.total, lr.total)
	}
	if lr.gz != nil {
		lr.gz.Close()
	}
	return lr.f.Close()
}

// errorf makes a ParseError for the current line.
func (lr *lineReader) errorf(format string, args ...any) error {
	return &ParseError{File: lr.name, Line: lr.line, Reason: fmt.Sprintf(format, args...)}
}

// Next returns the next line without its line ending. ok is false at the
// end of the file.
func (lr *lineReader) Next() (line string, ok bool, err error) {
	b, err := lr.r.ReadSlice('\n')
	if errors.Is(err, bufio.ErrBufferFull) {
		// A very long line: gather the rest.
		buf := append([]byte(nil), b...)
		for errors.Is(err, bufio.ErrBufferFull) {
			b, err = lr.r.ReadSlice('\n')
			buf = append(buf, b...)
		}
		b = buf
	}
	if len(b) == 0 && errors.Is(err, io.EOF) {
		return "", false, nil
	}
	lr.line++
	if err != nil && !errors.Is(err, io.EOF) {
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return "", false, lr.errorf("truncated file: %v", err)
		}
		return "", false, lr.errorf("read: %v", err)
	}
	if errors.Is(err, io.EOF) && lr.requireNewline {
		return "", false, lr.errorf("truncated file: last line has no line ending")
	}
	b = bytes.TrimRight(b, "\r\n")
	if !utf8.Valid(b) {
		return "", false, lr.errorf("invalid UTF-8")
	}
	if lr.progress != nil && lr.counter.n-lr.lastReport >= 1<<18 {
		lr.lastReport = lr.counter.n
		lr.progress(lr.counter.n, lr.total)
	}
	return string(b), true, nil
}
