package fhir

import (
	"fmt"
	"reflect"
	"strconv"
	"sync"
)

// treeBuilder turns a generated resource into the JSON tree that parsing its Marshal
// output would give, without writing and re-reading bytes: Validate walks it directly.
// It follows the encoder's rules exactly (what is left out, where nulls go); tests
// compare Validate with ValidateJSON(Marshal) on every example and builder output.
type treeBuilder struct {
	fields []jfield // member stacks, as in the reader
	items  []jnode
	arenaF []jfield
	arenaI []jnode
	raw    []func() // releases of RawResource parses
}

var treePool = sync.Pool{New: func() any { return &treeBuilder{} }}

// buildTree returns the tree of r; it is valid until release is called and while r is
// not modified (its strings are r's).
func buildTree(r Resource) (root jnode, release func(), err error) {
	b := treePool.Get().(*treeBuilder)
	b.arenaF, b.arenaI = b.arenaF[:0], b.arenaI[:0]
	root, err = b.resource(r)
	return root, func() {
		for _, rel := range b.raw {
			rel()
		}
		b.raw = b.raw[:0]
		if cap(b.arenaF) > maxPooledArena || cap(b.arenaI) > maxPooledArena {
			return
		}
		clear(b.arenaF)
		clear(b.arenaI)
		treePool.Put(b)
	}, err
}

func (b *treeBuilder) resource(r Resource) (jnode, error) {
	if r == nil {
		return jnode{}, fmt.Errorf("nil resource")
	}
	rv := reflect.ValueOf(r)
	if rv.Kind() == reflect.Pointer && rv.IsNil() {
		return jnode{}, fmt.Errorf("nil %T", r)
	}
	if raw, ok := r.(*RawResource); ok {
		data, err := raw.MarshalJSON()
		if err != nil {
			return jnode{}, err
		}
		n, release, err := parseTemp(data, true)
		b.raw = append(b.raw, release)
		if err != nil {
			return jnode{}, fmt.Errorf("raw %s: %w", raw.Type, err)
		}
		return n, nil
	}
	n, _, err := b.object(planFor(rv.Elem().Type()), rv.Elem(), r.ResourceType())
	return n, err
}

// object builds an object node and reports whether it has any member.
func (b *treeBuilder) object(p *structPlan, v reflect.Value, resourceType string) (jnode, bool, error) {
	base := len(b.fields)
	defer func() { b.fields = b.fields[:base] }()
	if resourceType != "" {
		b.fields = append(b.fields, jfield{name: "resourceType", val: jnode{kind: nodeString, str: resourceType}})
	}
	for _, f := range p.fields {
		if f.paired {
			continue
		}
		if err := b.field(v, p, f); err != nil {
			return jnode{}, false, fmt.Errorf("%s: %w", f.name, err)
		}
	}
	n := jnode{kind: nodeObject}
	if len(b.fields) == base {
		return n, false, nil
	}
	a := len(b.arenaF)
	b.arenaF = append(b.arenaF, b.fields[base:]...)
	n.fields = b.arenaF[a:len(b.arenaF):len(b.arenaF)]
	return n, true, nil
}

func (b *treeBuilder) add(name string, n jnode) {
	b.fields = append(b.fields, jfield{name: name, val: n})
}

// array moves the items pushed since base into an array node.
func (b *treeBuilder) array(base int) jnode {
	a := len(b.arenaI)
	b.arenaI = append(b.arenaI, b.items[base:]...)
	b.items = b.items[:base]
	return jnode{kind: nodeArray, items: b.arenaI[a:len(b.arenaI):len(b.arenaI)]}
}

func (b *treeBuilder) field(v reflect.Value, p *structPlan, f *fieldPlan) error {
	fv := v.Field(f.index)
	switch f.kind {
	case fkString:
		if s := fv.String(); s != "" {
			b.add(f.name, jnode{kind: nodeString, str: s})
		}
	case fkDecimal:
		s := fv.String()
		if s == "" {
			return nil
		}
		if !validDecimal(s) {
			return fmt.Errorf("%q: %w", s, ErrInvalidDecimal)
		}
		b.add(f.name, jnode{kind: nodeNumber, str: s})
	case fkBool:
		if !fv.IsNil() {
			b.add(f.name, jnode{kind: nodeBool, str: strconv.FormatBool(fv.Elem().Bool())})
		}
	case fkInt:
		if !fv.IsNil() {
			b.add(f.name, jnode{kind: nodeNumber, str: strconv.FormatInt(fv.Elem().Int(), 10)})
		}
	case fkStruct, fkElement:
		if fv.IsNil() {
			return nil
		}
		n, ok, err := b.object(f.plan(), fv.Elem(), "")
		if err != nil {
			return err
		}
		if ok {
			b.add(f.name, n)
		}
	case fkStructSlice:
		base := len(b.items)
		for i := 0; i < fv.Len(); i++ {
			n, ok, err := b.object(f.plan(), fv.Index(i), "")
			if err != nil {
				b.items = b.items[:base]
				return fmt.Errorf("[%d]: %w", i, err)
			}
			if ok { // an empty element carries nothing: left out, as the encoder does
				b.items = append(b.items, n)
			}
		}
		if len(b.items) > base {
			b.add(f.name, b.array(base))
		}
	case fkResource:
		if fv.IsNil() {
			return nil
		}
		n, err := b.resource(fv.Interface().(Resource))
		if err != nil {
			return err
		}
		b.add(f.name, n)
	case fkResourceSlice:
		base := len(b.items)
		for i := 0; i < fv.Len(); i++ {
			n, err := b.resource(fv.Index(i).Interface().(Resource))
			if err != nil {
				b.items = b.items[:base]
				return fmt.Errorf("[%d]: %w", i, err)
			}
			b.items = append(b.items, n)
		}
		if len(b.items) > base {
			b.add(f.name, b.array(base))
		}
	case fkStringSlice:
		return b.primitiveArray(v, p, f)
	case fkElementSlice:
		return b.primitiveArray(v, p, &fieldPlan{name: f.name[1:], index: -1, companion: p.byName[f.name]})
	}
	return nil
}

// primitiveArray mirrors encoder.primitiveArray: values and companions aligned, nulls
// where one side has nothing.
func (b *treeBuilder) primitiveArray(v reflect.Value, p *structPlan, f *fieldPlan) error {
	var vals, exts reflect.Value
	if f.index >= 0 {
		vals = v.Field(f.index)
	}
	if f.companion >= 0 {
		exts = v.Field(p.fields[f.companion].index)
	}
	n, hasVal := 0, false
	if vals.IsValid() {
		n = vals.Len()
		for i := 0; i < vals.Len(); i++ {
			hasVal = hasVal || vals.Index(i).Len() > 0
		}
	}
	var extNodes []jnode
	hasExt := false
	if exts.IsValid() {
		n = max(n, exts.Len())
		for i := 0; i < exts.Len(); i++ {
			x := exts.Index(i)
			var node jnode
			if !x.IsNil() {
				en, ok, err := b.object(planFor(x.Elem().Type()), x.Elem(), "")
				if err != nil {
					return err
				}
				if ok {
					node, hasExt = en, true
				}
			}
			extNodes = append(extNodes, node)
		}
	}
	if hasVal {
		base := len(b.items)
		for i := 0; i < n; i++ {
			if i < vals.Len() && vals.Index(i).Len() > 0 {
				b.items = append(b.items, jnode{kind: nodeString, str: vals.Index(i).String()})
			} else {
				b.items = append(b.items, jnode{kind: nodeNull})
			}
		}
		b.add(f.name, b.array(base))
	}
	if hasExt {
		base := len(b.items)
		for i := 0; i < n; i++ {
			if i < len(extNodes) {
				b.items = append(b.items, extNodes[i]) // the zero jnode is null
			} else {
				b.items = append(b.items, jnode{kind: nodeNull})
			}
		}
		b.add("_"+f.name, b.array(base))
	}
	return nil
}
