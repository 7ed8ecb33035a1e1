package terminology

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"
)

const cliUsage = `usage: medscribe terminology <command> [flags]

commands:
  import   load official files into a database
           --db FILE [--icd10cm FILE] [--icd10cm-order FILE] [--rxnorm DIR|FILE] [--tsv SYSTEM=FILE]...
  search   print the best codes for a phrase: code, display, score, reason
           [--db FILE] [--system icd10cm|rxnorm] [--limit N] PHRASE...
  stats    print concept counts per system and the sources loaded
           [--db FILE]

--db defaults to $MEDSCRIBE_DB; without a database, search and stats use the
embedded starter terminology. Every flag can also be set through MEDSCRIBE_<FLAG>
(MEDSCRIBE_ICD10CM_ORDER for --icd10cm-order). Files may be gzipped.
`

// Main runs "medscribe terminology import|search|stats" with args (the words
// after "terminology"). It writes results to stdout and progress and usage
// to stderr, and returns nil after --help.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, cliUsage)
		return errors.New("terminology: missing command")
	}
	switch args[0] {
	case "import":
		return cliImport(ctx, args[1:], stdout, stderr)
	case "search":
		return cliSearch(ctx, args[1:], stdout, stderr)
	case "stats":
		return cliStats(ctx, args[1:], stdout, stderr)
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stderr, cliUsage)
		return nil
	}
	fmt.Fprint(stderr, cliUsage)
	return fmt.Errorf("terminology: unknown command %q", args[0])
}

// tsvFlags collects repeated --tsv SYSTEM=FILE values.
type tsvFlags []string

func (f *tsvFlags) String() string { return strings.Join(*f, ",") }
func (f *tsvFlags) Set(v string) error {
	sys, file, ok := strings.Cut(v, "=")
	if !ok || file == "" {
		return fmt.Errorf("want SYSTEM=FILE, got %q", v)
	}
	if _, err := SystemName(sys); err != nil {
		return err
	}
	*f = append(*f, v)
	return nil
}

// newFlagSet makes a flag set whose usage goes to stderr.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("medscribe terminology "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args after taking defaults from MEDSCRIBE_* variables.
func parseFlags(fs *flag.FlagSet, args []string) error {
	var envErr error
	fs.VisitAll(func(f *flag.Flag) {
		key := "MEDSCRIBE_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		if v, ok := os.LookupEnv(key); ok && v != "" && envErr == nil {
			if err := f.Value.Set(v); err != nil {
				envErr = fmt.Errorf("%s: %w", key, err)
			}
		}
	})
	if envErr != nil {
		return envErr
	}
	return fs.Parse(args)
}

func cliImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("import", stderr)
	dbPath := fs.String("db", "", "database file to create or update (required)")
	icd := fs.String("icd10cm", "", "ICD-10-CM codes file (icd10cm-codes-YYYY.txt[.gz])")
	order := fs.String("icd10cm-order", "", "ICD-10-CM order file (icd10cm-order-YYYY.txt[.gz], or its TSV derivation)")
	rx := fs.String("rxnorm", "", "RxNorm RRF directory or RXNCONSO.RRF, or a directory of the derived RxNorm tables")
	var tsvs tsvFlags
	fs.Var(&tsvs, "tsv", "custom list SYSTEM=FILE (rxnorm: rxcui<TAB>tty<TAB>name; icd10cm: code<TAB>display); repeatable")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	if *dbPath == "" {
		return errors.New("terminology import: --db is required")
	}
	if *icd == "" && *order == "" && *rx == "" && len(tsvs) == 0 {
		return errors.New("terminology import: nothing to import (--icd10cm, --icd10cm-order, --rxnorm or --tsv)")
	}
	t, err := Open(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer t.Close()
	bar := newProgressBar(stderr)
	run := func(label string, f func(*ImportOptions) (ImportResult, error)) error {
		opts := &ImportOptions{Progress: bar.report(label)}
		res, err := f(opts)
		bar.done()
		if err != nil {
			return err
		}
		fmt.Fprintln(stdout, res)
		return nil
	}
	if *icd != "" {
		if err := run("ICD-10-CM codes", func(o *ImportOptions) (ImportResult, error) { return t.ImportICD10CMCodes(ctx, *icd, o) }); err != nil {
			return err
		}
	}
	if *order != "" {
		if err := run("ICD-10-CM order", func(o *ImportOptions) (ImportResult, error) { return t.ImportICD10CMOrder(ctx, *order, o) }); err != nil {
			return err
		}
	}
	if *rx != "" {
		if err := run("RxNorm", func(o *ImportOptions) (ImportResult, error) { return t.ImportRxNorm(ctx, *rx, o) }); err != nil {
			return err
		}
	}
	for _, v := range tsvs {
		sys, file, _ := strings.Cut(v, "=")
		if err := run("list "+file, func(o *ImportOptions) (ImportResult, error) { return t.ImportTSV(ctx, sys, file, o) }); err != nil {
			return err
		}
	}
	return nil
}

// openForReading opens the database named by --db, or the starter set when
// none is named. A named file must exist: reading commands never create one.
func openForReading(ctx context.Context, path string) (*DB, error) {
	if path == "" {
		return OpenStarter(ctx)
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("terminology database: %w", err)
	}
	return Open(ctx, path)
}

func cliSearch(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("search", stderr)
	dbPath := fs.String("db", "", "database file (default: the embedded starter set)")
	system := fs.String("system", "", "icd10cm or rxnorm (default: both)")
	limit := fs.Int("limit", 10, "candidates to print")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	phrase := strings.Join(fs.Args(), " ")
	if strings.TrimSpace(phrase) == "" {
		return errors.New("terminology search: missing PHRASE")
	}
	systems := []string{ICD10CM, RxNorm}
	if *system != "" {
		name, err := SystemName(*system)
		if err != nil {
			return fmt.Errorf("terminology search: %w", err)
		}
		systems = []string{name}
	}
	t, err := openForReading(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer t.Close()
	var all []Candidate
	for _, s := range systems {
		cs, err := t.Search(ctx, s, phrase, &SearchOptions{Limit: *limit})
		if err != nil {
			return err
		}
		all = append(all, cs...)
	}
	sort.SliceStable(all, func(i, j int) bool { return all[i].Score > all[j].Score })
	if len(all) > *limit {
		all = all[:*limit]
	}
	for _, c := range all {
		fmt.Fprintf(stdout, "%s\t%s\t%s\t%.3f\t%s\n", c.System, c.Code, c.Display, c.Score, c.Reason)
	}
	return nil
}

func cliStats(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("stats", stderr)
	dbPath := fs.String("db", "", "database file (default: the embedded starter set)")
	if err := parseFlags(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil
		}
		return err
	}
	t, err := openForReading(ctx, *dbPath)
	if err != nil {
		return err
	}
	defer t.Close()
	stats, err := t.Stats(ctx)
	if err != nil {
		return err
	}
	for _, s := range stats {
		kinds := make([]string, 0, len(s.ByKind))
		for k, n := range s.ByKind {
			kinds = append(kinds, fmt.Sprintf("%s %d", k, n))
		}
		sort.Strings(kinds)
		fmt.Fprintf(stdout, "%s\t%d concepts\t%d billable\t%s\n", s.System, s.Concepts, s.Billable, strings.Join(kinds, ", "))
		for _, src := range s.Sources {
			fmt.Fprintf(stdout, "  %s\tversion %s\t%s\t%d concepts\t%s\n", src.Name, src.Version, src.File, src.Concepts, src.ImportedAt)
		}
	}
	return nil
}

// progressBar draws one line of progress on a terminal and nothing
// elsewhere, so logs and pipes stay clean.
type progressBar struct {
	w     io.Writer
	on    bool
	start time.Time
	drawn bool
}

func newProgressBar(w io.Writer) *progressBar {
	f, ok := w.(*os.File)
	on := false
	if ok {
		if st, err := f.Stat(); err == nil && st.Mode()&os.ModeCharDevice != 0 {
			on = true
		}
	}
	return &progressBar{w: w, on: on}
}

func (p *progressBar) report(label string) func(done, total int64) {
	if !p.on {
		return nil
	}
	p.start = time.Now()
	return func(done, total int64) {
		const width = 30
		frac := 0.0
		if total > 0 {
			frac = float64(done) / float64(total)
		}
		frac = min(max(frac, 0), 1)
		n := int(frac * width)
		fmt.Fprintf(p.w, "\r%-16s [%s%s] %3.0f%% %6.1f/%.1f MB %5.1fs", label,
			strings.Repeat("#", n), strings.Repeat(" ", width-n), frac*100,
			float64(done)/1e6, float64(total)/1e6, time.Since(p.start).Seconds())
		p.drawn = true
	}
}

func (p *progressBar) done() {
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}
