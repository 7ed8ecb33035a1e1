package extract

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medscribe/medscribe/fhir"
)

// FHIRValidator checks resources with the fhir package's validator; set
// Validator.Terminology to have ICD-10-CM and RxNorm codes checked too.
type FHIRValidator struct {
	Validator *fhir.Validator
}

// Validate implements Validator: the OperationOutcome as JSON and its
// number of error and fatal issues.
func (v FHIRValidator) Validate(_ context.Context, r fhir.Resource) (json.RawMessage, int, error) {
	val := v.Validator
	if val == nil {
		val = &fhir.Validator{}
	}
	oo := val.Validate(r)
	b, err := fhir.Marshal(&oo)
	if err != nil {
		return nil, 0, fmt.Errorf("encode validation outcome: %w", err)
	}
	return b, oo.Count(fhir.SeverityError) + oo.Count(fhir.SeverityFatal), nil
}

// Text runs a fresh rules extractor over a whole text, as one committed
// segment, and returns the items in their final versions, in order of
// first mention. It backs "medscribe extract" and the evaluation.
func Text(ctx context.Context, lex *Lexicon, asm *Assembler, text string) ([]Item, error) {
	r := NewRules(lex, asm)
	defer r.Close()
	items, err := r.Feed(ctx, Segment{ID: 1, Text: text}, nil)
	if err != nil {
		return nil, err
	}
	return items, nil
}

// Bundle wraps items as the transaction Bundle of a session (see
// fhir.NewSessionBundle): the placeholder patient, a Device naming the
// extractor and a Provenance over every item.
func Bundle(sessionID string, items []Item, recorded time.Time, version string) (*fhir.Bundle, error) {
	resources := make([]fhir.Resource, 0, len(items))
	for _, it := range items {
		r, err := fhir.Parse(it.Resource)
		if err != nil {
			return nil, fmt.Errorf("bundle item %s: %w", it.ID, err)
		}
		resources = append(resources, r)
	}
	b, err := fhir.NewSessionBundle(fhir.Session{ID: sessionID, Recorded: recorded, Version: version,
		Models: []fhir.ModelVersion{{Role: "extraction", Name: "medscribe rules"}}}, resources)
	if err != nil {
		return nil, fmt.Errorf("bundle: %w", err)
	}
	return b, nil
}
