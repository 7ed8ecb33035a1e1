package speech

import (
	"strings"
	"testing"
	"time"
)

func words(s string) []Word {
	var ws []Word
	for i, f := range strings.Fields(s) {
		ws = append(ws, Word{Text: f, Start: time.Duration(i) * 300 * time.Millisecond, End: time.Duration(i)*300*time.Millisecond + 250*time.Millisecond})
	}
	return ws
}

func TestAgreedPrefix(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		prev, cur string
		want      int
	}{
		{"", "ask not what", 0},
		{"ask not what", "", 0},
		{"ask not what", "ask not what your", 3},
		{"ask not whet", "ask not what your", 2},
		{"And so, my fellow", "and so my fellow Americans,", 4},
		{"can do", "cannot do", 0},
		{"metformin 500", "metformin 500 milligrams", 2},
	} {
		if got := agreedPrefix(words(tc.prev), words(tc.cur)); got != tc.want {
			t.Errorf("agreedPrefix(%q, %q) = %d, want %d", tc.prev, tc.cur, got, tc.want)
		}
	}
}

func TestJoinWords(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"ask not ,", "ask not,"},
		{" And  so ", "And so"},
		{"twice daily .", "twice daily."},
		{"", ""},
	} {
		if got := joinWords(words(tc.in)); got != tc.want {
			t.Errorf("joinWords(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestOverlapWithTail(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		tail, hyp string
		want      int
	}{
		{"for your country", "country and", 1},
		{"do for you", "do for you ask", 3},
		{"fellow Americans,", "Americans ask not", 1},
		{"ask not what", "your country", 0},
		{"", "anything", 0},
	} {
		if got := overlapWithTail(words(tc.tail), words(tc.hyp)); got != tc.want {
			t.Errorf("overlapWithTail(%q, %q) = %d, want %d", tc.tail, tc.hyp, got, tc.want)
		}
	}
}

func TestBuildPrompt(t *testing.T) {
	t.Parallel()
	vocab := cleanVocabulary([]string{" metformin ", "Metformin", "", "atrial  fibrillation", strings.Repeat("x", 100)})
	if got, want := strings.Join(vocab, "|"), "metformin|atrial fibrillation"; got != want {
		t.Errorf("cleanVocabulary = %q, want %q", got, want)
	}
	for _, tc := range []struct {
		vocab     []string
		committed string
		want      string
	}{
		{nil, "", ""},
		{vocab, "", "Glossary: metformin, atrial fibrillation."},
		{nil, "He takes metformin.", "He takes metformin."},
		{vocab, "He takes", "Glossary: metformin, atrial fibrillation. He takes"},
	} {
		if got := buildPrompt(tc.vocab, tc.committed); got != tc.want {
			t.Errorf("buildPrompt(%q, %q) = %q, want %q", tc.vocab, tc.committed, got, tc.want)
		}
	}
	long := strings.Repeat("word ", 200) + "end."
	p := buildPrompt(nil, long)
	if len(p) > maxTailChars || !strings.HasSuffix(p, "word end.") || strings.HasPrefix(p, "ord") {
		t.Errorf("long tail prompt is %d bytes, %q…", len(p), p[:20])
	}
	many := make([]string, 500)
	for i := range many {
		many[i] = "term" + strings.Repeat("x", i%7) + string(rune('a'+i%26)) + string(rune('a'+i/26))
	}
	if p := buildPrompt(cleanVocabulary(many), ""); len(p) > maxVocabChars+len("Glossary: .") {
		t.Errorf("vocabulary prompt is %d bytes, want at most %d", len(p), maxVocabChars)
	}
}
