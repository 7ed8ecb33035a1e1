package fhir

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Resource is a FHIR resource: one of the generated resource types (always used as a
// pointer, e.g. *Condition) or a *RawResource for a type the package does not model.
type Resource interface {
	// ResourceType returns the FHIR resource type name, e.g. "Condition".
	ResourceType() string
}

// RawResource is a resource of a type this package does not model (Observation,
// Composition...), kept as its JSON object so that it survives a round trip. The
// validator checks its JSON syntax only and says so with an informational issue.
type RawResource struct {
	// Type is the resourceType property.
	Type string
	// JSON is the whole resource object, resourceType included.
	JSON []byte
}

// ResourceType returns the resourceType property.
func (r *RawResource) ResourceType() string { return r.Type }

// MarshalJSON returns the stored JSON object.
func (r RawResource) MarshalJSON() ([]byte, error) {
	if len(r.JSON) == 0 {
		return nil, fmt.Errorf("marshal %s: raw resource has no JSON", r.Type)
	}
	return r.JSON, nil
}

// Decimal is a FHIR decimal kept as its JSON number literal, so that precision survives
// a round trip ("1.50" stays "1.50", as FHIR requires). The zero value means absent.
type Decimal string

// ErrInvalidDecimal is returned for a string that is not a JSON number.
var ErrInvalidDecimal = errors.New("not a FHIR decimal")

// ParseDecimal checks that s is a FHIR decimal literal (JSON number syntax).
func ParseDecimal(s string) (Decimal, error) {
	if !validDecimal(s) {
		return "", fmt.Errorf("parse decimal %q: %w", s, ErrInvalidDecimal)
	}
	return Decimal(s), nil
}

// DecimalOf formats f with the fewest digits that read back as f. NaN and infinities
// have no FHIR form and give the empty (absent) Decimal.
func DecimalOf(f float64) Decimal {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return ""
	}
	return Decimal(strconv.FormatFloat(f, 'f', -1, 64))
}

// Float64 returns the value of d.
func (d Decimal) Float64() (float64, error) {
	if !validDecimal(string(d)) {
		return 0, fmt.Errorf("decimal %q: %w", string(d), ErrInvalidDecimal)
	}
	return strconv.ParseFloat(string(d), 64)
}

// MarshalJSON writes the literal as a JSON number.
func (d Decimal) MarshalJSON() ([]byte, error) {
	if !validDecimal(string(d)) {
		return nil, fmt.Errorf("marshal decimal %q: %w", string(d), ErrInvalidDecimal)
	}
	return []byte(d), nil
}

// UnmarshalJSON accepts a JSON number only (FHIR JSON never quotes decimals).
func (d *Decimal) UnmarshalJSON(data []byte) error {
	s := string(bytes.TrimSpace(data))
	if !validDecimal(s) {
		return fmt.Errorf("unmarshal decimal %.40q: %w", s, ErrInvalidDecimal)
	}
	*d = Decimal(s)
	return nil
}

// Ptr returns a pointer to v, for the optional boolean and integer fields.
func Ptr[T any](v T) *T { return &v }
