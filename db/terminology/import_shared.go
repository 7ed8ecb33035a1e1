package terminology

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
)

// The derived RxNorm tables medscribe's shared reference data carries
// instead of RRF files (see the package README). They are not an official
// distribution format; ImportRxNormDerived adapts them.
const (
	derivedConcepts   = "*-partial-concepts.tsv*"
	derivedLinks      = "*-partial-ingredient-drug-links.tsv*"
	derivedPacks      = "*-partial-scd-packs.tsv*"
	derivedASupp      = "supplement-A-ingredients-merged.tsv*"
	derivedVSAC       = "supplement-vsac-ecqm-rxnorm-codes.tsv*"
	derivedSubstances = "supplement-nlm-substance-names-rxcui-icd10cm-tcodes.tsv*"
)

func globOne(dir, pattern string) string {
	m, _ := filepath.Glob(filepath.Join(dir, pattern))
	if len(m) == 0 {
		return ""
	}
	return m[len(m)-1]
}

// IsDerivedRxNormDir reports whether dir holds the derived RxNorm tables.
func IsDerivedRxNormDir(dir string) bool { return globOne(dir, derivedConcepts) != "" }

// ImportRxNormDerived loads the derived RxNorm tables of a directory: the
// partial prescribable concepts (rxcui, tty, name) with their
// ingredient -> SCDC -> SCD -> SBD -> BN links and packs, then, for what
// that table lacks, the merged "A" supplement, the VSAC value-set codes
// and the NLM substance names (which also add synonyms such as
// paracetamol). Relations the tables do not carry are derived from RxNorm's
// naming rules: a salt (PIN) belongs to the ingredient its name starts
// with, a clinical drug's name lists its ingredients, a branded drug's
// name ends in [Brand]. The misspellings table is deliberately not loaded:
// it is a test set for fuzzy matching.
func (t *DB) ImportRxNormDerived(ctx context.Context, dir string, opts *ImportOptions) (ImportResult, error) {
	conceptsFile := globOne(dir, derivedConcepts)
	if conceptsFile == "" {
		return ImportResult{}, fmt.Errorf("import derived RxNorm %s: no %s there", dir, derivedConcepts)
	}
	version := opts.version(dir)
	if opts == nil || opts.Version == "" {
		// rxnorm-prescribable-20251006-partial-concepts.tsv.gz -> 20251006
		if f := strings.Split(filepath.Base(conceptsFile), "-"); len(f) > 2 {
			version = "prescribable-" + f[2] + "-partial"
		}
	}
	res, err := t.load(ctx, RxNorm, SourceRxNormShared, version, filepath.Base(dir), keepOthers, func(l *loader) error {
		concepts := map[string]*rxRecord{}
		g := newRxGraph()
		progress := opts.progress()
		if err := readTSV(conceptsFile, []string{"rxcui", "tty", "name", "unii"}, progress, func(lr *lineReader, f []string) error {
			if !isDigits(f[0]) {
				return lr.errorf("rxcui %q is not a number", f[0])
			}
			if ttyRank(f[1]) < 0 {
				return nil
			}
			if _, dup := concepts[f[0]]; dup {
				return lr.errorf("duplicate rxcui %s", f[0])
			}
			concepts[f[0]] = &rxRecord{tty: f[1], name: f[2]}
			return nil
		}); err != nil {
			return err
		}
		aIngredient := map[string]string{} // rxcui -> first ingredient name, from the A supplement
		if p := globOne(dir, derivedASupp); p != "" {
			if err := readTSV(p, []string{"rxcui", "tty", "name", "source", "tty_basis", "ingredient", "in_partial_20251006", "confidence", "other_names"}, progress, func(lr *lineReader, f []string) error {
				if !isDigits(f[0]) {
					return lr.errorf("rxcui %q is not a number", f[0])
				}
				r := concepts[f[0]]
				if r == nil {
					if ttyRank(f[1]) < 0 {
						return nil
					}
					r = &rxRecord{tty: f[1], name: f[2]}
					concepts[f[0]] = r
				}
				if f[5] != "" {
					aIngredient[f[0]] = f[5]
				}
				for _, s := range strings.Split(f[8], "|") {
					if s = strings.TrimSpace(s); s != "" && !strings.EqualFold(s, r.name) {
						r.synonyms = append(r.synonyms, s)
					}
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if p := globOne(dir, derivedVSAC); p != "" {
			if err := readTSV(p, []string{"rxcui", "display", "vsac_value_set_names"}, progress, func(lr *lineReader, f []string) error {
				if !isDigits(f[0]) {
					return lr.errorf("rxcui %q is not a number", f[0])
				}
				if r := concepts[f[0]]; r != nil {
					if !strings.EqualFold(r.name, f[1]) {
						r.synonyms = append(r.synonyms, f[1])
					}
					return nil
				}
				if tty := inferTTY(f[1]); ttyRank(tty) >= 0 {
					concepts[f[0]] = &rxRecord{tty: tty, name: f[1]}
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if p := globOne(dir, derivedSubstances); p != "" {
			if err := readTSV(p, []string{"substance_name", "rxcui", "icd10cm_code", "icd10cm_title"}, progress, func(lr *lineReader, f []string) error {
				if !isDigits(f[1]) {
					return lr.errorf("rxcui %q is not a number", f[1])
				}
				if r := concepts[f[1]]; r != nil {
					if !strings.EqualFold(r.name, f[0]) {
						r.synonyms = append(r.synonyms, f[0])
					}
					return nil
				}
				concepts[f[1]] = &rxRecord{tty: "IN", name: f[0]}
				return nil
			}); err != nil {
				return err
			}
		}
		if p := globOne(dir, derivedLinks); p != "" {
			if err := readTSV(p, []string{"ingredient_rxcui", "ingredient_tty", "scdc_rxcui", "scd_rxcui", "sbd_rxcui", "bn_rxcui"}, progress, func(lr *lineReader, f []string) error {
				ing, tty, scdc, scd, sbd, bn := f[0], f[1], f[2], f[3], f[4], f[5]
				for _, c := range []string{ing, scdc, scd} {
					if !isDigits(c) {
						return lr.errorf("rxcui %q is not a number", c)
					}
				}
				if tty == "MIN" {
					// MIN rows join through shared components and name
					// single-ingredient drugs too; the names tell better.
					return nil
				}
				g.add(scdc, RelHasIngredient, ing)
				g.add(scd, RelConsistsOf, scdc)
				if sbd != "" {
					g.add(sbd, RelTradenameOf, scd)
					if bn != "" {
						g.add(sbd, RelHasBrandName, bn)
						g.add(bn, RelTradenameOf, ing)
					}
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if p := globOne(dir, derivedPacks); p != "" {
			if err := readTSV(p, []string{"scd_rxcui", "pack_rxcui", "pack_tty"}, progress, func(lr *lineReader, f []string) error {
				g.add(f[1], RelContains, f[0])
				return nil
			}); err != nil {
				return err
			}
		}
		deriveFromNames(concepts, g, aIngredient)
		g.closeIngredients(concepts)
		return writeRx(l, concepts, g, false)
	})
	if err != nil {
		return res, fmt.Errorf("import derived RxNorm %s: %w", dir, err)
	}
	return res, nil
}

// readTSV reads a tab-separated file whose header row (after any '#'
// comment lines) must be want, calling row for each data row.
func readTSV(path string, want []string, progress func(done, total int64), row func(*lineReader, []string) error) error {
	lr, err := openLines(path, false, progress)
	if err != nil {
		return err
	}
	defer lr.Close()
	header := false
	for {
		line, ok, err := lr.Next()
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		if strings.HasPrefix(line, "#") || strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if !header {
			if strings.Join(f, "\t") != strings.Join(want, "\t") {
				return lr.errorf("want header %q", strings.Join(want, " "))
			}
			header = true
			continue
		}
		if len(f) != len(want) {
			return lr.errorf("want %d tab-separated columns, got %d", len(want), len(f))
		}
		if err := row(lr, f); err != nil {
			return err
		}
	}
	if !header {
		return &ParseError{File: lr.name, Line: lr.line, Reason: "no header row"}
	}
	return nil
}

// saltWords are the words RxNorm's precise-ingredient (PIN) names add to
// their base ingredient.
var saltWords = map[string]bool{
	"hydrochloride": true, "hcl": true, "sodium": true, "potassium": true, "calcium": true,
	"magnesium": true, "sulfate": true, "succinate": true, "tartrate": true, "maleate": true,
	"mesylate": true, "besylate": true, "citrate": true, "acetate": true, "phosphate": true,
	"bromide": true, "hydrobromide": true, "fumarate": true, "bitartrate": true, "hyclate": true,
	"monohydrate": true, "dihydrate": true, "trihydrate": true, "anhydrous": true, "disodium": true,
	"dipropionate": true, "propionate": true, "furoate": true, "xinafoate": true, "valerate": true,
	"cypionate": true, "enanthate": true, "decanoate": true, "palmitate": true, "pamoate": true,
	"lactate": true, "gluconate": true, "nitrate": true, "mononitrate": true, "dinitrate": true,
	"chloride": true, "oxalate": true, "tosylate": true, "dimesylate": true, "erbumine": true,
	"medoxomil": true, "axetil": true, "pivoxil": true, "estolate": true, "stearate": true,
	"ethylsuccinate": true, "carbonate": true, "hydroxide": true, "oxide": true, "benzoate": true,
	"salicylate": true, "sulfonate": true, "trometamol": true, "tromethamine": true, "lysine": true,
	"arginine": true, "meglumine": true, "hemihydrate": true, "sesquihydrate": true,
}

// StripSalt removes salt words from a normalized ingredient name
// ("metoprolol succinate" -> "metoprolol"), which maps a precise
// ingredient to its base.
func StripSalt(norm string) string {
	words := Tokens(norm)
	out := words[:0:0]
	for _, w := range words {
		if !saltWords[w] {
			out = append(out, w)
		}
	}
	if len(out) == 0 {
		return norm
	}
	return strings.Join(out, " ")
}

// deriveFromNames adds the relations RxNorm's naming rules imply, for
// concepts whose tables carry none (the A supplement) or only some (combos
// with an A ingredient).
func deriveFromNames(concepts map[string]*rxRecord, g *rxGraph, aIngredient map[string]string) {
	inByName := map[string]string{}
	pinByName := map[string]string{}
	bnByName := map[string]string{}
	for cui, r := range concepts {
		n := Normalize(r.name)
		switch r.tty {
		case "IN":
			if prev, ok := inByName[n]; !ok || cui < prev {
				inByName[n] = cui
			}
		case "PIN":
			pinByName[n] = cui
		case "BN":
			bnByName[n] = cui
		}
	}
	// ingredient maps an ingredient name as drug names write it to the IN.
	ingredient := func(name string) string {
		n := Normalize(name)
		if cui, ok := inByName[n]; ok {
			return cui
		}
		if pin, ok := pinByName[n]; ok {
			if ins := g.out(pin, RelFormOf); len(ins) > 0 {
				return ins[0]
			}
		}
		if cui, ok := inByName[StripSalt(n)]; ok {
			return cui
		}
		return ""
	}
	for cui, r := range concepts {
		if r.tty == "PIN" && len(g.out(cui, RelFormOf)) == 0 {
			if in := inByName[StripSalt(Normalize(r.name))]; in != "" {
				g.add(cui, RelFormOf, in)
			}
		}
	}
	for cui, r := range concepts {
		switch r.tty {
		case "SCD", "SBD", "SCDC", "SBDC":
			for _, part := range drugNameIngredients(r.name) {
				if in := ingredient(part); in != "" {
					g.add(cui, RelHasIngredient, in)
				}
			}
			if brand := bracketBrand(r.name); brand != "" {
				if bn := bnByName[Normalize(brand)]; bn != "" {
					g.add(cui, RelHasBrandName, bn)
					for _, part := range drugNameIngredients(r.name) {
						if in := ingredient(part); in != "" {
							g.add(bn, RelTradenameOf, in)
						}
					}
				}
			}
		case "BN":
			if name, ok := aIngredient[cui]; ok {
				if in := ingredient(name); in != "" {
					g.add(cui, RelTradenameOf, in)
				}
			}
		case "MIN":
			for _, part := range strings.Split(r.name, " / ") {
				if in := ingredient(part); in != "" {
					g.add(cui, RelHasIngredient, in)
				}
			}
		}
	}
}

// drugNameIngredients returns the ingredient names of an RxNorm clinical or
// branded drug name: "acetaminophen 325 MG / hydrocodone bitartrate 5 MG
// Oral Tablet [Norco]" -> acetaminophen, hydrocodone bitartrate. A leading
// quantity ("0.4 ML abatacept ...") is skipped.
func drugNameIngredients(name string) []string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	if i := strings.IndexByte(name, '{'); i >= 0 {
		return nil // a pack: its drugs carry the ingredients
	}
	var out []string
	for _, part := range strings.Split(name, " / ") {
		words := strings.Fields(part)
		// Skip a leading quantity: "0.4 ML", "24 HR".
		for len(words) >= 2 && startsWithDigit(words[0]) && isUpperWord(words[1]) {
			words = words[2:]
		}
		var name []string
		for _, w := range words {
			if startsWithDigit(w) {
				break
			}
			name = append(name, w)
		}
		if len(name) > 0 {
			out = append(out, strings.Join(name, " "))
		}
	}
	return out
}

func startsWithDigit(s string) bool { return s != "" && s[0] >= '0' && s[0] <= '9' }

func isUpperWord(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}

// bracketBrand returns the brand of a branded drug name ("... [Lipitor]").
func bracketBrand(name string) string {
	i := strings.LastIndexByte(name, '[')
	j := strings.LastIndexByte(name, ']')
	if i < 0 || j < i {
		return ""
	}
	return strings.TrimSpace(name[i+1 : j])
}

// doseFormWords mark the dose form at the end of an RxNorm drug name.
var doseFormWords = []string{"Tablet", "Capsule", "Injection", "Solution", "Suspension", "Cream", "Ointment",
	"Inhaler", "Inhalant", "Patch", "Spray", "Powder", "Syringe", "Gel", "Lotion", "Drops", "Suppository", "Film",
	"Lozenge", "Foam", "Shampoo", "Pen", "Auto-Injector", "Cartridge", "Implant", "Granules", "Wafer", "Enema",
	"Elixir", "Syrup", "Tape", "Pad", "Ring", "System", "Insert", "Paste", "Oil", "Jelly", "Gum", "Strip",
	"Aerosol", "Mouthwash", "Rinse", "Emulsion", "Packet", "Pellet", "Liquid", "Chewable", "Sublingual", "Product",
	"Pill", "Topical", "Oral", "Ophthalmic", "Otic", "Nasal", "Rectal", "Vaginal", "Transdermal", "Intrauterine"}

// inferTTY guesses the RxNorm term type of a name from RxNorm's naming
// rules, for sources that give a code and a name only.
func inferTTY(name string) string {
	hasForm := false
	for _, w := range strings.Fields(name) {
		for _, f := range doseFormWords {
			if w == f {
				hasForm = true
			}
		}
	}
	hasStrength := false
	words := strings.Fields(name)
	for i := 0; i+1 < len(words); i++ {
		if startsWithDigit(words[i]) && isUpperWord(strings.Split(words[i+1], "/")[0]) {
			hasStrength = true
		}
	}
	branded := bracketBrand(name) != ""
	switch {
	case strings.Contains(name, "{") && strings.Contains(name, "Pack"):
		if branded {
			return "BPCK"
		}
		return "GPCK"
	case hasStrength && hasForm && branded:
		return "SBD"
	case hasStrength && hasForm:
		return "SCD"
	case hasStrength && branded:
		return "SBDC"
	case hasStrength:
		return "SCDC"
	case strings.Contains(name, " / "):
		return "MIN"
	case hasForm:
		return "" // a dose-form group: not loaded
	}
	return "IN"
}
