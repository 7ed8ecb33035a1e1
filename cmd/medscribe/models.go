package main

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"

	"github.com/medscribe/medscribe/cmd/medscribe/internal/models"
	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/llama"
	gemmagen "github.com/medscribe/medscribe/extract/testmodel"
	"github.com/medscribe/medscribe/fhir"
	"github.com/medscribe/medscribe/speech"
	whispergen "github.com/medscribe/medscribe/speech/testmodel"
	"github.com/medscribe/medscribe/speech/whisper"
)

// Generated test models stand in for real ones when none is configured.
const (
	generatedWhisper = "whisper-tiny.en"
	generatedLLM     = "gemma3-micro-q8_0"
)

// speechModel is the loaded recognizer and where it came from.
type speechModel struct {
	model     *whisper.Model
	name      string
	path      string
	generated bool
}

// loadSpeech loads the configured whisper model, or generates the
// tiny.en-shaped test model when none is configured.
func loadSpeech(ctx context.Context, path string, log *slog.Logger) (*speechModel, error) {
	whisper.SetLogger(log.With("component", "whisper.cpp"))
	sm := &speechModel{path: path}
	if path == "" {
		// A model fetched with 'medscribe models pull' is used when there.
		if dir, err := models.DefaultDir(); err == nil {
			if _, p, ok := models.FindAny(dir, "whisper-small.en", "whisper-base.en", "whisper-small.en-q5_1", "whisper-base.en-q5_1", "whisper-tiny.en"); ok {
				sm.path = p
			}
		}
	}
	if sm.path == "" {
		dir := filepath.Join(cacheDir(), "testmodels")
		p, err := whispergen.Generate(ctx, dir, generatedWhisper)
		if err != nil {
			return nil, fmt.Errorf("no whisper model configured and the test model could not be generated: %w", err)
		}
		sm.path, sm.generated = p, true
	}
	m, err := whisper.Load(sm.path)
	if err != nil {
		return nil, err
	}
	sm.model = m
	sm.name = strings.TrimSuffix(filepath.Base(sm.path), filepath.Ext(sm.path))
	if sm.generated {
		sm.name = generatedWhisper + " (generated test model)"
		log.Warn("using a GENERATED whisper model with random weights: transcripts are noise; configure --whisper-model or run make models",
			"path", sm.path)
	} else {
		log.Info("speech model", "path", sm.path)
	}
	return sm, nil
}

// streamOptions are the streaming settings for this model. A generated
// model's probabilities mean nothing, so the confidence guards, which
// would drop all of its output, are off for it; the loop and phrase
// guards stay on.
func (sm *speechModel) streamOptions(threads int) *speech.StreamOptions {
	o := &speech.StreamOptions{Threads: threads, Vocabulary: vocabulary()}
	if sm.generated {
		o.Guards = &speech.GuardOptions{MaxNoSpeechProb: 2, SilenceLogProb: -1e9, MinAvgLogProb: -1e9}
	}
	return o
}

// loadVAD loads the Silero VAD model at path; with no path, one fetched
// with 'medscribe models pull' is used when present, else nil (the
// built-in energy detector).
func loadVAD(path string, log *slog.Logger) (*whisper.VADModel, error) {
	if path == "" {
		if dir, err := models.DefaultDir(); err == nil {
			if _, p, ok := models.FindAny(dir, "silero-vad-v6.2.0", "silero-vad-v5.1.2"); ok {
				path = p
			}
		}
	}
	if path == "" {
		log.Info("voice activity: built-in energy detector")
		return nil, nil
	}
	m, err := whisper.LoadVAD(path)
	if err != nil {
		return nil, err
	}
	log.Info("voice activity: Silero VAD", "path", path)
	return m, nil
}

// pulledLLM is the path of a language model fetched with 'medscribe models
// pull', if any: MedGemma when there is a GPU, else the CPU default.
func pulledLLM(gpu bool) string {
	dir, err := models.DefaultDir()
	if err != nil {
		return ""
	}
	names := []string{"gemma-3-1b-it-q4_k_m", "gemma-3-1b-it-q8_0", "medgemma-4b-it-q4_k_m"}
	if gpu {
		names = []string{"medgemma-27b-text-it-q4_k_m", "medgemma-4b-it-q4_k_m", "gemma-3-4b-it-q4_k_m", "gemma-3-1b-it-q4_k_m"}
	}
	_, p, _ := models.FindAny(dir, names...)
	return p
}

// llmModel is a loaded language model and where it came from.
type llmModel struct {
	model     *llama.Model
	name      string
	path      string
	generated bool
}

var llamaInit sync.Once

// loadLLM loads a GGUF model; an empty path means the generated micro
// gemma3 model, which is only ever used when asked for explicitly.
func loadLLM(ctx context.Context, path, gpuLibs string, gpuLayers int, log *slog.Logger) (*llmModel, error) {
	llamaInit.Do(func() {
		llama.SetLogger(log.With("component", "llama.cpp"))
		llama.Init(gpuLibs)
	})
	lm := &llmModel{path: path}
	if path == "" {
		dir := filepath.Join(cacheDir(), "testmodels")
		p, err := gemmagen.Generate(ctx, dir, generatedLLM)
		if err != nil {
			return nil, fmt.Errorf("generate test language model: %w", err)
		}
		lm.path, lm.generated = p, true
	}
	opts := llama.LoadOptions{}
	if gpuLibs != "" {
		gpus := llama.GPUs()
		if len(gpus) == 0 {
			return nil, fmt.Errorf("--gpu-libs %s: no GPU backend loaded (the folder must contain libggml-cuda.so and its path lib/ollama)", gpuLibs)
		}
		opts.GPULayers = gpuLayers
		for _, g := range gpus {
			opts.GPU = append(opts.GPU, g.LlamaID)
		}
		log.Info("llm on GPU", "devices", len(gpus), "layers", gpuLayers)
	}
	m, err := llama.Load(lm.path, opts)
	if err != nil {
		return nil, err
	}
	lm.model = m
	lm.name = strings.TrimSuffix(filepath.Base(lm.path), filepath.Ext(lm.path))
	if lm.generated {
		lm.name = generatedLLM + " (generated test model)"
		log.Warn("using a GENERATED language model with random weights: model items are noise (explicitly requested)", "path", lm.path)
	} else {
		log.Info("language model", "path", lm.path, "arch", m.Arch())
	}
	return lm, nil
}

// openTerminology opens the terminology in the database file at path
// (which always holds the embedded starter set, plus whatever was
// imported), or the in-memory starter set when path is empty.
func openTerminology(ctx context.Context, path string, log *slog.Logger) (*terminology.DB, string, error) {
	var t *terminology.DB
	var err error
	if path != "" {
		t, err = terminology.Open(ctx, path)
	} else {
		t, err = terminology.OpenStarter(ctx)
	}
	if err != nil {
		return nil, "", err
	}
	stats, err := t.Stats(ctx)
	if err != nil {
		t.Close()
		return nil, "", err
	}
	total := 0
	var imported []string
	for _, s := range stats {
		total += s.Concepts
		for _, src := range s.Sources {
			if !strings.Contains(strings.ToLower(src.Name), "starter") {
				imported = append(imported, src.Name+" "+src.Version)
			}
		}
	}
	name := "embedded starter set"
	if len(imported) > 0 {
		name = "imported: " + strings.Join(imported, ", ")
	} else {
		log.Info("terminology: embedded starter set only; import the official files with 'medscribe terminology import' for full coverage")
	}
	log.Info("terminology", "concepts", total, "sources", len(imported)+1)
	return t, name, nil
}

// fhirValidator adapts the fhir package's validator to extract.Validator.
type fhirValidator struct{ v fhir.Validator }

func (f fhirValidator) Validate(ctx context.Context, r fhir.Resource) (json.RawMessage, int, error) {
	oo := f.v.Validate(r)
	n := 0
	for _, is := range oo.Issue {
		if is.Severity == "error" || is.Severity == "fatal" {
			n++
		}
	}
	b, err := fhir.Marshal(&oo)
	return b, n, err
}

var _ extract.Validator = fhirValidator{}
