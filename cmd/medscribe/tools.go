package main

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/medscribe/medscribe/cmd/medscribe/internal/models"
	"github.com/medscribe/medscribe/cmd/medscribe/internal/testmodels"
	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/extract/eval"
)

func init() {
	register("testmodels", "generate the random-weight test models (real formats and shapes)", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		err := testmodels.Main(ctx, args, stdout, stderr)
		if errors.Is(err, testmodels.ErrUsage) {
			return errUsage
		}
		return err
	})
	register("terminology", "import, search and count ICD-10-CM and RxNorm codes", runTerminology)
	register("eval", "score the rules extractor on a labelled gold set (P/R/F1, assertion and allergy errors)", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		return eval.Main(ctx, args, stdout, stderr, func(ctx context.Context, path string) (eval.Terminology, error) {
			t, name, err := openTerminology(ctx, path, slogDiscard())
			if err != nil {
				return eval.Terminology{}, err
			}
			return eval.Terminology{Vocabulary: termVocabulary{t}, Codes: t, Name: name, Close: t.Close}, nil
		})
	})
	register("models", "download and verify the real whisper, VAD and language models", func(ctx context.Context, args []string, stdout, stderr io.Writer) error {
		err := models.Main(ctx, args, stdout, stderr)
		if errors.Is(err, models.ErrUsage) {
			return errUsage
		}
		return err
	})
}

// runTerminology defaults --db to the server's database: always for
// import, and for search and stats when that file exists (otherwise they
// use the embedded starter set).
func runTerminology(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	given := slices.ContainsFunc(args, func(a string) bool {
		return a == "--db" || a == "-db" || strings.HasPrefix(a, "--db=") || strings.HasPrefix(a, "-db=")
	})
	if _, env := os.LookupEnv("MEDSCRIBE_DB"); !given && !env && len(args) > 0 {
		def := filepath.Join(dataDir(), "medscribe.db")
		_, statErr := os.Stat(def)
		if args[0] == "import" {
			if err := os.MkdirAll(filepath.Dir(def), 0o700); err != nil {
				return err
			}
			args = append([]string{args[0], "--db", def}, args[1:]...)
		} else if statErr == nil && (args[0] == "search" || args[0] == "stats") {
			args = append([]string{args[0], "--db", def}, args[1:]...)
		}
	}
	return terminology.Main(ctx, args, stdout, stderr)
}
