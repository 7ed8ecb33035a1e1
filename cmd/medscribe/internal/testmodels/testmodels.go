// Package testmodels is the "medscribe testmodels" command: it generates
// (or finds in the cache) the random-weight whisper and Gemma 3 models of
// speech/testmodel and extract/testmodel, so that the server, the tests and
// the benchmarks can run on machines without real model weights.
package testmodels

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	extractmodel "github.com/medscribe/medscribe/extract/testmodel"
	speechmodel "github.com/medscribe/medscribe/speech/testmodel"
)

// Defaults are the models generated when --only is not given: what the
// test suite and "make run" use.
var Defaults = []string{"whisper-micro", "whisper-tiny.en", "gemma3-micro-q8_0", "gemma3-1b-q8_0"}

// ErrUsage marks a command line that was wrong; the message and usage have
// already been printed to stderr.
var ErrUsage = errors.New("usage")

// model is one generatable model of either package.
type model struct {
	name    string
	bytes   int64
	purpose string
	ensure  func(ctx context.Context, dir, tokenizer string) (result, error)
}

type result struct {
	path      string
	size      int64
	sha256    string
	generated bool
}

func catalog() []model {
	var ms []model
	for _, m := range speechmodel.Names() {
		ms = append(ms, model{m.Name, m.ApproxBytes, "whisper: " + m.Purpose,
			func(ctx context.Context, dir, tok string) (result, error) {
				r, err := speechmodel.Ensure(ctx, dir, m.Name, &speechmodel.Options{TokenizerDir: tok})
				return result{r.Path, r.Size, r.SHA256, r.Generated}, err
			}})
	}
	for _, m := range extractmodel.Names() {
		ms = append(ms, model{m.Name, m.ApproxBytes, fmt.Sprintf("gemma3 %s, %.2f B params: %s", strings.ToUpper(m.Quant), float64(m.Params)/1e9, m.Purpose),
			func(ctx context.Context, dir, tok string) (result, error) {
				r, err := extractmodel.Ensure(ctx, dir, m.Name, &extractmodel.Options{TokenizerDir: tok})
				return result{r.Path, r.Size, r.SHA256, r.Generated}, err
			}})
	}
	return ms
}

// Main runs the command with args (after "testmodels"). It returns
// flag.ErrHelp after printing help, ErrUsage after a usage message, or the
// first generation error.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("testmodels", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dir := fs.String("dir", "", "cache directory (default $MEDSCRIBE_CACHE/testmodels, else the user cache dir's medscribe/testmodels)")
	only := fs.String("only", "", "comma-separated model names to generate instead of the defaults ("+strings.Join(Defaults, ",")+")")
	list := fs.Bool("list", false, "list the available models and exit")
	tokenizer := fs.String("tokenizer", "", "ollama's tokenizer/testdata directory (default: found in the Go module cache)")
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: medscribe testmodels [--dir DIR] [--only NAME[,NAME]] [--tokenizer DIR] [--list]")
		fmt.Fprintln(stderr)
		fmt.Fprintln(stderr, "Generates deterministic random-weight whisper and Gemma 3 models in the real file formats")
		fmt.Fprintln(stderr, "(cached; a model is rewritten only when missing, damaged or from another generator version).")
		fmt.Fprintln(stderr)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return ErrUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "testmodels: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return ErrUsage
	}

	all := catalog()
	if *list {
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tSIZE\tWHAT")
		for _, m := range all {
			fmt.Fprintf(tw, "%s\t%s\t%s\n", m.name, human(m.bytes), m.purpose)
		}
		return tw.Flush()
	}

	names := Defaults
	if *only != "" {
		names = nil
		for n := range strings.SplitSeq(*only, ",") {
			if n = strings.TrimSpace(n); n != "" {
				names = append(names, n)
			}
		}
	}
	var todo []model
	for _, n := range names {
		i := slices.IndexFunc(all, func(m model) bool { return m.name == n })
		if i < 0 {
			fmt.Fprintf(stderr, "testmodels: unknown model %q (see --list)\n", n)
			return ErrUsage
		}
		todo = append(todo, all[i])
	}

	if *dir == "" {
		d, err := speechmodel.DefaultDir()
		if err != nil {
			return err
		}
		*dir = d
	}
	for _, m := range todo {
		start := time.Now()
		r, err := m.ensure(ctx, *dir, *tokenizer)
		if err != nil {
			return err
		}
		state := "cached"
		if r.generated {
			state = "generated"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\tsha256:%s\t%s in %.1fs\n",
			m.name, r.path, human(r.size), r.sha256, state, time.Since(start).Seconds())
	}
	return nil
}

// human formats a byte count in decimal megabytes or gigabytes.
func human(n int64) string {
	if n >= 1e9 {
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	}
	return fmt.Sprintf("%.1f MB", float64(n)/1e6)
}
