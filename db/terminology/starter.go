package terminology

import (
	"bufio"
	"context"
	"crypto/sha256"
	"database/sql"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// The starter terminology compiled into the binary: the conditions and
// drugs common in dictation, every code and display checked against the
// official files by TestStarterAgainstOfficialFiles, with the
// abbreviations, lay terms, brand names and mis-hearings clinicians'
// speech produces added by hand.
//
//go:embed starter/*.tsv
var starterFS embed.FS

const (
	starterConditions = "starter/conditions.tsv"
	starterDrugs      = "starter/drugs.tsv"
)

// StarterCondition is one row of the embedded ICD-10-CM starter list.
type StarterCondition struct {
	Code, Display string
	Names         []StarterName
}

// StarterDrug is one row of the embedded RxNorm starter list.
type StarterDrug struct {
	RXCUI, TTY, Name string
	Ingredients      []string // ingredient RXCUIs of a BN, MIN or SCD
	Names            []StarterName
}

// StarterName is a hand-added designation of a starter row.
type StarterName struct {
	Kind string // Designation* constant
	Text string
}

var starterNameKinds = map[string]string{
	"syn":   DesignationSynonym,
	"abbr":  DesignationAbbreviation,
	"brand": DesignationBrand,
	"missp": DesignationMisspelling,
}

func parseStarterNames(field string) ([]StarterName, error) {
	var out []StarterName
	if strings.TrimSpace(field) == "" {
		return nil, nil
	}
	for _, item := range strings.Split(field, "|") {
		kind, text, ok := strings.Cut(item, ":")
		k, known := starterNameKinds[kind]
		if !ok || !known || strings.TrimSpace(text) == "" {
			return nil, fmt.Errorf("name %q: want kind:text with kind syn, abbr, brand or missp", item)
		}
		out = append(out, StarterName{Kind: k, Text: strings.TrimSpace(text)})
	}
	return out, nil
}

// readStarter calls row with the fields of each data row of an embedded
// starter file, checking the column count.
func readStarter(name string, columns int, row func(line int, f []string) error) error {
	f, err := starterFS.Open(name)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	line := 0
	for sc.Scan() {
		line++
		text := sc.Text()
		if line == 1 || text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		fields := strings.Split(text, "\t")
		if len(fields) != columns {
			return &ParseError{File: name, Line: line, Reason: fmt.Sprintf("want %d columns, got %d", columns, len(fields))}
		}
		if err := row(line, fields); err != nil {
			return &ParseError{File: name, Line: line, Reason: err.Error()}
		}
	}
	return sc.Err()
}

// StarterConditions returns the embedded ICD-10-CM starter list.
func StarterConditions() ([]StarterCondition, error) {
	var out []StarterCondition
	err := readStarter(starterConditions, 3, func(_ int, f []string) error {
		names, err := parseStarterNames(f[2])
		if err != nil {
			return err
		}
		out = append(out, StarterCondition{Code: f[0], Display: f[1], Names: names})
		return nil
	})
	return out, err
}

// StarterDrugs returns the embedded RxNorm starter list.
func StarterDrugs() ([]StarterDrug, error) {
	var out []StarterDrug
	err := readStarter(starterDrugs, 5, func(_ int, f []string) error {
		names, err := parseStarterNames(f[4])
		if err != nil {
			return err
		}
		d := StarterDrug{RXCUI: f[0], TTY: f[1], Name: f[2], Names: names}
		if f[3] != "" {
			d.Ingredients = strings.Fields(f[3])
		}
		out = append(out, d)
		return nil
	})
	return out, err
}

// starterVersion is a digest of the embedded files: a database reloads the
// starter rows when the binary carries different ones.
func starterVersion() (string, error) {
	h := sha256.New()
	err := fs.WalkDir(starterFS, "starter", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := starterFS.ReadFile(path)
		if err != nil {
			return err
		}
		h.Write([]byte(path))
		h.Write(b)
		return nil
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// ensureStarter loads the starter rows unless this version is there. The
// starter never overrides an official import's display; it adds its names.
func (t *DB) ensureStarter(ctx context.Context) error {
	version, err := starterVersion()
	if err != nil {
		return fmt.Errorf("starter terminology: %w", err)
	}
	for _, system := range []string{ICD10CM, RxNorm} {
		var have string
		err := t.sql.QueryRowContext(ctx, `SELECT version FROM term_source WHERE system = ? AND name = ?`, system, SourceStarter).Scan(&have)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("starter terminology: %w", err)
		}
		if have == version {
			continue
		}
		fill := loadStarterConditions
		if system == RxNorm {
			fill = loadStarterDrugs
		}
		if _, err := t.load(ctx, system, SourceStarter, version, "embedded", keepOthers, fill); err != nil {
			return fmt.Errorf("load starter terminology: %w", err)
		}
	}
	return nil
}

func loadStarterConditions(l *loader) error {
	rows, err := StarterConditions()
	if err != nil {
		return err
	}
	for _, r := range rows {
		id, err := l.addConcept(r.Code, r.Display, KindCode, true)
		if err != nil {
			return err
		}
		if err := l.designation(id, DesignationPreferred, r.Display); err != nil {
			return err
		}
		for _, n := range r.Names {
			if err := l.designation(id, n.Kind, n.Text); err != nil {
				return err
			}
		}
	}
	return nil
}

func loadStarterDrugs(l *loader) error {
	rows, err := StarterDrugs()
	if err != nil {
		return err
	}
	for _, r := range rows {
		id, err := l.addConcept(r.RXCUI, r.Name, r.TTY, true)
		if err != nil {
			return err
		}
		if err := l.designation(id, DesignationPreferred, r.Name); err != nil {
			return err
		}
		for _, n := range r.Names {
			if err := l.designation(id, n.Kind, n.Text); err != nil {
				return err
			}
		}
		for _, in := range r.Ingredients {
			if err := l.relation(r.RXCUI, RelHasIngredient, in); err != nil {
				return err
			}
			if r.TTY == "BN" {
				if err := l.relation(r.RXCUI, RelTradenameOf, in); err != nil {
					return err
				}
			}
		}
	}
	return nil
}
