package extract

import (
	"strings"

	"github.com/medscribe/medscribe/db/terminology/fuzzy"
)

// Speech recognizers split and mangle drug names they do not know
// ("lysine april" for lisinopril, "metphormin"). Two indexes over drug
// names catch what exact matching misses: a sound-alike key of the name
// with its spaces removed, and every one-letter deletion of one-word names
// (a symmetric-delete index: two words one edit apart share a deletion).

// minFuzzyLen is the shortest drug name matched by sound or spelling:
// shorter names collide with ordinary words and with one another
// ("Clenil" is one letter from "Clenia").
const minFuzzyLen = 8

func (l *Lexicon) addFuzzy(toks []string, concept int32, rank uint8) {
	joined := strings.Join(toks, "")
	if len(joined) < minFuzzyLen || !isAlpha(joined) || rank == rankMisspelling {
		return
	}
	i := int32(len(l.fuzzyNames))
	l.fuzzyNames = append(l.fuzzyNames, fuzzyName{word: joined, concept: concept})
	if key := fuzzy.SoundKey(joined); len(key) >= 4 {
		if prev, ok := l.phon[key]; !ok {
			l.phon[key] = i
		} else if prev >= 0 && l.ingredientKey(l.concepts[l.fuzzyNames[prev].concept].ingredients) != l.ingredientKey(l.concepts[concept].ingredients) {
			// Two drugs sound alike: the key names neither.
			l.phon[key] = -1
		}
	}
	if len(toks) == 1 {
		for _, d := range deletions(joined) {
			l.deletes[d] = append(l.deletes[d], i)
		}
	}
}

// fuzzyName is one one-word drug name of the deletion index.
type fuzzyName struct {
	word    string
	concept int32
}

func isAlpha(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return true
}

// deletions returns w and every string w gives with one letter deleted.
func deletions(w string) []string {
	out := make([]string, 0, len(w)+1)
	out = append(out, w)
	for i := 0; i < len(w); i++ {
		if i > 0 && w[i] == w[i-1] {
			continue // the same string as deleting the letter before
		}
		out = append(out, w[:i]+w[i+1:])
	}
	return out
}

// nearDrug returns the drug whose one-word name is one edit (insertion,
// deletion, substitution or swap of neighbours) from w, when exactly one
// drug identity is.
func (l *Lexicon) nearDrug(w string) (int32, bool) {
	if len(w) < minFuzzyLen || !isAlpha(w) {
		return -1, false
	}
	found := int32(-1)
	identity := ""
	for _, d := range deletions(w) {
		for _, i := range l.deletes[d] {
			fn := l.fuzzyNames[i]
			if !editDistance1(w, fn.word) {
				continue
			}
			id := l.ingredientKey(l.concepts[fn.concept].ingredients)
			if found >= 0 && id != identity {
				return -1, false
			}
			if found < 0 || l.concepts[fn.concept].kind == "IN" {
				found, identity = fn.concept, id
			}
		}
	}
	return found, found >= 0
}

// editDistance1 reports whether a and b are at most one edit apart
// (insertion, deletion, substitution, or a swap of neighbours).
func editDistance1(a, b string) bool {
	if a == b {
		return true
	}
	la, lb := len(a), len(b)
	if la-lb > 1 || lb-la > 1 {
		return false
	}
	i := 0
	for i < la && i < lb && a[i] == b[i] {
		i++
	}
	switch {
	case la == lb:
		if a[i+1:] == b[i+1:] {
			return true
		}
		return i+1 < la && a[i] == b[i+1] && a[i+1] == b[i] && a[i+2:] == b[i+2:]
	case la > lb:
		return a[i+1:] == b[i:]
	default:
		return a[i:] == b[i+1:]
	}
}

// soundAlike returns the drug whose name has the phonetic key of the
// joined words, if one drug identity does, and that name.
func (l *Lexicon) soundAlike(joined string) (int32, string, bool) {
	if len(joined) < minFuzzyLen || !isAlpha(joined) {
		return -1, "", false
	}
	key := fuzzy.SoundKey(joined)
	if len(key) < 4 {
		return -1, "", false
	}
	i, ok := l.phon[key]
	if !ok || i < 0 {
		return -1, "", false
	}
	fn := l.fuzzyNames[i]
	return fn.concept, fn.word, true
}

// similar reports whether a said word is spelled close to a drug name:
// within four edits in ten letters. Sound alone is too loose a test.
func similar(said, name string) bool {
	limit := max(len(said), len(name)) * 4 / 10
	return fuzzy.Distance(said, name, limit) <= limit
}
