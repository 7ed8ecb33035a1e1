package terminology

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// conceptTTYs are the RxNorm term types loaded as concepts, in the order of
// preference when one RXCUI carries several (the first names the concept).
var conceptTTYs = []string{"IN", "PIN", "MIN", "BN", "SCD", "SBD", "SCDC", "SBDC", "GPCK", "BPCK"}

// synonymTTYs are RxNorm term types loaded as synonyms of their RXCUI.
var synonymTTYs = map[string]bool{"SY": true, "TMSY": true, "PSN": true}

func ttyRank(tty string) int {
	for i, t := range conceptTTYs {
		if t == tty {
			return i
		}
	}
	return -1
}

// rxRecord gathers what the files say about one RXCUI before it is written.
type rxRecord struct {
	tty, name string
	synonyms  []string
}

// rxGraph holds RxNorm relations in memory so the ingredient closure (SCD
// -> SCDC -> IN, SBD -> SCD -> IN, BN -> IN, PIN -> IN) can be computed
// before writing.
type rxGraph struct {
	edges map[string]map[string][]string // rel -> src -> dsts
}

func newRxGraph() *rxGraph { return &rxGraph{edges: map[string]map[string][]string{}} }

func (g *rxGraph) add(src, rel, dst string) {
	m := g.edges[rel]
	if m == nil {
		m = map[string][]string{}
		g.edges[rel] = m
	}
	for _, d := range m[src] {
		if d == dst {
			return
		}
	}
	m[src] = append(m[src], dst)
}

func (g *rxGraph) out(src, rel string) []string { return g.edges[rel][src] }

// closeIngredients adds has_ingredient edges from every drug-like concept
// to its base ingredients (IN), following RxNorm's paths.
func (g *rxGraph) closeIngredients(concepts map[string]*rxRecord) {
	base := func(cui string) []string {
		r := concepts[cui]
		if r == nil {
			return nil
		}
		switch r.tty {
		case "IN":
			return []string{cui}
		case "PIN":
			return g.out(cui, RelFormOf)
		}
		return nil
	}
	ingredientsOf := func(cui string) []string {
		var out []string
		for _, d := range g.out(cui, RelHasIngredient) {
			out = append(out, base(d)...)
		}
		return out
	}
	// Order matters: components first, then clinical drugs, then the
	// branded and packed forms built on them.
	for _, tty := range []string{"PIN", "SCDC", "SBDC", "MIN", "BN", "SCD", "SBD", "GPCK", "BPCK"} {
		for cui, r := range concepts {
			if r.tty != tty {
				continue
			}
			var ins []string
			switch tty {
			case "PIN":
				ins = g.out(cui, RelFormOf)
			case "SCDC", "SBDC", "MIN":
				ins = ingredientsOf(cui)
			case "BN":
				for _, d := range g.out(cui, RelTradenameOf) {
					ins = append(ins, base(d)...)
				}
			case "SCD":
				for _, c := range g.out(cui, RelConsistsOf) {
					ins = append(ins, ingredientsOf(c)...)
				}
				ins = append(ins, ingredientsOf(cui)...)
			case "SBD":
				for _, scd := range g.out(cui, RelTradenameOf) {
					ins = append(ins, ingredientsOf(scd)...)
				}
			case "GPCK", "BPCK":
				for _, d := range g.out(cui, RelContains) {
					ins = append(ins, ingredientsOf(d)...)
				}
			}
			for _, in := range ins {
				g.add(cui, RelHasIngredient, in)
				if tty == "BN" {
					// A brand of a salt is a brand of its base too.
					g.add(cui, RelTradenameOf, in)
				}
			}
		}
	}
}

// write stores the concepts and relations.
func writeRx(l *loader, concepts map[string]*rxRecord, g *rxGraph, add bool) error {
	cuis := make([]string, 0, len(concepts))
	for cui := range concepts {
		cuis = append(cuis, cui)
	}
	sort.Strings(cuis)
	for _, cui := range cuis {
		r := concepts[cui]
		var id int64
		var err error
		if add {
			id, err = l.addConcept(cui, r.name, r.tty, true)
		} else {
			id, err = l.concept(cui, r.name, r.tty, true)
		}
		if err != nil {
			return err
		}
		if err := l.designation(id, DesignationPreferred, r.name); err != nil {
			return err
		}
		for _, s := range r.synonyms {
			if err := l.designation(id, DesignationSynonym, s); err != nil {
				return err
			}
		}
	}
	rels := make([]string, 0, len(g.edges))
	for rel := range g.edges {
		rels = append(rels, rel)
	}
	sort.Strings(rels)
	for _, rel := range rels {
		if !exportedRel[rel] {
			continue
		}
		for src, dsts := range g.edges[rel] {
			if concepts[src] == nil {
				continue
			}
			for _, dst := range dsts {
				d := concepts[dst]
				if d == nil || (rel == RelHasIngredient && d.tty != "IN") ||
					(rel == RelTradenameOf && concepts[src].tty == "BN" && d.tty != "IN") {
					continue
				}
				if err := l.relation(src, rel, dst); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// exportedRel are the relations stored; has_precise_ingredient only serves
// the closure.
var exportedRel = map[string]bool{
	RelHasIngredient: true, RelTradenameOf: true, RelHasBrandName: true,
	RelConsistsOf: true, RelFormOf: true, RelContains: true,
}

// ImportRxNormRRF loads an RxNorm release in its official Rich Release
// Format: RXNCONSO.RRF (names; rows with SAB=RXNORM, English, not
// suppressed; TTYs IN, PIN, MIN, BN, SCD, SBD, SCDC, SBDC, GPCK, BPCK as
// concepts and SY, TMSY, PSN as synonyms) and RXNREL.RRF (has_ingredient,
// tradename_of, consists_of, form_of, contains, ...). path is the release's
// rrf directory, or RXNCONSO.RRF itself with RXNREL.RRF beside it; either
// file may be gzipped (.gz). Concepts of an earlier RRF import that the new
// one lacks are removed.
func (t *DB) ImportRxNormRRF(ctx context.Context, path string, opts *ImportOptions) (ImportResult, error) {
	dir := path
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		dir = filepath.Dir(path)
	}
	conso := findFile(dir, "RXNCONSO.RRF")
	rel := findFile(dir, "RXNREL.RRF")
	if conso == "" {
		return ImportResult{}, fmt.Errorf("import RxNorm RRF %s: no RXNCONSO.RRF there", path)
	}
	version := opts.version(filepath.Dir(conso))
	if filepath.Base(filepath.Dir(conso)) == "rrf" {
		version = opts.version(filepath.Dir(filepath.Dir(conso)))
	}
	res, err := t.load(ctx, RxNorm, SourceRxNormRRF, version, filepath.Base(dir), keepOthers, func(l *loader) error {
		concepts, syns, err := readConso(conso, opts.progress())
		if err != nil {
			return err
		}
		for cui, s := range syns {
			if r := concepts[cui]; r != nil {
				r.synonyms = append(r.synonyms, s...)
			}
		}
		g := newRxGraph()
		if rel != "" {
			if err := readRel(rel, concepts, g, opts.progress()); err != nil {
				return err
			}
		}
		g.closeIngredients(concepts)
		return writeRx(l, concepts, g, false)
	})
	if err != nil {
		return res, fmt.Errorf("import RxNorm RRF %s: %w", path, err)
	}
	return res, nil
}

// findFile returns dir/name or dir/name.gz, case-insensitively on name.
func findFile(dir, name string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return ""
	}
	for _, e := range entries {
		n := e.Name()
		if strings.EqualFold(n, name) || strings.EqualFold(n, name+".gz") {
			return filepath.Join(dir, n)
		}
	}
	return ""
}

const (
	consoFields = 19 // 18 columns and the empty field after the trailing '|'
	relFields   = 17 // 16 columns and the trailing empty field
)

func readConso(path string, progress func(done, total int64)) (map[string]*rxRecord, map[string][]string, error) {
	lr, err := openLines(path, true, progress)
	if err != nil {
		return nil, nil, err
	}
	defer lr.Close()
	concepts := map[string]*rxRecord{}
	syns := map[string][]string{}
	for {
		line, ok, err := lr.Next()
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			break
		}
		f := strings.Split(line, "|")
		if len(f) != consoFields {
			return nil, nil, lr.errorf("want %d '|'-separated fields, got %d", consoFields-1, len(f)-1)
		}
		cui, lat, sab, tty, str, suppress := f[0], f[1], f[11], f[12], f[14], f[16]
		if !isDigits(cui) {
			return nil, nil, lr.errorf("RXCUI %q is not a number", cui)
		}
		if sab != "RXNORM" || lat != "ENG" || (suppress != "N" && suppress != "") || strings.TrimSpace(str) == "" {
			continue
		}
		if synonymTTYs[tty] {
			syns[cui] = append(syns[cui], str)
			continue
		}
		rank := ttyRank(tty)
		if rank < 0 {
			continue
		}
		if r := concepts[cui]; r != nil {
			if ttyRank(r.tty) <= rank {
				r.synonyms = append(r.synonyms, str)
				continue
			}
			r.synonyms = append(r.synonyms, r.name)
			r.tty, r.name = tty, str
			continue
		}
		concepts[cui] = &rxRecord{tty: tty, name: str}
	}
	if len(concepts) == 0 {
		return nil, nil, &ParseError{File: lr.name, Line: lr.line, Reason: "no RXNORM concepts in file"}
	}
	return concepts, syns, nil
}

// rrfRel maps an RXNREL RELA to the relation stored, given the term types
// of its ends; "" drops the row.
func rrfRel(rela, srcTTY, dstTTY string) string {
	switch rela {
	case "has_ingredient":
		if dstTTY == "BN" {
			return RelHasBrandName
		}
		return RelHasIngredient
	case "has_part", "has_ingredients":
		return RelHasIngredient
	case "tradename_of":
		return RelTradenameOf
	case "consists_of":
		return RelConsistsOf
	case "form_of":
		return RelFormOf
	case "contains":
		return RelContains
	case "has_precise_ingredient":
		return RelHasIngredient
	}
	return ""
}

func readRel(path string, concepts map[string]*rxRecord, g *rxGraph, progress func(done, total int64)) error {
	lr, err := openLines(path, true, progress)
	if err != nil {
		return err
	}
	defer lr.Close()
	for {
		line, ok, err := lr.Next()
		if err != nil {
			return err
		}
		if !ok {
			return nil
		}
		f := strings.Split(line, "|")
		if len(f) != relFields {
			return lr.errorf("want %d '|'-separated fields, got %d", relFields-1, len(f)-1)
		}
		cui1, stype1, cui2, stype2, rela, sab, suppress := f[0], f[2], f[4], f[6], f[7], f[10], f[14]
		if sab != "RXNORM" || stype1 != "CUI" || stype2 != "CUI" || (suppress != "N" && suppress != "") {
			continue
		}
		// RXNREL reads right to left: RXCUI2 has RELA to RXCUI1.
		src, dst := concepts[cui2], concepts[cui1]
		if src == nil || dst == nil {
			continue
		}
		if r := rrfRel(rela, src.tty, dst.tty); r != "" {
			g.add(cui2, r, cui1)
		}
	}
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
