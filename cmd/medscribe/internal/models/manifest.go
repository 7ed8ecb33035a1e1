// Package models is the "medscribe models" command: it downloads the real
// whisper, VAD and language models from Hugging Face (or a mirror), checks
// every byte against a pinned size and SHA-256, and lets the server find a
// model that was pulled and verified without hashing it again.
//
// Every size, hash and revision in the manifest comes from the project's
// model notes (MODELS.md); a file whose size or hash those notes could not
// confirm is not in the manifest at all.
package models

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// DefaultBaseURL is where models come from unless a mirror is configured.
const DefaultBaseURL = "https://huggingface.co"

// Kind says what a model is for.
type Kind string

// The kinds of model in the manifest.
const (
	Whisper Kind = "whisper" // speech recognition (whisper.cpp ggml)
	VAD     Kind = "vad"     // voice activity detection (Silero, whisper.cpp ggml)
	LLM     Kind = "llm"     // extraction language model (GGUF)
	Draft   Kind = "draft"   // small GGUF for speculative decoding
)

// Model is one pinned file of a Hugging Face repository.
type Model struct {
	Name     string // what users type: "whisper-base.en"
	Kind     Kind
	Repo     string // "ggerganov/whisper.cpp"
	File     string // file name in the repo and on disk
	Revision string // pinned commit; the download falls back to main when it no longer resolves
	Size     int64  // bytes
	SHA256   string // lower-case hex of the file's bytes (the Git LFS oid)

	License    string // short licence name shown by "models list"
	LicenseURL string
	// Gated repos need the licence accepted on the repo page and a token
	// in HF_TOKEN; without one Hugging Face answers 401.
	Gated bool
	// Default models are pulled by "models pull" with no names (a gated
	// default only when HF_TOKEN is set).
	Default bool
	Note    string
}

// URL is where the model is downloaded from: base (DefaultBaseURL or a
// mirror) in the Hugging Face resolve form, at revision.
func (m Model) URL(base, revision string) string {
	return strings.TrimRight(base, "/") + "/" + m.Repo + "/resolve/" + revision + "/" + m.File
}

// RepoPage is the model's page on huggingface.co, where a gated licence is
// accepted (also for mirror downloads: licences are accepted upstream).
func (m Model) RepoPage() string { return DefaultBaseURL + "/" + m.Repo }

const (
	whisperRev = "5359861c739e955e79d9a303bcbc70fb988958b1"
	vadRev     = "9ffd54a1e1ee413ddf265af9913beaf518d1639b"

	mit        = "MIT"
	gemmaToU   = "Gemma Terms of Use"
	gemmaURL   = "https://ai.google.dev/gemma/terms"
	haiDef     = "Health AI Developer Foundations terms"
	haiDefURL  = "https://developers.google.com/health-ai-developer-foundations/terms"
	whisperURL = "https://huggingface.co/ggerganov/whisper.cpp"
	vadURL     = "https://huggingface.co/ggml-org/whisper-vad"
)

// manifest is the list behind Manifest, in the order "models list" shows
// and the default pull fetches (small files first, so a usable setup
// arrives early).
var manifest = []Model{
	{Name: "silero-vad-v6.2.0", Kind: VAD, Repo: "ggml-org/whisper-vad", File: "ggml-silero-v6.2.0.bin", Revision: vadRev,
		Size: 885098, SHA256: "2aa269b785eeb53a82983a20501ddf7c1d9c48e33ab63a41391ac6c9f7fb6987",
		License: mit, LicenseURL: vadURL, Default: true, Note: "voice activity detection (current Silero)"},
	{Name: "silero-vad-v5.1.2", Kind: VAD, Repo: "ggml-org/whisper-vad", File: "ggml-silero-v5.1.2.bin", Revision: vadRev,
		Size: 885098, SHA256: "29940d98d42b91fbd05ce489f3ecf7c72f0a42f027e4875919a28fb4c04ea2cf",
		License: mit, LicenseURL: vadURL, Note: "previous Silero"},
	{Name: "whisper-tiny.en", Kind: Whisper, Repo: "ggerganov/whisper.cpp", File: "ggml-tiny.en.bin", Revision: whisperRev,
		Size: 77704715, SHA256: "921e4cf8686fdd993dcd081a5da5b6c365bfde1162e72b08d75ac75289920b1f",
		License: mit, LicenseURL: whisperURL, Note: "fastest English speech, least accurate"},
	{Name: "whisper-base.en-q5_1", Kind: Whisper, Repo: "ggerganov/whisper.cpp", File: "ggml-base.en-q5_1.bin", Revision: whisperRev,
		Size: 59721011, SHA256: "4baf70dd0d7c4247ba2b81fafd9c01005ac77c2f9ef064e00dcf195d0e2fdd2f",
		License: mit, LicenseURL: whisperURL, Note: "base.en quantized"},
	{Name: "whisper-base.en", Kind: Whisper, Repo: "ggerganov/whisper.cpp", File: "ggml-base.en.bin", Revision: whisperRev,
		Size: 147964211, SHA256: "a03779c86df3323075f5e796cb2ce5029f00ec8869eee3fdfb897afe36c6d002",
		License: mit, LicenseURL: whisperURL, Default: true, Note: "English speech, CPU default"},
	{Name: "whisper-small.en-q5_1", Kind: Whisper, Repo: "ggerganov/whisper.cpp", File: "ggml-small.en-q5_1.bin", Revision: whisperRev,
		Size: 190098681, SHA256: "bfdff4894dcb76bbf647d56263ea2a96645423f1669176f4844a1bf8e478ad30",
		License: mit, LicenseURL: whisperURL, Note: "small.en quantized"},
	{Name: "whisper-small.en", Kind: Whisper, Repo: "ggerganov/whisper.cpp", File: "ggml-small.en.bin", Revision: whisperRev,
		Size: 487614201, SHA256: "c6138d6d58ecc8322097e0f987c32f1be8bb0a18532a3f88f734d1bbf9c41e5d",
		License: mit, LicenseURL: whisperURL, Default: true, Note: "English speech, more accurate, slower on CPU"},
	{Name: "whisper-large-v3-turbo-q5_0", Kind: Whisper, Repo: "ggerganov/whisper.cpp", File: "ggml-large-v3-turbo-q5_0.bin", Revision: whisperRev,
		Size: 574041195, SHA256: "394221709cd5ad1f40c46e6031ca61bce88931e6e088c188294c6d5a55ffa7e2",
		License: mit, LicenseURL: whisperURL, Note: "GPU speech, smaller download"},
	{Name: "whisper-medium.en", Kind: Whisper, Repo: "ggerganov/whisper.cpp", File: "ggml-medium.en.bin", Revision: whisperRev,
		Size: 1533774781, SHA256: "cc37e93478338ec7700281a7ac30a10128929eb8f427dda2e865faa8f6da4356",
		License: mit, LicenseURL: whisperURL, Note: "English speech, GPU"},
	{Name: "whisper-large-v3-turbo", Kind: Whisper, Repo: "ggerganov/whisper.cpp", File: "ggml-large-v3-turbo.bin", Revision: whisperRev,
		Size: 1624555275, SHA256: "1fc70f774d38eb169993ac391eea357ef47c88757ef72ee5943879b7e8e2bc69",
		License: mit, LicenseURL: whisperURL, Note: "GPU / Apple Silicon speech default"},
	{Name: "gemma-3-270m-it-q8_0", Kind: Draft, Repo: "ggml-org/gemma-3-270m-it-GGUF", File: "gemma-3-270m-it-Q8_0.gguf", Revision: "e7647be17ae1108f2f605ed061ca0608b171afff",
		Size: 291545600, SHA256: "0ef57d2c838458a1952664260dcba38e5bdda37494f3af732f06e4add24068e3",
		License: gemmaToU, LicenseURL: gemmaURL, Note: "speculative-decoding draft (vocabulary match with the target not yet checked)"},
	{Name: "gemma-3-1b-it-q4_k_m", Kind: LLM, Repo: "ggml-org/gemma-3-1b-it-GGUF", File: "gemma-3-1b-it-Q4_K_M.gguf", Revision: "f9c28bcd85737ffc5aef028638d3341d49869c27",
		Size: 806058240, SHA256: "8ccc5cd1f1b3602548715ae25a66ed73fd5dc68a210412eea643eb20eb75a135",
		License: gemmaToU, LicenseURL: gemmaURL, Default: true, Note: "extraction LLM for CPU-only machines, no token needed"},
	{Name: "gemma-3-1b-it-q8_0", Kind: LLM, Repo: "ggml-org/gemma-3-1b-it-GGUF", File: "gemma-3-1b-it-Q8_0.gguf", Revision: "f9c28bcd85737ffc5aef028638d3341d49869c27",
		Size: 1069306368, SHA256: "b205840c5dcef55078e37d344677869a714ffd42a4ae448c48dcfb52e4bb10d5",
		License: gemmaToU, LicenseURL: gemmaURL, Note: "gemma-3-1b at 8 bits"},
	{Name: "gemma-3-4b-it-q4_k_m", Kind: LLM, Repo: "ggml-org/gemma-3-4b-it-GGUF", File: "gemma-3-4b-it-Q4_K_M.gguf", Revision: "d0976223747697cb51e056d85c532013931fe52e",
		Size: 2489757856, SHA256: "882e8d2db44dc554fb0ea5077cb7e4bc49e7342a1f0da57901c0802ea21a0863",
		License: gemmaToU, LicenseURL: gemmaURL, Note: "GPU extraction LLM without a token"},
	{Name: "medgemma-4b-it-q4_k_m", Kind: LLM, Repo: "unsloth/medgemma-4b-it-GGUF", File: "medgemma-4b-it-Q4_K_M.gguf", Revision: "f98438176483313640920de5aec435f2d52bfc46",
		Size: 2489894720, SHA256: "d842e8d2aca3fc5e613c5f9255e693768eeccae729e5c2653159eb79afe751f3",
		License: haiDef, LicenseURL: haiDefURL, Gated: true, Default: true, Note: "medical extraction LLM (CPU speed not yet measured)"},
	{Name: "medgemma-27b-text-it-q4_k_m", Kind: LLM, Repo: "unsloth/medgemma-27b-text-it-GGUF", File: "medgemma-27b-text-it-Q4_K_M.gguf", Revision: "b84572483dc6357f0b3c17af004e8de6a025f818",
		Size: 16546405376, SHA256: "383b1c414d3f2f1a9c577a61e623d29a4ed4f7834f60b9e5412f5ff4e8aaf080",
		License: haiDef, LicenseURL: haiDefURL, Gated: true, Note: "medical extraction LLM for GPUs"},
}

// Manifest returns a copy of every model that can be pulled.
func Manifest() []Model { return append([]Model(nil), manifest...) }

// Defaults returns the models "models pull" fetches when given no names.
func Defaults() []Model { return defaults(manifest) }

func defaults(ms []Model) []Model {
	var out []Model
	for _, m := range ms {
		if m.Default {
			out = append(out, m)
		}
	}
	return out
}

// Lookup finds a model of the manifest by name, by file name, or (for
// whisper models) by the whisper.cpp name without the "whisper-" prefix,
// ignoring case: "whisper-base.en", "ggml-base.en.bin" and "base.en" are
// the same model.
func Lookup(name string) (Model, bool) { return lookup(manifest, name) }

func lookup(ms []Model, name string) (Model, bool) {
	for _, m := range ms {
		if strings.EqualFold(name, m.Name) || strings.EqualFold(name, m.File) ||
			(m.Kind == Whisper && strings.EqualFold("whisper-"+name, m.Name)) {
			return m, true
		}
	}
	return Model{}, false
}

// DefaultDir is where pulled models live: $MEDSCRIBE_CACHE/models, else
// the user cache directory's medscribe/models.
func DefaultDir() (string, error) { return defaultDir(os.Getenv) }

func defaultDir(getenv func(string) string) (string, error) {
	if c := getenv("MEDSCRIBE_CACHE"); c != "" {
		return filepath.Join(c, "models"), nil
	}
	c, err := os.UserCacheDir()
	if err != nil {
		return "", fmt.Errorf("model directory: %w (set MEDSCRIBE_CACHE or pass --dir)", err)
	}
	return filepath.Join(c, "medscribe", "models"), nil
}
