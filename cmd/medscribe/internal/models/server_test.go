package models

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// fakeHF serves generated files under Hugging Face's resolve paths and
// misbehaves on request, recording what it was asked.
type fakeHF struct {
	*httptest.Server

	mu    sync.Mutex
	files map[string][]byte // "/<repo>/resolve/<rev>/<file>"
	reqs  []request
	sent  int64 // body bytes written

	// Behaviour, set before the first request.
	cutAt       int64  // > 0: the first full GET is cut off after this many bytes
	cut         bool   // the cut has happened
	ignoreRange bool   // answer Range requests with 200 and the whole file
	rangeStatus int    // != 0: answer every Range request with this status
	token       string // != "": require "Bearer <token>" (401 without, 403 wrong)
	chunked     bool   // no Content-Length
	failFirst   int    // answer this many first requests with 503
	// hold: the first GET sends half the body, closes started, and waits
	// for hold to close before sending the rest. stall: it never sends
	// the rest (until the server closes).
	hold, started chan struct{}
	stall         bool
	held          bool
}

type request struct{ path, rng, auth string }

func newFakeHF(t testing.TB) *fakeHF {
	s := &fakeHF{files: map[string][]byte{}}
	s.Server = httptest.NewServer(s)
	t.Cleanup(func() {
		if s.hold != nil && s.stall {
			close(s.hold)
		}
		s.Close()
	})
	return s
}

// add serves data for m at revision rev.
func (s *fakeHF) add(m Model, rev string, data []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files["/"+m.Repo+"/resolve/"+rev+"/"+m.File] = data
}

func (s *fakeHF) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

func (s *fakeHF) bytesSent() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sent
}

func (s *fakeHF) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rng, auth := r.Header.Get("Range"), r.Header.Get("Authorization")
	s.mu.Lock()
	s.reqs = append(s.reqs, request{r.URL.Path, rng, auth})
	data, ok := s.files[r.URL.Path]
	fail := s.failFirst > 0
	if fail {
		s.failFirst--
	}
	s.mu.Unlock()

	switch {
	case fail:
		http.Error(w, "busy", http.StatusServiceUnavailable)
		return
	case s.token != "" && auth == "":
		w.Header().Set("X-Error-Code", "GatedRepo")
		w.Header().Set("X-Error-Message", "Access to model "+r.URL.Path+" is restricted.\nYou must be authenticated.")
		http.Error(w, "gated", http.StatusUnauthorized)
		return
	case s.token != "" && auth != "Bearer "+s.token:
		http.Error(w, "not accepted", http.StatusForbidden)
		return
	case !ok:
		http.NotFound(w, r)
		return
	case rng != "" && s.rangeStatus != 0:
		w.WriteHeader(s.rangeStatus)
		return
	}
	body, status := data, http.StatusOK
	if rng != "" && !s.ignoreRange {
		from, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimPrefix(rng, "bytes="), "-"), 10, 64)
		if err != nil || from >= int64(len(data)) {
			w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
			return
		}
		body, status = data[from:], http.StatusPartialContent
		w.Header().Set("Content-Range", fmt.Sprintf("bytes %d-%d/%d", from, len(data)-1, len(data)))
	}
	if !s.chunked {
		w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	}
	w.WriteHeader(status)

	s.mu.Lock()
	cut := s.cutAt > 0 && !s.cut && rng == ""
	if cut {
		s.cut = true
	}
	hold := s.hold != nil && !s.held
	if hold {
		s.held = true
	}
	s.mu.Unlock()
	if cut {
		s.write(w, body[:s.cutAt])
		w.(http.Flusher).Flush()
		// Closes the connection mid-body: the client sees an unexpected EOF.
		panic(http.ErrAbortHandler)
	}
	if hold {
		half := len(body) / 2
		s.write(w, body[:half])
		w.(http.Flusher).Flush()
		close(s.started)
		<-s.hold
		if s.stall {
			panic(http.ErrAbortHandler)
		}
		body = body[half:]
	}
	if s.chunked {
		w.(http.Flusher).Flush()
	}
	s.write(w, body)
}

func (s *fakeHF) write(w http.ResponseWriter, b []byte) {
	n, _ := w.Write(b)
	s.mu.Lock()
	s.sent += int64(n)
	s.mu.Unlock()
}

// testModel makes a model of size random bytes (seeded by name) and its
// data; the pins are computed here, as the real manifest's come from
// MODELS.md.
func testModel(name string, size int) (Model, []byte) {
	seed := sha256.Sum256([]byte(name))
	rng := rand.New(rand.NewChaCha8(seed))
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	sum := sha256.Sum256(data)
	return Model{
		Name: name, Kind: Whisper, Repo: "test/" + name, File: name + ".bin",
		Revision: "0123456789abcdef0123456789abcdef01234567",
		Size:     int64(size), SHA256: hex.EncodeToString(sum[:]),
		License: "MIT", LicenseURL: "https://example.org/mit",
	}, data
}

// syncBuffer is a bytes.Buffer for writers on several goroutines.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
