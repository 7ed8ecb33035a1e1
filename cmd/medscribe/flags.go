package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
)

// newFlags returns a flag set for a subcommand whose usage names the
// environment variable of each flag.
func newFlags(name, synopsis string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: medscribe %s %s\n\nflags (environment variable in brackets):\n", name, synopsis)
		fs.VisitAll(func(f *flag.Flag) {
			def := ""
			if f.DefValue != "" && f.DefValue != "false" {
				def = fmt.Sprintf(" (default %q)", f.DefValue)
			}
			fmt.Fprintf(stderr, "  --%s  [%s]\n      %s%s\n", f.Name, envName(f.Name), f.Usage, def)
		})
	}
	return fs
}

func envName(flagName string) string {
	return "MEDSCRIBE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parseFlags parses args and then fills every flag not given on the
// command line from its MEDSCRIBE_* environment variable.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return err
		}
		return errUsage
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(envName(f.Name)); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%s=%q: %w", envName(f.Name), v, e)
			}
		}
	})
	return err
}

// dataDir is where medscribe keeps its database by default: the XDG data
// directory on Linux, Application Support on macOS.
func dataDir() string {
	if d := os.Getenv("XDG_DATA_HOME"); d != "" {
		return filepath.Join(d, "medscribe")
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return "medscribe-data"
	}
	if runtime.GOOS == "darwin" {
		return filepath.Join(home, "Library", "Application Support", "medscribe")
	}
	return filepath.Join(home, ".local", "share", "medscribe")
}

// cacheDir holds downloaded and generated models.
func cacheDir() string {
	if d := os.Getenv("MEDSCRIBE_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return filepath.Join(dataDir(), "cache")
	}
	return filepath.Join(d, "medscribe")
}

// stdin is the command's input; tests replace it.
var stdin io.Reader = os.Stdin

func readerOf(context.Context) io.Reader { return stdin }

func slogDiscard() *slog.Logger { return slog.New(slog.DiscardHandler) }
