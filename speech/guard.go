package speech

import (
	"bytes"
	"compress/flate"
	"strings"
	"time"
	"unicode"
)

// GuardOptions tune the hallucination guards that filter recognizer output
// before it can be committed. The zero value of each field means its
// default; to switch a guard off, set its threshold beyond any real value.
type GuardOptions struct {
	// MaxNoSpeechProb and SilenceLogProb drop a segment that the recognizer
	// itself thinks is probably not speech (NoSpeechProb above 0.6) and that
	// it is not sure of either (AvgLogProb below -1.0): whisper's own rule
	// for skipping silent windows.
	MaxNoSpeechProb float32
	SilenceLogProb  float32
	// MinAvgLogProb drops a segment whose mean token log-probability is
	// below it, whatever the no-speech probability; default -1.5 (a mean
	// token probability of about 0.22).
	MinAvgLogProb float32
	// MaxRepeats is how often a phrase of one to four words may occur back
	// to back before it counts as a decoding loop; default 3. A loop is cut
	// after its first occurrence.
	MaxRepeats int
	// MaxCompression drops a segment of 50 characters or more whose text
	// compresses better than this ratio (deflate), which only repetitive
	// output does; default 2.4, as in whisper.
	MaxCompression float64
	// Phrases are segments the recognizer invents over near-silence. A
	// segment whose whole text is one of them is dropped unless the voice
	// activity detector heard speech through at least MinPhraseSpeech of
	// its span (default 0.5), so that a spoken "thank you" is kept.
	// Default DefaultHallucinationPhrases; comparison ignores case and
	// punctuation.
	Phrases         []string
	MinPhraseSpeech float64
}

// DefaultHallucinationPhrases are texts whisper is known to produce over
// silence, noise and music, learned from its subtitle training data.
var DefaultHallucinationPhrases = []string{
	"thank you", "thank you.", "thanks", "thank you very much", "thank you so much",
	"thanks for watching", "thank you for watching", "thanks for listening",
	"thank you for listening", "please subscribe", "subscribe to my channel",
	"you", "bye", "bye bye", "goodbye", "so", "okay", "oh",
	"subtitles by the amara.org community", "transcribed by https://otter.ai",
}

func (o *GuardOptions) withDefaults() GuardOptions {
	var g GuardOptions
	if o != nil {
		g = *o
	}
	if g.MaxNoSpeechProb == 0 {
		g.MaxNoSpeechProb = 0.6
	}
	if g.SilenceLogProb == 0 {
		g.SilenceLogProb = -1.0
	}
	if g.MinAvgLogProb == 0 {
		g.MinAvgLogProb = -1.5
	}
	if g.MaxRepeats == 0 {
		g.MaxRepeats = 3
	}
	if g.MaxCompression == 0 {
		g.MaxCompression = 2.4
	}
	if g.Phrases == nil {
		g.Phrases = DefaultHallucinationPhrases
	}
	if g.MinPhraseSpeech == 0 {
		g.MinPhraseSpeech = 0.5
	}
	return g
}

// guard applies GuardOptions to recognizer output.
type guard struct {
	o       GuardOptions
	phrases map[string]bool
}

func newGuard(o *GuardOptions) *guard {
	g := &guard{o: o.withDefaults(), phrases: map[string]bool{}}
	for _, p := range g.o.Phrases {
		g.phrases[normText(p)] = true
	}
	return g
}

// GuardStats counts what the guards removed.
type GuardStats struct {
	NoSpeech      int // segments dropped for no-speech probability
	LowConfidence int // segments dropped for low average log-probability
	Repetition    int // segments dropped or cut for repetition
	Phrase        int // known near-silence phrases dropped
	Annotation    int // non-speech annotations such as [BLANK_AUDIO] removed
}

// words returns the words of the segments that pass the guards, with
// times relative to the window as the engine gave them. speechShare gives
// the share of a window-relative span in which the voice activity detector
// heard speech.
func (g *guard) words(segs []Segment, speechShare func(start, end time.Duration) float64, st *GuardStats) []Word {
	var out []Word
	for _, seg := range segs {
		if seg.NoSpeechProb > g.o.MaxNoSpeechProb && seg.AvgLogProb < g.o.SilenceLogProb {
			st.NoSpeech++
			continue
		}
		if seg.AvgLogProb < g.o.MinAvgLogProb {
			st.LowConfidence++
			continue
		}
		ws := g.clean(segmentWords(seg), st)
		if len(ws) == 0 {
			continue
		}
		if cut := g.loopCut(ws); cut < len(ws) {
			st.Repetition++
			ws = ws[:cut]
		}
		text := joinWords(ws)
		if len(text) >= 50 && compressionRatio(text) > g.o.MaxCompression {
			st.Repetition++
			continue
		}
		if g.phrases[normText(text)] && speechShare(ws[0].Start, ws[len(ws)-1].End) < g.o.MinPhraseSpeech {
			st.Phrase++
			continue
		}
		out = append(out, ws...)
	}
	return out
}

// segmentWords returns a segment's words, or, for an engine that gives
// none, its text split at spaces with the segment's span shared out by
// word length.
func segmentWords(seg Segment) []Word {
	if len(seg.Words) > 0 {
		return seg.Words
	}
	fields := strings.Fields(seg.Text)
	total := 0
	for _, f := range fields {
		total += len(f) + 1
	}
	var out []Word
	span := seg.End - seg.Start
	at := 0
	for _, f := range fields {
		w := Word{Text: f, Prob: 1}
		w.Start = seg.Start + span*time.Duration(at)/time.Duration(total)
		at += len(f) + 1
		w.End = seg.Start + span*time.Duration(at-1)/time.Duration(total)
		out = append(out, w)
	}
	return out
}

// clean removes bracketed non-speech annotations ("[BLANK_AUDIO]",
// "(upbeat music)", "*sighs*") and symbol-only words, and attaches
// standalone punctuation to the word before it.
func (g *guard) clean(ws []Word, st *GuardStats) []Word {
	var out []Word
	closer := ""
	for _, w := range ws {
		t := strings.TrimSpace(w.Text)
		if closer != "" {
			if strings.HasSuffix(t, closer) {
				closer = ""
			}
			continue
		}
		if open, end := annotation(t); open {
			st.Annotation++
			closer = end
			continue
		}
		if t == "" {
			continue
		}
		if normWord(t) == "" {
			// Sentence punctuation stays as part of the text; anything else
			// without letters or digits ("…", "♪", "-") is not speech.
			if strings.Trim(t, ".,?!;:") == "" && len(out) > 0 {
				out[len(out)-1].Text += t
			}
			continue
		}
		w.Text = t
		out = append(out, w)
	}
	return out
}

// annotation reports whether t opens a bracketed annotation and, if it
// does not close in the same word, the suffix that will close it.
func annotation(t string) (bool, string) {
	for _, p := range [...][2]string{{"[", "]"}, {"(", ")"}, {"*", "*"}} {
		if strings.HasPrefix(t, p[0]) {
			if len(t) > 1 && strings.HasSuffix(strings.TrimRight(t, ".,?!"), p[1]) {
				return true, ""
			}
			return true, p[1]
		}
	}
	return false, ""
}

// loopCut returns the number of words to keep: all of them, or up to the
// end of the first occurrence of a phrase of one to four words that then
// repeats back to back more than MaxRepeats times in all.
func (g *guard) loopCut(ws []Word) int {
	for i := range ws {
		for n := 1; n <= 4 && i+n <= len(ws); n++ {
			reps := 1
			for j := i + n; j+n <= len(ws) && sameWords(ws[i:i+n], ws[j:j+n]); j += n {
				reps++
			}
			if reps > g.o.MaxRepeats {
				return i + n
			}
		}
	}
	return len(ws)
}

func sameWords(a, b []Word) bool {
	for i := range a {
		if normWord(a[i].Text) != normWord(b[i].Text) {
			return false
		}
	}
	return true
}

// normText is the comparison form of a phrase: lower-case words, no
// punctuation.
func normText(s string) string {
	f := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '\'' && r != '.'
	})
	for i := range f {
		f[i] = strings.Trim(f[i], ".'")
	}
	return strings.Join(f, " ")
}

func compressionRatio(s string) float64 {
	var b bytes.Buffer
	w, _ := flate.NewWriter(&b, flate.BestCompression)
	_, _ = w.Write([]byte(s))
	_ = w.Close()
	return float64(len(s)) / float64(b.Len())
}
