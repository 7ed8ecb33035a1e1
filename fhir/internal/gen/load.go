package main

import (
	"archive/tar"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"strings"
)

// structureDefinition holds the parts of an R4 StructureDefinition the generator reads.
type structureDefinition struct {
	URL            string `json:"url"`
	Name           string `json:"name"`
	Type           string `json:"type"`
	Kind           string `json:"kind"`
	Abstract       bool   `json:"abstract"`
	Derivation     string `json:"derivation"`
	BaseDefinition string `json:"baseDefinition"`
	Description    string `json:"description"`
	Context        []struct {
		Type       string `json:"type"`
		Expression string `json:"expression"`
	} `json:"context"`
	Snapshot struct {
		Element []elementDefinition `json:"element"`
	} `json:"snapshot"`
}

// elementDefinition holds the parts of an ElementDefinition the generator reads.
type elementDefinition struct {
	ID               string   `json:"id"`
	Path             string   `json:"path"`
	SliceName        string   `json:"sliceName"`
	Short            string   `json:"short"`
	Min              int      `json:"min"`
	Max              string   `json:"max"`
	ContentReference string   `json:"contentReference"`
	IsModifier       bool     `json:"isModifier"`
	Representation   []string `json:"representation"`
	MaxLength        int      `json:"maxLength"`
	Type             []struct {
		Code          string      `json:"code"`
		Profile       []string    `json:"profile"`
		TargetProfile []string    `json:"targetProfile"`
		Extension     []extension `json:"extension"`
	} `json:"type"`
	Binding *struct {
		Strength string `json:"strength"`
		ValueSet string `json:"valueSet"`
	} `json:"binding"`
	Constraint []struct {
		Key        string `json:"key"`
		Severity   string `json:"severity"`
		Human      string `json:"human"`
		Expression string `json:"expression"`
		Source     string `json:"source"`
	} `json:"constraint"`
	// Fixed and pattern values are not modelled: the generator refuses definitions that use
	// them on generated types (see checkNoFixed), so nothing is silently dropped.
	Raw map[string]json.RawMessage `json:"-"`
}

type extension struct {
	URL         string `json:"url"`
	ValueURL    string `json:"valueUrl"`
	ValueString string `json:"valueString"`
}

// valueSet holds the compose part of an R4 ValueSet.
type valueSet struct {
	URL     string `json:"url"`
	Name    string `json:"name"`
	Title   string `json:"title"`
	Compose struct {
		Include []vsInclude `json:"include"`
		Exclude []vsInclude `json:"exclude"`
	} `json:"compose"`
}

type vsInclude struct {
	System   string   `json:"system"`
	ValueSet []string `json:"valueSet"`
	Concept  []struct {
		Code    string `json:"code"`
		Display string `json:"display"`
	} `json:"concept"`
	Filter []struct {
		Property string `json:"property"`
		Op       string `json:"op"`
		Value    string `json:"value"`
	} `json:"filter"`
}

// codeSystem holds the concepts of an R4 CodeSystem.
type codeSystem struct {
	URL           string    `json:"url"`
	Name          string    `json:"name"`
	Content       string    `json:"content"`
	CaseSensitive *bool     `json:"caseSensitive"`
	Concept       []concept `json:"concept"`
}

type concept struct {
	Code        string `json:"code"`
	Display     string `json:"display"`
	Designation []struct {
		Language string `json:"language"`
		Value    string `json:"value"`
	} `json:"designation"`
	Property []struct {
		Code         string `json:"code"`
		ValueCode    string `json:"valueCode"`
		ValueBoolean *bool  `json:"valueBoolean"`
	} `json:"property"`
	Concept []concept `json:"concept"`
}

// corePackage is the content of hl7.fhir.r4.core that the generator needs, keyed by canonical URL.
type corePackage struct {
	structures  map[string]*structureDefinition // by URL
	valueSets   map[string]*valueSet
	codeSystems map[string]*codeSystem
}

// loadCorePackage reads StructureDefinitions, ValueSets and CodeSystems from the
// official package tarball (package/<Type>-<id>.json).
func loadCorePackage(tgz string) (*corePackage, error) {
	f, err := os.Open(tgz)
	if err != nil {
		return nil, fmt.Errorf("open core package: %w", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return nil, fmt.Errorf("read core package %s: %w", tgz, err)
	}
	pkg := &corePackage{
		structures:  map[string]*structureDefinition{},
		valueSets:   map[string]*valueSet{},
		codeSystems: map[string]*codeSystem{},
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("read core package %s: %w", tgz, err)
		}
		name := path.Base(h.Name)
		var target any
		switch {
		case strings.HasPrefix(name, "StructureDefinition-"):
			target = &structureDefinition{}
		case strings.HasPrefix(name, "ValueSet-"):
			target = &valueSet{}
		case strings.HasPrefix(name, "CodeSystem-"):
			target = &codeSystem{}
		default:
			continue
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			return nil, fmt.Errorf("read %s: %w", name, err)
		}
		if err := json.Unmarshal(data, target); err != nil {
			return nil, fmt.Errorf("decode %s: %w", name, err)
		}
		switch t := target.(type) {
		case *structureDefinition:
			if err := attachRawElements(data, t); err != nil {
				return nil, fmt.Errorf("decode %s: %w", name, err)
			}
			pkg.structures[t.URL] = t
		case *valueSet:
			pkg.valueSets[t.URL] = t
		case *codeSystem:
			pkg.codeSystems[t.URL] = t
		}
	}
	if len(pkg.structures) == 0 {
		return nil, fmt.Errorf("read core package %s: no StructureDefinitions found", tgz)
	}
	return pkg, nil
}

// attachRawElements keeps each snapshot element's raw keys so checkNoFixed can see
// fixed[x]/pattern[x] values without modelling all of their types.
func attachRawElements(data []byte, sd *structureDefinition) error {
	var raw struct {
		Snapshot struct {
			Element []map[string]json.RawMessage `json:"element"`
		} `json:"snapshot"`
	}
	if err := json.Unmarshal(data, &raw); err != nil {
		return err
	}
	for i := range sd.Snapshot.Element {
		sd.Snapshot.Element[i].Raw = raw.Snapshot.Element[i]
	}
	return nil
}

// byName returns the base (non-profile) StructureDefinition of a type or resource name.
func (p *corePackage) byName(name string) *structureDefinition {
	return p.structures["http://hl7.org/fhir/StructureDefinition/"+name]
}
