// Package db is medscribe's SQLite layer: opening a database file with the
// settings every part of the program relies on, applying embedded migrations,
// and storing live sessions (segments, items) for later review.
package db

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strings"

	// Registers the "sqlite3" driver. FTS5 is compiled in through the
	// sqlite_fts5 build tag, which the Makefile always sets.
	_ "github.com/mattn/go-sqlite3"
)

// Open opens (creating if needed) the SQLite file at path with WAL
// journaling, foreign keys on and a busy timeout, so that a reader and the
// session writer never fail on a momentary lock.
func Open(ctx context.Context, path string) (*sql.DB, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	q.Set("_foreign_keys", "on")
	q.Set("_busy_timeout", "5000")
	q.Set("_synchronous", "NORMAL")
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	sqldb, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	if err := sqldb.PingContext(ctx); err != nil {
		sqldb.Close()
		return nil, fmt.Errorf("open %s: %w", path, err)
	}
	return sqldb, nil
}

// Migrate applies, in name order, every *.sql file of fsys that the
// migration set named set has not applied yet, each in its own transaction.
// Several sets (sessions, terminology) can live in one file because each
// records its own progress.
func Migrate(ctx context.Context, sqldb *sql.DB, set string, fsys fs.FS) error {
	if _, err := sqldb.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		migration_set TEXT NOT NULL,
		name TEXT NOT NULL,
		PRIMARY KEY (migration_set, name))`); err != nil {
		return fmt.Errorf("migrate %s: %w", set, err)
	}
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return fmt.Errorf("migrate %s: %w", set, err)
	}
	sort.Strings(names)
	for _, name := range names {
		if err := migrateFile(ctx, sqldb, set, fsys, name); err != nil {
			return fmt.Errorf("migrate %s %s: %w", set, name, err)
		}
	}
	return nil
}

func migrateFile(ctx context.Context, sqldb *sql.DB, set string, fsys fs.FS, name string) error {
	tx, err := sqldb.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE migration_set = ? AND name = ?`, set, name).Scan(&n); err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	body, err := fs.ReadFile(fsys, name)
	if err != nil {
		return err
	}
	if strings.TrimSpace(string(body)) != "" {
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (migration_set, name) VALUES (?, ?)`, set, path.Base(name)); err != nil {
		return err
	}
	return tx.Commit()
}
