package extract

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/fhir"
)

// scriptLM is a language model that answers from a script: the n-th
// Generate returns answers[n]. Tokens are bytes, so token counts are
// predictable. It tests the extractor's logic; extract/llama tests the
// real engine.
type scriptLM struct {
	mu      sync.Mutex
	answers []string
	calls   int
	prompts []string // the cached text at each Generate
}

func (l *scriptLM) Tokenize(text string, bos, special bool) ([]int, error) {
	out := make([]int, 0, len(text)+1)
	if bos {
		out = append(out, 256)
	}
	for i := range len(text) {
		out = append(out, int(text[i]))
	}
	return out, nil
}

func (l *scriptLM) Grammar(schema string) (string, error) { return "root ::= object", nil }

func (l *scriptLM) NewSeq() (Seq, error) { return &scriptSeq{lm: l, capacity: 1 << 16}, nil }

type scriptSeq struct {
	lm       *scriptLM
	toks     []int
	capacity int
	evals    int // tokens evaluated over the life of the sequence
}

func (s *scriptSeq) Len() int       { return len(s.toks) }
func (s *scriptSeq) Capacity() int  { return s.capacity }
func (s *scriptSeq) Truncate(n int) { s.toks = s.toks[:min(n, len(s.toks))] }
func (s *scriptSeq) Close()         {}

func (s *scriptSeq) Eval(ctx context.Context, tokens []int) (int, error) {
	if len(s.toks)+len(tokens) > s.capacity {
		return 0, context.DeadlineExceeded
	}
	s.toks = append(s.toks, tokens...)
	s.evals += len(tokens)
	return len(tokens), nil
}

func (s *scriptSeq) Generate(ctx context.Context, grammar string, maxTokens int, fn func(string) bool) (string, error) {
	s.lm.mu.Lock()
	var b strings.Builder
	for _, t := range s.toks {
		if t < 256 {
			b.WriteByte(byte(t))
		}
	}
	s.lm.prompts = append(s.lm.prompts, b.String())
	ans := `{"items":[]}`
	if s.lm.calls < len(s.lm.answers) {
		ans = s.lm.answers[s.lm.calls]
	}
	s.lm.calls++
	s.lm.mu.Unlock()
	// Stream in 3-byte pieces, as tokens arrive.
	for i := 0; i < len(ans); i += 3 {
		if !fn(ans[i:min(i+3, len(ans))]) {
			break
		}
	}
	return ans, nil
}

var (
	starterOnce sync.Once
	starterDB   *terminology.DB
	starterErr  error
)

func starter(t testing.TB) *terminology.DB {
	t.Helper()
	starterOnce.Do(func() { starterDB, starterErr = terminology.OpenStarter(context.Background()) })
	if starterErr != nil {
		t.Fatal(starterErr)
	}
	return starterDB
}

type validator struct{ v fhir.Validator }

func (v validator) Validate(ctx context.Context, r fhir.Resource) (json.RawMessage, int, error) {
	oo := v.v.Validate(r)
	n := 0
	for _, is := range oo.Issue {
		if is.Severity == "error" || is.Severity == "fatal" {
			n++
		}
	}
	b, err := fhir.Marshal(&oo)
	return b, n, err
}

func newScripted(t *testing.T, answers ...string) (*LLM, *scriptLM) {
	t.Helper()
	db := starter(t)
	lm := &scriptLM{answers: answers}
	asm := &Assembler{Subject: fhir.Reference{Reference: "Patient/t1"}, Validator: validator{fhir.Validator{Terminology: db}}}
	x, err := NewLLM(context.Background(), lm, db, asm, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { x.Close() })
	return x, lm
}

func codingOf(t *testing.T, it Item) fhir.Coding {
	t.Helper()
	var r struct {
		Med  *fhir.CodeableConcept `json:"medicationCodeableConcept"`
		Code *fhir.CodeableConcept `json:"code"`
	}
	if err := json.Unmarshal(it.Resource, &r); err != nil {
		t.Fatal(err)
	}
	cc := r.Code
	if r.Med != nil {
		cc = r.Med
	}
	if cc == nil || len(cc.Coding) == 0 {
		return fhir.Coding{}
	}
	return cc.Coding[0]
}

func errorsIn(t *testing.T, it Item) int {
	t.Helper()
	var oo struct {
		Issue []struct{ Severity string } `json:"issue"`
	}
	json.Unmarshal(it.Validation, &oo)
	n := 0
	for _, is := range oo.Issue {
		if is.Severity == "error" {
			n++
		}
	}
	return n
}

// TestLLMRepairsCodes: a model that writes wrong codes never gets them into
// an item: a code of another drug, a code that does not exist and a code
// of the wrong system are all replaced from the terminology.
func TestLLMRepairsCodes(t *testing.T) {
	t.Parallel()
	db := starter(t)
	ctx := context.Background()
	lis, _, _, ok, err := db.ResolveDrugCoding(ctx, "lisinopril", "", "")
	if err != nil || !ok {
		t.Fatalf("starter terminology has no lisinopril: %v", err)
	}
	met, _, _, ok, _ := db.ResolveDrugCoding(ctx, "metformin", "", "")
	if !ok {
		t.Fatal("starter terminology has no metformin")
	}
	htn, _, ok, _ := db.ResolveConditionCoding(ctx, "hypertension")
	if !ok {
		t.Fatal("starter terminology has no hypertension")
	}
	answer := `{"items":[` +
		`{"type":"medication","name":"metformin","dose":"500 mg","frequency":"BID","status":"active","code":"` + lis.Code + `"},` +
		`{"type":"medication","name":"lisinopril","dose":"10 mg","frequency":"daily","code":"99999999"},` +
		`{"type":"condition","name":"hypertension","assertion":"present","code":"` + met.Code + `"},` +
		`{"type":"condition","name":"high blood pressure","assertion":"present","code":"I10"}]}`
	x, _ := newScripted(t, answer)
	items, err := x.Feed(ctx, Segment{ID: 0, Text: "Metformin 500 mg twice daily, lisinopril 10 mg daily for hypertension."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 4 {
		t.Fatalf("%d items, want 4", len(items))
	}
	got := codingOf(t, items[0])
	if got.Code == lis.Code || got.System != fhir.SystemRxNorm {
		t.Errorf("metformin kept the model's lisinopril code: %+v", got)
	}
	if got.Code != met.Code && !strings.HasPrefix(strings.ToLower(got.Display), "metformin") {
		t.Errorf("metformin coded %+v, want metformin (%s) or a metformin drug", got, met.Code)
	}
	if items[0].Source != SourceFallback {
		t.Errorf("metformin source %q, want fallback", items[0].Source)
	}
	if c := codingOf(t, items[1]); c.Code == "99999999" || items[1].Source != SourceFallback {
		t.Errorf("lisinopril: code %+v source %q; the invented code must be replaced", c, items[1].Source)
	}
	if c := codingOf(t, items[2]); c.Code != htn.Code || c.System != fhir.SystemICD10CM || items[2].Source != SourceFallback {
		t.Errorf("hypertension: %+v source %q, want %s from the terminology", c, items[2].Source, htn.Code)
	}
	// A correct code the model wrote is kept and credited to the model; the
	// same concept said differently is the same item.
	if items[3].ID != items[2].ID || items[3].Source != SourceModel {
		t.Errorf("'high blood pressure' with I10: id %s (hypertension %s), source %q", items[3].ID, items[2].ID, items[3].Source)
	}
	for _, it := range items {
		c := codingOf(t, it)
		if c.Code == "" {
			continue
		}
		if _, ok, _ := db.LookupCoding(ctx, c.System, c.Code); !ok {
			t.Errorf("item %s carries %s|%s, which the terminology does not hold", it.ID, c.System, c.Code)
		}
		if n := errorsIn(t, it); n > 0 {
			t.Errorf("item %s has %d validation errors: %s", it.ID, n, it.Validation)
		}
	}
}

// TestLLMStreamsAndDedupes: partial items arrive before the final item with
// the same id; a drug mentioned again is the same item; an allergy never
// becomes a MedicationStatement.
func TestLLMStreamsAndDedupes(t *testing.T) {
	t.Parallel()
	x, _ := newScripted(t,
		`{"items":[{"type":"medication","name":"metformin","dose":"500 mg","route":"oral","frequency":"BID","status":"active"}]}`,
		`{"items":[{"type":"medication","name":"Glucophage","dose":"1000 mg","frequency":"BID","status":"active"},{"type":"allergy","name":"penicillin"}]}`,
	)
	ctx := context.Background()
	var partials []Partial
	record := func(p Partial) { partials = append(partials, p) }
	first, err := x.Feed(ctx, Segment{ID: 0, Text: "She takes metformin 500 mg by mouth twice daily."}, record)
	if err != nil || len(first) != 1 {
		t.Fatalf("first segment: %v, %d items", err, len(first))
	}
	if len(partials) == 0 || partials[0].ItemID != first[0].ID || partials[0].Fields["name"] != "metformin" {
		t.Fatalf("partials %+v, want the name of item %s first", partials, first[0].ID)
	}
	var fields []string
	for _, p := range partials {
		for k := range p.Fields {
			if !slices.Contains(fields, k) {
				fields = append(fields, k)
			}
		}
	}
	for _, want := range []string{"name", "dose", "route", "frequency", "status"} {
		if !slices.Contains(fields, want) {
			t.Errorf("no partial carried %s (fields seen: %v)", want, fields)
		}
	}
	second, err := x.Feed(ctx, Segment{ID: 1, Text: "Increase Glucophage to 1000 mg twice daily. Allergic to penicillin."}, nil)
	if err != nil || len(second) != 2 {
		t.Fatalf("second segment: %v, %d items", err, len(second))
	}
	if second[0].ID != first[0].ID {
		t.Errorf("Glucophage (brand of metformin) is item %s, metformin was %s: want one item", second[0].ID, first[0].ID)
	}
	if !strings.Contains(string(second[0].Resource), `"doseQuantity":{"value":1000,`) {
		t.Errorf("updated item does not carry the new dose: %s", second[0].Resource)
	}
	if second[1].Kind != "AllergyIntolerance" {
		t.Errorf("penicillin allergy became a %s", second[1].Kind)
	}
}

// TestLLMReadsOnce: each segment costs only its own tokens plus the turn
// markers; the prompt the model sees always holds the whole transcript.
func TestLLMReadsOnce(t *testing.T) {
	t.Parallel()
	x, lm := newScripted(t)
	ctx := context.Background()
	texts := []string{"Patient presents with chest pain.", "History of hypertension.", "Takes aspirin 81 mg daily.",
		"Denies shortness of breath.", "Plan: start atorvastatin 40 mg at bedtime."}
	for i, s := range texts {
		if _, err := x.Feed(ctx, Segment{ID: i, Text: s}, nil); err != nil {
			t.Fatal(err)
		}
	}
	st := x.Stats()
	base := len(gemmaUserStart + instructions + "x") // bytes are tokens here (+BOS)
	want := base
	for i, s := range texts {
		want += len(segmentLine(i, s)) + len(answerSuffix)
	}
	if st.PromptTokens != want {
		t.Errorf("prompt tokens %d, want %d (instructions once, then each line and the turn markers)", st.PromptTokens, want)
	}
	if ratio := float64(st.PromptTokens-base) / float64(st.FullPromptTokens); ratio > 0.15 {
		t.Errorf("incremental/full prompt ratio %.3f over 5 segments, want ≤ 0.15", ratio)
	}
	last := lm.prompts[len(lm.prompts)-1]
	for i, s := range texts {
		if !strings.Contains(last, segmentLine(i, s)) {
			t.Errorf("the last prompt lacks segment %d", i)
		}
	}
	if !strings.HasSuffix(last, answerSuffix) || strings.Count(last, answerSuffix) != 1 {
		t.Errorf("earlier turn markers or answers stayed in the cache")
	}
}

// TestLLMWindowsLongDictation: a dictation longer than the context keeps
// working: older lines give way to a summary of the items so far.
func TestLLMWindowsLongDictation(t *testing.T) {
	t.Parallel()
	db := starter(t)
	var answers []string
	for range 60 {
		answers = append(answers, `{"items":[{"type":"medication","name":"lisinopril","dose":"10 mg"}]}`)
	}
	lm := &scriptLM{answers: answers}
	asm := &Assembler{Subject: fhir.Reference{Reference: "Patient/t1"}}
	x, err := NewLLM(context.Background(), &smallLM{lm, 4000}, db, asm, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	for i := range 60 {
		text := "Continuing the dictation with another sentence that has a few words, number " + strings.Repeat("x", i%7)
		items, err := x.Feed(context.Background(), Segment{ID: i, Text: text}, nil)
		if err != nil {
			t.Fatalf("segment %d: %v", i, err)
		}
		if len(items) != 1 || items[0].ID != "med-1" {
			t.Fatalf("segment %d: items %+v", i, items)
		}
	}
	st := x.Stats()
	if st.Rebuilds == 0 {
		t.Fatal("60 segments in a 4,000-token context never windowed")
	}
	last := lm.prompts[len(lm.prompts)-1]
	if !strings.Contains(last, "Items so far: medication lisinopril") || strings.Contains(last, segmentLine(0, "Continuing")) {
		t.Errorf("after windowing the prompt should summarise and drop the first lines")
	}
}

// smallLM gives sequences a small context.
type smallLM struct {
	*scriptLM
	capacity int
}

func (l *smallLM) NewSeq() (Seq, error) { return &scriptSeq{lm: l.scriptLM, capacity: l.capacity}, nil }

// TestLLMCorrects: an item the validator rejects goes back to the model
// with the problems; its fixed version is kept and marked corrected.
func TestLLMCorrects(t *testing.T) {
	t.Parallel()
	x, lm := newScripted(t,
		`{"items":[{"type":"medication","name":"oxycodone","dose":"10 to 5 mg","frequency":"q4h prn"}]}`,
		`{"items":[{"type":"medication","name":"oxycodone","dose":"5 to 10 mg","frequency":"q4h prn"}]}`,
	)
	items, err := x.Feed(context.Background(), Segment{ID: 0, Text: "Oxycodone 5 to 10 mg every 4 hours as needed."}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 1 {
		t.Fatalf("%d items", len(items))
	}
	if items[0].Source != SourceCorrected || errorsIn(t, items[0]) != 0 {
		t.Fatalf("source %q, %d errors: %s", items[0].Source, errorsIn(t, items[0]), items[0].Validation)
	}
	if st := x.Stats(); st.Corrections != 1 {
		t.Fatalf("%d correction rounds, want 1", st.Corrections)
	}
	last := lm.prompts[len(lm.prompts)-1]
	if !strings.Contains(last, "This item from your answer is invalid") || !strings.Contains(last, "Problems:") {
		t.Fatalf("the correction prompt does not carry the problems")
	}
}
