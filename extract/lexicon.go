package extract

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/medscribe/medscribe/fhir"
)

// TermConcept is one code of the terminology.
type TermConcept struct {
	System   string // canonical URL: fhir.SystemICD10CM or fhir.SystemRxNorm
	Code     string // ICD-10-CM with its dot (E11.9); an RxCUI
	Display  string
	Kind     string // ICD-10-CM: "code" or "header"; RxNorm: the TTY (IN, PIN, MIN, BN, SCD...)
	Billable bool
}

// TermName is one name of a concept: its display, a short title, a
// synonym, an abbreviation, a brand name or a known misspelling.
type TermName struct {
	Concept TermConcept
	Kind    string // preferred, short, synonym, abbreviation, brand or misspelling
	Text    string
}

// TermLink is one relation between two codes of a system, read as
// "Src Rel Dst": an RxNorm brand or drug has_ingredient an ingredient, a
// salt (PIN) is form_of its base ingredient.
type TermLink struct {
	System, Src, Rel, Dst string
}

// Vocabulary is the terminology as the rules extractor reads it: walked
// once, when a Lexicon is first used, to build an in-memory matcher.
// cmd/medscribe backs it with the terminology database.
type Vocabulary interface {
	// EachName calls fn with every name of every concept; fn's error
	// stops the walk and is returned.
	EachName(ctx context.Context, fn func(TermName) error) error
	// EachLink calls fn with every relation between concepts.
	EachLink(ctx context.Context, fn func(TermLink) error) error
}

// Names kinds, as Vocabulary reports them.
const (
	NamePreferred    = "preferred"
	NameShort        = "short"
	NameSynonym      = "synonym"
	NameAbbreviation = "abbreviation"
	NameBrand        = "brand"
	NameMisspelling  = "misspelling"
)

// Relations the lexicon reads.
const (
	linkHasIngredient = "has_ingredient"
	linkTradenameOf   = "tradename_of"
	linkFormOf        = "form_of"
)

// ErrEmptyVocabulary is returned when a vocabulary yields no usable name.
var ErrEmptyVocabulary = errors.New("terminology has no names")

// Lexicon is the in-memory matcher over one terminology: every name of
// every condition code and every ingredient, brand and combination drug,
// in a token trie, plus sound-alike and near-spelling indexes of drug
// names. It is built once, on first use, and then shared: a Lexicon is
// safe for concurrent use by any number of sessions.
type Lexicon struct {
	vocab Vocabulary

	mu    sync.Mutex
	built bool
	err   error
	stats LexiconStats

	words      map[string]uint32 // token -> id (ids start at 1)
	edges      map[uint64]int32  // node<<32 | word id -> child node
	nodes      []lexNode
	concepts   []lexConcept
	icd        map[string]int32 // code -> concept
	rx         map[string]int32
	minBySet   map[string]int32   // sorted ingredient codes -> MIN concept
	scdBySet   map[string][]int32 // sorted ingredient codes -> clinical drugs (SCD) of several ingredients
	redirect   map[int32]int32    // IN said by its base name -> the salt form its drugs are made of
	phon       map[string]int32   // phonetic key -> drug concept
	deletes    map[string][]int32 // one-deletion variants of drug names -> fuzzyNames
	fuzzyNames []fuzzyName
	children   map[string][]string // ICD header -> billable codes under it, sorted
}

// LexiconStats describe a built lexicon.
type LexiconStats struct {
	Concepts  int           // conditions and drugs kept
	Names     int           // names read
	Keys      int           // distinct token sequences that match
	Nodes     int           // trie nodes
	BuildTime time.Duration // time to read the terminology and build
}

// lexNode is one trie node; icd and rx are the senses of the phrase that
// ends here, if any.
type lexNode struct {
	icd, rx sense
}

// sense is what a phrase means in one code system.
type sense struct {
	concept int32 // index in Lexicon.concepts; -1 for none
	rank    uint8 // lower is better
	flags   uint8
}

// Sense flags.
const (
	// flagAbbrev: the name is an abbreviation (HTN, ASA): it must be
	// written in capitals, or for drugs be in a medication context.
	flagAbbrev uint8 = 1 << iota
	// flagCommon: a one-word name that is also a common English word
	// (drugs "Today", "Prevail"): it needs a medication context.
	flagCommon
	// flagLab: a drug that is also a laboratory analyte or a nutrient
	// (potassium, glucose, iron): it needs a dose or medication context.
	flagLab
	// flagExcluded: a substance never listed as a medication (oxygen,
	// alcohol, street drugs).
	flagExcluded
	// flagBrand: a one-word brand name ("Perform", "Tandem"): brands are
	// written with a capital; in lower case or first in a sentence it
	// needs a medication context.
	flagBrand
)

var noSense = sense{concept: -1, rank: 255}

// lexConcept is one concept of the lexicon.
type lexConcept struct {
	system      uint8 // sysICD or sysRx
	code        string
	display     string
	kind        string
	billable    bool
	products    bool    // RxNorm IN: some drug has it as ingredient
	ingredients []int32 // RxNorm: the ingredients (IN, or PIN when it has no base) that identify the drug
}

const (
	sysICD uint8 = 1 + iota
	sysRx
)

// NewLexicon returns a lexicon over v. Nothing is read until the first
// match or Build.
func NewLexicon(v Vocabulary) *Lexicon { return &Lexicon{vocab: v} }

// Build reads the terminology and builds the matcher, once; later calls
// return at once with the first build's error, except that a build
// stopped by its context is tried again.
func (l *Lexicon) Build(ctx context.Context) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.built {
		return l.err
	}
	start := time.Now()
	err := l.build(ctx)
	if err != nil && ctx.Err() != nil {
		return fmt.Errorf("build lexicon: %w", err)
	}
	l.built = true
	if err != nil {
		l.err = fmt.Errorf("build lexicon: %w", err)
		return l.err
	}
	l.stats.BuildTime = time.Since(start)
	return nil
}

// Stats returns the lexicon's size; zero before Build.
func (l *Lexicon) Stats() LexiconStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// pendingName is a name read in the first pass, ranked in the second.
type pendingName struct {
	concept int32
	kind    string
	text    string
}

func (l *Lexicon) build(ctx context.Context) error {
	l.words = map[string]uint32{}
	l.edges = map[uint64]int32{}
	l.nodes = []lexNode{{icd: noSense, rx: noSense}}
	l.icd = map[string]int32{}
	l.rx = map[string]int32{}
	l.minBySet = map[string]int32{}
	l.scdBySet = map[string][]int32{}
	l.redirect = map[int32]int32{}
	l.phon = map[string]int32{}
	l.deletes = map[string][]int32{}
	var names []pendingName
	err := l.vocab.EachName(ctx, func(n TermName) error {
		c := n.Concept
		var sys uint8
		switch c.System {
		case fhir.SystemICD10CM:
			sys = sysICD
			if !icdUsable(c.Code) {
				return nil
			}
		case fhir.SystemRxNorm:
			sys = sysRx
			switch c.Kind {
			case "IN", "PIN", "MIN", "BN", "SCD":
			default:
				return nil
			}
		default:
			return nil
		}
		names = append(names, pendingName{concept: l.conceptIndex(sys, c), kind: n.Kind, text: n.Text})
		return nil
	})
	if err != nil {
		return err
	}
	if len(names) == 0 {
		return ErrEmptyVocabulary
	}
	l.stats.Names = len(names)
	if err := l.readLinks(ctx); err != nil {
		return err
	}
	var icdCodes []string
	for _, c := range l.concepts {
		if c.system == sysICD && c.billable {
			icdCodes = append(icdCodes, c.code)
		}
	}
	sort.Strings(icdCodes)
	l.children = map[string][]string{}
	l.indexChildren(icdCodes)
	for _, n := range names {
		l.addName(n)
	}
	l.stats.Concepts = len(l.concepts)
	l.stats.Nodes = len(l.nodes)
	for _, n := range l.nodes {
		if n.icd.concept >= 0 || n.rx.concept >= 0 {
			l.stats.Keys++
		}
	}
	return nil
}

// icdUsable keeps external causes (V00-Y99) out: their titles ("fall on
// same level") read as ordinary words and never name a patient's problem.
func icdUsable(code string) bool {
	if code == "" {
		return false
	}
	switch code[0] {
	case 'V', 'W', 'X', 'Y':
		return false
	}
	return true
}

func (l *Lexicon) conceptIndex(sys uint8, c TermConcept) int32 {
	m := l.icd
	if sys == sysRx {
		m = l.rx
	}
	if i, ok := m[c.Code]; ok {
		return i
	}
	i := int32(len(l.concepts))
	l.concepts = append(l.concepts, lexConcept{system: sys, code: c.Code, display: c.Display, kind: c.Kind, billable: c.Billable})
	m[c.Code] = i
	return i
}

// readLinks fills in the ingredients of brands, combinations and salts.
func (l *Lexicon) readLinks(ctx context.Context) error {
	type edge struct{ src, dst int32 }
	var has, formOf []edge
	products := map[int32]int{}
	err := l.vocab.EachLink(ctx, func(r TermLink) error {
		if r.System != fhir.SystemRxNorm {
			return nil
		}
		dst, ok := l.rx[r.Dst]
		if !ok {
			return nil
		}
		switch r.Rel {
		case linkHasIngredient, linkTradenameOf:
			if l.concepts[dst].kind == "IN" || l.concepts[dst].kind == "PIN" {
				l.concepts[dst].products = true
				products[dst]++
			}
			if src, ok := l.rx[r.Src]; ok {
				has = append(has, edge{src, dst})
			}
		case linkFormOf:
			if src, ok := l.rx[r.Src]; ok {
				formOf = append(formOf, edge{src, dst})
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	base := map[int32]int32{}
	for _, e := range formOf {
		if l.concepts[e.dst].kind == "IN" {
			base[e.src] = e.dst
		}
	}
	for i := range l.concepts {
		c := &l.concepts[i]
		if c.system != sysRx {
			continue
		}
		switch c.kind {
		case "IN":
			c.ingredients = []int32{int32(i)}
		case "PIN":
			if b, ok := base[int32(i)]; ok {
				c.ingredients = []int32{b}
			} else {
				c.ingredients = []int32{int32(i)}
			}
		}
	}
	// A brand or combination is identified by its ingredients: INs where
	// the links name them, else the bases of the salts they name.
	ins := map[int32][]int32{}
	pins := map[int32][]int32{}
	for _, e := range has {
		src := &l.concepts[e.src]
		if src.kind != "BN" && src.kind != "MIN" {
			continue
		}
		switch l.concepts[e.dst].kind {
		case "IN":
			ins[e.src] = appendUnique(ins[e.src], e.dst)
		case "PIN":
			pins[e.src] = appendUnique(pins[e.src], l.concepts[e.dst].ingredients...)
		}
	}
	for src, list := range pins {
		if len(ins[src]) == 0 {
			ins[src] = list
		}
	}
	scds := map[int32][]int32{}
	for _, e := range has {
		if l.concepts[e.src].kind == "SCD" {
			scds[e.src] = appendUnique(scds[e.src], l.concepts[e.dst].ingredients...)
		}
	}
	for scd, list := range scds {
		if len(list) > 1 {
			key := l.ingredientKey(list)
			l.scdBySet[key] = append(l.scdBySet[key], scd)
		}
	}
	for _, list := range l.scdBySet {
		sort.Slice(list, func(i, j int) bool { return l.concepts[list[i]].code < l.concepts[list[j]].code })
	}
	l.findRedirects(products)
	for src, list := range ins {
		sort.Slice(list, func(i, j int) bool { return l.concepts[list[i]].code < l.concepts[list[j]].code })
		l.concepts[src].ingredients = list
		if l.concepts[src].kind == "MIN" && len(list) > 1 {
			key := l.ingredientKey(list)
			if prev, ok := l.minBySet[key]; !ok || l.concepts[src].code < l.concepts[prev].code {
				l.minBySet[key] = src
			}
		}
	}
	return nil
}

// saltSuffixes are the salt words of ingredients named "<base> <salt>".
var saltSuffixes = []string{"carbonate", "citrate", "chloride", "sulfate", "oxide", "hydrochloride", "acetate",
	"phosphate", "gluconate", "bicarbonate", "succinate", "tartrate", "maleate", "sodium", "potassium", "calcium",
	"magnesium", "bromide", "fumarate", "mesylate", "besylate", "lactate", "hydroxide"}

// findRedirects points an ingredient said by its base name ("lithium") at
// the salt its drugs are made of ("lithium carbonate") when that salt is
// an ingredient of its own with several times the drugs.
func (l *Lexicon) findRedirects(products map[int32]int) {
	byName := map[string]int32{}
	for i, c := range l.concepts {
		if c.system == sysRx && c.kind == "IN" {
			byName[strings.ToLower(c.display)] = int32(i)
		}
	}
	for i, c := range l.concepts {
		if c.system != sysRx || c.kind != "IN" || strings.Contains(c.display, " ") {
			continue
		}
		best, bestN := int32(-1), 3*max(1, products[int32(i)])
		for _, salt := range saltSuffixes {
			if t, ok := byName[strings.ToLower(c.display)+" "+salt]; ok && products[t] >= bestN {
				best, bestN = t, products[t]
			}
		}
		if best >= 0 {
			l.redirect[int32(i)] = best
		}
	}
}

// comboDrug returns the clinical drug (SCD) of exactly these ingredients
// whose name carries the strengths said, in order ("50/25 mg").
func (l *Lexicon) comboDrug(ins []int32, strengths []string) (int32, bool) {
	if len(strengths) == 0 {
		return -1, false
	}
	for _, scd := range l.scdBySet[l.ingredientKey(ins)] {
		name := " " + l.concepts[scd].display + " "
		at := 0
		ok := true
		for _, s := range strengths {
			i := strings.Index(name[at:], " "+s+" MG")
			if i < 0 {
				ok = false
				break
			}
			at += i + len(s) + 1
		}
		if ok {
			return scd, true
		}
	}
	return -1, false
}

func appendUnique(list []int32, vs ...int32) []int32 {
	for _, v := range vs {
		found := false
		for _, x := range list {
			found = found || x == v
		}
		if !found {
			list = append(list, v)
		}
	}
	return list
}

// ingredientKey is the identity of a drug: its ingredient codes, sorted.
func (l *Lexicon) ingredientKey(ins []int32) string {
	codes := make([]string, len(ins))
	for i, c := range ins {
		codes[i] = l.concepts[c].code
	}
	sort.Strings(codes)
	return strings.Join(codes, "+")
}

// indexChildren records, for every ICD-10-CM code prefix that is a
// header, the billable codes under it. Codes are sorted, so the codes
// under a prefix are one run.
func (l *Lexicon) indexChildren(codes []string) {
	for _, c := range l.concepts {
		if c.system != sysICD || c.billable {
			continue
		}
		prefix := c.code
		i := sort.SearchStrings(codes, prefix)
		var under []string
		for j := i; j < len(codes) && strings.HasPrefix(codes[j], prefix); j++ {
			if codes[j] != prefix {
				under = append(under, codes[j])
			}
		}
		if len(under) > 0 {
			l.children[prefix] = under
		}
	}
}

// unspecifiedChild picks the billable code a header means when nothing
// more was said: the "unspecified" code (without complications when
// there is a choice), else the only code, else the first.
func (l *Lexicon) unspecifiedChild(header string) (int32, bool) {
	under := l.children[header]
	if len(under) == 0 {
		return -1, false
	}
	best, bestScore, bestLen := "", -1, 0
	for _, code := range under {
		c := l.concepts[l.icd[code]]
		d := strings.ToLower(c.display)
		score := 0
		if strings.Contains(d, "unspecified") {
			score += 4
		}
		switch {
		case strings.Contains(d, "without"), strings.Contains(d, "uncomplicated"):
			score++
		case strings.Contains(d, " with "):
			score--
		}
		if strings.Contains(d, "remission") {
			score -= 3 // the disease named is not in remission unless said
		}
		if len(code) == 8 && code[7] != 'A' {
			// Subsequent encounters and sequelae are never what a mention means.
			score -= 10
		}
		if score > bestScore || score == bestScore && len(d) < bestLen {
			best, bestScore, bestLen = code, score, len(d)
		}
	}
	if len(under) > 1 && bestScore < 4 {
		// Several codes and none unspecified: the header names no one of them.
		return -1, false
	}
	return l.icd[best], true
}

// Ranks of ICD-10-CM names, best first: the hand-written synonyms and
// abbreviations of the terminology name what clinicians say; official
// titles next; then forms derived from titles ("Cough, unspecified" ->
// cough).
const (
	rankCurated uint8 = iota
	rankTitle
	rankHeaderTitle
	rankDerived
	rankHeaderDerived
	rankOther
)

// Ranks of RxNorm names.
const (
	rankIngredient uint8 = iota
	rankDrugSynonym
	rankBrand
	rankSalt
	rankLoneIngredient
	rankMisspelling
)

func (l *Lexicon) addName(n pendingName) {
	c := &l.concepts[n.concept]
	text := strings.TrimSpace(n.text)
	if text == "" {
		return
	}
	abbrev := isAbbrevText(text)
	var flags uint8
	if abbrev {
		flags |= flagAbbrev
	}
	if c.system == sysICD {
		if isLaterEncounter(c.code) || excludedICD(c.code) {
			return
		}
		if strings.Count(text, " ") > maxKey+6 {
			return
		}
		target := n.concept
		header := !c.billable
		if header {
			child, ok := l.unspecifiedChild(c.code)
			if !ok {
				return
			}
			target = child
		}
		rank := rankTitle
		switch {
		case n.kind == NameSynonym || n.kind == NameAbbreviation:
			rank = rankCurated
		case header:
			rank = rankHeaderTitle
		}
		if strings.HasPrefix(c.code, "Z") && rank != rankCurated {
			// Status and encounter codes ("Encounter for...") are only
			// matched through curated names: their titles read as
			// ordinary words.
			return
		}
		toks := keyTokens(text)
		if len(toks) == 1 && ambiguousAbbrev[toks[0]] {
			return
		}
		l.insert(toks, sysICD, sense{concept: target, rank: rank, flags: flags})
		if rank != rankCurated {
			dr := rankDerived
			if header {
				dr = rankHeaderDerived
			}
			for _, v := range derivedTitles(text) {
				r := dr
				if v.other {
					r = rankOther
				}
				l.insert(v.toks, sysICD, sense{concept: target, rank: r, flags: flags})
			}
		}
		return
	}
	if len(c.ingredients) == 0 || c.kind == "SCD" {
		// A brand or combination whose ingredients are not loaded cannot
		// be identified or grounded; clinical drugs are found through their
		// ingredients, not their long names.
		return
	}
	if t, ok := l.redirect[n.concept]; ok && n.kind == NamePreferred {
		n.concept = t
		c = &l.concepts[t]
	}
	var rank uint8
	switch {
	case n.kind == NameMisspelling:
		rank = rankMisspelling
	case n.kind != NamePreferred:
		rank = rankDrugSynonym
	case c.kind == "IN" && c.products:
		rank = rankIngredient
	case c.kind == "IN":
		rank = rankLoneIngredient
	case c.kind == "BN", c.kind == "MIN":
		rank = rankBrand
	default:
		rank = rankSalt
	}
	toks := keyTokens(text)
	if len(toks) == 0 || letters(text) < 3 {
		// "S2", "K": names this short are heart sounds and initials.
		return
	}
	for _, ing := range c.ingredients {
		k := l.concepts[ing].display
		if excludedSubstances[normPhrase(k)] {
			flags |= flagExcluded
		}
	}
	if len(c.ingredients) == 1 && labSubstances[normPhrase(l.concepts[c.ingredients[0]].display)] || labSubstances[strings.Join(toks, " ")] {
		flags |= flagLab
	}
	if len(toks) == 1 && commonWords[toks[0]] {
		flags |= flagCommon
	}
	if len(toks) == 1 && (c.kind == "BN" || n.kind == NameBrand) {
		flags |= flagBrand
	}
	l.insert(toks, sysRx, sense{concept: n.concept, rank: rank, flags: flags})
	if len(toks) <= 3 && flags&(flagAbbrev|flagExcluded) == 0 {
		l.addFuzzy(toks, n.concept, rank)
	}
}

// excludedICD are codes never matched from text: drug allergy status
// (Z88: recorded as AllergyIntolerance), encounters and examinations
// (Z00-Z13, Z23), long-term drug use (Z79), and the presence of implants,
// openings and postprocedural states (Z90, Z93, Z95-Z99), which name
// procedures rather than problems; and supervision of pregnancy (Z34).
func excludedICD(code string) bool {
	if len(code) < 3 || code[0] != 'Z' {
		return false
	}
	n := (int(code[1]-'0'))*10 + int(code[2]-'0')
	switch {
	case n <= 13, n == 23, n == 34, n == 79, n == 88, n == 90, n == 93, n >= 95:
		return true
	}
	return false
}

// ambiguousAbbrev are condition abbreviations that mean something else
// as often: AS (as), MS (mental status), PE (physical exam), RA (room
// air), ED (emergency department), CAP (capsule)...
var ambiguousAbbrev = map[string]bool{
	"as": true, "mr": true, "ai": true, "ph": true, "pe": true, "cap": true, "add": true, "asd": true,
	"ams": true, "ms": true, "ed": true, "om": true, "ra": true, "dnr": true, "pid": true, "all": true,
	"ca": true, "cf": true, "di": true, "hr": true, "loc": true, "pt": true, "od": true, "ar": true,
	"cp": true, "bs": true, "ac": true, "sa": true, "er": true, "or": true, "pr": true, "ct": true,
	"pc": true, "ag": true, "ad": true, "ha": true, "ho": true,
}

func letters(s string) int {
	n := 0
	for _, r := range s {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			n++
		}
	}
	return n
}

// isLaterEncounter reports a 7-character code for a subsequent encounter
// or a sequela: a dictated injury is the initial encounter.
func isLaterEncounter(code string) bool {
	return len(code) == 8 && code[7] != 'A' && code[3] == '.' && (code[0] == 'S' || code[0] == 'T')
}

// isAbbrevText reports a short name written in capitals: "HTN", "ASA".
func isAbbrevText(s string) bool {
	letters := 0
	for _, r := range s {
		switch {
		case r >= 'A' && r <= 'Z':
			letters++
		case r >= 'a' && r <= 'z':
			return false
		}
	}
	return letters >= 2 && letters <= 5
}

// keyTokens are the word and number tokens of a name, its key in the trie.
func keyTokens(s string) []string {
	toks := tokenize(s)
	out := make([]string, 0, len(toks))
	for _, t := range toks {
		if t.kind == tokWord || t.kind == tokNum {
			out = append(out, t.norm)
		}
	}
	return out
}

// maxKey bounds the words of a name kept in the trie: longer titles are
// never dictated word for word.
const maxKey = 10

// genericKeys are one-word names too vague to stand for a code.
var genericKeys = map[string]bool{
	"other": true, "disease": true, "disorder": true, "condition": true, "injury": true, "abnormal": true,
	"abnormality": true, "complication": true, "syndrome": true, "symptom": true, "finding": true, "problem": true,
	"encounter": true, "status": true, "history": true, "type": true, "stage": true, "unspecified": true,
	"sequela": true, "effect": true, "examination": true, "observation": true, "screening": true, "use": true,
	"follow": true, "care": true, "test": true, "procedure": true, "reaction": true, "contact": true,
	"exposure": true, "counseling": true, "problem related": true, "left": true, "right": true, "acute": true,
	"chronic": true, "mass": true, "lesion": true, "result": true, "change": true, "failure": true,
	"infection": true, "neoplasm": true, "cancer": true, "tumor": true, "pain": true, "fall": true, "cold": true,
	"stress": true, "carrier": true, "presence": true, "absence": true, "loss": true, "block": true,
	"tolerance": true, "dependence": true, "abuse": true, "deformity": true, "insufficiency": true,
	"obstruction": true, "disturbance": true, "delay": true, "bleeding": true, "hemorrhage": true,
	"discharge": true, "pressure": true, "contusion": true, "fracture": true, "dislocation": true,
	"sprain": true, "burn": true, "wound": true, "bite": true, "foreign body": true, "poisoning": true,
	"underdosing": true, "hypertrophy": true, "atrophy": true, "cyst": true, "ulcer": true,
	"growth": true, "swelling": true, "spasm": true, "stricture": true, "stenosis": true, "anomaly": true,
	"malformation": true, "calculus": true, "shock": true, "arrest": true, "collapse": true, "allergy": true,
	"illness": true, "fit": true, "worry": true, "worried": true, "concern": true, "upset": true, "spell": true,
	"attack": true, "turn": true, "episode": true, "hot": true, "low": true, "high": true, "sugar": true,
	"temperature": true, "weight": true, "sick": true, "unwell": true, "ill": true, "trauma": true,
	"accident": true, "pregnancy": true, "pregnant": true, "immunization": true, "vaccination": true,
	"cavity": true, "gas": true, "laceration": true, "abrasion": true, "puncture": true, "tear": true,
	"rupture": true, "crush": true, "avulsion": true, "amputation": true, "bruise": true,
}

func (l *Lexicon) insert(toks []string, sys uint8, s sense) {
	if len(toks) == 0 || len(toks) > maxKey {
		return
	}
	if len(toks) == 1 && (genericKeys[toks[0]] || len(toks[0]) < 2 || isDigits(toks[0])) {
		return
	}
	allNum := true
	for _, t := range toks {
		allNum = allNum && isDigits(strings.ReplaceAll(t, ".", ""))
	}
	if allNum {
		return
	}
	node := int32(0)
	for _, t := range toks {
		id, ok := l.words[t]
		if !ok {
			id = uint32(len(l.words) + 1)
			l.words[t] = id
		}
		key := uint64(node)<<32 | uint64(id)
		child, ok := l.edges[key]
		if !ok {
			child = int32(len(l.nodes))
			l.nodes = append(l.nodes, lexNode{icd: noSense, rx: noSense})
			l.edges[key] = child
		}
		node = child
	}
	n := &l.nodes[node]
	cur := &n.icd
	if sys == sysRx {
		cur = &n.rx
	}
	if l.better(s, *cur) {
		*cur = s
	}
}

// better reports whether sense a should replace b for the same phrase.
func (l *Lexicon) better(a, b sense) bool {
	if b.concept < 0 {
		return true
	}
	if a.concept == b.concept {
		return a.rank < b.rank
	}
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	ca, cb := l.concepts[a.concept], l.concepts[b.concept]
	if ka, kb := kindOrder(ca.kind), kindOrder(cb.kind); ka != kb {
		return ka < kb
	}
	if len(ca.display) != len(cb.display) {
		return len(ca.display) < len(cb.display)
	}
	return ca.code < cb.code
}

func kindOrder(kind string) int {
	switch kind {
	case "code", "IN":
		return 0
	case "MIN":
		return 1
	case "PIN":
		return 2
	case "BN":
		return 3
	}
	return 4
}

// derived is one name derived from an official title.
type derived struct {
	toks  []string
	other bool // "Other X" read as X: the weakest reading
}

// derivedTitles returns the shorter forms a title is said in: without
// parenthesized words ("Chills (without fever)" -> chills), without
// "unspecified" and "NOS", without a trailing "without ..." or ", initial
// encounter" clause, and without a leading "other".
func derivedTitles(title string) []derived {
	lower := strings.ToLower(title)
	var variants []string
	noParens := stripParens(lower)
	variants = append(variants, noParens)
	for _, cut := range []string{", initial encounter", " initial encounter"} {
		if i := strings.Index(noParens, cut); i > 0 {
			variants = append(variants, noParens[:i])
		}
	}
	var out []derived
	seen := map[string]bool{strings.Join(keyTokens(title), " "): true}
	for _, v := range variants {
		toks := keyTokens(v)
		var cleaned []string
		for _, t := range toks {
			if t != "unspecified" && t != "nos" {
				cleaned = append(cleaned, t)
			}
		}
		forms := [][]string{cleaned}
		for i, t := range cleaned {
			// "Gastritis without bleeding" is gastritis; "Laceration without
			// foreign body of lip" is no laceration in general.
			if t == "without" && i > 0 && !contains(cleaned[i:], "of") && !(i == 1 && genericKeys[cleaned[0]]) {
				forms = append(forms, cleaned[:i])
				break
			}
		}
		for _, f := range forms {
			if len(f) > 0 && f[len(f)-1] == "status" && len(f) > 1 {
				forms = append(forms, f[:len(f)-1])
			}
		}
		for _, f := range forms {
			for _, other := range []bool{false, true} {
				g := f
				if other {
					if len(g) < 2 || g[0] != "other" {
						continue
					}
					g = g[1:]
				}
				for len(g) > 0 && edgeStopWords[g[0]] {
					g = g[1:]
				}
				for len(g) > 0 && edgeStopWords[g[len(g)-1]] {
					g = g[:len(g)-1]
				}
				k := strings.Join(g, " ")
				if k == "" || seen[k] {
					continue
				}
				seen[k] = true
				out = append(out, derived{toks: g, other: other})
			}
		}
	}
	return out
}

// edgeStopWords never begin or end a derived name ("Other and unspecified
// osteoarthritis" is osteoarthritis, not "and osteoarthritis").
var edgeStopWords = map[string]bool{"and": true, "or": true, "of": true, "with": true, "in": true, "the": true,
	"to": true, "due": true, "for": true, "by": true, "on": true, "at": true}

func contains(list []string, w string) bool {
	for _, x := range list {
		if x == w {
			return true
		}
	}
	return false
}

func stripParens(s string) string {
	var b strings.Builder
	depth := 0
	for _, r := range s {
		switch {
		case r == '(' || r == '[':
			depth++
		case (r == ')' || r == ']') && depth > 0:
			depth--
		case depth == 0:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(b.String()), " ")
}

// match is one phrase of a text the lexicon recognized.
type match struct {
	start, end int // token indexes, end exclusive
	icd, rx    sense
}

// longestAt returns the longest phrase starting at token i, or ok false.
// Hyphens and slashes inside a phrase are skipped ("pre-eclampsia").
func (l *Lexicon) longestAt(toks []token, i int) (match, bool) {
	if toks[i].kind != tokWord && toks[i].kind != tokNum {
		return match{}, false
	}
	node := int32(0)
	best := match{start: i, icd: noSense, rx: noSense}
	found := false
	for j := i; j < len(toks) && j-i < maxKey*2; j++ {
		t := toks[j]
		if t.kind == tokPunct && (t.norm == "-" || t.norm == "/") && j > i {
			continue
		}
		if t.kind != tokWord && t.kind != tokNum {
			break
		}
		id, ok := l.words[t.norm]
		if !ok {
			break
		}
		child, ok := l.edges[uint64(node)<<32|uint64(id)]
		if !ok {
			break
		}
		node = child
		n := l.nodes[node]
		if n.icd.concept >= 0 || n.rx.concept >= 0 {
			best.end, best.icd, best.rx = j+1, n.icd, n.rx
			found = true
		}
	}
	return best, found
}

// knownWord reports whether any name holds the word.
func (l *Lexicon) knownWord(w string) bool {
	_, ok := l.words[w]
	return ok
}

// concept returns a concept's coding.
func (l *Lexicon) coding(i int32) fhir.Coding {
	c := l.concepts[i]
	sys := fhir.SystemICD10CM
	if c.system == sysRx {
		sys = fhir.SystemRxNorm
	}
	return fhir.Coding{System: sys, Code: c.code, Display: c.display}
}
