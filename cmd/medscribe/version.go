package main

import (
	"context"
	"fmt"
	"io"
	"runtime"

	"github.com/medscribe/medscribe/cmd/medscribe/internal/buildinfo"
)

func init() {
	register("version", "print versions and how the native code was built", runVersion)
}

func runVersion(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("version", "", stderr)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	cpu := "ok"
	if err := buildinfo.CheckCPU(); err != nil {
		cpu = err.Error()
	}
	fmt.Fprintf(stdout, "medscribe %s\n", buildinfo.Version)
	fmt.Fprintf(stdout, "go            %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "llama.cpp     github.com/ollama/ollama %s (llama package)\n", buildinfo.ModuleVersion("github.com/ollama/ollama"))
	fmt.Fprintf(stdout, "whisper.cpp   whisper.rn %s sources, bindings %s, libwhisper.a %s\n", buildinfo.WhisperRN,
		buildinfo.ModuleVersion("github.com/ggerganov/whisper.cpp/bindings/go"), buildinfo.NativeHash)
	fmt.Fprintf(stdout, "native flags  %s (-march=%s)\n", buildinfo.CFlags, buildinfo.ISA)
	fmt.Fprintf(stdout, "cpu features  %s\n", buildinfo.Features)
	fmt.Fprintf(stdout, "vector class  %s\n", buildinfo.Class())
	fmt.Fprintf(stdout, "this cpu      %s\n", cpu)
	return nil
}
