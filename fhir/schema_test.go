package fhir

import (
	"bytes"
	"compress/gzip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaID = "http://hl7.org/fhir/json-schema/4.0"

var (
	schemaOnce     sync.Once
	schemaCompiler *jsonschema.Compiler
	schemaErr      error
	schemaMu       sync.Mutex
	schemaByType   = map[string]*jsonschema.Schema{}
)

// officialSchema returns the R4 JSON schema definition of a resource type, compiled
// from the shared fhir.schema.json.gz.
func officialSchema(t *testing.T, resourceType string) *jsonschema.Schema {
	t.Helper()
	path := fhirData(t, "fhir.schema.json.gz")
	schemaOnce.Do(func() {
		f, err := os.Open(path)
		if err != nil {
			schemaErr = err
			return
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			schemaErr = err
			return
		}
		doc, err := jsonschema.UnmarshalJSON(zr)
		if err != nil {
			schemaErr = err
			return
		}
		c := jsonschema.NewCompiler()
		c.DefaultDraft(jsonschema.Draft6)
		if err := c.AddResource(schemaID, doc); err != nil {
			schemaErr = err
			return
		}
		schemaCompiler = c
	})
	if schemaErr != nil {
		t.Fatalf("load JSON schema: %v", schemaErr)
	}
	schemaMu.Lock()
	defer schemaMu.Unlock()
	if s, ok := schemaByType[resourceType]; ok {
		return s
	}
	s, err := schemaCompiler.Compile(schemaID + "#/definitions/" + resourceType)
	if err != nil {
		t.Fatalf("compile schema for %s: %v", resourceType, err)
	}
	schemaByType[resourceType] = s
	return s
}

func schemaValidate(t *testing.T, data []byte) error {
	t.Helper()
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("decode instance: %v", err)
	}
	m, _ := inst.(map[string]any)
	rt, _ := m["resourceType"].(string)
	return officialSchema(t, rt).Validate(inst)
}

// TestBuilderOutputMatchesSchema checks every resource the builders and
// NewSessionBundle produce against the official R4 JSON schema.
func TestBuilderOutputMatchesSchema(t *testing.T) {
	for _, r := range sampleResources(t) {
		data, err := Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemaValidate(t, data); err != nil {
			t.Errorf("%s %s fails the R4 JSON schema: %v", r.ResourceType(), resourceIDOf(r), err)
		}
	}
}

// TestSchemaAgreesOnExamples runs the schema over the official examples (all valid)
// and over a broken resource (invalid), so the schema check above can fail.
func TestSchemaAgreesOnExamples(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(fhirData(t, "examples"), "*.json"))
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if err := schemaValidate(t, data); err != nil {
			t.Errorf("%s fails the schema: %v", filepath.Base(f), err)
		}
	}
	bad := []byte(`{"resourceType":"MedicationStatement","status":"taking","subject":{"reference":"Patient/p"},"medicationCodeableConcept":{"text":"x"},"foo":1}`)
	err := schemaValidate(t, bad)
	if err == nil || !strings.Contains(err.Error(), "foo") {
		t.Errorf("the schema accepted an unknown property and a bad status: %v", err)
	}
}
