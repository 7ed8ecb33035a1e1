package extract

import (
	"context"
	"fmt"
	"sort"
	"sync"
)

// Merged runs the rules extractor as the quick pass and the language model
// as the slow pass of one session, and keeps one list of items: the same
// drug (by ingredients) or the same condition (by code) is one item
// whichever pass found it. The model confirms (nothing is sent again),
// enriches (fills what the rules left empty: dose, route, frequency,
// status; source "model"), or adds items the rules missed. Where the two
// disagree on what the rules did find (a condition's assertion, a drug's
// status), the rules' value stays and the item carries a note.
type Merged struct {
	rules *Rules
	llm   *LLM
	asm   *Assembler
	g     Grounder

	ids   idTable
	mu    sync.Mutex
	items map[string]Description // merged id → current description
	src   map[string]string      // merged id → source of the current version
	notes map[string]map[string]bool
}

// NewMerged combines a session's two extractors. g resolves a drug's
// ingredients when an item does not carry them.
func NewMerged(rules *Rules, llm *LLM, asm *Assembler, g Grounder) *Merged {
	m := &Merged{rules: rules, llm: llm, asm: asm, g: g,
		items: map[string]Description{}, src: map[string]string{}, notes: map[string]map[string]bool{}}
	// The model names partial items with the ids the merged list uses.
	llm.identity = func(d Description) string { return m.identify(context.Background(), d) }
	return m
}

// Close closes both extractors.
func (m *Merged) Close() error {
	err := m.rules.Close()
	if e := m.llm.Close(); err == nil {
		err = e
	}
	return err
}

// Quick implements Staged: the rules' items, under merged ids.
func (m *Merged) Quick(ctx context.Context, seg Segment) ([]Item, error) {
	items, err := m.rules.Feed(ctx, seg, nil)
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, it := range items {
		if it.desc == nil {
			return nil, fmt.Errorf("merge: rules item %s has no description", it.ID)
		}
		d := *it.desc
		d.ID = m.identify(ctx, d)
		if d.ID != it.ID {
			if it, _, err = m.asm.Item(ctx, d, SourceRules, it.SegmentID); err != nil {
				return nil, err
			}
		}
		m.mu.Lock()
		m.items[d.ID], m.src[d.ID] = d, SourceRules
		m.mu.Unlock()
		out = append(out, it)
	}
	return out, nil
}

// Feed implements Extractor: the model's pass, merged into the list.
func (m *Merged) Feed(ctx context.Context, seg Segment, partial func(Partial)) ([]Item, error) {
	items, err := m.llm.Feed(ctx, seg, partial)
	if err != nil {
		return nil, err
	}
	var out []Item
	for _, it := range items {
		if it.desc == nil {
			return nil, fmt.Errorf("merge: model item %s has no description", it.ID)
		}
		d := *it.desc
		d.ID = m.identify(ctx, d)
		m.mu.Lock()
		prev, seen := m.items[d.ID]
		prevSrc := m.src[d.ID]
		m.mu.Unlock()
		if !seen || prevSrc != SourceRules {
			// New, or the model's own item again: the model's version.
			if d.ID != it.ID {
				if it, _, err = m.asm.Item(ctx, d, it.Source, it.SegmentID); err != nil {
					return nil, err
				}
			}
			m.mu.Lock()
			m.items[d.ID], m.src[d.ID] = d, it.Source
			m.mu.Unlock()
			out = append(out, it)
			continue
		}
		merged, enriched, notes := enrich(prev, d)
		newNotes := m.addNotes(d.ID, notes)
		if !enriched && !newNotes {
			continue // confirmed: nothing to send again
		}
		source := SourceRules
		if enriched {
			source = SourceModel
		}
		mi, _, err := m.asm.Item(ctx, merged, source, it.SegmentID)
		if err != nil {
			return nil, err
		}
		mi.Notes = m.noteList(d.ID)
		m.mu.Lock()
		m.items[d.ID] = merged
		m.mu.Unlock()
		out = append(out, mi)
	}
	return out, nil
}

// addNotes records notes for an item; it reports whether any is new.
func (m *Merged) addNotes(id string, notes []string) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	added := false
	for _, n := range notes {
		if m.notes[id] == nil {
			m.notes[id] = map[string]bool{}
		}
		if !m.notes[id][n] {
			m.notes[id][n], added = true, true
		}
	}
	return added
}

func (m *Merged) noteList(id string) []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []string
	for n := range m.notes[id] {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

// enrich fills what the rules' description left empty from the model's,
// and lists disagreements. The rules' values win where both said
// something: they are deterministic and measured on the gold set.
func enrich(rules, model Description) (Description, bool, []string) {
	out := rules
	enriched := false
	var notes []string
	switch rules.Kind {
	case KindMedication:
		mm := model.medication()
		if rules.Medication == nil {
			r := rules.medication()
			out.Medication = &r
		} else {
			c := *rules.Medication
			out.Medication = &c
		}
		rm := out.Medication
		if rm.Dose.IsZero() && !mm.Dose.IsZero() {
			rm.Dose, enriched = mm.Dose, true
		}
		if rm.Route == "" && mm.Route != "" {
			rm.Route, enriched = mm.Route, true
		}
		if rm.Frequency.IsZero() && !mm.Frequency.IsZero() {
			rm.Frequency, enriched = mm.Frequency, true
		}
		if !rm.AsNeeded && mm.AsNeeded {
			rm.AsNeeded, enriched = true, true
		}
		rs, ms := statusOf(rm.Status), statusOf(model.Status)
		if model.Status != "" && ms != rs {
			notes = append(notes, fmt.Sprintf("status: rules %s, model %s", rs, ms))
		}
		if enriched {
			rm.SigText = "" // recomposed from the filled parts
		}
	case KindCondition:
		ra, ma := assertionOf(rules.Assertion), assertionOf(model.Assertion)
		if model.Assertion != "" && ra != ma {
			notes = append(notes, fmt.Sprintf("assertion: rules %s, model %s", ra, ma))
		}
	}
	return out, enriched, notes
}

func statusOf(s string) string {
	if s == "" {
		return "active"
	}
	return s
}

func assertionOf(s string) string {
	if s == "" {
		return "present"
	}
	return s
}

// identify gives one id to one thing across both passes: a drug by its
// ingredients, a condition by its code, otherwise by its name.
func (m *Merged) identify(ctx context.Context, d Description) string {
	ingr := d.Ingredients
	if (d.Kind == KindMedication || d.Kind == KindAllergy) && len(ingr) == 0 && d.Name != "" && m.g != nil {
		if _, in, score, ok, err := m.g.ResolveDrugCoding(ctx, d.Name, "", ""); err == nil && ok && score >= 0.8 {
			ingr = in
		}
	}
	return m.ids.id(d, ingr)
}
