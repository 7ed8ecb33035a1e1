package eval_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/eval"
	"github.com/medscribe/medscribe/extract/internal/termtest"
	"github.com/medscribe/medscribe/fhir"
)

func devGold(t *testing.T) (gold, rxdir string) {
	t.Helper()
	shared := termtest.SharedDir()
	if shared == "" {
		t.Skip("shared data not found (set MEDSCRIBE_SHARED): dev gold set unavailable")
	}
	gold = filepath.Join(shared, "eval", "dev-gold.jsonl")
	if _, err := os.Stat(gold); err != nil {
		t.Skipf("no dev gold set: %v", err)
	}
	return gold, filepath.Join(shared, "data", "rxnorm")
}

// runDev scores the rules extractor on the dev set with a lexicon.
func runDev(t *testing.T, lex *extract.Lexicon, codes fhir.Terminology) eval.Report {
	t.Helper()
	gold, rxdir := devGold(t)
	docs, err := eval.ReadGold(gold)
	if err != nil {
		t.Fatal(err)
	}
	rx, err := eval.LoadRxMap(rxdir)
	if err != nil {
		t.Fatal(err)
	}
	asm := &extract.Assembler{Subject: fhir.PlaceholderPatientReference("eval"),
		Validator: extract.FHIRValidator{Validator: &fhir.Validator{Terminology: codes}}}
	known := func(system, code string) bool {
		_, ok, err := codes.Display(system, code)
		return err == nil && ok
	}
	schemaErrors := 0
	rep, err := eval.Run(context.Background(), docs, func(ctx context.Context, text string) ([]extract.Item, error) {
		items, err := extract.Text(ctx, lex, asm, text)
		for _, it := range items {
			if err := termtest.SchemaValidate(t, it.Resource); err != nil {
				schemaErrors++
				t.Errorf("%s fails the R4 JSON schema: %v", it.ID, err)
			}
		}
		return items, err
	}, rx, known)
	t.Logf("R4 JSON schema: %d errors", schemaErrors)
	if err != nil {
		t.Fatal(err)
	}
	rep.Gold = gold
	return rep
}

// logReport logs the report table; with MEDSCRIBE_EVAL_OUT set it also
// writes it to $MEDSCRIBE_EVAL_OUT-<name>.txt.
func logReport(t *testing.T, rep eval.Report, name string) {
	var b bytes.Buffer
	eval.WriteTable(&b, rep, testing.Verbose())
	t.Log("\n" + b.String())
	if p := os.Getenv("MEDSCRIBE_EVAL_OUT"); p != "" {
		if err := os.WriteFile(p+"-"+name+".txt", b.Bytes(), 0o644); err != nil {
			t.Error(err)
		}
	}
}

// TestDevSetFull holds the targets on the dev set with the full
// shared terminology: medication F1 >= 0.90, condition category F1 >= 0.85,
// no code outside the terminology, no allergy as a MedicationStatement,
// no validation error.
func TestDevSetFull(t *testing.T) {
	db := termtest.Full(t)
	rep := runDev(t, termtest.FullLexicon(t), db)
	rep.Terminology = "full shared (ICD-10-CM FY2026 + shared RxNorm + starter)"
	logReport(t, rep, "full")
	all := rep.Splits[0]
	if f := all.Metrics.Medication.F1; f < 0.90 {
		t.Errorf("medication F1 %.3f, want >= 0.90", f)
	}
	if f := all.Metrics.ConditionCategory.F1; f < 0.85 {
		t.Errorf("condition category F1 %.3f, want >= 0.85", f)
	}
	if n := all.Counts.CodesNotInTerm; n != 0 {
		t.Errorf("%d codes not in the terminology", n)
	}
	if n := all.Counts.AllergyAsMed; n != 0 {
		t.Errorf("%d allergies emitted as MedicationStatements", n)
	}
	if n := all.Counts.ValidationErrors; n != 0 {
		t.Errorf("%d validation errors", n)
	}
}

// TestDevSetStarter runs the dev set with the embedded starter terminology
// only: the same safety properties hold; accuracy is reported.
func TestDevSetStarter(t *testing.T) {
	db := termtest.Starter(t)
	rep := runDev(t, termtest.StarterLexicon(t), db)
	rep.Terminology = "embedded starter"
	logReport(t, rep, "starter")
	all := rep.Splits[0]
	if n := all.Counts.CodesNotInTerm; n != 0 {
		t.Errorf("%d codes not in the terminology", n)
	}
	if n := all.Counts.AllergyAsMed; n != 0 {
		t.Errorf("%d allergies emitted as MedicationStatements", n)
	}
	if n := all.Counts.ValidationErrors; n != 0 {
		t.Errorf("%d validation errors", n)
	}
}

// TestNegEx holds negation accuracy >= 0.93 on the NegEx annotated
// sentences (2,376 conditions from 120 reports).
func TestNegEx(t *testing.T) {
	shared := termtest.SharedDir()
	if shared == "" {
		t.Skip("shared data not found (set MEDSCRIBE_SHARED): NegEx sentences unavailable")
	}
	path := filepath.Join(shared, "data", "negation", eval.NegExFile)
	if _, err := os.Stat(path); err != nil {
		t.Skipf("no NegEx test set: %v", err)
	}
	res, err := eval.RunNegation(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("all: %+v", res.All)
	t.Logf("<=300 chars: %+v", res.Short)
	t.Logf("unlocated: %d", res.Unlocated)
	if testing.Verbose() {
		for _, e := range res.Errors {
			t.Log(e)
		}
	}
	if res.All.Sentences != 2376 {
		t.Errorf("read %d sentences, want 2376", res.All.Sentences)
	}
	if res.All.Accuracy < 0.93 {
		t.Errorf("negation accuracy %.4f, want >= 0.93", res.All.Accuracy)
	}
}

// TestMainCommand runs the eval command as cmd/medscribe does, with the starter
// terminology, and checks its table and JSON report.
func TestMainCommand(t *testing.T) {
	gold, _ := devGold(t)
	open := func(ctx context.Context, path string) (eval.Terminology, error) {
		if path != "" {
			t.Fatalf("opened %q, want the starter terminology", path)
		}
		db := termtest.Starter(t)
		return eval.Terminology{Vocabulary: termtest.Vocabulary{DB: db}, Codes: db, Name: "starter"}, nil
	}
	jsonPath := filepath.Join(t.TempDir(), "report.json")
	var out, errOut bytes.Buffer
	t.Setenv("MEDSCRIBE_DB", "")
	err := eval.Main(context.Background(), []string{"--gold", gold, "--json", jsonPath, "--docs=false"}, &out, &errOut, open)
	if err != nil {
		t.Fatalf("eval: %v\n%s", err, errOut.String())
	}
	for _, want := range []string{"medication, strict", "condition, category", "negation (NegEx test set", "codes not in terminology"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("table lacks %q:\n%s", want, out.String())
		}
	}
	data, err := os.ReadFile(jsonPath)
	if err != nil {
		t.Fatal(err)
	}
	var rep eval.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Docs) != 18 || len(rep.Splits) != 3 || rep.Negation == nil || rep.Splits[0].Metrics.Medication.F1 == 0 {
		t.Errorf("report: %d docs, %d splits, negation %v", len(rep.Docs), len(rep.Splits), rep.Negation != nil)
	}
	if err := eval.Main(context.Background(), nil, &out, &errOut, open); err == nil {
		t.Error("no error without --gold")
	}
}
