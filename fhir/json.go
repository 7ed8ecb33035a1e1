package fhir

import (
	"math"
	"strconv"
	"sync"
	"unicode/utf16"
	"unicode/utf8"
	"unsafe"
)

// A small JSON reader that keeps what FHIR validation needs and encoding/json drops:
// property order, duplicate names (an error in FHIR), number literals as written, and
// byte offsets for messages.

type nodeKind uint8

const (
	nodeNull nodeKind = iota
	nodeObject
	nodeArray
	nodeString
	nodeNumber
	nodeBool
)

func (k nodeKind) String() string {
	return [...]string{"null", "object", "array", "string", "number", "boolean"}[k]
}

// jnode is one JSON value.
type jnode struct {
	kind   nodeKind
	off    int32  // offset of the value's first byte
	end    int32  // offset just past the value
	str    string // string value, number literal, or "true"/"false"
	fields []jfield
	items  []jnode
}

type jfield struct {
	name string
	val  jnode
}

// get returns the value of the named property of an object, or nil.
func (n *jnode) get(name string) *jnode {
	for i := range n.fields {
		if n.fields[i].name == name {
			return &n.fields[i].val
		}
	}
	return nil
}

// maxDepth bounds nesting so hostile input cannot exhaust the stack; real resources
// nest a few dozen levels at most.
const maxDepth = 200

// syntaxError is a JSON syntax problem at a byte offset.
type syntaxError struct {
	off int
	msg string
}

func (e *syntaxError) Error() string { return "offset " + strconv.Itoa(e.off) + ": " + e.msg }

type reader struct {
	data  []byte
	pos   int
	depth int
	// alias lets strings without escapes share data's memory instead of being copied;
	// only for trees that do not outlive a call that owns data unchanged (validation).
	alias bool
	// fields and items are stacks that objects and arrays collect their members on;
	// when one closes, its members move to the arenas, so a whole tree lives in a few
	// large slices instead of one allocation per object.
	fields []jfield
	items  []jnode
	arenaF []jfield
	arenaI []jnode
}

// maxPooledArena keeps unusually large documents from pinning memory in the pool.
const maxPooledArena = 1 << 14

var readerPool = sync.Pool{New: func() any { return &reader{} }}

// parseJSON reads one JSON value that must span all of data (surrounding whitespace
// aside). The tree is independent of data and of any pool.
func parseJSON(data []byte) (jnode, error) {
	r := reader{data: data}
	return r.parse()
}

// parseTemp parses into pooled memory: the tree and, with alias, its strings are only
// valid until release is called, and data must not change before then.
func parseTemp(data []byte, alias bool) (root jnode, release func(), err error) {
	r := readerPool.Get().(*reader)
	r.data, r.pos, r.depth, r.alias = data, 0, 0, alias
	r.arenaF, r.arenaI = r.arenaF[:0], r.arenaI[:0]
	root, err = r.parse()
	return root, func() {
		r.data = nil
		if cap(r.arenaF) > maxPooledArena || cap(r.arenaI) > maxPooledArena {
			return
		}
		// Drop the references the used part holds so the pool pins no old data.
		clear(r.arenaF)
		clear(r.arenaI)
		readerPool.Put(r)
	}, err
}

func (r *reader) parse() (jnode, error) {
	if len(r.data) > math.MaxInt32 {
		return jnode{}, &syntaxError{off: 0, msg: "document larger than 2 GiB"}
	}
	r.space()
	n, err := r.value()
	if err != nil {
		return jnode{}, err
	}
	r.space()
	if r.pos != len(r.data) {
		return jnode{}, r.fail("unexpected data after the top-level value")
	}
	return n, nil
}

func (r *reader) fail(msg string) error { return &syntaxError{off: r.pos, msg: msg} }

func (r *reader) space() {
	for r.pos < len(r.data) {
		switch r.data[r.pos] {
		case ' ', '\t', '\n', '\r':
			r.pos++
		default:
			return
		}
	}
}

func (r *reader) value() (jnode, error) {
	if r.pos >= len(r.data) {
		return jnode{}, r.fail("unexpected end of input")
	}
	start := r.pos
	switch c := r.data[r.pos]; {
	case c == '{':
		return r.object()
	case c == '[':
		return r.array()
	case c == '"':
		s, err := r.string()
		if err != nil {
			return jnode{}, err
		}
		return jnode{kind: nodeString, off: int32(start), end: int32(r.pos), str: s}, nil
	case c == '-' || (c >= '0' && c <= '9'):
		return r.number()
	case c == 't':
		return r.literal("true", nodeBool)
	case c == 'f':
		return r.literal("false", nodeBool)
	case c == 'n':
		return r.literal("null", nodeNull)
	default:
		return jnode{}, r.fail("invalid character " + strconv.QuoteRune(rune(c)) + " looking for a value")
	}
}

func (r *reader) literal(word string, kind nodeKind) (jnode, error) {
	start := r.pos
	if len(r.data)-r.pos < len(word) || string(r.data[r.pos:r.pos+len(word)]) != word {
		return jnode{}, r.fail("invalid literal, expected " + word)
	}
	r.pos += len(word)
	n := jnode{kind: kind, off: int32(start), end: int32(r.pos)}
	if kind == nodeBool {
		n.str = word
	}
	return n, nil
}

func (r *reader) number() (jnode, error) {
	start := r.pos
	d := r.data
	if d[r.pos] == '-' {
		r.pos++
	}
	switch {
	case r.pos < len(d) && d[r.pos] == '0':
		r.pos++
	case r.pos < len(d) && d[r.pos] >= '1' && d[r.pos] <= '9':
		for r.pos < len(d) && d[r.pos] >= '0' && d[r.pos] <= '9' {
			r.pos++
		}
	default:
		return jnode{}, r.fail("invalid number")
	}
	if r.pos < len(d) && d[r.pos] == '.' {
		r.pos++
		if r.pos >= len(d) || d[r.pos] < '0' || d[r.pos] > '9' {
			return jnode{}, r.fail("invalid number: digit expected after the decimal point")
		}
		for r.pos < len(d) && d[r.pos] >= '0' && d[r.pos] <= '9' {
			r.pos++
		}
	}
	if r.pos < len(d) && (d[r.pos] == 'e' || d[r.pos] == 'E') {
		r.pos++
		if r.pos < len(d) && (d[r.pos] == '+' || d[r.pos] == '-') {
			r.pos++
		}
		if r.pos >= len(d) || d[r.pos] < '0' || d[r.pos] > '9' {
			return jnode{}, r.fail("invalid number: digit expected in the exponent")
		}
		for r.pos < len(d) && d[r.pos] >= '0' && d[r.pos] <= '9' {
			r.pos++
		}
	}
	lit := d[start:r.pos]
	if r.alias {
		return jnode{kind: nodeNumber, off: int32(start), end: int32(r.pos), str: unsafe.String(&lit[0], len(lit))}, nil
	}
	return jnode{kind: nodeNumber, off: int32(start), end: int32(r.pos), str: string(lit)}, nil
}

func (r *reader) string() (string, error) {
	r.pos++ // opening quote
	start := r.pos
	d := r.data
	// Fast path: no escapes, plain ASCII or valid UTF-8.
	for r.pos < len(d) {
		c := d[r.pos]
		if c == '"' {
			s := d[start:r.pos]
			r.pos++
			if !utf8.Valid(s) {
				return "", &syntaxError{off: start, msg: "invalid UTF-8 in string"}
			}
			if r.alias && len(s) > 0 {
				return unsafe.String(&s[0], len(s)), nil
			}
			return string(s), nil
		}
		if c == '\\' {
			break
		}
		if c < 0x20 {
			return "", r.fail("control character in string")
		}
		r.pos++
	}
	buf := append([]byte(nil), d[start:r.pos]...)
	for {
		if r.pos >= len(d) {
			return "", r.fail("unterminated string")
		}
		c := d[r.pos]
		switch {
		case c == '"':
			r.pos++
			if !utf8.Valid(buf) {
				return "", &syntaxError{off: start, msg: "invalid UTF-8 in string"}
			}
			return string(buf), nil
		case c < 0x20:
			return "", r.fail("control character in string")
		case c != '\\':
			buf = append(buf, c)
			r.pos++
			continue
		}
		r.pos++
		if r.pos >= len(d) {
			return "", r.fail("unterminated string")
		}
		e := d[r.pos]
		r.pos++
		switch e {
		case '"', '\\', '/':
			buf = append(buf, e)
		case 'b':
			buf = append(buf, '\b')
		case 'f':
			buf = append(buf, '\f')
		case 'n':
			buf = append(buf, '\n')
		case 'r':
			buf = append(buf, '\r')
		case 't':
			buf = append(buf, '\t')
		case 'u':
			cp, err := r.hex4()
			if err != nil {
				return "", err
			}
			if utf16.IsSurrogate(cp) {
				if cp >= 0xDC00 || r.pos+6 > len(d) || d[r.pos] != '\\' || d[r.pos+1] != 'u' {
					return "", r.fail("unpaired surrogate in \\u escape")
				}
				r.pos += 2
				lo, err := r.hex4()
				if err != nil {
					return "", err
				}
				cp = utf16.DecodeRune(cp, lo)
				if cp == utf8.RuneError {
					return "", r.fail("unpaired surrogate in \\u escape")
				}
			}
			buf = utf8.AppendRune(buf, cp)
		default:
			return "", r.fail("invalid escape \\" + string(rune(e)))
		}
	}
}

func (r *reader) hex4() (rune, error) {
	if r.pos+4 > len(r.data) {
		return 0, r.fail("short \\u escape")
	}
	var v rune
	for _, c := range r.data[r.pos : r.pos+4] {
		v <<= 4
		switch {
		case c >= '0' && c <= '9':
			v |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			v |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			v |= rune(c - 'A' + 10)
		default:
			return 0, r.fail("invalid \\u escape")
		}
	}
	r.pos += 4
	return v, nil
}

func (r *reader) object() (jnode, error) {
	start := r.pos
	r.pos++
	if r.depth++; r.depth > maxDepth {
		return jnode{}, r.fail("nesting too deep")
	}
	defer func() { r.depth-- }()
	n := jnode{kind: nodeObject, off: int32(start)}
	var seen map[string]struct{} // only for large objects; small ones are scanned
	base := len(r.fields)
	defer func() { r.fields = r.fields[:base] }()
	r.space()
	if r.pos < len(r.data) && r.data[r.pos] == '}' {
		r.pos++
		n.end = int32(r.pos)
		return n, nil
	}
	for {
		r.space()
		if r.pos >= len(r.data) || r.data[r.pos] != '"' {
			return jnode{}, r.fail("property name expected")
		}
		nameOff := r.pos
		name, err := r.string()
		if err != nil {
			return jnode{}, err
		}
		dup := false
		mine := r.fields[base:]
		if seen != nil {
			_, dup = seen[name]
			seen[name] = struct{}{}
		} else {
			for i := range mine {
				dup = dup || mine[i].name == name
			}
			if len(mine) >= 32 {
				seen = make(map[string]struct{}, 2*len(mine))
				for i := range mine {
					seen[mine[i].name] = struct{}{}
				}
				seen[name] = struct{}{}
			}
		}
		if dup {
			return jnode{}, &syntaxError{off: nameOff, msg: "duplicate property name " + strconv.Quote(name)}
		}
		r.space()
		if r.pos >= len(r.data) || r.data[r.pos] != ':' {
			return jnode{}, r.fail("':' expected after property name")
		}
		r.pos++
		r.space()
		v, err := r.value()
		if err != nil {
			return jnode{}, err
		}
		r.fields = append(r.fields, jfield{name: name, val: v})
		r.space()
		if r.pos >= len(r.data) {
			return jnode{}, r.fail("unterminated object")
		}
		switch r.data[r.pos] {
		case ',':
			r.pos++
		case '}':
			r.pos++
			n.end = int32(r.pos)
			a := len(r.arenaF)
			r.arenaF = append(r.arenaF, r.fields[base:]...)
			n.fields = r.arenaF[a:len(r.arenaF):len(r.arenaF)]
			return n, nil
		default:
			return jnode{}, r.fail("',' or '}' expected in object")
		}
	}
}

func (r *reader) array() (jnode, error) {
	start := r.pos
	r.pos++
	if r.depth++; r.depth > maxDepth {
		return jnode{}, r.fail("nesting too deep")
	}
	defer func() { r.depth-- }()
	n := jnode{kind: nodeArray, off: int32(start)}
	base := len(r.items)
	defer func() { r.items = r.items[:base] }()
	r.space()
	if r.pos < len(r.data) && r.data[r.pos] == ']' {
		r.pos++
		n.end = int32(r.pos)
		return n, nil
	}
	for {
		r.space()
		v, err := r.value()
		if err != nil {
			return jnode{}, err
		}
		r.items = append(r.items, v)
		r.space()
		if r.pos >= len(r.data) {
			return jnode{}, r.fail("unterminated array")
		}
		switch r.data[r.pos] {
		case ',':
			r.pos++
		case ']':
			r.pos++
			n.end = int32(r.pos)
			a := len(r.arenaI)
			r.arenaI = append(r.arenaI, r.items[base:]...)
			n.items = r.arenaI[a:len(r.arenaI):len(r.arenaI)]
			return n, nil
		default:
			return jnode{}, r.fail("',' or ']' expected in array")
		}
	}
}
