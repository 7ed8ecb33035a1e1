package speech

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
)

// WAVHeader is what ReadWAVHeader learns from a RIFF/WAVE file.
type WAVHeader struct {
	// Format of the samples. SampleRate may be one the streaming front end
	// does not accept (espeak-ng writes 22050 Hz); ReadWAV converts any rate.
	Format Format
	// DataSize is the size in bytes of the sample data that follows, or -1
	// when the writer did not know it (a header written before streaming).
	DataSize int64
}

// maxWAVData bounds what ReadWAV loads into memory: about 1.5 hours of
// 48 kHz stereo 16-bit audio.
const maxWAVData = 1 << 30

const (
	wavFormatPCM        = 1
	wavFormatFloat      = 3
	wavFormatExtensible = 0xFFFE
)

// ReadWAVHeader reads a RIFF/WAVE header from r and leaves r at the first
// byte of sample data, so the caller can stream the data in frames through
// a Decoder. Only 16-bit integer and 32-bit float PCM are accepted.
func ReadWAVHeader(r io.Reader) (WAVHeader, error) {
	var riff [12]byte
	if _, err := io.ReadFull(r, riff[:]); err != nil {
		return WAVHeader{}, fmt.Errorf("read wav header: %w", err)
	}
	if string(riff[0:4]) != "RIFF" || string(riff[8:12]) != "WAVE" {
		return WAVHeader{}, fmt.Errorf("read wav header: not a RIFF/WAVE file: %w", ErrUnsupportedFormat)
	}
	var h WAVHeader
	haveFmt := false
	for {
		var ch [8]byte
		if _, err := io.ReadFull(r, ch[:]); err != nil {
			return WAVHeader{}, fmt.Errorf("read wav chunk header: %w", err)
		}
		id, size := string(ch[0:4]), binary.LittleEndian.Uint32(ch[4:8])
		switch id {
		case "fmt ":
			if size < 16 || size > 1024 {
				return WAVHeader{}, fmt.Errorf("read wav fmt chunk of %d bytes: %w", size, ErrUnsupportedFormat)
			}
			body := make([]byte, size+size%2)
			if _, err := io.ReadFull(r, body); err != nil {
				return WAVHeader{}, fmt.Errorf("read wav fmt chunk: %w", err)
			}
			f, err := parseWAVFmt(body[:size])
			if err != nil {
				return WAVHeader{}, err
			}
			h.Format, haveFmt = f, true
		case "data":
			if !haveFmt {
				return WAVHeader{}, fmt.Errorf("read wav: data chunk before fmt chunk: %w", ErrUnsupportedFormat)
			}
			h.DataSize = int64(size)
			if size == 0xFFFFFFFF || size == 0 {
				h.DataSize = -1
			}
			return h, nil
		default:
			// Skip LIST, fact and other chunks; chunks are padded to even sizes.
			if _, err := io.CopyN(io.Discard, r, int64(size)+int64(size%2)); err != nil {
				return WAVHeader{}, fmt.Errorf("skip wav chunk %q: %w", id, err)
			}
		}
	}
}

func parseWAVFmt(b []byte) (Format, error) {
	tag := binary.LittleEndian.Uint16(b[0:2])
	channels := int(binary.LittleEndian.Uint16(b[2:4]))
	rate := int(binary.LittleEndian.Uint32(b[4:8]))
	bitsPer := binary.LittleEndian.Uint16(b[14:16])
	if tag == wavFormatExtensible {
		if len(b) < 26 {
			return Format{}, fmt.Errorf("read wav: short extensible fmt chunk: %w", ErrUnsupportedFormat)
		}
		// The sub-format GUID starts with the plain format tag.
		tag = binary.LittleEndian.Uint16(b[24:26])
	}
	f := Format{SampleRate: rate, Channels: channels}
	switch {
	case tag == wavFormatPCM && bitsPer == 16:
		f.Encoding = EncodingS16LE
	case tag == wavFormatFloat && bitsPer == 32:
		f.Encoding = EncodingF32LE
	default:
		return Format{}, fmt.Errorf("read wav: format tag %d with %d bits per sample (want 16-bit PCM or 32-bit float): %w",
			tag, bitsPer, ErrUnsupportedFormat)
	}
	if channels != 1 && channels != 2 {
		return Format{}, fmt.Errorf("read wav: %d channels: %w", channels, ErrUnsupportedFormat)
	}
	if rate < 8000 || rate > 192000 {
		return Format{}, fmt.Errorf("read wav: sample rate %d Hz: %w", rate, ErrUnsupportedFormat)
	}
	return f, nil
}

// ReadWAV reads a whole 16-bit or float WAV file and returns it as 16 kHz
// mono float32, for tests, benchmarks and batch transcription. Any rate
// from 8 to 192 kHz that NewResampler accepts will do (all the usual ones,
// including espeak-ng's 22050 Hz). A trailing partial sample is ignored.
func ReadWAV(r io.Reader) ([]float32, error) {
	h, err := ReadWAVHeader(r)
	if err != nil {
		return nil, err
	}
	lr := io.LimitReader(r, maxWAVData+1)
	if h.DataSize >= 0 {
		lr = io.LimitReader(r, min(h.DataSize, maxWAVData+1))
	}
	var data bytes.Buffer
	if _, err := data.ReadFrom(lr); err != nil {
		return nil, fmt.Errorf("read wav data: %w", err)
	}
	if data.Len() > maxWAVData {
		return nil, fmt.Errorf("read wav data: more than %d bytes: %w", maxWAVData, ErrBufferFull)
	}
	// The header check allows other rates than the streaming ones, so the
	// decoder is set up without Format.Validate.
	d := &Decoder{format: h.Format}
	if h.Format.SampleRate != SampleRate {
		if d.rs, err = NewResampler(h.Format.SampleRate, SampleRate); err != nil {
			return nil, fmt.Errorf("read wav: %w", err)
		}
	}
	b := data.Bytes()
	width := h.Format.bytesPerSample() * h.Format.channels()
	b = b[:len(b)-len(b)%width]
	out, err := d.Decode(make([]float32, 0, len(b)/width), b)
	if err != nil {
		return nil, fmt.Errorf("read wav data: %w", err)
	}
	return d.Flush(out), nil
}
