package models

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Find returns the path of the model called name (see Lookup) in dir if it
// was pulled and verified: the file has the pinned size and its sidecar
// <file>.sha256, written only after the bytes were hashed, names the pinned
// hash and is not older than the file. Find never hashes the file, so it is
// cheap enough for server startup; a file copied in by hand is found once
// "medscribe models pull" has verified it (which needs no network).
func Find(dir, name string) (path string, ok bool) {
	m, ok := Lookup(name)
	if !ok {
		return "", false
	}
	return FindModel(dir, m)
}

// FindModel is Find for a model that need not be in the manifest.
func FindModel(dir string, m Model) (path string, ok bool) {
	path = filepath.Join(dir, m.File)
	if verified(path, m) {
		return path, true
	}
	return "", false
}

// FindAny returns the first of names that Find finds in dir: a caller's
// order of preference (for example the whisper models it can run).
func FindAny(dir string, names ...string) (m Model, path string, ok bool) {
	for _, n := range names {
		if p, ok := Find(dir, n); ok {
			m, _ = Lookup(n)
			return m, p, true
		}
	}
	return Model{}, "", false
}

// verified reports whether path holds m according to its sidecar, without
// reading the file.
func verified(path string, m Model) bool {
	fi, err := os.Stat(path)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() != m.Size {
		return false
	}
	sum, sfi, err := readSidecar(path)
	if err != nil || sum != m.SHA256 {
		return false
	}
	// A file replaced after it was verified is newer than its sidecar.
	return !fi.ModTime().After(sfi.ModTime())
}

func sidecarPath(path string) string { return path + ".sha256" }

// readSidecar reads the hash of path's sidecar, which is in sha256sum's
// format ("<hex>  <file name>") so that `sha256sum -c` can check it too.
func readSidecar(path string) (string, os.FileInfo, error) {
	f, err := os.Open(sidecarPath(path))
	if err != nil {
		return "", nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", nil, err
	}
	line, err := bufio.NewReader(io.LimitReader(f, 4096)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", nil, err
	}
	sum, err := parseSidecar(line, filepath.Base(path))
	return sum, fi, err
}

// parseSidecar checks one sha256sum line for file and returns its hash.
func parseSidecar(line, file string) (string, error) {
	line = strings.TrimRight(line, "\r\n")
	sum, name, ok := strings.Cut(line, " ")
	// sha256sum writes " *" before the name for binary mode, "  " otherwise.
	name = strings.TrimPrefix(strings.TrimPrefix(name, " "), "*")
	if !ok || !isHex64(sum) || name != file {
		return "", fmt.Errorf("sidecar for %s: not a sha256sum line", file)
	}
	return strings.ToLower(sum), nil
}

func isHex64(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

// writeSidecar records that path hashed to sum. It goes through a temporary
// file so that a crash never leaves a half-written sidecar.
func writeSidecar(path, sum string) error {
	tmp := sidecarPath(path) + ".tmp"
	line := sum + "  " + filepath.Base(path) + "\n"
	if err := os.WriteFile(tmp, []byte(line), 0o644); err != nil {
		return fmt.Errorf("write checksum sidecar: %w", err)
	}
	if err := os.Rename(tmp, sidecarPath(path)); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("write checksum sidecar: %w", err)
	}
	// A file dated in the future (copied from a machine with a fast clock)
	// would look newer than its sidecar, and be hashed on every pull.
	fi, err := os.Stat(path)
	if err != nil {
		return fmt.Errorf("write checksum sidecar: %w", err)
	}
	if sfi, err := os.Stat(sidecarPath(path)); err == nil && fi.ModTime().After(sfi.ModTime()) {
		if err := os.Chtimes(sidecarPath(path), fi.ModTime(), fi.ModTime()); err != nil {
			return fmt.Errorf("write checksum sidecar: %w", err)
		}
	}
	return nil
}

// hashFile hashes the first n bytes of f into h, reporting progress.
func hashFile(ctx context.Context, f *os.File, n int64, h io.Writer, meter *meter) error {
	buf := make([]byte, copyBuf)
	var done int64
	for done < n {
		if err := ctx.Err(); err != nil {
			return err
		}
		k, err := f.ReadAt(buf[:min(int64(len(buf)), n-done)], done)
		if k > 0 {
			h.Write(buf[:k])
			done += int64(k)
			meter.set(done)
		}
		if err != nil && !(errors.Is(err, io.EOF) && done == n) {
			return fmt.Errorf("read %s: %w", f.Name(), err)
		}
	}
	return nil
}

// checkExisting verifies a model file that is at its final path without a
// valid sidecar (copied in by hand, or a crash between rename and sidecar)
// by hashing it, and writes the sidecar when it matches.
func checkExisting(ctx context.Context, path string, m Model, meter *meter) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	if fi.Size() != m.Size {
		return &SizeError{File: path, Want: m.Size, Got: fi.Size()}
	}
	h := sha256.New()
	if err := hashFile(ctx, f, fi.Size(), h, meter); err != nil {
		return err
	}
	if got := hex.EncodeToString(h.Sum(nil)); got != m.SHA256 {
		return &ChecksumError{File: path, Want: m.SHA256, Got: got}
	}
	return writeSidecar(path, m.SHA256)
}
