package terminology

import (
	"context"
	"fmt"
	"sort"
	"strings"
)

// DrugQuery is a drug as dictated or as a model proposed it. Strength and
// Form may be empty; when both are, they are also looked for in Name
// ("lisinopril 10 mg tablet").
type DrugQuery struct {
	Name     string // ingredient or brand, as said: "Lipitor", "met for men"
	Strength string // "10 mg", "0.125mg", "81 MG"
	Form     string // "tablet", "ER capsule", "inhaler"
}

// DrugMatch is the resolution of a DrugQuery.
type DrugMatch struct {
	// Drug is the most specific concept the query supports: the SCD (or
	// the SBD when a brand was named) with that strength and form, else
	// the ingredient (IN), else, for a combination without strength, the
	// multiple-ingredient concept (MIN) or what matched.
	Drug Concept
	// Ingredients are the ingredients (IN) of Drug.
	Ingredients []Concept
	// Brand is the brand name (BN) the query named, if any.
	Brand *Concept
	// Name is the candidate the name resolved to, with its score and
	// reason.
	Name Candidate
	// StrengthMatched reports whether Drug carries the query's strength.
	StrengthMatched bool
}

// drugUnits are the strength units RxNorm writes, as normalized.
var drugUnits = map[string]string{
	"mg": "mg", "milligram": "mg", "milligrams": "mg", "mcg": "mcg", "microgram": "mcg", "micrograms": "mcg",
	"ug": "mcg", "g": "g", "gram": "g", "grams": "g", "ml": "ml", "meq": "meq", "unt": "unt", "unit": "unt",
	"units": "unt", "iu": "unt", "percent": "%", "hr": "hr", "actuat": "actuat",
}

// formWords map what is said about a dose form to the words of RxNorm's
// dose-form names.
var formWords = map[string][]string{
	"tablet": {"tablet"}, "tablets": {"tablet"}, "tab": {"tablet"}, "tabs": {"tablet"}, "pill": {"tablet"},
	"capsule": {"capsule"}, "capsules": {"capsule"}, "cap": {"capsule"}, "caps": {"capsule"},
	"er": {"extended", "release"}, "xr": {"extended", "release"}, "xl": {"extended", "release"},
	"sr": {"extended", "release"}, "la": {"extended", "release"}, "cr": {"extended", "release"},
	"extended": {"extended"}, "release": {"release"}, "delayed": {"delayed"}, "dr": {"delayed", "release"},
	"ec": {"delayed", "release"}, "chewable": {"chewable"}, "odt": {"disintegrating"},
	"inhaler": {"inhal"}, "inhalation": {"inhal"}, "puff": {"inhal"}, "puffs": {"inhal"}, "nebulizer": {"inhalation", "solution"},
	"injection": {"injection"}, "injectable": {"injection"}, "pen": {"pen"}, "syringe": {"syringe"},
	"solution": {"solution"}, "suspension": {"suspension"}, "liquid": {"oral", "solution"}, "syrup": {"oral", "solution"},
	"cream": {"cream"}, "ointment": {"ointment"}, "gel": {"gel"}, "lotion": {"lotion"},
	"patch": {"transdermal"}, "drops": {"drops"}, "eye": {"ophthalmic"}, "ophthalmic": {"ophthalmic"},
	"nasal": {"nasal"}, "spray": {"spray"}, "suppository": {"suppository"}, "topical": {"topical"}, "oral": {"oral"},
}

// sigWords are dosing instructions that may trail a drug name. Short
// function words ("a", "on") are not among them: speech recognition puts
// them inside split names ("amox a cillin").
var sigWords = map[string]bool{
	"daily": true, "bid": true, "tid": true, "qid": true, "prn": true, "qhs": true, "qd": true, "hs": true,
	"qam": true, "qpm": true, "once": true, "twice": true, "bedtime": true, "needed": true, "every": true,
	"morning": true, "nightly": true, "po": true, "mouth": true, "times": true, "basis": true, "weekly": true,
	"iv": true, "im": true, "sq": true, "subcut": true, "sl": true,
}

// splitDrugPhrase splits a normalized drug phrase into the name, the
// strength ("10 mg") and the form words.
func splitDrugPhrase(q string) (name, strength string, form []string) {
	toks := Tokens(q)
	// Runs of single letters are spelled-out abbreviations: "p r n", "q d".
	var merged []string
	for i := 0; i < len(toks); i++ {
		if len(toks[i]) == 1 && !startsWithDigit(toks[i]) {
			j := i
			for j < len(toks) && len(toks[j]) == 1 && !startsWithDigit(toks[j]) {
				j++
			}
			if run := strings.Join(toks[i:j], ""); j-i > 1 && sigWords[run] {
				merged = append(merged, run)
				i = j - 1
				continue
			}
		}
		merged = append(merged, toks[i])
	}
	toks = merged
	var nameToks []string
	i := 0
	for ; i < len(toks); i++ {
		t := toks[i]
		if startsWithDigit(t) || sigWords[t] || (formWords[t] != nil && len(nameToks) > 0) {
			break
		}
		nameToks = append(nameToks, t)
	}
	var st []string
	for ; i < len(toks); i++ {
		t := toks[i]
		switch {
		case startsWithDigit(t) && len(st) == 0:
			st = append(st, t)
			if i+1 < len(toks) {
				if u, ok := drugUnits[toks[i+1]]; ok {
					st = append(st, u)
					i++
				}
			}
		case formWords[t] != nil:
			form = append(form, formWords[t]...)
		}
	}
	if len(st) == 1 {
		st = append(st, "mg")
	}
	return strings.Join(nameToks, " "), strings.Join(st, " "), form
}

// ResolveDrug resolves a dictated drug to RxNorm: the name (ingredient,
// brand, or a mangled form of either) through Search, then, when a strength
// is given, the clinical drug (SCD) of exactly those ingredients with that
// strength and the best matching form, or the branded drug (SBD) when a
// brand was named and the database has it. Without a strength, or when no
// drug has it, the ingredient is returned. ok is false when the name
// matched nothing.
func (t *DB) ResolveDrug(ctx context.Context, q DrugQuery) (DrugMatch, bool, error) {
	norm := Normalize(q.Name)
	name, strength, form := splitDrugPhrase(norm)
	if q.Strength != "" {
		_, strength, _ = splitDrugPhrase("x " + Normalize(q.Strength))
	}
	if q.Form != "" {
		_, _, form = splitDrugPhrase("x " + Normalize(q.Form))
	}
	if name == "" {
		name = norm
	}
	cands, err := t.Search(ctx, RxNorm, name, &SearchOptions{Limit: 5, Kinds: []string{"IN", "PIN", "MIN", "BN", "SCD", "SBD"}})
	if err != nil {
		return DrugMatch{}, false, fmt.Errorf("resolve drug: %w", err)
	}
	if len(cands) == 0 {
		return DrugMatch{}, false, nil
	}
	top := cands[0]
	m := DrugMatch{Name: top, Drug: top.Concept}
	if top.Kind == "BN" {
		b := top.Concept
		m.Brand = &b
	}
	if top.Kind == "IN" {
		m.Ingredients = []Concept{top.Concept}
	} else if m.Ingredients, err = t.Ingredients(ctx, top.Code); err != nil {
		return DrugMatch{}, false, fmt.Errorf("resolve drug: %w", err)
	}
	if (top.Kind == "SCD" || top.Kind == "SBD") && strength == "" {
		return m, true, nil
	}
	if strength != "" && len(m.Ingredients) > 0 {
		drug, ok, err := t.drugWithStrength(ctx, m.Ingredients, m.Brand, strength, form)
		if err != nil {
			return DrugMatch{}, false, fmt.Errorf("resolve drug: %w", err)
		}
		if ok {
			m.Drug, m.StrengthMatched = drug, true
			return m, true, nil
		}
	}
	switch {
	case len(m.Ingredients) == 1:
		m.Drug = m.Ingredients[0]
	case len(m.Ingredients) > 1:
		if min, ok, err := t.multiIngredient(ctx, m.Ingredients); err != nil {
			return DrugMatch{}, false, fmt.Errorf("resolve drug: %w", err)
		} else if ok {
			m.Drug = min
		}
	}
	return m, true, nil
}

// drugsWithIngredients returns the concepts of the given kinds whose
// ingredient set is exactly ins.
func (t *DB) drugsWithIngredients(ctx context.Context, ins []Concept, kinds ...string) ([]Concept, error) {
	want := map[string]bool{}
	for _, in := range ins {
		want[in.Code] = true
	}
	kindPh := strings.TrimSuffix(strings.Repeat("?,", len(kinds)), ",")
	args := []any{ins[0].Code}
	for _, k := range kinds {
		args = append(args, k)
	}
	rows, err := t.sql.QueryContext(ctx, `SELECT c.system, c.code, c.display, c.kind, c.billable,
			(SELECT group_concat(r2.dst, ' ') FROM term_relation r2 WHERE r2.system = 'rxnorm' AND r2.src = c.code AND r2.rel = 'has_ingredient')
		FROM term_relation r CROSS JOIN term_concept c ON c.system = r.system AND c.code = r.src
		WHERE r.system = 'rxnorm' AND r.rel = 'has_ingredient' AND r.dst = ? AND c.kind IN (`+kindPh+`)`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Concept
	for rows.Next() {
		var c Concept
		var billable int
		var insList string
		if err := rows.Scan(&c.System, &c.Code, &c.Display, &c.Kind, &billable, &insList); err != nil {
			return nil, err
		}
		c.Billable = billable != 0
		got := strings.Fields(insList)
		if len(got) != len(want) {
			continue
		}
		all := true
		for _, g := range got {
			all = all && want[g]
		}
		if all {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// drugWithStrength picks the SCD/SBD of exactly ins whose name carries
// strength, preferring the named brand and then the form words.
func (t *DB) drugWithStrength(ctx context.Context, ins []Concept, brand *Concept, strength string, form []string) (Concept, bool, error) {
	drugs, err := t.drugsWithIngredients(ctx, ins, "SCD", "SBD")
	if err != nil {
		return Concept{}, false, err
	}
	type scored struct {
		c     Concept
		score float64
	}
	var best []scored
	for _, d := range drugs {
		n := " " + Normalize(d.Display) + " "
		base := n
		if i := strings.Index(n, "["); i >= 0 {
			base = n[:i]
		}
		if !strings.Contains(base, " "+strength+" ") && !strings.Contains(base, " "+strength+" / ") {
			continue
		}
		s := 1.0
		for _, f := range form {
			if strings.Contains(n, " "+f) {
				s += 0.2
			} else {
				s -= 0.1
			}
		}
		if d.Kind == "SBD" {
			if brand != nil && strings.Contains(n, " "+Normalize(brand.Display)+" ") {
				s += 0.5
			} else {
				s -= 1
			}
		}
		// Plain oral tablets are what "10 mg" means when nothing else is
		// said; extended release and other forms must be asked for.
		if len(form) == 0 && strings.Contains(n, " oral tablet ") && !strings.Contains(n, " release ") && !strings.Contains(n, " chewable ") && !strings.Contains(n, " disintegrating ") {
			s += 0.1
		}
		if !strings.Contains(strings.Join(form, " "), "extended") && strings.Contains(n, " extended release ") {
			s -= 0.05
		}
		best = append(best, scored{d, s})
	}
	if len(best) == 0 {
		return Concept{}, false, nil
	}
	sort.Slice(best, func(i, j int) bool {
		if best[i].score != best[j].score {
			return best[i].score > best[j].score
		}
		return len(best[i].c.Display) < len(best[j].c.Display)
	})
	return best[0].c, true, nil
}

// multiIngredient returns the MIN concept of exactly ins, if loaded.
func (t *DB) multiIngredient(ctx context.Context, ins []Concept) (Concept, bool, error) {
	mins, err := t.drugsWithIngredients(ctx, ins, "MIN")
	if err != nil || len(mins) == 0 {
		return Concept{}, false, err
	}
	return mins[0], true, nil
}
