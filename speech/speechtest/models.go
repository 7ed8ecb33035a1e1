package speechtest

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// SileroModel returns the path of a released Silero VAD model in
// whisper.cpp's format, read in place: $MEDSCRIBE_VAD_MODEL if set, else
// the copy whisper.cpp ships for its own tests
// (models/for-tests-silero-*-ggml.bin) if the whisper.cpp module is in the
// Go module cache. It skips the test when neither exists; tests that only
// need the format use the generated model of speech/testmodel instead.
func SileroModel(tb testing.TB) string {
	tb.Helper()
	if p := os.Getenv("MEDSCRIBE_VAD_MODEL"); p != "" {
		if _, err := os.Stat(p); err != nil {
			tb.Skipf("MEDSCRIBE_VAD_MODEL=%s is not readable: %v", p, err)
		}
		return p
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		tb.Skipf("no released Silero VAD model: MEDSCRIBE_VAD_MODEL unset and go env GOMODCACHE failed: %v", err)
	}
	cache := strings.TrimSpace(string(out))
	matches, _ := filepath.Glob(filepath.Join(cache, "github.com", "ggerganov", "whisper.cpp@*", "models", "for-tests-silero-*-ggml.bin"))
	if len(matches) == 0 {
		tb.Skipf("no released Silero VAD model: set MEDSCRIBE_VAD_MODEL (none found under %s)", cache)
	}
	// The newest module version and, within it, the newest model sort last.
	slices.Sort(matches)
	return matches[len(matches)-1]
}
