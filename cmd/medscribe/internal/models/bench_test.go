package models

import (
	"context"
	"os"
	"path/filepath"
	"testing"
)

// BenchmarkFind is the server-startup cost of finding a pulled model: two
// stats and a sidecar read, independent of the model's size.
func BenchmarkFind(b *testing.B) {
	m, _ := Lookup("whisper-large-v3-turbo")
	dir := b.TempDir()
	path := filepath.Join(dir, m.File)
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	if err := f.Truncate(m.Size); err != nil { // sparse: 1.6 GB that take no space
		b.Fatal(err)
	}
	f.Close()
	if err := writeSidecar(path, m.SHA256); err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, ok := Find(dir, m.Name); !ok {
			b.Fatal("not found")
		}
	}
}

// BenchmarkPull is a whole download over loopback (request, write, hash,
// fsync, rename, sidecar): the client's own ceiling, far above a real
// link, so it is never the bottleneck.
func BenchmarkPull(b *testing.B) {
	s := newFakeHF(b)
	m, data := testModel("bench", 64<<20)
	s.add(m, m.Revision, data)
	dir := b.TempDir()
	b.SetBytes(m.Size)
	for b.Loop() {
		os.Remove(filepath.Join(dir, m.File))
		if _, err := Pull(context.Background(), dir, m, &Options{BaseURL: s.URL}); err != nil {
			b.Fatal(err)
		}
	}
}
