package terminology

import (
	"context"
	"fmt"
	"math"
	"sort"
	"strings"
)

// Reason says why a search candidate matched.
type Reason string

// Match reasons, strongest first.
const (
	ReasonCode            Reason = "code"              // the phrase is the code
	ReasonExact           Reason = "exact"             // the official display or short title
	ReasonSynonym         Reason = "synonym"           // a synonym or lay term
	ReasonAbbreviation    Reason = "abbreviation"      // an abbreviation clinicians say
	ReasonBrand           Reason = "brand"             // a brand name
	ReasonBrandIngredient Reason = "brand->ingredient" // the ingredient of a matched brand
	ReasonMisspelling     Reason = "misspelling"       // a known misspelling
	ReasonJoined          Reason = "joined"            // words the recognizer split, joined again
	ReasonPhonetic        Reason = "phonetic"          // sounds like the name
	ReasonEditDistance    Reason = "edit-distance"     // a spelling a few edits away
	ReasonTrigram         Reason = "trigram"           // part of a name, found through the trigram index
	ReasonWords           Reason = "words"             // shares the phrase's words
	ReasonHeader          Reason = "header->unspecified"
)

// Candidate is one search result.
type Candidate struct {
	Concept
	Score   float64 // 0..1; 1 for an exact code or display
	Reason  Reason
	Matched string // the designation that matched
}

// SearchOptions narrows a search. A nil *SearchOptions means defaults.
type SearchOptions struct {
	// Limit is the number of candidates returned. Default 10.
	Limit int
	// Kinds keeps only concepts of these kinds (RxNorm TTYs such as IN,
	// BN, SCD; ICD-10-CM code or header). Default: all.
	Kinds []string
}

// designation kinds -> base score and reason of an exact match on them.
var exactScore = map[string]struct {
	score  float64
	reason Reason
}{
	DesignationPreferred:    {1.00, ReasonExact},
	DesignationShort:        {0.99, ReasonExact},
	DesignationSynonym:      {0.98, ReasonSynonym},
	DesignationBrand:        {0.98, ReasonBrand},
	DesignationAbbreviation: {0.96, ReasonAbbreviation},
	DesignationMisspelling:  {0.95, ReasonMisspelling},
}

// stopWords carry no meaning for matching.
var stopWords = map[string]bool{
	"the": true, "a": true, "an": true, "and": true, "or": true, "of": true, "in": true, "on": true,
	"to": true, "for": true, "is": true, "has": true, "have": true, "had": true, "patient": true,
	"pt": true, "his": true, "her": true, "my": true, "some": true, "at": true, "by": true,
}

// neutralWords are words a display may carry beyond the phrase without
// making it a worse match: they mark the default (unspecified) code, so a
// phrase without detail lands on it.
var neutralWords = map[string]bool{
	"unspecified": true, "without": true, "complications": true, "complication": true, "mellitus": true,
	"nos": true, "uncomplicated": true, "essential": true, "primary": true, "disease": true, "disorder": true,
	"site": true, "type": true, "episode": true, "initial": true, "encounter": true, "single": true,
	"elsewhere": true, "classified": true, "not": true, "part": true, "oral": true, "tablet": true,
	"capsule": true,
}

// searcher collects the candidates of one search, best per concept.
type searcher struct {
	t    *DB
	ctx  context.Context
	sys  string
	best map[string]*Candidate
	near map[string][]nearWord // nearWords results of this search
}

func (s *searcher) offer(c Concept, score float64, reason Reason, matched string) {
	if !c.Billable && c.System == ICD10CM {
		// Headers are found (they name what was said) but a billable code
		// of equal standing ranks first.
		score -= 0.05
	}
	score = math.Max(0, math.Min(1, score))
	if prev, ok := s.best[c.Code]; ok && prev.Score >= score {
		return
	}
	s.best[c.Code] = &Candidate{Concept: c, Score: score, Reason: reason, Matched: matched}
}

// Queries here fix their join order with CROSS JOIN (SQLite keeps the
// left table outermost): the selective side is known, and statistics that
// another user of the file may gather (or that describe a tiny starter
// table) must not turn a lookup into a scan per row.
const designationSelect = `SELECT d.kind, d.text, d.joined, c.system, c.code, c.display, c.kind, c.billable
	FROM term_designation d CROSS JOIN term_concept c ON c.id = d.concept_id `

// designations calls fn for each designation of the search's system with
// column = value (column is norm, joined or phon).
func (s *searcher) designations(column, value string, fn func(kind, text, joined string, c Concept)) error {
	// "<> ''" lets SQLite use the partial indexes on joined and phon.
	rows, err := s.t.sql.QueryContext(s.ctx, designationSelect+`WHERE d.`+column+` = ? AND d.`+column+` <> '' AND c.system = ? LIMIT 200`, value, s.sys)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var kind, text, joined string
		var c Concept
		var billable int
		if err := rows.Scan(&kind, &text, &joined, &c.System, &c.Code, &c.Display, &c.Kind, &billable); err != nil {
			return err
		}
		c.Billable = billable != 0
		fn(kind, text, joined, c)
	}
	return rows.Err()
}

// Search returns the concepts of system whose names best match phrase,
// ranked, each with a score and the reason it matched. It tries, in turn:
// the phrase as a code, exact names (displays, synonyms, abbreviations,
// brands), the words joined ("hydro chlorothiazide"), the phonetic key
// ("lysine april" -> lisinopril), near spellings of the name found through
// a trigram index, and finally the phrase's words (each corrected to the
// nearest known word) against the word index, preferring names that add
// little beyond the phrase. A brand also brings its ingredients.
func (t *DB) Search(ctx context.Context, system, phrase string, opts *SearchOptions) ([]Candidate, error) {
	sys, err := SystemName(system)
	if err != nil {
		return nil, fmt.Errorf("search: %w", err)
	}
	s := &searcher{t: t, ctx: ctx, sys: sys, best: map[string]*Candidate{}}
	if err := s.run(phrase); err != nil {
		return nil, fmt.Errorf("search %s: %w", sys, err)
	}
	limit := 10
	var kinds map[string]bool
	if opts != nil {
		if opts.Limit > 0 {
			limit = opts.Limit
		}
		if len(opts.Kinds) > 0 {
			kinds = map[string]bool{}
			for _, k := range opts.Kinds {
				kinds[k] = true
			}
		}
	}
	out := make([]Candidate, 0, len(s.best))
	for _, c := range s.best {
		if kinds == nil || kinds[c.Kind] {
			out = append(out, *c)
		}
	}
	sortCandidates(out)
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

// kindOrder ranks concept kinds on equal scores: an ingredient before its
// brand before drugs, a billable code before a header.
var kindOrder = map[string]int{"IN": 0, "MIN": 1, "PIN": 2, "BN": 3, "SCD": 4, "SBD": 5, "SCDC": 6, "SBDC": 7, "GPCK": 8, "BPCK": 9, KindCode: 0, KindHeader: 1}

func sortCandidates(cs []Candidate) {
	sort.Slice(cs, func(i, j int) bool {
		a, b := cs[i], cs[j]
		if d := a.Score - b.Score; d > 1e-9 || d < -1e-9 {
			return d > 0
		}
		if kindOrder[a.Kind] != kindOrder[b.Kind] {
			return kindOrder[a.Kind] < kindOrder[b.Kind]
		}
		if len(a.Display) != len(b.Display) {
			return len(a.Display) < len(b.Display)
		}
		return a.Code < b.Code
	})
}

func (s *searcher) run(phrase string) error {
	q := Normalize(phrase)
	if q == "" {
		return nil
	}
	if err := s.code(phrase); err != nil {
		return err
	}
	if err := s.exact(q, 1); err != nil {
		return err
	}
	name := q
	if s.sys == RxNorm {
		if n, _, _ := splitDrugPhrase(q); n != "" && n != q {
			name = n
			if err := s.exact(name, 0.97); err != nil {
				return err
			}
		}
	} else if n := stripConditionNoise(q); n != q && n != "" {
		name = n
		if err := s.exact(name, 0.97); err != nil {
			return err
		}
	}
	if s.top() < 0.95 && len(Tokens(name)) <= 4 {
		if err := s.nameRoute(name); err != nil {
			return err
		}
	}
	// A short phrase the name route placed well is done: its words one by
	// one would only find the longer names that contain them.
	if s.top() < 0.95 && !(len(Tokens(name)) <= 3 && s.top() >= 0.85) {
		if err := s.wordRoute(q); err != nil {
			return err
		}
	}
	return s.brandIngredients()
}

func (s *searcher) top() float64 {
	best := 0.0
	for _, c := range s.best {
		best = math.Max(best, c.Score)
	}
	return best
}

// code treats the phrase as a code of the system.
func (s *searcher) code(phrase string) error {
	p := strings.TrimSpace(phrase)
	switch s.sys {
	case ICD10CM:
		if !validICDCode(strings.ToUpper(strings.Replace(p, ".", "", 1))) {
			return nil
		}
	case RxNorm:
		if !isDigits(p) {
			return nil
		}
	}
	c, err := s.t.Lookup(s.ctx, s.sys, p)
	if err != nil {
		return nil
	}
	s.offer(c, 1, ReasonCode, c.Code)
	return nil
}

// exact finds designations whose normalized form is q.
func (s *searcher) exact(q string, factor float64) error {
	return s.designations("norm", q, func(kind, text, _ string, c Concept) {
		e, ok := exactScore[kind]
		if !ok {
			e = exactScore[DesignationSynonym]
		}
		s.offer(c, e.score*factor, e.reason, text)
	})
}

// nameRoute matches a short name as a whole: joined, by sound, or by a
// near spelling of the joined name.
func (s *searcher) nameRoute(name string) error {
	joined := Joined(name)
	if strings.Contains(name, " ") {
		if err := s.designations("joined", joined, func(_, text, _ string, c Concept) {
			s.offer(c, 0.93, ReasonJoined, text)
		}); err != nil {
			return err
		}
	}
	if len(joined) <= maxPhoneticLen {
		if phon := PhoneticKey(name); len(phon) >= 3 {
			if err := s.designations("phon", phon, func(_, text, dj string, c Concept) {
				s.offer(c, 0.78+0.14*similarity(joined, dj), ReasonPhonetic, text)
			}); err != nil {
				return err
			}
		}
	}
	if len(joined) < 4 {
		return nil
	}
	words, err := s.nearWords(joined)
	if err != nil {
		return err
	}
	if len(words) == 0 && len(joined) >= 5 {
		// Nothing a few edits away: maybe a name cut short ("atorva").
		if err := s.substring(joined); err != nil {
			return err
		}
	}
	for _, w := range words {
		score, reason := 0.62+0.28*w.sim, ReasonEditDistance
		if w.dist > maxEdits(len(joined)) {
			score, reason = 0.55+0.25*w.sim, ReasonPhonetic
		}
		if err := s.designations("joined", w.word, func(_, text, _ string, c Concept) {
			s.offer(c, score, reason, text)
		}); err != nil {
			return err
		}
	}
	return nil
}

// substring finds vocabulary words containing w through the FTS5 trigram
// index (a phrase of w's trigrams), and offers the names made of those
// words, a prefix scoring higher than an inner part.
func (s *searcher) substring(w string) error {
	rows, err := s.t.sql.QueryContext(s.ctx, `SELECT w.word FROM term_word_tri t CROSS JOIN term_word w ON w.id = t.rowid
		WHERE term_word_tri MATCH ? AND w.system = ? LIMIT 20`, `"`+w+`"`, s.sys)
	if err != nil {
		return err
	}
	var found []string
	for rows.Next() {
		var word string
		if err := rows.Scan(&word); err != nil {
			rows.Close()
			return err
		}
		found = append(found, word)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, word := range found {
		ratio := float64(len(w)) / float64(len(word))
		score := 0.45 + 0.25*ratio
		if strings.HasPrefix(word, w) {
			score = 0.55 + 0.3*ratio
		}
		if err := s.designations("joined", word, func(_, text, _ string, c Concept) {
			s.offer(c, score, ReasonTrigram, text)
		}); err != nil {
			return err
		}
	}
	return nil
}

// maxEdits is how many edits a word of n letters may be away from what was
// said and still count as an edit-distance match.
func maxEdits(n int) int {
	switch {
	case n <= 4:
		return 1
	case n <= 8:
		return 2
	default:
		return 3
	}
}

type nearWord struct {
	word string
	df   int
	dist int
	sim  float64
}

// nearWords returns vocabulary words spelled like w.
func (s *searcher) nearWords(w string) ([]nearWord, error) {
	if nw, ok := s.near[w]; ok {
		return nw, nil
	}
	v, err := s.t.vocabulary(s.ctx, s.sys)
	if err != nil {
		return nil, err
	}
	nw := v.near(w)
	if s.near == nil {
		s.near = map[string][]nearWord{}
	}
	s.near[w] = nw
	return nw, nil
}

// wordInfo is what the vocabulary knows of a query word.
type wordInfo struct {
	df    int
	known bool
}

// words looks up the vocabulary entries of ws.
func (s *searcher) words(ws []string) (map[string]wordInfo, error) {
	v, err := s.t.vocabulary(s.ctx, s.sys)
	if err != nil {
		return nil, err
	}
	out := map[string]wordInfo{}
	for _, w := range ws {
		if i, ok := v.byWord[w]; ok {
			out[w] = wordInfo{df: v.words[i].df, known: true}
		}
	}
	return out, nil
}

// vocabularySize is the number of designations of the system, for word
// weights.
func (s *searcher) vocabularySize() float64 {
	v, err := s.t.vocabulary(s.ctx, s.sys)
	if err != nil {
		return 1000
	}
	return v.designations
}

// wordRoute corrects each word of q to the vocabulary, retrieves the
// designations holding the corrected words from the word index and scores
// them by the weighted share of the phrase they cover, less a penalty for
// words they add.
func (s *searcher) wordRoute(q string) error {
	var toks []string
	for _, w := range Tokens(q) {
		if !stopWords[w] {
			toks = append(toks, w)
		}
	}
	if len(toks) == 0 || len(toks) > 12 {
		return nil
	}
	lookup := append([]string(nil), toks...)
	for i := 0; i+1 < len(toks); i++ {
		lookup = append(lookup, toks[i]+toks[i+1])
	}
	info, err := s.words(lookup)
	if err != nil {
		return err
	}
	// Correct the words: join split words the vocabulary knows whole,
	// replace unknown words by the nearest known one.
	type qword struct {
		word      string
		weight    float64
		corrected bool
	}
	n := s.vocabularySize()
	weight := func(df int) float64 { return math.Log(1 + n/float64(df+1)) }
	var qs []qword
	corrected := false
	for i := 0; i < len(toks); i++ {
		w := toks[i]
		if i+1 < len(toks) {
			j := w + toks[i+1]
			if ji, ok := info[j]; ok && (!info[w].known || !info[toks[i+1]].known || len(w) <= 3 || len(toks[i+1]) <= 3) {
				qs = append(qs, qword{word: j, weight: weight(ji.df), corrected: true})
				corrected = true
				i++
				continue
			}
		}
		if wi, ok := info[w]; ok {
			qs = append(qs, qword{word: w, weight: weight(wi.df)})
			continue
		}
		if len(w) >= 4 && !startsWithDigit(w) {
			near, err := s.nearWords(w)
			if err != nil {
				return err
			}
			if len(near) > 0 && near[0].dist <= maxEdits(len(w)) {
				qs = append(qs, qword{word: near[0].word, weight: weight(near[0].df) * near[0].sim, corrected: true})
				corrected = true
				continue
			}
		}
		// An unknown word still counts in the phrase's weight, so names
		// covering only part of the phrase score lower.
		qs = append(qs, qword{word: "", weight: weight(0)})
	}
	var match []string
	total := 0.0
	for _, w := range qs {
		total += w.weight
		if w.word != "" {
			match = append(match, `"`+w.word+`"`)
		}
	}
	if len(match) == 0 {
		return nil
	}
	ids, err := s.ftsIDs(strings.Join(match, " AND "))
	if err != nil {
		return err
	}
	if len(ids) == 0 && len(match) > 1 {
		if ids, err = s.ftsIDs(strings.Join(match, " OR ")); err != nil {
			return err
		}
	}
	if len(ids) == 0 {
		return nil
	}
	reason := ReasonWords
	if corrected {
		reason = ReasonEditDistance
	}
	qset := map[string]float64{}
	for _, w := range qs {
		if w.word != "" {
			qset[w.word] = w.weight
		}
	}
	return s.byIDs(ids, func(text, norm string, c Concept) {
		dtoks := Tokens(norm)
		covered := 0.0
		seen := map[string]bool{}
		penalty := 0.0
		for i := 0; i < len(dtoks); i++ {
			d := dtoks[i]
			// A name may write as two words what was said as one:
			// "gastro esophageal" for "gastroesophageal".
			if i+1 < len(dtoks) {
				if wgt, ok := qset[d+dtoks[i+1]]; ok && !seen[d+dtoks[i+1]] {
					covered += wgt
					seen[d+dtoks[i+1]] = true
					i++
					continue
				}
			}
			// A word the phrase has once counts once: "with esophagitis,
			// with bleeding" adds a detail the phrase did not state.
			if wgt, ok := qset[d]; ok && !seen[d] {
				covered += wgt
				seen[d] = true
				continue
			}
			switch {
			case neutralWords[d] || stopWords[d]:
				penalty += 0.005
			default:
				penalty += 0.035
			}
		}
		score := 0.88*covered/total - math.Min(penalty, 0.3)
		if corrected {
			score *= 0.97
		}
		s.offer(c, score, reason, text)
	})
}

// ftsIDs returns the designation ids matching an FTS5 expression, best
// first by bm25.
func (s *searcher) ftsIDs(expr string) ([]int64, error) {
	rows, err := s.t.sql.QueryContext(s.ctx, `SELECT rowid FROM term_fts WHERE term_fts MATCH ? ORDER BY rank LIMIT 150`, expr)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

// byIDs calls fn for the designations with the given ids in the system.
func (s *searcher) byIDs(ids []int64, fn func(text, norm string, c Concept)) error {
	ph := strings.Repeat("?,", len(ids))
	args := make([]any, 0, len(ids)+1)
	for _, id := range ids {
		args = append(args, id)
	}
	args = append(args, s.sys)
	rows, err := s.t.sql.QueryContext(s.ctx, `SELECT d.text, d.norm, c.system, c.code, c.display, c.kind, c.billable
		FROM term_designation d CROSS JOIN term_concept c ON c.id = d.concept_id
		WHERE d.id IN (`+ph[:len(ph)-1]+`) AND c.system = ?`, args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var text, norm string
		var c Concept
		var billable int
		if err := rows.Scan(&text, &norm, &c.System, &c.Code, &c.Display, &c.Kind, &billable); err != nil {
			return err
		}
		c.Billable = billable != 0
		fn(text, norm, c)
	}
	return rows.Err()
}

// brandIngredients adds the ingredients of matched brand names, just below
// the brand, so a caller that wants the generic finds it.
func (s *searcher) brandIngredients() error {
	if s.sys != RxNorm {
		return nil
	}
	var brands []*Candidate
	for _, c := range s.best {
		if c.Kind == "BN" && c.Score >= 0.5 {
			brands = append(brands, c)
		}
	}
	for _, b := range brands {
		ins, err := s.t.Related(s.ctx, RxNorm, b.Code, RelHasIngredient, false)
		if err != nil {
			return err
		}
		for _, in := range ins {
			s.offer(in, b.Score-0.01, ReasonBrandIngredient, b.Matched)
		}
	}
	return nil
}

// conditionNoise are words of spoken condition phrases that name no
// condition ("history of", "chronic" stays: it selects codes).
var conditionNoise = map[string]bool{
	"history": true, "h": true, "o": true, "known": true, "diagnosed": true, "with": false,
	"questionable": true, "possible": true, "probable": true, "suspected": true, "mild": true, "moderate": false,
	"severe": false, "new": true, "onset": false, "some": true, "little": true, "bit": true, "having": true,
	"of": true, "the": true, "a": true, "has": true, "had": true, "her": true, "his": true, "my": true, "your": true,
	"pmh": true, "significant": true, "for": true, "positive": true, "status": false, "post": false,
}

// stripConditionNoise drops leading and trailing words that qualify how a
// condition was mentioned rather than what it is.
func stripConditionNoise(q string) string {
	toks := Tokens(q)
	for len(toks) > 1 && conditionNoise[toks[0]] {
		toks = toks[1:]
	}
	for len(toks) > 1 && conditionNoise[toks[len(toks)-1]] {
		toks = toks[:len(toks)-1]
	}
	return strings.Join(toks, " ")
}

// ResolveCondition returns the best billable ICD-10-CM code for a condition
// phrase: the specific code when the phrase carries the detail ("type 2
// diabetes with diabetic neuropathy" -> E11.40), the unspecified one
// otherwise (E11.9). A header code is never the answer: when the best match
// is a category, its unspecified billable code is returned instead. ok is
// false when nothing matched.
func (t *DB) ResolveCondition(ctx context.Context, phrase string) (Candidate, bool, error) {
	cands, err := t.Search(ctx, ICD10CM, phrase, &SearchOptions{Limit: 20})
	if err != nil {
		return Candidate{}, false, err
	}
	for _, c := range cands {
		if c.Billable {
			return c, true, nil
		}
		under, err := t.billableUnder(ctx, c.Code)
		if err != nil {
			return Candidate{}, false, fmt.Errorf("resolve condition: %w", err)
		}
		if best, ok := pickUnspecified(under); ok {
			return Candidate{Concept: best, Score: c.Score * 0.95, Reason: ReasonHeader, Matched: c.Matched}, true, nil
		}
	}
	return Candidate{}, false, nil
}

// pickUnspecified chooses, among the billable codes under a header, the one
// to use when nothing more is known: of the shortest codes, the one whose
// title says "unspecified" (not "with unspecified complications"), then
// "without" / "uncomplicated", then one ending in 9 or 0 (ICD-10-CM's
// places for unspecified and other), and not one that adds a "with".
func pickUnspecified(under []Concept) (Concept, bool) {
	if len(under) == 0 {
		return Concept{}, false
	}
	score := func(c Concept) int {
		d := " " + strings.ToLower(c.Display)
		s := 0
		if strings.Contains(d, "unspecified") && !strings.Contains(d, "with unspecified") {
			s += 3
		}
		if strings.Contains(d, " without ") || strings.Contains(d, "uncomplicated") {
			s += 2
		}
		if strings.Contains(strings.ReplaceAll(d, "without", ""), " with ") {
			s -= 2
		}
		if last := c.Code[len(c.Code)-1]; last == '9' || last == '0' {
			s++
		}
		return s
	}
	best := under[0]
	for _, c := range under[1:] {
		if len(c.Code) > len(best.Code) {
			break // under is sorted shortest first
		}
		if score(c) > score(best) {
			best = c
		}
	}
	return best, true
}
