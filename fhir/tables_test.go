package fhir

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestInvariantsImplemented fails when the tables name a constraint the validator has
// no code for (after a generator change adds types, say).
func TestInvariantsImplemented(t *testing.T) {
	t.Parallel()
	used := map[string]bool{}
	for i := range typeTable {
		for _, k := range typeTable[i].invariants {
			used[k] = true
		}
		for _, e := range typeTable[i].elems {
			for _, k := range e.invariants {
				used[k] = true
			}
		}
	}
	for k := range used {
		if !implementedInvariants[k] {
			t.Errorf("invariant %s is in the tables but not implemented", k)
		}
		if _, ok := invariantTable[k]; !ok {
			t.Errorf("invariant %s has no definition in invariantTable", k)
		}
	}
	if !used["con-3"] || !used["tim-9"] || !used["bdl-7"] || !used["txt-1"] {
		t.Errorf("expected invariants missing from the tables: %v", used)
	}
}

// TestPrimitiveChecksMatchRegex compares the hand-written lexical checks with the
// official regexes of the primitive StructureDefinitions on valid and invalid samples.
func TestPrimitiveChecksMatchRegex(t *testing.T) {
	t.Parallel()
	samples := []string{
		"", " ", "a", "a b", "a  b", " a", "a ", "x\ty", "abc\u000b", "über", "1", "-1", "0", "-0", "01", "1.0", "1.", ".5",
		"1e3", "1E-3", "2147483647", "2147483648", "-2147483648", "-2147483649", "true",
		"2020", "0000", "2020-1", "2020-01", "2020-13", "2020-02-29", "2021-02-29", "2020-04-31", "2020-01-01T10:00",
		"2020-01-01T10:00:00", "2020-01-01T10:00:00Z", "2020-01-01T10:00:00.123+05:30", "2020-01-01T24:00:00Z",
		"2020-01-01T10:00:60Z", "2020-01-01T10:00:00+14:00", "2020-01-01T10:00:00+14:30", "2020-01-01T10:00:00-13:59",
		"10:00:00", "10:00", "23:59:60.5", "24:00:00",
		"urn:oid:1.2.3", "urn:oid:3.1", "urn:oid:1.02", "urn:oid:1",
		"urn:uuid:7f1c1e2a-0000-4000-8000-000000000001", "urn:uuid:7F1C1E2A-0000-4000-8000-000000000001",
		"http://x.org/a", "http://x y", "abc-DEF.12", strings.Repeat("a", 64), strings.Repeat("a", 65), "a_b",
		"aGVsbG8=", "aGVs bG8=", "aGVsbG8", "aGVs\nbG8=",
	}
	for i := range typeTable {
		td := &typeTable[i]
		if td.kind != kindPrimitive || td.regex == "" {
			continue
		}
		re := regexp.MustCompile("^(?:" + td.regex + ")$")
		for _, s := range samples {
			if td.prim == primBoolean {
				continue // JSON booleans, not strings
			}
			want := re.MatchString(s)
			got := checkPrimitive(td.prim, s) == ""
			if s == "" {
				want = false // FHIR JSON has no empty strings, whatever the regex allows
			}
			if td.prim == primInteger || td.prim == primPositiveInt || td.prim == primUnsignedInt {
				// The regexes have no range; FHIR integers are 32-bit.
				if v, err := strconv.ParseInt(s, 10, 64); err == nil && (v > math.MaxInt32 || v < math.MinInt32) {
					want = false
				}
			}
			if td.prim == primDate || td.prim == primDateTime || td.prim == primInstant {
				// The regexes allow impossible days; the checks follow the calendar.
				if strings.HasPrefix(s, "2021-02-29") || strings.HasPrefix(s, "2020-04-31") {
					want = false
				}
			}
			if td.prim == primString || td.prim == primMarkdown || td.prim == primCode || td.prim == primURI ||
				td.prim == primURL || td.prim == primCanonical {
				// RE2's \s lacks \v, Java's has it: follow Java.
				if strings.Contains(s, "\u000b") {
					want = false
				}
			}
			if got != want {
				t.Errorf("%s %q: check says %v, regex says %v (%s)", td.name, s, got, want, checkPrimitive(td.prim, s))
			}
		}
	}
}

// TestSigCodesExist checks every code the builders write against the core code systems.
func TestSigCodesExist(t *testing.T) {
	t.Parallel()
	check := func(system, code, display string) {
		t.Helper()
		cs := codeSystemIndex[system]
		if cs == nil {
			t.Fatalf("code system %s not in the tables", system)
		}
		c := cs.lookup(code)
		if c == nil {
			t.Errorf("%s#%s does not exist", system, code)
			return
		}
		if display != "" && !displayMatches(display, c.display, c.designations) {
			t.Errorf("%s#%s display %q, the code system says %q", system, code, display, c.display)
		}
	}
	for _, r := range routes {
		check(systemRouteV3, r.v3, r.v3Display)
	}
	for _, u := range units {
		if u.system == systemDrugFormV3 {
			check(u.system, u.code, "")
		}
	}
	for code, d := range gtsDisplay {
		check(systemGTSAbbrev, code, d)
	}
	for _, r := range relatives {
		check(systemRoleCode, r.code, r.display)
	}
	check(systemRoleCode, familyMember.code, familyMember.display)
	for code, d := range clinicalDisplay {
		check(systemCondClinical, code, d)
	}
	for code, d := range verificationDisplay {
		check(systemCondVerStatus, code, d)
	}
	check(systemProvAgentType, "assembler", "Assembler")
	check(systemDataOperation, "CREATE", "create")
	timing := valueSetIndex["http://hl7.org/fhir/ValueSet/event-timing"]
	for w := range whenText {
		if _, ok := timing.byCode[w]; !ok {
			t.Errorf("event timing %s is not in the event-timing value set", w)
		}
	}
	units := valueSetIndex["http://hl7.org/fhir/ValueSet/units-of-time"]
	for code := range timeUnits {
		if _, ok := units.byCode[code]; !ok {
			t.Errorf("unit of time %s is not in the units-of-time value set", code)
		}
	}
	abbrev := valueSetIndex["http://hl7.org/fhir/ValueSet/timing-abbreviation"]
	for code := range gtsDisplay {
		if !abbrev.contains(systemGTSAbbrev, code) {
			t.Errorf("%s is not in the timing-abbreviation value set", code)
		}
	}
}
