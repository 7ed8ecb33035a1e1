// Package termtest gives the tests of extract and its subpackages the real
// terminology: the embedded starter set, or the full shared one (ICD-10-CM
// FY2026 and the shared RxNorm tables imported into a SQLite file). It is
// for tests only; production wiring lives in cmd/medscribe.
package termtest

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/extract"
)

// Vocabulary adapts a terminology database to extract.Vocabulary.
type Vocabulary struct{ DB *terminology.DB }

// EachName implements extract.Vocabulary.
func (v Vocabulary) EachName(ctx context.Context, fn func(extract.TermName) error) error {
	return v.DB.ForEachDesignation(ctx, func(r terminology.DesignationRecord) error {
		return fn(extract.TermName{
			Concept: extract.TermConcept{System: r.Concept.URL(), Code: r.Concept.Code, Display: r.Concept.Display,
				Kind: r.Concept.Kind, Billable: r.Concept.Billable},
			Kind: r.Kind, Text: r.Text,
		})
	})
}

// EachLink implements extract.Vocabulary.
func (v Vocabulary) EachLink(ctx context.Context, fn func(extract.TermLink) error) error {
	return v.DB.ForEachRelation(ctx, func(r terminology.Relation) error {
		return fn(extract.TermLink{System: terminology.SystemURL(r.System), Src: r.Src, Rel: r.Rel, Dst: r.Dst})
	})
}

// RepoRoot is the directory holding go.mod, found by walking up from the
// working directory.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// SharedDir returns the shared reference data directory: $MEDSCRIBE_SHARED,
// else ../shared next to the repository; "" when it does not exist.
func SharedDir() string {
	if d := os.Getenv("MEDSCRIBE_SHARED"); d != "" {
		if _, err := os.Stat(d); err == nil {
			return d
		}
		return ""
	}
	root, err := RepoRoot()
	if err != nil {
		return ""
	}
	d := filepath.Join(filepath.Dir(root), "shared")
	if _, err := os.Stat(filepath.Join(d, "data")); err != nil {
		return ""
	}
	return d
}

var (
	fullOnce sync.Once
	fullPath string
	fullErr  error

	lexMu   sync.Mutex
	lexicon = map[string]*extract.Lexicon{}
	dbs     = map[string]*terminology.DB{}
)

// FullPath returns the path of the full shared terminology database,
// importing it on first use. The file is cached in the temporary directory
// under a name derived from the importer's sources and the shared files, so
// test runs after the first reuse it; it skips tb when the shared data is
// absent.
func FullPath(tb testing.TB) string {
	tb.Helper()
	shared := SharedDir()
	if shared == "" {
		tb.Skip("shared data not found (set MEDSCRIBE_SHARED or check out ../shared): full terminology unavailable")
	}
	fullOnce.Do(func() { fullPath, fullErr = buildFull(shared) })
	if fullErr != nil {
		tb.Fatalf("build full terminology: %v", fullErr)
	}
	return fullPath
}

func buildFull(shared string) (string, error) {
	data := filepath.Join(shared, "data")
	icd := filepath.Join(data, "icd10cm", "icd10cm-codes-2026.txt.gz")
	order := filepath.Join(data, "icd10cm", "icd10cm-order-April-2025.derived.tsv.gz")
	rx := filepath.Join(data, "rxnorm")
	key, err := cacheKey(icd, order, rx)
	if err != nil {
		return "", err
	}
	path := filepath.Join(os.TempDir(), "medscribe-termtest-"+key+".db")
	if _, err := os.Stat(path); err == nil {
		return path, nil
	}
	tmp, err := os.CreateTemp(os.TempDir(), "medscribe-termtest-*.db.partial")
	if err != nil {
		return "", err
	}
	tmp.Close()
	os.Remove(tmp.Name())
	ctx := context.Background()
	t, err := terminology.Open(ctx, tmp.Name())
	if err != nil {
		return "", err
	}
	if _, err := t.ImportICD10CMCodes(ctx, icd, nil); err != nil {
		t.Close()
		return "", err
	}
	if _, err := t.ImportICD10CMOrder(ctx, order, nil); err != nil {
		t.Close()
		return "", err
	}
	if _, err := t.ImportRxNormDerived(ctx, rx, nil); err != nil {
		t.Close()
		return "", err
	}
	if err := t.Close(); err != nil {
		return "", err
	}
	for _, suffix := range []string{"-wal", "-shm"} {
		os.Remove(tmp.Name() + suffix)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	return path, nil
}

// cacheKey hashes the terminology package's sources and the sizes and
// times of the shared inputs.
func cacheKey(inputs ...string) (string, error) {
	root, err := RepoRoot()
	if err != nil {
		return "", err
	}
	h := sha256.New()
	var files []string
	err = filepath.WalkDir(filepath.Join(root, "db"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if filepath.Ext(p) == ".go" || filepath.Ext(p) == ".sql" || filepath.Ext(p) == ".tsv" {
			files = append(files, p)
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return "", err
		}
		h.Write([]byte(f))
		h.Write(b)
	}
	for _, in := range inputs {
		err := filepath.WalkDir(in, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			fmt.Fprintf(h, "%s %d %d\n", p, info.Size(), info.ModTime().UnixNano())
			return nil
		})
		if err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil))[:16], nil
}

// Full opens the full shared terminology once per process.
func Full(tb testing.TB) *terminology.DB {
	tb.Helper()
	path := FullPath(tb)
	return open(tb, "full", func(ctx context.Context) (*terminology.DB, error) { return terminology.Open(ctx, path) })
}

// Starter opens the embedded starter terminology once per process.
func Starter(tb testing.TB) *terminology.DB {
	tb.Helper()
	return open(tb, "starter", terminology.OpenStarter)
}

func open(tb testing.TB, name string, fn func(context.Context) (*terminology.DB, error)) *terminology.DB {
	lexMu.Lock()
	defer lexMu.Unlock()
	if db, ok := dbs[name]; ok {
		return db
	}
	db, err := fn(context.Background())
	if err != nil {
		tb.Fatalf("open %s terminology: %v", name, err)
	}
	dbs[name] = db
	return db
}

// FullLexicon is the lexicon over the full terminology, built once.
func FullLexicon(tb testing.TB) *extract.Lexicon {
	tb.Helper()
	return lex(tb, "full", Full(tb))
}

// StarterLexicon is the lexicon over the starter terminology, built once.
func StarterLexicon(tb testing.TB) *extract.Lexicon {
	tb.Helper()
	return lex(tb, "starter", Starter(tb))
}

func lex(tb testing.TB, name string, db *terminology.DB) *extract.Lexicon {
	lexMu.Lock()
	l, ok := lexicon[name]
	if !ok {
		l = extract.NewLexicon(Vocabulary{DB: db})
		lexicon[name] = l
	}
	lexMu.Unlock()
	if err := l.Build(context.Background()); err != nil {
		tb.Fatalf("build %s lexicon: %v", name, err)
	}
	return l
}

var (
	schemaOnce sync.Once
	schemaC    *jsonschema.Compiler
	schemaErr  error
	schemas    = map[string]*jsonschema.Schema{}
)

const schemaID = "http://hl7.org/fhir/json-schema/4.0"

// SchemaValidate checks FHIR JSON against the official R4 JSON schema
// (shared/data/fhir-r4/fhir.schema.json.gz, the definition of its
// resourceType); it skips tb when the schema is absent.
func SchemaValidate(tb testing.TB, data []byte) error {
	tb.Helper()
	shared := SharedDir()
	if shared == "" {
		tb.Skip("shared data not found: FHIR JSON schema unavailable")
	}
	schemaOnce.Do(func() {
		f, err := os.Open(filepath.Join(shared, "data", "fhir-r4", "fhir.schema.json.gz"))
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			schemaErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(zr)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft6)
		if err := c.AddResource(schemaID, doc); err != nil {
			schemaErr = err
			return
		}
		schemaC = c
	})
	if schemaErr != nil {
		tb.Fatalf("load FHIR JSON schema: %v", schemaErr)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	m, _ := inst.(map[string]any)
	rt, _ := m["resourceType"].(string)
	lexMu.Lock()
	s, ok := schemas[rt]
	if !ok {
		s, err = schemaC.Compile(schemaID + "#/definitions/" + rt)
		if err != nil {
			lexMu.Unlock()
			return fmt.Errorf("compile schema of %s: %w", rt, err)
		}
		schemas[rt] = s
	}
	lexMu.Unlock()
	return s.Validate(inst)
}
