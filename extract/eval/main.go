package eval

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/fhir"
)

// Terminology is an opened terminology, as Main needs it.
type Terminology struct {
	// Vocabulary feeds the rules extractor's lexicon.
	Vocabulary extract.Vocabulary
	// Codes checks codes: for the codes-not-in-terminology count and the
	// validator.
	Codes fhir.Terminology
	// Name describes it in the report ("starter", a file name).
	Name string
	// Close releases it; may be nil.
	Close func() error
}

// Opener opens the terminology database at path; "" means the embedded
// starter terminology. cmd/medscribe supplies it, so that this package
// needs no database code.
type Opener func(ctx context.Context, path string) (Terminology, error)

const usage = `usage: medscribe eval --gold FILE.jsonl [flags]

Runs the rules extractor on every document of a gold file and scores it by
the rules of shared/eval/README.md: medication P/R/F1 (strict, lenient,
RxCUI only), allergies emitted as medications, status and sig attributes,
condition P/R/F1 at exact-code and category level (with and without
findings), assertion errors, codes not in the terminology, validation errors,
and per-document misses and false positives; then the NegEx negation
benchmark when its file is found.

flags:
`

// Main runs "medscribe eval". It prints the report table (or JSON with
// --format json) to stdout.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, open Opener) error {
	fs := flag.NewFlagSet("medscribe eval", flag.ContinueOnError)
	fs.SetOutput(stderr)
	gold := fs.String("gold", "", "gold file (JSONL, schema of shared/eval/README.md); required")
	db := fs.String("db", os.Getenv("MEDSCRIBE_DB"), "terminology database file; empty: the embedded starter terminology [MEDSCRIBE_DB]")
	rxdir := fs.String("rxnorm", "", "shared RxNorm tables for ingredient mapping (default: data/rxnorm next to the gold file's folder, or $MEDSCRIBE_SHARED/data/rxnorm)")
	negex := fs.String("negation", "", "NegEx test kit file, or \"none\" (default: data/negation next to the gold file's folder, when present)")
	format := fs.String("format", "table", "output: table or json")
	jsonOut := fs.String("json", "", "also write the JSON report to this file")
	docs := fs.Bool("docs", true, "list each document's misses and false positives after the table")
	validate := fs.Bool("validate", true, "validate every resource (FHIR validator with the terminology) and count errors")
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *gold == "" {
		fs.Usage()
		return errors.New("eval: --gold is required")
	}
	if *format != "table" && *format != "json" {
		return fmt.Errorf("eval: --format %q: want table or json", *format)
	}
	shared := filepath.Dir(filepath.Dir(*gold))
	if env := os.Getenv("MEDSCRIBE_SHARED"); env != "" && !exists(filepath.Join(shared, "data")) {
		shared = env
	}
	if *rxdir == "" {
		*rxdir = filepath.Join(shared, "data", "rxnorm")
	}
	if *negex == "" {
		if p := filepath.Join(shared, "data", "negation", NegExFile); exists(p) {
			*negex = p
		}
	}
	docsList, err := ReadGold(*gold)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	rx, err := LoadRxMap(*rxdir)
	if err != nil {
		return fmt.Errorf("eval: %w (set --rxnorm)", err)
	}
	term, err := open(ctx, *db)
	if err != nil {
		return fmt.Errorf("eval: open terminology: %w", err)
	}
	if term.Close != nil {
		defer term.Close()
	}
	lex := extract.NewLexicon(term.Vocabulary)
	if err := lex.Build(ctx); err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	asm := &extract.Assembler{Subject: fhir.PlaceholderPatientReference("eval")}
	if *validate {
		asm.Validator = extract.FHIRValidator{Validator: &fhir.Validator{Terminology: term.Codes}}
	}
	known := func(system, code string) bool {
		if term.Codes == nil {
			return true
		}
		_, ok, err := term.Codes.Display(system, code)
		return err == nil && ok
	}
	rep, err := Run(ctx, docsList, func(ctx context.Context, text string) ([]extract.Item, error) {
		return extract.Text(ctx, lex, asm, text)
	}, rx, known)
	if err != nil {
		return fmt.Errorf("eval: %w", err)
	}
	rep.Gold = *gold
	rep.Terminology = term.Name
	if *negex != "" && *negex != "none" {
		nr, err := RunNegation(*negex)
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		rep.Negation = &nr
	}
	if *jsonOut != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return fmt.Errorf("eval: %w", err)
		}
		if err := os.WriteFile(*jsonOut, append(b, '\n'), 0o644); err != nil {
			return fmt.Errorf("eval: %w", err)
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	WriteTable(stdout, rep, *docs)
	return nil
}

func exists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// WriteTable prints a report as text tables: metrics per split, then the
// negation benchmark, then (docs) each document's misses and false
// positives.
func WriteTable(w io.Writer, rep Report, docs bool) {
	fmt.Fprintf(w, "gold %s, terminology %s, %d documents\n\n", rep.Gold, rep.Terminology, len(rep.Docs))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "metric")
	for _, s := range rep.Splits {
		fmt.Fprintf(tw, "\t%s (%d docs)", s.Name, s.Counts.Docs)
	}
	fmt.Fprintln(tw)
	row := func(name string, f func(Split) string) {
		fmt.Fprint(tw, name)
		for _, s := range rep.Splits {
			fmt.Fprint(tw, "\t"+f(s))
		}
		fmt.Fprintln(tw)
	}
	p := func(m PRF) string {
		return fmt.Sprintf("P %.3f R %.3f F1 %.3f (tp %d fp %d gold %d)", m.P, m.R, m.F1, m.TP, m.FP, m.N)
	}
	frac := func(a, b int) string {
		if b == 0 {
			return fmt.Sprintf("%d/%d", a, b)
		}
		return fmt.Sprintf("%d/%d = %.3f", a, b, float64(a)/float64(b))
	}
	row("medication, strict", func(s Split) string { return p(s.Metrics.Medication) })
	row("medication, lenient", func(s Split) string { return p(s.Metrics.MedicationLenient) })
	row("medication, RxCUI only", func(s Split) string { return p(s.Metrics.MedicationRxCUI) })
	row("allergies as MedicationStatement", func(s Split) string { return frac(s.Counts.AllergyAsMed, s.Counts.AllergyGold) })
	row("allergies as AllergyIntolerance", func(s Split) string { return frac(s.Counts.AllergyFound, s.Counts.AllergyGold) })
	row("AllergyIntolerance not in gold", func(s Split) string { return fmt.Sprint(s.Counts.AllergyFP) })
	row("status errors (not-taken as active)", func(s Split) string { return fmt.Sprint(s.Counts.StatusErrors) })
	row("status agrees (matched)", func(s Split) string { return frac(s.Counts.StatusMatched, s.Counts.MedTP) })
	row("dose agrees", func(s Split) string { return frac(s.Counts.DoseMatched, s.Counts.DoseGold) })
	row("frequency agrees", func(s Split) string { return frac(s.Counts.FreqMatched, s.Counts.FreqGold) })
	row("route agrees", func(s Split) string { return frac(s.Counts.RouteMatched, s.Counts.RouteGold) })
	row("condition, exact code", func(s Split) string { return p(s.Metrics.ConditionExact) })
	row("condition, category", func(s Split) string { return p(s.Metrics.ConditionCategory) })
	row("condition, exact, no findings", func(s Split) string { return p(s.Metrics.ConditionExactNF) })
	row("condition, category, no findings", func(s Split) string { return p(s.Metrics.ConditionCatNF) })
	row("assertion errors: negated asserted", func(s Split) string { return fmt.Sprint(s.Counts.NegatedAsserted) })
	row("assertion errors: family asserted", func(s Split) string { return fmt.Sprint(s.Counts.FamilyAsserted) })
	row("assertion errors: possible confirmed", func(s Split) string { return fmt.Sprint(s.Counts.PossibleConfirmed) })
	row("assertion errors: hypothetical confirmed", func(s Split) string { return fmt.Sprint(s.Counts.HypotheticalAsserted) })
	row("negated items emitted refuted", func(s Split) string { return frac(s.Counts.NegatedRefuted, s.Counts.NegatedGold) })
	row("family items as FamilyMemberHistory", func(s Split) string { return frac(s.Counts.FamilyFound, s.Counts.FamilyGold) })
	row("historical marked resolved/history code", func(s Split) string {
		return frac(s.Counts.HistoricalMarked, s.Counts.HistoricalMatched)
	})
	row("codes not in terminology", func(s Split) string { return fmt.Sprint(s.Counts.CodesNotInTerm) })
	row("resources / validation errors", func(s Split) string {
		return fmt.Sprintf("%d / %d", s.Counts.Resources, s.Counts.ValidationErrors)
	})
	tw.Flush()
	if n := rep.Negation; n != nil {
		fmt.Fprintf(w, "\nnegation (NegEx test set, %s): negated is the positive class\n", filepath.Base(n.File))
		for _, c := range []struct {
			name string
			c    NegationCounts
		}{{"all sentences", n.All}, {"sentences <= 300 chars", n.Short}} {
			fmt.Fprintf(w, "  %-24s n %4d  accuracy %.4f  precision %.4f  recall %.4f  F1 %.4f  (tp %d tn %d fp %d fn %d)\n",
				c.name, c.c.Sentences, c.c.Accuracy, c.c.Precision, c.c.Recall, c.c.F1, c.c.TP, c.c.TN, c.c.FP, c.c.FN)
		}
		if n.Unlocated > 0 {
			fmt.Fprintf(w, "  %d rows whose condition was not found in the sentence (scored affirmed)\n", n.Unlocated)
		}
	}
	if !docs {
		return
	}
	fmt.Fprintln(w, "\nper document: misses (gold not found) and false positives")
	for _, d := range rep.Docs {
		m := ComputeMetrics(d.Counts)
		fmt.Fprintf(w, "\n%s  med F1 %.3f (tp %d fp %d gold %d)  cond category F1 %.3f (tp %d fp %d gold %d)\n", d.ID,
			m.Medication.F1, d.Counts.MedTP, d.Counts.MedFP, d.Counts.MedGold,
			m.ConditionCategory.F1, d.Counts.CondCatTP, d.Counts.CondCatFP, d.Counts.CondGold)
		for _, s := range d.Misses {
			fmt.Fprintln(w, "  miss  "+s)
		}
		for _, s := range d.FalsePositives {
			fmt.Fprintln(w, "  fp    "+s)
		}
		for _, s := range d.Attributes {
			fmt.Fprintln(w, "  attr  "+s)
		}
		if len(d.UnknownCodes) > 0 {
			fmt.Fprintln(w, "  codes not in terminology: "+strings.Join(d.UnknownCodes, ", "))
		}
	}
}
