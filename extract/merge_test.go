package extract_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/internal/termtest"
	"github.com/medscribe/medscribe/fhir"
)

func TestMergedRulesAndModel(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := termtest.Starter(t)
	asm := &extract.Assembler{Subject: fhir.Reference{Reference: "Patient/m1"}, Validator: extract.FHIRValidator{Validator: &fhir.Validator{Terminology: db}}}
	rules := extract.NewRules(termtest.StarterLexicon(t), asm)
	lm := extract.NewScriptLM(
		// Segment 0: the model agrees on metformin and adds its frequency,
		// disagrees on chest pain, confirms hypertension, and adds a drug
		// the rules did not see.
		`{"items":[`+
			`{"type":"medication","name":"metformin","dose":"500 mg","frequency":"BID","status":"active"},`+
			`{"type":"condition","name":"chest pain","assertion":"negated"},`+
			`{"type":"condition","name":"hypertension","assertion":"present"},`+
			`{"type":"medication","name":"atorvastatin","dose":"40 mg","frequency":"at bedtime"}]}`,
		// Segment 1: the brand of an item already listed.
		`{"items":[{"type":"medication","name":"Glucophage","dose":"500 mg"}]}`,
	)
	llm, err := extract.NewLLM(ctx, lm, db, asm, nil)
	if err != nil {
		t.Fatal(err)
	}
	m := extract.NewMerged(rules, llm, asm, db)
	defer m.Close()

	seen := map[string]extract.Item{}
	var partialIDs []string
	feed := func(id int, text string) (quick, slow []extract.Item) {
		seg := extract.Segment{ID: id, Text: text}
		quick, err := m.Quick(ctx, seg)
		if err != nil {
			t.Fatal(err)
		}
		slow, err = m.Feed(ctx, seg, func(p extract.Partial) { partialIDs = append(partialIDs, p.ItemID) })
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range append(append([]extract.Item{}, quick...), slow...) {
			seen[it.ID] = it
		}
		return quick, slow
	}
	quick, slow := feed(0, "She takes metformin 500 mg. She has chest pain and hypertension.")
	byName := func(items []extract.Item, name string) *extract.Item {
		for i := range items {
			if strings.Contains(strings.ToLower(string(items[i].Resource)), name) {
				return &items[i]
			}
		}
		return nil
	}
	qMet, sMet := byName(quick, "metformin"), byName(slow, "metformin")
	if qMet == nil || sMet == nil || qMet.ID != sMet.ID {
		t.Fatalf("metformin: quick %v, slow %v: want one item found by the rules and enriched by the model", qMet, sMet)
	}
	if sMet.Source != extract.SourceModel || !strings.Contains(string(sMet.Resource), `"BID"`) {
		t.Errorf("enriched metformin: source %q, resource %s", sMet.Source, sMet.Resource)
	}
	pain := byName(slow, "chest pain")
	if pain == nil || len(pain.Notes) != 1 || pain.Notes[0] != "assertion: rules present, model negated" {
		t.Fatalf("chest pain disagreement: %+v", pain)
	}
	if !strings.Contains(string(pain.Resource), `"confirmed"`) || pain.Source != extract.SourceRules {
		t.Errorf("the rules' assertion must stay: %s (source %s)", pain.Resource, pain.Source)
	}
	if byName(slow, "hypertension") != nil {
		t.Errorf("a confirmed item was sent again")
	}
	ator := byName(slow, "atorvastatin")
	if ator == nil || ator.Source == extract.SourceRules || byName(quick, "atorvastatin") != nil {
		t.Fatalf("the model's extra item: %+v", ator)
	}
	for _, id := range partialIDs {
		if seen[id].ID == "" {
			t.Errorf("partial item id %q matches no item", id)
		}
	}

	_, slow = feed(1, "Glucophage 500 mg.")
	if g := byName(slow, "glucophage"); g != nil && g.ID != qMet.ID {
		t.Errorf("Glucophage became item %s, metformin is %s", g.ID, qMet.ID)
	}
	// One item per concept in the whole session.
	byKey := map[string]string{}
	for id, it := range seen {
		var r struct {
			ResourceType string `json:"resourceType"`
			ID           string `json:"id"`
		}
		json.Unmarshal(it.Resource, &r)
		if r.ID != id {
			t.Errorf("item %s carries resource id %s", id, r.ID)
		}
		name := strings.ToLower(string(it.Resource))
		for _, concept := range []string{"metformin", "atorvastatin", "hypertension", "chest pain"} {
			if strings.Contains(name, `"text":"`+concept) {
				if other, dup := byKey[concept]; dup && other != id {
					t.Errorf("%s appears as %s and %s", concept, other, id)
				}
				byKey[concept] = id
			}
		}
	}
}
