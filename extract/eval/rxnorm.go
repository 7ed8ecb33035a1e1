package eval

import (
	"bufio"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"unicode"
)

// RxMap maps RxNorm codes and drug names to ingredient level as the eval
// rules prescribe, from the shared RxNorm tables alone (never from the
// system's terminology, so that every system is scored alike):
// IN -> itself; SCD, SBD, SCDC -> ingredients via the ingredient-drug links
// table; MIN -> its components (the name split on " / "); PIN -> IN by
// stripping the salt word; BN -> via the links table.
type RxMap struct {
	concepts map[string]rxConcept // rxcui -> concept
	byName   map[string]string    // normalized ingredient name -> IN (or PIN) rxcui
	links    map[string][]string  // scd/sbd/scdc/bn rxcui -> ingredient rxcuis
}

type rxConcept struct{ tty, name string }

// Files of the shared RxNorm directory the map reads.
const (
	rxConceptsFile = "rxnorm-prescribable-20251006-partial-concepts.tsv.gz"
	rxLinksFile    = "rxnorm-prescribable-20251006-partial-ingredient-drug-links.tsv.gz"
	rxASuppFile    = "supplement-A-ingredients-merged.tsv"
)

// LoadRxMap reads the shared RxNorm tables of dir.
func LoadRxMap(dir string) (*RxMap, error) {
	m := &RxMap{concepts: map[string]rxConcept{}, byName: map[string]string{}, links: map[string][]string{}}
	err := readTable(filepath.Join(dir, rxConceptsFile), func(f []string) {
		if len(f) >= 3 {
			m.concepts[f[0]] = rxConcept{tty: f[1], name: f[2]}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("load rxnorm map: %w", err)
	}
	// The A supplement fills the partial table's gap (ingredients starting
	// with "A"); the partial table wins where both have a code.
	err = readTable(filepath.Join(dir, rxASuppFile), func(f []string) {
		if len(f) >= 3 {
			if _, ok := m.concepts[f[0]]; !ok {
				m.concepts[f[0]] = rxConcept{tty: f[1], name: f[2]}
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("load rxnorm map: %w", err)
	}
	codes := make([]string, 0, len(m.concepts))
	for code := range m.concepts {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	for _, code := range codes {
		c := m.concepts[code]
		if c.tty != "IN" && c.tty != "PIN" {
			continue
		}
		key := NormalizeDrugName(c.name)
		// An IN wins over a PIN of the same normalized name.
		if prev, ok := m.byName[key]; !ok || (m.concepts[prev].tty == "PIN" && c.tty == "IN") {
			m.byName[key] = code
		}
	}
	err = readTable(filepath.Join(dir, rxLinksFile), func(f []string) {
		// MIN rows are skipped: the flattened table links combinations to
		// the clinical drugs of single ingredients too ("hydrochlorothiazide
		// / lisinopril" to lisinopril 10 MG Oral Tablet); the IN and PIN
		// rows of a drug name its ingredients.
		if len(f) < 6 || f[1] == "MIN" {
			return
		}
		in := f[0]
		for _, drug := range f[2:6] {
			if drug != "" {
				m.links[drug] = appendNew(m.links[drug], in)
			}
		}
	})
	if err != nil {
		return nil, fmt.Errorf("load rxnorm map: %w", err)
	}
	return m, nil
}

// readTable calls fn with the fields of each data line of a TSV file
// (gzipped when named .gz), skipping the header and # comments.
func readTable(path string, fn func([]string)) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var r io.Reader = f
	if strings.HasSuffix(path, ".gz") {
		gz, err := gzip.NewReader(f)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	header := true
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") || line == "" {
			continue
		}
		if header {
			header = false
			continue
		}
		fn(strings.Split(line, "\t"))
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

func appendNew(list []string, v string) []string {
	for _, x := range list {
		if x == v {
			return list
		}
	}
	return append(list, v)
}

// Ingredients maps one RxNorm code to its ingredient RxCUIs. ok is false
// when the tables do not know the code.
func (m *RxMap) Ingredients(code string) (ins []string, ok bool) {
	c, known := m.concepts[code]
	switch {
	case known && c.tty == "IN":
		return []string{code}, true
	case known && c.tty == "PIN":
		return []string{m.pinBase(code)}, true
	case known && c.tty == "MIN":
		for _, part := range strings.Split(c.name, " / ") {
			if in, ok := m.byName[NormalizeDrugName(part)]; ok {
				ins = appendNew(ins, m.level(in))
			}
		}
		return ins, len(ins) > 0
	}
	if list, ok := m.links[code]; ok {
		for _, in := range list {
			ins = appendNew(ins, m.level(in))
		}
		sort.Strings(ins)
		return ins, true
	}
	if known {
		// A concept of another type the links table lacks: unknown level.
		return nil, false
	}
	return nil, false
}

// level maps a links-table ingredient (IN, PIN or MIN) to IN level.
func (m *RxMap) level(code string) string {
	if c, ok := m.concepts[code]; ok && c.tty == "PIN" {
		return m.pinBase(code)
	}
	return code
}

// pinBase strips the salt word of a precise ingredient's name and returns
// the IN of that name; a PIN with no such IN (isosorbide mononitrate) is
// its own ingredient.
func (m *RxMap) pinBase(code string) string {
	base := NormalizeDrugName(m.concepts[code].name)
	if in, ok := m.byName[base]; ok && m.concepts[in].tty == "IN" {
		return in
	}
	return code
}

// saltWords are the salt and ester words RxNorm appends to precise
// ingredients. "mononitrate" and "dinitrate" are not among them: they name
// different ingredients of isosorbide.
var saltWords = map[string]bool{
	"sodium": true, "potassium": true, "hydrochloride": true, "hcl": true, "succinate": true, "tartrate": true,
	"maleate": true, "besylate": true, "mesylate": true, "citrate": true, "sulfate": true, "phosphate": true,
	"acetate": true, "calcium": true, "magnesium": true, "bromide": true, "fumarate": true, "hyclate": true,
	"monohydrate": true, "dihydrate": true, "trihydrate": true, "hydrobromide": true, "chloride": true,
	"bitartrate": true, "propionate": true, "furoate": true, "dipropionate": true, "valerate": true,
	"disodium": true, "lactate": true, "gluconate": true, "nitrate": true, "oxalate": true, "pamoate": true,
	"xinafoate": true, "bisulfate": true, "benzoate": true, "decanoate": true, "enanthate": true,
	"cypionate": true, "undecanoate": true, "mofetil": true, "medoxomil": true, "axetil": true, "pivoxil": true,
	"trometamol": true, "tromethamine": true, "meglumine": true, "anhydrous": true, "hemihydrate": true,
	"sesquihydrate": true, "besilate": true, "mesilate": true, "estolate": true, "stearate": true,
	"ethylsuccinate": true, "palmitate": true, "hexahydrate": true, "dimesylate": true, "edisylate": true,
	"napsylate": true, "tosylate": true, "malate": true, "salicylate": false, "aspartate": true,
}

// synonyms map UK names and common variants to the US ingredient names.
var synonyms = map[string]string{
	"paracetamol": "acetaminophen", "salbutamol": "albuterol", "beclometasone": "beclomethasone",
	"thyroxine": "levothyroxine", "frusemide": "furosemide", "lignocaine": "lidocaine",
	"adrenaline": "epinephrine", "noradrenaline": "norepinephrine", "glibenclamide": "glyburide",
	"acetylsalicylic acid": "aspirin", "valproic acid": "valproate",
}

// NormalizeDrugName lower-cases a drug name, drops salt words and
// punctuation, and maps UK/US synonyms: "Metoprolol Succinate" ->
// "metoprolol", "Paracetamol" -> "acetaminophen".
func NormalizeDrugName(s string) string {
	s = strings.ToLower(s)
	var b strings.Builder
	for _, r := range s {
		switch {
		case unicode.IsLetter(r) || unicode.IsDigit(r) || r == '.':
			b.WriteRune(r)
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	if v, ok := synonyms[strings.Join(words, " ")]; ok {
		return v
	}
	var out []string
	for i, w := range words {
		if saltWords[w] && i > 0 {
			continue
		}
		if v, ok := synonyms[w]; ok {
			w = v
		}
		out = append(out, w)
	}
	return strings.Join(out, " ")
}

// IngredientByName returns the ingredient (IN, else PIN) with this
// normalized name.
func (m *RxMap) IngredientByName(name string) (string, bool) {
	in, ok := m.byName[name]
	if !ok {
		return "", false
	}
	return m.level(in), true
}

// represented reports whether a normalized name is one of the ingredients
// already found, or the base of one ("lithium" of lithium carbonate).
func (m *RxMap) represented(name string, ins []string) bool {
	for _, in := range ins {
		n := NormalizeDrugName(m.concepts[in].name)
		if n == name || strings.HasPrefix(n, name+" ") || strings.HasPrefix(name, n+" ") {
			return true
		}
	}
	return false
}

// NameParts splits a normalized name of a combination on "/" and " and ".
// A part's strength and form ("atenolol 50 MG" of a clinical drug's
// name) are dropped: the name ends at its first number.
func NameParts(s string) []string {
	var out []string
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '/' }) {
		p := NormalizeDrugName(part)
		if i := strings.IndexAny(p, "0123456789"); i >= 0 {
			p = strings.TrimSpace(p[:i])
		}
		if p != "" {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}
