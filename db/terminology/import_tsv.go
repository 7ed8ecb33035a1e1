package terminology

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// ImportTSV loads a custom tab-separated list into system: for RxNorm
// "rxcui<TAB>tty<TAB>name" rows, for ICD-10-CM "code<TAB>display" rows
// (billable codes; accepted with or without the dot). An optional header row
// starting with "rxcui" or "code" and '#' comment lines are skipped.
// Relations between the rows (a brand's ingredient, say) are derived from
// RxNorm's naming rules as for the derived tables. Each file is its own
// source, named after the file: importing it again replaces its rows.
func (t *DB) ImportTSV(ctx context.Context, system, path string, opts *ImportOptions) (ImportResult, error) {
	name, err := SystemName(system)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import %s: %w", path, err)
	}
	source := "tsv:" + filepath.Base(path)
	res, err := t.load(ctx, name, source, opts.version(path), filepath.Base(path), keepOthers, func(l *loader) error {
		lr, err := openLines(path, false, opts.progress())
		if err != nil {
			return err
		}
		defer lr.Close()
		want := 2
		if name == RxNorm {
			want = 3
		}
		firstLine := map[string]int{}
		concepts := map[string]*rxRecord{}
		for {
			line, ok, err := lr.Next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
				continue
			}
			f := strings.Split(line, "\t")
			if len(firstLine) == 0 && (f[0] == "rxcui" || f[0] == "code") {
				continue
			}
			if len(f) != want {
				return lr.errorf("want %d tab-separated columns, got %d", want, len(f))
			}
			for i := range f {
				f[i] = strings.TrimSpace(f[i])
			}
			code := CanonicalCode(name, f[0])
			switch name {
			case ICD10CM:
				if !validICDCode(strings.ReplaceAll(code, ".", "")) || (len(code) > 3 && code[3] != '.') {
					return lr.errorf("invalid ICD-10-CM code %q", f[0])
				}
			case RxNorm:
				if !isDigits(code) {
					return lr.errorf("rxcui %q is not a number", f[0])
				}
				if ttyRank(f[1]) < 0 {
					return lr.errorf("unsupported TTY %q (want one of %s)", f[1], strings.Join(conceptTTYs, " "))
				}
			}
			if f[len(f)-1] == "" {
				return lr.errorf("code %s has no name", f[0])
			}
			if prev, dup := firstLine[code]; dup {
				return lr.errorf("duplicate code %s (first on line %d)", code, prev)
			}
			firstLine[code] = lr.line
			if name == RxNorm {
				concepts[code] = &rxRecord{tty: f[1], name: f[2]}
				continue
			}
			id, err := l.concept(code, f[1], KindCode, true)
			if err != nil {
				return err
			}
			if err := l.designation(id, DesignationPreferred, f[1]); err != nil {
				return err
			}
		}
		if len(firstLine) == 0 {
			return &ParseError{File: lr.name, Line: lr.line, Reason: "no rows in file"}
		}
		if name == RxNorm {
			g := newRxGraph()
			deriveFromNames(concepts, g, nil)
			g.closeIngredients(concepts)
			return writeRx(l, concepts, g, false)
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("import %s list %s: %w", name, path, err)
	}
	return res, nil
}

// ImportRxNorm loads RxNorm from path: an RRF release (a directory holding
// RXNCONSO.RRF, its rrf/ subdirectory, or RXNCONSO.RRF itself) or a
// directory of the derived tables medscribe's shared data carries.
func (t *DB) ImportRxNorm(ctx context.Context, path string, opts *ImportOptions) (ImportResult, error) {
	st, err := os.Stat(path)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import RxNorm: %w", err)
	}
	if !st.IsDir() {
		return t.ImportRxNormRRF(ctx, path, opts)
	}
	switch {
	case findFile(path, "RXNCONSO.RRF") != "":
		return t.ImportRxNormRRF(ctx, path, opts)
	case findFile(filepath.Join(path, "rrf"), "RXNCONSO.RRF") != "":
		return t.ImportRxNormRRF(ctx, filepath.Join(path, "rrf"), opts)
	case IsDerivedRxNormDir(path):
		return t.ImportRxNormDerived(ctx, path, opts)
	}
	return ImportResult{}, fmt.Errorf("import RxNorm %s: neither RXNCONSO.RRF nor the derived RxNorm tables there", path)
}
