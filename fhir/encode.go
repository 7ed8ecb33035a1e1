package fhir

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"
)

// The encoder writes the generated structs as FHIR JSON. It walks them by reflection
// (one cached plan per struct type) instead of using encoding/json so that the output
// follows FHIR rules by construction: resourceType first, no null, no empty string,
// object or array, and primitive arrays aligned with their "_name" companions.

type fieldKind uint8

const (
	fkString fieldKind = iota
	fkDecimal
	fkBool
	fkInt
	fkStruct        // *T
	fkStructSlice   // []T
	fkStringSlice   // []string
	fkResource      // Resource
	fkResourceSlice // []Resource
	fkElement       // *Element companion of a single primitive
	fkElementSlice  // []*Element companion of a primitive array
)

type fieldPlan struct {
	name      string
	index     int
	kind      fieldKind
	companion int // for fkStringSlice: index of its []*Element companion, or -1
	paired    bool
	elemType  reflect.Type // struct type for fkStruct / fkStructSlice
	// sub caches planFor(elemType); types are recursive, so it is filled on first use.
	sub atomic.Pointer[structPlan]
}

func (f *fieldPlan) plan() *structPlan {
	if p := f.sub.Load(); p != nil {
		return p
	}
	p := planFor(f.elemType)
	f.sub.Store(p)
	return p
}

type structPlan struct {
	fields []*fieldPlan
	byName map[string]int // JSON name -> index in fields
}

var (
	planCache     sync.Map // reflect.Type -> *structPlan
	resourceIface = reflect.TypeFor[Resource]()
	decimalType   = reflect.TypeFor[Decimal]()
	elementPtr    = reflect.TypeFor[*Element]()
)

func planFor(t reflect.Type) *structPlan {
	if p, ok := planCache.Load(t); ok {
		return p.(*structPlan)
	}
	p := &structPlan{byName: map[string]int{}}
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		tag := sf.Tag.Get("json")
		name, _, _ := strings.Cut(tag, ",")
		if name == "" || name == "-" || !sf.IsExported() {
			continue
		}
		fp := &fieldPlan{name: name, index: i, companion: -1}
		ft := sf.Type
		switch {
		case ft == decimalType:
			fp.kind = fkDecimal
		case ft.Kind() == reflect.String:
			fp.kind = fkString
		case ft == elementPtr:
			fp.kind = fkElement
			fp.elemType = ft.Elem()
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Bool:
			fp.kind = fkBool
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Int:
			fp.kind = fkInt
		case ft.Kind() == reflect.Pointer && ft.Elem().Kind() == reflect.Struct:
			fp.kind = fkStruct
			fp.elemType = ft.Elem()
		case ft == resourceIface:
			fp.kind = fkResource
		case ft.Kind() == reflect.Slice && ft.Elem() == resourceIface:
			fp.kind = fkResourceSlice
		case ft.Kind() == reflect.Slice && ft.Elem() == elementPtr:
			fp.kind = fkElementSlice
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.String:
			fp.kind = fkStringSlice
		case ft.Kind() == reflect.Slice && ft.Elem().Kind() == reflect.Struct:
			fp.kind = fkStructSlice
			fp.elemType = ft.Elem()
		default:
			panic(fmt.Sprintf("fhir: unsupported field %s.%s of type %s", t.Name(), sf.Name, ft))
		}
		p.byName[name] = len(p.fields)
		p.fields = append(p.fields, fp)
	}
	// Pair primitive arrays with their companions: both are written together so their
	// positions stay aligned.
	for i := range p.fields {
		if p.fields[i].kind == fkStringSlice {
			if c, ok := p.byName["_"+p.fields[i].name]; ok {
				p.fields[i].companion = c
				p.fields[c].paired = true
			}
		}
	}
	actual, _ := planCache.LoadOrStore(t, p)
	return actual.(*structPlan)
}

// Marshal writes a resource as compact FHIR JSON.
func Marshal(r Resource) ([]byte, error) {
	e := encoder{buf: make([]byte, 0, 1024)}
	if err := e.resource(r); err != nil {
		return nil, fmt.Errorf("marshal %s: %w", resourceTypeOf(r), err)
	}
	return e.buf, nil
}

// MarshalIndent is Marshal with indentation, for files people read.
func MarshalIndent(r Resource, prefix, indent string) ([]byte, error) {
	b, err := Marshal(r)
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, prefix, indent); err != nil {
		return nil, fmt.Errorf("marshal %s: %w", resourceTypeOf(r), err)
	}
	return out.Bytes(), nil
}

func resourceTypeOf(r Resource) string {
	if r == nil || reflect.ValueOf(r).IsNil() {
		return "nil resource"
	}
	return r.ResourceType()
}

// marshalValue writes a data type or backbone element (a pointer to a struct).
func marshalValue(v any) ([]byte, error) {
	var e encoder
	rv := reflect.ValueOf(v).Elem()
	if _, err := e.object(rv, ""); err != nil {
		return nil, fmt.Errorf("marshal %s: %w", rv.Type().Name(), err)
	}
	return e.buf, nil
}

type encoder struct {
	buf []byte
}

func (e *encoder) resource(r Resource) error {
	if r == nil {
		return fmt.Errorf("nil resource")
	}
	rv := reflect.ValueOf(r)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return fmt.Errorf("nil %T", r)
	}
	if raw, ok := r.(*RawResource); ok {
		b, err := raw.MarshalJSON()
		if err != nil {
			return err
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, b); err != nil {
			return fmt.Errorf("raw %s: %w", raw.Type, err)
		}
		e.buf = append(e.buf, compact.Bytes()...)
		return nil
	}
	_, err := e.object(rv.Elem(), r.ResourceType())
	return err
}

// object writes a struct as a JSON object and reports whether it had any content; an
// empty struct is written as "{}" and the caller removes it.
func (e *encoder) object(v reflect.Value, resourceType string) (bool, error) {
	return e.objectWith(planFor(v.Type()), v, resourceType)
}

func (e *encoder) objectWith(p *structPlan, v reflect.Value, resourceType string) (bool, error) {
	e.buf = append(e.buf, '{')
	any := false
	if resourceType != "" {
		e.buf = append(e.buf, `"resourceType":`...)
		e.buf = appendString(e.buf, resourceType)
		any = true
	}
	for _, f := range p.fields {
		if f.paired {
			continue
		}
		wrote, err := e.field(v, p, f, any)
		if err != nil {
			return false, fmt.Errorf("%s: %w", f.name, err)
		}
		any = any || wrote
	}
	e.buf = append(e.buf, '}')
	return any, nil
}

// field writes one property (preceded by a comma when needed) and reports whether it
// wrote anything.
func (e *encoder) field(v reflect.Value, p *structPlan, f *fieldPlan, comma bool) (bool, error) {
	fv := v.Field(f.index)
	mark := len(e.buf)
	key := func() {
		if comma {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, f.name...)
		e.buf = append(e.buf, '"', ':')
	}
	switch f.kind {
	case fkString:
		if fv.Len() == 0 {
			return false, nil
		}
		key()
		e.buf = appendString(e.buf, fv.String())
	case fkDecimal:
		s := fv.String()
		if s == "" {
			return false, nil
		}
		if !validDecimal(s) {
			return false, fmt.Errorf("%q: %w", s, ErrInvalidDecimal)
		}
		key()
		e.buf = append(e.buf, s...)
	case fkBool:
		if fv.IsNil() {
			return false, nil
		}
		key()
		if fv.Elem().Bool() {
			e.buf = append(e.buf, "true"...)
		} else {
			e.buf = append(e.buf, "false"...)
		}
	case fkInt:
		if fv.IsNil() {
			return false, nil
		}
		key()
		e.buf = strconv.AppendInt(e.buf, fv.Elem().Int(), 10)
	case fkStruct, fkElement:
		if fv.IsNil() {
			return false, nil
		}
		key()
		ok, err := e.objectWith(f.plan(), fv.Elem(), "")
		if err != nil || !ok {
			e.buf = e.buf[:mark]
			return false, err
		}
	case fkStructSlice:
		key()
		e.buf = append(e.buf, '[')
		n := 0
		for i := 0; i < fv.Len(); i++ {
			m := len(e.buf)
			if n > 0 {
				e.buf = append(e.buf, ',')
			}
			ok, err := e.objectWith(f.plan(), fv.Index(i), "")
			if err != nil {
				e.buf = e.buf[:mark]
				return false, fmt.Errorf("[%d]: %w", i, err)
			}
			if !ok { // an empty element carries nothing: leave it out
				e.buf = e.buf[:m]
				continue
			}
			n++
		}
		if n == 0 {
			e.buf = e.buf[:mark]
			return false, nil
		}
		e.buf = append(e.buf, ']')
	case fkResource:
		if fv.IsNil() {
			return false, nil
		}
		key()
		if err := e.resource(fv.Interface().(Resource)); err != nil {
			e.buf = e.buf[:mark]
			return false, err
		}
	case fkResourceSlice:
		if fv.Len() == 0 {
			return false, nil
		}
		key()
		e.buf = append(e.buf, '[')
		for i := 0; i < fv.Len(); i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if err := e.resource(fv.Index(i).Interface().(Resource)); err != nil {
				e.buf = e.buf[:mark]
				return false, fmt.Errorf("[%d]: %w", i, err)
			}
		}
		e.buf = append(e.buf, ']')
	case fkStringSlice:
		return e.primitiveArray(v, p, f, comma)
	case fkElementSlice:
		// A companion without its primitive array (not generated, but kept total).
		return e.primitiveArray(v, p, &fieldPlan{name: strings.TrimPrefix(f.name, "_"), index: -1, companion: p.byName[f.name]}, comma)
	}
	return true, nil
}

// primitiveArray writes a []string and its []*Element companion, aligned by position:
// a missing value or companion is written as null, as FHIR JSON requires.
func (e *encoder) primitiveArray(v reflect.Value, p *structPlan, f *fieldPlan, comma bool) (bool, error) {
	var vals reflect.Value
	if f.index >= 0 {
		vals = v.Field(f.index)
	}
	var exts reflect.Value
	if f.companion >= 0 {
		exts = v.Field(p.fields[f.companion].index)
	}
	n, hasVal, hasExt := 0, false, false
	if vals.IsValid() {
		n = vals.Len()
		for i := 0; i < vals.Len(); i++ {
			hasVal = hasVal || vals.Index(i).Len() > 0
		}
	}
	var extOK []bool
	if exts.IsValid() {
		n = max(n, exts.Len())
		extOK = make([]bool, exts.Len())
		for i := 0; i < exts.Len(); i++ {
			x := exts.Index(i)
			if !x.IsNil() && !isEmptyStruct(x.Elem()) {
				extOK[i] = true
				hasExt = true
			}
		}
	}
	wrote := false
	if hasVal {
		if comma {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, '"')
		e.buf = append(e.buf, f.name...)
		e.buf = append(e.buf, `":[`...)
		for i := 0; i < n; i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if i < vals.Len() && vals.Index(i).Len() > 0 {
				e.buf = appendString(e.buf, vals.Index(i).String())
			} else {
				e.buf = append(e.buf, "null"...)
			}
		}
		e.buf = append(e.buf, ']')
		wrote, comma = true, true
	}
	if hasExt {
		if comma {
			e.buf = append(e.buf, ',')
		}
		e.buf = append(e.buf, `"_`...)
		e.buf = append(e.buf, f.name...)
		e.buf = append(e.buf, `":[`...)
		for i := 0; i < n; i++ {
			if i > 0 {
				e.buf = append(e.buf, ',')
			}
			if i < len(extOK) && extOK[i] {
				if _, err := e.object(exts.Index(i).Elem(), ""); err != nil {
					return false, err
				}
			} else {
				e.buf = append(e.buf, "null"...)
			}
		}
		e.buf = append(e.buf, ']')
		wrote = true
	}
	return wrote, nil
}

// isEmptyStruct reports whether encoding v would write nothing.
func isEmptyStruct(v reflect.Value) bool {
	var e encoder
	ok, err := e.object(v, "")
	return err == nil && !ok
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JSON string. Invalid UTF-8 becomes U+FFFD, as in
// encoding/json; HTML characters are kept as they are (narratives are XHTML).
func appendString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			buf = append(buf, s[start:i]...)
			switch c {
			case '"', '\\':
				buf = append(buf, '\\', c)
			case '\n':
				buf = append(buf, '\\', 'n')
			case '\r':
				buf = append(buf, '\\', 'r')
			case '\t':
				buf = append(buf, '\\', 't')
			default:
				buf = append(buf, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			buf = append(buf, s[start:i]...)
			buf = append(buf, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	buf = append(buf, s[start:]...)
	return append(buf, '"')
}

// isEmptyStructValue reports whether the struct pointed to by p would be written as
// nothing at all.
func isEmptyStructValue(p any) bool { return isEmptyStruct(reflect.ValueOf(p).Elem()) }
