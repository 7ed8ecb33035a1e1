// Package terminology is medscribe's code-system database: ICD-10-CM and
// RxNorm in SQLite, importers for the official distribution files, an
// embedded starter set that works offline, and resolution of spoken or
// model-proposed names to codes that exist.
//
// medscribe never emits a code that is not in this database: validation asks
// Lookup or Display whether a code exists, repair asks Search or
// ResolveCondition / ResolveDrug for the code a name stands for.
//
// A *DB is safe for concurrent use. Imports run in one transaction each, so
// readers keep seeing the previous data until an import commits.
package terminology

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"sync/atomic"

	"github.com/medscribe/medscribe/db"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Short names of the supported code systems, used in this package's API and
// on the command line.
const (
	ICD10CM = "icd10cm"
	RxNorm  = "rxnorm"
)

// Canonical system URLs, as FHIR codings carry them.
const (
	ICD10CMURL = "http://hl7.org/fhir/sid/icd-10-cm"
	RxNormURL  = "http://www.nlm.nih.gov/research/umls/rxnorm"
)

// Designation kinds: how a name relates to its concept.
const (
	DesignationPreferred    = "preferred"    // the official display
	DesignationShort        = "short"        // ICD-10-CM short title
	DesignationSynonym      = "synonym"      // another name: RxNorm SY/TMSY, a lay term
	DesignationAbbreviation = "abbreviation" // what clinicians say: HTN, CHF, T2DM
	DesignationBrand        = "brand"        // a brand name given to an ingredient
	DesignationMisspelling  = "misspelling"  // a common misspelling or mis-hearing
)

// Relation names, read as "src rel dst" between codes of one system.
const (
	// RelHasIngredient links a drug concept (SCD, SBD, SCDC, BN, MIN, PIN,
	// pack) to each ingredient (IN) it contains.
	RelHasIngredient = "has_ingredient"
	// RelTradenameOf links a brand name (BN) to its ingredient (IN) and a
	// branded drug (SBD) to its clinical drug (SCD), as RxNorm does.
	RelTradenameOf = "tradename_of"
	// RelHasBrandName links a branded drug (SBD) to its brand name (BN).
	RelHasBrandName = "has_brand_name"
	// RelConsistsOf links a clinical drug (SCD) to its components (SCDC).
	RelConsistsOf = "consists_of"
	// RelFormOf links a precise ingredient (PIN, a salt) to its base (IN).
	RelFormOf = "form_of"
	// RelContains links a pack (GPCK, BPCK) to the drugs it contains.
	RelContains = "contains"
)

// ICD-10-CM concept kinds.
const (
	KindCode   = "code"   // a code from the codes file (billable)
	KindHeader = "header" // a category or subcategory (not billable)
)

// ErrNotFound is returned (wrapped) when a code is not in the terminology.
var ErrNotFound = errors.New("not found")

// ErrUnknownSystem is returned (wrapped) for a system that is neither a
// supported short name nor a canonical URL.
var ErrUnknownSystem = errors.New("unknown code system")

// Concept is one code of one system.
type Concept struct {
	System   string // short name: icd10cm or rxnorm
	Code     string // canonical: E11.9, 29046
	Display  string
	Kind     string // ICD-10-CM: code or header; RxNorm: TTY
	Billable bool   // ICD-10-CM: may be used on a claim; RxNorm: always true
}

// URL returns the concept's canonical system URL.
func (c Concept) URL() string { return SystemURL(c.System) }

// DB is an open terminology database.
type DB struct {
	sql  *sql.DB
	path string // "" for the in-memory starter database
	// gen changes whenever an import commits, so caches keyed on it notice.
	gen atomic.Int64

	vocabs vocabCache
}

// SystemName returns the short name for a short name or canonical URL.
func SystemName(system string) (string, error) {
	switch strings.TrimSpace(strings.ToLower(system)) {
	case ICD10CM, "icd-10-cm", "icd10", ICD10CMURL:
		return ICD10CM, nil
	case RxNorm, RxNormURL:
		return RxNorm, nil
	}
	return "", fmt.Errorf("%w %q (want %s or %s)", ErrUnknownSystem, system, ICD10CM, RxNorm)
}

// SystemURL returns the canonical URL of a short system name ("" if unknown).
func SystemURL(name string) string {
	switch name {
	case ICD10CM:
		return ICD10CMURL
	case RxNorm:
		return RxNormURL
	}
	return ""
}

// Open opens (creating if needed) the terminology database in the SQLite
// file at path, applies the terminology migrations and makes sure the
// embedded starter set is loaded, so a fresh file already codes common
// dictation. Official imports add to and override the starter rows.
func Open(ctx context.Context, path string) (*DB, error) {
	sqldb, err := db.Open(ctx, path)
	if err != nil {
		return nil, fmt.Errorf("open terminology: %w", err)
	}
	t, err := setup(ctx, sqldb, path)
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open terminology %s: %w", path, err)
	}
	return t, nil
}

var memCounter atomic.Int64

// OpenStarter builds an in-memory database holding only the embedded starter
// terminology. It takes a few tens of milliseconds and needs no files, so
// tests and one-shot commands can call it on every start.
func OpenStarter(ctx context.Context) (*DB, error) {
	// memdb keeps one database per name shared by all connections of the
	// process, so the pool can use several connections, unlike :memory:.
	name := fmt.Sprintf("file:/medscribe-terminology-%d?vfs=memdb&_foreign_keys=on&_busy_timeout=5000&_txlock=immediate", memCounter.Add(1))
	sqldb, err := sql.Open("sqlite3", name)
	if err != nil {
		return nil, fmt.Errorf("open starter terminology: %w", err)
	}
	// The memdb database lives while one connection is open: keep one idle.
	sqldb.SetMaxIdleConns(2)
	sqldb.SetConnMaxLifetime(0)
	sqldb.SetConnMaxIdleTime(0)
	t, err := setup(ctx, sqldb, "")
	if err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open starter terminology: %w", err)
	}
	return t, nil
}

func setup(ctx context.Context, sqldb *sql.DB, path string) (*DB, error) {
	sub, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx, sqldb, "terminology", sub); err != nil {
		return nil, err
	}
	t := &DB{sql: sqldb, path: path}
	if err := t.ensureStarter(ctx); err != nil {
		return nil, err
	}
	return t, nil
}

// Close closes the database.
func (t *DB) Close() error { return t.sql.Close() }

// SQL returns the underlying handle, for callers that keep other tables in
// the same file.
func (t *DB) SQL() *sql.DB { return t.sql }

// KnowsSystem reports whether the database holds codes of system (a
// canonical URL or a short name), so that a validator may treat a code of
// that system that Display cannot find as wrong.
func (t *DB) KnowsSystem(system string) bool {
	name, err := SystemName(system)
	if err != nil {
		return false
	}
	var one int
	err = t.sql.QueryRow(`SELECT 1 FROM term_concept WHERE system = ? LIMIT 1`, name).Scan(&one)
	return err == nil
}

// Display returns the display of code in system (a canonical URL or a short
// name). ok is false when the code does not exist; err only reports a
// failure to ask.
func (t *DB) Display(system, code string) (display string, ok bool, err error) {
	c, err := t.Lookup(context.Background(), system, code)
	if errors.Is(err, ErrNotFound) {
		return "", false, nil
	}
	if err != nil {
		return "", false, err
	}
	return c.Display, true, nil
}

// Lookup returns the concept with code in system. ICD-10-CM codes are
// accepted with or without the dot (E11.9, E119). It returns an error
// wrapping ErrNotFound when the code does not exist.
func (t *DB) Lookup(ctx context.Context, system, code string) (Concept, error) {
	name, err := SystemName(system)
	if err != nil {
		return Concept{}, fmt.Errorf("lookup %s: %w", code, err)
	}
	canon := CanonicalCode(name, code)
	c, err := scanConcept(t.sql.QueryRowContext(ctx, `SELECT system, code, display, kind, billable FROM term_concept WHERE system = ? AND code = ?`, name, canon))
	if errors.Is(err, sql.ErrNoRows) {
		return Concept{}, fmt.Errorf("lookup %s %s: %w", name, code, ErrNotFound)
	}
	if err != nil {
		return Concept{}, fmt.Errorf("lookup %s %s: %w", name, code, err)
	}
	return c, nil
}

type rowScanner interface{ Scan(dest ...any) error }

func scanConcept(r rowScanner) (Concept, error) {
	var c Concept
	var billable int
	if err := r.Scan(&c.System, &c.Code, &c.Display, &c.Kind, &billable); err != nil {
		return Concept{}, err
	}
	c.Billable = billable != 0
	return c, nil
}

// CanonicalCode returns code in the canonical form of system: ICD-10-CM
// upper case with the dot after the third character (E119 -> E11.9),
// RxNorm trimmed. Codes that cannot be valid are returned trimmed, so a
// lookup simply finds nothing.
func CanonicalCode(system, code string) string {
	code = strings.TrimSpace(code)
	if system != ICD10CM {
		return code
	}
	code = strings.ToUpper(code)
	if len(code) > 3 && !strings.Contains(code, ".") {
		return code[:3] + "." + code[3:]
	}
	return code
}

// Stats is what the database holds for one system.
type Stats struct {
	System   string
	Concepts int
	Billable int
	ByKind   map[string]int
	Sources  []Source
}

// Source is one import recorded in the database.
type Source struct {
	Name       string
	Version    string
	File       string
	Concepts   int
	ImportedAt string
}

// Stats returns concept counts per system and the sources loaded.
func (t *DB) Stats(ctx context.Context) ([]Stats, error) {
	rows, err := t.sql.QueryContext(ctx, `SELECT s.system, c.kind, count(c.id), coalesce(sum(c.billable), 0)
		FROM term_system s LEFT JOIN term_concept c ON c.system = s.system
		GROUP BY s.system, c.kind ORDER BY s.system, c.kind`)
	if err != nil {
		return nil, fmt.Errorf("terminology stats: %w", err)
	}
	defer rows.Close()
	var out []Stats
	for rows.Next() {
		var system string
		var kind sql.NullString
		var n, billable int
		if err := rows.Scan(&system, &kind, &n, &billable); err != nil {
			return nil, fmt.Errorf("terminology stats: %w", err)
		}
		if len(out) == 0 || out[len(out)-1].System != system {
			out = append(out, Stats{System: system, ByKind: map[string]int{}})
		}
		s := &out[len(out)-1]
		if kind.Valid {
			s.ByKind[kind.String] = n
			s.Concepts += n
			s.Billable += billable
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("terminology stats: %w", err)
	}
	for i := range out {
		srows, err := t.sql.QueryContext(ctx, `SELECT name, version, file, concepts, imported_at FROM term_source WHERE system = ? ORDER BY id`, out[i].System)
		if err != nil {
			return nil, fmt.Errorf("terminology stats: %w", err)
		}
		for srows.Next() {
			var s Source
			if err := srows.Scan(&s.Name, &s.Version, &s.File, &s.Concepts, &s.ImportedAt); err != nil {
				srows.Close()
				return nil, fmt.Errorf("terminology stats: %w", err)
			}
			out[i].Sources = append(out[i].Sources, s)
		}
		srows.Close()
	}
	return out, nil
}

// DesignationRecord is one name of one concept, as ForEachDesignation
// yields it.
type DesignationRecord struct {
	Concept Concept
	Kind    string // Designation* constant
	Text    string // as written in the source
	Norm    string // Normalize(Text)
	Phon    string // PhoneticKey(Norm); empty for names longer than a few words
}

// ForEachDesignation calls fn for every designation of every concept, in
// concept order, so another package can build its own in-memory matcher
// over the full terminology. fn's error stops the walk and is returned.
func (t *DB) ForEachDesignation(ctx context.Context, fn func(DesignationRecord) error) error {
	rows, err := t.sql.QueryContext(ctx, `SELECT c.system, c.code, c.display, c.kind, c.billable, d.kind, d.text, d.norm, d.phon
		FROM term_designation d CROSS JOIN term_concept c ON c.id = d.concept_id ORDER BY c.id, d.id`)
	if err != nil {
		return fmt.Errorf("list designations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r DesignationRecord
		var billable int
		if err := rows.Scan(&r.Concept.System, &r.Concept.Code, &r.Concept.Display, &r.Concept.Kind, &billable, &r.Kind, &r.Text, &r.Norm, &r.Phon); err != nil {
			return fmt.Errorf("list designations: %w", err)
		}
		r.Concept.Billable = billable != 0
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list designations: %w", err)
	}
	return nil
}

// Relation is one edge between two codes of one system: Src Rel Dst.
type Relation struct {
	System, Src, Rel, Dst string
}

// ForEachRelation calls fn for every relation (brand -> ingredient, clinical
// drug -> ingredient, branded drug -> clinical drug, ...).
func (t *DB) ForEachRelation(ctx context.Context, fn func(Relation) error) error {
	rows, err := t.sql.QueryContext(ctx, `SELECT system, src, rel, dst FROM term_relation ORDER BY system, src, rel, dst`)
	if err != nil {
		return fmt.Errorf("list relations: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var r Relation
		if err := rows.Scan(&r.System, &r.Src, &r.Rel, &r.Dst); err != nil {
			return fmt.Errorf("list relations: %w", err)
		}
		if err := fn(r); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("list relations: %w", err)
	}
	return nil
}

// Related returns the concepts dst with "code rel dst" (forward) in system,
// or the concepts src with "src rel code" when reverse is true. Codes that
// a relation names but no source loaded are skipped.
func (t *DB) Related(ctx context.Context, system, code, rel string, reverse bool) ([]Concept, error) {
	name, err := SystemName(system)
	if err != nil {
		return nil, fmt.Errorf("related %s: %w", code, err)
	}
	code = CanonicalCode(name, code)
	q := `SELECT c.system, c.code, c.display, c.kind, c.billable FROM term_relation r
		CROSS JOIN term_concept c ON c.system = r.system AND c.code = r.dst
		WHERE r.system = ? AND r.src = ? AND r.rel = ? ORDER BY c.code`
	if reverse {
		q = `SELECT c.system, c.code, c.display, c.kind, c.billable FROM term_relation r
		CROSS JOIN term_concept c ON c.system = r.system AND c.code = r.src
		WHERE r.system = ? AND r.dst = ? AND r.rel = ? ORDER BY c.code`
	}
	rows, err := t.sql.QueryContext(ctx, q, name, code, rel)
	if err != nil {
		return nil, fmt.Errorf("related %s %s: %w", code, rel, err)
	}
	defer rows.Close()
	var out []Concept
	for rows.Next() {
		c, err := scanConcept(rows)
		if err != nil {
			return nil, fmt.Errorf("related %s %s: %w", code, rel, err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// Ingredients returns the ingredients (IN) of an RxNorm concept: itself for
// an IN, the base of a PIN, the parts of an MIN, and via relations for
// brands and drugs.
func (t *DB) Ingredients(ctx context.Context, rxcui string) ([]Concept, error) {
	c, err := t.Lookup(ctx, RxNorm, rxcui)
	if err != nil {
		return nil, err
	}
	if c.Kind == "IN" {
		return []Concept{c}, nil
	}
	ins, err := t.Related(ctx, RxNorm, rxcui, RelHasIngredient, false)
	if err != nil {
		return nil, err
	}
	if len(ins) == 0 && c.Kind == "PIN" {
		return t.Related(ctx, RxNorm, rxcui, RelFormOf, false)
	}
	return ins, nil
}

// Brands returns the brand names (BN) of an RxNorm ingredient.
func (t *DB) Brands(ctx context.Context, ingredient string) ([]Concept, error) {
	return t.Related(ctx, RxNorm, ingredient, RelTradenameOf, true)
}
