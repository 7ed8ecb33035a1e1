-- Terminology schema. Every table is prefixed term_ because the session store
-- shares the same SQLite file.

-- One row per code system this database can answer for.
CREATE TABLE term_system (
	system TEXT PRIMARY KEY,  -- short name: icd10cm, rxnorm
	url    TEXT NOT NULL UNIQUE
);
INSERT INTO term_system (system, url) VALUES
	('icd10cm', 'http://hl7.org/fhir/sid/icd-10-cm'),
	('rxnorm', 'http://www.nlm.nih.gov/research/umls/rxnorm');

-- One row per import source (an importer run over one file or release).
-- Re-importing the same source replaces what it contributed.
CREATE TABLE term_source (
	id          INTEGER PRIMARY KEY,
	system      TEXT NOT NULL REFERENCES term_system(system),
	name        TEXT NOT NULL,  -- icd10cm-codes, icd10cm-order, rxnorm-rrf, rxnorm-derived, tsv, starter
	version     TEXT NOT NULL,
	file        TEXT NOT NULL,
	concepts    INTEGER NOT NULL DEFAULT 0,
	imported_at TEXT NOT NULL,
	UNIQUE (system, name)
);

-- Concepts: ICD-10-CM codes (billable codes and non-billable headers) and
-- RxNorm concepts (kind = TTY).
CREATE TABLE term_concept (
	id        INTEGER PRIMARY KEY,
	system    TEXT NOT NULL REFERENCES term_system(system),
	code      TEXT NOT NULL,     -- canonical form: E11.9, 29046
	display   TEXT NOT NULL,
	kind      TEXT NOT NULL,     -- ICD-10-CM: code or header; RxNorm: TTY (IN, PIN, MIN, BN, SCD, ...)
	billable  INTEGER NOT NULL,  -- ICD-10-CM billable flag; 1 for every RxNorm concept
	active    INTEGER NOT NULL DEFAULT 1,
	source_id INTEGER NOT NULL REFERENCES term_source(id),
	gen       INTEGER NOT NULL DEFAULT 0,  -- import generation that last wrote the row
	UNIQUE (system, code)
);
CREATE INDEX term_concept_source ON term_concept (source_id, gen);

-- Every name a concept goes by. norm is Normalize(text), joined is norm
-- without spaces (so "lip it or" can meet "lipitor") and phon its phonetic
-- key, both empty for long titles, where they would only match themselves.
CREATE TABLE term_designation (
	id         INTEGER PRIMARY KEY,
	concept_id INTEGER NOT NULL REFERENCES term_concept(id) ON DELETE CASCADE,
	kind       TEXT NOT NULL,  -- preferred, synonym, abbreviation, brand, misspelling, short
	text       TEXT NOT NULL,
	norm       TEXT NOT NULL,
	joined     TEXT NOT NULL,
	phon       TEXT NOT NULL,
	source_id  INTEGER NOT NULL REFERENCES term_source(id) ON DELETE CASCADE
);
CREATE INDEX term_designation_norm ON term_designation (norm);
CREATE INDEX term_designation_joined ON term_designation (joined) WHERE joined <> '';
CREATE INDEX term_designation_phon ON term_designation (phon) WHERE phon <> '';
CREATE INDEX term_designation_concept ON term_designation (concept_id);
CREATE INDEX term_designation_source ON term_designation (source_id);

-- Relations between concepts of one system, by code so that a relation may
-- name a concept another source loads later. Read as "src rel dst":
-- (SCD has_ingredient IN), (BN tradename_of IN), (SBD tradename_of SCD).
CREATE TABLE term_relation (
	system    TEXT NOT NULL,
	src       TEXT NOT NULL,
	rel       TEXT NOT NULL,
	dst       TEXT NOT NULL,
	source_id INTEGER NOT NULL REFERENCES term_source(id) ON DELETE CASCADE,
	PRIMARY KEY (system, src, rel, dst)
) WITHOUT ROWID;
CREATE INDEX term_relation_dst ON term_relation (system, dst, rel);
CREATE INDEX term_relation_source ON term_relation (source_id);

-- Word forms of every designation. The loader keeps it in step with
-- term_designation in bulk statements (not row triggers: FTS5 flushes its
-- pending index data at every statement, which made a row trigger cost
-- 6 s per 75,000 codes).
CREATE VIRTUAL TABLE term_fts USING fts5 (
	norm,
	content = 'term_designation',
	content_rowid = 'id',
	tokenize = 'unicode61 remove_diacritics 2'
);

-- The vocabulary of each system: every distinct word of its designations
-- with its document frequency and phonetic key. Misspelled and mis-heard
-- words are corrected against it; its trigram index finds near spellings.
CREATE TABLE term_word (
	id     INTEGER PRIMARY KEY,
	system TEXT NOT NULL,
	word   TEXT NOT NULL,
	phon   TEXT NOT NULL,
	df     INTEGER NOT NULL,
	UNIQUE (system, word)
);
CREATE INDEX term_word_phon ON term_word (system, phon);
CREATE VIRTUAL TABLE term_word_tri USING fts5 (
	word,
	content = 'term_word',
	content_rowid = 'id',
	tokenize = 'trigram'
);
