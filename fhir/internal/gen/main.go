// Command gen writes the fhir package's generated Go types and validation tables from
// the official FHIR R4 core package (hl7.fhir.r4.core 4.0.1).
//
// It is run by `go generate ./fhir/...`:
//
//	go run ./internal/gen            (from fhir/)
//
// The core package is found at $MEDSCRIBE_SHARED/data/fhir-r4/hl7.fhir.r4.core-4.0.1.tgz,
// or else at ../shared/data/fhir-r4/ next to the repository root (the directory holding
// go.mod); -core names it explicitly.
package main

import (
	"bytes"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

// roots are the resources the package models. Every data type, backbone element and
// profile they use is generated with them.
var roots = []string{
	"AllergyIntolerance", "Bundle", "Condition", "Device", "Encounter", "FamilyMemberHistory",
	"Medication", "MedicationRequest", "MedicationStatement", "OperationOutcome",
	"Organization", "Patient", "Practitioner", "Provenance", "Substance",
	// Element is the type of primitive extensions ("_birthDate").
	"Element",
}

// extraCodeSystems are core code systems the builders use outside any binding of the
// generated types; listing them lets the validator check their codes offline.
var extraCodeSystems = []string{
	"http://terminology.hl7.org/CodeSystem/v3-RoleCode",
	"http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration",
	"http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm",
}

// Output file names, relative to the fhir package directory.
const (
	typesFile  = "zz_generated_types.go"
	tablesFile = "zz_generated_tables.go"
)

func main() {
	core := flag.String("core", "", "path to hl7.fhir.r4.core-4.0.1.tgz (default: found via MEDSCRIBE_SHARED or ../shared)")
	out := flag.String("out", ".", "directory of the fhir package")
	check := flag.Bool("check", false, "compare with the files in -out instead of writing them; exit 1 on a difference")
	flag.Parse()
	if err := run(*core, *out, *check); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run(core, out string, check bool) error {
	if core == "" {
		var err error
		if core, err = findCorePackage(); err != nil {
			return err
		}
	}
	files, err := generate(core)
	if err != nil {
		return err
	}
	for name, data := range files {
		p := filepath.Join(out, name)
		if check {
			old, err := os.ReadFile(p)
			if err != nil {
				return fmt.Errorf("check %s: %w", p, err)
			}
			if !bytes.Equal(old, data) {
				return fmt.Errorf("%s differs from the generator output (run go generate ./fhir/...)", p)
			}
			continue
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("write %s: %w", p, err)
		}
	}
	return nil
}

// generate returns the generated files by name.
func generate(core string) (map[string][]byte, error) {
	pkg, err := loadCorePackage(core)
	if err != nil {
		return nil, err
	}
	m, err := buildModel(pkg, roots)
	if err != nil {
		return nil, fmt.Errorf("build model: %w", err)
	}
	types, err := m.emitTypes()
	if err != nil {
		return nil, err
	}
	tables, err := m.emitTables()
	if err != nil {
		return nil, err
	}
	return map[string][]byte{typesFile: types, tablesFile: tables}, nil
}

// errNoSharedData reports that the core package could not be found.
var errNoSharedData = errors.New("FHIR R4 core package not found (set MEDSCRIBE_SHARED or use -core)")

// findCorePackage locates the core package as the repository's tests do.
func findCorePackage() (string, error) {
	const rel = "data/fhir-r4/hl7.fhir.r4.core-4.0.1.tgz"
	if dir := os.Getenv("MEDSCRIBE_SHARED"); dir != "" {
		p := filepath.Join(dir, rel)
		if _, err := os.Stat(p); err != nil {
			return "", fmt.Errorf("%w: %v", errNoSharedData, err)
		}
		return p, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, "..", "shared", rel)
			if _, err := os.Stat(p); err != nil {
				return "", fmt.Errorf("%w: %v", errNoSharedData, err)
			}
			return p, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("%w: no go.mod above the working directory", errNoSharedData)
		}
		dir = parent
	}
}
