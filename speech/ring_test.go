package speech

import (
	"errors"
	"slices"
	"testing"
	"time"
)

func TestRing(t *testing.T) {
	t.Parallel()
	r := newRing(10)
	seq := func(from, to int) []float32 {
		var s []float32
		for i := from; i < to; i++ {
			s = append(s, float32(i))
		}
		return s
	}
	steps := []struct {
		name       string
		do         func() error
		start, end int64
		wantErr    error
	}{
		{"append 7", func() error { return r.Append(seq(0, 7)) }, 0, 7, nil},
		{"overflow leaves it unchanged", func() error { return r.Append(seq(7, 11)) }, 0, 7, ErrBufferFull},
		{"trim 5", func() error { r.TrimBefore(5); return nil }, 5, 7, nil},
		{"append wraps", func() error { return r.Append(seq(7, 15)) }, 5, 15, nil},
		{"trim before start is a no-op", func() error { r.TrimBefore(2); return nil }, 5, 15, nil},
		{"full again", func() error { return r.Append(seq(15, 16)) }, 5, 15, ErrBufferFull},
		{"trim past end keeps the time base", func() error { r.TrimBefore(20); return nil }, 15, 15, nil},
		{"append after empty", func() error { return r.Append(seq(15, 25)) }, 15, 25, nil},
	}
	for _, st := range steps {
		err := st.do()
		if !errors.Is(err, st.wantErr) || (st.wantErr == nil) != (err == nil) {
			t.Fatalf("%s: error %v, want %v", st.name, err, st.wantErr)
		}
		if r.Start() != st.start || r.End() != st.end || r.Len() != int(st.end-st.start) {
			t.Fatalf("%s: holds [%d, %d) len %d, want [%d, %d)", st.name, r.Start(), r.End(), r.Len(), st.start, st.end)
		}
		got, err := r.Read(nil, r.Start(), r.End())
		if err != nil {
			t.Fatalf("%s: read: %v", st.name, err)
		}
		// Sample values equal their absolute numbers.
		if want := seq(int(st.start), int(st.end)); !slices.Equal(got, want) {
			t.Fatalf("%s: read %v, want %v", st.name, got, want)
		}
	}
	if _, err := r.Read(nil, 14, 20); err == nil {
		t.Error("read before the oldest sample succeeded")
	}
	if _, err := r.Read(nil, 20, 26); err == nil {
		t.Error("read past the newest sample succeeded")
	}
}

func TestSampleTime(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		i int64
		d time.Duration
	}{{0, 0}, {16, time.Millisecond}, {16000, time.Second}, {16000 * 3600 * 10, 10 * time.Hour}} {
		if got := sampleTime(tc.i); got != tc.d {
			t.Errorf("sampleTime(%d) = %v, want %v", tc.i, got, tc.d)
		}
		if got := timeSamples(tc.d); got != tc.i {
			t.Errorf("timeSamples(%v) = %d, want %d", tc.d, got, tc.i)
		}
	}
}
