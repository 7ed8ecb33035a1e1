package speech_test

import (
	"encoding/binary"
	"errors"
	"math"
	"slices"
	"testing"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
)

func s16(samples []float32, channels int) []byte {
	b := make([]byte, 0, len(samples)*2*channels)
	for _, v := range samples {
		q := int16(max(-32768, min(32767, math.Round(float64(v)*32768))))
		for range channels {
			b = binary.LittleEndian.AppendUint16(b, uint16(q))
		}
	}
	return b
}

func f32(samples []float32) []byte {
	b := make([]byte, 0, len(samples)*4)
	for _, v := range samples {
		b = binary.LittleEndian.AppendUint32(b, math.Float32bits(v))
	}
	return b
}

func TestFormatValidate(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		f  speech.Format
		ok bool
	}{
		{speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 16000}, true},
		{speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 44100, Channels: 2}, true},
		{speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 48000, Channels: 1}, true},
		{speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 22050}, false},
		{speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 8000}, false},
		{speech.Format{Encoding: "pcm_s24le", SampleRate: 16000}, false},
		{speech.Format{Encoding: "opus", SampleRate: 48000}, false},
		{speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 16000, Channels: 3}, false},
		{speech.Format{}, false},
	} {
		err := tc.f.Validate()
		if (err == nil) != tc.ok || (err != nil && !errors.Is(err, speech.ErrUnsupportedFormat)) {
			t.Errorf("Validate(%+v) = %v, want ok=%v or ErrUnsupportedFormat", tc.f, err, tc.ok)
		}
		if _, err := speech.NewDecoder(tc.f); (err == nil) != tc.ok {
			t.Errorf("NewDecoder(%+v) error %v, want ok=%v", tc.f, err, tc.ok)
		}
	}
}

// TestDecoderBadFrames: each malformed frame is rejected whole with a
// typed error and leaves the decoder as it was, so the output for the good
// frames around it equals that of a decoder that never saw it.
func TestDecoderBadFrames(t *testing.T) {
	t.Parallel()
	good := speechtest.Tone(440, 0.3, 48000, 960)
	nan := f32(good)
	binary.LittleEndian.PutUint32(nan[40:], math.Float32bits(float32(math.NaN())))
	inf := f32(good)
	binary.LittleEndian.PutUint32(inf[400:], math.Float32bits(float32(math.Inf(1))))
	ninf := f32(good)
	binary.LittleEndian.PutUint32(ninf[0:], math.Float32bits(float32(math.Inf(-1))))
	for _, tc := range []struct {
		name string
		f    speech.Format
		bad  []byte
		want error
	}{
		{"odd byte count", speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000}, make([]byte, 641), speech.ErrFrameLength},
		{"one byte", speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000}, []byte{7}, speech.ErrFrameLength},
		{"half a stereo frame", speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000, Channels: 2}, make([]byte, 642), speech.ErrFrameLength},
		{"f32 not a multiple of 4", speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 48000}, make([]byte, 1282), speech.ErrFrameLength},
		{"NaN", speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 48000}, nan, speech.ErrNonFinite},
		{"+Inf", speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 48000}, inf, speech.ErrNonFinite},
		{"-Inf first", speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 48000}, ninf, speech.ErrNonFinite},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			enc := func(s []float32) []byte {
				if tc.f.Encoding == speech.EncodingF32LE {
					return f32(s)
				}
				return s16(s, max(1, tc.f.Channels))
			}
			d, _ := speech.NewDecoder(tc.f)
			ref, _ := speech.NewDecoder(tc.f)
			out, err := d.Decode(nil, enc(good))
			if err != nil {
				t.Fatal(err)
			}
			before := len(out)
			out, err = d.Decode(out, tc.bad)
			if !errors.Is(err, tc.want) {
				t.Fatalf("error %v, want %v", err, tc.want)
			}
			if len(out) != before {
				t.Fatalf("rejected frame added %d samples", len(out)-before)
			}
			out, _ = d.Decode(out, enc(good))
			want, _ := ref.Decode(nil, enc(good))
			want, _ = ref.Decode(want, enc(good))
			if !slices.Equal(d.Flush(out), ref.Flush(want)) {
				t.Error("output after a rejected frame differs from output without it")
			}
		})
	}
}

// TestDecoderClipping: full-scale samples are counted, out-of-range floats
// are clamped to ±1, and a hard-clipped tone still comes out within ±1 at
// its frequency.
func TestDecoderClipping(t *testing.T) {
	t.Parallel()
	loud := speechtest.Tone(1000, 3, 48000, 48000) // clips hard
	for _, tc := range []struct {
		name  string
		f     speech.Format
		frame []byte
	}{
		{"s16 saturated", speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000}, s16(loud, 1)},
		{"f32 beyond ±1", speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 48000}, f32(loud)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			d, _ := speech.NewDecoder(tc.f)
			out, err := d.Decode(nil, tc.frame)
			if err != nil {
				t.Fatal(err)
			}
			out = d.Flush(out)
			if d.Clipped() < 30000 {
				t.Errorf("clipped count %d, want most of 48000 samples", d.Clipped())
			}
			crossings := 0
			for i, v := range out {
				if v > 1 || v < -1 || v != v {
					t.Fatalf("sample %d is %v", i, v)
				}
				if i > 0 && (out[i-1] < 0) != (v < 0) {
					crossings++
				}
			}
			// 1 kHz for 1 s crosses zero 2000 times.
			if crossings < 1998 || crossings > 2002 {
				t.Errorf("%d zero crossings, want 2000", crossings)
			}
		})
	}
	// Full scale in s16 is counted even though nothing is clamped.
	d, _ := speech.NewDecoder(speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 16000})
	out, _ := d.Decode(nil, []byte{0xff, 0x7f, 0x00, 0x80, 0x00, 0x00})
	if d.Clipped() != 2 || out[1] != -1 || out[2] != 0 {
		t.Errorf("clipped %d, samples %v", d.Clipped(), out)
	}
}

// TestDecoderRateChange: switching from 48 kHz to 44.1 kHz mid-stream keeps
// the time base: the output holds exactly the input's duration, the first
// part's audio ends where the second begins, and the tone carries on at
// 1 kHz across the change.
func TestDecoderRateChange(t *testing.T) {
	t.Parallel()
	d, _ := speech.NewDecoder(speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000})
	var out []float32
	a := speechtest.Tone(1000, 0.5, 48000, 48000)
	for i := 0; i < len(a); i += 960 {
		out, _ = d.Decode(out, s16(a[i:i+960], 1))
	}
	out, err := d.SetFormat(out, speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 44100})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 16000 {
		t.Fatalf("after 1 s at 48 kHz: %d samples, want 16000", len(out))
	}
	// Continue the tone's phase: 1 kHz is a whole number of cycles per second.
	b := speechtest.Tone(1000, 0.5, 44100, 44100)
	for i := 0; i < len(b); i += 882 {
		out, _ = d.Decode(out, f32(b[i:min(i+882, len(b))]))
	}
	out = d.Flush(out)
	if len(out) != 32000 {
		t.Fatalf("after 1 s at 48 kHz and 1 s at 44.1 kHz: %d samples, want 32000", len(out))
	}
	if _, err := d.SetFormat(out, speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 11025}); !errors.Is(err, speech.ErrUnsupportedFormat) {
		t.Errorf("change to 11025 Hz: %v, want ErrUnsupportedFormat", err)
	}
	// Compare with the ideal tone away from the change, where the filter
	// has settled on both sides.
	ideal := speechtest.Tone(1000, 0.5, 16000, 32000)
	for _, span := range [][2]int{{1000, 15700}, {16300, 31000}} {
		var worst float64
		for i := span[0]; i < span[1]; i++ {
			worst = max(worst, math.Abs(float64(out[i]-ideal[i])))
		}
		if worst > 1e-3 {
			t.Errorf("samples %d–%d differ from the ideal tone by up to %.2g", span[0], span[1], worst)
		}
	}
}
