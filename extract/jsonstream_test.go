package extract

import (
	"fmt"
	"reflect"
	"testing"
)

type streamEvent struct {
	item       int
	key, value string
	done       bool
}

func runStream(chunks []string) []streamEvent {
	var evs []streamEvent
	p := newItemStream(
		func(i int, k, v string) { evs = append(evs, streamEvent{item: i, key: k, value: v}) },
		func(i int, f map[string]string) {
			evs = append(evs, streamEvent{item: i, done: true, value: fmt.Sprint(len(f))})
		},
	)
	for _, c := range chunks {
		p.Write(c)
	}
	return evs
}

func TestItemStream(t *testing.T) {
	t.Parallel()
	doc := `{"items": [{"type":"medication","name":"metformin \"ER\"","dose":"500 mg","count":2,"x":null},` +
		` {"type" : "condition", "name":"type 2 diabetes\u00e9", "assertion":"present"}], "note":"ignored"}`
	want := []streamEvent{
		{0, "type", "medication", false},
		{0, "name", `metformin "ER"`, false},
		{0, "dose", "500 mg", false},
		{0, "count", "2", false},
		{0, "", "4", true},
		{1, "type", "condition", false},
		{1, "name", "type 2 diabetesé", false},
		{1, "assertion", "present", false},
		{1, "", "3", true},
	}
	if got := runStream([]string{doc}); !reflect.DeepEqual(got, want) {
		t.Fatalf("whole document:\n got %v\nwant %v", got, want)
	}
	// Token boundaries fall anywhere: every split gives the same events.
	for i := 1; i < len(doc); i++ {
		if got := runStream([]string{doc[:i], doc[i:]}); !reflect.DeepEqual(got, want) {
			t.Fatalf("split at %d:\n got %v\nwant %v", i, got, want)
		}
	}
	// Byte by byte.
	var bytes []string
	for i := range len(doc) {
		bytes = append(bytes, doc[i:i+1])
	}
	if got := runStream(bytes); !reflect.DeepEqual(got, want) {
		t.Fatalf("byte by byte:\n got %v\nwant %v", got, want)
	}
}

func TestItemStreamIgnoresOtherShapes(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{
		`{"other":[{"name":"x"}]}`,
		`[{"name":"x"}]`,
		`{"items":"none"}`,
		`{"items":[{"name":`, // cut off: the field never completes
	} {
		if got := runStream([]string{doc}); len(got) != 0 {
			t.Errorf("%s: events %v, want none", doc, got)
		}
	}
}

func FuzzItemStream(f *testing.F) {
	f.Add(`{"items":[{"type":"medication","name":"a"}]}`)
	f.Add(`{"items":[{"a":"\u12"}]}`)
	f.Fuzz(func(t *testing.T, s string) {
		runStream([]string{s})
	})
}
