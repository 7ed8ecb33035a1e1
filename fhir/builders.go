package fhir

import (
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidItem is wrapped by every builder error caused by the item's content.
var ErrInvalidItem = errors.New("invalid item")

// ErrFamilyAssertion is returned by NewCondition for a family-history assertion: a
// relative's condition must be built with NewFamilyMemberHistory, never as the patient's
// own Condition.
var ErrFamilyAssertion = errors.New("family history is a FamilyMemberHistory, not a Condition")

func itemErr(kind, id, format string, args ...any) error {
	return fmt.Errorf("%s item %q: %s: %w", kind, id, fmt.Sprintf(format, args...), ErrInvalidItem)
}

// resourceID turns an item id into a FHIR id ([A-Za-z0-9\-.]{1,64}): other characters
// become '-', and an id longer than 64 keeps its first 55 characters plus a hash so that
// distinct items stay distinct.
func resourceID(kind, itemID string) (string, error) {
	if itemID == "" {
		return "", itemErr(kind, itemID, "empty id")
	}
	b := []byte(itemID)
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			b[i] = '-'
		}
	}
	if len(b) > 64 {
		sum := sha1.Sum([]byte(itemID))
		b = append(b[:55], '-')
		b = append(b, hex.EncodeToString(sum[:4])...)
	}
	return string(b), nil
}

// formatDateTime writes t as a FHIR dateTime/instant with seconds and zone.
func formatDateTime(t time.Time) string { return t.Format("2006-01-02T15:04:05Z07:00") }

func coding(system, code, display string) Coding {
	return Coding{System: system, Code: code, Display: display}
}

func concept(system, code, display string) *CodeableConcept {
	return &CodeableConcept{Coding: []Coding{coding(system, code, display)}}
}

// itemConcept is the CodeableConcept of an item's coding and name; defaultSystem fills
// an empty system.
func itemConcept(kind, id string, c Coding, name, text, defaultSystem string) (*CodeableConcept, error) {
	// Without a code, a system or display alone says nothing a Coding could carry; the
	// display still names the concept in the text.
	cc := &CodeableConcept{Text: firstNonEmpty(name, c.Display, text)}
	if c.Code != "" {
		if c.System == "" {
			c.System = defaultSystem
		}
		cc.Coding = []Coding{{System: c.System, Version: c.Version, Code: c.Code, Display: c.Display}}
	}
	if cc.Text == "" && len(cc.Coding) == 0 {
		return nil, itemErr(kind, id, "no code, name or text")
	}
	return cc, nil
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x = strings.TrimSpace(x); x != "" {
			return x
		}
	}
	return ""
}

func annotation(note string) []Annotation {
	if strings.TrimSpace(note) == "" {
		return nil
	}
	return []Annotation{{Text: note}}
}

// narrative builds the generated XHTML summary that FHIR asks every resource to carry
// (dom-6); rows are label/value pairs, empty values are skipped.
func narrative(rows ...string) *Narrative {
	var b strings.Builder
	b.WriteString(`<div xmlns="http://www.w3.org/1999/xhtml">`)
	for i := 0; i+1 < len(rows); i += 2 {
		if strings.TrimSpace(rows[i+1]) == "" {
			continue
		}
		b.WriteString("<p><b>")
		b.WriteString(html.EscapeString(rows[i]))
		b.WriteString("</b>: ")
		b.WriteString(html.EscapeString(strings.TrimSpace(rows[i+1])))
		b.WriteString("</p>")
	}
	b.WriteString("</div>")
	return &Narrative{Status: "generated", Div: b.String()}
}

func ccText(cc *CodeableConcept) string {
	if cc == nil {
		return ""
	}
	s := cc.Text
	for _, c := range cc.Coding {
		code := c.Code
		if c.Display != "" && c.Display != cc.Text {
			code += " " + c.Display
		}
		if s == "" {
			s = code
		} else {
			s += " (" + code + ")"
		}
	}
	return s
}

var medicationStatuses = map[string]bool{
	"active": true, "completed": true, "entered-in-error": true, "intended": true, "stopped": true,
	"on-hold": true, "unknown": true, "not-taken": true,
}

// NewMedicationStatement builds a MedicationStatement from an extracted medication.
func NewMedicationStatement(item MedicationItem, bc BuildContext) (*MedicationStatement, error) {
	const kind = "medication"
	id, err := resourceID(kind, item.ID)
	if err != nil {
		return nil, err
	}
	status := item.Status
	if status == "" {
		status = "active"
	}
	if !medicationStatuses[status] {
		return nil, itemErr(kind, item.ID, "unknown status %q", status)
	}
	med, err := itemConcept(kind, item.ID, item.Code, item.Name, item.Text, SystemRxNorm)
	if err != nil {
		return nil, err
	}
	dosage, err := NewDosage(item)
	if err != nil {
		return nil, err
	}
	ms := &MedicationStatement{
		ID:                        id,
		Status:                    status,
		MedicationCodeableConcept: med,
		Subject:                   subjectRef(bc),
		Context:                   bc.Encounter,
		Note:                      annotation(item.Note),
	}
	if !bc.Recorded.IsZero() {
		ms.DateAsserted = formatDateTime(bc.Recorded)
	}
	sig := ""
	if dosage != nil {
		ms.Dosage = []Dosage{*dosage}
		sig = dosage.Text
	}
	ms.Text = narrative("Medication", ccText(med), "Dosage", sig, "Status", status, "Dictated", item.Text, "Note", item.Note)
	return ms, nil
}

func subjectRef(bc BuildContext) *Reference {
	if bc.Subject.Reference == "" && bc.Subject.Display == "" && bc.Subject.Identifier == nil {
		return nil
	}
	r := bc.Subject
	return &r
}

// NewDosage builds the Dosage of a medication item's sig, or returns nil when the item
// says nothing about dose, route, frequency, duration or PRN use.
func NewDosage(item MedicationItem) (*Dosage, error) {
	const kind = "medication"
	d := &Dosage{}
	var parts []string
	if !item.Dose.IsZero() {
		dr, text, err := doseAndRate(item)
		if err != nil {
			return nil, err
		}
		d.DoseAndRate = []DosageDoseAndRate{dr}
		parts = append(parts, text)
	}
	if w := strings.TrimSpace(item.Route); w != "" {
		if r, ok := lookupRoute(w); ok {
			d.Route = &CodeableConcept{
				Coding: []Coding{coding(SystemSNOMED, r.snomed, r.snomedDisplay), coding(systemRouteV3, r.v3, r.v3Display)},
				Text:   w,
			}
			parts = append(parts, r.text)
		} else {
			d.Route = &CodeableConcept{Text: w}
			parts = append(parts, w)
		}
	}
	timing, text, err := buildTiming(item)
	if err != nil {
		return nil, err
	}
	if timing != nil {
		d.Timing = timing
	}
	if text.freq != "" {
		parts = append(parts, text.freq)
	}
	switch {
	case strings.TrimSpace(item.AsNeededFor) != "":
		reason := strings.TrimSpace(item.AsNeededFor)
		d.AsNeededCodeableConcept = &CodeableConcept{Text: reason}
		if strings.HasPrefix(reason, "for ") {
			parts = append(parts, "as needed "+reason)
		} else {
			parts = append(parts, "as needed for "+reason)
		}
	case item.AsNeeded:
		d.AsNeededBoolean = Ptr(true)
		parts = append(parts, "as needed")
	}
	if text.duration != "" {
		parts = append(parts, text.duration)
	}
	if len(parts) == 0 && strings.TrimSpace(item.SigText) == "" {
		return nil, nil
	}
	d.Text = firstNonEmpty(item.SigText, strings.Join(parts, " "))
	if d.Text == "" {
		return nil, itemErr(kind, item.ID, "empty sig")
	}
	return d, nil
}

// quantity builds a SimpleQuantity for a dose value and its spoken unit.
func quantity(kind, id string, v Decimal, unitWord string) (*Quantity, string, error) {
	if _, err := ParseDecimal(string(v)); err != nil {
		return nil, "", itemErr(kind, id, "dose %q is not a number", string(v))
	}
	q := &Quantity{Value: v}
	text := string(v)
	if w := strings.TrimSpace(unitWord); w != "" {
		if u, ok := lookupUnit(w); ok {
			q.Unit, q.System, q.Code = u.text, u.system, u.code
			if string(v) != "1" && u.plural != u.text {
				q.Unit = u.plural
			}
		} else {
			q.Unit = w
		}
		text += " " + q.Unit
	}
	return q, text, nil
}

func doseAndRate(item MedicationItem) (DosageDoseAndRate, string, error) {
	const kind = "medication"
	d := item.Dose
	if d.Value != "" {
		if d.Low != "" || d.High != "" {
			return DosageDoseAndRate{}, "", itemErr(kind, item.ID, "dose has both a value and a range")
		}
		q, text, err := quantity(kind, item.ID, d.Value, d.Unit)
		if err != nil {
			return DosageDoseAndRate{}, "", err
		}
		return DosageDoseAndRate{DoseQuantity: q}, text, nil
	}
	r := &Range{}
	var lowText, highText string
	var err error
	if d.Low != "" {
		if r.Low, lowText, err = quantity(kind, item.ID, d.Low, d.Unit); err != nil {
			return DosageDoseAndRate{}, "", err
		}
	}
	if d.High != "" {
		if r.High, highText, err = quantity(kind, item.ID, d.High, d.Unit); err != nil {
			return DosageDoseAndRate{}, "", err
		}
	}
	if r.Low != nil && r.High != nil {
		lo, _ := d.Low.Float64()
		hi, _ := d.High.Float64()
		if lo > hi {
			return DosageDoseAndRate{}, "", itemErr(kind, item.ID, "dose range %s to %s is reversed", d.Low, d.High)
		}
		// "5 to 10 mg": the unit once, after the high value.
		lowText = string(d.Low)
	}
	text := strings.TrimSpace(strings.Join([]string{lowText, highText}, " to "))
	switch {
	case r.Low == nil:
		text = "up to " + highText
	case r.High == nil:
		text = "at least " + lowText
	}
	return DosageDoseAndRate{DoseRange: r}, text, nil
}

type sigText struct{ freq, duration string }

// buildTiming builds Dosage.timing from the frequency and duration of an item.
func buildTiming(item MedicationItem) (*Timing, sigText, error) {
	const kind = "medication"
	f := item.Frequency
	var st sigText
	t := &Timing{}
	rep := &TimingRepeat{}
	if c := strings.TrimSpace(f.Code); c != "" {
		a, norm, ok := lookupAbbreviation(c)
		if !ok {
			// Keep what was said even when it cannot be structured.
			t.Code = &CodeableConcept{Text: c}
			st.freq = c
		} else {
			t.Code = &CodeableConcept{Text: norm}
			if a.gts != "" {
				t.Code.Coding = []Coding{coding(systemGTSAbbrev, a.gts, gtsDisplay[a.gts])}
			}
			rep.Frequency = Ptr(a.times)
			rep.Period = Decimal(a.period)
			rep.PeriodMax = Decimal(a.periodMax)
			rep.PeriodUnit = a.unit
			rep.When = append([]string(nil), a.when...)
			st.freq = a.text
		}
	}
	explicit := false
	if f.Times != 0 {
		if f.Times < 0 {
			return nil, st, itemErr(kind, item.ID, "frequency %d is negative", f.Times)
		}
		rep.Frequency = Ptr(f.Times)
		explicit = true
	}
	if f.Period != "" {
		if _, err := ParseDecimal(string(f.Period)); err != nil || strings.HasPrefix(string(f.Period), "-") {
			return nil, st, itemErr(kind, item.ID, "period %q is not a positive number", f.Period)
		}
		rep.Period = f.Period
		explicit = true
	}
	if f.PeriodMax != "" {
		if _, err := ParseDecimal(string(f.PeriodMax)); err != nil || strings.HasPrefix(string(f.PeriodMax), "-") {
			return nil, st, itemErr(kind, item.ID, "period max %q is not a positive number", f.PeriodMax)
		}
		rep.PeriodMax = f.PeriodMax
		explicit = true
	}
	if f.PeriodUnit != "" {
		u, ok := lookupTimeUnit(f.PeriodUnit)
		if !ok {
			return nil, st, itemErr(kind, item.ID, "unknown period unit %q", f.PeriodUnit)
		}
		rep.PeriodUnit = u.code
		explicit = true
	}
	if len(f.When) > 0 {
		rep.When = nil
		for _, w := range f.When {
			w = strings.ToUpper(strings.TrimSpace(w))
			if _, ok := whenText[w]; !ok && !strings.Contains(w, ".") {
				return nil, st, itemErr(kind, item.ID, "unknown event timing %q", w)
			}
			rep.When = append(rep.When, w)
		}
		explicit = true
	}
	if f.Count != 0 {
		if f.Count < 0 {
			return nil, st, itemErr(kind, item.ID, "count %d is negative", f.Count)
		}
		rep.Count = Ptr(f.Count)
		explicit = true
	}
	if (rep.Period != "" || rep.PeriodMax != "") && rep.PeriodUnit == "" {
		return nil, st, itemErr(kind, item.ID, "period without a unit")
	}
	if rep.PeriodMax != "" && rep.Period == "" {
		return nil, st, itemErr(kind, item.ID, "period max without a period")
	}
	if explicit {
		st.freq = frequencyText(rep)
	}
	if item.Duration.Value != "" {
		if _, err := ParseDecimal(string(item.Duration.Value)); err != nil || strings.HasPrefix(string(item.Duration.Value), "-") {
			return nil, st, itemErr(kind, item.ID, "duration %q is not a positive number", item.Duration.Value)
		}
		u, ok := lookupTimeUnit(item.Duration.Unit)
		if !ok {
			return nil, st, itemErr(kind, item.ID, "unknown duration unit %q", item.Duration.Unit)
		}
		word := u.plural
		if item.Duration.Value == "1" {
			word = u.singular
		}
		rep.BoundsDuration = &Duration{Value: item.Duration.Value, Unit: word, System: SystemUCUM, Code: u.code}
		st.duration = "for " + string(item.Duration.Value) + " " + word
	}
	if !isEmptyStructValue(rep) {
		t.Repeat = rep
	}
	if t.Repeat == nil && t.Code == nil {
		return nil, st, nil
	}
	return t, st, nil
}

// frequencyText says explicit repeat fields in words: "twice every 1 day" reads badly,
// so common shapes get their usual wording.
func frequencyText(rep *TimingRepeat) string {
	var parts []string
	if rep.Frequency != nil || rep.Period != "" {
		n := 1
		if rep.Frequency != nil {
			n = *rep.Frequency
		}
		times := map[int]string{1: "once", 2: "twice", 3: "three times", 4: "four times"}[n]
		if times == "" {
			times = strconv.Itoa(n) + " times"
		}
		u := timeUnits[rep.PeriodUnit]
		switch {
		case rep.Period == "" && rep.PeriodUnit == "":
			parts = append(parts, times)
		case rep.PeriodMax != "":
			parts = append(parts, times+" every "+string(rep.Period)+" to "+string(rep.PeriodMax)+" "+u.plural)
		case rep.Period == "1" && n == 1:
			parts = append(parts, "every "+u.singular)
		case rep.Period == "1":
			parts = append(parts, times+" a "+u.singular)
		case n == 1:
			parts = append(parts, "every "+string(rep.Period)+" "+u.plural)
		default:
			parts = append(parts, times+" every "+string(rep.Period)+" "+u.plural)
		}
	}
	for _, w := range rep.When {
		if t := whenText[w]; t != "" {
			parts = append(parts, t)
		}
	}
	if rep.Count != nil {
		if *rep.Count == 1 {
			parts = append(parts, "once only")
		} else {
			parts = append(parts, strconv.Itoa(*rep.Count)+" doses in total")
		}
	}
	return strings.Join(parts, " ")
}

// conditionStatus is what an assertion implies for a Condition.
type conditionStatus struct {
	clinical, verification string
}

var assertionStatus = map[string]conditionStatus{
	AssertionPresent:      {"active", "confirmed"},
	AssertionNegated:      {"", "refuted"},
	AssertionPossible:     {"active", "provisional"},
	AssertionHypothetical: {"", "unconfirmed"},
	AssertionHistorical:   {"resolved", "confirmed"},
}

var clinicalDisplay = map[string]string{
	"active": "Active", "recurrence": "Recurrence", "relapse": "Relapse", "inactive": "Inactive",
	"remission": "Remission", "resolved": "Resolved",
}

var verificationDisplay = map[string]string{
	"unconfirmed": "Unconfirmed", "provisional": "Provisional", "differential": "Differential",
	"confirmed": "Confirmed", "refuted": "Refuted", "entered-in-error": "Entered in Error",
}

// NewCondition builds a Condition from an extracted condition. Negated findings are
// refuted, possible ones provisional, hypothetical ones unconfirmed, historical ones
// resolved (or ClinicalStatus). A family assertion returns ErrFamilyAssertion.
func NewCondition(item ConditionItem, bc BuildContext) (*Condition, error) {
	const kind = "condition"
	id, err := resourceID(kind, item.ID)
	if err != nil {
		return nil, err
	}
	assertion := item.Assertion
	if assertion == "" {
		assertion = AssertionPresent
	}
	if assertion == AssertionFamily {
		return nil, fmt.Errorf("condition item %q: %w", item.ID, ErrFamilyAssertion)
	}
	st, ok := assertionStatus[assertion]
	if !ok {
		return nil, itemErr(kind, item.ID, "unknown assertion %q", assertion)
	}
	if item.ClinicalStatus != "" {
		if _, ok := clinicalDisplay[item.ClinicalStatus]; !ok {
			return nil, itemErr(kind, item.ID, "unknown clinical status %q", item.ClinicalStatus)
		}
		if st.clinical == "" {
			return nil, itemErr(kind, item.ID, "a %s condition has no clinical status", assertion)
		}
		st.clinical = item.ClinicalStatus
	}
	code, err := itemConcept(kind, item.ID, item.Code, item.Name, item.Text, SystemICD10CM)
	if err != nil {
		return nil, err
	}
	c := &Condition{
		ID:                 id,
		VerificationStatus: concept(systemCondVerStatus, st.verification, verificationDisplay[st.verification]),
		Code:               code,
		Subject:            subjectRef(bc),
		Encounter:          bc.Encounter,
		Note:               annotation(item.Note),
	}
	if st.clinical != "" {
		c.ClinicalStatus = concept(systemCondClinical, st.clinical, clinicalDisplay[st.clinical])
		category := concept(systemCondCategory, "encounter-diagnosis", "Encounter Diagnosis")
		if item.Kind == "problem" {
			category = concept(systemCondCategory, "problem-list-item", "Problem List Item")
		}
		c.Category = []CodeableConcept{*category}
	}
	// Refuted and hypothetical findings have no clinical status, and then carry no
	// category either: con-3 as written (and as HL7's validator evaluates it) wants a
	// clinical status on any Condition with a category.
	if o := strings.TrimSpace(item.Onset); o != "" {
		if checkPrimitive(primDateTime, o) == "" {
			c.OnsetDateTime = o
		} else {
			c.OnsetString = o
		}
	}
	if !bc.Recorded.IsZero() {
		c.RecordedDate = formatDateTime(bc.Recorded)
	}
	c.Text = narrative("Condition", ccText(code), "Clinical status", st.clinical, "Verification", st.verification,
		"Onset", item.Onset, "Dictated", item.Text, "Note", item.Note)
	return c, nil
}

var allergyCategories = map[string]bool{"medication": true, "food": true, "environment": true, "biologic": true}

// NewAllergyIntolerance builds an AllergyIntolerance (active, confirmed) from an
// extracted allergy.
func NewAllergyIntolerance(item AllergyItem, bc BuildContext) (*AllergyIntolerance, error) {
	const kind = "allergy"
	id, err := resourceID(kind, item.ID)
	if err != nil {
		return nil, err
	}
	code, err := itemConcept(kind, item.ID, item.Code, item.Name, item.Text, SystemRxNorm)
	if err != nil {
		return nil, err
	}
	a := &AllergyIntolerance{
		ID:                 id,
		ClinicalStatus:     concept(systemAllergyClin, "active", "Active"),
		VerificationStatus: concept(systemAllergyVer, "confirmed", "Confirmed"),
		Code:               code,
		Patient:            subjectRef(bc),
		Note:               annotation(item.Note),
	}
	switch item.Type {
	case "", "allergy", "intolerance":
		a.Type = item.Type
	default:
		return nil, itemErr(kind, item.ID, "unknown type %q", item.Type)
	}
	cat := item.Category
	if cat == "" && len(code.Coding) > 0 && code.Coding[0].System == SystemRxNorm {
		cat = "medication"
	}
	if cat != "" {
		if !allergyCategories[cat] {
			return nil, itemErr(kind, item.ID, "unknown category %q", cat)
		}
		a.Category = []string{cat}
	}
	if !bc.Recorded.IsZero() {
		a.RecordedDate = formatDateTime(bc.Recorded)
	}
	var manifestations []CodeableConcept
	for _, r := range item.Reactions {
		if r = strings.TrimSpace(r); r != "" {
			manifestations = append(manifestations, CodeableConcept{Text: r})
		}
	}
	if len(manifestations) > 0 {
		a.Reaction = []AllergyIntoleranceReaction{{Manifestation: manifestations}}
	}
	a.Text = narrative("Allergy", ccText(code), "Category", cat, "Reactions", strings.Join(item.Reactions, ", "),
		"Dictated", item.Text, "Note", item.Note)
	return a, nil
}

// NewFamilyMemberHistory builds a FamilyMemberHistory (status completed) holding one
// condition of a relative.
func NewFamilyMemberHistory(item FamilyHistoryItem, bc BuildContext) (*FamilyMemberHistory, error) {
	const kind = "family history"
	id, err := resourceID(kind, item.ID)
	if err != nil {
		return nil, err
	}
	code, err := itemConcept(kind, item.ID, item.Code, item.Name, item.Text, SystemICD10CM)
	if err != nil {
		return nil, err
	}
	rel, _ := lookupRelative(item.Relationship)
	relCC := &CodeableConcept{Coding: []Coding{coding(systemRoleCode, rel.code, rel.display)}}
	if w := strings.TrimSpace(item.Relationship); w != "" {
		relCC.Text = w
	}
	f := &FamilyMemberHistory{
		ID:           id,
		Status:       "completed",
		Patient:      subjectRef(bc),
		Relationship: relCC,
		Condition:    []FamilyMemberHistoryCondition{{Code: code}},
		Note:         annotation(item.Note),
	}
	if !bc.Recorded.IsZero() {
		f.Date = formatDateTime(bc.Recorded)
	}
	f.Text = narrative("Relative", firstNonEmpty(item.Relationship, rel.display), "Condition", ccText(code),
		"Dictated", item.Text, "Note", item.Note)
	return f, nil
}
