package testmodels

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

func TestList(t *testing.T) {
	t.Parallel()
	var out bytes.Buffer
	if err := Main(context.Background(), []string{"--list"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	for _, name := range append(Defaults, "gemma3-270m-q4_k", "gemma3-27b-q4_k") {
		if !strings.Contains(out.String(), name+" ") {
			t.Errorf("--list lacks %s:\n%s", name, out.String())
		}
	}
	if !strings.Contains(out.String(), "27.01 B params") {
		t.Errorf("--list lacks the 27B parameter count:\n%s", out.String())
	}
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	var out, errOut bytes.Buffer
	args := []string{"--dir", dir, "--only", "whisper-micro, gemma3-micro-q4_0"}
	if err := Main(context.Background(), args, &out, &errOut); err != nil {
		if errors.Is(err, modelfile.ErrNoTokenizer) {
			t.Skip(err)
		}
		t.Fatalf("%v\n%s", err, errOut.String())
	}
	line := regexp.MustCompile(`(?m)^(\S+)\t(\S+)\t[0-9.]+ MB\tsha256:[0-9a-f]{64}\t(generated|cached) in [0-9.]+s$`)
	got := line.FindAllStringSubmatch(out.String(), -1)
	if len(got) != 2 {
		t.Fatalf("output:\n%s", out.String())
	}
	for i, want := range []string{"whisper-micro", "gemma3-micro-q4_0"} {
		if got[i][1] != want || got[i][3] != "generated" {
			t.Errorf("line %d = %q", i, got[i][0])
		}
		if _, err := os.Stat(got[i][2]); err != nil || filepath.Dir(got[i][2]) != dir {
			t.Errorf("%s: path %s: %v", want, got[i][2], err)
		}
	}
	out.Reset()
	if err := Main(context.Background(), args, &out, &errOut); err != nil {
		t.Fatal(err)
	}
	if strings.Count(out.String(), "\tcached in ") != 2 {
		t.Errorf("second run regenerated:\n%s", out.String())
	}
}

func TestUsage(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args []string
		want error
	}{
		{[]string{"--help"}, flag.ErrHelp},
		{[]string{"--only", "whisper-large"}, ErrUsage},
		{[]string{"--bogus"}, ErrUsage},
		{[]string{"extra"}, ErrUsage},
	}
	for _, tt := range tests {
		var out bytes.Buffer
		if err := Main(context.Background(), tt.args, &out, &out); !errors.Is(err, tt.want) {
			t.Errorf("Main(%q) = %v, want %v", tt.args, err, tt.want)
		}
		if out.Len() == 0 {
			t.Errorf("Main(%q) printed nothing", tt.args)
		}
	}
}
