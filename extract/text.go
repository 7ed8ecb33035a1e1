package extract

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/medscribe/medscribe/db/terminology/fuzzy"
)

// The rules extractor works on tokens, never on raw strings: terminology
// names and transcript text go through the same tokenizer, so a name meets
// its mention whatever the case, accents, spelling (British or American),
// plural or spacing of digits ("10mg"), and a match can only ever start and
// end at word boundaries.

type tokKind uint8

const (
	tokWord  tokKind = iota // letters
	tokNum                  // digits, with a decimal point kept ("0.125")
	tokPunct                // one punctuation character
	tokBreak                // a line break (two or more: a paragraph)
)

// token is one word, number or punctuation mark of a text.
type token struct {
	norm       string // normalized: folded, lower case, American spelling, singular
	start, end int    // byte offsets in the text
	kind       tokKind
	caps       bool // two or more letters, all upper case: an abbreviation or a heading
	title      bool // starts with an upper-case letter
	dotted     bool // written with dots ("b.i.d.", "p.r.n."): dots are part of the token
	para       bool // tokBreak: a blank line
}

func (t token) is(words ...string) bool {
	for _, w := range words {
		if t.norm == w {
			return true
		}
	}
	return false
}

// tokenize splits text into tokens. Letters and digits are split apart
// ("10mg" is 10 and mg), single letters written with dots join into one
// token ("b.i.d." is bid), contractions lose their apostrophe ("doesn't" is
// doesnt) and a possessive 's is dropped.
func tokenize(text string) []token {
	toks := make([]token, 0, len(text)/4+4)
	i := 0
	for i < len(text) {
		r, size := utf8.DecodeRuneInString(text[i:])
		switch {
		case r == '\n' || r == '\r':
			j, lines := i, 0
			for j < len(text) && (text[j] == '\n' || text[j] == '\r' || text[j] == ' ' || text[j] == '\t') {
				if text[j] == '\n' {
					lines++
				}
				j++
			}
			if lines == 0 {
				lines = 1 // a lone \r
			}
			toks = append(toks, token{norm: "\n", start: i, end: j, kind: tokBreak, para: lines > 1})
			i = j
		case unicode.IsSpace(r) || r == utf8.RuneError:
			i += size
		case r >= '0' && r <= '9':
			j := i
			for j < len(text) {
				c := text[j]
				switch {
				case c >= '0' && c <= '9':
					j++
					continue
				case c == '.' && j+1 < len(text) && text[j+1] >= '0' && text[j+1] <= '9' && !strings.Contains(text[i:j], "."):
					j++
					continue
				case c == ',' && j+3 < len(text) && isDigits(text[j+1:j+4]) && (j+4 == len(text) || text[j+4] < '0' || text[j+4] > '9') && j-i <= 3 && !strings.Contains(text[i:j], "."):
					// A thousands separator: "1,000".
					j += 4
					continue
				}
				break
			}
			toks = append(toks, token{norm: strings.ReplaceAll(text[i:j], ",", ""), start: i, end: j, kind: tokNum})
			i = j
		case isLetter(r):
			if t, n := dottedAbbrev(text[i:]); n > 0 {
				t.start, t.end = i, i+n
				toks = append(toks, t)
				i += n
				continue
			}
			j := i
			upper, letters := 0, 0
			for j < len(text) {
				r2, s2 := utf8.DecodeRuneInString(text[j:])
				if !isLetter(r2) {
					// Contractions and possessives: the apostrophe joins.
					if (r2 == '\'' || r2 == '’') && j+s2 < len(text) {
						rest := text[j+s2:]
						if k := apostropheTail(rest); k > 0 {
							j += s2 + k
							continue
						}
					}
					break
				}
				letters++
				if unicode.IsUpper(r2) {
					upper++
				}
				j += s2
			}
			raw := text[i:j]
			first, _ := utf8.DecodeRuneInString(raw)
			toks = append(toks, token{norm: normWord(raw), start: i, end: j, kind: tokWord,
				caps: letters >= 2 && upper == letters, title: unicode.IsUpper(first)})
			i = j
		default:
			toks = append(toks, token{norm: string(foldPunct(r)), start: i, end: i + size, kind: tokPunct})
			i += size
		}
	}
	return toks
}

func isLetter(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= 0x80 && unicode.IsLetter(r)
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// apostropheTail returns the length of a contraction's tail after an
// apostrophe ("t" of doesn't, "s" of patient's, "ve" of you've), or 0.
func apostropheTail(rest string) int {
	n := 0
	for n < len(rest) && n < 3 && (rest[n] >= 'a' && rest[n] <= 'z' || rest[n] >= 'A' && rest[n] <= 'Z') {
		n++
	}
	if n == 0 || (n < len(rest) && isLetter(rune(rest[n]))) {
		return 0
	}
	switch strings.ToLower(rest[:n]) {
	case "t", "s", "ve", "m", "re", "ll", "d":
		return n
	}
	return 0
}

// foldPunct maps typographic punctuation to ASCII.
func foldPunct(r rune) rune {
	switch r {
	case '‘', '’', '`':
		return '\''
	case '“', '”':
		return '"'
	case '–', '—', '‐', '‑':
		return '-'
	case '…':
		return '.'
	}
	return r
}

// dottedAbbrev reads single letters each followed by a dot ("b.i.d.",
// "p.r.n.", "q.d", "p.o."): two or more letters make one token.
func dottedAbbrev(s string) (token, int) {
	var b strings.Builder
	i := 0
	for i+1 < len(s) && isASCIILetter(s[i]) && s[i+1] == '.' {
		b.WriteByte(lower(s[i]))
		i += 2
		// Go on only while a single letter follows: "e.coli" is no abbreviation.
		if !(i < len(s) && isASCIILetter(s[i]) && (i+1 == len(s) || !isASCIILetter(s[i+1]))) {
			break
		}
	}
	// The last letter may lack its dot: "q.d", "b.i.d".
	if i > 0 && i < len(s) && isASCIILetter(s[i]) && (i+1 == len(s) || !isASCIILetter(s[i+1])) {
		b.WriteByte(lower(s[i]))
		i++
	}
	if b.Len() < 2 {
		return token{}, 0
	}
	return token{norm: b.String(), kind: tokWord, dotted: true}, i
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// normWord folds a word: lower case, Latin-1 accents dropped, apostrophes
// removed (a possessive 's entirely), British spelling made American, and
// plural made singular.
func normWord(raw string) string {
	plain := true
	for i := 0; i < len(raw); i++ {
		if c := raw[i]; c < 'a' || c > 'z' {
			plain = false
			break
		}
	}
	if plain {
		// The common case: a lower-case ASCII word needs no copy.
		return finishWord(raw)
	}
	var b strings.Builder
	b.Grow(len(raw))
	for _, r := range raw {
		switch {
		case r >= 'A' && r <= 'Z':
			b.WriteRune(r + 'a' - 'A')
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == '\'' || r == '’':
			b.WriteByte('\'')
		default:
			b.WriteRune(foldLetter(unicode.ToLower(r)))
		}
	}
	w := b.String()
	if i := strings.IndexByte(w, '\''); i >= 0 {
		switch {
		case w[i+1:] == "s":
			w = w[:i]
		case w == "i'm" || w == "i'll":
			// Not the routes IM and the word ill.
			w = map[string]string{"i'm": "iam", "i'll": "iwill"}[w]
		default:
			w = strings.ReplaceAll(w, "'", "")
		}
	}
	return finishWord(w)
}

// finishWord maps a folded word to American spelling and singular.
func finishWord(w string) string {
	if a, ok := britishWords[w]; ok {
		w = a
	} else if a, ok := fuzzy.USDrugName(w); ok {
		w = a
	} else if strings.Contains(w, "ae") || strings.Contains(w, "oe") || strings.Contains(w, "our") ||
		strings.Contains(w, "ulph") {
		// Every British stem has one of these; most words have none.
		w = britishStems.Replace(w)
	}
	return stem(w)
}

func foldLetter(r rune) rune {
	switch {
	case strings.ContainsRune("àáâãäå", r):
		return 'a'
	case strings.ContainsRune("èéêë", r):
		return 'e'
	case strings.ContainsRune("ìíîï", r):
		return 'i'
	case strings.ContainsRune("òóôõöø", r):
		return 'o'
	case strings.ContainsRune("ùúûü", r):
		return 'u'
	case r == 'ç':
		return 'c'
	case r == 'ñ':
		return 'n'
	case r == 'ý' || r == 'ÿ':
		return 'y'
	}
	return r
}

// British spellings inside words, and whole words (family and shorthand),
// mapped to the forms ICD-10-CM and RxNorm use.
var (
	britishStems = strings.NewReplacer(
		"haem", "hem", "anaem", "anem", "aemia", "emia", "oedem", "edem", "oesoph", "esoph", "oestr", "estr",
		"diarrhoe", "diarrhe", "dyspnoe", "dyspne", "apnoe", "apne", "tumour", "tumor", "paed", "ped",
		"coeliac", "celiac", "foet", "fet", "sulph", "sulf", "ischaem", "ischem", "leukaem", "leukem",
		"glycaem", "glycem", "orthopnoe", "orthopne",
	)
	britishWords = map[string]string{
		// UK drug names are fuzzy.USDrugName's. Thyroxine, which UK
		// dictation says for levothyroxine, stays here: that table also
		// rewrites the terminology's stored designations.
		"thyroxine": "levothyroxine", "mum": "mother", "mom": "mother", "dad": "father",
		// Clinical shorthand for words that names spell out.
		"wt": "weight", "abd": "abdominal", "hx": "history", "sx": "symptom", "bilat": "bilateral", "fx": "fracture",
	}
)

// stem makes a plural singular by a few suffix rules. Names and text go
// through the same rules, so an imperfect stem ("diabetes" -> "diabete")
// still meets itself.
func stem(w string) string {
	n := len(w)
	if n <= 3 || w[n-1] != 's' {
		return w
	}
	switch {
	case strings.HasSuffix(w, "ies") && n > 4:
		return w[:n-3] + "y"
	case strings.HasSuffix(w, "sses"):
		return w[:n-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"),
		strings.HasSuffix(w, "ous"), strings.HasSuffix(w, "as"), strings.HasSuffix(w, "os"):
		return w
	}
	return w[:n-1]
}

// normPhrase tokenizes a phrase and returns its word and number tokens'
// normalized forms joined by spaces: the key form of trigger phrases and
// lexicon entries.
func normPhrase(s string) string {
	toks := tokenize(s)
	parts := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.kind == tokWord || t.kind == tokNum {
			parts = append(parts, t.norm)
		}
	}
	return strings.Join(parts, " ")
}
