package eval_test

import (
	"encoding/json"
	"fmt"
	"testing"

	"github.com/medscribe/medscribe/extract/eval"
)

func loadRx(t *testing.T) *eval.RxMap {
	t.Helper()
	_, rxdir := devGold(t)
	rx, err := eval.LoadRxMap(rxdir)
	if err != nil {
		t.Fatal(err)
	}
	return rx
}

func med(text, code, status, extra string) json.RawMessage {
	coding := ""
	if code != "" {
		coding = fmt.Sprintf(`"coding":[{"system":"http://www.nlm.nih.gov/research/umls/rxnorm","code":%q}],`, code)
	}
	return json.RawMessage(fmt.Sprintf(`{"resourceType":"MedicationStatement","status":%q,"medicationCodeableConcept":{%s"text":%q}%s}`,
		status, coding, text, extra))
}

func cond(code, verification, clinical string) json.RawMessage {
	cs := ""
	if clinical != "" {
		cs = fmt.Sprintf(`"clinicalStatus":{"coding":[{"code":%q}]},`, clinical)
	}
	return json.RawMessage(fmt.Sprintf(`{"resourceType":"Condition",%s"verificationStatus":{"coding":[{"code":%q}]},"code":{"coding":[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":%q}]}}`,
		cs, verification, code))
}

func ptr(s string) *string { return &s }

// TestScoreMedications checks the medication rules of the README: RxCUI
// sets through the links table (SCD, BN), MIN names, salts, names where the
// gold has no RxCUI, class terms, status errors, allergies as medications
// and the exception for a drug that is both.
func TestScoreMedications(t *testing.T) {
	rx := loadRx(t)
	doc := eval.Doc{ID: "d", Source: "mtsamples", Medications: []eval.GoldMed{
		{Ingredient: "lisinopril", RxCUIs: []string{"29046"}, Status: "active", Dose: ptr("10 mg"), Frequency: ptr("daily")},
		{Ingredient: "sulfamethoxazole / trimethoprim", RxCUIs: []string{"10180", "10829"}, Status: "active", Frequency: ptr("PRN")},
		{Ingredient: "metoprolol", RxCUIs: []string{"6918"}, Status: "stopped"},
		{Ingredient: "saw palmetto", Status: "active"},
		{Ingredient: "corticosteroid", Status: "active", Nonspecific: true},
		{Ingredient: "sildenafil", RxCUIs: []string{"136411"}, Status: "not-taken"},
		{Ingredient: "haloperidol", RxCUIs: []string{"5093"}, Status: "not-taken", IsAllergy: true},
		{Ingredient: "aspirin", RxCUIs: []string{"1191"}, Status: "not-taken", IsAllergy: true},
		{Ingredient: "aspirin", RxCUIs: []string{"1191"}, Status: "active"},
		{Ingredient: "warfarin", RxCUIs: []string{"11289"}, Status: "unknown"},
	}}
	resources := []json.RawMessage{
		// lisinopril 10 MG Oral Tablet (SCD) -> 29046 through the links table.
		med("Lisinopril", "314076", "active", `,"dosage":[{"timing":{"code":{"coding":[{"code":"QD"}]}},"doseAndRate":[{"doseQuantity":{"value":10,"unit":"mg"}}]}]`),
		// Bactrim (BN) -> sulfamethoxazole + trimethoprim through the links table.
		med("Bactrim", "151399", "active", `,"dosage":[{"asNeededBoolean":true}]`),
		// metoprolol succinate (PIN) -> metoprolol.
		med("metoprolol succinate", "221124", "stopped", ""),
		med("Saw palmetto", "", "active", ""),
		med("steroids", "", "active", ""),
		med("Viagra", "136411", "active", ""),  // not-taken emitted active: status error
		med("Haldol", "5093", "active", ""),    // an allergy emitted as a medication
		med("aspirin", "1191", "active", ""),   // both an allergy and a drug: matches the drug
		med("warfarin", "11289", "active", ""), // unknown status: neutral
		med("ibuprofen", "5640", "active", ""), // not in the gold
	}
	res, err := eval.Score(doc, resources, rx, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	want := eval.Counts{Docs: 1, MedGold: 6, MedTP: 6, MedFP: 3, MedRxGold: 5, MedRxTP: 5, MedRxFP: 3,
		AllergyGold: 2, AllergyAsMed: 1, StatusErrors: 1, StatusMatched: 6, DoseGold: 1, DoseMatched: 1,
		FreqGold: 2, FreqMatched: 2, MedLenientTP: 6, MedLenientFP: 3, Resources: 10}
	got := eval.Counts{Docs: c.Docs, MedGold: c.MedGold, MedTP: c.MedTP, MedFP: c.MedFP, MedRxGold: c.MedRxGold,
		MedRxTP: c.MedRxTP, MedRxFP: c.MedRxFP, AllergyGold: c.AllergyGold, AllergyAsMed: c.AllergyAsMed,
		StatusErrors: c.StatusErrors, StatusMatched: c.StatusMatched, DoseGold: c.DoseGold, DoseMatched: c.DoseMatched,
		FreqGold: c.FreqGold, FreqMatched: c.FreqMatched, MedLenientTP: c.MedLenientTP, MedLenientFP: c.MedLenientFP,
		Resources: c.Resources}
	if got != want {
		t.Errorf("counts\n got %+v\nwant %+v\nfalse positives %q\nmisses %q", got, want, res.FalsePositives, res.Misses)
	}
}

// TestScoreConditions checks the condition rules: exact before category,
// positives first, refuted conditions out of precision, assertion errors,
// tentative statuses for possible items, family history codes.
func TestScoreConditions(t *testing.T) {
	doc := eval.Doc{ID: "d", Source: "mtsamples", Conditions: []eval.GoldCond{
		{Code: "I10", Category: "I10", Assertion: "present", Kind: "diagnosis"},
		{Code: "E11.9", Category: "E11", Assertion: "present", Kind: "diagnosis"},
		{Code: "R07.9", Category: "R07", Assertion: "negated", Kind: "symptom"},
		{Code: "R05.9", Category: "R05", Assertion: "negated", Kind: "symptom"},
		{Code: "G47.33", Category: "G47", Assertion: "possible", Kind: "diagnosis"},
		{Code: "I25.10", Category: "I25", Acceptable: []string{"Z82.49"}, Assertion: "family", Kind: "diagnosis"},
		{Code: "E78.5", Category: "E78", Assertion: "family", Kind: "diagnosis"},
		{Code: "R60.0", Category: "R60", Acceptable: []string{"R60.9"}, Assertion: "historical", Kind: "finding"},
		{Code: "J45.909", Category: "J45", Assertion: "present", Kind: "diagnosis"},
	}}
	resources := []json.RawMessage{
		cond("I10", "confirmed", "active"),      // exact
		cond("E11.65", "confirmed", "active"),   // category only
		cond("R07.9", "refuted", ""),            // negated and refuted: right, not counted
		cond("R05.9", "confirmed", "active"),    // negated but asserted: error
		cond("G47.33", "provisional", "active"), // possible and tentative: neutral
		cond("Z82.49", "confirmed", "active"),   // family item with its family code: neutral
		cond("E78.5", "confirmed", "active"),    // family item as the patient's: error
		cond("R60.9", "confirmed", "resolved"),  // historical finding, marked resolved
		cond("K21.9", "confirmed", "active"),    // not in the gold
	}
	res, err := eval.Score(doc, resources, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	c := res.Counts
	checks := []struct {
		name      string
		got, want int
	}{
		{"gold", c.CondGold, 4}, {"exact tp", c.CondExactTP, 2}, {"exact fp", c.CondExactFP, 4},
		{"category tp", c.CondCatTP, 3}, {"category fp", c.CondCatFP, 3},
		{"no-findings gold", c.CondNFGold, 3}, {"no-findings category tp", c.CondNFCatTP, 2},
		{"negated asserted", c.NegatedAsserted, 1}, {"family asserted", c.FamilyAsserted, 1},
		{"possible confirmed", c.PossibleConfirmed, 0}, {"negated refuted", c.NegatedRefuted, 1},
		{"historical matched", c.HistoricalMatched, 1}, {"historical marked", c.HistoricalMarked, 1},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %d, want %d (false positives %q, misses %q)", ch.name, ch.got, ch.want, res.FalsePositives, res.Misses)
		}
	}
}

func TestNormalizeDrugName(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"Metoprolol Succinate":   "metoprolol",
		"Paracetamol":            "acetaminophen",
		"potassium chloride":     "potassium",
		"isosorbide mononitrate": "isosorbide mononitrate",
		"Salbutamol":             "albuterol",
		"Acetylsalicylic acid":   "aspirin",
	} {
		if got := eval.NormalizeDrugName(in); got != want {
			t.Errorf("NormalizeDrugName(%q) = %q, want %q", in, got, want)
		}
	}
}
