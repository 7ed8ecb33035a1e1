package models

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// testEnv is a process environment of its own, so tests can run in
// parallel without touching the real one.
func testEnv(ms []Model, vars map[string]string) *env {
	return &env{manifest: ms, getenv: func(k string) string { return vars[k] }, backoff: time.Millisecond}
}

func runCLI(t *testing.T, e *env, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	err = run(context.Background(), args, &out, &errOut, e)
	return out.String(), errOut.String(), err
}

// testManifest: two defaults (one gated) and one extra, all served by s.
func testManifest(s *fakeHF) ([]Model, map[string][]byte) {
	vad, vadData := testModel("vad", 20_000)
	vad.Kind, vad.Default = VAD, true
	med, medData := testModel("med", 30_000)
	med.Kind, med.Default, med.Gated, med.License, med.LicenseURL = LLM, true, true, "Test Terms", "https://example.org/terms"
	extra, extraData := testModel("extra", 10_000)
	data := map[string][]byte{vad.Name: vadData, med.Name: medData, extra.Name: extraData}
	ms := []Model{vad, med, extra}
	for _, m := range ms {
		s.add(m, m.Revision, data[m.Name])
	}
	return ms, data
}

func TestCLIPullDefaults(t *testing.T) {
	t.Parallel()
	for _, token := range []string{"", "tok"} {
		t.Run("token="+token, func(t *testing.T) {
			t.Parallel()
			s := newFakeHF(t)
			s.token = token // with a token, the server demands it for every file
			ms, data := testManifest(s)
			cache := t.TempDir()
			e := testEnv(ms, map[string]string{"MEDSCRIBE_CACHE": cache, "MEDSCRIBE_MODELS_BASE_URL": s.URL, "HF_TOKEN": token})
			args := []string{"pull"}
			if token != "" {
				args = append(args, "--mirror-token")
			}
			stdout, stderr, err := runCLI(t, e, args...)
			if err != nil {
				t.Fatalf("%v\n%s", err, stderr)
			}
			dir := filepath.Join(cache, "models")
			checkInstalled(t, dir, ms[0], data[ms[0].Name])
			_, gatedThere := FindModel(dir, ms[1])
			if gatedThere != (token != "") {
				t.Errorf("gated default pulled = %v with HF_TOKEN %q", gatedThere, token)
			}
			if _, ok := FindModel(dir, ms[2]); ok {
				t.Error("a model that is not a default was pulled")
			}
			if token == "" && !strings.Contains(stderr, "med: skipped: gated (Test Terms)") {
				t.Errorf("no skip note for the gated default:\n%s", stderr)
			}
			if !strings.Contains(stdout, "vad\t"+filepath.Join(dir, "vad.bin")+"\tdownloaded 20.0 kB in ") {
				t.Errorf("stdout:\n%s", stdout)
			}

			// Again: nothing to do, said so.
			stdout, _, err = runCLI(t, e, args...)
			if err != nil || !strings.Contains(stdout, "vad\t"+filepath.Join(dir, "vad.bin")+"\talready verified") {
				t.Errorf("second pull: %v\n%s", err, stdout)
			}
		})
	}
}

// Names and flags in any order; one failure does not stop the others and
// is returned with its type intact.
func TestCLIPullNamed(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	ms, data := testManifest(s)
	missing, _ := testModel("missing", 10)
	ms = append(ms, missing)
	dir := t.TempDir()
	e := testEnv(ms, nil)
	stdout, stderr, err := runCLI(t, e, "pull", "missing", "--dir", dir, "extra.bin", "--base-url", s.URL)
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 404 || !strings.Contains(err.Error(), "pull missing: ") {
		t.Fatalf("err = %v\n%s", err, stderr)
	}
	checkInstalled(t, dir, ms[2], data["extra"])
	if !strings.Contains(stdout, "extra\t") || strings.Contains(stdout, "missing\t") {
		t.Errorf("stdout:\n%s", stdout)
	}
}

// With no network the pull stops at the first model with the offline
// message and tells the user which files to copy by hand.
func TestCLIPullOffline(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	ln.Close()
	cache := t.TempDir()
	// The real manifest: this is what `medscribe models pull` does offline.
	e := testEnv(manifest, map[string]string{"MEDSCRIBE_CACHE": cache, "MEDSCRIBE_MODELS_BASE_URL": base})
	_, stderr, err := runCLI(t, e, "pull")
	dir := filepath.Join(cache, "models")
	if !errors.Is(err, ErrOffline) || !strings.HasPrefix(err.Error(), "cannot reach 127.0.0.1: this machine appears to be offline; copy the model files to "+dir+" or pass --whisper-model/--llm-model") {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{
		"medgemma-4b-it-q4_k_m: skipped: gated",
		"ggml-silero-v6.2.0.bin  885.1 kB  sha256 2aa269b785eeb53a82983a20501ddf7c1d9c48e33ab63a41391ac6c9f7fb6987",
		base + "/ggerganov/whisper.cpp/resolve/5359861c739e955e79d9a303bcbc70fb988958b1/ggml-base.en.bin",
		"ggml-small.en.bin", "gemma-3-1b-it-Q4_K_M.gguf",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if strings.Contains(stderr, "  medgemma-4b-it-Q4_K_M.gguf") {
		t.Errorf("the skipped gated model is in the copy list:\n%s", stderr)
	}
}

func TestCLIListAndPath(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	ms, data := testManifest(s)
	dir := t.TempDir()
	e := testEnv(ms, nil)
	if _, _, err := runCLI(t, e, "pull", "--dir", dir, "--base-url", s.URL, "vad"); err != nil {
		t.Fatal(err)
	}
	// A third of "extra" downloaded.
	if err := os.WriteFile(filepath.Join(dir, "extra.bin.part"), data["extra"][:3333], 0o644); err != nil {
		t.Fatal(err)
	}
	stdout, _, err := runCLI(t, e, "list", "--dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(stdout, "\n")
	for _, want := range [][]string{
		{"NAME", "KIND", "SIZE", "LICENCE", "GATED", "DEFAULT", "STATE"},
		{"vad ", "vad", "20.0 kB", "MIT", "no", "yes", "verified"},
		{"med ", "llm", "Test Terms", "yes (HF_TOKEN)", "yes", " - "},
		{"extra ", "partial 33%"},
	} {
		found := false
		for _, l := range lines {
			ok := true
			for _, w := range want {
				ok = ok && strings.Contains(l, w)
			}
			found = found || ok
		}
		if !found {
			t.Errorf("no line with %q in:\n%s", want, stdout)
		}
	}
	for _, want := range []string{"Test Terms: https://example.org/terms", "MIT: https://example.org/mit", "directory: " + dir} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list lacks %q", want)
		}
	}

	stdout, _, err = runCLI(t, e, "path", "--dir", dir, "vad")
	if err != nil || stdout != filepath.Join(dir, "vad.bin")+"\n" {
		t.Errorf("path vad = %q, %v", stdout, err)
	}
	stdout, _, err = runCLI(t, e, "path", "extra", "--dir", dir)
	if !errors.Is(err, ErrNotPulled) || stdout != "" || !strings.Contains(err.Error(), "medscribe models pull extra") {
		t.Errorf("path extra = %q, %v", stdout, err)
	}
}

func TestCLIUsage(t *testing.T) {
	t.Parallel()
	e := testEnv(manifest, map[string]string{"MEDSCRIBE_CACHE": t.TempDir()})
	for _, tc := range []struct {
		args []string
		want error
		says string
	}{
		{nil, ErrUsage, "usage: medscribe models"},
		{[]string{"fetch"}, ErrUsage, `unknown command "fetch"`},
		{[]string{"pull", "whisper-huge"}, ErrUsage, `unknown model "whisper-huge"`},
		{[]string{"pull", "--bogus"}, ErrUsage, "flag provided but not defined"},
		{[]string{"path"}, ErrUsage, "exactly one NAME"},
		{[]string{"path", "base.en", "small.en"}, ErrUsage, "exactly one NAME"},
		{[]string{"list", "base.en"}, ErrUsage, "takes no NAME"},
		{[]string{"--help"}, flag.ErrHelp, ""},
		{[]string{"pull", "-h"}, flag.ErrHelp, ""},
	} {
		_, stderr, err := runCLI(t, e, tc.args...)
		if !errors.Is(err, tc.want) || !strings.Contains(stderr, tc.says) {
			t.Errorf("%q: err %v, stderr:\n%s", tc.args, err, stderr)
		}
	}
}

// The real manifest's list names every model and licence.
func TestCLIListReal(t *testing.T) {
	t.Parallel()
	e := testEnv(manifest, map[string]string{"MEDSCRIBE_CACHE": t.TempDir()})
	stdout, _, err := runCLI(t, e, "list")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range manifest {
		if !strings.Contains(stdout, m.Name+" ") {
			t.Errorf("list lacks %s", m.Name)
		}
	}
	for _, want := range []string{
		"MIT: https://huggingface.co/ggerganov/whisper.cpp",
		"Gemma Terms of Use: https://ai.google.dev/gemma/terms",
		"Health AI Developer Foundations terms: https://developers.google.com/health-ai-developer-foundations/terms",
		"16.55 GB",
	} {
		if !strings.Contains(stdout, want) {
			t.Errorf("list lacks %q:\n%s", want, stdout)
		}
	}
}

func TestDefaultDir(t *testing.T) {
	t.Parallel()
	d, err := defaultDir(func(k string) string { return map[string]string{"MEDSCRIBE_CACHE": "/c"}[k] })
	if err != nil || d != filepath.Join("/c", "models") {
		t.Errorf("with MEDSCRIBE_CACHE: %q, %v", d, err)
	}
	if uc, err := os.UserCacheDir(); err == nil {
		d, err := defaultDir(func(string) string { return "" })
		if err != nil || d != filepath.Join(uc, "medscribe", "models") {
			t.Errorf("without: %q, %v", d, err)
		}
	}
}
