package models

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"
)

// ErrNotPulled means "models path" was asked for a model that is not in
// the directory, or not verified there.
var ErrNotPulled = errors.New("model not pulled")

// Main runs "medscribe models" with args (the words after "models"). It
// returns flag.ErrHelp after printing help, ErrUsage after a usage
// message, an error matching ErrOffline when the download host cannot be
// reached, and otherwise the errors of the models that failed, joined.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return run(ctx, args, stdout, stderr, &env{manifest: manifest, getenv: os.Getenv, bar: isTerminal(stderr)})
}

// env is what Main takes from the process; tests supply their own.
type env struct {
	manifest []Model
	getenv   func(string) string
	bar      bool         // stderr is a terminal
	client   *http.Client // nil: the default client
	backoff  time.Duration
	now      func() time.Time
}

func usage(w io.Writer, ms []Model) {
	var defs []string
	for _, m := range defaults(ms) {
		defs = append(defs, m.Name)
	}
	fmt.Fprintf(w, `usage: medscribe models <command> [flags] [NAME...]

commands:
  pull [NAME...]   download and verify models; with no NAME the defaults:
                   %s
                   (gated ones only when HF_TOKEN is set)
  list             every pinned model, its licence, and whether it is here
  path NAME        print the path of a pulled and verified model (for scripts)

flags:
  --dir DIR        model directory (default $MEDSCRIBE_CACHE/models, else the
                   user cache directory's medscribe/models)
  --base-url URL   download from a mirror with Hugging Face's layout
                   [MEDSCRIBE_MODELS_BASE_URL, else HF_ENDPOINT]
  --mirror-token   also send HF_TOKEN to a --base-url outside huggingface.co

environment:
  HF_TOKEN         Hugging Face read token, needed for gated models after the
                   licence is accepted on the model's page

Every file is checked against a pinned size and SHA-256 before it is used;
downloads resume after an interruption. NAME is a name from 'models list', a
file name, or a whisper name without "whisper-" (base.en).
`, strings.Join(defs, ", "))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer, e *env) error {
	if len(args) == 0 {
		usage(stderr, e.manifest)
		return ErrUsage
	}
	cmd, args := args[0], args[1:]
	if cmd == "-h" || cmd == "--help" || cmd == "help" {
		usage(stdout, e.manifest)
		return flag.ErrHelp
	}
	fs := flag.NewFlagSet("models "+cmd, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	dir := fs.String("dir", "", "")
	baseURL := fs.String("base-url", "", "")
	mirrorToken := fs.Bool("mirror-token", false, "")
	names, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		usage(stdout, e.manifest)
		return err
	}
	if err != nil {
		fmt.Fprintf(stderr, "models %s: %v\n\n", cmd, err)
		usage(stderr, e.manifest)
		return ErrUsage
	}
	if *dir == "" {
		d, err := defaultDir(e.getenv)
		if err != nil {
			return err
		}
		*dir = d
	}
	var todo []Model
	for _, n := range names {
		m, ok := lookup(e.manifest, n)
		if !ok {
			fmt.Fprintf(stderr, "models %s: unknown model %q (see 'medscribe models list')\n", cmd, n)
			return ErrUsage
		}
		todo = append(todo, m)
	}

	switch cmd {
	case "list":
		if len(names) > 0 {
			fmt.Fprintln(stderr, "models list: takes no NAME")
			return ErrUsage
		}
		return list(stdout, *dir, e.manifest)
	case "path":
		if len(todo) != 1 {
			fmt.Fprintln(stderr, "models path: takes exactly one NAME")
			return ErrUsage
		}
		p, ok := FindModel(*dir, todo[0])
		if !ok {
			return fmt.Errorf("%w: %s is not in %s, or not verified there (run: medscribe models pull %s)", ErrNotPulled, todo[0].Name, *dir, todo[0].Name)
		}
		fmt.Fprintln(stdout, p)
		return nil
	case "pull":
		opts := &Options{
			BaseURL:       *baseURL,
			Token:         e.getenv("HF_TOKEN"),
			TokenToMirror: *mirrorToken,
			Client:        e.client,
			Progress:      stderr,
			Bar:           e.bar,
			Backoff:       e.backoff,
			Now:           e.now,
		}
		if opts.BaseURL == "" {
			opts.BaseURL = e.getenv("MEDSCRIBE_MODELS_BASE_URL")
		}
		if opts.BaseURL == "" {
			opts.BaseURL = e.getenv("HF_ENDPOINT")
		}
		if opts.BaseURL == "" {
			opts.BaseURL = DefaultBaseURL
		}
		if len(todo) == 0 {
			for _, m := range defaults(e.manifest) {
				if m.Gated && opts.Token == "" {
					fmt.Fprintf(stderr, "%s: skipped: gated (%s); accept the licence at %s, set HF_TOKEN, and run: medscribe models pull %s\n",
						m.Name, m.License, m.RepoPage(), m.Name)
					continue
				}
				todo = append(todo, m)
			}
		}
		return pull(ctx, stdout, stderr, *dir, todo, opts)
	}
	fmt.Fprintf(stderr, "models: unknown command %q\n\n", cmd)
	usage(stderr, e.manifest)
	return ErrUsage
}

// parseInterspersed parses flags wherever they appear among the names
// ("models pull base.en --dir D"), which the flag package alone does not.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		args = fs.Args()
		if len(args) == 0 {
			return rest, nil
		}
		if args[0] == "--" {
			return append(rest, args[1:]...), nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// pull fetches each model in turn. An offline machine stops the whole run
// at the first model (every other one would fail the same way); any other
// failure is reported at the end, after the remaining models were tried.
func pull(ctx context.Context, stdout, stderr io.Writer, dir string, todo []Model, opts *Options) error {
	var errs []error
	for _, m := range todo {
		start := opts.now()
		res, err := Pull(ctx, dir, m, opts)
		if errors.Is(err, ErrOffline) {
			manualCopy(stderr, dir, todo, opts.BaseURL)
			return err
		}
		if err != nil {
			if ctx.Err() != nil {
				return err
			}
			errs = append(errs, fmt.Errorf("pull %s: %w", m.Name, err))
			continue
		}
		how := "already verified"
		switch {
		case res.Downloaded > 0:
			how = fmt.Sprintf("downloaded %s in %s, sha256 verified", human(res.Downloaded), clock(opts.now().Sub(start)))
		case res.Hashed:
			how = "found in place, sha256 verified"
		}
		fmt.Fprintf(stdout, "%s\t%s\t%s\n", m.Name, res.Path, how)
	}
	return errors.Join(errs...)
}

// manualCopy tells an offline user which files to fetch elsewhere.
func manualCopy(w io.Writer, dir string, todo []Model, base string) {
	fmt.Fprintf(w, "To install by hand, download these files on a connected machine, copy them to %s,\nthen run 'medscribe models pull' again (it checks them without the network):\n", dir)
	for _, m := range todo {
		rev := m.Revision
		if rev == "" {
			rev = "main"
		}
		fmt.Fprintf(w, "  %s  %s  sha256 %s\n    %s\n", m.File, human(m.Size), m.SHA256, m.URL(base, rev))
	}
}

func (o *Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

// list prints the manifest with licences and what is in dir.
func list(w io.Writer, dir string, ms []Model) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tKIND\tSIZE\tLICENCE\tGATED\tDEFAULT\tSTATE\tNOTE")
	licences := map[string]string{}
	var order []string
	for _, m := range ms {
		gated, def := "no", ""
		if m.Gated {
			gated = "yes (HF_TOKEN)"
		}
		if m.Default {
			def = "yes"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", m.Name, m.Kind, human(m.Size), m.License, gated, def, state(dir, m), m.Note)
		if _, seen := licences[m.License]; !seen {
			order = append(order, m.License)
		}
		licences[m.License] = m.LicenseURL
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "\ndirectory: %s\nlicences (accept a gated model's on its Hugging Face page before pulling it):\n", dir)
	for _, l := range order {
		fmt.Fprintf(w, "  %s: %s\n", l, licences[l])
	}
	return nil
}

// state says what dir holds of m, without hashing anything.
func state(dir string, m Model) string {
	path := filepath.Join(dir, m.File)
	if verified(path, m) {
		return "verified"
	}
	if _, err := os.Stat(path); err == nil {
		return "unverified (pull checks it)"
	}
	if fi, err := os.Stat(path + ".part"); err == nil && m.Size > 0 {
		return fmt.Sprintf("partial %.0f%%", 100*float64(min(fi.Size(), m.Size))/float64(m.Size))
	}
	return "-"
}

// isTerminal reports whether w is a terminal, where a redrawn progress bar
// makes sense (a pipe or a log file gets plain lines instead).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok || os.Getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
