package speech

import (
	"fmt"
	"time"
)

// samplesPerSecond converts between sample numbers and durations.
const samplesPerSecond = int64(SampleRate)

// sampleTime is the session audio time at which 16 kHz sample number i starts.
func sampleTime(i int64) time.Duration {
	return time.Duration(i * int64(time.Second) / samplesPerSecond)
}

// timeSamples is the number of 16 kHz samples in d, rounded down.
func timeSamples(d time.Duration) int64 {
	return int64(d) * samplesPerSecond / int64(time.Second)
}

// ring holds the most recent stretch of 16 kHz audio of a session, indexed
// by absolute sample number since the session began. Its capacity is fixed
// at creation: appending past it fails instead of growing, which bounds a
// session's memory whatever the client sends.
type ring struct {
	buf   []float32
	start int64 // absolute number of the oldest sample held
	n     int   // samples held
}

func newRing(capacity int) *ring {
	return &ring{buf: make([]float32, capacity)}
}

// Start is the absolute number of the oldest sample held.
func (r *ring) Start() int64 { return r.start }

// End is the absolute number one past the newest sample.
func (r *ring) End() int64 { return r.start + int64(r.n) }

// Len is the number of samples held.
func (r *ring) Len() int { return r.n }

// Append adds samples at End, or fails with ErrBufferFull and adds nothing.
func (r *ring) Append(s []float32) error {
	if r.n+len(s) > len(r.buf) {
		return fmt.Errorf("append %d samples to %d held (capacity %d, %v of audio): %w",
			len(s), r.n, len(r.buf), sampleTime(int64(len(r.buf))), ErrBufferFull)
	}
	w := (r.physical(r.start) + r.n) % len(r.buf)
	k := copy(r.buf[w:], s)
	copy(r.buf, s[k:])
	r.n += len(s)
	return nil
}

func (r *ring) physical(abs int64) int {
	return int(abs % int64(len(r.buf)))
}

// Read appends samples [from, to) to dst; the span must be held.
func (r *ring) Read(dst []float32, from, to int64) ([]float32, error) {
	if from < r.start || to > r.End() || from > to {
		return dst, fmt.Errorf("read samples [%d, %d) from ring holding [%d, %d)", from, to, r.start, r.End())
	}
	p := r.physical(from)
	n := int(to - from)
	k := min(n, len(r.buf)-p)
	dst = append(dst, r.buf[p:p+k]...)
	return append(dst, r.buf[:n-k]...), nil
}

// TrimBefore drops samples before absolute number abs. Trimming past End
// empties the ring and moves it forward so that the next sample appended
// is still numbered End, keeping the time base.
func (r *ring) TrimBefore(abs int64) {
	if abs <= r.start {
		return
	}
	if abs >= r.End() {
		r.start, r.n = r.End(), 0
		return
	}
	r.n -= int(abs - r.start)
	r.start = abs
}
