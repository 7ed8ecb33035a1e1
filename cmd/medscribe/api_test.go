package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

func post(t *testing.T, url, body string) (int, map[string]any) {
	t.Helper()
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&v); err != nil {
		t.Fatalf("POST %s: response is not JSON: %v", url, err)
	}
	return resp.StatusCode, v
}

// TestHTTPAPI exercises the HTTP API of the wired server (rules extractor,
// starter terminology): health, model info, text extraction with its
// errors, saved sessions, pages and the headers every response carries.
func TestHTTPAPI(t *testing.T) {
	_, srv := startApp(t, &serveConfig{extractor: "rules"})

	var health map[string]any
	if code := getJSON(t, srv.URL+"/api/health", &health); code != 200 || health["status"] != "ok" {
		t.Fatalf("health: %d %v", code, health)
	}
	var info map[string]any
	if code := getJSON(t, srv.URL+"/api/model-info", &info); code != 200 || info["speech_model_generated"] != true || info["extractor"] != "rules" {
		t.Fatalf("model-info: %d %v", code, info)
	}

	code, res := post(t, srv.URL+"/api/process-medical-text",
		`{"transcript":"She takes metformin 500 mg twice daily and lisinopril 10 mg daily for hypertension. Denies chest pain. Allergic to penicillin."}`)
	if code != 200 || res["success"] != true {
		t.Fatalf("process-medical-text: %d %v", code, res)
	}
	data := res["data"].(map[string]any)
	meds, _ := data["medications"].([]any)
	conds, _ := data["conditions"].([]any)
	other, _ := data["other"].([]any)
	if len(meds) != 2 || len(conds) != 2 || len(other) != 1 {
		t.Fatalf("got %d medications, %d conditions, %d other; want metformin and lisinopril, hypertension and refuted chest pain, the allergy", len(meds), len(conds), len(other))
	}
	if res["validation"] == nil || res["processing_time_ms"] == nil || res["model_info"] == nil {
		t.Fatalf("response lacks validation, timing or model info: %v", res)
	}
	for _, m := range meds {
		if strings.Contains(strings.ToLower(mustJSON(t, m)), "penicillin") {
			t.Fatal("the penicillin allergy came back as a medication")
		}
	}

	for _, tc := range []struct {
		body string
		code int
		err  string
	}{
		{`{"transcript":`, 400, "bad_json"},
		{`{"transcript":"x","surprise":1}`, 400, "bad_json"},
		{`{"transcript":""}`, 400, "missing_transcript"},
		{`{"transcript":"` + strings.Repeat("a", 2<<20) + `"}`, 413, "too_large"},
	} {
		code, res := post(t, srv.URL+"/api/process-medical-text", tc.body)
		e, _ := res["error"].(map[string]any)
		if code != tc.code || e["code"] != tc.err || res["success"] != false {
			t.Errorf("body %.30q: %d %v; want %d %s", tc.body, code, res, tc.code, tc.err)
		}
	}

	var list map[string]any
	if code := getJSON(t, srv.URL+"/api/sessions", &list); code != 200 || list["sessions"] == nil {
		t.Fatalf("sessions: %d %v", code, list)
	}
	var nf map[string]any
	if code := getJSON(t, srv.URL+"/api/sessions/nope", &nf); code != 404 {
		t.Fatalf("unknown session: %d %v", code, nf)
	}
	if code := getJSON(t, srv.URL+"/api/sessions/nope/bundle", &nf); code != 404 {
		t.Fatalf("unknown session bundle: %d", code)
	}
	if code := getJSON(t, srv.URL+"/api/sessions?limit=x", &nf); code != 400 {
		t.Fatalf("bad limit: %d", code)
	}

	for _, path := range []string{"/", "/sessions", "/static/app.js", "/static/worklet.js"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || len(body) == 0 {
			t.Errorf("GET %s: %d", path, resp.StatusCode)
		}
		h := resp.Header
		if !strings.Contains(h.Get("Content-Security-Policy"), "script-src 'self'") || h.Get("Cache-Control") != "no-store" ||
			h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
			t.Errorf("GET %s: security headers %v", path, h)
		}
		if path == "/" && !bytes.Contains(body, []byte(`data-testid="record"`)) {
			t.Errorf("the dictation page has no record button")
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
