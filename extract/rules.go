package extract

import (
	"bytes"
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/medscribe/medscribe/fhir"
)

// Rules is the deterministic extractor: it reads each committed segment
// with the session's Lexicon, tracks the section and the sentence, finds
// drugs and conditions by their terminology names, reads the sig after a
// drug and the assertion around a condition, and keeps one item per drug
// (by ingredients) and per condition (by code), updated as later segments
// say more ("...metformin 500 mg. Make that twice daily."). Every code
// comes from the Lexicon, that is from the terminology.
//
// A Rules belongs to one session and is called from one goroutine, as
// Extractor requires; its Lexicon is shared.
type Rules struct {
	lex *Lexicon
	asm *Assembler

	sec      section
	items    map[string]*ruleItem
	order    []*ruleItem
	counters map[string]int
	lastMeds []*ruleItem // the drugs of the last sentence that named any: what "make that..." amends
	named    []*ruleItem // the drugs the current sentence names
	at       int         // byte offset of the mention being recorded
	lastSeg  int
	question *question // a question still waiting for its answer
	speaker  string    // "doctor" or "patient" in a transcribed conversation
	type1    bool      // the patient's diabetes is type 1

	mu    sync.Mutex
	stats RulesStats
}

// RulesStats count a session's work.
type RulesStats struct {
	Segments int
	Tokens   int
	Items    int // distinct items
	Updates  int // item versions returned after the first
}

// ruleItem is one item in its latest state.
type ruleItem struct {
	id, key, kind string
	med           fhir.MedicationItem
	cond          fhir.ConditionItem
	allergy       fhir.AllergyItem
	family        fhir.FamilyHistoryItem
	ingredients   []fhir.Coding
	explicit      bool     // the medication status was said, not assumed
	level         int      // condition: strength of the assertion that set it (see assertionLevel)
	words         []string // condition: the key tokens of cond.Text
	segment       int
	first         [2]int // segment id and byte offset of the first mention
	json          []byte // the last resource returned
	changed       bool
}

// question is a question in a conversation ("Any chest pain?") whose
// conditions the answer asserts or denies.
type question struct {
	mentions    []condMention
	alternative bool // "X, or just Y?": a yes is for what the answer names
}

// NewRules starts a session's rules extractor over a shared lexicon.
// asm builds the resources; its Validator may be nil.
func NewRules(lex *Lexicon, asm *Assembler) *Rules {
	return &Rules{lex: lex, asm: asm, items: map[string]*ruleItem{}, counters: map[string]int{}}
}

// Close implements Extractor; the rules extractor holds nothing to free.
func (r *Rules) Close() error { return nil }

// Stats returns the session's counters.
func (r *Rules) Stats() RulesStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.stats
}

// Feed implements Extractor: it reads one committed segment and returns
// the items that are new or changed because of it, in order of first
// mention. partial, if not nil, sees each of them first.
func (r *Rules) Feed(ctx context.Context, seg Segment, partial func(Partial)) ([]Item, error) {
	if err := r.lex.Build(ctx); err != nil {
		return nil, fmt.Errorf("rules extractor: %w", err)
	}
	seg.Text = cleanText(seg.Text)
	toks := spokenPunctuation(tokenize(seg.Text))
	r.lastSeg = seg.ID
	doc := &docState{r: r, toks: toks, seg: seg}
	doc.run()
	var out []Item
	for _, it := range r.order {
		if !it.changed {
			continue
		}
		it.changed = false
		d := it.description()
		if partial != nil {
			partial(Partial{ItemID: it.id, Kind: resourceTypes[it.kind], Fields: d.fields()})
		}
		item, _, err := r.asm.Item(ctx, d, SourceRules, it.segment)
		if err != nil {
			return out, fmt.Errorf("rules extractor: %w", err)
		}
		if bytes.Equal(item.Resource, it.json) {
			continue
		}
		if it.json != nil {
			r.mu.Lock()
			r.stats.Updates++
			r.mu.Unlock()
		}
		it.json = item.Resource
		out = append(out, item)
	}
	r.mu.Lock()
	r.stats.Segments++
	r.stats.Tokens += len(toks)
	r.stats.Items = len(r.order)
	r.mu.Unlock()
	return out, nil
}

// cleanText replaces what FHIR strings may not hold (invalid UTF-8,
// control characters but tab and line breaks) with spaces, so that quoted
// mentions are valid.
func cleanText(s string) string {
	clean := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 0x80 || c < 0x20 && c != '\t' && c != '\n' && c != '\r' || c == 0x7f {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	s = strings.ToValidUTF8(s, " ")
	return strings.Map(func(r rune) rune {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r >= 0x7f && r < 0xa0 {
			return ' '
		}
		return r
	}, s)
}

// description turns an item into the Assembler's description.
func (it *ruleItem) description() Description {
	d := Description{ID: it.id, Kind: it.kind}
	switch it.kind {
	case KindMedication:
		m := it.med
		d.Name, d.Text, d.Code, d.Status, d.Medication = m.Name, m.Text, m.Code, m.Status, &m
		d.Ingredients = it.ingredients
	case KindCondition:
		c := it.cond
		d.Name, d.Text, d.Code, d.Assertion, d.Condition = c.Name, c.Text, c.Code, c.Assertion, &c
	case KindAllergy:
		a := it.allergy
		d.Name, d.Text, d.Code, d.Allergy = a.Name, a.Text, a.Code, &a
		d.Ingredients = it.ingredients
	case KindFamily:
		f := it.family
		d.Name, d.Text, d.Code, d.Relative, d.Family = f.Name, f.Text, f.Code, f.Relationship, &f
	}
	return d
}

// fields are a description's parts as a partial item shows them.
func (d Description) fields() map[string]string {
	f := map[string]string{"name": d.Name}
	if d.Medication != nil {
		m := d.Medication
		if !m.Dose.IsZero() {
			f["dose"] = doseText(m.Dose)
		}
		if m.Route != "" {
			f["route"] = m.Route
		}
		if fr := freqText(m.Frequency, m.AsNeeded); fr != "" {
			f["frequency"] = fr
		}
		f["status"] = firstNonEmpty(m.Status, "active")
	}
	if d.Condition != nil {
		f["assertion"] = firstNonEmpty(d.Condition.Assertion, fhir.AssertionPresent)
	}
	if d.Family != nil {
		f["relative"] = d.Family.Relationship
	}
	if d.Code.Code != "" {
		f["code"] = d.Code.Code
	}
	return f
}

func firstNonEmpty(s ...string) string {
	for _, x := range s {
		if x != "" {
			return x
		}
	}
	return ""
}

func doseText(d fhir.Dose) string {
	if d.Value != "" {
		return strings.TrimSpace(string(d.Value) + " " + d.Unit)
	}
	return strings.TrimSpace(string(d.Low) + " to " + string(d.High) + " " + d.Unit)
}

func freqText(f fhir.Frequency, prn bool) string {
	var parts []string
	if f.Code != "" {
		parts = append(parts, f.Code)
	} else if f.Times > 0 {
		parts = append(parts, fmt.Sprintf("%d/%s%s", f.Times, f.Period, f.PeriodUnit))
	}
	parts = append(parts, f.When...)
	if f.Count == 1 {
		parts = append(parts, "once")
	}
	if prn {
		parts = append(parts, "PRN")
	}
	return strings.Join(parts, " ")
}

// newItem registers an item under key, with the next id of its kind.
func (r *Rules) newItem(key, kind string, segment int) *ruleItem {
	prefix := idPrefix[kind]
	r.counters[prefix]++
	it := &ruleItem{id: fmt.Sprintf("%s-%d", prefix, r.counters[prefix]), key: key, kind: kind, segment: segment,
		first: [2]int{segment, r.at}}
	r.items[key] = it
	// Items are kept in order of first mention: within a sentence drugs
	// are read before conditions, so insert by position.
	i := len(r.order)
	for i > 0 && less(it.first, r.order[i-1].first) {
		i--
	}
	r.order = append(r.order, nil)
	copy(r.order[i+1:], r.order[i:])
	r.order[i] = it
	return it
}

func less(a, b [2]int) bool { return a[0] < b[0] || a[0] == b[0] && a[1] < b[1] }

// ingredientCodings lists the codings of a drug's ingredients.
func (l *Lexicon) ingredientCodings(ins []int32) []fhir.Coding {
	out := make([]fhir.Coding, 0, len(ins))
	for _, c := range ins {
		out = append(out, l.coding(c))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Code < out[j].Code })
	return out
}
