package fhir

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
)

// fhirXMLToJSON converts a FHIR XML instance to FHIR JSON so that the official validator
// cases written in XML can run. It is a test helper, not part of the package: medscribe
// reads and writes JSON only. The element tables say which elements repeat and which
// primitives are numbers or booleans, exactly as the JSON format needs.
func fhirXMLToJSON(data []byte) ([]byte, error) {
	root, err := readXML(data)
	if err != nil {
		return nil, err
	}
	var b bytes.Buffer
	if err := xmlResource(&b, root); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

type xelem struct {
	name     string
	attrs    map[string]string
	children []*xelem
	raw      string // the element's own XML, for the XHTML div
}

func readXML(data []byte) (*xelem, error) {
	d := xml.NewDecoder(bytes.NewReader(data))
	var stack []*xelem
	var root *xelem
	for {
		before := d.InputOffset()
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if t.Name.Local == "div" && t.Name.Space == xhtmlNS {
				if err := d.Skip(); err != nil {
					return nil, err
				}
				div := &xelem{name: "div", raw: string(data[before:d.InputOffset()])}
				stack[len(stack)-1].children = append(stack[len(stack)-1].children, div)
				continue
			}
			e := &xelem{name: t.Name.Local, attrs: map[string]string{}}
			for _, a := range t.Attr {
				e.attrs[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				stack[len(stack)-1].children = append(stack[len(stack)-1].children, e)
			} else {
				root = e
			}
			stack = append(stack, e)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		}
	}
	if root == nil {
		return nil, errors.New("no root element")
	}
	return root, nil
}

func xmlResource(b *bytes.Buffer, e *xelem) error {
	ti, ok := resourceTypeIndex[e.name]
	if !ok {
		return fmt.Errorf("resource type %s is not modelled", e.name)
	}
	b.WriteString(`{"resourceType":`)
	writeJSONString(b, e.name)
	return xmlObject(b, e, &typeTable[ti], true)
}

func writeJSONString(b *bytes.Buffer, s string) {
	out, _ := json.Marshal(s)
	b.Write(out)
}

// xmlObject writes the members of e (the opening brace is already written when
// continued is true).
func xmlObject(b *bytes.Buffer, e *xelem, t *typeDef, continued bool) error {
	if !continued {
		b.WriteByte('{')
	}
	first := !continued
	member := func(name string) {
		if !first {
			b.WriteByte(',')
		}
		first = false
		writeJSONString(b, name)
		b.WriteByte(':')
	}
	// Element ids and extension urls are XML attributes.
	for _, a := range []string{"id", "url"} {
		if v, ok := e.attrs[a]; ok {
			if _, known := t.props[a]; known {
				member(a)
				writeJSONString(b, v)
			}
		}
	}
	var order []string
	groups := map[string][]*xelem{}
	for _, c := range e.children {
		if _, seen := groups[c.name]; !seen {
			order = append(order, c.name)
		}
		groups[c.name] = append(groups[c.name], c)
	}
	for _, name := range order {
		kids := groups[name]
		p, ok := t.props[name]
		if !ok {
			member(name)
			b.WriteString(`"unknown element"`)
			continue
		}
		el := &t.elems[p.elem]
		et := &el.types[p.typ]
		many := el.repeats() || len(kids) > 1
		switch {
		case et.typ == noType:
			member(name)
			if many {
				b.WriteByte('[')
			}
			for i, k := range kids {
				if i > 0 {
					b.WriteByte(',')
				}
				if len(k.children) != 1 {
					return fmt.Errorf("%s must hold one resource", name)
				}
				if err := xmlResource(b, k.children[0]); err != nil {
					return err
				}
			}
			if many {
				b.WriteByte(']')
			}
		case typeTable[et.typ].kind == kindPrimitive:
			if err := xmlPrimitive(b, member, name, kids, &typeTable[et.typ], many); err != nil {
				return err
			}
		default:
			member(name)
			if many {
				b.WriteByte('[')
			}
			for i, k := range kids {
				if i > 0 {
					b.WriteByte(',')
				}
				if err := xmlObject(b, k, &typeTable[et.typ], false); err != nil {
					return err
				}
			}
			if many {
				b.WriteByte(']')
			}
		}
	}
	b.WriteByte('}')
	return nil
}

// xmlPrimitive writes the value attributes of a primitive element as name, and its ids
// and extensions as _name, aligned by position.
func xmlPrimitive(b *bytes.Buffer, member func(string), name string, kids []*xelem, t *typeDef, many bool) error {
	hasVal, hasExt := false, false
	for _, k := range kids {
		if _, ok := k.attrs["value"]; ok || k.raw != "" {
			hasVal = true
		}
		if _, ok := k.attrs["id"]; ok || len(k.children) > 0 {
			hasExt = true
		}
	}
	if hasVal {
		member(name)
		if many {
			b.WriteByte('[')
		}
		for i, k := range kids {
			if i > 0 {
				b.WriteByte(',')
			}
			v, ok := k.attrs["value"]
			switch {
			case k.raw != "":
				writeJSONString(b, k.raw)
			case !ok:
				b.WriteString("null")
			case t.prim == primBoolean && (v == "true" || v == "false"):
				b.WriteString(v)
			case (t.prim == primInteger || t.prim == primDecimal || t.prim == primPositiveInt || t.prim == primUnsignedInt) && validDecimal(v):
				b.WriteString(v)
			default:
				writeJSONString(b, v)
			}
		}
		if many {
			b.WriteByte(']')
		}
	}
	if hasExt {
		member("_" + name)
		if many {
			b.WriteByte('[')
		}
		for i, k := range kids {
			if i > 0 {
				b.WriteByte(',')
			}
			_, hasID := k.attrs["id"]
			if !hasID && len(k.children) == 0 {
				b.WriteString("null")
				continue
			}
			ext := &xelem{attrs: map[string]string{}, children: k.children}
			if id, ok := k.attrs["id"]; ok {
				ext.attrs["id"] = id
			}
			if err := xmlObject(b, ext, &typeTable[tElement], false); err != nil {
				return err
			}
		}
		if many {
			b.WriteByte(']')
		}
	}
	return nil
}

func TestFHIRXMLToJSON(t *testing.T) {
	t.Parallel()
	in := `<Patient xmlns="http://hl7.org/fhir"><id value="p1"/><text><status value="generated"/>` +
		`<div xmlns="http://www.w3.org/1999/xhtml">Ann &amp; Bo</div></text>` +
		`<active value="true"/><name><given value="Ann"/><given><extension url="http://hl7.org/fhir/StructureDefinition/data-absent-reason">` +
		`<valueCode value="unknown"/></extension></given></name><multipleBirthInteger value="2"/></Patient>`
	got, err := fhirXMLToJSON([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	want := `{"resourceType":"Patient","id":"p1","text":{"status":"generated","div":"\u003cdiv xmlns=\"http://www.w3.org/1999/xhtml\"\u003eAnn \u0026amp; Bo\u003c/div\u003e"},` +
		`"active":true,"name":[{"given":["Ann",null],"_given":[null,{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}]}],"multipleBirthInteger":2}`
	if diff := jsonDiff(got, []byte(want)); diff != "" {
		t.Errorf("%s\ngot  %s", diff, got)
	}
	if oo := ValidateJSON(got, nil); oo.HasErrors() {
		t.Errorf("converted XML does not validate: %+v", oo.Issue)
	}
	if _, err := fhirXMLToJSON([]byte(`<Observation xmlns="http://hl7.org/fhir"/>`)); err == nil || !strings.Contains(err.Error(), "not modelled") {
		t.Errorf("err = %v", err)
	}
}
