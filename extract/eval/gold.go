// Package eval scores extractors against the shared gold sets: it runs an
// extractor on each document, reads the FHIR resources it emits, and
// counts them against the gold medications and conditions by the rules of
// shared/eval/README.md (micro-averaged over documents, RxNorm codes mapped
// to ingredient level through the shared links table, conditions matched
// exactly and by ICD-10-CM category, assertion and allergy errors). It
// also runs the NegEx negation benchmark.
package eval

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
)

// Doc is one gold document.
type Doc struct {
	ID          string     `json:"id"`
	Source      string     `json:"source"` // mtsamples or primock57
	Specialty   string     `json:"specialty"`
	Text        string     `json:"text"`
	Medications []GoldMed  `json:"medications"`
	Conditions  []GoldCond `json:"conditions"`
	Notes       string     `json:"notes"`
}

// GoldMed is one gold medication (or drug allergy).
type GoldMed struct {
	Mention     string   `json:"mention"`
	Start       int      `json:"start"`
	Ingredient  string   `json:"ingredient"`
	RxCUIs      []string `json:"rxcui_in"`
	Dose        *string  `json:"dose"`
	Route       *string  `json:"route"`
	Frequency   *string  `json:"frequency"`
	Status      string   `json:"status"`
	IsAllergy   bool     `json:"is_allergy"`
	Nonspecific bool     `json:"nonspecific"`
}

// GoldCond is one gold condition.
type GoldCond struct {
	Mention    string   `json:"mention"`
	Start      int      `json:"start"`
	Code       string   `json:"icd10cm"`
	Acceptable []string `json:"acceptable"`
	Category   string   `json:"category"`
	Assertion  string   `json:"assertion"`
	Kind       string   `json:"kind"`
}

// ReadGold reads a gold JSONL file.
func ReadGold(path string) ([]Doc, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read gold: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var docs []Doc
	line := 0
	for sc.Scan() {
		line++
		if len(sc.Bytes()) == 0 {
			continue
		}
		var d Doc
		if err := json.Unmarshal(sc.Bytes(), &d); err != nil {
			return nil, fmt.Errorf("read gold %s:%d: %w", path, line, err)
		}
		docs = append(docs, d)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("read gold %s: %w", path, err)
	}
	return docs, nil
}
