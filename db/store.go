package db

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

//go:embed migrations/*.sql
var migrations embed.FS

// ErrNotFound is returned when a session does not exist.
var ErrNotFound = errors.New("not found")

// Session statuses.
const (
	StatusLive         = "live"
	StatusEnded        = "ended"        // the client sent stop and everything was flushed
	StatusDisconnected = "disconnected" // the client went away; what it sent was flushed
	StatusInterrupted  = "interrupted"  // the server stopped mid-session (found at next start)
	StatusFailed       = "failed"
)

// Session is one dictation.
type Session struct {
	ID              string    `json:"id"`
	CreatedAt       time.Time `json:"created_at"`
	EndedAt         time.Time `json:"ended_at,omitzero"`
	Status          string    `json:"status"`
	PatientRef      string    `json:"patient_ref,omitempty"`
	Encoding        string    `json:"encoding,omitempty"`
	SampleRate      int       `json:"sample_rate,omitempty"`
	AudioMS         int64     `json:"audio_ms"`
	SpeechModel     string    `json:"speech_model,omitempty"`
	Extractor       string    `json:"extractor,omitempty"`
	GeneratedModels bool      `json:"generated_models"`
	Segments        int       `json:"segments"`
	Items           int       `json:"items"`
}

// Segment is one committed stretch of transcript.
type Segment struct {
	Seq     int    `json:"segment_id"`
	Text    string `json:"text"`
	StartMS int64  `json:"start_ms"`
	EndMS   int64  `json:"end_ms"`
}

// Item is one extracted clinical item in its latest version.
type Item struct {
	ItemID     string          `json:"item_id"`
	Kind       string          `json:"kind"`
	Resource   json.RawMessage `json:"resource"`
	Validation json.RawMessage `json:"validation,omitempty"`
	Source     string          `json:"source,omitempty"`
	SegmentSeq int             `json:"segment_id"`
	Version    int             `json:"version"`
	UpdatedAt  time.Time       `json:"updated_at"`
}

// Store keeps sessions in SQLite. It is safe for concurrent use.
type Store struct {
	db *sql.DB
	// Now returns the current time; tests replace it.
	Now func() time.Time
}

// OpenStore opens (creating with owner-only permissions) the session
// database at path and brings its schema up to date. The file holds
// transcripts, so neither it nor its folder is readable by others.
func OpenStore(ctx context.Context, path string) (*Store, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	if f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, 0o600); err == nil {
		f.Close()
	}
	sqldb, err := Open(ctx, path)
	if err != nil {
		return nil, err
	}
	if err := Migrate(ctx, sqldb, "sessions", subFS(migrations, "migrations")); err != nil {
		sqldb.Close()
		return nil, err
	}
	return &Store{db: sqldb, Now: time.Now}, nil
}

// DB is the underlying handle (the terminology shares the file).
func (s *Store) DB() *sql.DB { return s.db }

// Close closes the database.
func (s *Store) Close() error { return s.db.Close() }

func (s *Store) now() string { return s.Now().UTC().Format(time.RFC3339Nano) }

// CreateSession records a new live session.
func (s *Store) CreateSession(ctx context.Context, ss Session) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO sessions
		(id, created_at, status, patient_ref, encoding, sample_rate, speech_model, extractor, generated_models)
		VALUES (?, ?, 'live', ?, ?, ?, ?, ?, ?)`,
		ss.ID, s.now(), ss.PatientRef, ss.Encoding, ss.SampleRate, ss.SpeechModel, ss.Extractor, ss.GeneratedModels)
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// AddSegment stores a committed segment and the audio received so far.
func (s *Store) AddSegment(ctx context.Context, sessionID string, seg Segment, audioMS int64) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("add segment: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `INSERT INTO segments (session_id, seq, text, start_ms, end_ms, created_at)
		VALUES (?, ?, ?, ?, ?, ?)`, sessionID, seg.Seq, seg.Text, seg.StartMS, seg.EndMS, s.now()); err != nil {
		return fmt.Errorf("add segment: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET audio_ms = max(audio_ms, ?) WHERE id = ?`, audioMS, sessionID); err != nil {
		return fmt.Errorf("add segment: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("add segment: %w", err)
	}
	return nil
}

// PutItem inserts an item or replaces it with a newer version.
func (s *Store) PutItem(ctx context.Context, sessionID string, it Item) error {
	now := s.now()
	_, err := s.db.ExecContext(ctx, `INSERT INTO items
		(session_id, item_id, kind, resource, validation, source, segment_seq, version, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, 1, ?, ?)
		ON CONFLICT (session_id, item_id) DO UPDATE SET
			kind = excluded.kind, resource = excluded.resource, validation = excluded.validation,
			source = excluded.source, segment_seq = excluded.segment_seq,
			version = items.version + 1, updated_at = excluded.updated_at`,
		sessionID, it.ItemID, it.Kind, string(it.Resource), string(it.Validation), it.Source, it.SegmentSeq, now, now)
	if err != nil {
		return fmt.Errorf("put item: %w", err)
	}
	return nil
}

// EndSession marks a session finished with status.
func (s *Store) EndSession(ctx context.Context, id, status string, audioMS int64) error {
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET status = ?, ended_at = ?, audio_ms = max(audio_ms, ?) WHERE id = ?`,
		status, s.now(), audioMS, id)
	if err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("end session %s: %w", id, ErrNotFound)
	}
	return nil
}

// MarkInterrupted closes sessions left live by a server that stopped
// without finishing them. Their segments and items stay as saved.
func (s *Store) MarkInterrupted(ctx context.Context) (int64, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE sessions SET status = 'interrupted', ended_at = ? WHERE status = 'live'`, s.now())
	if err != nil {
		return 0, fmt.Errorf("mark interrupted: %w", err)
	}
	return res.RowsAffected()
}

const sessionCols = `id, created_at, coalesce(ended_at, ''), status, patient_ref, encoding, sample_rate, audio_ms,
	speech_model, extractor, generated_models,
	(SELECT count(*) FROM segments g WHERE g.session_id = s.id),
	(SELECT count(*) FROM items i WHERE i.session_id = s.id)`

func scanSession(row interface{ Scan(...any) error }) (Session, error) {
	var ss Session
	var created, ended string
	err := row.Scan(&ss.ID, &created, &ended, &ss.Status, &ss.PatientRef, &ss.Encoding, &ss.SampleRate, &ss.AudioMS,
		&ss.SpeechModel, &ss.Extractor, &ss.GeneratedModels, &ss.Segments, &ss.Items)
	if err != nil {
		return ss, err
	}
	ss.CreatedAt, _ = time.Parse(time.RFC3339Nano, created)
	if ended != "" {
		ss.EndedAt, _ = time.Parse(time.RFC3339Nano, ended)
	}
	return ss, nil
}

// Session returns one session or ErrNotFound.
func (s *Store) Session(ctx context.Context, id string) (Session, error) {
	ss, err := scanSession(s.db.QueryRowContext(ctx, `SELECT `+sessionCols+` FROM sessions s WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return ss, fmt.Errorf("session %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return ss, fmt.Errorf("session %s: %w", id, err)
	}
	return ss, nil
}

// Sessions lists sessions, newest first, at most limit of them.
func (s *Store) Sessions(ctx context.Context, limit int) ([]Session, error) {
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+sessionCols+` FROM sessions s ORDER BY created_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("list sessions: %w", err)
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		ss, err := scanSession(rows)
		if err != nil {
			return nil, fmt.Errorf("list sessions: %w", err)
		}
		out = append(out, ss)
	}
	return out, rows.Err()
}

// Segments returns a session's committed segments in order.
func (s *Store) Segments(ctx context.Context, id string) ([]Segment, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT seq, text, start_ms, end_ms FROM segments WHERE session_id = ? ORDER BY seq`, id)
	if err != nil {
		return nil, fmt.Errorf("segments: %w", err)
	}
	defer rows.Close()
	var out []Segment
	for rows.Next() {
		var g Segment
		if err := rows.Scan(&g.Seq, &g.Text, &g.StartMS, &g.EndMS); err != nil {
			return nil, fmt.Errorf("segments: %w", err)
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// Items returns a session's items in the order they first appeared.
func (s *Store) Items(ctx context.Context, id string) ([]Item, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT item_id, kind, resource, validation, source, segment_seq, version, updated_at
		FROM items WHERE session_id = ? ORDER BY created_at, rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("items: %w", err)
	}
	defer rows.Close()
	var out []Item
	for rows.Next() {
		var it Item
		var res, val, upd string
		if err := rows.Scan(&it.ItemID, &it.Kind, &res, &val, &it.Source, &it.SegmentSeq, &it.Version, &upd); err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
		it.Resource = json.RawMessage(res)
		if val != "" {
			it.Validation = json.RawMessage(val)
		}
		it.UpdatedAt, _ = time.Parse(time.RFC3339Nano, upd)
		out = append(out, it)
	}
	return out, rows.Err()
}
