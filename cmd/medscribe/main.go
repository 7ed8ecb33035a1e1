// Command medscribe is a local-first clinical dictation server: live audio
// over WebSocket is transcribed by whisper.cpp, clinical items are
// extracted as FHIR R4 resources coded from a local terminology, and every
// session is saved for review. Nothing leaves the machine.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"

	"github.com/medscribe/medscribe/cmd/medscribe/internal/buildinfo"
)

// command is one subcommand.
type command struct {
	summary string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = map[string]command{}

func register(name, summary string, run func(ctx context.Context, args []string, stdout, stderr io.Writer) error) {
	commands[name] = command{summary: summary, run: run}
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "usage: medscribe <command> [flags]")
	fmt.Fprintln(w)
	fmt.Fprintln(w, "commands:")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-12s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w)
	fmt.Fprintln(w, "Run 'medscribe <command> --help' for a command's flags. Every flag can also be set")
	fmt.Fprintln(w, "through an environment variable MEDSCRIBE_<FLAG> (dashes become underscores).")
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		if len(args) == 0 {
			return 2
		}
		return 0
	}
	cmd, ok := commands[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "medscribe: unknown command %q\n\n", args[0])
		usage(stderr)
		return 2
	}
	if args[0] != "version" {
		if err := buildinfo.CheckCPU(); err != nil {
			fmt.Fprintln(stderr, "medscribe:", err)
			return 1
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := cmd.run(ctx, args[1:], stdout, stderr)
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.Is(err, errUsage):
		return 2
	default:
		fmt.Fprintf(stderr, "medscribe %s: %v\n", args[0], err)
		return 1
	}
}

// errUsage marks errors already explained by a usage message.
var errUsage = errors.New("usage")
