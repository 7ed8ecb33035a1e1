package speech

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Encoding names a raw PCM sample encoding as clients announce it.
type Encoding string

// The encodings a client may send. Both are little-endian and interleaved
// when there is more than one channel.
const (
	EncodingS16LE Encoding = "pcm_s16le"
	EncodingF32LE Encoding = "pcm_f32le"
)

// Errors a caller may branch on. Errors returned by this package wrap them
// with what was being done; test with errors.Is.
var (
	// ErrUnsupportedFormat: the encoding, sample rate or channel count is
	// not one the front end accepts.
	ErrUnsupportedFormat = errors.New("unsupported audio format")
	// ErrFrameLength: a frame is not a whole number of sample frames
	// (an odd byte count for pcm_s16le, not a multiple of 4 for pcm_f32le,
	// or a partial multi-channel frame).
	ErrFrameLength = errors.New("frame is not a whole number of samples")
	// ErrNonFinite: a pcm_f32le frame holds NaN or ±Inf.
	ErrNonFinite = errors.New("frame holds NaN or infinite samples")
	// ErrBufferFull: audio arrived faster than it was transcribed and the
	// session's bounded buffer is full. The stream is unusable afterwards.
	ErrBufferFull = errors.New("audio buffer full")
	// ErrStopped: the stream was stopped; it accepts no more audio.
	ErrStopped = errors.New("stream stopped")
)

// supportedRates are the input rates clients may send; everything is
// resampled to SampleRate.
var supportedRates = [...]int{16000, 44100, 48000}

// Format describes the audio a client sends.
type Format struct {
	// Encoding is EncodingS16LE or EncodingF32LE.
	Encoding Encoding
	// SampleRate is 16000, 44100 or 48000.
	SampleRate int
	// Channels is 1 or 2; 0 means 1. Stereo is averaged to mono.
	Channels int
}

func (f Format) channels() int {
	if f.Channels == 0 {
		return 1
	}
	return f.Channels
}

func (f Format) bytesPerSample() int {
	if f.Encoding == EncodingS16LE {
		return 2
	}
	return 4
}

// Validate reports whether the front end accepts f.
func (f Format) Validate() error {
	if f.Encoding != EncodingS16LE && f.Encoding != EncodingF32LE {
		return fmt.Errorf("encoding %q: %w", f.Encoding, ErrUnsupportedFormat)
	}
	ok := false
	for _, r := range supportedRates {
		ok = ok || f.SampleRate == r
	}
	if !ok {
		return fmt.Errorf("sample rate %d Hz (want 16000, 44100 or 48000): %w", f.SampleRate, ErrUnsupportedFormat)
	}
	if c := f.channels(); c != 1 && c != 2 {
		return fmt.Errorf("%d channels (want 1 or 2): %w", f.Channels, ErrUnsupportedFormat)
	}
	return nil
}

// Decoder turns binary frames of raw PCM into 16 kHz mono float32 samples.
// It keeps resampler state across frames, so how a client splits its audio
// into frames does not change the output. A Decoder is not safe for
// concurrent use.
type Decoder struct {
	format  Format
	rs      *Resampler // nil when the input is already 16 kHz
	scratch []float32
	clipped int64
}

// NewDecoder returns a decoder for audio in format f.
func NewDecoder(f Format) (*Decoder, error) {
	if err := f.Validate(); err != nil {
		return nil, fmt.Errorf("new audio decoder: %w", err)
	}
	d := &Decoder{}
	d.setFormat(f)
	return d, nil
}

func (d *Decoder) setFormat(f Format) {
	f.Channels = f.channels()
	d.format = f
	d.rs = nil
	if f.SampleRate != SampleRate {
		// The rates were validated, so the resampler cannot fail.
		d.rs, _ = NewResampler(f.SampleRate, SampleRate)
	}
}

// Format returns the format the decoder currently expects.
func (d *Decoder) Format() Format { return d.format }

// Clipped returns how many input samples so far were at or beyond full
// scale. Values beyond ±1 in pcm_f32le are clamped to ±1, the range the
// recognizer expects; a growing count means the microphone gain is too high.
func (d *Decoder) Clipped() int64 { return d.clipped }

// Decode validates frame and appends its audio, resampled to 16 kHz mono,
// to dst. An invalid frame changes nothing and returns an error wrapping
// ErrFrameLength or ErrNonFinite. The resampler holds back a few
// milliseconds of output until later input arrives; Flush releases it.
func (d *Decoder) Decode(dst []float32, frame []byte) ([]float32, error) {
	f := d.format
	width := f.bytesPerSample() * f.channels()
	if len(frame)%width != 0 {
		return dst, fmt.Errorf("decode %s frame of %d bytes (%d-channel samples are %d bytes): %w",
			f.Encoding, len(frame), f.channels(), width, ErrFrameLength)
	}
	if f.Encoding == EncodingF32LE {
		// Validate before touching any state so a rejected frame leaves
		// the stream exactly as it was.
		for i := 0; i < len(frame); i += 4 {
			v := math.Float32frombits(binary.LittleEndian.Uint32(frame[i:]))
			if math.IsNaN(float64(v)) || math.IsInf(float64(v), 0) {
				return dst, fmt.Errorf("decode %s frame: sample %d is %v: %w", f.Encoding, i/4, v, ErrNonFinite)
			}
		}
	}
	n := len(frame) / width
	mono := d.scratch[:0]
	if cap(mono) < n {
		mono = make([]float32, 0, n)
	}
	ch := f.channels()
	for i := range n {
		var sum float32
		for c := range ch {
			off := (i*ch + c) * f.bytesPerSample()
			sum += d.sample(frame[off:])
		}
		mono = append(mono, sum/float32(ch))
	}
	d.scratch = mono
	if d.rs == nil {
		return append(dst, mono...), nil
	}
	return d.rs.Process(dst, mono), nil
}

// sample reads one sample at the start of b, counting and clamping clipping.
func (d *Decoder) sample(b []byte) float32 {
	if d.format.Encoding == EncodingS16LE {
		v := int16(binary.LittleEndian.Uint16(b))
		if v == math.MaxInt16 || v == math.MinInt16 {
			d.clipped++
		}
		return float32(v) / 32768
	}
	v := math.Float32frombits(binary.LittleEndian.Uint32(b))
	switch {
	case v >= 1:
		d.clipped++
		return 1
	case v <= -1:
		d.clipped++
		return -1
	}
	return v
}

// Flush appends the audio the resampler still holds, treating the input as
// ended, and resets it so that later frames start a new stretch of audio
// whose first sample directly follows the flushed one in time.
func (d *Decoder) Flush(dst []float32) []float32 {
	if d.rs == nil {
		return dst
	}
	return d.rs.Flush(dst)
}

// SetFormat switches the decoder to f between frames, as when a client
// changes its sample rate mid-session. The audio still held for the old
// format is flushed and appended to dst, so the session's time base stays
// continuous: the first sample in the new format follows the last one in
// the old format. An unsupported f leaves the decoder unchanged.
func (d *Decoder) SetFormat(dst []float32, f Format) ([]float32, error) {
	if err := f.Validate(); err != nil {
		return dst, fmt.Errorf("change audio format: %w", err)
	}
	if f.Channels = f.channels(); f == d.format {
		return dst, nil
	}
	dst = d.Flush(dst)
	d.setFormat(f)
	return dst, nil
}
