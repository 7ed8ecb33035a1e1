package modelfile

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"unicode"
)

// ollamaModule is the module whose tokenizer test data supplies the
// vocabulary; it is a pinned dependency of medscribe, so its files are in the
// module cache of any machine that built the binary.
const ollamaModule = "github.com/ollama/ollama"

// ErrNoTokenizer reports that the tokenizer data could not be found; the
// caller should pass the tokenizer directory explicitly (the CLI's --tokenizer).
var ErrNoTokenizer = errors.New("tokenizer data not found")

// TokenizerDir returns the directory that holds ollama's tokenizer test data
// (llama3.2/encoder.json, gemma2/tokenizer.model). Order: the explicit
// override; the ollama module recorded in this binary's build info, in the
// module cache; the go command's view of the module (test binaries carry no
// dependency list, but run where the go command is).
func TokenizerDir(ctx context.Context, override string) (string, error) {
	if override != "" {
		return override, nil
	}
	var tried []string
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path != ollamaModule {
				continue
			}
			if d.Replace != nil {
				d = d.Replace
			}
			var dir string
			if filepath.IsAbs(d.Path) || strings.HasPrefix(d.Path, ".") {
				dir = d.Path
			} else if cache := modCache(); cache != "" {
				dir = filepath.Join(cache, escapeModulePath(d.Path)+"@"+d.Version)
			}
			if dir != "" {
				td := filepath.Join(dir, "tokenizer", "testdata")
				if isDir(td) {
					return td, nil
				}
				tried = append(tried, td)
			}
		}
	}
	cmd := exec.CommandContext(ctx, "go", "list", "-m", "-f", "{{.Dir}}", ollamaModule)
	if out, err := cmd.Output(); err == nil {
		td := filepath.Join(string(bytes.TrimSpace(out)), "tokenizer", "testdata")
		if isDir(td) {
			return td, nil
		}
		tried = append(tried, td)
	} else {
		tried = append(tried, "go list -m "+ollamaModule+": "+err.Error())
	}
	return "", fmt.Errorf("%w: looked in %s; pass the path of %s's tokenizer/testdata (--tokenizer)",
		ErrNoTokenizer, strings.Join(tried, ", "), ollamaModule)
}

// modCache mirrors the go command's rule for the module cache location.
func modCache() string {
	if c := os.Getenv("GOMODCACHE"); c != "" {
		return c
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return ""
		}
		gopath = filepath.Join(home, "go")
	}
	return filepath.Join(filepath.SplitList(gopath)[0], "pkg", "mod")
}

// escapeModulePath applies the module cache's case encoding ("!" + lower
// case for each upper-case letter).
func escapeModulePath(p string) string {
	var b strings.Builder
	for _, r := range p {
		if unicode.IsUpper(r) {
			b.WriteByte('!')
			r = unicode.ToLower(r)
		}
		b.WriteRune(r)
	}
	return b.String()
}

func isDir(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.IsDir()
}
