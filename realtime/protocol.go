// Package realtime runs live dictation sessions over WebSocket
// (GET /v1/listen): audio in, transcript and clinical items out, everything
// committed saved as it happens. The protocol is documented in
// docs/protocol.md.
package realtime

import (
	"encoding/json"
	"time"

	"github.com/coder/websocket"
)

// Event types the server sends.
const (
	TypeSessionStarted    = "session.started"
	TypeTranscriptPartial = "transcript.partial"
	TypeTranscriptFinal   = "transcript.final"
	TypeItemPartial       = "item.partial"
	TypeItemFinal         = "item.final"
	TypeError             = "error"
	TypeSessionEnded      = "session.ended"
)

// Control message types the client sends as text frames.
const (
	TypeStop      = "stop"
	TypeKeepalive = "keepalive"
)

// Close codes in the private range. A client can tell from the code alone
// why the server ended the connection.
const (
	// CloseUnsupportedFormat: the encoding or sample rate in the query is
	// not accepted. Nothing was recorded.
	CloseUnsupportedFormat websocket.StatusCode = 4001
	// CloseOverloaded: the client sent audio faster than real time for too
	// long, or did not read events; what was committed is saved.
	CloseOverloaded websocket.StatusCode = 4008
	// CloseInternal: the server failed; what was committed is saved.
	CloseInternal websocket.StatusCode = 4011
	// CloseShutdown: the server is stopping; the session was flushed.
	CloseShutdown websocket.StatusCode = 4012
)

// Error codes carried by error events. Non-fatal errors leave the session
// running: the offending message is dropped and everything else kept.
const (
	ErrCodeBadJSON           = "bad_json"           // a text frame that is not a JSON object
	ErrCodeUnknownType       = "unknown_type"       // a control message of an unknown type
	ErrCodeBadFrame          = "bad_frame"          // a binary frame that is not whole samples
	ErrCodeBadSamples        = "bad_samples"        // NaN or infinite float samples
	ErrCodeUnsupportedFormat = "unsupported_format" // fatal: see CloseUnsupportedFormat
	ErrCodeOverloaded        = "overloaded"         // fatal: see CloseOverloaded
	ErrCodeTranscription     = "transcription_failed"
	ErrCodeExtraction        = "extraction_failed"
	ErrCodeStorage           = "storage_failed"
	ErrCodeInternal          = "internal"
)

// seconds renders a duration as seconds with millisecond precision.
type seconds time.Duration

func (s seconds) MarshalJSON() ([]byte, error) {
	ms := time.Duration(s).Milliseconds()
	return json.Marshal(float64(ms) / 1000)
}

type sessionStarted struct {
	Type            string `json:"type"`
	SessionID       string `json:"session_id"`
	SpeechModel     string `json:"speech_model"`
	Extractor       string `json:"extractor"`
	GeneratedModels bool   `json:"generated_models"`
}

type transcriptPartial struct {
	Type  string  `json:"type"`
	Text  string  `json:"text"`
	Start seconds `json:"start"`
	End   seconds `json:"end"`
}

type transcriptFinal struct {
	Type      string  `json:"type"`
	SegmentID int     `json:"segment_id"`
	Text      string  `json:"text"`
	Start     seconds `json:"start"`
	End       seconds `json:"end"`
}

type itemPartial struct {
	Type   string            `json:"type"`
	ItemID string            `json:"item_id"`
	Kind   string            `json:"kind"`
	Fields map[string]string `json:"fields"`
}

type itemFinal struct {
	Type       string          `json:"type"`
	ItemID     string          `json:"item_id"`
	Kind       string          `json:"kind"`
	Resource   json.RawMessage `json:"resource"`
	Validation json.RawMessage `json:"validation,omitempty"`
	Source     string          `json:"source"`
	SegmentID  int             `json:"segment_id"`
	Notes      []string        `json:"notes,omitempty"`
}

type errorEvent struct {
	Type    string `json:"type"`
	Code    string `json:"code"`
	Message string `json:"message"`
}

type sessionEnded struct {
	Type      string `json:"type"`
	SessionID string `json:"session_id"`
	Status    string `json:"status"`
	BundleURL string `json:"bundle_url"`
	Segments  int    `json:"segments"`
	Items     int    `json:"items"`
}

// control is a client text frame.
type control struct {
	Type string `json:"type"`
}

func jsonMarshal(v any) ([]byte, error) { return json.Marshal(v) }

// MarshalTranscript renders a transcript event exactly as a session sends
// it, for tools that print the stream (medscribe transcribe --stream).
func MarshalTranscript(ev TranscriptEvent) ([]byte, error) {
	if ev.Final {
		return json.Marshal(transcriptFinal{Type: TypeTranscriptFinal, SegmentID: ev.SegmentID, Text: ev.Text,
			Start: seconds(ev.Start), End: seconds(ev.End)})
	}
	return json.Marshal(transcriptPartial{Type: TypeTranscriptPartial, Text: ev.Text, Start: seconds(ev.Start), End: seconds(ev.End)})
}
