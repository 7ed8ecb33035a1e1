package terminology

import (
	"context"
	"errors"

	"github.com/medscribe/medscribe/fhir"
)

// The methods below answer in FHIR Codings, so that extractors can ground
// items in the terminology through an interface of their own without
// importing this package.

func coding(c Concept) fhir.Coding {
	return fhir.Coding{System: c.URL(), Code: c.Code, Display: c.Display}
}

// LookupCoding returns the coding of code in system (short name or URL);
// ok is false when the code does not exist.
func (t *DB) LookupCoding(ctx context.Context, system, code string) (fhir.Coding, bool, error) {
	c, err := t.Lookup(ctx, system, code)
	if errors.Is(err, ErrNotFound) {
		return fhir.Coding{}, false, nil
	}
	if err != nil {
		return fhir.Coding{}, false, err
	}
	return coding(c), true, nil
}

// ResolveDrugCoding resolves a drug as said or proposed (name, optional
// strength and form) to its most specific RxNorm coding and the codings of
// its ingredients, with the name match's score (0..1).
func (t *DB) ResolveDrugCoding(ctx context.Context, name, strength, form string) (drug fhir.Coding, ingredients []fhir.Coding, score float64, ok bool, err error) {
	m, ok, err := t.ResolveDrug(ctx, DrugQuery{Name: name, Strength: strength, Form: form})
	if err != nil || !ok {
		return fhir.Coding{}, nil, 0, false, err
	}
	for _, in := range m.Ingredients {
		ingredients = append(ingredients, coding(in))
	}
	return coding(m.Drug), ingredients, m.Name.Score, true, nil
}

// ResolveConditionCoding resolves a condition phrase to the best billable
// ICD-10-CM coding, with the match's score (0..1).
func (t *DB) ResolveConditionCoding(ctx context.Context, phrase string) (fhir.Coding, float64, bool, error) {
	c, ok, err := t.ResolveCondition(ctx, phrase)
	if err != nil || !ok {
		return fhir.Coding{}, 0, false, err
	}
	return coding(c.Concept), c.Score, true, nil
}
