package sched

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

func TestLanes(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ cores, threads, lanes int }{
		{2, 2, 1}, {2, 1, 2}, {16, 4, 4}, {1, 4, 1}, {8, 0, 8},
	} {
		if got := New(tc.cores, tc.threads).Lanes(); got != tc.lanes {
			t.Errorf("New(%d,%d).Lanes() = %d, want %d", tc.cores, tc.threads, got, tc.lanes)
		}
	}
}

// TestNeverMoreThanLanes runs many jobs and checks the number running at
// once never exceeds the lanes.
func TestNeverMoreThanLanes(t *testing.T) {
	t.Parallel()
	s := New(4, 2)
	var running, peak atomic.Int32
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			rel, err := s.Acquire(context.Background(), Class(i%2), string(rune('a'+i%5)))
			if err != nil {
				t.Error(err)
				return
			}
			n := running.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(time.Millisecond)
			running.Add(-1)
			rel()
		}()
	}
	wg.Wait()
	if p := peak.Load(); p != 2 {
		t.Fatalf("peak concurrency %d, want exactly 2 lanes used", p)
	}
	var jobs uint64
	for _, st := range s.Stats() {
		jobs += st.Jobs
	}
	if jobs != 40 {
		t.Fatalf("stats count %d jobs, want 40", jobs)
	}
}

// holdLane occupies the only lane and returns its release.
func holdLane(t *testing.T, s *Scheduler) func() {
	t.Helper()
	rel, err := s.Acquire(context.Background(), Extract, "holder")
	if err != nil {
		t.Fatal(err)
	}
	return rel
}

// queue starts a waiter and blocks until it is enqueued.
func queue(t *testing.T, s *Scheduler, c Class, session string, order chan<- string) {
	t.Helper()
	before := waiting(s)
	go func() {
		rel, err := s.Acquire(context.Background(), c, session)
		if err != nil {
			t.Error(err)
			return
		}
		order <- session
		rel()
	}()
	for waiting(s) == before {
		time.Sleep(100 * time.Microsecond)
	}
}

func waiting(s *Scheduler) int {
	n := 0
	for _, st := range s.Stats() {
		n += st.Waiting
	}
	return n
}

func TestSpeechBeforeExtract(t *testing.T) {
	t.Parallel()
	s := New(1, 1)
	rel := holdLane(t, s)
	order := make(chan string, 3)
	queue(t, s, Extract, "x1", order)
	queue(t, s, Extract, "x2", order)
	queue(t, s, Speech, "s1", order)
	rel()
	got := []string{<-order, <-order, <-order}
	if got[0] != "s1" {
		t.Fatalf("order %v: speech queued last must run first", got)
	}
}

func TestSessionsTakeTurns(t *testing.T) {
	t.Parallel()
	s := New(1, 1)
	// Session a has just been served; b has never been.
	r, _ := s.Acquire(context.Background(), Speech, "a")
	r()
	rel := holdLane(t, s)
	order := make(chan string, 3)
	queue(t, s, Speech, "a", order)
	queue(t, s, Speech, "a", order)
	queue(t, s, Speech, "b", order)
	rel()
	got := []string{<-order, <-order, <-order}
	if got[0] != "b" {
		t.Fatalf("order %v: the session served least recently must go first", got)
	}
}

func TestCancelWhileWaiting(t *testing.T) {
	t.Parallel()
	s := New(1, 1)
	rel := holdLane(t, s)
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Acquire(ctx, Speech, "c")
		errc <- err
	}()
	for waiting(s) == 0 {
		time.Sleep(100 * time.Microsecond)
	}
	cancel()
	if err := <-errc; err != context.Canceled {
		t.Fatalf("Acquire after cancel = %v, want context.Canceled", err)
	}
	if n := waiting(s); n != 0 {
		t.Fatalf("%d waiters left after cancel", n)
	}
	rel()
	// The lane is free again.
	r, err := s.Acquire(context.Background(), Speech, "d")
	if err != nil {
		t.Fatal(err)
	}
	r()
	r() // a second release is a no-op
	r2, err := s.Acquire(context.Background(), Speech, "e")
	if err != nil {
		t.Fatal(err)
	}
	r2()
}

// TestYieldLetsSpeechIn: a long extraction job that yields between steps
// lets a speech job that arrived meanwhile run before its next step.
func TestYieldLetsSpeechIn(t *testing.T) {
	t.Parallel()
	s := New(1, 1)
	rel, _ := s.Acquire(context.Background(), Extract, "x")
	// Nobody waits: yielding keeps the lane.
	rel2, err := s.Yield(context.Background(), Extract, "x", rel)
	if err != nil {
		t.Fatal(err)
	}
	order := make(chan string, 2)
	queue(t, s, Speech, "s", order)
	rel3, err := s.Yield(context.Background(), Extract, "x", rel2)
	if err != nil {
		t.Fatal(err)
	}
	order <- "x"
	rel3()
	if first := <-order; first != "s" {
		t.Fatalf("%s ran first; the waiting speech job must run when the extraction yields", first)
	}
}
