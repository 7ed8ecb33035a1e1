package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// cdp is a minimal Chrome DevTools Protocol client over one page target.
type cdp struct {
	conn *websocket.Conn
	id   int
}

func (p *cdp) call(ctx context.Context, method string, params any) (json.RawMessage, error) {
	p.id++
	msg, _ := json.Marshal(map[string]any{"id": p.id, "method": method, "params": params})
	if err := p.conn.Write(ctx, websocket.MessageText, msg); err != nil {
		return nil, err
	}
	for {
		_, b, err := p.conn.Read(ctx)
		if err != nil {
			return nil, err
		}
		var resp struct {
			ID     int             `json:"id"`
			Result json.RawMessage `json:"result"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(b, &resp) != nil || resp.ID != p.id {
			continue // an event
		}
		if resp.Error != nil {
			return nil, fmt.Errorf("%s: %s", method, resp.Error.Message)
		}
		return resp.Result, nil
	}
}

// eval runs JavaScript in the page and decodes its (JSON-able) value.
func (p *cdp) eval(ctx context.Context, expr string, v any) error {
	res, err := p.call(ctx, "Runtime.evaluate", map[string]any{"expression": expr, "returnByValue": true, "awaitPromise": true})
	if err != nil {
		return err
	}
	var r struct {
		Result struct {
			Value json.RawMessage `json:"value"`
		} `json:"result"`
		ExceptionDetails *struct {
			Text string `json:"text"`
		} `json:"exceptionDetails"`
	}
	if err := json.Unmarshal(res, &r); err != nil {
		return err
	}
	if r.ExceptionDetails != nil {
		return fmt.Errorf("javascript: %s", r.ExceptionDetails.Text)
	}
	if v == nil {
		return nil
	}
	return json.Unmarshal(r.Result.Value, v)
}

// startChromium runs headless Chromium with a fake microphone that plays
// wav, and returns a DevTools client on a page showing url.
func startChromium(t *testing.T, url, wav string) *cdp {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (make test installs it through .ci/deps)")
	}
	profile := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, bin,
		"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir="+profile, "--remote-debugging-port=0",
		"--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
		"--use-file-for-fake-audio-capture="+wav, "--autoplay-policy=no-user-gesture-required",
		"about:blank")
	if err := cmd.Start(); err != nil {
		cancel()
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); cmd.Wait() })

	// Chromium writes its DevTools port to the profile once it listens.
	var port string
	deadline := time.Now().Add(30 * time.Second)
	for port == "" {
		if time.Now().After(deadline) {
			t.Fatal("chromium did not open its DevTools port")
		}
		if f, err := os.Open(filepath.Join(profile, "DevToolsActivePort")); err == nil {
			sc := bufio.NewScanner(f)
			if sc.Scan() {
				port = strings.TrimSpace(sc.Text())
			}
			f.Close()
		}
		time.Sleep(100 * time.Millisecond)
	}
	req, _ := http.NewRequest(http.MethodPut, "http://127.0.0.1:"+port+"/json/new?"+url, nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var target struct {
		WebSocketDebuggerURL string `json:"webSocketDebuggerUrl"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&target); err != nil {
		t.Fatal(err)
	}
	conn, _, err := websocket.Dial(context.Background(), target.WebSocketDebuggerURL, nil)
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(16 << 20)
	t.Cleanup(func() { conn.CloseNow() })
	return &cdp{conn: conn}
}

func waitFor(t *testing.T, p *cdp, what, expr string, timeout time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	for {
		var ok bool
		if err := p.eval(ctx, expr, &ok); err != nil {
			t.Fatalf("waiting for %s: %v", what, err)
		}
		if ok {
			return
		}
		select {
		case <-ctx.Done():
			var status string
			p.eval(context.Background(), `document.getElementById("status").textContent`, &status)
			t.Fatalf("timed out waiting for %s (status %q)", what, status)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// TestBrowserDictation drives the real page in headless Chromium: its fake
// microphone plays jfk.wav into the AudioWorklet, the page streams it to
// /v1/listen, shows the live transcript and items, and links the saved
// session when stopped.
func TestBrowserDictation(t *testing.T) {
	wav := filepath.Join(sharedDir(t), "data", "speech", "jfk-inaugural-1961-excerpt-16k-mono.wav")
	if _, err := os.Stat(wav); err != nil {
		t.Skipf("shared speech sample not available: %v", err)
	}
	a, srv := startApp(t, &serveConfig{extractor: "llm"})
	p := startChromium(t, srv.URL+"/", wav)
	ctx := context.Background()

	waitFor(t, p, "the page", `document.readyState === "complete" && !!document.getElementById("record")`, 20*time.Second)
	var notice bool
	if err := p.eval(ctx, `!!document.querySelector('[data-testid="generated-notice"]')`, &notice); err != nil || !notice {
		t.Fatalf("the page does not say the models are generated (%v)", err)
	}
	if err := p.eval(ctx, `document.getElementById("record").click()`, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "recording", `document.getElementById("record").textContent === "Stop"`, 20*time.Second)
	waitFor(t, p, "a committed segment", `document.getElementById("finals").textContent.length > 0`, 60*time.Second)
	time.Sleep(4 * time.Second)
	if err := p.eval(ctx, `document.getElementById("record").click()`, nil); err != nil {
		t.Fatal(err)
	}
	waitFor(t, p, "the saved session", `!document.getElementById("saved").hidden`, 3*time.Minute)

	var href string
	if err := p.eval(ctx, `document.getElementById("saved-link").getAttribute("href")`, &href); err != nil {
		t.Fatal(err)
	}
	id := strings.TrimPrefix(href, "/sessions/")
	ss, err := a.store.Session(ctx, id)
	if err != nil {
		t.Fatalf("session %q linked from the page: %v", href, err)
	}
	if ss.Segments == 0 || ss.AudioMS < 4000 || ss.SampleRate != 48000 {
		t.Fatalf("saved session %+v: want segments and ≥ 4 s of 48 kHz audio from the browser", ss)
	}
	var shown int
	if err := p.eval(ctx, `document.querySelectorAll('#items li:not(.pending)').length`, &shown); err != nil {
		t.Fatal(err)
	}
	if shown != ss.Items {
		t.Fatalf("page shows %d items, the session saved %d", shown, ss.Items)
	}
}
