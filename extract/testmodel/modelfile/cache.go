package modelfile

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Result describes a model file in the cache.
type Result struct {
	Path   string
	Size   int64
	SHA256 string
	// Generated is false when a valid cached file was reused.
	Generated bool
}

// Spec names a generated file: the generator (its import path) and the
// version of its output, which invalidates cached files when it changes,
// the model's name and the file name in the cache directory.
type Spec struct {
	Generator string
	Version   int
	Name      string
	File      string
}

// sidecar is stored next to each model as <file>.json; a file is reused only
// if its sidecar names the current generator version and its content still
// hashes to the recorded sum.
type sidecar struct {
	Generator string `json:"generator"`
	Version   int    `json:"version"`
	Name      string `json:"name"`
	Size      int64  `json:"size"`
	SHA256    string `json:"sha256"`
}

// DefaultDir is where models are cached: $MEDSCRIBE_CACHE/testmodels if
// that variable is set, otherwise medscribe/testmodels in the user's cache
// directory (os.UserCacheDir).
func DefaultDir() (string, error) {
	if c := os.Getenv("MEDSCRIBE_CACHE"); c != "" {
		return filepath.Join(c, "testmodels"), nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("test model cache: %w", err)
	}
	return filepath.Join(c, "medscribe", "testmodels"), nil
}

// Ensure returns the file spec names in dir (DefaultDir when empty),
// calling write to produce it first unless a valid copy is already there.
// The file is written to a temporary file in dir and renamed into place, so
// readers never see a partial file and concurrent callers at worst both
// write identical bytes. Checking a cached file costs one read to hash it
// (16 GB took 22 s).
func Ensure(dir string, spec Spec, write func(io.Writer) error) (Result, error) {
	if dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return Result{}, err
		}
		dir = d
	}
	path := filepath.Join(dir, spec.File)
	if r, ok := cached(path, spec); ok {
		return r, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Result{}, fmt.Errorf("generate %s: %w", spec.Name, err)
	}
	tmp, err := os.CreateTemp(dir, "."+spec.Name+".*.tmp")
	if err != nil {
		return Result{}, fmt.Errorf("generate %s: %w", spec.Name, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename

	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(tmp, h)}
	err = write(cw)
	if err == nil {
		// CreateTemp makes the file private; a model is not.
		err = tmp.Chmod(0o644)
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return Result{}, fmt.Errorf("generate %s: %w", spec.Name, err)
	}
	sum := hex.EncodeToString(h.Sum(nil))
	if err := os.Rename(tmp.Name(), path); err != nil {
		return Result{}, fmt.Errorf("generate %s: %w", spec.Name, err)
	}
	sc := sidecar{Generator: spec.Generator, Version: spec.Version, Name: spec.Name, Size: cw.n, SHA256: sum}
	if err := writeSidecar(path, sc); err != nil {
		return Result{}, fmt.Errorf("generate %s: %w", spec.Name, err)
	}
	return Result{Path: path, Size: cw.n, SHA256: sum, Generated: true}, nil
}

func cached(path string, spec Spec) (Result, bool) {
	raw, err := os.ReadFile(path + ".json")
	if err != nil {
		return Result{}, false
	}
	var sc sidecar
	if json.Unmarshal(raw, &sc) != nil || sc.Generator != spec.Generator || sc.Version != spec.Version || sc.Name != spec.Name {
		return Result{}, false
	}
	sum, size, err := hashFile(path)
	if err != nil || sum != sc.SHA256 || size != sc.Size {
		return Result{}, false
	}
	return Result{Path: path, Size: size, SHA256: sum}, true
}
func writeSidecar(path string, sc sidecar) error {
	raw, err := json.MarshalIndent(sc, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*.json.tmp")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	_, err = f.Write(append(raw, '\n'))
	if err == nil {
		err = f.Chmod(0o644)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return err
	}
	return os.Rename(f.Name(), path+".json")
}

func hashFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, err
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}

type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}
