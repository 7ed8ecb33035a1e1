package terminology

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/medscribe/medscribe/db/terminology/fuzzy"
)

// Normalize is the text normalizer every designation and every query goes
// through: lower case, diacritics and punctuation dropped, letters and
// digits split apart ("10mg" -> "10 mg", "T2DM" -> "t 2 dm"), decimal
// points inside numbers kept ("0.125"), British spellings mapped to
// American ("diarrhoea" -> "diarrhea"), numbers after type/stage/grade
// written as digits ("type II", "type two" -> "type 2"), single spaces. Matchers built
// outside this package must use it so their keys meet the stored ones.
func Normalize(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	const (
		none = iota
		letter
		digit
	)
	prev := none
	space := false
	emit := func(r rune, class int) {
		if b.Len() > 0 && (space || (prev != none && prev != class)) {
			b.WriteByte(' ')
		}
		space = false
		b.WriteRune(r)
		prev = class
	}
	for i, r := range s {
		if r == utf8.RuneError {
			space = true
			continue
		}
		r = foldRune(r)
		switch {
		case r >= 'a' && r <= 'z':
			emit(r, letter)
		case r >= '0' && r <= '9':
			emit(r, digit)
		case r == '.' && prev == digit && !space && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '9':
			// A decimal point between digits is part of the number.
			b.WriteByte('.')
		case unicode.IsLetter(r):
			// Fold again after lowering: 'Ÿ' lowers to 'ÿ', which folds to 'y'.
			emit(foldRune(unicode.ToLower(r)), letter)
		default:
			space = true
		}
	}
	return britishToAmerican(b.String())
}

// foldRune lower-cases ASCII and strips the accents of Latin-1 letters, which
// is all that drug and condition names need.
func foldRune(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + ('a' - 'A')
	}
	if r < 0xC0 {
		return r
	}
	switch {
	case strings.ContainsRune("ÀÁÂÃÄÅàáâãäå", r):
		return 'a'
	case strings.ContainsRune("ÈÉÊËèéêë", r):
		return 'e'
	case strings.ContainsRune("ÌÍÎÏìíîï", r):
		return 'i'
	case strings.ContainsRune("ÒÓÔÕÖØòóôõöø", r):
		return 'o'
	case strings.ContainsRune("ÙÚÛÜùúûü", r):
		return 'u'
	case r == 'Ç' || r == 'ç':
		return 'c'
	case r == 'Ñ' || r == 'ñ':
		return 'n'
	case r == 'Ý' || r == 'ý' || r == 'ÿ':
		return 'y'
	}
	return r
}

// britishStems maps British spellings inside words to the American ones
// ICD-10-CM and RxNorm use; UK clinicians (and speech models trained on
// them) produce the former. Whole UK drug names are fuzzy.USDrugName's.
var britishStems = strings.NewReplacer(
	"aem", "em", // anaemia, haemorrhage, leukaemia, hypoglycaemia, ischaemia
	// "oe" only at the start of a word: "gastroesophageal" keeps its o.
	" oedem", " edem",
	" oesoph", " esoph",
	" oestr", " estr",
	" foet", " fet",
	"diarrhoe", "diarrhe",
	"dyspnoe", "dyspne",
	"apnoe", "apne",
	"tumour", "tumor",
	"behaviour", "behavior",
	"paed", "ped",
	"coeliac", "celiac",
	"sulph", "sulf",
)

// ordinalWords are the words after which a number may be spoken or
// written in roman numerals: "type two diabetes", "type II", "stage III".
var ordinalWords = map[string]bool{"type": true, "stage": true, "grade": true, "class": true, "phase": true}

var spokenNumbers = map[string]string{
	"one": "1", "two": "2", "three": "3", "four": "4", "five": "5",
	"i": "1", "ii": "2", "iii": "3", "iv": "4", "v": "5",
}

func britishToAmerican(s string) string {
	// Repeat until nothing changes: one pass over "aaemia" leaves "aemia".
	// Every replacement is shorter than what it replaces, so this ends.
	s = " " + s
	for {
		r := britishStems.Replace(s)
		if r == s {
			break
		}
		s = r
	}
	s = s[1:]
	words := strings.Split(s, " ")
	changed := false
	for i, w := range words {
		if to, ok := fuzzy.USDrugName(w); ok {
			words[i] = to
			changed = true
		}
		if i > 0 && ordinalWords[words[i-1]] {
			if n, ok := spokenNumbers[w]; ok {
				words[i] = n
				changed = true
			}
		}
	}
	if !changed {
		return s
	}
	return strings.Join(words, " ")
}

// Tokens splits a normalized string into words.
func Tokens(norm string) []string {
	return strings.Fields(norm)
}

// Joined is norm with its spaces removed: the key under which spoken splits
// of one word ("hydro chlorothiazide") meet the word.
func Joined(norm string) string {
	return strings.ReplaceAll(norm, " ", "")
}

// maxPhoneticLen bounds the designations that get a phonetic key: a key
// over a long title would only ever match itself.
const maxPhoneticLen = 32

// PhoneticKey returns the sound-alike key (fuzzy.SoundKey) of a normalized
// name with its spaces removed, so that a speech recognizer's split into
// real words ("lysine april", "met for men", "lip it or") gets the key of
// the drug ("lisinopril", "metformin", "Lipitor").
func PhoneticKey(norm string) string { return fuzzy.SoundKey(Joined(norm)) }

// similarity turns an edit distance into a 0..1 score relative to length.
func similarity(a, b string) float64 {
	n := max(len(a), len(b))
	if n == 0 {
		return 1
	}
	d := fuzzy.Distance(a, b, n)
	return 1 - float64(d)/float64(n)
}
