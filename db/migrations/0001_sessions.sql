-- Live dictation sessions, their committed transcript segments and the
-- clinical items extracted from them.
CREATE TABLE sessions (
	id           TEXT PRIMARY KEY,
	created_at   TEXT NOT NULL,             -- RFC 3339, UTC
	ended_at     TEXT,
	status       TEXT NOT NULL DEFAULT 'live'
	             CHECK (status IN ('live', 'ended', 'disconnected', 'interrupted', 'failed')),
	patient_ref  TEXT NOT NULL DEFAULT '',  -- FHIR reference supplied by the client, if any
	encoding     TEXT NOT NULL DEFAULT '',
	sample_rate  INTEGER NOT NULL DEFAULT 0,
	audio_ms     INTEGER NOT NULL DEFAULT 0, -- audio received so far
	speech_model TEXT NOT NULL DEFAULT '',
	extractor    TEXT NOT NULL DEFAULT '',
	generated_models INTEGER NOT NULL DEFAULT 0 -- 1 when transcripts come from generated test models
);
CREATE INDEX sessions_created ON sessions (created_at DESC);

CREATE TABLE segments (
	session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	seq        INTEGER NOT NULL,
	text       TEXT NOT NULL,
	start_ms   INTEGER NOT NULL,
	end_ms     INTEGER NOT NULL,
	created_at TEXT NOT NULL,
	PRIMARY KEY (session_id, seq)
);

CREATE TABLE items (
	session_id TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
	item_id    TEXT NOT NULL,
	kind       TEXT NOT NULL,          -- FHIR resourceType
	resource   TEXT NOT NULL,          -- FHIR JSON
	validation TEXT NOT NULL DEFAULT '', -- OperationOutcome JSON
	source     TEXT NOT NULL DEFAULT '', -- how it was obtained: rules, model, fallback, corrected
	segment_seq INTEGER NOT NULL DEFAULT 0, -- the segment that last changed it
	version    INTEGER NOT NULL DEFAULT 1,
	created_at TEXT NOT NULL,
	updated_at TEXT NOT NULL,
	PRIMARY KEY (session_id, item_id)
);
