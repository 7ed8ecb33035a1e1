package terminology

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"
)

// ImportOptions tunes one import. A nil *ImportOptions means defaults.
type ImportOptions struct {
	// Version is recorded with the source. Default: taken from the file
	// name (icd10cm-codes-2026.txt -> 2026) or the directory name.
	Version string
	// Progress, when set, is called now and then with the bytes read so
	// far and the total size of the file being read.
	Progress func(done, total int64)
}

func (o *ImportOptions) version(path string) string {
	if o != nil && o.Version != "" {
		return o.Version
	}
	return versionFromName(path)
}

func (o *ImportOptions) progress() func(done, total int64) {
	if o == nil {
		return nil
	}
	return o.Progress
}

// versionFromName guesses a release from a file or directory name: the
// last run of digits and letters after the last '-' or '_'
// (icd10cm-codes-2026.txt -> 2026, RxNorm_full_10062025 -> 10062025).
func versionFromName(path string) string {
	base := filepath.Base(path)
	for _, ext := range []string{".gz", ".txt", ".tsv", ".RRF", ".rrf"} {
		base = strings.TrimSuffix(base, ext)
	}
	if i := strings.LastIndexAny(base, "-_"); i >= 0 && i+1 < len(base) {
		return base[i+1:]
	}
	return base
}

// ImportResult tells what one import loaded.
type ImportResult struct {
	System       string
	Source       string
	Version      string
	Concepts     int
	Designations int
	Relations    int
	Elapsed      time.Duration
}

func (r ImportResult) String() string {
	return fmt.Sprintf("%s %s %s: %d concepts, %d designations, %d relations in %s",
		r.System, r.Source, r.Version, r.Concepts, r.Designations, r.Relations, r.Elapsed.Round(time.Millisecond))
}

// loader writes what one source contributes, inside one transaction.
type loader struct {
	ctx      context.Context
	tx       *sql.Tx
	system   string
	sourceID int64
	gen      int64
	res      ImportResult

	upsertStmt, insertStmt, idStmt, desigStmt, relStmt *sql.Stmt

	ids  map[string]int64    // code -> concept id, for concepts written or looked up in this import
	seen map[string]struct{} // concept id + norm of designations written in this import
}

// loadMode says what happens to rows of a system that the import did not
// write.
type loadMode int

const (
	// keepOthers deletes only the stale concepts this source owns.
	keepOthers loadMode = iota
	// replaceBillable also deletes billable ICD-10-CM codes that the
	// import did not see: the codes file is the complete list of them.
	replaceBillable
)

// load runs fill inside one transaction that first forgets what this
// source contributed before, so importing the same file twice leaves the
// same data, and a failure anywhere leaves the previous data untouched.
func (t *DB) load(ctx context.Context, system, source, version, file string, mode loadMode, fill func(*loader) error) (ImportResult, error) {
	start := time.Now()
	conn, err := t.sql.Conn(ctx)
	if err != nil {
		return ImportResult{}, err
	}
	defer conn.Close()
	// A bulk load touches every index page many times: a large page cache
	// for this connection (SQLite's default is 2 MB) makes it several
	// times faster. It goes back to the default when the load is done.
	if _, err := conn.ExecContext(ctx, `PRAGMA cache_size = -262144; PRAGMA temp_store = MEMORY`); err != nil {
		return ImportResult{}, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `PRAGMA cache_size = -2000`)
	// Statement journals (which an upsert under foreign keys needs) go to
	// memory instead of a temporary file per statement: 3x faster loads.
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return ImportResult{}, err
	}
	defer tx.Rollback()
	l := &loader{ctx: ctx, tx: tx, system: system, gen: time.Now().UnixNano(),
		ids: map[string]int64{}, seen: map[string]struct{}{}}
	l.res = ImportResult{System: system, Source: source, Version: version}
	if err := tx.QueryRowContext(ctx, `INSERT INTO term_source (system, name, version, file, imported_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (system, name) DO UPDATE SET version = excluded.version, file = excluded.file, imported_at = excluded.imported_at
		RETURNING id`, system, source, version, file, time.Now().UTC().Format(time.RFC3339)).Scan(&l.sourceID); err != nil {
		return ImportResult{}, fmt.Errorf("record source: %w", err)
	}
	for _, q := range []string{
		`INSERT INTO term_fts (term_fts, rowid, norm) SELECT 'delete', id, norm FROM term_designation WHERE source_id = ?`,
		`DELETE FROM term_designation WHERE source_id = ?`,
		`DELETE FROM term_relation WHERE source_id = ?`,
	} {
		if _, err := tx.ExecContext(ctx, q, l.sourceID); err != nil {
			return ImportResult{}, fmt.Errorf("forget previous import: %w", err)
		}
	}
	prep := func(q string) *sql.Stmt {
		if err != nil {
			return nil
		}
		var s *sql.Stmt
		s, err = tx.PrepareContext(ctx, q)
		return s
	}
	l.upsertStmt = prep(`INSERT INTO term_concept (system, code, display, kind, billable, source_id, gen) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (system, code) DO UPDATE SET display = excluded.display, kind = excluded.kind, billable = excluded.billable,
		active = 1, source_id = excluded.source_id, gen = excluded.gen RETURNING id`)
	l.insertStmt = prep(`INSERT INTO term_concept (system, code, display, kind, billable, source_id, gen) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (system, code) DO UPDATE SET gen = CASE WHEN source_id = excluded.source_id THEN excluded.gen ELSE gen END RETURNING id`)
	l.idStmt = prep(`SELECT id FROM term_concept WHERE system = ? AND code = ?`)
	l.desigStmt = prep(`INSERT INTO term_designation (concept_id, kind, text, norm, joined, phon, source_id) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	l.relStmt = prep(`INSERT OR IGNORE INTO term_relation (system, src, rel, dst, source_id) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return ImportResult{}, fmt.Errorf("prepare: %w", err)
	}
	if err := fill(l); err != nil {
		return ImportResult{}, err
	}
	stale := `source_id = ? AND gen <> ?`
	args := []any{l.sourceID, l.gen}
	if mode == replaceBillable {
		stale = `(source_id = ? OR (system = ? AND billable = 1)) AND gen <> ?`
		args = []any{l.sourceID, system, l.gen}
	}
	for _, q := range []string{
		`INSERT INTO term_fts (term_fts, rowid, norm) SELECT 'delete', d.id, d.norm FROM term_designation d
			WHERE d.concept_id IN (SELECT id FROM term_concept WHERE ` + stale + `)`,
		`DELETE FROM term_concept WHERE ` + stale,
	} {
		if _, err := tx.ExecContext(ctx, q, args...); err != nil {
			return ImportResult{}, fmt.Errorf("remove concepts no longer in %s: %w", file, err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO term_fts (rowid, norm) SELECT id, norm FROM term_designation WHERE source_id = ?`, l.sourceID); err != nil {
		return ImportResult{}, fmt.Errorf("index designations: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE term_source SET concepts = ? WHERE id = ?`, l.res.Concepts, l.sourceID); err != nil {
		return ImportResult{}, fmt.Errorf("record source: %w", err)
	}
	if err := rebuildWords(ctx, tx, system); err != nil {
		return ImportResult{}, err
	}
	if err := tx.Commit(); err != nil {
		return ImportResult{}, fmt.Errorf("commit: %w", err)
	}
	t.gen.Add(1)
	l.res.Elapsed = time.Since(start)
	return l.res, nil
}

// concept writes a concept this source is authoritative for (replacing the
// display and kind another source gave it) and returns its id.
func (l *loader) concept(code, display, kind string, billable bool) (int64, error) {
	var id int64
	if err := l.upsertStmt.QueryRowContext(l.ctx, l.system, code, display, kind, boolInt(billable), l.sourceID, l.gen).Scan(&id); err != nil {
		return 0, fmt.Errorf("write concept %s: %w", code, err)
	}
	if _, ok := l.ids[code]; !ok {
		l.res.Concepts++
	}
	l.ids[code] = id
	return id, nil
}

// addConcept writes a concept only if no other source has it, and returns
// its id either way: supplements never override an official display.
func (l *loader) addConcept(code, display, kind string, billable bool) (int64, error) {
	var id int64
	if err := l.insertStmt.QueryRowContext(l.ctx, l.system, code, display, kind, boolInt(billable), l.sourceID, l.gen).Scan(&id); err != nil {
		return 0, fmt.Errorf("write concept %s: %w", code, err)
	}
	if _, ok := l.ids[code]; !ok {
		l.res.Concepts++
	}
	l.ids[code] = id
	return id, nil
}

// conceptID returns the id of a concept already in the database.
func (l *loader) conceptID(code string) (int64, bool, error) {
	if id, ok := l.ids[code]; ok {
		return id, true, nil
	}
	var id int64
	err := l.idStmt.QueryRowContext(l.ctx, l.system, code).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("find concept %s: %w", code, err)
	}
	l.ids[code] = id
	return id, true, nil
}

// designation adds a name to a concept; a name the concept already got in
// this import is skipped, the first kind winning.
func (l *loader) designation(conceptID int64, kind, text string) error {
	text = strings.TrimSpace(text)
	norm := Normalize(text)
	if norm == "" {
		return nil
	}
	key := fmt.Sprint(conceptID, "\x00", norm)
	if _, ok := l.seen[key]; ok {
		return nil
	}
	l.seen[key] = struct{}{}
	// Joined and phonetic keys serve names of a few words; over a long
	// title they would only ever match themselves.
	joined, phon := Joined(norm), ""
	if len(joined) <= maxPhoneticLen {
		phon = PhoneticKey(norm)
	} else {
		joined = ""
	}
	if _, err := l.desigStmt.ExecContext(l.ctx, conceptID, kind, text, norm, joined, phon, l.sourceID); err != nil {
		return fmt.Errorf("write designation: %w", err)
	}
	l.res.Designations++
	return nil
}

// relation records "src rel dst".
func (l *loader) relation(src, rel, dst string) error {
	if src == dst {
		return nil
	}
	r, err := l.relStmt.ExecContext(l.ctx, l.system, src, rel, dst, l.sourceID)
	if err != nil {
		return fmt.Errorf("write relation %s %s %s: %w", src, rel, dst, err)
	}
	if n, _ := r.RowsAffected(); n > 0 {
		l.res.Relations++
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// rebuildWords recomputes the vocabulary of system from its designations.
func rebuildWords(ctx context.Context, tx *sql.Tx, system string) error {
	if _, err := tx.ExecContext(ctx, `DELETE FROM term_word WHERE system = ?`, system); err != nil {
		return fmt.Errorf("rebuild vocabulary: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT d.norm FROM term_designation d CROSS JOIN term_concept c ON c.id = d.concept_id WHERE c.system = ?`, system)
	if err != nil {
		return fmt.Errorf("rebuild vocabulary: %w", err)
	}
	df := map[string]int{}
	for rows.Next() {
		var norm string
		if err := rows.Scan(&norm); err != nil {
			rows.Close()
			return fmt.Errorf("rebuild vocabulary: %w", err)
		}
		words := Tokens(norm)
		for i, w := range words {
			dup := false
			for _, p := range words[:i] {
				if p == w {
					dup = true
					break
				}
			}
			if !dup {
				df[w]++
			}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("rebuild vocabulary: %w", err)
	}
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO term_word (system, word, phon, df) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("rebuild vocabulary: %w", err)
	}
	defer stmt.Close()
	for w, n := range df {
		if _, err := stmt.ExecContext(ctx, system, w, PhoneticKey(w), n); err != nil {
			return fmt.Errorf("rebuild vocabulary: %w", err)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO term_word_tri (term_word_tri) VALUES ('rebuild')`); err != nil {
		return fmt.Errorf("rebuild vocabulary index: %w", err)
	}
	return nil
}
