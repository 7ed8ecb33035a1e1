package extract

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/medscribe/medscribe/fhir"
)

// sigWant is what a sig phrase must become, as FHIR Dosage elements:
// "dose" is "value unit" or "low-high unit"; "timing" the timing code, or
// "f/p unit" for explicit repeats; "when" the event codes; "route" the
// SNOMED CT code; "prn" "true" or the as-needed reason; "bounds" the
// duration "value unit"; "count" the total count.
type sigWant map[string]string

var sigCases = []struct {
	said string
	want sigWant
}{
	{"500 mg by mouth twice daily", sigWant{"dose": "500 mg", "route": "26643006", "timing": "BID"}},
	{"500 mg po bid", sigWant{"dose": "500 mg", "route": "26643006", "timing": "BID"}},
	{"500 mg p.o. b.i.d.", sigWant{"dose": "500 mg", "route": "26643006", "timing": "BID"}},
	{"10 mg q.d.", sigWant{"dose": "10 mg", "timing": "QD"}},
	{"10mg qd", sigWant{"dose": "10 mg", "timing": "QD"}},
	{"10 mg once daily", sigWant{"dose": "10 mg", "timing": "QD"}},
	{"10 mg once a day", sigWant{"dose": "10 mg", "timing": "QD"}},
	{"10 mg daily", sigWant{"dose": "10 mg", "timing": "QD"}},
	{"10 mg every day", sigWant{"dose": "10 mg", "timing": "QD"}},
	{"25 mg twice a day", sigWant{"dose": "25 mg", "timing": "BID"}},
	{"25 mg two times a day", sigWant{"dose": "25 mg", "timing": "BID"}},
	{"500 mg t.i.d.", sigWant{"dose": "500 mg", "timing": "TID"}},
	{"500 mg three times a day", sigWant{"dose": "500 mg", "timing": "TID"}},
	{"500 mg tid", sigWant{"dose": "500 mg", "timing": "TID"}},
	{"1 g q.i.d.", sigWant{"dose": "1 g", "timing": "QID"}},
	{"1 g four times daily", sigWant{"dose": "1 g", "timing": "QID"}},
	{"20 mg q.h.s.", sigWant{"dose": "20 mg", "timing": "BED", "when": "HS"}},
	{"20 mg qhs", sigWant{"dose": "20 mg", "timing": "BED", "when": "HS"}},
	{"20 mg at bedtime", sigWant{"dose": "20 mg", "timing": "BED", "when": "HS"}},
	{"20 mg nightly", sigWant{"dose": "20 mg", "timing": "BED", "when": "HS"}},
	{"5 mg every morning", sigWant{"dose": "5 mg", "timing": "AM", "when": "MORN"}},
	{"5 mg in the evening", sigWant{"dose": "5 mg", "timing": "PM", "when": "EVE"}},
	{"650 mg q4-6h p.r.n.", sigWant{"dose": "650 mg", "timing": "Q4-6H", "prn": "true"}},
	{"650 mg q 4 to 6 hours as needed for pain", sigWant{"dose": "650 mg", "timing": "Q4-6H", "prn": "pain"}},
	{"1 tablet every 8 hours", sigWant{"dose": "1 tablet", "timing": "Q8H"}},
	{"one tablet every 8 hours", sigWant{"dose": "1 tablet", "timing": "Q8H"}},
	{"two tablets q6h", sigWant{"dose": "2 tablets", "timing": "Q6H"}},
	{"1-2 tablets q4h prn pain", sigWant{"dose": "1-2 tablets", "timing": "Q4H", "prn": "pain"}},
	{"one to two tablets every 4 hours as needed", sigWant{"dose": "1-2 tablets", "timing": "Q4H", "prn": "true"}},
	{"5 to 10 mg every 6 hours prn", sigWant{"dose": "5-10 mg", "timing": "Q6H", "prn": "true"}},
	{"2 puffs q4h prn wheezing", sigWant{"dose": "2 puffs", "timing": "Q4H", "prn": "wheezing", "route": "447694001"}},
	{"2 puffs inhaled twice daily", sigWant{"dose": "2 puffs", "timing": "BID", "route": "447694001"}},
	{"1 drop in each eye twice daily", sigWant{"dose": "1 drop", "timing": "BID", "route": "54485002"}},
	{"apply topically twice a day", sigWant{"route": "6064005", "timing": "BID"}},
	{"40 mg IV daily", sigWant{"dose": "40 mg", "route": "47625008", "timing": "QD"}},
	{"1 g intravenously every 8 hours", sigWant{"dose": "1 g", "route": "47625008", "timing": "Q8H"}},
	{"200 mg IM every 3 weeks", sigWant{"dose": "200 mg", "route": "78421000", "timing": "Q3WK"}},
	{"20 units subcutaneously at bedtime", sigWant{"dose": "20 units", "route": "34206005", "timing": "BED", "when": "HS"}},
	{"10 units subq with meals", sigWant{"dose": "10 units", "route": "34206005", "when": "C"}},
	{"0.4 mg sublingual every 5 minutes as needed", sigWant{"dose": "0.4 mg", "route": "37839007", "timing": "1/5 min", "prn": "true"}},
	{"0.125 mg daily", sigWant{"dose": "0.125 mg", "timing": "QD"}},
	{"20 mEq daily", sigWant{"dose": "20 mEq", "timing": "QD"}},
	{"100 mcg every morning", sigWant{"dose": "100 mcg", "timing": "AM", "when": "MORN"}},
	{"500 mg twice daily for 7 days", sigWant{"dose": "500 mg", "timing": "BID", "bounds": "7 days"}},
	{"500 mg b.i.d. x 10 days", sigWant{"dose": "500 mg", "timing": "BID", "bounds": "10 days"}},
	{"one tablet twice a day for three days", sigWant{"dose": "1 tablet", "timing": "BID", "bounds": "3 days"}},
	{"10 mg daily for 2 weeks", sigWant{"dose": "10 mg", "timing": "QD", "bounds": "2 weeks"}},
	{"every other day", sigWant{"timing": "QOD"}},
	{"once a week", sigWant{"timing": "WK"}},
	{"weekly", sigWant{"timing": "WK"}},
	{"monthly", sigWant{"timing": "MO"}},
	{"three times weekly", sigWant{"timing": "3/1 wk"}},
	{"twice weekly", sigWant{"timing": "2/1 wk"}},
	{"every 2 weeks", sigWant{"timing": "Q2WK"}},
	{"q12h", sigWant{"timing": "Q12H"}},
	{"q.4h.", sigWant{"timing": "Q4H"}},
	{"every 24 hours", sigWant{"timing": "QD"}},
	{"p.r.n.", sigWant{"prn": "true"}},
	{"as needed for anxiety", sigWant{"prn": "anxiety"}},
	{"with meals", sigWant{"when": "C"}},
	{"before meals", sigWant{"when": "AC"}},
	{"with breakfast", sigWant{"when": "CM"}},
	{"once", sigWant{"count": "1"}},
	{"half a tablet daily", sigWant{"dose": "0.5 tablets", "timing": "QD"}},
	{"1/2 tablet at bedtime", sigWant{"dose": "0.5 tablets", "timing": "BED", "when": "HS"}},
	{"500 mg, one tablet, by mouth daily", sigWant{"dose": "500 mg", "route": "26643006", "timing": "QD"}},
	{"500 mg, two tablets twice daily", sigWant{"dose": "2 tablets", "timing": "BID"}},
	{"5 mL by mouth three times daily", sigWant{"dose": "5 mL", "route": "26643006", "timing": "TID"}},
	{"1 capsule po q.d.", sigWant{"dose": "1 capsule", "route": "26643006", "timing": "QD"}},
	{"one patch every 72 hours", sigWant{"dose": "1 patch", "timing": "Q72H", "route": "45890007"}},
	{"1 suppository rectally at bedtime", sigWant{"dose": "1 suppository", "route": "37161004", "timing": "BED", "when": "HS"}},
	{"2 sprays in each nostril daily", sigWant{"dose": "2 sprays", "route": "46713006", "timing": "QD"}},
	{"81 mg daily", sigWant{"dose": "81 mg", "timing": "QD"}},
	{"1,000 mg twice daily", sigWant{"dose": "1000 mg", "timing": "BID"}},
	{"200 mg IM q.3 weekly", sigWant{"dose": "200 mg", "route": "78421000", "timing": "Q3WK"}},
	{"IM on a monthly basis", sigWant{"route": "78421000", "timing": "MO"}},
	{"1 tablet p.o. every bedtime", sigWant{"dose": "1 tablet", "route": "26643006", "timing": "BED", "when": "HS"}},
	{"Mondays, Wednesdays and Fridays", sigWant{"timing": "3/1 wk"}},
	{"one daily", sigWant{"dose": "1 tablet", "timing": "QD"}},
	{"250/50 b.i.d.", sigWant{"timing": "BID"}},
}

// TestSigToDosage reads each sig phrase, applies it to a medication and
// builds the FHIR Dosage, then checks the Dosage's elements.
func TestSigToDosage(t *testing.T) {
	t.Parallel()
	if len(sigCases) < 60 {
		t.Fatalf("%d sig cases, want at least 60", len(sigCases))
	}
	for _, tc := range sigCases {
		t.Run(tc.said, func(t *testing.T) {
			t.Parallel()
			toks := tokenize(tc.said)
			s := parseSig(toks, 0, len(toks))
			if s.end != len(toks) && !(s.end == len(toks)-1 && toks[len(toks)-1].norm == ".") {
				t.Errorf("sig read %d of %d tokens", s.end, len(toks))
			}
			m := fhir.MedicationItem{ID: "m", Name: "drug"}
			s.apply(&m)
			d, err := fhir.NewDosage(m)
			if err != nil {
				t.Fatalf("NewDosage: %v", err)
			}
			if d == nil {
				t.Fatal("no dosage")
			}
			got := dosageParts(d)
			for k, v := range tc.want {
				if got[k] != v {
					t.Errorf("%s = %q, want %q (dosage %s)", k, got[k], v, mustJSON(d))
				}
			}
			for k, v := range got {
				if _, ok := tc.want[k]; !ok && v != "" {
					t.Errorf("unexpected %s = %q (dosage %s)", k, v, mustJSON(d))
				}
			}
		})
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// dosageParts reads the elements sigWant names from a Dosage.
func dosageParts(d *fhir.Dosage) map[string]string {
	out := map[string]string{}
	for _, dr := range d.DoseAndRate {
		if q := dr.DoseQuantity; q != nil {
			out["dose"] = string(q.Value) + " " + q.Unit
		}
		if r := dr.DoseRange; r != nil && r.Low != nil && r.High != nil {
			out["dose"] = string(r.Low.Value) + "-" + string(r.High.Value) + " " + r.High.Unit
		}
	}
	if d.Route != nil {
		for _, c := range d.Route.Coding {
			if c.System == fhir.SystemSNOMED {
				out["route"] = c.Code
			}
		}
	}
	if tm := d.Timing; tm != nil {
		if tm.Code != nil {
			out["timing"] = tm.Code.Text
		} else if r := tm.Repeat; r != nil && r.Frequency != nil && r.Period != "" {
			out["timing"] = strings.TrimSpace(
				strings.Join([]string{itoa(*r.Frequency) + "/" + string(r.Period), r.PeriodUnit}, " "))
		}
		if r := tm.Repeat; r != nil {
			if len(r.When) > 0 {
				out["when"] = strings.Join(r.When, ",")
			}
			if r.BoundsDuration != nil {
				out["bounds"] = string(r.BoundsDuration.Value) + " " + r.BoundsDuration.Unit
			}
			if r.Count != nil {
				out["count"] = itoa(*r.Count)
			}
		}
	}
	switch {
	case d.AsNeededCodeableConcept != nil:
		out["prn"] = d.AsNeededCodeableConcept.Text
	case d.AsNeededBoolean != nil && *d.AsNeededBoolean:
		out["prn"] = "true"
	}
	return out
}

func itoa(n int) string {
	b, _ := json.Marshal(n)
	return string(b)
}
