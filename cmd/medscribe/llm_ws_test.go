package main

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/fhir"
	"github.com/medscribe/medscribe/realtime"
	"github.com/medscribe/medscribe/speech"
)

// dictation is a transcriber that commits one scripted sentence for each
// second of audio: the speech path is tested with whisper elsewhere; here
// the text must be real clinical language for the extractors.
type dictation struct {
	mu        sync.Mutex
	sentences []string
	samples   int
	next      int
	ready     chan struct{}
}

func (d *dictation) Append(s []float32) error {
	d.mu.Lock()
	d.samples += len(s)
	d.mu.Unlock()
	select {
	case d.ready <- struct{}{}:
	default:
	}
	return nil
}

func (d *dictation) Ready() <-chan struct{} { return d.ready }

func (d *dictation) Due() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.next < len(d.sentences) && d.samples >= (d.next+1)*speech.SampleRate
}

func (d *dictation) commit(all bool) []realtime.TranscriptEvent {
	d.mu.Lock()
	defer d.mu.Unlock()
	var evs []realtime.TranscriptEvent
	for d.next < len(d.sentences) && (all || d.samples >= (d.next+1)*speech.SampleRate) {
		start := time.Duration(d.next) * time.Second
		evs = append(evs, realtime.TranscriptEvent{Final: true, SegmentID: d.next, Text: d.sentences[d.next], Start: start, End: start + time.Second})
		d.next++
	}
	return evs
}

func (d *dictation) Step(context.Context) ([]realtime.TranscriptEvent, error) {
	return d.commit(false), nil
}
func (d *dictation) Stop(context.Context) ([]realtime.TranscriptEvent, error) {
	return d.commit(true), nil
}
func (d *dictation) Close() error { return nil }

// wrongCodes forces the answer of the generated model through its grammar:
// drugs the dictation does not name (so the rules cannot have found them),
// each with lisinopril's RxCUI or a made-up one.
const wrongCodes = `{"type":"object","properties":{"items":{"type":"array","minItems":2,"maxItems":2,"items":{"type":"object","properties":{
"type":{"const":"medication"},"name":{"enum":["atorvastatin","warfarin"]},"dose":{"enum":["40 mg","5 mg"]},
"code":{"enum":["29046","99999999"]}},"required":["type","name","dose","code"]}}},"required":["items"]}`

// TestModelExtractionOverWebSocket runs the generated gemma3 model with the
// rules extractor (merged) over a real WebSocket session, with a grammar
// that makes the model write wrong codes: partial items come before their
// final item, every final item validates, every code is in the
// terminology (the wrong ones repaired), and no concept is listed twice.
func TestModelExtractionOverWebSocket(t *testing.T) {
	a, _ := startApp(t, &serveConfig{extractor: "llm"})
	a.llmOpts = &extract.LLMOptions{Schema: wrongCodes, MaxTokens: 120}
	sentences := []string{
		"The patient takes metformin 500 mg twice daily for type 2 diabetes.",
		"She also takes aspirin 81 mg daily and denies chest pain.",
		"Continue metformin.",
	}
	rt, err := realtime.NewServer(realtime.Config{
		Store:     a.store,
		Scheduler: a.sched,
		NewTranscriber: func(string) (realtime.Transcriber, error) {
			return &dictation{sentences: sentences, ready: make(chan struct{}, 1)}, nil
		},
		NewExtractor: func(id, patient string) (extract.Extractor, error) {
			return a.newExtractor(context.Background(), id, patient)
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(rt)
	defer srv.Close()
	defer rt.Shutdown(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 22)
	defer conn.CloseNow()
	for range 3 {
		if err := conn.Write(ctx, websocket.MessageBinary, make([]byte, 2*speech.SampleRate)); err != nil {
			t.Fatal(err)
		}
	}
	conn.Write(ctx, websocket.MessageText, []byte(`{"type":"stop"}`))

	partialAt := map[string]int{} // item id → index of its first partial
	type final struct {
		index int
		ev    map[string]any
	}
	var finals []final
	for i := 0; ; i++ {
		_, b, err := conn.Read(ctx)
		if err != nil {
			if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
				t.Fatalf("connection ended: %v", err)
			}
			break
		}
		var ev map[string]any
		json.Unmarshal(b, &ev)
		switch ev["type"] {
		case "item.partial":
			id := ev["item_id"].(string)
			if _, ok := partialAt[id]; !ok {
				partialAt[id] = i
			}
		case "item.final":
			finals = append(finals, final{i, ev})
		case "error":
			t.Errorf("error event %v", ev)
		}
	}
	if len(finals) == 0 || len(partialAt) == 0 {
		t.Fatalf("%d item.final and %d items with partials", len(finals), len(partialAt))
	}
	concepts := map[string]string{} // code → item id
	var repaired int
	for _, f := range finals {
		id := f.ev["item_id"].(string)
		if p, ok := partialAt[id]; ok && p > f.index && f.ev["source"] != extract.SourceRules {
			t.Errorf("item %s: partial at event %d after its final at %d", id, p, f.index)
		}
		var oo struct {
			Issue []struct{ Severity, Diagnostics string } `json:"issue"`
		}
		vb, _ := json.Marshal(f.ev["validation"])
		json.Unmarshal(vb, &oo)
		for _, is := range oo.Issue {
			if is.Severity == "error" || is.Severity == "fatal" {
				t.Errorf("item %s does not validate: %s", id, is.Diagnostics)
			}
		}
		rb, _ := json.Marshal(f.ev["resource"])
		r, err := fhir.Parse(rb)
		if err != nil {
			t.Fatalf("item %s: %v", id, err)
		}
		for _, c := range codings(r) {
			if _, ok, _ := a.term.LookupCoding(ctx, c.System, c.Code); !ok {
				t.Errorf("item %s carries %s|%s, which is not in the terminology", id, c.System, c.Code)
			}
			if c.Code == "29046" && !strings.Contains(strings.ToLower(c.Display), "lisinopril") || c.Code == "99999999" {
				t.Errorf("item %s kept the model's wrong code %s", id, c.Code)
			}
			if other, dup := concepts[c.Code]; dup && other != id {
				t.Errorf("code %s is both item %s and item %s", c.Code, other, id)
			}
			concepts[c.Code] = id
		}
		if f.ev["source"] == extract.SourceFallback {
			repaired++
		}
	}
	if repaired == 0 {
		t.Errorf("no item was repaired from the terminology, though the model wrote only wrong codes")
	}
}

// codings lists the RxNorm and ICD-10-CM codings of an item's resource.
func codings(r fhir.Resource) []fhir.Coding {
	var ccs []*fhir.CodeableConcept
	switch v := r.(type) {
	case *fhir.MedicationStatement:
		ccs = append(ccs, v.MedicationCodeableConcept)
	case *fhir.Condition:
		ccs = append(ccs, v.Code)
	case *fhir.AllergyIntolerance:
		ccs = append(ccs, v.Code)
	case *fhir.FamilyMemberHistory:
		for _, c := range v.Condition {
			ccs = append(ccs, c.Code)
		}
	}
	var out []fhir.Coding
	for _, cc := range ccs {
		if cc == nil {
			continue
		}
		for _, c := range cc.Coding {
			if c.System == fhir.SystemRxNorm || c.System == fhir.SystemICD10CM {
				out = append(out, c)
			}
		}
	}
	return out
}
