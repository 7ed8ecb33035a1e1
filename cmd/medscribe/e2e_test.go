package main

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/medscribe/medscribe/db"
)

// sharedDir finds ../shared beside the repository (or MEDSCRIBE_SHARED).
func sharedDir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv("MEDSCRIBE_SHARED"); d != "" {
		return d
	}
	dir, _ := os.Getwd()
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return filepath.Join(dir, "..", "shared")
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// jfkPCM returns the 11 s speech sample as 16 kHz pcm_s16le bytes.
func jfkPCM(t testing.TB) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(sharedDir(t), "data", "speech", "jfk-inaugural-1961-excerpt-16k-mono.wav"))
	if err != nil {
		t.Skipf("shared speech sample not available: %v (set MEDSCRIBE_SHARED)", err)
	}
	if string(b[:4]) != "RIFF" || binary.LittleEndian.Uint32(b[24:]) != 16000 {
		t.Fatal("jfk sample is not a 16 kHz WAV")
	}
	return b[44:]
}

// startApp runs the wired server on a loopback test listener.
func startApp(t *testing.T, c *serveConfig) (*app, *httptest.Server) {
	t.Helper()
	if c.data == "" {
		c.data = t.TempDir()
	}
	if c.threads == 0 {
		c.threads = 1
	}
	if c.llmContext == 0 {
		c.llmContext = 2048
	}
	if c.drain == 0 {
		c.drain = time.Minute
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	a, err := newApp(context.Background(), c, log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.handler)
	t.Cleanup(func() {
		srv.Close()
		a.rt.Shutdown(context.Background())
		a.Close()
	})
	return a, srv
}

func getJSON(t *testing.T, url string, v any) int {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
	}
	return resp.StatusCode
}

// TestEndToEnd streams jfk.wav over a real WebSocket at real-time pace
// through generated whisper and gemma3 models, and checks what was sent,
// saved and exported.
func TestEndToEnd(t *testing.T) {
	pcm := jfkPCM(t)
	a, srv := startApp(t, &serveConfig{extractor: "llm"})

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(srv.URL, "http")+"/v1/listen?encoding=pcm_s16le&sample_rate=16000", nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 22)
	defer conn.CloseNow()

	var events []map[string]any
	readDone := make(chan error, 1)
	go func() {
		for {
			_, b, err := conn.Read(ctx)
			if err != nil {
				readDone <- err
				return
			}
			var ev map[string]any
			if err := json.Unmarshal(b, &ev); err != nil {
				readDone <- err
				return
			}
			events = append(events, ev)
		}
	}()
	// 100 ms frames (3200 bytes) on the clock, as a microphone sends them.
	start := time.Now()
	for i, off := 0, 0; off < len(pcm); i, off = i+1, off+3200 {
		time.Sleep(time.Until(start.Add(time.Duration(i) * 100 * time.Millisecond)))
		if err := conn.Write(ctx, websocket.MessageBinary, pcm[off:min(off+3200, len(pcm))]); err != nil {
			t.Fatal(err)
		}
	}
	if err := conn.Write(ctx, websocket.MessageText, []byte(`{"type":"stop"}`)); err != nil {
		t.Fatal(err)
	}
	if err := <-readDone; websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Fatalf("connection ended with %v, want a normal close", err)
	}

	count := map[string]int{}
	itemIDs := map[string]map[string]any{}
	var sessionID string
	var finals int
	for _, ev := range events {
		typ, _ := ev["type"].(string)
		count[typ]++
		switch typ {
		case "session.started":
			sessionID, _ = ev["session_id"].(string)
			if ev["generated_models"] != true {
				t.Errorf("session.started does not say the models are generated: %v", ev)
			}
		case "transcript.final":
			finals++
		case "item.final":
			res, _ := ev["resource"].(map[string]any)
			rt, _ := res["resourceType"].(string)
			if rt != "MedicationStatement" && rt != "Condition" && rt != "AllergyIntolerance" && rt != "FamilyMemberHistory" {
				t.Errorf("item.final resource type %q", rt)
			}
			if ev["validation"] == nil {
				t.Errorf("item.final without validation: %v", ev)
			}
			itemIDs[ev["item_id"].(string)] = res
		case "error":
			t.Errorf("error event: %v", ev)
		}
	}
	t.Logf("events: %v", count)
	if events[0]["type"] != "session.started" || events[len(events)-1]["type"] != "session.ended" {
		t.Fatalf("first %v, last %v", events[0], events[len(events)-1])
	}
	if finals == 0 || len(itemIDs) == 0 {
		t.Fatalf("%d transcript.final and %d items; want at least one of each", finals, len(itemIDs))
	}

	// Saved: the session, every segment and every item.
	ss, err := a.store.Session(ctx, sessionID)
	if err != nil {
		t.Fatal(err)
	}
	if ss.Status != db.StatusEnded || ss.Segments != finals || ss.Items != len(itemIDs) || ss.AudioMS != 11000 {
		t.Fatalf("stored session %+v; want ended, %d segments, %d items, 11000 ms", ss, finals, len(itemIDs))
	}
	segs, err := a.store.Segments(ctx, sessionID)
	if err != nil || len(segs) != finals {
		t.Fatalf("segments %d (%v), want %d", len(segs), err, finals)
	}
	// The HTTP API and the Bundle hold the same items.
	var api struct {
		Items []db.Item `json:"items"`
	}
	if code := getJSON(t, srv.URL+"/api/sessions/"+sessionID, &api); code != 200 || len(api.Items) != len(itemIDs) {
		t.Fatalf("GET session: %d, %d items", code, len(api.Items))
	}
	var bundle struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []struct {
			FullURL  string         `json:"fullUrl"`
			Resource map[string]any `json:"resource"`
			Request  struct {
				Method string `json:"method"`
			} `json:"request"`
		} `json:"entry"`
	}
	if code := getJSON(t, srv.URL+"/api/sessions/"+sessionID+"/bundle", &bundle); code != 200 {
		t.Fatalf("GET bundle: %d", code)
	}
	if bundle.ResourceType != "Bundle" || bundle.Type != "transaction" {
		t.Fatalf("bundle %s/%s", bundle.ResourceType, bundle.Type)
	}
	found := 0
	for _, e := range bundle.Entry {
		if e.Request.Method != "POST" || !strings.HasPrefix(e.FullURL, "urn:uuid:") {
			t.Errorf("entry %s %s", e.Request.Method, e.FullURL)
		}
		if id, _ := e.Resource["id"].(string); itemIDs[id] != nil {
			found++
		}
	}
	if found != len(itemIDs) {
		t.Fatalf("bundle holds %d of the %d items", found, len(itemIDs))
	}
	// The session page renders.
	resp, err := http.Get(srv.URL + "/sessions/" + sessionID)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `data-testid="generated-notice"`) {
		t.Fatalf("session page: %d, generated-model notice missing", resp.StatusCode)
	}
}
