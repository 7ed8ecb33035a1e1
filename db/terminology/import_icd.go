package terminology

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
)

// Source names recorded for each importer.
const (
	SourceICD10CMCodes = "icd10cm-codes"
	SourceICD10CMOrder = "icd10cm-order"
	SourceRxNormRRF    = "rxnorm-rrf"
	SourceRxNormShared = "rxnorm-derived"
	SourceStarter      = "starter"
)

// validICDCode reports whether s looks like an ICD-10-CM code without the
// dot: a letter, then 2 to 6 letters or digits (the second is a digit but
// for the FY2026 QA0 codes).
func validICDCode(s string) bool {
	if len(s) < 3 || len(s) > 7 {
		return false
	}
	if s[0] < 'A' || s[0] > 'Z' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'A' && c <= 'Z') {
			return false
		}
	}
	return true
}

// ImportICD10CMCodes loads the CMS/NCHS ICD-10-CM codes file
// (icd10cm-codes-YYYY.txt, optionally gzipped): one billable code per line,
// the code without its dot left-justified in 8 characters, then the long
// title. The file is the complete list of billable codes of its release, so
// billable codes it does not list are removed.
func (t *DB) ImportICD10CMCodes(ctx context.Context, path string, opts *ImportOptions) (ImportResult, error) {
	res, err := t.load(ctx, ICD10CM, SourceICD10CMCodes, opts.version(path), filepath.Base(path), replaceBillable, func(l *loader) error {
		lr, err := openLines(path, true, opts.progress())
		if err != nil {
			return err
		}
		defer lr.Close()
		firstLine := map[string]int{}
		for {
			line, ok, err := lr.Next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if len(line) < 9 || line[7] != ' ' {
				return lr.errorf("want a code padded to 8 characters and a title, got %q", clip(line))
			}
			code := strings.TrimSpace(line[:8])
			title := strings.TrimSpace(line[8:])
			if !validICDCode(code) {
				return lr.errorf("invalid ICD-10-CM code %q", code)
			}
			if title == "" {
				return lr.errorf("code %s has no title", code)
			}
			if prev, dup := firstLine[code]; dup {
				return lr.errorf("duplicate code %s (first on line %d)", code, prev)
			}
			firstLine[code] = lr.line
			canon := CanonicalCode(ICD10CM, code)
			id, err := l.concept(canon, title, KindCode, true)
			if err != nil {
				return err
			}
			if err := l.designation(id, DesignationPreferred, title); err != nil {
				return err
			}
		}
		if len(firstLine) == 0 {
			return &ParseError{File: lr.name, Line: lr.line, Reason: "no codes in file"}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("import ICD-10-CM codes %s: %w", path, err)
	}
	return res, nil
}

// ImportICD10CMOrder loads an ICD-10-CM order file, which adds the
// non-billable header codes (E11, I50) and the short titles. Two layouts
// are read: the official fixed-width icd10cm-order-YYYY.txt (order number,
// code, header flag, 60-character short title, long title) and the
// tab-separated derivation with a "code billable short_desc long_desc..."
// header row. When a codes file has been imported, it stays the authority
// on billable codes: the order file then only adds short titles to codes
// that exist and does not bring back codes the codes file dropped.
func (t *DB) ImportICD10CMOrder(ctx context.Context, path string, opts *ImportOptions) (ImportResult, error) {
	var haveCodes bool
	err := t.sql.QueryRowContext(ctx, `SELECT count(*) > 0 FROM term_source WHERE system = ? AND name = ?`, ICD10CM, SourceICD10CMCodes).Scan(&haveCodes)
	if err != nil {
		return ImportResult{}, fmt.Errorf("import ICD-10-CM order file %s: %w", path, err)
	}
	res, err := t.load(ctx, ICD10CM, SourceICD10CMOrder, opts.version(path), filepath.Base(path), keepOthers, func(l *loader) error {
		lr, err := openLines(path, true, opts.progress())
		if err != nil {
			return err
		}
		defer lr.Close()
		firstLine := map[string]int{}
		tsv := false
		rows := 0
		for {
			line, ok, err := lr.Next()
			if err != nil {
				return err
			}
			if !ok {
				break
			}
			if strings.TrimSpace(line) == "" {
				continue
			}
			if lr.line == 1 && strings.HasPrefix(line, "code\t") {
				tsv = true
				continue
			}
			var code, flag, short, long string
			if tsv {
				f := strings.Split(line, "\t")
				if len(f) != 4 {
					return lr.errorf("want 4 tab-separated columns, got %d", len(f))
				}
				code, flag, short, long = strings.TrimSpace(f[0]), f[1], strings.TrimSpace(f[2]), strings.TrimSpace(f[3])
			} else {
				// 5-digit order number, blank, code in 7, blank, flag,
				// blank, short title in 60, blank, long title.
				if len(line) < 17 || line[5] != ' ' || line[13] != ' ' || line[15] != ' ' {
					return lr.errorf("not an ICD-10-CM order file line: %q", clip(line))
				}
				for _, c := range line[:5] {
					if c < '0' || c > '9' {
						return lr.errorf("order number %q is not a number", line[:5])
					}
				}
				code, flag = strings.TrimSpace(line[6:13]), line[14:15]
				rest := line[16:]
				if len(rest) > 61 {
					short, long = strings.TrimSpace(rest[:60]), strings.TrimSpace(rest[61:])
				} else {
					short = strings.TrimSpace(rest)
				}
			}
			if !validICDCode(code) {
				return lr.errorf("invalid ICD-10-CM code %q", code)
			}
			if flag != "0" && flag != "1" {
				return lr.errorf("billable flag must be 0 or 1, got %q", flag)
			}
			if long == "" {
				long = short
			}
			if long == "" {
				return lr.errorf("code %s has no title", code)
			}
			if prev, dup := firstLine[code]; dup {
				return lr.errorf("duplicate code %s (first on line %d)", code, prev)
			}
			firstLine[code] = lr.line
			rows++
			canon := CanonicalCode(ICD10CM, code)
			var id int64
			if flag == "1" && haveCodes {
				var found bool
				id, found, err = l.conceptID(canon)
				if err != nil {
					return err
				}
				if !found {
					continue
				}
			} else if flag == "1" {
				if id, err = l.addConcept(canon, long, KindCode, true); err != nil {
					return err
				}
				if err := l.designation(id, DesignationPreferred, long); err != nil {
					return err
				}
			} else {
				if id, err = l.concept(canon, long, KindHeader, false); err != nil {
					return err
				}
				if err := l.designation(id, DesignationPreferred, long); err != nil {
					return err
				}
			}
			if short != "" && short != long {
				if err := l.designation(id, DesignationShort, short); err != nil {
					return err
				}
			}
		}
		if rows == 0 {
			return &ParseError{File: lr.name, Line: lr.line, Reason: "no codes in file"}
		}
		return nil
	})
	if err != nil {
		return res, fmt.Errorf("import ICD-10-CM order file %s: %w", path, err)
	}
	return res, nil
}

// clip shortens a line for an error message (it may hold anything).
func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// billableUnder returns the billable codes under an ICD-10-CM header code
// (E11 -> E11.0 ... E11.9), shortest first.
func (t *DB) billableUnder(ctx context.Context, header string) ([]Concept, error) {
	prefix := header
	if len(prefix) == 3 {
		prefix += "."
	}
	rows, err := t.sql.QueryContext(ctx, `SELECT system, code, display, kind, billable FROM term_concept
		WHERE system = ? AND billable = 1 AND code >= ? AND code < ? ORDER BY length(code), code`,
		ICD10CM, prefix, prefix+"\xff")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Concept
	for rows.Next() {
		c, err := scanConcept(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	if err := rows.Err(); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, err
	}
	return out, nil
}
