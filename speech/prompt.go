package speech

import (
	"strings"
)

// Prompt budget. Whisper reads at most 224 prompt tokens; English runs at
// about four characters a token, so 300 + 400 characters stay well inside
// it while leaving the committed tail, which matters most, intact.
const (
	maxVocabChars = 400
	maxTailChars  = 300
	maxVocabTerms = 200
	maxTermChars  = 80
)

// cleanVocabulary trims terms, drops empty and over-long ones and
// case-insensitive duplicates, and keeps at most maxVocabTerms in order.
func cleanVocabulary(terms []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, t := range terms {
		t = strings.Join(strings.Fields(t), " ")
		k := strings.ToLower(t)
		if t == "" || len(t) > maxTermChars || seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, t)
		if len(out) == maxVocabTerms {
			break
		}
	}
	return out
}

// buildPrompt is the initial prompt of one window: the session's domain
// vocabulary as a glossary line, which biases the recognizer toward drug
// and condition spellings, then the end of the committed text, which the
// recognizer reads as what was said just before the window.
func buildPrompt(vocab []string, committed string) string {
	var b strings.Builder
	for _, t := range vocab {
		if b.Len()+len(t)+2 > maxVocabChars {
			break
		}
		if b.Len() == 0 {
			b.WriteString("Glossary: ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(t)
	}
	if b.Len() > 0 {
		b.WriteString(".")
	}
	if tail := tailText(committed, maxTailChars); tail != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(tail)
	}
	return b.String()
}

// tailText returns the last whole words of s, at most n bytes.
func tailText(s string, n int) string {
	s = strings.TrimSpace(s)
	if len(s) <= n {
		return s
	}
	s = s[len(s)-n:]
	if i := strings.IndexByte(s, ' '); i >= 0 {
		return s[i+1:]
	}
	return ""
}
