package models

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

const (
	copyBuf = 1 << 20
	// lockPoll is how often a pull waiting for another one's lock looks
	// again; polling (rather than a blocking flock) keeps the wait
	// cancellable.
	lockPoll = 200 * time.Millisecond

	defaultIdle    = 60 * time.Second
	defaultRetries = 4
	defaultBackoff = time.Second
)

// Options configure Pull. A nil *Options means all defaults.
type Options struct {
	// BaseURL replaces DefaultBaseURL with a mirror that serves the same
	// /<repo>/resolve/<revision>/<file> paths.
	BaseURL string
	// Token is sent as "Authorization: Bearer <Token>" to huggingface.co
	// (default: none, which gated repos refuse).
	Token string
	// TokenToMirror also sends Token to a BaseURL outside huggingface.co
	// (default false, so that a mirror never sees the token).
	TokenToMirror bool
	// Client makes the requests (default: a client whose connects,
	// including the DNS lookup, give up after 5 s, so an offline machine
	// fails fast).
	Client *http.Client
	// Progress receives progress reports and notes (default: none).
	Progress io.Writer
	// Bar draws a progress bar redrawn in place on Progress (for a
	// terminal) instead of a plain line every 10 s.
	Bar bool
	// IdleTimeout ends an attempt that receives nothing for this long; the
	// download then resumes where it stopped (default 60 s).
	IdleTimeout time.Duration
	// Retries is how many failed attempts in a row that received nothing
	// are retried before giving up (default 4). An attempt cut off after
	// receiving bytes is resumed at once and does not count.
	Retries int
	// Backoff is the wait before the first of those retries; it doubles
	// for each next one (default 1 s).
	Backoff time.Duration
	// Now is the clock for progress rates (default time.Now).
	Now func() time.Time
}

// Result is what Pull did.
type Result struct {
	Path       string
	Downloaded int64  // bytes received by this call; 0 when it was already there
	Hashed     bool   // an unverified file already in place was hashed and accepted
	URL        string // where the last bytes came from, when downloading
}

// Pull makes sure that dir holds m: verified already (by its sidecar), or
// an unverified copy at the final path that hashes right, or a download.
// A download goes to <file>.part, resumes with a Range request after a cut
// or in a later call, and is renamed into place only after its size and
// SHA-256 match the pins; a mismatch deletes the part file. Concurrent
// pulls of the same file, in one process or several, take turns through
// the lock file <file>.lock, and the later ones find the file verified.
func Pull(ctx context.Context, dir string, m Model, opts *Options) (Result, error) {
	p := newPuller(dir, opts)
	final := filepath.Join(dir, m.File)
	res := Result{Path: final}
	if verified(final, m) {
		return res, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return res, fmt.Errorf("create model directory: %w", err)
	}
	meter := newMeter(p.opts.Progress, p.opts.Bar, m.Name, m.Size, p.opts.Now)
	release, err := acquire(ctx, final+".lock", func() {
		meter.note("another medscribe is pulling this file (%s.lock); waiting for it", final)
	})
	if err != nil {
		return res, err
	}
	defer release()
	// The lock holder may have just finished.
	if verified(final, m) {
		return res, nil
	}
	if _, statErr := os.Stat(final); statErr == nil {
		sum, _, sideErr := readSidecar(final)
		// A sidecar naming another hash is ours, from an older manifest:
		// the download below replaces the file. Otherwise the file is
		// hashed: without a sidecar it was copied in by hand (or a crash
		// came between the rename and the sidecar); with one it was
		// touched or changed since it was verified.
		if sideErr != nil || sum == m.SHA256 {
			meter.note("checking %s (%s) against the pinned sha256", final, human(m.Size))
			meter.begin(0)
			err := checkExisting(ctx, final, m, meter)
			if err == nil {
				meter.finish(m.Size)
				res.Hashed = true
				return res, nil
			}
			if ctx.Err() != nil {
				return res, ctx.Err()
			}
			if sideErr != nil {
				// Not ours to delete.
				return res, fmt.Errorf("%s is in the model directory but is not the pinned file: %w; remove or replace it and pull again", final, err)
			}
			meter.note("changed since it was verified (%v); downloading it again", err)
		}
	}
	if err := p.download(ctx, m, final, meter, &res); err != nil {
		return res, err
	}
	return res, nil
}

type puller struct {
	dir  string
	opts Options
	base *url.URL
}

func newPuller(dir string, o *Options) *puller {
	p := &puller{dir: dir}
	if o != nil {
		p.opts = *o
	}
	if p.opts.BaseURL == "" {
		p.opts.BaseURL = DefaultBaseURL
	}
	if p.opts.Client == nil {
		p.opts.Client = defaultClient()
	}
	if p.opts.IdleTimeout <= 0 {
		p.opts.IdleTimeout = defaultIdle
	}
	if p.opts.Retries <= 0 {
		p.opts.Retries = defaultRetries
	}
	if p.opts.Backoff <= 0 {
		p.opts.Backoff = defaultBackoff
	}
	if p.opts.Now == nil {
		p.opts.Now = time.Now
	}
	p.base, _ = url.Parse(p.opts.BaseURL)
	return p
}

// defaultClient bounds each phase of a request so that nothing hangs: the
// body has its own idle timeout (see idleReader), since a whole-request
// timeout would cut off a slow but healthy multi-gigabyte download.
func defaultClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	t.TLSHandshakeTimeout = 10 * time.Second
	t.ResponseHeaderTimeout = 30 * time.Second
	return &http.Client{Transport: t}
}

// host is the base URL's host, for messages.
func (p *puller) host() string {
	if p.base == nil || p.base.Host == "" {
		return p.opts.BaseURL
	}
	return p.base.Host
}

// sendToken reports whether the token goes to the base URL's host: always
// to Hugging Face's own hosts, to a mirror only when allowed.
func (p *puller) sendToken() bool {
	if p.opts.Token == "" {
		return false
	}
	if p.opts.TokenToMirror {
		return true
	}
	if p.base == nil {
		return false
	}
	h := p.base.Hostname()
	return h == "huggingface.co" || strings.HasSuffix(h, ".huggingface.co") || h == "hf.co" || strings.HasSuffix(h, ".hf.co")
}

// download fills final's part file from the network and renames it into
// place once verified.
func (p *puller) download(ctx context.Context, m Model, final string, meter *meter, res *Result) error {
	part := final + ".part"
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("open part file: %w", err)
	}
	closed := false
	defer func() {
		if !closed {
			f.Close()
		}
		// A part file that never got a byte (offline, refused) would only
		// show up as "partial 0%".
		if fi, err := os.Stat(part); err == nil && fi.Size() == 0 {
			os.Remove(part)
		}
	}()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	n := fi.Size()
	h := sha256.New()
	if n > m.Size {
		// Longer than the pinned file: from some other file; start over.
		if err := truncate(f, h, &n); err != nil {
			return err
		}
	}
	if n > 0 {
		meter.note("resuming: checking the %s already downloaded", human(n))
		meter.begin(0)
		if err := hashFile(ctx, f, n, h, meter); err != nil {
			return err
		}
	}
	if free, ok := freeSpace(p.dir); ok && free < m.Size-n {
		return &SpaceError{Dir: p.dir, Need: m.Size - n, Free: free}
	}

	urls := []string{m.URL(p.opts.BaseURL, "main")}
	if m.Revision != "" && m.Revision != "main" {
		urls = []string{m.URL(p.opts.BaseURL, m.Revision), urls[0]}
	}
	ui := 0
	failures := 0
	refused := false // a 416 already made us start over
	var lastErr error
	meter.begin(n)
	if n > 0 {
		meter.note("resuming at %s of %s", human(n), human(m.Size))
	} else {
		meter.note("downloading %s from %s", human(m.Size), p.host())
	}
	for n < m.Size {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := n
		u := urls[ui]
		res.URL = u
		resp, err := p.get(ctx, u, n)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return ctx.Err()
			}
			if host, cause, ok := unreachable(err); ok {
				if n > 0 {
					meter.note("the %s downloaded so far are kept in %s; pull again to resume", human(n), part)
				}
				return &OfflineError{Host: host, Dir: p.dir, Err: cause}
			}
			lastErr = err
		case resp.StatusCode == http.StatusOK || resp.StatusCode == http.StatusPartialContent:
			if resp.StatusCode == http.StatusOK && n > 0 {
				meter.note("the server ignored the range request; starting over")
				if err := truncate(f, h, &n); err != nil {
					resp.Body.Close()
					return err
				}
				start = 0
				meter.begin(0)
			}
			if err := checkAnnounced(resp, n, m.Size); err != nil {
				resp.Body.Close()
				if errors.Is(err, errBadRange) {
					// A range we did not ask for: start over in full.
					meter.note("%v; starting over", err)
					if err := truncate(f, h, &n); err != nil {
						return err
					}
					lastErr = err
					break
				}
				return fmt.Errorf("download %s: %w", u, err)
			}
			got, err := p.copyBody(resp.Body, f, h, n, m, meter)
			resp.Body.Close()
			n += got
			res.Downloaded += got
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				var se *SizeError
				if errors.As(err, &se) {
					f.Close()
					closed = true
					os.Remove(part)
					return fmt.Errorf("download %s: %w", u, err)
				}
				lastErr = err
			} else if n < m.Size {
				lastErr = fmt.Errorf("body ended at byte %d of %d", n, m.Size)
			}
		case resp.StatusCode == http.StatusRequestedRangeNotSatisfiable:
			resp.Body.Close()
			if n == 0 || refused {
				return &HTTPError{URL: u, Status: resp.StatusCode}
			}
			meter.note("the server cannot resume at byte %d (HTTP 416); starting over", n)
			if err := truncate(f, h, &n); err != nil {
				return err
			}
			refused = true
			continue
		case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
			resp.Body.Close()
			return &AuthError{Model: m, Status: resp.StatusCode, TokenSent: p.sendToken(),
				TokenWithheld: p.opts.Token != "" && !p.sendToken(), Server: serverSays(resp)}
		case resp.StatusCode == http.StatusNotFound && ui+1 < len(urls):
			// ggml-org repos were history-rewritten, so a pinned commit
			// can vanish; the hash check still guarantees the bytes.
			resp.Body.Close()
			meter.note("revision %s no longer resolves (HTTP 404); trying main (the sha256 pin still applies)", m.Revision)
			ui++
			continue
		case retryable(resp.StatusCode):
			resp.Body.Close()
			lastErr = &HTTPError{URL: u, Status: resp.StatusCode, Server: serverSays(resp)}
		default:
			resp.Body.Close()
			return &HTTPError{URL: u, Status: resp.StatusCode, Server: serverSays(resp)}
		}
		if n == m.Size {
			break
		}
		if n > start {
			// A cut after progress: resume at once.
			failures = 0
			continue
		}
		failures++
		if failures > p.opts.Retries {
			return fmt.Errorf("download %s: giving up after %d attempts without progress: %w", u, failures, lastErr)
		}
		wait := p.opts.Backoff << (failures - 1)
		meter.note("%v; retrying in %s", lastErr, wait)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
	}
	meter.finish(n)

	got := hex.EncodeToString(h.Sum(nil))
	if got != m.SHA256 {
		f.Close()
		closed = true
		os.Remove(part)
		return fmt.Errorf("download %s: %w (the partial download was deleted)", res.URL, &ChecksumError{File: m.File, Want: m.SHA256, Got: got})
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("write %s: %w", part, err)
	}
	closed = true
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", part, err)
	}
	if err := os.Rename(part, final); err != nil {
		return fmt.Errorf("move the download into place: %w", err)
	}
	if err := writeSidecar(final, got); err != nil {
		return err
	}
	syncDir(p.dir)
	return nil
}

// get sends one GET for u from byte offset on.
func (p *puller) get(ctx context.Context, u string, offset int64) (*http.Response, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	// Identity encoding: the bytes and Content-Length are the file's own.
	req.Header.Set("Accept-Encoding", "identity")
	req.Header.Set("User-Agent", "medscribe-models")
	if offset > 0 {
		req.Header.Set("Range", "bytes="+strconv.FormatInt(offset, 10)+"-")
	}
	if p.sendToken() {
		// net/http drops this header on a redirect to another domain (the
		// CDN links Hugging Face redirects to are signed and need none).
		req.Header.Set("Authorization", "Bearer "+p.opts.Token)
	}
	return p.opts.Client.Do(req)
}

var errBadRange = errors.New("the server sent a different range than requested")

// checkAnnounced compares what a response says it carries with the pins,
// before any byte is written.
func checkAnnounced(resp *http.Response, offset, size int64) error {
	if resp.StatusCode == http.StatusOK {
		if resp.ContentLength >= 0 && resp.ContentLength != size {
			return &SizeError{File: "response", Want: size, Got: resp.ContentLength}
		}
		return nil
	}
	first, total, err := parseContentRange(resp.Header.Get("Content-Range"))
	if err != nil {
		return fmt.Errorf("%w: %v", errBadRange, err)
	}
	if first != offset {
		return fmt.Errorf("%w: asked for byte %d, got %d", errBadRange, offset, first)
	}
	if total >= 0 && total != size {
		return &SizeError{File: "response", Want: size, Got: total}
	}
	return nil
}

// parseContentRange reads "bytes first-last/total" (total may be "*",
// returned as -1).
func parseContentRange(s string) (first, total int64, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "bytes ")
	if !ok {
		return 0, 0, fmt.Errorf("Content-Range %q: not a byte range", s)
	}
	span, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, fmt.Errorf("Content-Range %q: no total", s)
	}
	a, b, ok := strings.Cut(span, "-")
	if !ok {
		return 0, 0, fmt.Errorf("Content-Range %q: no span", s)
	}
	first, err1 := strconv.ParseInt(a, 10, 64)
	last, err2 := strconv.ParseInt(b, 10, 64)
	if err1 != nil || err2 != nil || first < 0 || last < first {
		return 0, 0, fmt.Errorf("Content-Range %q: bad span", s)
	}
	total = -1
	if tot != "*" {
		t, err := strconv.ParseInt(tot, 10, 64)
		if err != nil || t <= last {
			return 0, 0, fmt.Errorf("Content-Range %q: bad total", s)
		}
		total = t
	}
	return first, total, nil
}

// copyBody appends body to f at offset and to h, refusing bytes beyond
// the pinned size. It returns how many bytes it stored.
func (p *puller) copyBody(body io.Reader, f *os.File, h hash.Hash, offset int64, m Model, meter *meter) (int64, error) {
	if _, err := f.Seek(offset, io.SeekStart); err != nil {
		return 0, err
	}
	r := newIdleReader(body, p.opts.IdleTimeout)
	defer r.stop()
	buf := make([]byte, copyBuf)
	var got int64
	for {
		k, rerr := r.Read(buf)
		if k > 0 {
			if offset+got+int64(k) > m.Size {
				return got, &SizeError{File: m.File, Want: m.Size, Got: offset + got + int64(k)}
			}
			if _, err := f.Write(buf[:k]); err != nil {
				return got, fmt.Errorf("write part file: %w", err)
			}
			h.Write(buf[:k])
			got += int64(k)
			meter.set(offset + got)
		}
		if errors.Is(rerr, io.EOF) {
			return got, nil
		}
		if rerr != nil {
			return got, rerr
		}
	}
}

// truncate empties the part file and the running hash.
func truncate(f *os.File, h hash.Hash, n *int64) error {
	if err := f.Truncate(0); err != nil {
		return fmt.Errorf("truncate part file: %w", err)
	}
	h.Reset()
	*n = 0
	return nil
}

// unreachable reports whether err is a failure to resolve or connect to a
// host (the signs of an offline machine, where retrying only delays the
// answer), which host, and the resolver's or dialer's own error.
func unreachable(err error) (host string, cause error, ok bool) {
	var dns *net.DNSError
	var op *net.OpError
	isDNS := errors.As(err, &dns)
	isDial := errors.As(err, &op) && (op.Op == "dial" || op.Op == "proxyconnect")
	if !isDNS && !isDial {
		return "", nil, false
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		if u, perr := url.Parse(ue.URL); perr == nil {
			host = u.Hostname()
		}
	}
	cause = err
	if isDNS {
		cause = dns
		if host == "" {
			host = dns.Name
		}
	} else {
		cause = op
	}
	return host, cause, true
}

// serverSays is Hugging Face's own explanation of an error response (its
// X-Error-Code and X-Error-Message headers, e.g. "GatedRepo: Access to
// model ... is restricted"), cut to one short line; "" for other servers.
func serverSays(resp *http.Response) string {
	msg := strings.Join(strings.Fields(resp.Header.Get("X-Error-Code")+": "+resp.Header.Get("X-Error-Message")), " ")
	msg = strings.Trim(msg, ": ")
	if r := []rune(msg); len(r) > 200 {
		msg = string(r[:200]) + "…"
	}
	return msg
}

// retryable statuses are the server's passing trouble.
func retryable(status int) bool {
	return status == http.StatusRequestTimeout || status == http.StatusTooManyRequests || status >= 500
}

// idleReader fails a read once nothing has arrived for the idle timeout,
// by closing the body, which unblocks the pending read.
type idleReader struct {
	r     io.Reader
	timer *time.Timer
	idle  time.Duration
	fired chan struct{}
}

func newIdleReader(r io.Reader, idle time.Duration) *idleReader {
	ir := &idleReader{r: r, idle: idle, fired: make(chan struct{})}
	if c, ok := r.(io.Closer); ok {
		// Closing the body unblocks a pending Read.
		ir.timer = time.AfterFunc(idle, func() { close(ir.fired); c.Close() })
	}
	return ir
}

func (ir *idleReader) Read(b []byte) (int, error) {
	n, err := ir.r.Read(b)
	if ir.timer != nil {
		select {
		case <-ir.fired:
			return n, fmt.Errorf("no data for %s", ir.idle)
		default:
		}
		if n > 0 {
			ir.timer.Reset(ir.idle)
		}
	}
	return n, err
}

func (ir *idleReader) stop() {
	if ir.timer != nil {
		ir.timer.Stop()
	}
}
