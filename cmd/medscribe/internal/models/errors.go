package models

import (
	"errors"
	"fmt"
	"net/http"
)

// ErrUsage marks a command line that was wrong; the message and the usage
// have already been printed to stderr.
var ErrUsage = errors.New("usage")

// ErrOffline matches an *OfflineError with errors.Is.
var ErrOffline = errors.New("offline")

// OfflineError means the download host could not be resolved or connected
// to: retrying will not help until the network is back, so Pull fails at
// once instead of retrying.
type OfflineError struct {
	Host string // the host that could not be reached
	Dir  string // where model files can be copied by hand instead
	Err  error  // the resolver's or dialer's error
}

func (e *OfflineError) Error() string {
	return fmt.Sprintf("cannot reach %s: this machine appears to be offline; copy the model files to %s or pass --whisper-model/--llm-model (%v)",
		e.Host, e.Dir, e.Err)
}

// Is makes errors.Is(err, ErrOffline) true.
func (e *OfflineError) Is(target error) bool { return target == ErrOffline }

func (e *OfflineError) Unwrap() error { return e.Err }

// AuthError is a 401 or 403 answer: the repo is gated (or private) and the
// request had no token, or the token's account has not accepted the
// licence.
type AuthError struct {
	Model     Model
	Status    int
	TokenSent bool
	// TokenWithheld: a token was configured but not sent, because the
	// base URL is a mirror and sending it there was not allowed.
	TokenWithheld bool
	Server        string // the server's explanation, if it gave one
}

func (e *AuthError) Error() string { return e.message() + says(e.Server) }

func (e *AuthError) message() string {
	licence := e.Model.License
	if e.Model.LicenseURL != "" {
		licence += ", " + e.Model.LicenseURL
	}
	page := e.Model.RepoPage()
	switch {
	case e.TokenWithheld:
		return fmt.Sprintf("HTTP %d for %s: HF_TOKEN is set but is not sent to a mirror unless --mirror-token is given", e.Status, e.Model.Repo)
	case e.TokenSent:
		return fmt.Sprintf("HTTP %d: the token in HF_TOKEN was refused for %s: sign in to %s with the account the token belongs to and accept the licence (%s), or check that the token is valid",
			e.Status, e.Model.Repo, page, licence)
	}
	return fmt.Sprintf("HTTP %d: %s is gated: sign in to %s and accept the licence (%s), then create a read token at https://huggingface.co/settings/tokens and set HF_TOKEN",
		e.Status, e.Model.Repo, page, licence)
}

// HTTPError is an answer Pull cannot use, such as 404 for both the pinned
// revision and main, or a server error that persisted through the retries.
type HTTPError struct {
	URL    string
	Status int
	Server string // the server's explanation, if it gave one
}

func (e *HTTPError) Error() string {
	return fmt.Sprintf("GET %s: HTTP %d %s", e.URL, e.Status, http.StatusText(e.Status)) + says(e.Server)
}

func says(server string) string {
	if server == "" {
		return ""
	}
	return " (server says: " + server + ")"
}

// ChecksumError means a file's bytes do not hash to the pinned SHA-256. A
// downloaded file with a bad checksum is deleted, never kept.
type ChecksumError struct {
	File      string
	Want, Got string
}

func (e *ChecksumError) Error() string {
	return fmt.Sprintf("%s: sha256 mismatch: expected %s, got %s", e.File, e.Want, e.Got)
}

// SizeError means a file (or what a server announced or sent) is not the
// pinned size. Got is a lower bound when a server sent more than expected.
type SizeError struct {
	File      string
	Want, Got int64
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("%s: size mismatch: expected %d bytes, got %d", e.File, e.Want, e.Got)
}

// SpaceError means the disk holding the model directory lacks room for the
// rest of a download; nothing was downloaded.
type SpaceError struct {
	Dir        string
	Need, Free int64
}

func (e *SpaceError) Error() string {
	return fmt.Sprintf("not enough disk space in %s: the download needs %s more, %s free", e.Dir, human(e.Need), human(e.Free))
}
