package realtime

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/medscribe/medscribe/db"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/realtime/sched"
	"github.com/medscribe/medscribe/speech"
)

// fakeTranscriber commits one segment per second of audio received; the
// policy itself is tested in package speech.
type fakeTranscriber struct {
	mu      sync.Mutex
	samples int
	done    int // samples already committed
	seg     int
	ready   chan struct{}
	limit   int // Append fails with ErrBufferFull beyond this many samples pending
}

func newFakeTranscriber() *fakeTranscriber {
	return &fakeTranscriber{ready: make(chan struct{}, 1), limit: 60 * speech.SampleRate}
}

func (f *fakeTranscriber) Append(s []float32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.samples+len(s)-f.done > f.limit {
		return fmt.Errorf("append: %w", speech.ErrBufferFull)
	}
	f.samples += len(s)
	if f.samples-f.done >= speech.SampleRate {
		select {
		case f.ready <- struct{}{}:
		default:
		}
	}
	return nil
}

func (f *fakeTranscriber) Ready() <-chan struct{} { return f.ready }

func (f *fakeTranscriber) Due() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.samples-f.done >= speech.SampleRate
}

func (f *fakeTranscriber) commit(all bool) []TranscriptEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	var evs []TranscriptEvent
	for f.samples-f.done >= speech.SampleRate || (all && f.samples > f.done) {
		n := min(speech.SampleRate, f.samples-f.done)
		f.seg++
		start := time.Duration(f.done) * time.Second / speech.SampleRate
		f.done += n
		end := time.Duration(f.done) * time.Second / speech.SampleRate
		evs = append(evs, TranscriptEvent{Final: true, SegmentID: f.seg, Text: fmt.Sprintf("metformin segment %d", f.seg), Start: start, End: end})
	}
	if !all && f.samples > f.done {
		evs = append(evs, TranscriptEvent{Text: "partial tail"})
	}
	return evs
}

func (f *fakeTranscriber) Step(ctx context.Context) ([]TranscriptEvent, error) {
	return f.commit(false), nil
}
func (f *fakeTranscriber) Stop(ctx context.Context) ([]TranscriptEvent, error) {
	return f.commit(true), nil
}
func (f *fakeTranscriber) Close() error { return nil }

// fakeExtractor emits one MedicationStatement per segment mentioning metformin,
// updating the same item each time.
type fakeExtractor struct{}

func (fakeExtractor) Feed(ctx context.Context, seg extract.Segment, partial func(extract.Partial)) ([]extract.Item, error) {
	if !strings.Contains(seg.Text, "metformin") {
		return nil, nil
	}
	partial(extract.Partial{ItemID: "med-1", Kind: "MedicationStatement", Fields: map[string]string{"name": "metformin"}})
	res := json.RawMessage(`{"resourceType":"MedicationStatement","status":"active","medicationCodeableConcept":{"text":"metformin"},"subject":{"reference":"Patient/x"}}`)
	return []extract.Item{{ID: "med-1", Kind: "MedicationStatement", Resource: res, Source: extract.SourceRules, SegmentID: seg.ID}}, nil
}
func (fakeExtractor) Close() error { return nil }

type testServer struct {
	srv   *Server
	http  *httptest.Server
	store *db.Store
}

func newTestServer(t *testing.T, mod func(*Config)) *testServer {
	t.Helper()
	store, err := db.OpenStore(context.Background(), filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Store:          store,
		Scheduler:      sched.New(2, 1),
		NewTranscriber: func(string) (Transcriber, error) { return newFakeTranscriber(), nil },
		NewExtractor:   func(string, string) (extract.Extractor, error) { return fakeExtractor{}, nil },
		DrainTimeout:   5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	hs := httptest.NewServer(srv)
	t.Cleanup(func() {
		hs.Close()
		srv.Shutdown(context.Background())
		store.Close()
	})
	return &testServer{srv: srv, http: hs, store: store}
}

func (ts *testServer) dial(t *testing.T, query string) *websocket.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.http.URL, "http")+"/v1/listen"+query, nil)
	if err != nil {
		t.Fatal(err)
	}
	c.SetReadLimit(10 << 20)
	return c
}

// events reads events until the connection closes; it returns them and the
// close status.
func events(t *testing.T, c *websocket.Conn) ([]map[string]any, websocket.StatusCode) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var evs []map[string]any
	for {
		_, b, err := c.Read(ctx)
		if err != nil {
			return evs, websocket.CloseStatus(err)
		}
		var ev map[string]any
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatalf("server sent non-JSON %q", b)
		}
		evs = append(evs, ev)
	}
}

func count(evs []map[string]any, typ string) int {
	n := 0
	for _, ev := range evs {
		if ev["type"] == typ {
			n++
		}
	}
	return n
}

func firstOf(evs []map[string]any, typ string) map[string]any {
	for _, ev := range evs {
		if ev["type"] == typ {
			return ev
		}
	}
	return nil
}

func pcm16(seconds float64) []byte {
	n := int(seconds * speech.SampleRate)
	b := make([]byte, 2*n)
	for i := range n {
		binary.LittleEndian.PutUint16(b[2*i:], uint16(int16(1000*((i%50)-25))))
	}
	return b
}

func write(t *testing.T, c *websocket.Conn, typ websocket.MessageType, b []byte) {
	t.Helper()
	if err := c.Write(context.Background(), typ, b); err != nil {
		t.Fatal(err)
	}
}

func TestSessionStopFlow(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.dial(t, "?encoding=pcm_s16le&sample_rate=16000&patient=Patient/p-1")
	audio := pcm16(2.5)
	for off := 0; off < len(audio); off += 3200 { // 100 ms frames
		write(t, c, websocket.MessageBinary, audio[off:min(off+3200, len(audio))])
	}
	write(t, c, websocket.MessageText, []byte(`{"type":"keepalive"}`))
	write(t, c, websocket.MessageText, []byte(`{"type":"stop"}`))
	evs, code := events(t, c)
	if code != websocket.StatusNormalClosure {
		t.Fatalf("close code %d, want normal", code)
	}
	if evs[0]["type"] != TypeSessionStarted {
		t.Fatalf("first event %v", evs[0])
	}
	if n := count(evs, TypeTranscriptFinal); n != 3 {
		t.Fatalf("%d finals for 2.5 s, want 3 (2 whole seconds + flushed tail)", n)
	}
	if count(evs, TypeItemPartial) == 0 || count(evs, TypeItemFinal) == 0 {
		t.Fatalf("no item events: %v", evs)
	}
	end := evs[len(evs)-1]
	if end["type"] != TypeSessionEnded || end["status"] != db.StatusEnded {
		t.Fatalf("last event %v", end)
	}
	id := evs[0]["session_id"].(string)
	if end["bundle_url"] != "/api/sessions/"+id+"/bundle" {
		t.Fatalf("bundle_url %v", end["bundle_url"])
	}
	ss, err := ts.store.Session(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Status != db.StatusEnded || ss.Segments != 3 || ss.Items != 1 || ss.AudioMS != 2500 || ss.PatientRef != "Patient/p-1" {
		t.Fatalf("stored session %+v", ss)
	}
}

// TestBadInput sends each kind of bad message in one session: each gets an
// error event, the session goes on, and the audio around them is kept.
func TestBadInput(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.dial(t, "?encoding=pcm_s16le&sample_rate=16000")
	write(t, c, websocket.MessageBinary, pcm16(1))
	write(t, c, websocket.MessageText, []byte(`this is not json`))
	write(t, c, websocket.MessageText, []byte(`{"type":"dance"}`))
	write(t, c, websocket.MessageText, []byte(`["stop"]`))
	write(t, c, websocket.MessageBinary, []byte{1, 2, 3}) // odd byte count
	write(t, c, websocket.MessageBinary, pcm16(1))
	write(t, c, websocket.MessageText, []byte(`{"type":"stop"}`))
	evs, code := events(t, c)
	if code != websocket.StatusNormalClosure {
		t.Fatalf("close %d, want normal", code)
	}
	var codes []string
	for _, ev := range evs {
		if ev["type"] == TypeError {
			codes = append(codes, ev["code"].(string))
		}
	}
	want := []string{ErrCodeBadJSON, ErrCodeUnknownType, ErrCodeBadJSON, ErrCodeBadFrame}
	if fmt.Sprint(codes) != fmt.Sprint(want) {
		t.Fatalf("error codes %v, want %v", codes, want)
	}
	if n := count(evs, TypeTranscriptFinal); n != 2 {
		t.Fatalf("%d finals, want 2: audio around bad frames must be kept", n)
	}
}

func TestBadFloatSamples(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.dial(t, "?encoding=pcm_f32le&sample_rate=48000")
	frame := make([]byte, 4*480)
	binary.LittleEndian.PutUint32(frame[8:], 0x7fc00000) // NaN
	write(t, c, websocket.MessageBinary, frame)
	write(t, c, websocket.MessageText, []byte(`{"type":"stop"}`))
	evs, _ := events(t, c)
	if e := firstOf(evs, TypeError); e == nil || e["code"] != ErrCodeBadSamples {
		t.Fatalf("NaN frame: %v", evs)
	}
}

func TestUnsupportedFormat(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	for _, q := range []string{"?sample_rate=22050", "?encoding=mp3", "?sample_rate=abc", "?patient=Observation/1"} {
		c := ts.dial(t, q)
		evs, code := events(t, c)
		if code != CloseUnsupportedFormat {
			t.Errorf("%s: close %d, want %d", q, code, CloseUnsupportedFormat)
		}
		if len(evs) != 1 || evs[0]["code"] != ErrCodeUnsupportedFormat {
			t.Errorf("%s: events %v", q, evs)
		}
	}
	list, _ := ts.store.Sessions(context.Background(), 10)
	if len(list) != 0 {
		t.Fatalf("refused connections created %d sessions", len(list))
	}
}

// TestOversizedFrame: a 10 MB frame closes the connection with 1009; the
// audio committed before it stays saved.
func TestOversizedFrame(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.dial(t, "")
	write(t, c, websocket.MessageBinary, pcm16(2))
	// Wait until the first segments are committed and shown.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var id string
	for finals := 0; finals < 2; {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ev map[string]any
		json.Unmarshal(b, &ev)
		if ev["type"] == TypeSessionStarted {
			id = ev["session_id"].(string)
		}
		if ev["type"] == TypeTranscriptFinal {
			finals++
		}
	}
	_ = c.Write(context.Background(), websocket.MessageBinary, make([]byte, 10<<20))
	_, code := events(t, c)
	if code != websocket.StatusMessageTooBig {
		t.Fatalf("close %d, want %d (message too big)", code, websocket.StatusMessageTooBig)
	}
	waitStatus(t, ts.store, id, db.StatusDisconnected)
	segs, _ := ts.store.Segments(context.Background(), id)
	if len(segs) != 2 {
		t.Fatalf("%d segments saved, want the 2 committed before the oversized frame", len(segs))
	}
}

func waitStatus(t *testing.T, store *db.Store, id, status string) db.Session {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ss, err := store.Session(context.Background(), id)
		if err == nil && ss.Status == status {
			return ss
		}
		if time.Now().After(deadline) {
			t.Fatalf("session %s status %q (err %v), want %q", id, ss.Status, err, status)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestClientVanishes: the client drops the TCP connection mid-sentence;
// everything it sent is still transcribed and saved.
func TestClientVanishes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.dial(t, "")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, b, err := c.Read(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var started map[string]any
	json.Unmarshal(b, &started)
	id := started["session_id"].(string)
	write(t, c, websocket.MessageBinary, pcm16(1.5))
	time.Sleep(100 * time.Millisecond)
	c.CloseNow()
	ss := waitStatus(t, ts.store, id, db.StatusDisconnected)
	if ss.Segments != 2 || ss.AudioMS != 1500 {
		t.Fatalf("after vanishing: %+v; want 2 segments (1 s + flushed 0.5 s)", ss)
	}
	if ss.Items != 1 {
		t.Fatalf("items %d, want 1", ss.Items)
	}
}

// TestOverloaded: audio far faster than it is transcribed fills the bounded
// buffer; the session closes with CloseOverloaded and keeps what it had.
func TestOverloaded(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(cfg *Config) {
		cfg.NewTranscriber = func(string) (Transcriber, error) {
			f := newFakeTranscriber()
			f.limit = speech.SampleRate / 2
			f.ready = make(chan struct{}) // never ready: recognition stalls
			return f, nil
		}
	})
	c := ts.dial(t, "")
	for range 20 {
		if err := c.Write(context.Background(), websocket.MessageBinary, pcm16(0.1)); err != nil {
			break
		}
	}
	evs, code := events(t, c)
	if code != CloseOverloaded {
		t.Fatalf("close %d, want %d", code, CloseOverloaded)
	}
	if e := firstOf(evs, TypeError); e == nil || e["code"] != ErrCodeOverloaded {
		t.Fatalf("events %v", evs)
	}
}

// TestShutdownFlushes: stopping the server ends live sessions after
// flushing them, with CloseShutdown.
func TestShutdownFlushes(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	c := ts.dial(t, "")
	write(t, c, websocket.MessageBinary, pcm16(0.7))
	time.Sleep(100 * time.Millisecond)
	done := make(chan error, 1)
	go func() { done <- ts.srv.Shutdown(context.Background()) }()
	evs, code := events(t, c)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if code != CloseShutdown {
		t.Fatalf("close %d, want %d", code, CloseShutdown)
	}
	end := firstOf(evs, TypeSessionEnded)
	if end == nil || end["status"] != db.StatusInterrupted || count(evs, TypeTranscriptFinal) != 1 {
		t.Fatalf("events %v", evs)
	}
}

func TestOriginChecked(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	h := map[string][]string{"Origin": {"https://evil.example"}}
	_, resp, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.http.URL, "http")+"/v1/listen", &websocket.DialOptions{HTTPHeader: h})
	if err == nil {
		t.Fatal("a cross-origin browser connection was accepted")
	}
	if resp == nil || resp.StatusCode != 403 {
		t.Fatalf("cross-origin response %v, want 403", resp)
	}
}

func TestNewServerNeedsParts(t *testing.T) {
	t.Parallel()
	if _, err := NewServer(Config{}); err == nil {
		t.Fatal("NewServer accepted an empty config")
	}
	if !errors.Is(fmt.Errorf("x: %w", speech.ErrBufferFull), speech.ErrBufferFull) {
		t.Fatal("ErrBufferFull does not wrap")
	}
}

// stagedExtractor's quick pass finds an item at once; its slow pass
// returns the same item enriched, with a note.
type stagedExtractor struct{ fakeExtractor }

func (stagedExtractor) Quick(ctx context.Context, seg extract.Segment) ([]extract.Item, error) {
	res := json.RawMessage(`{"resourceType":"Condition","id":"c-1"}`)
	return []extract.Item{{ID: "c-1", Kind: "Condition", Resource: res, Source: extract.SourceRules, SegmentID: seg.ID}}, nil
}

func (stagedExtractor) Feed(ctx context.Context, seg extract.Segment, partial func(extract.Partial)) ([]extract.Item, error) {
	res := json.RawMessage(`{"resourceType":"Condition","id":"c-1","note":[{"text":"enriched"}]}`)
	return []extract.Item{{ID: "c-1", Kind: "Condition", Resource: res, Source: extract.SourceModel, SegmentID: seg.ID,
		Notes: []string{"assertion: rules present, model negated"}}}, nil
}

func TestStagedExtractor(t *testing.T) {
	t.Parallel()
	ts := newTestServer(t, func(cfg *Config) {
		cfg.NewExtractor = func(string, string) (extract.Extractor, error) { return stagedExtractor{}, nil }
	})
	c := ts.dial(t, "")
	write(t, c, websocket.MessageBinary, pcm16(1))
	write(t, c, websocket.MessageText, []byte(`{"type":"stop"}`))
	evs, _ := events(t, c)
	var sources []string
	for _, ev := range evs {
		if ev["type"] == TypeItemFinal {
			sources = append(sources, ev["source"].(string))
			if ev["source"] == extract.SourceModel && ev["notes"] == nil {
				t.Errorf("the slow pass's disagreement note was not sent: %v", ev)
			}
		}
	}
	if fmt.Sprint(sources) != "[rules model]" {
		t.Fatalf("item.final sources %v, want the quick item first, then its update", sources)
	}
	id := evs[0]["session_id"].(string)
	items, _ := ts.store.Items(context.Background(), id)
	if len(items) != 1 || items[0].Version != 2 || items[0].Source != extract.SourceModel {
		t.Fatalf("stored items %+v: want one item at version 2 from the model", items)
	}
}
