package terminology

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/medscribe/medscribe/db/terminology/fuzzy"
)

// vocab is the in-memory copy of one system's vocabulary (term_word) with a
// trigram index, for correcting misspelled and mis-heard words. Ranking
// near spellings through the FTS5 trigram table took 5-10 ms a word (every
// common trigram matches thousands of words); counting shared trigrams in
// memory takes tens of microseconds.
type vocab struct {
	words  []vword
	byWord map[string]int32
	byPhon map[string][]int32
	tri    map[string][]int32
	// designations is the number of designations of the system, the N of
	// the word weights log(1 + N/df).
	designations float64
}

type vword struct {
	word, phon string
	df         int
}

// vocabCache holds the vocabularies of a DB, rebuilt when an import
// commits: through this handle (gen) or another process (the sources
// stamp, checked at most once a second).
type vocabCache struct {
	mu      sync.Mutex
	gen     int64
	stamp   string
	checked time.Time
	bySys   map[string]*vocab
}

func (t *DB) sourcesStamp(ctx context.Context) (string, error) {
	var n int
	var last string
	err := t.sql.QueryRowContext(ctx, `SELECT count(*), coalesce(max(imported_at || ' ' || id), '') FROM term_source`).Scan(&n, &last)
	return fmt.Sprint(n, " ", last), err
}

// vocabulary returns the cached vocabulary of system, building it on first
// use after an import.
func (t *DB) vocabulary(ctx context.Context, system string) (*vocab, error) {
	c := &t.vocabs
	c.mu.Lock()
	defer c.mu.Unlock()
	gen := t.gen.Load()
	if time.Since(c.checked) > time.Second || c.gen != gen {
		stamp, err := t.sourcesStamp(ctx)
		if err != nil {
			return nil, err
		}
		if stamp != c.stamp || c.gen != gen {
			c.bySys = nil
		}
		c.stamp, c.gen, c.checked = stamp, gen, time.Now()
	}
	if v, ok := c.bySys[system]; ok {
		return v, nil
	}
	v, err := t.loadVocab(ctx, system)
	if err != nil {
		return nil, err
	}
	if c.bySys == nil {
		c.bySys = map[string]*vocab{}
	}
	c.bySys[system] = v
	return v, nil
}

func (t *DB) loadVocab(ctx context.Context, system string) (*vocab, error) {
	rows, err := t.sql.QueryContext(ctx, `SELECT word, phon, df FROM term_word WHERE system = ?`, system)
	if err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	defer rows.Close()
	v := &vocab{byWord: map[string]int32{}, byPhon: map[string][]int32{}, tri: map[string][]int32{}}
	for rows.Next() {
		var w vword
		if err := rows.Scan(&w.word, &w.phon, &w.df); err != nil {
			return nil, fmt.Errorf("load vocabulary: %w", err)
		}
		i := int32(len(v.words))
		v.words = append(v.words, w)
		v.byWord[w.word] = i
		v.byPhon[w.phon] = append(v.byPhon[w.phon], i)
		for _, g := range trigrams(w.word) {
			v.tri[g] = append(v.tri[g], i)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	if err := t.sql.QueryRowContext(ctx, `SELECT count(*) FROM term_designation d CROSS JOIN term_concept c ON c.id = d.concept_id WHERE c.system = ?`, system).Scan(&v.designations); err != nil {
		return nil, fmt.Errorf("load vocabulary: %w", err)
	}
	v.designations = max(v.designations, 1)
	return v, nil
}

// trigrams returns the distinct letter triples of w, with the word padded
// by one space on each side so that first and last letters weigh in.
func trigrams(w string) []string {
	p := " " + w + " "
	out := make([]string, 0, len(p))
	for i := 0; i+3 <= len(p); i++ {
		g := p[i : i+3]
		dup := false
		for _, o := range out {
			if o == g {
				dup = true
				break
			}
		}
		if !dup {
			out = append(out, g)
		}
	}
	return out
}

// near returns vocabulary words spelled like w: those sharing enough
// trigrams to be within a few edits, or sounding the same, kept when the
// edit distance allows; closest first, then the most used.
func (v *vocab) near(w string) []nearWord {
	if len(w) < 3 {
		return nil
	}
	limit := maxEdits(len(w))
	grams := trigrams(w)
	// An edit destroys at most three trigrams.
	need := max(1, len(grams)-3*limit)
	counts := map[int32]int{}
	for _, g := range grams {
		for _, i := range v.tri[g] {
			counts[i]++
		}
	}
	type scored struct{ i, n int32 }
	var shared []scored
	for i, n := range counts {
		if n >= need {
			shared = append(shared, scored{i, int32(n)})
		}
	}
	// Only the words sharing the most trigrams can be the closest ones;
	// computing edit distances for all would cost milliseconds.
	const keep = 80
	if len(shared) > keep {
		sort.Slice(shared, func(a, b int) bool { return shared[a].n > shared[b].n })
		shared = shared[:keep]
	}
	cands := make([]int32, 0, len(shared)+4)
	for _, c := range shared {
		cands = append(cands, c.i)
	}
	phon := PhoneticKey(w)
	cands = append(cands, v.byPhon[phon]...) // duplicates are skipped below
	var out []nearWord
	seen := map[int32]bool{}
	for _, i := range cands {
		word := v.words[i]
		if word.word == w || seen[i] {
			continue
		}
		seen[i] = true
		l := maxEdits(max(len(w), len(word.word)))
		d := fuzzy.Distance(w, word.word, l+1)
		if d <= l || (word.phon == phon && d <= l+1) {
			out = append(out, nearWord{word: word.word, df: word.df, dist: d,
				sim: 1 - float64(d)/float64(max(len(w), len(word.word)))})
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].dist != out[j].dist {
			return out[i].dist < out[j].dist
		}
		if out[i].df != out[j].df {
			return out[i].df > out[j].df
		}
		return out[i].word < out[j].word
	})
	if len(out) > 5 {
		out = out[:5]
	}
	return out
}
