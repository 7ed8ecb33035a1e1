package extract

import (
	"strconv"
	"strings"
)

// itemStream parses, as it is generated, a JSON document of the form
// {"items":[{"field":"value",...},...]} and reports each item's fields
// as soon as their values are complete and each item when its object
// closes. It is tolerant: anything it cannot follow is skipped, and the
// caller still parses the complete text at the end.
type itemStream struct {
	onField func(item int, key, value string)
	onItem  func(item int, fields map[string]string)

	stack   []byte // open containers: '{' or '['
	inStr   bool
	esc     bool
	uni     int // hex digits still expected after \u
	uniBuf  []byte
	str     strings.Builder
	key     string // last key read at the current object level
	isKey   bool   // the string being read is a key
	scalar  strings.Builder
	item    int // index of the current item
	fields  map[string]string
	inItems bool // inside the "items" array
}

func newItemStream(onField func(int, string, string), onItem func(int, map[string]string)) *itemStream {
	return &itemStream{onField: onField, onItem: onItem}
}

// itemDepth is the container depth of an item object: the root object,
// the items array, the item.
const itemDepth = 3

// Write feeds generated text.
func (p *itemStream) Write(s string) {
	for i := 0; i < len(s); i++ {
		p.byte(s[i])
	}
}

func (p *itemStream) byte(c byte) {
	if p.inStr {
		p.strByte(c)
		return
	}
	switch c {
	case '"':
		p.inStr = true
		p.str.Reset()
		// A string right after '{' or ',' in an object is a key.
		p.isKey = len(p.stack) > 0 && p.stack[len(p.stack)-1] == '{' && p.key == ""
	case '{':
		p.stack = append(p.stack, '{')
		p.key = ""
		if len(p.stack) == itemDepth && p.inItems {
			p.fields = map[string]string{}
		}
	case '[':
		p.stack = append(p.stack, '[')
		if len(p.stack) == 2 && p.key == "items" {
			p.inItems = true
		}
		p.key = ""
	case '}':
		p.endScalar()
		if len(p.stack) == itemDepth && p.inItems && p.fields != nil {
			if p.onItem != nil {
				p.onItem(p.item, p.fields)
			}
			p.item++
			p.fields = nil
		}
		p.pop()
		p.key = ""
	case ']':
		p.endScalar()
		if len(p.stack) == 2 {
			p.inItems = false
		}
		p.pop()
		p.key = ""
	case ',':
		p.endScalar()
		if len(p.stack) > 0 && p.stack[len(p.stack)-1] == '{' {
			p.key = ""
		}
	case ':':
	case ' ', '\t', '\n', '\r':
		p.endScalar()
	default:
		// true, false, null and numbers.
		p.scalar.WriteByte(c)
	}
}

func (p *itemStream) pop() {
	if len(p.stack) > 0 {
		p.stack = p.stack[:len(p.stack)-1]
	}
}

func (p *itemStream) endScalar() {
	if p.scalar.Len() == 0 {
		return
	}
	v := p.scalar.String()
	p.scalar.Reset()
	if v != "null" {
		p.value(v)
	}
}

func (p *itemStream) strByte(c byte) {
	switch {
	case p.uni > 0:
		p.uniBuf = append(p.uniBuf, c)
		p.uni--
		if p.uni == 0 {
			if r, err := strconv.ParseUint(string(p.uniBuf), 16, 32); err == nil {
				p.str.WriteRune(rune(r))
			}
			p.uniBuf = p.uniBuf[:0]
		}
	case p.esc:
		p.esc = false
		switch c {
		case 'n':
			p.str.WriteByte('\n')
		case 't':
			p.str.WriteByte('\t')
		case 'r', 'b', 'f':
		case 'u':
			p.uni = 4
		default:
			p.str.WriteByte(c)
		}
	case c == '\\':
		p.esc = true
	case c == '"':
		p.inStr = false
		s := p.str.String()
		if p.isKey {
			p.key = s
			p.isKey = false
			return
		}
		p.value(s)
	default:
		p.str.WriteByte(c)
	}
}

// value records a completed scalar value of the current key.
func (p *itemStream) value(v string) {
	if p.key == "" {
		return
	}
	if len(p.stack) == itemDepth && p.inItems && p.fields != nil {
		p.fields[p.key] = v
		if p.onField != nil {
			p.onField(p.item, p.key, v)
		}
	}
	p.key = ""
}
