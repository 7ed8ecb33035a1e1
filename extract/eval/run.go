package eval

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/medscribe/medscribe/extract"
)

// Report is the outcome of one evaluation run.
type Report struct {
	Gold        string          `json:"gold"`
	Terminology string          `json:"terminology"`
	Splits      []Split         `json:"splits"` // all documents, then one per source
	Docs        []DocResult     `json:"documents"`
	Negation    *NegationResult `json:"negation,omitempty"`
	Elapsed     time.Duration   `json:"elapsed_ns"`
}

// Split is the summed counts of a set of documents and their metrics.
type Split struct {
	Name    string  `json:"name"`
	Counts  Counts  `json:"counts"`
	Metrics Metrics `json:"metrics"`
}

// ExtractFunc runs an extractor over one document's text.
type ExtractFunc func(ctx context.Context, text string) ([]extract.Item, error)

// Run extracts every document and scores it.
func Run(ctx context.Context, docs []Doc, run ExtractFunc, rx *RxMap, known KnownFunc) (Report, error) {
	start := time.Now()
	var rep Report
	splits := map[string]*Counts{}
	order := []string{"all"}
	splits["all"] = &Counts{}
	for _, d := range docs {
		items, err := run(ctx, d.Text)
		if err != nil {
			return rep, fmt.Errorf("extract %s: %w", d.ID, err)
		}
		resources := make([]json.RawMessage, 0, len(items))
		validation := 0
		for _, it := range items {
			resources = append(resources, it.Resource)
			validation += outcomeErrors(it.Validation)
		}
		res, err := Score(d, resources, rx, known)
		if err != nil {
			return rep, err
		}
		res.Counts.ValidationErrors = validation
		rep.Docs = append(rep.Docs, res)
		splits["all"].Add(res.Counts)
		if _, ok := splits[d.Source]; !ok {
			splits[d.Source] = &Counts{}
			order = append(order, d.Source)
		}
		splits[d.Source].Add(res.Counts)
	}
	for _, name := range order {
		c := *splits[name]
		rep.Splits = append(rep.Splits, Split{Name: name, Counts: c, Metrics: ComputeMetrics(c)})
	}
	rep.Elapsed = time.Since(start)
	return rep, nil
}

// outcomeErrors counts error and fatal issues of an OperationOutcome.
func outcomeErrors(raw json.RawMessage) int {
	if len(raw) == 0 {
		return 0
	}
	var oo struct {
		Issue []struct {
			Severity string `json:"severity"`
		} `json:"issue"`
	}
	if json.Unmarshal(raw, &oo) != nil {
		return 1
	}
	n := 0
	for _, is := range oo.Issue {
		if is.Severity == "error" || is.Severity == "fatal" {
			n++
		}
	}
	return n
}

// PRF is precision, recall and F1.
type PRF struct {
	P  float64 `json:"precision"`
	R  float64 `json:"recall"`
	F1 float64 `json:"f1"`
	TP int     `json:"tp"`
	FP int     `json:"fp"`
	N  int     `json:"gold"`
}

func prf(tp, fp, gold int) PRF {
	m := PRF{TP: tp, FP: fp, N: gold}
	if tp+fp > 0 {
		m.P = float64(tp) / float64(tp+fp)
	}
	if gold > 0 {
		m.R = float64(tp) / float64(gold)
	}
	if m.P+m.R > 0 {
		m.F1 = 2 * m.P * m.R / (m.P + m.R)
	}
	return m
}

func ratio(a, b int) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// Metrics are the reported figures of a split.
type Metrics struct {
	Medication        PRF     `json:"medication"`
	MedicationLenient PRF     `json:"medication_lenient"`
	MedicationRxCUI   PRF     `json:"medication_rxcui_only"`
	AllergyAsMedRate  float64 `json:"allergy_as_medication_rate"`
	AllergyRecall     float64 `json:"allergy_recall"`
	StatusAccuracy    float64 `json:"status_accuracy"`
	DoseAccuracy      float64 `json:"dose_accuracy"`
	FrequencyAccuracy float64 `json:"frequency_accuracy"`
	RouteAccuracy     float64 `json:"route_accuracy"`
	ConditionExact    PRF     `json:"condition_exact"`
	ConditionCategory PRF     `json:"condition_category"`
	ConditionExactNF  PRF     `json:"condition_exact_no_findings"`
	ConditionCatNF    PRF     `json:"condition_category_no_findings"`
	NegatedRefuted    float64 `json:"negated_refuted_share"`
	FamilyRecall      float64 `json:"family_recall"`
	HistoricalMarked  float64 `json:"historical_marked_share"`
}

// ComputeMetrics derives the metrics of summed counts.
func ComputeMetrics(c Counts) Metrics {
	return Metrics{
		Medication:        prf(c.MedTP, c.MedFP, c.MedGold),
		MedicationLenient: prf(c.MedLenientTP, c.MedLenientFP, c.MedGold),
		MedicationRxCUI:   prf(c.MedRxTP, c.MedRxFP, c.MedRxGold),
		AllergyAsMedRate:  ratio(c.AllergyAsMed, c.AllergyGold),
		AllergyRecall:     ratio(c.AllergyFound, c.AllergyGold),
		StatusAccuracy:    ratio(c.StatusMatched, c.MedTP),
		DoseAccuracy:      ratio(c.DoseMatched, c.DoseGold),
		FrequencyAccuracy: ratio(c.FreqMatched, c.FreqGold),
		RouteAccuracy:     ratio(c.RouteMatched, c.RouteGold),
		ConditionExact:    prf(c.CondExactTP, c.CondExactFP, c.CondGold),
		ConditionCategory: prf(c.CondCatTP, c.CondCatFP, c.CondGold),
		ConditionExactNF:  prf(c.CondNFExactTP, c.CondNFExactFP, c.CondNFGold),
		ConditionCatNF:    prf(c.CondNFCatTP, c.CondNFCatFP, c.CondNFGold),
		NegatedRefuted:    ratio(c.NegatedRefuted, c.NegatedGold),
		FamilyRecall:      ratio(c.FamilyFound, c.FamilyGold),
		HistoricalMarked:  ratio(c.HistoricalMarked, c.HistoricalMatched),
	}
}
