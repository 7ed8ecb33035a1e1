package db

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "data", "medscribe.db")
	s, err := OpenStore(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestStoreRoundTrip(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, path := openTemp(t)
	clock := time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { clock = clock.Add(time.Second); return clock }

	if err := s.CreateSession(ctx, Session{ID: "s1", Encoding: "pcm_s16le", SampleRate: 16000, GeneratedModels: true}); err != nil {
		t.Fatal(err)
	}
	for i, text := range []string{"first segment", "second segment"} {
		if err := s.AddSegment(ctx, "s1", Segment{Seq: i + 1, Text: text, StartMS: int64(i) * 1000, EndMS: int64(i+1) * 1000}, int64(i+1)*1000); err != nil {
			t.Fatal(err)
		}
	}
	res := json.RawMessage(`{"resourceType":"Condition","id":"c1"}`)
	if err := s.PutItem(ctx, "s1", Item{ItemID: "c1", Kind: "Condition", Resource: res, Source: "rules", SegmentSeq: 1}); err != nil {
		t.Fatal(err)
	}
	res2 := json.RawMessage(`{"resourceType":"Condition","id":"c1","note":[{"text":"x"}]}`)
	if err := s.PutItem(ctx, "s1", Item{ItemID: "c1", Kind: "Condition", Resource: res2, Source: "model", SegmentSeq: 2}); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(ctx, "s1", StatusEnded, 2500); err != nil {
		t.Fatal(err)
	}

	ss, err := s.Session(ctx, "s1")
	if err != nil {
		t.Fatal(err)
	}
	if ss.Status != StatusEnded || ss.Segments != 2 || ss.Items != 1 || ss.AudioMS != 2500 || !ss.GeneratedModels || ss.EndedAt.IsZero() {
		t.Fatalf("session = %+v", ss)
	}
	segs, err := s.Segments(ctx, "s1")
	if err != nil || len(segs) != 2 || segs[1].Text != "second segment" || segs[1].StartMS != 1000 {
		t.Fatalf("segments = %+v, %v", segs, err)
	}
	items, err := s.Items(ctx, "s1")
	if err != nil || len(items) != 1 {
		t.Fatalf("items = %+v, %v", items, err)
	}
	if items[0].Version != 2 || items[0].Source != "model" || items[0].SegmentSeq != 2 || string(items[0].Resource) != string(res2) {
		t.Fatalf("item after update = %+v", items[0])
	}

	// Reopening applies no migration twice and keeps the data.
	s.Close()
	s2, err := OpenStore(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	list, err := s2.Sessions(ctx, 10)
	if err != nil || len(list) != 1 || list[0].ID != "s1" {
		t.Fatalf("sessions after reopen = %+v, %v", list, err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm&0o077 != 0 {
		t.Fatalf("database file mode %v is readable by others", perm)
	}
}

func TestNotFoundAndDuplicates(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, err := s.Session(ctx, "nope"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Session(nope) = %v, want ErrNotFound", err)
	}
	if err := s.EndSession(ctx, "nope", StatusEnded, 0); !errors.Is(err, ErrNotFound) {
		t.Fatalf("EndSession(nope) = %v, want ErrNotFound", err)
	}
	if err := s.CreateSession(ctx, Session{ID: "a"}); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateSession(ctx, Session{ID: "a"}); err == nil {
		t.Fatal("creating a session twice succeeded")
	}
	if err := s.AddSegment(ctx, "a", Segment{Seq: 1, Text: "x"}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSegment(ctx, "a", Segment{Seq: 1, Text: "y"}, 0); err == nil {
		t.Fatal("a duplicate segment number was accepted")
	}
	if err := s.AddSegment(ctx, "missing", Segment{Seq: 1, Text: "x"}, 0); err == nil {
		t.Fatal("a segment for a missing session was accepted (foreign keys off?)")
	}
}

// TestMarkInterrupted is what a restart after a crash does: live sessions
// become interrupted, their saved data stays.
func TestMarkInterrupted(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, id := range []string{"live1", "live2", "done"} {
		if err := s.CreateSession(ctx, Session{ID: id}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSegment(ctx, "live1", Segment{Seq: 1, Text: "kept"}, 1000); err != nil {
		t.Fatal(err)
	}
	if err := s.EndSession(ctx, "done", StatusEnded, 0); err != nil {
		t.Fatal(err)
	}
	n, err := s.MarkInterrupted(ctx)
	if err != nil || n != 2 {
		t.Fatalf("MarkInterrupted = %d, %v; want 2", n, err)
	}
	ss, _ := s.Session(ctx, "live1")
	if ss.Status != StatusInterrupted || ss.Segments != 1 {
		t.Fatalf("live1 after restart = %+v", ss)
	}
	done, _ := s.Session(ctx, "done")
	if done.Status != StatusEnded {
		t.Fatalf("ended session changed to %s", done.Status)
	}
}
