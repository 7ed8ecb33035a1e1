package speech

import (
	"strings"
	"testing"
	"time"
)

func seg(text string, noSpeech, logProb float32) Segment {
	ws := words(text)
	s := Segment{Text: text, Words: ws, NoSpeechProb: noSpeech, AvgLogProb: logProb}
	if len(ws) > 0 {
		s.Start, s.End = ws[0].Start, ws[len(ws)-1].End
	}
	return s
}

func TestGuard(t *testing.T) {
	t.Parallel()
	speechEverywhere := func(a, b time.Duration) float64 { return 1 }
	silenceEverywhere := func(a, b time.Duration) float64 { return 0 }
	for _, tc := range []struct {
		name   string
		segs   []Segment
		share  func(a, b time.Duration) float64
		want   string
		counts GuardStats
	}{
		{"clean speech passes", []Segment{seg("He takes metformin.", 0.01, -0.2)}, speechEverywhere,
			"He takes metformin.", GuardStats{}},
		{"engine without scores passes", []Segment{seg("no scores", 0, 0)}, speechEverywhere, "no scores", GuardStats{}},
		{"no-speech and unsure is dropped", []Segment{seg("ask not", 0.01, -0.3), seg("what", 0.8, -1.2)}, speechEverywhere,
			"ask not", GuardStats{NoSpeech: 1}},
		{"no-speech but sure is kept", []Segment{seg("what", 0.8, -0.4)}, speechEverywhere, "what", GuardStats{}},
		{"very low log-probability is dropped", []Segment{seg("garbled words", 0.1, -2.1)}, speechEverywhere,
			"", GuardStats{LowConfidence: 1}},
		{"word loop is cut after its first occurrence",
			[]Segment{seg("the patient has a cough cough cough cough cough cough", 0, -0.3)}, speechEverywhere,
			"the patient has a cough", GuardStats{Repetition: 1}},
		{"phrase loop is cut", []Segment{seg("I see. I see. I see. I see. I see.", 0, -0.3)}, speechEverywhere,
			"I see.", GuardStats{Repetition: 1}},
		{"three repeats are speech", []Segment{seg("no, no, no.", 0, -0.3)}, speechEverywhere, "no, no, no.", GuardStats{}},
		{"thank you over silence is dropped", []Segment{seg("ask not", 0, -0.3), seg("Thank you.", 0.2, -0.5)}, silenceEverywhere,
			"ask not", GuardStats{Phrase: 1}},
		{"spoken thank you is kept", []Segment{seg("Thank you.", 0.05, -0.3)}, speechEverywhere, "Thank you.", GuardStats{}},
		{"you over silence is dropped", []Segment{seg("you", 0.3, -0.6)}, silenceEverywhere, "", GuardStats{Phrase: 1}},
		{"thanks for watching", []Segment{seg("Thanks for watching!", 0.3, -0.6)}, silenceEverywhere, "", GuardStats{Phrase: 1}},
		{"ellipsis is not speech", []Segment{seg("…", 0.3, -0.6)}, silenceEverywhere, "", GuardStats{}},
		{"annotations are removed", []Segment{seg("[BLANK_AUDIO] ask (upbeat music) not *sighs*", 0, -0.3)}, speechEverywhere,
			"ask not", GuardStats{Annotation: 3}},
		{"punctuation attaches", []Segment{seg("ask not , what", 0, -0.3)}, speechEverywhere, "ask not, what", GuardStats{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGuard(nil)
			var st GuardStats
			got := joinWords(g.words(tc.segs, tc.share, &st))
			if got != tc.want {
				t.Errorf("text %q, want %q", got, tc.want)
			}
			if st != tc.counts {
				t.Errorf("counts %+v, want %+v", st, tc.counts)
			}
		})
	}
}

func TestGuardCompression(t *testing.T) {
	t.Parallel()
	// A character-level loop has no word that repeats back to back.
	text := "ha" + strings.Repeat("-ha", 40)
	g := newGuard(nil)
	var st GuardStats
	if got := g.words([]Segment{{Text: text, End: time.Second}}, func(a, b time.Duration) float64 { return 1 }, &st); len(got) != 0 || st.Repetition != 1 {
		t.Errorf("kept %d words, repetition count %d; want the segment dropped", len(got), st.Repetition)
	}
}

func TestSegmentWordsFallback(t *testing.T) {
	t.Parallel()
	ws := segmentWords(Segment{Text: " ask not what", Start: time.Second, End: 2 * time.Second})
	if len(ws) != 3 || ws[0].Text != "ask" || ws[2].Text != "what" {
		t.Fatalf("words %+v", ws)
	}
	prev := time.Second
	for _, w := range ws {
		if w.Start < prev || w.End < w.Start || w.End > 2*time.Second {
			t.Errorf("word %q spans %v–%v, out of order or outside the segment", w.Text, w.Start, w.End)
		}
		prev = w.End
	}
}
