package models

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// opts are test options: a fast backoff (retries are counted, not timed)
// and progress into buf.
func opts(s *fakeHF, progress io.Writer) *Options {
	o := &Options{Backoff: time.Millisecond, Progress: progress}
	if s != nil {
		o.BaseURL = s.URL
	}
	return o
}

// checkInstalled asserts that dir holds exactly data for m, verified, with
// no part file left.
func checkInstalled(t *testing.T, dir string, m Model, data []byte) {
	t.Helper()
	path := filepath.Join(dir, m.File)
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, data) {
		t.Fatalf("%s: content differs from what the server has", path)
	}
	side, err := os.ReadFile(path + ".sha256")
	if err != nil {
		t.Fatal(err)
	}
	if want := m.SHA256 + "  " + m.File + "\n"; string(side) != want {
		t.Errorf("sidecar = %q, want %q", side, want)
	}
	if _, err := os.Stat(path + ".part"); !os.IsNotExist(err) {
		t.Errorf("part file still there: %v", err)
	}
	if p, ok := FindModel(dir, m); !ok || p != path {
		t.Errorf("FindModel = %q, %v; want %q, true", p, ok, path)
	}
}

func TestPullFull(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	m, data := testModel("full", 3<<20+17)
	s.add(m, m.Revision, data)
	dir := t.TempDir()
	var buf syncBuffer
	res, err := Pull(context.Background(), dir, m, opts(s, &buf))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	checkInstalled(t, dir, m, data)
	if res.Downloaded != m.Size || res.Hashed {
		t.Errorf("result %+v", res)
	}
	reqs := s.requests()
	if len(reqs) != 1 || reqs[0].path != "/test/full/resolve/"+m.Revision+"/full.bin" || reqs[0].rng != "" || reqs[0].auth != "" {
		t.Errorf("requests %+v", reqs)
	}

	// Pulled again: found by its sidecar, nothing fetched, nothing hashed.
	res, err = Pull(context.Background(), dir, m, opts(s, &buf))
	if err != nil || res.Downloaded != 0 || res.Hashed {
		t.Fatalf("second pull: %+v, %v", res, err)
	}
	if n := len(s.requests()); n != 1 {
		t.Errorf("second pull made %d more requests", n-1)
	}
}

func TestPullResumeAfterCut(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	m, data := testModel("cut", 2<<20+5)
	s.add(m, m.Revision, data)
	s.cutAt = 700_001
	dir := t.TempDir()
	var buf syncBuffer
	res, err := Pull(context.Background(), dir, m, opts(s, &buf))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	checkInstalled(t, dir, m, data)
	reqs := s.requests()
	if len(reqs) != 2 || reqs[0].rng != "" || reqs[1].rng != "bytes=700001-" {
		t.Fatalf("requests %+v, want a full GET then Range bytes=700001-", reqs)
	}
	if sent := s.bytesSent(); sent != m.Size {
		t.Errorf("server sent %d bytes in all, want %d (each byte once)", sent, m.Size)
	}
	if res.Downloaded != m.Size {
		t.Errorf("Downloaded = %d", res.Downloaded)
	}
	// A cut after progress resumes at once; it is not a failed attempt.
	if strings.Contains(buf.String(), "retrying") {
		t.Errorf("the cut was treated as a failure:\n%s", buf.String())
	}
}

// A part file left by an earlier run is resumed, hashed from disk, not
// fetched again.
func TestPullResumesPartFile(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	m, data := testModel("part", 1<<20)
	s.add(m, m.Revision, data)
	dir := t.TempDir()
	const have = 300_000
	if err := os.WriteFile(filepath.Join(dir, m.File+".part"), data[:have], 0o644); err != nil {
		t.Fatal(err)
	}
	var buf syncBuffer
	res, err := Pull(context.Background(), dir, m, opts(s, &buf))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	checkInstalled(t, dir, m, data)
	if reqs := s.requests(); len(reqs) != 1 || reqs[0].rng != "bytes=300000-" {
		t.Errorf("requests %+v", reqs)
	}
	if res.Downloaded != m.Size-have {
		t.Errorf("Downloaded = %d, want %d", res.Downloaded, m.Size-have)
	}
	if !strings.Contains(buf.String(), "resuming at 300.0 kB") {
		t.Errorf("progress does not say it resumed:\n%s", buf.String())
	}
}

// Servers that ignore Range (200) or refuse it (416) make the pull start
// over. The part file holds wrong bytes, so appending to it would fail the
// checksum: success proves it started over.
func TestPullRangeNotHonoured(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name   string
		setup  func(*fakeHF)
		note   string
		ranges []string
	}{
		{"ignored", func(s *fakeHF) { s.ignoreRange = true }, "ignored the range request", []string{"bytes=4096-"}},
		{"416", func(s *fakeHF) { s.rangeStatus = http.StatusRequestedRangeNotSatisfiable }, "HTTP 416", []string{"bytes=4096-", ""}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeHF(t)
			m, data := testModel("range-"+tc.name, 1<<20+3)
			s.add(m, m.Revision, data)
			tc.setup(s)
			dir := t.TempDir()
			if err := os.WriteFile(filepath.Join(dir, m.File+".part"), bytes.Repeat([]byte{0xAA}, 4096), 0o644); err != nil {
				t.Fatal(err)
			}
			var buf syncBuffer
			if _, err := Pull(context.Background(), dir, m, opts(s, &buf)); err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			checkInstalled(t, dir, m, data)
			var got []string
			for _, r := range s.requests() {
				got = append(got, r.rng)
			}
			if strings.Join(got, ",") != strings.Join(tc.ranges, ",") {
				t.Errorf("ranges asked %q, want %q", got, tc.ranges)
			}
			if !strings.Contains(buf.String(), tc.note) {
				t.Errorf("progress lacks %q:\n%s", tc.note, buf.String())
			}
		})
	}
}

func TestPullBadChecksum(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	m, data := testModel("badsum", 1<<20)
	data[12345] ^= 1 // the server's bytes differ from the pinned ones
	s.add(m, m.Revision, data)
	dir := t.TempDir()
	var buf syncBuffer
	_, err := Pull(context.Background(), dir, m, opts(s, &buf))
	var ce *ChecksumError
	if !errors.As(err, &ce) {
		t.Fatalf("err = %v, want a ChecksumError", err)
	}
	if ce.Want != m.SHA256 || ce.Got != sha256Hex(data) {
		t.Errorf("ChecksumError %+v", ce)
	}
	for _, s := range []string{m.SHA256, sha256Hex(data), "expected", "deleted"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q lacks %q", err, s)
		}
	}
	for _, f := range []string{m.File, m.File + ".part", m.File + ".sha256"} {
		if _, err := os.Stat(filepath.Join(dir, f)); !os.IsNotExist(err) {
			t.Errorf("%s exists after a bad checksum (%v)", f, err)
		}
	}
}

// Bytes beyond the pinned size are refused, whether the server announces
// them (Content-Length) or just sends them (chunked).
func TestPullSizeMismatch(t *testing.T) {
	t.Parallel()
	for _, chunked := range []bool{false, true} {
		t.Run(map[bool]string{false: "announced", true: "chunked"}[chunked], func(t *testing.T) {
			t.Parallel()
			s := newFakeHF(t)
			m, data := testModel("size", 200_000)
			s.add(m, m.Revision, append(data, 1, 2, 3))
			s.chunked = chunked
			dir := t.TempDir()
			var buf syncBuffer
			_, err := Pull(context.Background(), dir, m, opts(s, &buf))
			var se *SizeError
			if !errors.As(err, &se) || se.Want != m.Size || se.Got <= m.Size {
				t.Fatalf("err = %v, want a SizeError over %d", err, m.Size)
			}
			if _, err := os.Stat(filepath.Join(dir, m.File)); !os.IsNotExist(err) {
				t.Error("the model file exists after a size mismatch")
			}
		})
	}
}

func TestPullAuth(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name     string
		token    string
		toMirror bool
		status   int // 0: success
		sent     bool
		withheld bool
		says     []string
	}{
		{"no token", "", true, 401, false, false, []string{"is gated", "accept the licence", "HF_TOKEN", "https://huggingface.co/test/", "settings/tokens",
			"(server says: GatedRepo: Access to model /test/gated/resolve/0123456789abcdef0123456789abcdef01234567/gated.bin is restricted. You must be authenticated.)"}},
		{"refused token", "wrong", true, 403, true, false, []string{"was refused", "accept the licence", "https://huggingface.co/test/"}},
		{"token withheld from mirror", "secret", false, 401, false, true, []string{"--mirror-token"}},
		{"good token", "secret", true, 0, true, false, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			s := newFakeHF(t)
			s.token = "secret"
			m, data := testModel("gated", 100_000)
			m.Gated, m.License, m.LicenseURL = true, "Test Terms", "https://example.org/terms"
			s.add(m, m.Revision, data)
			dir := t.TempDir()
			var buf syncBuffer
			o := opts(s, &buf)
			o.Token, o.TokenToMirror = tc.token, tc.toMirror
			_, err := Pull(context.Background(), dir, m, o)
			wantAuth := ""
			if tc.sent {
				wantAuth = "Bearer " + tc.token
			}
			if r := s.requests(); len(r) != 1 || r[0].auth != wantAuth {
				t.Errorf("requests %+v, want one with Authorization %q", r, wantAuth)
			}
			if tc.status == 0 {
				if err != nil {
					t.Fatal(err)
				}
				checkInstalled(t, dir, m, data)
				return
			}
			var ae *AuthError
			if !errors.As(err, &ae) || ae.Status != tc.status || ae.TokenSent != tc.sent || ae.TokenWithheld != tc.withheld {
				t.Fatalf("err = %#v, want AuthError %d sent=%v withheld=%v", err, tc.status, tc.sent, tc.withheld)
			}
			for _, s := range tc.says {
				if !strings.Contains(err.Error(), s) {
					t.Errorf("message %q lacks %q", err, s)
				}
			}
		})
	}
}

// The token goes to Hugging Face's hosts, never to another one unless
// allowed.
func TestSendToken(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		base     string
		toMirror bool
		want     bool
	}{
		{"https://huggingface.co", false, true},
		{"https://hf.co", false, true},
		{"https://cdn-lfs.huggingface.co", false, true},
		{"https://evilhuggingface.co", false, false},
		{"https://huggingface.co.example.com", false, false},
		{"https://hf-mirror.example", false, false},
		{"https://hf-mirror.example", true, true},
	} {
		p := newPuller(t.TempDir(), &Options{BaseURL: tc.base, Token: "x", TokenToMirror: tc.toMirror})
		if got := p.sendToken(); got != tc.want {
			t.Errorf("%s (toMirror %v): sendToken = %v, want %v", tc.base, tc.toMirror, got, tc.want)
		}
	}
	if newPuller("", &Options{}).sendToken() {
		t.Error("sendToken with no token")
	}
}

func TestPullRevisionFallback(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	m, data := testModel("rewritten", 150_000)
	s.add(m, "main", data) // the pinned commit is gone after a history rewrite
	dir := t.TempDir()
	var buf syncBuffer
	res, err := Pull(context.Background(), dir, m, opts(s, &buf))
	if err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	checkInstalled(t, dir, m, data)
	reqs := s.requests()
	if len(reqs) != 2 || !strings.Contains(reqs[0].path, "/resolve/"+m.Revision+"/") || !strings.Contains(reqs[1].path, "/resolve/main/") {
		t.Errorf("requests %+v, want the pinned revision then main", reqs)
	}
	if !strings.HasSuffix(res.URL, "/resolve/main/rewritten.bin") {
		t.Errorf("URL = %s", res.URL)
	}

	// Gone from main too: a 404 error naming main's URL, after two tries.
	gone, _ := testModel("gone", 10)
	_, err = Pull(context.Background(), dir, gone, opts(s, &buf))
	var he *HTTPError
	if !errors.As(err, &he) || he.Status != 404 || !strings.Contains(he.URL, "/resolve/main/") {
		t.Fatalf("err = %v, want HTTP 404 for main", err)
	}
}

// An unreachable host fails at once with the offline message: no retries
// (which would take seconds each), and no part file.
func TestPullOffline(t *testing.T) {
	t.Parallel()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refused := "http://" + ln.Addr().String()
	ln.Close()
	for _, tc := range []struct{ name, base, host string }{
		{"connection refused", refused, "127.0.0.1"},
		{"unresolvable host", "http://models.medscribe.invalid", "models.medscribe.invalid"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			m, _ := testModel("offline", 1000)
			dir := t.TempDir()
			var buf syncBuffer
			o := opts(nil, &buf)
			o.BaseURL = tc.base
			o.Retries = 1 // a retry would end in "giving up", not an OfflineError
			_, err := Pull(context.Background(), dir, m, o)
			var oe *OfflineError
			if !errors.Is(err, ErrOffline) || !errors.As(err, &oe) {
				t.Fatalf("err = %v, want an OfflineError", err)
			}
			if oe.Host != tc.host || oe.Dir != dir {
				t.Errorf("OfflineError host %q dir %q", oe.Host, oe.Dir)
			}
			want := "cannot reach " + tc.host + ": this machine appears to be offline; copy the model files to " + dir + " or pass --whisper-model/--llm-model"
			if !strings.HasPrefix(err.Error(), want) {
				t.Errorf("message:\n%s\nwant prefix:\n%s", err, want)
			}
			if _, err := os.Stat(filepath.Join(dir, m.File+".part")); !os.IsNotExist(err) {
				t.Errorf("an empty part file is left behind (%v)", err)
			}
			var dns *net.DNSError
			var op *net.OpError
			if !errors.As(oe.Err, &dns) && !errors.As(oe.Err, &op) {
				t.Errorf("cause %T %v is not the resolver's or dialer's error", oe.Err, oe.Err)
			}
		})
	}
}

// Three pulls of one file at once: the first downloads while the others
// wait on the lock, then find the verified file. The server is held
// mid-body until both others have said they are waiting, so the lock is
// really contended.
func TestPullConcurrent(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	m, data := testModel("concurrent", 2<<20)
	s.add(m, m.Revision, data)
	s.hold, s.started = make(chan struct{}), make(chan struct{})
	dir := t.TempDir()

	type out struct {
		res Result
		err error
	}
	results := make(chan out, 3)
	waiting := make(chan struct{}, 2)
	var first syncBuffer
	go func() {
		r, err := Pull(context.Background(), dir, m, opts(s, &first))
		results <- out{r, err}
	}()
	<-s.started
	for range 2 {
		w := &signalWriter{match: "waiting for it", ch: waiting}
		go func() {
			r, err := Pull(context.Background(), dir, m, opts(s, w))
			results <- out{r, err}
		}()
	}
	var early []out
	for range 2 {
		select {
		case <-waiting:
		case o := <-results:
			// A pull finished while the first still holds the file: the
			// lock did not hold it back.
			early = append(early, o)
		}
	}
	close(s.hold)
	if len(early) > 0 {
		t.Fatalf("%d pulls finished without waiting for the lock: %+v", len(early), early)
	}

	downloads := 0
	for range 3 {
		o := <-results
		if o.err != nil {
			t.Fatal(o.err)
		}
		if o.res.Path != filepath.Join(dir, m.File) {
			t.Errorf("path %s", o.res.Path)
		}
		if o.res.Downloaded > 0 {
			downloads++
		}
	}
	checkInstalled(t, dir, m, data)
	if downloads != 1 || len(s.requests()) != 1 || s.bytesSent() != m.Size {
		t.Errorf("%d downloads, %d requests, %d bytes sent; want 1, 1, %d", downloads, len(s.requests()), s.bytesSent(), m.Size)
	}
}

// signalWriter sends on ch when a write contains match.
type signalWriter struct {
	syncBuffer
	match string
	ch    chan struct{}
	once  sync.Once
}

func (w *signalWriter) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte(w.match)) {
		w.once.Do(func() { w.ch <- struct{}{} })
	}
	return w.syncBuffer.Write(p)
}

// A stalled connection is abandoned after the idle timeout and the
// download resumes where it stopped.
func TestPullStalled(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	m, data := testModel("stall", 1<<20)
	s.add(m, m.Revision, data)
	s.hold, s.started, s.stall = make(chan struct{}), make(chan struct{}), true
	dir := t.TempDir()
	var buf syncBuffer
	o := opts(s, &buf)
	// Long enough that a loaded machine (or the race detector) does not
	// time out the healthy half; the stalled half waits forever.
	o.IdleTimeout = time.Second
	if _, err := Pull(context.Background(), dir, m, o); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	checkInstalled(t, dir, m, data)
	if r := s.requests(); len(r) != 2 || r[1].rng != "bytes=524288-" {
		t.Errorf("requests %+v, want a resume at the half", r)
	}
}

func TestPullRetries(t *testing.T) {
	t.Parallel()
	t.Run("passing trouble", func(t *testing.T) {
		t.Parallel()
		s := newFakeHF(t)
		m, data := testModel("busy", 50_000)
		s.add(m, m.Revision, data)
		s.failFirst = 2
		dir := t.TempDir()
		var buf syncBuffer
		if _, err := Pull(context.Background(), dir, m, opts(s, &buf)); err != nil {
			t.Fatal(err)
		}
		checkInstalled(t, dir, m, data)
		if n := len(s.requests()); n != 3 {
			t.Errorf("%d requests, want 3", n)
		}
	})
	t.Run("gives up", func(t *testing.T) {
		t.Parallel()
		s := newFakeHF(t)
		m, data := testModel("down", 50_000)
		s.add(m, m.Revision, data)
		s.failFirst = 1000
		var buf syncBuffer
		o := opts(s, &buf)
		o.Retries = 3
		_, err := Pull(context.Background(), t.TempDir(), m, o)
		var he *HTTPError
		if !errors.As(err, &he) || he.Status != 503 || !strings.Contains(err.Error(), "giving up after 4 attempts") {
			t.Fatalf("err = %v", err)
		}
		if n := len(s.requests()); n != 4 {
			t.Errorf("%d requests, want 4", n)
		}
	})
}

// A file copied into the directory by hand (no sidecar) is hashed, not
// downloaded; a wrong one is reported and left alone.
func TestPullCopiedFile(t *testing.T) {
	t.Parallel()
	m, data := testModel("copied", 300_000)
	t.Run("right", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, m.File), data, 0o644); err != nil {
			t.Fatal(err)
		}
		if _, ok := FindModel(dir, m); ok {
			t.Fatal("FindModel accepted a file nobody verified")
		}
		var buf syncBuffer
		o := opts(nil, &buf)
		o.BaseURL = "http://models.medscribe.invalid" // must not be needed
		res, err := Pull(context.Background(), dir, m, o)
		if err != nil || !res.Hashed || res.Downloaded != 0 {
			t.Fatalf("%+v, %v", res, err)
		}
		checkInstalled(t, dir, m, data)
	})
	t.Run("wrong", func(t *testing.T) {
		t.Parallel()
		dir := t.TempDir()
		bad := append([]byte(nil), data...)
		bad[0] ^= 0xff
		path := filepath.Join(dir, m.File)
		if err := os.WriteFile(path, bad, 0o644); err != nil {
			t.Fatal(err)
		}
		var buf syncBuffer
		_, err := Pull(context.Background(), dir, m, opts(nil, &buf))
		var ce *ChecksumError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "not the pinned file") {
			t.Fatalf("err = %v", err)
		}
		if got, _ := os.ReadFile(path); !bytes.Equal(got, bad) {
			t.Error("the user's file was changed")
		}
	})
}

// A file verified under an older pin (its sidecar names another hash) is
// ours to replace.
func TestPullReplacesOldPin(t *testing.T) {
	t.Parallel()
	s := newFakeHF(t)
	old, oldData := testModel("v1", 1000)
	m, data := testModel("v2", 2000)
	m.Repo, m.File = old.Repo, old.File
	s.add(m, m.Revision, data)
	dir := t.TempDir()
	path := filepath.Join(dir, m.File)
	if err := os.WriteFile(path, oldData, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := writeSidecar(path, old.SHA256); err != nil {
		t.Fatal(err)
	}
	var buf syncBuffer
	if _, err := Pull(context.Background(), dir, m, opts(s, &buf)); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	checkInstalled(t, dir, m, data)
}

// A verified file that was touched (same bytes, newer time) is hashed
// again, not downloaded; one whose bytes changed is downloaded again.
func TestPullVerifiedFileChanged(t *testing.T) {
	t.Parallel()
	for _, corrupt := range []bool{false, true} {
		t.Run(map[bool]string{false: "touched", true: "corrupted"}[corrupt], func(t *testing.T) {
			t.Parallel()
			s := newFakeHF(t)
			m, data := testModel("changed", 100_000)
			s.add(m, m.Revision, data)
			dir := t.TempDir()
			var buf syncBuffer
			if _, err := Pull(context.Background(), dir, m, opts(s, &buf)); err != nil {
				t.Fatal(err)
			}
			path := filepath.Join(dir, m.File)
			if corrupt {
				f, err := os.OpenFile(path, os.O_WRONLY, 0)
				must(t, err)
				_, err = f.WriteAt([]byte{data[500] ^ 1}, 500)
				must(t, err)
				must(t, f.Close())
			}
			fi, err := os.Stat(path + ".sha256")
			must(t, err)
			must(t, os.Chtimes(path, fi.ModTime(), fi.ModTime().Add(time.Second)))
			if _, ok := FindModel(dir, m); ok {
				t.Fatal("FindModel trusts a file newer than its sidecar")
			}
			res, err := Pull(context.Background(), dir, m, opts(s, &buf))
			if err != nil {
				t.Fatalf("%v\n%s", err, buf.String())
			}
			checkInstalled(t, dir, m, data)
			wantReqs := 1
			if corrupt {
				wantReqs = 2
			}
			if n := len(s.requests()); n != wantReqs || res.Hashed == corrupt {
				t.Errorf("%d requests (want %d), result %+v", n, wantReqs, res)
			}
		})
	}
}

func TestPullCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	m, _ := testModel("cancel", 1000)
	dir := t.TempDir()
	release, err := acquire(context.Background(), filepath.Join(dir, m.File+".lock"), func() {})
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ctx, cancel := context.WithCancel(context.Background())
	w := &signalWriter{match: "waiting for it", ch: make(chan struct{}, 1)}
	go func() { <-w.ch; cancel() }()
	_, err = Pull(ctx, dir, m, opts(nil, w))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

func sha256Hex(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}
