package models

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

func TestManifest(t *testing.T) {
	t.Parallel()
	hex40 := regexp.MustCompile(`^[0-9a-f]{40}$`)
	names, files := map[string]bool{}, map[string]bool{}
	for _, m := range Manifest() {
		if names[strings.ToLower(m.Name)] || files[strings.ToLower(m.File)] {
			t.Errorf("%s: name or file %s used twice (files share one directory)", m.Name, m.File)
		}
		names[strings.ToLower(m.Name)], files[strings.ToLower(m.File)] = true, true
		if !isHex64(m.SHA256) || strings.ToLower(m.SHA256) != m.SHA256 {
			t.Errorf("%s: sha256 %q is not lower-case hex", m.Name, m.SHA256)
		}
		if m.Size <= 0 || !hex40.MatchString(m.Revision) || m.Repo == "" || m.License == "" || !strings.HasPrefix(m.LicenseURL, "https://") {
			t.Errorf("%s: incomplete entry %+v", m.Name, m)
		}
		if m.Kind != Whisper && m.Kind != VAD && m.Kind != LLM && m.Kind != Draft {
			t.Errorf("%s: kind %q", m.Name, m.Kind)
		}
		if got := m.URL(DefaultBaseURL, m.Revision); got != "https://huggingface.co/"+m.Repo+"/resolve/"+m.Revision+"/"+m.File {
			t.Errorf("%s: URL %s", m.Name, got)
		}
	}
	var defs []string
	for _, m := range Defaults() {
		defs = append(defs, m.Name)
	}
	want := []string{"silero-vad-v6.2.0", "whisper-base.en", "whisper-small.en", "gemma-3-1b-it-q4_k_m", "medgemma-4b-it-q4_k_m"}
	if !slices.Equal(defs, want) {
		t.Errorf("defaults %v, want %v", defs, want)
	}
	for _, n := range []string{"medgemma-4b-it-q4_k_m", "medgemma-27b-text-it-q4_k_m"} {
		if m, _ := Lookup(n); !m.Gated || m.License != "Health AI Developer Foundations terms" {
			t.Errorf("%s must be gated under HAI-DEF: %+v", n, m)
		}
	}
}

func TestLookup(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"whisper-base.en", "whisper-base.en"},
		{"base.en", "whisper-base.en"},
		{"BASE.EN", "whisper-base.en"},
		{"ggml-base.en.bin", "whisper-base.en"},
		{"large-v3-turbo-q5_0", "whisper-large-v3-turbo-q5_0"},
		{"gemma-3-1b-it-Q4_K_M.gguf", "gemma-3-1b-it-q4_k_m"},
		{"silero-vad-v6.2.0", "silero-vad-v6.2.0"},
		{"v6.2.0", ""},                 // the short form is for whisper only
		{"gemma-3-270m-it-q4_k_m", ""}, // no sha256 in the notes
		{"gemma-3-4b-it-q8_0", ""},     // no sha256 in the notes
		{"", ""},
	} {
		m, ok := Lookup(tc.in)
		if ok != (tc.want != "") || m.Name != tc.want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", tc.in, m.Name, ok, tc.want)
		}
	}
}

// sharedDir is the read-only reference data next to the repository, or
// $MEDSCRIBE_SHARED.
func sharedDir(t *testing.T) string {
	t.Helper()
	if d := os.Getenv("MEDSCRIBE_SHARED"); d != "" {
		return d
	}
	dir, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Skip("no go.mod above the test directory")
		}
		dir = parent
	}
}

// Every pin must be copied exactly from a row of the model notes, so that
// a typo cannot ship as a hash that no download will ever match.
func TestManifestMatchesNotes(t *testing.T) {
	t.Parallel()
	notes, err := os.ReadFile(filepath.Join(sharedDir(t), "MODELS.md"))
	if err != nil {
		t.Skipf("model notes not available (set MEDSCRIBE_SHARED to the shared directory): %v", err)
	}
	doc := string(notes)
	type row struct{ repo, file, size, sha, rev, licence string }
	var rows []row
	for line := range strings.SplitSeq(doc, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 10 {
			continue
		}
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		rows = append(rows, row{cells[2], cells[3], cells[4], cells[5], cells[6], cells[7]})
	}
	if len(rows) < 20 {
		t.Fatalf("found %d table rows in MODELS.md; has its layout changed?", len(rows))
	}
	for _, m := range Manifest() {
		i := slices.IndexFunc(rows, func(r row) bool { return r.repo == m.Repo && r.file == m.File })
		if i < 0 {
			t.Errorf("%s: no row for %s %s in MODELS.md", m.Name, m.Repo, m.File)
			continue
		}
		r := rows[i]
		if r.size != strconv.FormatInt(m.Size, 10) || r.sha != m.SHA256 {
			t.Errorf("%s: pinned %d %s, notes say %s %s", m.Name, m.Size, m.SHA256, r.size, r.sha)
		}
		// Whisper rows shorten the revision ("5359861c…") and give it in
		// full in the text above the table.
		if !strings.HasPrefix(r.rev, m.Revision) && !(strings.HasPrefix(r.rev, m.Revision[:8]+"…") && strings.Contains(doc, m.Revision)) {
			t.Errorf("%s: revision %s, notes say %s", m.Name, m.Revision, r.rev)
		}
		if gated := strings.Contains(r.licence, "**gated"); gated != m.Gated {
			t.Errorf("%s: gated %v, notes say %q", m.Name, m.Gated, r.licence)
		}
		short := map[string]string{"MIT": "MIT", "Gemma Terms of Use": "Gemma ToU", "Health AI Developer Foundations terms": "HAI-DEF"}[m.License]
		if short == "" || !strings.HasPrefix(r.licence, short) {
			t.Errorf("%s: licence %q, notes say %q", m.Name, m.License, r.licence)
		}
	}
}

// Find works on the real manifest without reading the file: a sparse file
// of the pinned size with a sidecar stands in for a 148 MB download.
func TestFind(t *testing.T) {
	t.Parallel()
	m, ok := Lookup("whisper-base.en")
	if !ok {
		t.Fatal("whisper-base.en not in the manifest")
	}
	for _, tc := range []struct {
		name  string
		setup func(t *testing.T, path string)
		want  bool
	}{
		{"missing", func(t *testing.T, path string) {}, false},
		{"verified", func(t *testing.T, path string) {}, true},
		{"no sidecar", func(t *testing.T, path string) { must(t, os.Remove(path+".sha256")) }, false},
		{"other hash", func(t *testing.T, path string) { must(t, writeSidecar(path, strings.Repeat("0", 64))) }, false},
		{"sidecar for another file", func(t *testing.T, path string) {
			must(t, os.WriteFile(path+".sha256", []byte(m.SHA256+"  ggml-small.en.bin\n"), 0o644))
		}, false},
		{"garbage sidecar", func(t *testing.T, path string) { must(t, os.WriteFile(path+".sha256", []byte("x"), 0o644)) }, false},
		{"wrong size", func(t *testing.T, path string) { must(t, os.Truncate(path, m.Size-1)) }, false},
		{"changed after verification", func(t *testing.T, path string) {
			fi, err := os.Stat(path + ".sha256")
			must(t, err)
			must(t, os.Chtimes(path, fi.ModTime(), fi.ModTime().Add(1e9)))
		}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			path := filepath.Join(dir, m.File)
			if tc.name != "missing" {
				f, err := os.Create(path)
				must(t, err)
				must(t, f.Truncate(m.Size))
				must(t, f.Close())
				must(t, writeSidecar(path, m.SHA256))
			}
			tc.setup(t, path)
			for _, name := range []string{"whisper-base.en", "base.en", "ggml-base.en.bin"} {
				got, ok := Find(dir, name)
				if ok != tc.want || (ok && got != path) {
					t.Errorf("Find(%q) = %q, %v; want %v", name, got, ok, tc.want)
				}
			}
			_, p, ok := FindAny(dir, "whisper-small.en", "whisper-base.en")
			if ok != tc.want || (ok && p != path) {
				t.Errorf("FindAny = %q, %v", p, ok)
			}
		})
	}
	if _, ok := Find(t.TempDir(), "no-such-model"); ok {
		t.Error("Find of an unknown name")
	}
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func TestParseSidecar(t *testing.T) {
	t.Parallel()
	sum := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		line string
		ok   bool
	}{
		{sum + "  f.bin\n", true},
		{sum + " *f.bin\n", true},
		{strings.ToUpper(sum) + "  f.bin", true},
		{sum + "  g.bin\n", false},
		{sum[:63] + "  f.bin\n", false},
		{sum + "f.bin\n", false},
		{"", false},
	} {
		got, err := parseSidecar(tc.line, "f.bin")
		if (err == nil) != tc.ok || (tc.ok && got != sum) {
			t.Errorf("parseSidecar(%q) = %q, %v", tc.line, got, err)
		}
	}
}

func TestParseContentRange(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		in           string
		first, total int64
		ok           bool
	}{
		{"bytes 0-99/100", 0, 100, true},
		{"bytes 100-199/*", 100, -1, true},
		{" bytes 5-5/6 ", 5, 6, true},
		{"bytes 5-4/6", 0, 0, false},
		{"bytes 0-99/99", 0, 0, false},
		{"bytes -1-5/6", 0, 0, false},
		{"bytes */100", 0, 0, false},
		{"items 0-1/2", 0, 0, false},
		{"bytes 0-1", 0, 0, false},
		{"", 0, 0, false},
	} {
		first, total, err := parseContentRange(tc.in)
		if (err == nil) != tc.ok || (tc.ok && (first != tc.first || total != tc.total)) {
			t.Errorf("parseContentRange(%q) = %d, %d, %v", tc.in, first, total, err)
		}
	}
}

func FuzzParseContentRange(f *testing.F) {
	for _, s := range []string{"bytes 0-99/100", "bytes 100-199/*", "bytes 5-4/6", "bytes 9223372036854775806-9223372036854775806/9223372036854775807"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		first, total, err := parseContentRange(s)
		if err != nil {
			return
		}
		if first < 0 || (total != -1 && total <= first) {
			t.Fatalf("%q: first %d total %d", s, first, total)
		}
	})
}

func FuzzParseSidecar(f *testing.F) {
	f.Add(strings.Repeat("0f", 32)+"  a.bin\n", "a.bin")
	f.Add("garbage", "a.bin")
	f.Fuzz(func(t *testing.T, line, file string) {
		sum, err := parseSidecar(line, file)
		if err == nil && (!isHex64(sum) || strings.ToLower(sum) != sum) {
			t.Fatalf("%q: accepted %q", line, sum)
		}
	})
}
