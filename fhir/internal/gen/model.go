package main

import (
	"fmt"
	"sort"
	"strings"
)

const (
	sdPrefix     = "http://hl7.org/fhir/StructureDefinition/"
	extRegex     = "http://hl7.org/fhir/StructureDefinition/regex"
	extFHIRType  = "http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type"
	systemString = "http://hl7.org/fhirpath/System.String"
)

// gType is one Go struct (or alias) and one validation type table entry.
type gType struct {
	FHIRName   string // "Condition", "Condition.stage", "SimpleQuantity", "dateTime"
	GoName     string // "Condition", "ConditionStage", "SimpleQuantity"
	Kind       string // "resource", "complex", "backbone", "profile", "primitive"
	AliasOf    string // for profiles of complex types: the Go type they share (Quantity)
	Doc        string
	Fields     []*gField
	Invariants []string // constraint keys evaluated where a node of this type starts
	Regex      string   // primitives: the official value regex (documentation and tests)
}

// gField is one element of a type (one Go field per choice type, plus primitive companions).
type gField struct {
	Name       string // element name without [x]
	Path       string // official element path, e.g. "MedicationStatement.effective[x]"
	Min        int
	Max        int // -1 means unbounded
	Choice     bool
	Types      []*gFieldType
	Strength   string
	ValueSet   string
	Invariants []string
	Attr       bool // XML attribute in FHIR (element id, Extension.url): no "_name" companion
	Modifier   bool
	Short      string
}

// gFieldType is one allowed type of an element.
type gFieldType struct {
	Code     string // FHIR type code ("dateTime", "CodeableConcept", "Resource") or backbone FHIR name
	JSONName string // property name in JSON: "effectiveDateTime", "status"
	GoName   string // Go field name: "EffectiveDateTime", "Status"
	Profile  string // profile type to validate against (e.g. "SimpleQuantity"), or ""
	Targets  []string
}

type gInvariant struct {
	Key, Severity, Human, Expression string
}

type gExtension struct {
	URL        string
	Name       string
	ValueTypes []string // empty for complex extensions
	ValueMin   int
	Contexts   []string // "element:Patient.birthDate", "element:Element", ...
}

type model struct {
	pkg        *corePackage
	types      map[string]*gType // by FHIR name
	invariants map[string]gInvariant
	bindings   map[string]string // value set URL -> strongest strength seen
	extensions []gExtension
	valueSets  []*gValueSet
	codeSys    []*gCodeSystem
}

// buildModel walks the type closure of the given resources.
func buildModel(pkg *corePackage, roots []string) (*model, error) {
	m := &model{pkg: pkg, types: map[string]*gType{}, invariants: map[string]gInvariant{}, bindings: map[string]string{}}
	queue := append([]string(nil), roots...)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, ok := m.types[name]; ok {
			continue
		}
		sd := pkg.byName(name)
		if sd == nil {
			return nil, fmt.Errorf("no StructureDefinition for %s", name)
		}
		more, err := m.addStructure(sd, name)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		queue = append(queue, more...)
	}
	if err := m.addExtensions(); err != nil {
		return nil, err
	}
	if err := m.expandValueSets(); err != nil {
		return nil, err
	}
	return m, nil
}

var strengthRank = map[string]int{"example": 1, "preferred": 2, "extensible": 3, "required": 4}

// addStructure adds the type defined by sd (and its backbone elements) and returns
// the names of further types it refers to.
func (m *model) addStructure(sd *structureDefinition, name string) ([]string, error) {
	elems := sd.Snapshot.Element
	if len(elems) == 0 {
		return nil, fmt.Errorf("empty snapshot")
	}
	root := elems[0]
	t := &gType{FHIRName: name, GoName: goTypeName(name), Doc: sd.Description}
	switch {
	case sd.Kind == "primitive-type":
		t.Kind = "primitive"
		for _, e := range elems {
			if e.Path == root.Path+".value" && len(e.Type) > 0 {
				for _, x := range e.Type[0].Extension {
					if x.URL == extRegex {
						t.Regex = x.ValueString
					}
				}
			}
		}
		m.types[name] = t
		return nil, nil
	case sd.Kind == "resource":
		t.Kind = "resource"
	case sd.Derivation == "constraint":
		t.Kind = "profile"
		t.AliasOf = sd.Type
	default:
		t.Kind = "complex"
	}
	if err := checkNoFixed(sd); err != nil {
		return nil, err
	}
	m.types[name] = t
	t.Invariants = m.collectInvariants(sd, root, true)

	// Children by parent path, relative to the root path (profiles reuse the base path).
	children := map[string][]elementDefinition{}
	for _, e := range elems[1:] {
		if e.SliceName != "" {
			continue
		}
		parent := e.Path[:strings.LastIndexByte(e.Path, '.')]
		children[parent] = append(children[parent], e)
	}
	var refs []string
	var build func(t *gType, path string) error
	build = func(t *gType, path string) error {
		for _, e := range children[path] {
			f, more, err := m.field(sd, t, e, root.Path, name)
			if err != nil {
				return err
			}
			refs = append(refs, more...)
			t.Fields = append(t.Fields, f)
			for _, ft := range f.Types {
				if strings.Contains(ft.Code, ".") { // backbone
					// A backbone's own constraints are checked on the backbone node.
					f.Invariants = nil
					if _, ok := m.types[ft.Code]; ok || e.ContentReference != "" {
						continue
					}
					bt := &gType{FHIRName: ft.Code, GoName: goTypeName(ft.Code), Kind: "backbone", Doc: e.Short}
					bt.Invariants = m.collectInvariants(sd, e, false)
					m.types[ft.Code] = bt
					if err := build(bt, e.Path); err != nil {
						return err
					}
				}
			}
		}
		return nil
	}
	if err := build(t, root.Path); err != nil {
		return nil, err
	}
	return refs, nil
}

// field converts one snapshot element into a gField.
func (m *model) field(sd *structureDefinition, owner *gType, e elementDefinition, rootPath, rootName string) (*gField, []string, error) {
	name := e.Path[strings.LastIndexByte(e.Path, '.')+1:]
	f := &gField{
		Path:     rootName + strings.TrimPrefix(e.Path, rootPath),
		Min:      e.Min,
		Modifier: e.IsModifier,
		Short:    e.Short,
	}
	if strings.HasSuffix(name, "[x]") {
		f.Choice = true
		name = strings.TrimSuffix(name, "[x]")
	}
	f.Name = name
	switch e.Max {
	case "*":
		f.Max = -1
	default:
		if _, err := fmt.Sscanf(e.Max, "%d", &f.Max); err != nil {
			return nil, nil, fmt.Errorf("%s: bad max %q", e.Path, e.Max)
		}
	}
	for _, r := range e.Representation {
		if r == "xmlAttr" {
			f.Attr = true
		}
	}
	if e.Binding != nil && e.Binding.ValueSet != "" {
		f.Strength = e.Binding.Strength
		f.ValueSet = strings.SplitN(e.Binding.ValueSet, "|", 2)[0]
		if strengthRank[f.Strength] > strengthRank[m.bindings[f.ValueSet]] {
			m.bindings[f.ValueSet] = f.Strength
		}
	}
	f.Invariants = m.collectInvariants(sd, e, false)
	var refs []string
	if e.ContentReference != "" {
		target := rootName + strings.TrimPrefix(strings.TrimPrefix(e.ContentReference, "#"), rootPath)
		f.Types = []*gFieldType{{Code: target, JSONName: name, GoName: goFieldName(name)}}
		return f, nil, nil
	}
	for _, ty := range e.Type {
		code := ty.Code
		if code == systemString || strings.HasPrefix(code, "http://hl7.org/fhirpath/System.") {
			code = ""
			for _, x := range ty.Extension {
				if x.URL == extFHIRType {
					code = x.ValueURL
				}
			}
			if code == "" {
				return nil, nil, fmt.Errorf("%s: system type without fhir-type", e.Path)
			}
			// R4 snapshots type Resource.id as string; the specification (and HL7's
			// validator) treat it as an id, which limits it to 64 characters.
			if owner.Kind == "resource" && e.Path == rootPath+".id" {
				code = "id"
			}
		}
		ft := &gFieldType{Code: code}
		switch code {
		case "Element", "BackboneElement":
			ft.Code = f.Path
			if f.Choice {
				return nil, nil, fmt.Errorf("%s: backbone choice", e.Path)
			}
		case "Resource":
		default:
			if m.pkg.byName(code) == nil {
				return nil, nil, fmt.Errorf("%s: unknown type %s", e.Path, code)
			}
			refs = append(refs, code)
		}
		for _, p := range ty.Profile {
			if !strings.HasPrefix(p, sdPrefix) {
				return nil, nil, fmt.Errorf("%s: non-core profile %s", e.Path, p)
			}
			ft.Profile = strings.TrimPrefix(p, sdPrefix)
			refs = append(refs, ft.Profile)
		}
		for _, tp := range ty.TargetProfile {
			ft.Targets = append(ft.Targets, strings.TrimPrefix(tp, sdPrefix))
		}
		if f.Choice {
			ft.JSONName = name + upperFirst(code)
		} else {
			ft.JSONName = name
		}
		ft.GoName = goFieldName(ft.JSONName)
		f.Types = append(f.Types, ft)
	}
	if len(f.Types) == 0 {
		return nil, nil, fmt.Errorf("%s: no type", e.Path)
	}
	return f, refs, nil
}

// collectInvariants records the constraints declared on e and returns their keys.
// On a type's root every constraint but ele-1 is kept (the validator checks ele-1 on
// every node itself); on other elements only those declared by this definition, since
// constraints inherited from the element's type are checked at that type's root.
func (m *model) collectInvariants(sd *structureDefinition, e elementDefinition, isRoot bool) []string {
	var keys []string
	for _, c := range e.Constraint {
		if _, ok := m.invariants[c.Key]; !ok {
			m.invariants[c.Key] = gInvariant{Key: c.Key, Severity: c.Severity, Human: c.Human, Expression: c.Expression}
		}
		if c.Key == "ele-1" {
			continue
		}
		if !isRoot && c.Source != "" && c.Source != sd.URL {
			continue
		}
		keys = append(keys, c.Key)
	}
	sort.Strings(keys)
	return keys
}

// checkNoFixed refuses fixed[x]/pattern[x] values on generated types: the generated
// tables do not carry them, so a definition that had them would be validated too loosely.
func checkNoFixed(sd *structureDefinition) error {
	for _, e := range sd.Snapshot.Element {
		for k := range e.Raw {
			if strings.HasPrefix(k, "fixed") || strings.HasPrefix(k, "pattern") {
				return fmt.Errorf("%s: %s is not supported by the generator", e.Path, k)
			}
		}
	}
	return nil
}

// addExtensions records every core extension definition: its value types and contexts.
func (m *model) addExtensions() error {
	for _, sd := range m.pkg.structures {
		if sd.Type != "Extension" || sd.Derivation != "constraint" {
			continue
		}
		x := gExtension{URL: sd.URL, Name: sd.Name}
		for _, c := range sd.Context {
			x.Contexts = append(x.Contexts, c.Type+":"+c.Expression)
		}
		rootPath := sd.Snapshot.Element[0].Path
		for _, e := range sd.Snapshot.Element {
			if e.Path == rootPath+".value[x]" && e.SliceName == "" && e.Max != "0" {
				x.ValueMin = e.Min
				for _, ty := range e.Type {
					x.ValueTypes = append(x.ValueTypes, ty.Code)
				}
			}
		}
		m.extensions = append(m.extensions, x)
	}
	sort.Slice(m.extensions, func(i, j int) bool { return m.extensions[i].URL < m.extensions[j].URL })
	return nil
}

// sortedTypes returns the types in a stable order: resources, then data types, then
// primitives, each by name.
func (m *model) sortedTypes() []*gType {
	var out []*gType
	for _, t := range m.types {
		out = append(out, t)
	}
	rank := map[string]int{"resource": 0, "backbone": 0, "complex": 1, "profile": 1, "primitive": 2}
	sort.Slice(out, func(i, j int) bool {
		a, b := out[i], out[j]
		if rank[a.Kind] != rank[b.Kind] {
			return rank[a.Kind] < rank[b.Kind]
		}
		return a.FHIRName < b.FHIRName
	})
	return out
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// initialisms are the camel-case words written in capitals in Go names.
var initialisms = map[string]string{"Id": "ID", "Url": "URL", "Uri": "URI", "Uuid": "UUID", "Oid": "OID"}

// goFieldName turns a FHIR element name into an exported Go name, with Go initialisms:
// "fullUrl" -> "FullURL", "valueUuid" -> "ValueUUID", "id" -> "ID".
func goFieldName(s string) string {
	s = upperFirst(s)
	var b strings.Builder
	start := 0
	for i := 1; i <= len(s); i++ {
		if i == len(s) || (s[i] >= 'A' && s[i] <= 'Z') {
			w := s[start:i]
			if r, ok := initialisms[w]; ok {
				w = r
			}
			b.WriteString(w)
			start = i
		}
	}
	return b.String()
}

// goTypeName turns a FHIR type or backbone path into a Go type name:
// "Bundle.entry.request" -> "BundleEntryRequest".
func goTypeName(path string) string {
	var b strings.Builder
	for _, part := range strings.Split(path, ".") {
		b.WriteString(goFieldName(part))
	}
	return b.String()
}
