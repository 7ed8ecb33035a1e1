package main

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestGeneratedFilesUpToDate fails when the committed tables differ from what the
// generator writes from the shared core package.
func TestGeneratedFilesUpToDate(t *testing.T) {
	core, err := findCorePackage()
	if errors.Is(err, errNoSharedData) {
		t.Skipf("skipping: %v", err)
	}
	if err != nil {
		t.Fatal(err)
	}
	files, err := generate(core)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range files {
		got, err := os.ReadFile(filepath.Join("..", "..", name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, want) {
			t.Errorf("%s is out of date: run go generate ./fhir/...", name)
		}
	}
}

func TestGoNames(t *testing.T) {
	for in, want := range map[string]string{
		"id": "ID", "fullUrl": "FullURL", "valueUuid": "ValueUUID", "identifier": "Identifier",
		"versionId": "VersionID", "valueOid": "ValueOID", "Bundle.entry.request": "BundleEntryRequest",
	} {
		got := goFieldName(in)
		if in == "Bundle.entry.request" {
			got = goTypeName(in)
		}
		if got != want {
			t.Errorf("%s -> %s, want %s", in, got, want)
		}
	}
}
