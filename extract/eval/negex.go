package eval

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"strings"
	"unicode"

	"github.com/medscribe/medscribe/extract"
)

// NegExFile is the NegEx test kit in shared/data/negation.
const NegExFile = "negex-Annotations-1-120-random.txt"

// NegationCounts are the confusion counts of negated (positive class)
// against affirmed.
type NegationCounts struct {
	Sentences int     `json:"sentences"`
	TP        int     `json:"tp"` // negated, predicted negated
	TN        int     `json:"tn"`
	FP        int     `json:"fp"`
	FN        int     `json:"fn"`
	Accuracy  float64 `json:"accuracy"`
	Precision float64 `json:"precision"`
	Recall    float64 `json:"recall"`
	F1        float64 `json:"f1"`
}

func (c *NegationCounts) finish() {
	c.Accuracy = ratio(c.TP+c.TN, c.Sentences)
	c.Precision = ratio(c.TP, c.TP+c.FP)
	c.Recall = ratio(c.TP, c.TP+c.FN)
	if c.Precision+c.Recall > 0 {
		c.F1 = 2 * c.Precision * c.Recall / (c.Precision + c.Recall)
	}
}

// NegationResult is the NegEx benchmark.
type NegationResult struct {
	File string `json:"file"`
	// All sentences, and without the 134 over 300 characters (sentence
	// splitter failures of the original set).
	All   NegationCounts `json:"all"`
	Short NegationCounts `json:"short"`
	// Unlocated counts rows whose condition was not found in the sentence
	// (scored as predicted affirmed).
	Unlocated int `json:"unlocated"`
	// Errors lists a few misclassified rows: row, label, condition.
	Errors []string `json:"errors,omitempty"`
}

// RunNegation scores extract.Assess on the NegEx annotated sentences:
// each row names a condition, written in capitals in its sentence, and
// whether the sentence negates it.
func RunNegation(path string) (NegationResult, error) {
	res := NegationResult{File: path}
	f, err := os.Open(path)
	if err != nil {
		return res, fmt.Errorf("negation benchmark: %w", err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.Comma = '\t'
	r.LazyQuotes = true
	r.FieldsPerRecord = -1
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return res, fmt.Errorf("negation benchmark %s: %w", path, err)
		}
		if len(rec) < 4 {
			continue
		}
		row, cond, sentence, label := rec[0], rec[1], rec[2], strings.TrimSpace(rec[3])
		if label != "Negated" && label != "Affirmed" {
			continue
		}
		start, end, ok := locate(sentence, cond)
		negated := false
		if ok {
			negated = extract.Assess(sentence, start, end).Negated
		} else {
			res.Unlocated++
		}
		gold := label == "Negated"
		for _, c := range []*NegationCounts{&res.All, &res.Short} {
			if c == &res.Short && len(sentence) > 300 {
				continue
			}
			c.Sentences++
			switch {
			case gold && negated:
				c.TP++
			case gold:
				c.FN++
			case negated:
				c.FP++
			default:
				c.TN++
			}
		}
		if gold != negated && len(res.Errors) < 60 {
			res.Errors = append(res.Errors, fmt.Sprintf("%s %s %q: %s", row, label, cond, sentence))
		}
	}
	res.All.finish()
	res.Short.finish()
	return res, nil
}

// locate finds the condition in its sentence, preferring an occurrence
// written in capitals as the test kit marks it; whitespace may differ.
func locate(sentence, cond string) (int, int, bool) {
	words := strings.Fields(cond)
	if len(words) == 0 {
		return 0, 0, false
	}
	for i, w := range words {
		words[i] = regexp.QuoteMeta(w)
	}
	re, err := regexp.Compile(`(?i)` + strings.Join(words, `\s+`))
	if err != nil {
		return 0, 0, false
	}
	locs := re.FindAllStringIndex(sentence, -1)
	if len(locs) == 0 {
		return 0, 0, false
	}
	for _, l := range locs {
		if upper(sentence[l[0]:l[1]]) {
			return l[0], l[1], true
		}
	}
	return locs[0][0], locs[0][1], true
}

func upper(s string) bool {
	for _, r := range s {
		if unicode.IsLower(r) {
			return false
		}
	}
	return true
}
