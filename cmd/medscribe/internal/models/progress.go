package models

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Redraw and report intervals: a bar redraws often enough to look live; a
// log gets a line every so often, not a flood.
const (
	barEvery  = 200 * time.Millisecond
	lineEvery = 10 * time.Second
	barWidth  = 24
)

// meter reports the progress of one download or hash on w: a bar redrawn
// in place (a terminal) or a plain line every lineEvery (a log or a pipe).
// A nil *meter or nil w reports nothing. It is used by one goroutine.
type meter struct {
	w     io.Writer
	bar   bool
	label string
	total int64
	now   func() time.Time

	base  int64     // bytes present when this run started: not part of the rate
	start time.Time // when this run started
	last  time.Time // last report
	drawn bool      // a bar is on the screen without its newline
}

func newMeter(w io.Writer, bar bool, label string, total int64, now func() time.Time) *meter {
	if w == nil {
		return nil
	}
	return &meter{w: w, bar: bar, label: label, total: total, now: now}
}

// begin starts timing at done bytes (resumed or zero).
func (m *meter) begin(done int64) {
	if m == nil {
		return
	}
	m.base, m.start, m.last = done, m.now(), m.now()
}

// set reports done bytes if it is time to.
func (m *meter) set(done int64) {
	if m == nil {
		return
	}
	t := m.now()
	every := lineEvery
	if m.bar {
		every = barEvery
	}
	if t.Sub(m.last) < every {
		return
	}
	m.last = t
	m.draw(done, t)
}

// finish draws the final state and ends the bar's line.
func (m *meter) finish(done int64) {
	if m == nil {
		return
	}
	if m.bar {
		m.draw(done, m.now())
		fmt.Fprintln(m.w)
		m.drawn = false
	}
}

// note prints a line of its own, ending a bar first.
func (m *meter) note(format string, args ...any) {
	if m == nil {
		return
	}
	if m.drawn {
		fmt.Fprintln(m.w)
		m.drawn = false
	}
	fmt.Fprintf(m.w, "%s: %s\n", m.label, fmt.Sprintf(format, args...))
}

func (m *meter) draw(done int64, t time.Time) {
	if m.bar {
		fmt.Fprintf(m.w, "\r%s\x1b[K", m.render(done, t))
		m.drawn = true
		return
	}
	fmt.Fprintln(m.w, m.render(done, t))
}

// render is one report: label, bar (terminal only), percent, bytes, rate
// and time left.
func (m *meter) render(done int64, t time.Time) string {
	frac := 0.0
	if m.total > 0 {
		frac = float64(done) / float64(m.total)
	}
	var b strings.Builder
	b.WriteString(m.label)
	if m.bar {
		fill := int(frac * barWidth)
		fmt.Fprintf(&b, " [%s%s]", strings.Repeat("=", fill), strings.Repeat(" ", barWidth-fill))
	} else {
		b.WriteString(":")
	}
	fmt.Fprintf(&b, " %5.1f%%  %s / %s", 100*frac, human(done), human(m.total))
	elapsed := t.Sub(m.start)
	if got := done - m.base; got > 0 && elapsed > 0 {
		rate := float64(got) / elapsed.Seconds()
		fmt.Fprintf(&b, "  %s/s", human(int64(rate)))
		if done < m.total {
			left := time.Duration(float64(m.total-done) / rate * float64(time.Second))
			fmt.Fprintf(&b, "  ETA %s", clock(left))
		}
	}
	return b.String()
}

// human formats a byte count in decimal units, as download sizes are
// usually quoted.
func human(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1e3:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// clock formats a duration as 1h02m, 3m04s or 7s.
func clock(d time.Duration) string {
	s := int64(d.Round(time.Second) / time.Second)
	switch {
	case s >= 3600:
		return fmt.Sprintf("%dh%02dm", s/3600, s%3600/60)
	case s >= 60:
		return fmt.Sprintf("%dm%02ds", s/60, s%60)
	}
	return fmt.Sprintf("%ds", s)
}
