package extract_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/internal/termtest"
	"github.com/medscribe/medscribe/fhir"
)

// FuzzFeed feeds arbitrary text, as two segments of one session, to the
// rules extractor: it must never panic or fail, and every item it returns
// must be valid FHIR.
func FuzzFeed(f *testing.F) {
	for _, tc := range sigCasesForFuzz() {
		f.Add(tc)
	}
	for _, tc := range assertionCases {
		f.Add(tc.sentence)
	}
	for _, s := range []string{
		"", " ", "\n\n", ".", "q.", "b.i.d", "1,000,000 mg", "0.5/0.25 mg", "1/0 tablet", "99999999999999999999 mg",
		"metformin 500 mg. Make that twice daily.", "ALLERGIES: codeine (hives).\nFAMILY HISTORY: Mother had diabetes.",
		"Doctor: Any chest pain?\nPatient: No.", "new paragraph new paragraph period comma colon",
		"atenolol/chlorthalidone 50/25 mg b.i.d.", "q4-6h q 4 to 2 hours every 0 hours x 0 days",
		"Lasix 40mg qd, Zantac 150mg qd, ASA 325mg qd.", "\xff\xfe invalid utf8 \x00 metformin",
		"PAST MEDICAL HISTORY:,1.  Hypertension.,2.  Diabetes type II.",
	} {
		f.Add(s)
	}
	lex := termtest.StarterLexicon(f)
	v := extract.FHIRValidator{Validator: &fhir.Validator{}}
	f.Fuzz(func(t *testing.T, text string) {
		asm := &extract.Assembler{Subject: fhir.PlaceholderPatientReference("fuzz"), Validator: v}
		r := extract.NewRules(lex, asm)
		half := len(text) / 2
		for i, seg := range []string{text[:half], text[half:]} {
			items, err := r.Feed(context.Background(), extract.Segment{ID: i, Text: seg}, nil)
			if err != nil {
				t.Fatalf("feed %q: %v", seg, err)
			}
			for _, it := range items {
				if !json.Valid(it.Resource) {
					t.Fatalf("item %s: invalid JSON", it.ID)
				}
				var oo fhir.OperationOutcome
				if err := json.Unmarshal(it.Validation, &oo); err != nil {
					t.Fatalf("item %s: outcome: %v", it.ID, err)
				}
				if oo.HasErrors() {
					t.Fatalf("item %s from %q is invalid: %s\n%s", it.ID, seg, it.Validation, it.Resource)
				}
			}
		}
	})
}

func sigCasesForFuzz() []string {
	return []string{"metformin 500 mg po bid", "albuterol 2 puffs q4h prn wheezing", "insulin 10 units subq with meals",
		"acetaminophen 650 mg q4-6h p.r.n.", "prednisone 1/2 tablet daily x 5 days", "Depo-Testosterone 200 mg IM q.3 weekly"}
}
