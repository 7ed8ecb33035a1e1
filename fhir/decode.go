package fhir

import (
	"fmt"
	"math"
	"reflect"
	"strconv"
)

// The decoder fills the generated structs from a parsed JSON tree. Parse runs the
// structural checks first, so in practice every error here has already been reported
// with its FHIR path; the decoder still checks what it relies on, so it is safe alone.

type decodeError struct {
	path string
	msg  string
}

func (e *decodeError) Error() string { return e.path + ": " + e.msg }

// decodeResource builds the resource for an object node. Types the package does not
// model become *RawResource holding the node's bytes.
func decodeResource(n *jnode, data []byte, path string) (Resource, error) {
	if n.kind != nodeObject {
		return nil, &decodeError{path, "a resource must be a JSON object, not " + n.kind.String()}
	}
	rt := n.get("resourceType")
	if rt == nil || rt.kind != nodeString || rt.str == "" {
		return nil, &decodeError{path, "resourceType is missing"}
	}
	r := newResource(rt.str)
	if r == nil {
		return &RawResource{Type: rt.str, JSON: append([]byte(nil), data[n.off:n.end]...)}, nil
	}
	if err := decodeObject(n, reflect.ValueOf(r).Elem(), data, path, true); err != nil {
		return nil, err
	}
	return r, nil
}

func decodeObject(n *jnode, v reflect.Value, data []byte, path string, isResource bool) error {
	if n.kind != nodeObject {
		return &decodeError{path, "expected an object, found " + n.kind.String()}
	}
	p := planFor(v.Type())
	for i := range n.fields {
		f := &n.fields[i]
		if isResource && f.name == "resourceType" {
			continue
		}
		fi, ok := p.byName[f.name]
		if !ok {
			return &decodeError{path, fmt.Sprintf("unknown property %q", f.name)}
		}
		fp := p.fields[fi]
		if err := decodeField(&f.val, v.Field(fp.index), fp, data, path+"."+f.name); err != nil {
			return err
		}
	}
	return nil
}

func decodeField(n *jnode, fv reflect.Value, fp *fieldPlan, data []byte, path string) error {
	if n.kind == nodeNull {
		return &decodeError{path, "null is not allowed"}
	}
	wantArray := fp.kind == fkStructSlice || fp.kind == fkStringSlice || fp.kind == fkResourceSlice || fp.kind == fkElementSlice
	if wantArray != (n.kind == nodeArray) {
		if wantArray {
			return &decodeError{path, "expected an array, found " + n.kind.String()}
		}
		return &decodeError{path, "expected a single value, found an array"}
	}
	switch fp.kind {
	case fkString:
		if n.kind != nodeString {
			return &decodeError{path, "expected a string, found " + n.kind.String()}
		}
		fv.SetString(n.str)
	case fkDecimal:
		if n.kind != nodeNumber {
			return &decodeError{path, "expected a number, found " + n.kind.String()}
		}
		fv.SetString(n.str)
	case fkBool:
		if n.kind != nodeBool {
			return &decodeError{path, "expected a boolean, found " + n.kind.String()}
		}
		b := n.str == "true"
		fv.Set(reflect.ValueOf(&b))
	case fkInt:
		i, err := parseInt32(n)
		if err != nil {
			return &decodeError{path, err.Error()}
		}
		fv.Set(reflect.ValueOf(&i))
	case fkStruct, fkElement:
		nv := reflect.New(fp.elemType)
		if err := decodeObject(n, nv.Elem(), data, path, false); err != nil {
			return err
		}
		fv.Set(nv)
	case fkStructSlice:
		s := reflect.MakeSlice(fv.Type(), len(n.items), len(n.items))
		for i := range n.items {
			if err := decodeObject(&n.items[i], s.Index(i), data, path+"["+strconv.Itoa(i)+"]", false); err != nil {
				return err
			}
		}
		fv.Set(s)
	case fkStringSlice:
		s := make([]string, len(n.items))
		for i := range n.items {
			switch it := &n.items[i]; it.kind {
			case nodeString:
				s[i] = it.str
			case nodeNull: // position held for a "_name" companion
			default:
				return &decodeError{path + "[" + strconv.Itoa(i) + "]", "expected a string, found " + it.kind.String()}
			}
		}
		fv.Set(reflect.ValueOf(s))
	case fkElementSlice:
		s := make([]*Element, len(n.items))
		for i := range n.items {
			it := &n.items[i]
			if it.kind == nodeNull {
				continue
			}
			s[i] = &Element{}
			if err := decodeObject(it, reflect.ValueOf(s[i]).Elem(), data, path+"["+strconv.Itoa(i)+"]", false); err != nil {
				return err
			}
		}
		fv.Set(reflect.ValueOf(s))
	case fkResource:
		r, err := decodeResource(n, data, path)
		if err != nil {
			return err
		}
		fv.Set(reflect.ValueOf(&r).Elem())
	case fkResourceSlice:
		s := make([]Resource, len(n.items))
		for i := range n.items {
			r, err := decodeResource(&n.items[i], data, path+"["+strconv.Itoa(i)+"]")
			if err != nil {
				return err
			}
			s[i] = r
		}
		fv.Set(reflect.ValueOf(s))
	}
	return nil
}

// parseInt32 reads a FHIR integer: a JSON number without fraction or exponent, within
// the signed 32-bit range FHIR defines.
func parseInt32(n *jnode) (int, error) {
	if n.kind != nodeNumber {
		return 0, fmt.Errorf("expected an integer, found %s", n.kind)
	}
	i, err := strconv.ParseInt(n.str, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", n.str)
	}
	if i < math.MinInt32 || i > math.MaxInt32 {
		return 0, fmt.Errorf("%s is outside the 32-bit range of a FHIR integer", n.str)
	}
	return int(i), nil
}
