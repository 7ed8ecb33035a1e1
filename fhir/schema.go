package fhir

import "strings"

// The validation tables in zz_generated_tables.go are literals of the types below; they
// are generated from the R4 StructureDefinitions and ValueSets (see internal/gen).

// typeIndex indexes typeTable.
type typeIndex int16

// noType marks an element of type Resource (dispatched on resourceType) or no profile.
const noType typeIndex = -1

type typeKind uint8

const (
	kindComplex   typeKind = iota // a data type (CodeableConcept, Dosage...)
	kindResource                  // a resource
	kindBackbone                  // an element defined inline (Condition.stage)
	kindProfile                   // a constraint on a data type (SimpleQuantity, Age...)
	kindPrimitive                 // a primitive (string, dateTime...)
)

// primKind names the primitive types; each has a hand-written lexical check in primitive.go.
type primKind uint8

const (
	primNone primKind = iota
	primBase64Binary
	primBoolean
	primCanonical
	primCode
	primDate
	primDateTime
	primDecimal
	primID
	primInstant
	primInteger
	primMarkdown
	primOID
	primPositiveInt
	primString
	primTime
	primUnsignedInt
	primURI
	primURL
	primUUID
	primXhtml
)

type bindingStrength uint8

const (
	bindingNone bindingStrength = iota
	bindingExample
	bindingPreferred
	bindingExtensible
	bindingRequired
)

func (s bindingStrength) String() string {
	return [...]string{"", "example", "preferred", "extensible", "required"}[s]
}

// typeDef is one type: its elements in definition order.
type typeDef struct {
	name       string
	kind       typeKind
	prim       primKind
	regex      string // primitives: the official regex, kept for tests and documentation
	invariants []string
	elems      []elemDef
	props      map[string]prop // JSON property name -> element and type; built by init
}

// prop is what a JSON property name resolves to within a type.
type prop struct {
	elem      int  // index into elems
	typ       int  // index into elems[elem].types
	companion bool // the "_name" object of a primitive
}

// elemDef is one element of a type, as its snapshot ElementDefinition states it.
type elemDef struct {
	name       string // without [x]
	path       string // official path, e.g. "MedicationStatement.effective[x]"
	min        int
	max        int // -1: unbounded
	choice     bool
	attr       bool // an XML attribute in FHIR: element id, Extension.url
	modifier   bool
	strength   bindingStrength
	valueSet   string
	invariants []string
	types      []elemType
}

func (e *elemDef) repeats() bool { return e.max != 0 && e.max != 1 }

// elemType is one allowed type of an element.
type elemType struct {
	code     string    // FHIR type code, or a backbone's path
	jsonName string    // "effectiveDateTime", "status"
	typ      typeIndex // noType for Resource
	profile  typeIndex // a profile to check as well (SimpleQuantity), or noType
	targets  []string  // Reference: allowed target types
}

type codeRef struct {
	system, code string
}

type valueSetDef struct {
	url      string
	name     string
	complete bool // all codes are listed; false when an external code system is needed
	systems  []string
	codes    []codeRef
	index    map[codeRef]struct{} // built by init
	byCode   map[string]string    // code -> system, built by init
}

func (vs *valueSetDef) contains(system, code string) bool {
	_, ok := vs.index[codeRef{system, code}]
	return ok
}

type conceptDef struct {
	code, display string
	designations  []string
}

type codeSystemDef struct {
	url           string
	name          string
	content       string // complete | fragment | example | not-present
	caseSensitive bool
	concepts      []conceptDef
	index         map[string]*conceptDef // built by init
}

func (cs *codeSystemDef) lookup(code string) *conceptDef {
	if !cs.caseSensitive {
		code = strings.ToLower(code)
	}
	return cs.index[code]
}

type invariantDef struct {
	severity, human, expression string
}

type extensionDef struct {
	url        string
	valueMin   int
	valueTypes []string // empty: a complex extension (nested extensions only)
	contexts   []string // "element:Patient.birthDate", "element:Element", "fhirpath:..."
}

var (
	resourceTypeIndex = map[string]typeIndex{}
	valueSetIndex     = map[string]*valueSetDef{}
	codeSystemIndex   = map[string]*codeSystemDef{}
	extensionIndex    = map[string]*extensionDef{}
)

func init() {
	for i := range typeTable {
		t := &typeTable[i]
		if t.kind == kindResource {
			resourceTypeIndex[t.name] = typeIndex(i)
		}
		if t.kind == kindPrimitive {
			continue
		}
		t.props = make(map[string]prop, 2*len(t.elems))
		for ei := range t.elems {
			e := &t.elems[ei]
			for ti := range e.types {
				et := &e.types[ti]
				t.props[et.jsonName] = prop{elem: ei, typ: ti}
				if et.typ >= 0 && typeTable[et.typ].kind == kindPrimitive && !e.attr && et.code != "xhtml" {
					t.props["_"+et.jsonName] = prop{elem: ei, typ: ti, companion: true}
				}
			}
		}
	}
	for i := range valueSetTable {
		vs := &valueSetTable[i]
		vs.index = make(map[codeRef]struct{}, len(vs.codes))
		vs.byCode = make(map[string]string, len(vs.codes))
		for _, c := range vs.codes {
			vs.index[c] = struct{}{}
			vs.byCode[c.code] = c.system
		}
		valueSetIndex[vs.url] = vs
	}
	for i := range codeSystemTable {
		cs := &codeSystemTable[i]
		cs.index = make(map[string]*conceptDef, len(cs.concepts))
		for j := range cs.concepts {
			c := &cs.concepts[j]
			key := c.code
			if !cs.caseSensitive {
				key = strings.ToLower(key)
			}
			cs.index[key] = c
		}
		codeSystemIndex[cs.url] = cs
	}
	for i := range extensionTable {
		extensionIndex[extensionTable[i].url] = &extensionTable[i]
	}
}
