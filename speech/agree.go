package speech

import (
	"strings"
	"unicode"
)

// normWord is the form in which words of two hypotheses are compared:
// lower case without surrounding punctuation, so that "country," and
// "Country." agree while "can" and "cannot" do not.
func normWord(s string) string {
	return strings.ToLower(strings.TrimFunc(s, func(r rune) bool {
		return unicode.IsPunct(r) || unicode.IsSpace(r) || unicode.IsSymbol(r)
	}))
}

// agreedPrefix is LocalAgreement-2: the number of leading words on which
// the previous and the current hypothesis of the same uncommitted audio
// agree. Those words have survived one more second of context and are
// committed; the rest may still change.
func agreedPrefix(prev, cur []Word) int {
	n := 0
	for n < len(prev) && n < len(cur) && normWord(prev[n].Text) == normWord(cur[n].Text) {
		n++
	}
	return n
}

// joinWords renders words as text: single spaces between words, none
// before punctuation such as "," or "…" that came as a word of its own.
func joinWords(ws []Word) string {
	var b strings.Builder
	for _, w := range ws {
		t := strings.TrimSpace(w.Text)
		if t == "" {
			continue
		}
		if b.Len() > 0 && normWord(t) != "" {
			b.WriteByte(' ')
		}
		b.WriteString(t)
	}
	return b.String()
}

// maxOverlapWords is the longest run of words looked for where a new
// hypothesis repeats the end of the committed text.
const maxOverlapWords = 5

// overlapWithTail returns how many leading words of hyp repeat the last
// words of the committed tail. The audio is cut at the committed words'
// end times, which are approximate, so a window can begin with the end of
// a word that is already committed and the recognizer hears it again.
func overlapWithTail(tail, hyp []Word) int {
	for n := min(maxOverlapWords, len(tail), len(hyp)); n > 0; n-- {
		match := true
		for i := range n {
			if normWord(tail[len(tail)-n+i].Text) != normWord(hyp[i].Text) {
				match = false
				break
			}
		}
		if match {
			return n
		}
	}
	return 0
}
