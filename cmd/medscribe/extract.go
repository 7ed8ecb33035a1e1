package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"runtime"
	"time"

	"github.com/medscribe/medscribe/cmd/medscribe/internal/buildinfo"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/fhir"
)

func init() {
	register("extract", "extract medications and conditions from text on stdin: a FHIR R4 Bundle on stdout", runExtract)
}

// compactItem is one line of --format items.
type compactItem struct {
	ID       string `json:"item_id"`
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Code     string `json:"code,omitempty"`
	Detail   string `json:"detail,omitempty"`
	Source   string `json:"source"`
	Problems int    `json:"validation_errors"`
}

func runExtract(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("extract", "[flags] < transcript.txt", stderr)
	c := &serveConfig{}
	fs.StringVar(&c.dbPath, "db", "", "terminology database (default: the embedded starter set)")
	fs.StringVar(&c.extractor, "extractor", "auto", "auto (the language model when --llm-model is set or one was pulled with 'models pull', else rules), rules, or llm")
	fs.StringVar(&c.llmModel, "llm-model", "", "GGUF language model (with --extractor llm and no model: the generated test model)")
	fs.StringVar(&c.gpuLibs, "gpu-libs", "", "folder with ggml GPU backend libraries")
	fs.IntVar(&c.gpuLayers, "gpu-layers", 999, "layers to offload to the GPU")
	fs.IntVar(&c.threads, "threads", runtime.NumCPU(), "CPU threads")
	fs.IntVar(&c.llmContext, "llm-context", 4096, "language model context in tokens")
	format := fs.String("format", "bundle", "bundle (FHIR R4 transaction Bundle) or items (one compact JSON line per item)")
	patient := fs.String("patient", "", "FHIR reference of the patient (default: a placeholder Patient entry)")
	logLevel := fs.String("log-level", "warn", "debug, info, warn or error")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *format != "bundle" && *format != "items" {
		return fmt.Errorf("--format %q: want bundle or items", *format)
	}
	log, err := newLogger(*logLevel, "text", stderr)
	if err != nil {
		return err
	}
	text, err := io.ReadAll(io.LimitReader(readerOf(ctx), 4<<20))
	if err != nil {
		return err
	}
	a := &app{cfg: c, log: log}
	defer a.Close()
	if a.term, a.termName, err = openTerminology(ctx, c.dbPath, log); err != nil {
		return err
	}
	if err := a.chooseExtractor(ctx); err != nil {
		return err
	}
	sum := sha256.Sum256(text)
	sessionID := "extract-" + hex.EncodeToString(sum[:8])
	ex, err := a.newExtractor(ctx, sessionID, *patient)
	if err != nil {
		return err
	}
	defer ex.Close()
	start := time.Now()
	items, err := ex.Feed(ctx, extract.Segment{ID: 0, Text: string(text)}, nil)
	if err != nil {
		return err
	}
	log.Info("extracted", "bytes", len(text), "items", len(items), "ms", time.Since(start).Milliseconds())
	if *format == "items" {
		enc := json.NewEncoder(stdout)
		for _, it := range items {
			if err := enc.Encode(compactOf(it)); err != nil {
				return err
			}
		}
		return nil
	}
	var res []fhir.Resource
	for _, it := range items {
		r, err := fhir.Parse(it.Resource)
		if err != nil {
			return fmt.Errorf("item %s: %w", it.ID, err)
		}
		res = append(res, r)
	}
	s := fhir.Session{ID: sessionID, Recorded: time.Now(), Version: buildinfo.Version,
		Models: []fhir.ModelVersion{{Role: "extraction", Name: a.extractorName()}}}
	if *patient != "" {
		s.Patient = &fhir.Reference{Reference: *patient}
	}
	b, err := fhir.NewSessionBundle(s, res)
	if err != nil {
		return err
	}
	out, err := fhir.MarshalIndent(b, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(stdout, "%s\n", out)
	return err
}

func compactOf(it extract.Item) compactItem {
	v := struct {
		Medication *struct {
			Text   string `json:"text"`
			Coding []struct{ Code, Display string }
		} `json:"medicationCodeableConcept"`
		Code *struct {
			Text   string `json:"text"`
			Coding []struct{ Code, Display string }
		} `json:"code"`
		Condition []struct {
			Code *struct {
				Text   string `json:"text"`
				Coding []struct{ Code, Display string }
			} `json:"code"`
		} `json:"condition"`
		Relationship *struct {
			Text string `json:"text"`
		} `json:"relationship"`
		Dosage []struct {
			Text string `json:"text"`
		} `json:"dosage"`
		Status       string `json:"status"`
		Verification *struct {
			Coding []struct{ Code string }
		} `json:"verificationStatus"`
	}{}
	json.Unmarshal(it.Resource, &v)
	c := compactItem{ID: it.ID, Kind: it.Kind, Source: it.Source}
	cc := v.Code
	if v.Medication != nil {
		cc = v.Medication
	}
	if len(v.Condition) > 0 && v.Condition[0].Code != nil {
		cc = v.Condition[0].Code
		if v.Relationship != nil {
			c.Detail = v.Relationship.Text
		}
	}
	if cc != nil {
		c.Name = cc.Text
		if len(cc.Coding) > 0 {
			c.Code = cc.Coding[0].Code
			if c.Name == "" {
				c.Name = cc.Coding[0].Display
			}
		}
	}
	if len(v.Dosage) > 0 {
		c.Detail = v.Dosage[0].Text
	}
	if v.Verification != nil && len(v.Verification.Coding) > 0 && v.Verification.Coding[0].Code != "confirmed" {
		c.Detail = v.Verification.Coding[0].Code
	}
	var oo struct {
		Issue []struct{ Severity string } `json:"issue"`
	}
	json.Unmarshal(it.Validation, &oo)
	for _, is := range oo.Issue {
		if is.Severity == "error" || is.Severity == "fatal" {
			c.Problems++
		}
	}
	return c
}
