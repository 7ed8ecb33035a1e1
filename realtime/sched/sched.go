// Package sched is medscribe's process-wide compute scheduler. whisper.cpp
// and llama.cpp each spin a pool of threads per call; on a small machine two
// pools running at once thrash each other (speech slows by 20× and the model
// by 15× on 2 cores). Every native call therefore takes a lane first. Lanes
// are cores divided by threads per job; speech is served before extraction,
// and sessions of one class take turns.
package sched

import (
	"context"
	"slices"
	"sort"
	"sync"
	"time"
)

// Class orders the kinds of work. Lower values are served first.
type Class int

const (
	// Speech is recognition: it decides how soon words appear.
	Speech Class = iota
	// Extract is the language model: its latency matters less than speech.
	Extract
	numClasses
)

func (c Class) String() string {
	switch c {
	case Speech:
		return "speech"
	case Extract:
		return "extract"
	}
	return "unknown"
}

// Scheduler hands out lanes. All methods may be called concurrently.
type Scheduler struct {
	lanes   int
	threads int

	mu      sync.Mutex
	busy    int
	waiting [numClasses][]*waiter
	served  map[string]uint64 // session → turn number of its last grant
	turn    uint64
	stats   [numClasses]*recorder
}

type waiter struct {
	session string
	ready   chan struct{}
	since   time.Time
	granted bool
}

// New returns a scheduler for cores CPU cores, each job using threads of
// them. Lanes = max(1, cores/threads).
func New(cores, threads int) *Scheduler {
	if threads <= 0 {
		threads = 1
	}
	lanes := max(1, cores/threads)
	s := &Scheduler{lanes: lanes, threads: threads, served: map[string]uint64{}}
	for i := range s.stats {
		s.stats[i] = newRecorder(4096)
	}
	return s
}

// Lanes is the number of jobs that may run at once.
func (s *Scheduler) Lanes() int { return s.lanes }

// Threads is the number of threads each job should use.
func (s *Scheduler) Threads() int { return s.threads }

// Acquire waits for a lane for a job of class c on behalf of session. The
// returned release must be called exactly once when the native call ends.
// It returns ctx.Err() if ctx ends first.
func (s *Scheduler) Acquire(ctx context.Context, c Class, session string) (release func(), err error) {
	w := &waiter{session: session, ready: make(chan struct{}), since: time.Now()}
	s.mu.Lock()
	s.waiting[c] = append(s.waiting[c], w)
	s.dispatchLocked()
	s.mu.Unlock()

	select {
	case <-w.ready:
	case <-ctx.Done():
		s.mu.Lock()
		if w.granted {
			// Granted in the meantime: give the lane back.
			s.busy--
			s.dispatchLocked()
		} else {
			s.waiting[c] = slices.DeleteFunc(s.waiting[c], func(x *waiter) bool { return x == w })
		}
		s.mu.Unlock()
		return nil, ctx.Err()
	}
	s.stats[c].add(time.Since(w.since))
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.busy--
			s.dispatchLocked()
			s.mu.Unlock()
		})
	}, nil
}

// dispatchLocked grants free lanes: the highest class with waiters first;
// within it, the session that was served longest ago.
func (s *Scheduler) dispatchLocked() {
	for s.busy < s.lanes {
		var w *waiter
		for c := range s.waiting {
			q := s.waiting[c]
			if len(q) == 0 {
				continue
			}
			best := 0
			for i := 1; i < len(q); i++ {
				if s.served[q[i].session] < s.served[q[best].session] {
					best = i
				}
			}
			w = q[best]
			s.waiting[c] = slices.Delete(q, best, best+1)
			break
		}
		if w == nil {
			return
		}
		s.turn++
		s.served[w.session] = s.turn
		s.busy++
		w.granted = true
		close(w.ready)
	}
}

// Yield lets a long job give its lane to waiting work between steps: if
// any job waits, it releases the lane and queues again (speech, served
// first, then goes ahead of the rest of this job); otherwise it returns at
// once. It returns the release function to use from then on.
func (s *Scheduler) Yield(ctx context.Context, c Class, session string, release func()) (func(), error) {
	s.mu.Lock()
	waiting := 0
	for _, q := range s.waiting {
		waiting += len(q)
	}
	s.mu.Unlock()
	if waiting == 0 {
		return release, nil
	}
	release()
	return s.Acquire(ctx, c, session)
}

// Forget drops a finished session's fairness record.
func (s *Scheduler) Forget(session string) {
	s.mu.Lock()
	delete(s.served, session)
	s.mu.Unlock()
}

// Stats summarise queue waits of one class.
type Stats struct {
	Class   string        `json:"class"`
	Jobs    uint64        `json:"jobs"`
	Waiting int           `json:"waiting"`
	P50     time.Duration `json:"wait_p50_ns"`
	P95     time.Duration `json:"wait_p95_ns"`
	Max     time.Duration `json:"wait_max_ns"`
	Total   time.Duration `json:"wait_total_ns"`
}

// Stats returns queue-wait statistics per class (over the most recent jobs
// for the percentiles).
func (s *Scheduler) Stats() []Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]Stats, 0, numClasses)
	for c := range numClasses {
		st := s.stats[c].summary()
		st.Class = c.String()
		st.Waiting = len(s.waiting[c])
		out = append(out, st)
	}
	return out
}

// recorder keeps a ring of recent waits plus running totals.
type recorder struct {
	mu    sync.Mutex
	ring  []time.Duration
	next  int
	full  bool
	jobs  uint64
	total time.Duration
	max   time.Duration
}

func newRecorder(n int) *recorder { return &recorder{ring: make([]time.Duration, n)} }

func (r *recorder) add(d time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ring[r.next] = d
	r.next++
	if r.next == len(r.ring) {
		r.next, r.full = 0, true
	}
	r.jobs++
	r.total += d
	r.max = max(r.max, d)
}

func (r *recorder) summary() Stats {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.ring)
	}
	st := Stats{Jobs: r.jobs, Total: r.total, Max: r.max}
	if n == 0 {
		return st
	}
	v := slices.Clone(r.ring[:n])
	sort.Slice(v, func(i, j int) bool { return v[i] < v[j] })
	st.P50 = v[(n-1)*50/100]
	st.P95 = v[(n-1)*95/100]
	return st
}
