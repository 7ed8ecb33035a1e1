// Package extract turns committed transcript text into clinical items:
// FHIR MedicationStatement (RxNorm), Condition (ICD-10-CM) and the
// resources that keep allergies and family history apart from them.
// Extractors are fed one committed segment at a time and report items that
// are new or changed, under ids that stay stable across updates.
package extract

import (
	"context"
	"encoding/json"
	"time"
)

// Segment is one committed stretch of transcript.
type Segment struct {
	ID         int
	Text       string
	Start, End time.Duration
}

// Sources say how an item was obtained.
const (
	SourceRules     = "rules"     // the deterministic extractor
	SourceModel     = "model"     // the language model, code confirmed by the terminology
	SourceFallback  = "fallback"  // the model's code was wrong or missing; replaced from the terminology
	SourceCorrected = "corrected" // the model fixed its item after seeing the validator's report
)

// Item is one extracted clinical item in its latest version.
type Item struct {
	ID         string          `json:"item_id"`
	Kind       string          `json:"kind"`     // FHIR resourceType
	Resource   json.RawMessage `json:"resource"` // FHIR R4 JSON
	Validation json.RawMessage `json:"validation,omitempty"`
	Source     string          `json:"source"`
	SegmentID  int             `json:"segment_id"`
	// Notes say where extractors disagreed about the item (for example
	// "assertion: rules present, model negated").
	Notes []string `json:"notes,omitempty"`

	desc *Description // what the item was built from, for merging
}

// Partial is an item still being generated: the fields known so far.
type Partial struct {
	ItemID string            `json:"item_id"`
	Kind   string            `json:"kind"`
	Fields map[string]string `json:"fields"`
}

// Staged is an Extractor with a quick first pass: Quick (pure Go, a few
// milliseconds) gives the items a session can show at once; Feed then runs
// the slow pass on the same segment and returns what it confirms, enriches
// or adds.
type Staged interface {
	Extractor
	Quick(ctx context.Context, seg Segment) ([]Item, error)
}

// Light is implemented by extractors that run no native code, which
// therefore need no compute lane.
type Light interface {
	Light() bool
}

// Extractor reads a session's transcript as it is committed. One session
// owns an Extractor and calls it from one goroutine.
type Extractor interface {
	// Feed reads one committed segment and returns the items that are new
	// or changed because of it. partial, if not nil, is called with items
	// as their fields complete, before the item itself is returned.
	Feed(ctx context.Context, seg Segment, partial func(Partial)) ([]Item, error)
	// Close releases the session's resources (a model's KV cache).
	Close() error
}

// Light implements Light: the rules extractor is pure Go and takes
// milliseconds, so it runs without waiting for a compute lane.
func (r *Rules) Light() bool { return true }
