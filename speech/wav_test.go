package speech_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"testing"

	"github.com/medscribe/medscribe/speech"
	"github.com/medscribe/medscribe/speech/speechtest"
)

type wavSpec struct {
	tag, channels, bits int
	rate                int
	extensible          bool
	extra               []byte // a chunk placed before fmt
	dataBeforeFmt       bool
	dataSize            int // -1: write the real size
}

func makeWAV(s wavSpec, data []byte) []byte {
	var fmtBody []byte
	le16 := func(b []byte, v int) []byte { return binary.LittleEndian.AppendUint16(b, uint16(v)) }
	le32 := func(b []byte, v int) []byte { return binary.LittleEndian.AppendUint32(b, uint32(v)) }
	tag := s.tag
	if s.extensible {
		tag = 0xFFFE
	}
	fmtBody = le16(fmtBody, tag)
	fmtBody = le16(fmtBody, s.channels)
	fmtBody = le32(fmtBody, s.rate)
	fmtBody = le32(fmtBody, s.rate*s.channels*s.bits/8)
	fmtBody = le16(fmtBody, s.channels*s.bits/8)
	fmtBody = le16(fmtBody, s.bits)
	if s.extensible {
		fmtBody = le16(fmtBody, 22)
		fmtBody = le16(fmtBody, s.bits)
		fmtBody = le32(fmtBody, 0)
		fmtBody = le16(fmtBody, s.tag)
		fmtBody = append(fmtBody, make([]byte, 14)...)
	}
	var body []byte
	body = append(body, "WAVE"...)
	body = append(body, s.extra...)
	size := len(data)
	if s.dataSize != -1 {
		size = s.dataSize
	}
	dataChunk := le32(append([]byte("data"), nil...), size)
	dataChunk = append(dataChunk, data...)
	fmtChunk := le32([]byte("fmt "), len(fmtBody))
	fmtChunk = append(fmtChunk, fmtBody...)
	if s.dataBeforeFmt {
		body = append(append(body, dataChunk...), fmtChunk...)
	} else {
		body = append(append(body, fmtChunk...), dataChunk...)
	}
	out := le32([]byte("RIFF"), len(body))
	return append(out, body...)
}

func TestReadWAV(t *testing.T) {
	t.Parallel()
	tone := speechtest.Tone(1000, 0.5, 16000, 1600)
	list := []byte("LIST\x05\x00\x00\x00abcde\x00") // odd size, padded
	for _, tc := range []struct {
		name    string
		spec    wavSpec
		data    []byte
		samples int
		format  speech.Format
	}{
		{"s16 mono 16k", wavSpec{tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: -1}, s16(tone, 1), 1600,
			speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 16000, Channels: 1}},
		{"s16 stereo 48k", wavSpec{tag: 1, channels: 2, bits: 16, rate: 48000, dataSize: -1}, s16(speechtest.Tone(1000, 0.5, 48000, 4800), 2), 1600,
			speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 48000, Channels: 2}},
		{"float 44.1k with LIST chunk", wavSpec{tag: 3, channels: 1, bits: 32, rate: 44100, extra: list, dataSize: -1}, f32(speechtest.Tone(1000, 0.5, 44100, 4410)), 1600,
			speech.Format{Encoding: speech.EncodingF32LE, SampleRate: 44100, Channels: 1}},
		{"extensible s16 22050 (espeak-ng's rate)", wavSpec{tag: 1, channels: 1, bits: 16, rate: 22050, extensible: true, dataSize: -1}, s16(speechtest.Tone(1000, 0.5, 22050, 2205), 1), 1600,
			speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 22050, Channels: 1}},
		{"unknown data size (streamed header)", wavSpec{tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: 0xFFFFFFFF}, s16(tone, 1), 1600,
			speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 16000, Channels: 1}},
		{"trailing odd byte", wavSpec{tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: -1}, append(s16(tone, 1), 9), 1600,
			speech.Format{Encoding: speech.EncodingS16LE, SampleRate: 16000, Channels: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			file := makeWAV(tc.spec, tc.data)
			h, err := speech.ReadWAVHeader(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if h.Format != tc.format {
				t.Errorf("format %+v, want %+v", h.Format, tc.format)
			}
			got, err := speech.ReadWAV(bytes.NewReader(file))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tc.samples {
				t.Fatalf("%d samples, want %d", len(got), tc.samples)
			}
			// Away from the edges every variant is the same 1 kHz tone.
			for i := 400; i < 1200; i++ {
				if math.Abs(float64(got[i]-tone[i])) > 2e-3 {
					t.Fatalf("sample %d = %v, want %v", i, got[i], tone[i])
				}
			}
		})
	}
}

func TestReadWAVErrors(t *testing.T) {
	t.Parallel()
	data := make([]byte, 64)
	for _, tc := range []struct {
		name string
		file []byte
		want error
	}{
		{"empty", nil, io.EOF},
		{"not RIFF", []byte("RIFX\x00\x00\x00\x00WAVEfmt "), speech.ErrUnsupportedFormat},
		{"24-bit", makeWAV(wavSpec{tag: 1, channels: 1, bits: 24, rate: 16000, dataSize: -1}, data), speech.ErrUnsupportedFormat},
		{"8-bit", makeWAV(wavSpec{tag: 1, channels: 1, bits: 8, rate: 16000, dataSize: -1}, data), speech.ErrUnsupportedFormat},
		{"64-bit float", makeWAV(wavSpec{tag: 3, channels: 1, bits: 64, rate: 16000, dataSize: -1}, data), speech.ErrUnsupportedFormat},
		{"A-law", makeWAV(wavSpec{tag: 6, channels: 1, bits: 16, rate: 8000, dataSize: -1}, data), speech.ErrUnsupportedFormat},
		{"3 channels", makeWAV(wavSpec{tag: 1, channels: 3, bits: 16, rate: 16000, dataSize: -1}, data), speech.ErrUnsupportedFormat},
		{"rate with too many filter phases", makeWAV(wavSpec{tag: 3, channels: 2, bits: 32, rate: 143409, dataSize: -1}, data), speech.ErrUnsupportedFormat},
		{"rate 0", makeWAV(wavSpec{tag: 1, channels: 1, bits: 16, rate: 0, dataSize: -1}, data), speech.ErrUnsupportedFormat},
		{"data before fmt", makeWAV(wavSpec{tag: 1, channels: 1, bits: 16, rate: 16000, dataBeforeFmt: true, dataSize: -1}, data), speech.ErrUnsupportedFormat},
		{"truncated header", makeWAV(wavSpec{tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: -1}, nil)[:30], io.ErrUnexpectedEOF},
	} {
		if _, err := speech.ReadWAV(bytes.NewReader(tc.file)); !errors.Is(err, tc.want) {
			t.Errorf("%s: error %v, want %v", tc.name, err, tc.want)
		}
	}
}

func TestReadSharedJFK(t *testing.T) {
	t.Parallel()
	s := speechtest.JFK(t)
	if d := float64(len(s)) / 16000; d < 10.9 || d > 11.1 {
		t.Errorf("JFK recording lasts %.2f s, want 11.0", d)
	}
	if rms := speechtest.RMS(s); rms < 0.01 || rms > 0.5 {
		t.Errorf("JFK RMS %.3f out of the range of speech", rms)
	}
}

func FuzzReadWAV(f *testing.F) {
	tone := speechtest.Tone(440, 0.5, 16000, 64)
	f.Add(makeWAV(wavSpec{tag: 1, channels: 1, bits: 16, rate: 16000, dataSize: -1}, s16(tone, 1)))
	f.Add(makeWAV(wavSpec{tag: 3, channels: 2, bits: 32, rate: 44100, dataSize: -1}, f32(tone)))
	f.Add(makeWAV(wavSpec{tag: 1, channels: 1, bits: 16, rate: 22050, extensible: true, dataSize: -1}, s16(tone, 1)))
	f.Add([]byte("RIFF\x00\x00\x00\x00WAVEdata\xff\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, file []byte) {
		out, err := speech.ReadWAV(bytes.NewReader(file))
		if err != nil {
			return
		}
		for i, v := range out {
			if v != v || v > 1 || v < -1 {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
	})
}

// FuzzDecoder feeds arbitrary frames, in any supported format, through a
// decoder and checks that it never panics, that every rejection is a typed
// error, and that all output is finite and within ±1.
func FuzzDecoder(f *testing.F) {
	f.Add(byte(0), byte(0), byte(1), s16(speechtest.Tone(440, 0.5, 16000, 64), 1), 7)
	f.Add(byte(1), byte(2), byte(2), f32(speechtest.Tone(440, 2, 48000, 64)), 3)
	f.Add(byte(1), byte(1), byte(1), []byte{0, 0, 0xc0, 0x7f, 1, 2}, 1)
	f.Fuzz(func(t *testing.T, enc, rate, channels byte, data []byte, split int) {
		format := speech.Format{
			Encoding:   []speech.Encoding{speech.EncodingS16LE, speech.EncodingF32LE}[enc%2],
			SampleRate: []int{16000, 44100, 48000}[int(rate)%3],
			Channels:   int(channels%2) + 1,
		}
		d, err := speech.NewDecoder(format)
		if err != nil {
			t.Fatal(err)
		}
		var out []float32
		if split <= 0 {
			split = len(data) + 1
		}
		for i := 0; i < len(data); i += split {
			out, err = d.Decode(out, data[i:min(i+split, len(data))])
			if err != nil && !errors.Is(err, speech.ErrFrameLength) && !errors.Is(err, speech.ErrNonFinite) {
				t.Fatalf("untyped error: %v", err)
			}
		}
		for i, v := range d.Flush(out) {
			if v != v || v > 1 || v < -1 {
				t.Fatalf("sample %d is %v", i, v)
			}
		}
	})
}
