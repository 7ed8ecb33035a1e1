package models

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// fakeClock advances only when told to.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time      { return c.t }
func (c *fakeClock) add(d time.Duration) { c.t = c.t.Add(d) }
func newClock() *fakeClock               { return &fakeClock{t: time.Unix(1e9, 0)} }
func lines(s string) []string            { return strings.Split(strings.TrimRight(s, "\n"), "\n") }

func TestMeterLines(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := newClock()
	m := newMeter(&buf, false, "whisper-base.en", 100e6, c.now)
	m.begin(20e6) // 20 MB were there already: not part of the rate
	m.set(21e6)
	if buf.Len() != 0 {
		t.Fatalf("reported before the interval: %q", buf.String())
	}
	c.add(10 * time.Second)
	m.set(60e6)
	c.add(5 * time.Second)
	m.set(70e6) // within the interval: no line
	c.add(5 * time.Second)
	m.set(100e6)
	m.finish(100e6) // plain mode: the caller prints its own result line
	want := []string{
		"whisper-base.en:  60.0%  60.0 MB / 100.0 MB  4.0 MB/s  ETA 10s",
		"whisper-base.en: 100.0%  100.0 MB / 100.0 MB  4.0 MB/s",
	}
	if got := lines(buf.String()); strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

func TestMeterBar(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	c := newClock()
	m := newMeter(&buf, true, "m", 2e9, c.now)
	m.begin(0)
	c.add(time.Second)
	m.set(1e9 / 100) // 10 MB/s: 199 s left
	m.note("a note")
	c.add(time.Second)
	m.set(2e9)
	m.finish(2e9)
	out := buf.String()
	for _, want := range []string{
		"\rm [                        ]   0.5%  10.0 MB / 2.00 GB  10.0 MB/s  ETA 3m19s\x1b[K\n",
		"m: a note\n",
		"\rm [========================] 100.0%  2.00 GB / 2.00 GB  1.00 GB/s\x1b[K",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("bar output lacks %q:\n%q", want, out)
		}
	}
	if !strings.HasSuffix(out, "\n") {
		t.Error("the bar's line is not ended")
	}
	var nilMeter *meter
	nilMeter.set(1) // no writer: no output, no panic
	nilMeter.note("x")
	nilMeter.finish(1)
}

func TestHumanAndClock(t *testing.T) {
	t.Parallel()
	for in, want := range map[int64]string{0: "0 B", 999: "999 B", 885098: "885.1 kB", 147964211: "148.0 MB", 16546405376: "16.55 GB"} {
		if got := human(in); got != want {
			t.Errorf("human(%d) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{7 * time.Second: "7s", 184 * time.Second: "3m04s", 3720 * time.Second: "1h02m"} {
		if got := clock(in); got != want {
			t.Errorf("clock(%s) = %q, want %q", in, got, want)
		}
	}
}
