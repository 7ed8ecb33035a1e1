package fhir

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
)

// ParseError reports why JSON could not be read as FHIR: a JSON syntax error, or the
// structural problems found (unknown elements, wrong JSON types, nulls, empty objects,
// arrays and strings, a single value where an array is required or the reverse).
type ParseError struct {
	// Issues lists every problem, in document order.
	Issues []ParseIssue
}

// ParseIssue is one problem, located by a FHIRPath expression (empty for a syntax error)
// and, for syntax errors, a byte offset.
type ParseIssue struct {
	Path    string
	Offset  int
	Message string
}

func (e *ParseError) Error() string {
	if len(e.Issues) == 0 {
		return "fhir parse: no issues"
	}
	first := e.Issues[0]
	var b strings.Builder
	b.WriteString("fhir parse: ")
	if first.Path != "" {
		b.WriteString(first.Path)
		b.WriteString(": ")
	} else {
		b.WriteString("offset ")
		b.WriteString(strconv.Itoa(first.Offset))
		b.WriteString(": ")
	}
	b.WriteString(first.Message)
	if len(e.Issues) > 1 {
		fmt.Fprintf(&b, " (and %d more)", len(e.Issues)-1)
	}
	return b.String()
}

// Parse reads one FHIR resource strictly. Resource types the package does not model
// come back as *RawResource. Errors are *ParseError.
func Parse(data []byte) (Resource, error) {
	root, release, err := parseStrict(data, func(w *walker, n *jnode) { w.topResource(n) })
	defer release()
	if err != nil {
		return nil, err
	}
	rt := root.get("resourceType")
	r, err := decodeResource(&root, data, rt.str)
	if err != nil {
		return nil, &ParseError{Issues: []ParseIssue{{Path: rt.str, Message: err.Error()}}}
	}
	return r, nil
}

// parseStrict parses JSON and runs the structural walk; any problem is a *ParseError.
// The tree is valid until release is called (its strings are copies of data's).
func parseStrict(data []byte, walk func(*walker, *jnode)) (jnode, func(), error) {
	root, release, err := parseTemp(data, false)
	if err != nil {
		off := 0
		if se, ok := err.(*syntaxError); ok {
			off = se.off
		}
		return jnode{}, release, &ParseError{Issues: []ParseIssue{{Offset: off, Message: "invalid JSON: " + err.Error()}}}
	}
	w := walker{}
	walk(&w, &root)
	if len(w.issues) > 0 {
		pe := &ParseError{}
		for _, is := range w.issues {
			pi := ParseIssue{Message: is.Details.Text}
			if len(is.Expression) > 0 {
				pi.Path = is.Expression[0]
			}
			pe.Issues = append(pe.Issues, pi)
		}
		return jnode{}, release, pe
	}
	return root, release, nil
}

// parseAs reads a resource that must be of r's type.
func parseAs(data []byte, r Resource) error {
	want := r.ResourceType()
	root, release, err := parseStrict(data, func(w *walker, n *jnode) {
		if n.kind == nodeObject {
			if rt := n.get("resourceType"); rt != nil && rt.kind == nodeString && rt.str != want {
				w.path = append(w.path[:0], want...)
				w.errorf(IssueStructure, "resourceType is '%s', expected '%s'", rt.str, want)
				return
			}
		}
		w.topResource(n)
	})
	defer release()
	if err != nil {
		return err
	}
	if err := decodeObject(&root, reflect.ValueOf(r).Elem(), data, want, true); err != nil {
		return &ParseError{Issues: []ParseIssue{{Path: want, Message: err.Error()}}}
	}
	return nil
}

// ParseMedicationStatement reads a MedicationStatement strictly.
func ParseMedicationStatement(data []byte) (*MedicationStatement, error) {
	r := &MedicationStatement{}
	return r, parseAs(data, r)
}

// ParseCondition reads a Condition strictly.
func ParseCondition(data []byte) (*Condition, error) {
	r := &Condition{}
	return r, parseAs(data, r)
}

// ParseFamilyMemberHistory reads a FamilyMemberHistory strictly.
func ParseFamilyMemberHistory(data []byte) (*FamilyMemberHistory, error) {
	r := &FamilyMemberHistory{}
	return r, parseAs(data, r)
}

// ParseAllergyIntolerance reads an AllergyIntolerance strictly.
func ParseAllergyIntolerance(data []byte) (*AllergyIntolerance, error) {
	r := &AllergyIntolerance{}
	return r, parseAs(data, r)
}

// ParseProvenance reads a Provenance strictly.
func ParseProvenance(data []byte) (*Provenance, error) {
	r := &Provenance{}
	return r, parseAs(data, r)
}

// ParseBundle reads a Bundle strictly, its entries' resources included.
func ParseBundle(data []byte) (*Bundle, error) {
	r := &Bundle{}
	return r, parseAs(data, r)
}

// ParseOperationOutcome reads an OperationOutcome strictly.
func ParseOperationOutcome(data []byte) (*OperationOutcome, error) {
	r := &OperationOutcome{}
	return r, parseAs(data, r)
}

// ParsePatient reads a Patient strictly.
func ParsePatient(data []byte) (*Patient, error) {
	r := &Patient{}
	return r, parseAs(data, r)
}

// unmarshalResource reads JSON into a generated resource (json.Unmarshal support).
func unmarshalResource(data []byte, r Resource) error { return parseAs(data, r) }

// unmarshalValue reads JSON into a generated data type (json.Unmarshal support).
func unmarshalValue(data []byte, t typeIndex, v any) error {
	name := typeTable[t].name
	root, release, err := parseStrict(data, func(w *walker, n *jnode) {
		w.path = append(w.path[:0], name...)
		if n.kind != nodeObject {
			w.errorf(IssueStructure, "A %s must be a JSON object, not %s", name, kindName(n))
			return
		}
		if len(n.fields) == 0 {
			w.errorf(IssueStructure, "Object must have some content")
			return
		}
		w.object(n, t, false)
	})
	defer release()
	if err != nil {
		return err
	}
	if err := decodeObject(&root, reflect.ValueOf(v).Elem(), data, name, false); err != nil {
		return &ParseError{Issues: []ParseIssue{{Path: name, Message: err.Error()}}}
	}
	return nil
}
