package testmodel

import (
	"context"
	"io"

	"github.com/medscribe/medscribe/extract/testmodel/modelfile"
)

// Result describes a model file in the cache.
type Result = modelfile.Result

const generator = "github.com/medscribe/medscribe/speech/testmodel"

// newRNG seeds the weights of one tensor (or chunk) of a model from its label.
func newRNG(label string) *modelfile.RNG {
	return modelfile.NewRNG("medscribe/speech/testmodel", label)
}

// DefaultDir is where models are cached: $MEDSCRIBE_CACHE/testmodels if
// that variable is set, otherwise medscribe/testmodels in the user's cache
// directory (os.UserCacheDir).
func DefaultDir() (string, error) { return modelfile.DefaultDir() }

// Generate returns the path of the model called name in dir (DefaultDir
// when empty), writing it first unless a valid copy is already there.
func Generate(ctx context.Context, dir, name string) (string, error) {
	r, err := Ensure(ctx, dir, name, nil)
	return r.Path, err
}

// Ensure is Generate with options and a full result (see modelfile.Ensure).
func Ensure(ctx context.Context, dir, name string, opts *Options) (Result, error) {
	if err := known(name); err != nil {
		return Result{}, err
	}
	spec := modelfile.Spec{Generator: generator, Version: Version, Name: name, File: name + ".bin"}
	return modelfile.Ensure(dir, spec, func(w io.Writer) error { return Write(ctx, w, name, opts) })
}
