// Package fuzzy holds the sound-alike key, the bounded edit distance and
// the UK drug names by which misheard, misspelt and British drug names meet
// their terminology entries. It is shared by the terminology's search and
// the rules extractor's lexicon, which must key names the same way.
package fuzzy

// SoundKey is the consonant skeleton of a lower-case ASCII word after
// English spelling-to-sound rules (ph -> f, soft c -> s, x -> ks, z -> s,
// silent h, ...), with a leading vowel kept as 'a' and doubled consonants
// written once, so that "lysineapril" and "lisinopril" meet. Digits are
// kept.
func SoundKey(s string) string {
	out := make([]byte, 0, len(s))
	var last byte // the previous sound, 0 after a vowel
	push := func(c byte) {
		if c != last {
			out = append(out, c)
		}
		last = c
	}
	isVowel := func(c byte) bool { return c == 'a' || c == 'e' || c == 'i' || c == 'o' || c == 'u' || c == 'y' }
	at := func(i int) byte {
		if i >= 0 && i < len(s) {
			return s[i]
		}
		return 0
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		next := at(i + 1)
		switch {
		case isVowel(c):
			if i == 0 {
				push('a')
			}
			last = 0
		case c == 'p' && next == 'h':
			push('f')
			i++
		case c == 't' && next == 'h':
			push('t')
			i++
		case c == 's' && next == 'h':
			push('x')
			i++
		case c == 't' && next == 'i' && at(i+2) == 'o':
			push('x')
		case c == 'c' && (next == 'h' || next == 'k'):
			push('k')
			i++
		case c == 'c' && (next == 'e' || next == 'i' || next == 'y'):
			push('s')
		case c == 'c', c == 'q':
			push('k')
		case c == 'x':
			if i == 0 {
				push('s')
			} else {
				push('k')
				push('s')
			}
		case c == 'z':
			push('s')
		case c == 'g' && next == 'h':
			i++
		case c == 'h':
			// Silent after a consonant and at the end; sounded only
			// before a vowel at the start of the name.
			if i == 0 && isVowel(next) {
				push('h')
			}
		case c == 'w' && !isVowel(next):
			// "ow", "aw" are vowel sounds.
		case c == 'k' && next == 'n' && i == 0:
			// silent k
		default:
			push(c)
		}
	}
	return string(out)
}

// Distance is the optimal-string-alignment distance (Levenshtein plus
// adjacent transpositions, the commonest typing slip), computed on bytes:
// normalized text is ASCII. It stops early and returns max+1 once the
// distance is known to exceed max.
func Distance(a, b string, max int) int {
	if a == b {
		return 0
	}
	la, lb := len(a), len(b)
	if d := la - lb; d > max || -d > max {
		return max + 1
	}
	prev2 := make([]int, lb+1)
	prev := make([]int, lb+1)
	cur := make([]int, lb+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= la; i++ {
		cur[0] = i
		rowMin := cur[0]
		for j := 1; j <= lb; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				v = min(v, prev2[j-2]+1)
			}
			cur[j] = v
			rowMin = min(rowMin, v)
		}
		if rowMin > max {
			return max + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[lb]
}

// ukDrugNames maps UK (British Approved) drug names to the US names RxNorm
// uses; UK clinicians, and speech models trained on their dictation, say
// the former.
var ukDrugNames = map[string]string{
	"paracetamol":    "acetaminophen",
	"salbutamol":     "albuterol",
	"beclometasone":  "beclomethasone",
	"frusemide":      "furosemide",
	"lignocaine":     "lidocaine",
	"adrenaline":     "epinephrine",
	"noradrenaline":  "norepinephrine",
	"glibenclamide":  "glyburide",
	"bendrofluazide": "bendroflumethiazide",
}

// USDrugName returns the US name of a lower-case UK drug name.
func USDrugName(word string) (string, bool) {
	us, ok := ukDrugNames[word]
	return us, ok
}
