package fhir

import (
	"encoding/xml"
	"strings"
)

// Narrative XHTML checks (txt-1, txt-2): a div in the XHTML namespace holding only the
// basic formatting elements and attributes FHIR allows, and some content. The scanner
// is hand-written because encoding/xml's allocation per token cost more than the rest
// of a resource's validation put together; it accepts the XML that narratives use
// (elements, attributes, text, character and HTML entity references, comments) and
// refuses the rest (processing instructions, DOCTYPE, CDATA, prefixed names).

const errNarrativeEmpty = "the narrative has no non-whitespace content"

const xhtmlNS = "http://www.w3.org/1999/xhtml"

var xhtmlElements = map[string]bool{}
var xhtmlAttributes = map[string]bool{}

func init() {
	for _, e := range strings.Fields(`a abbr acronym address area b bdo big blockquote br caption cite code col
		colgroup dd dfn div dl dt em h1 h2 h3 h4 h5 h6 hr i img kbd li map ol p pre q samp small span strong
		sub sup table tbody td tfoot th thead tr tt ul var`) {
		xhtmlElements[e] = true
	}
	for _, a := range strings.Fields(`abbr accesskey align alt axis bgcolor border cellhalign cellpadding
		cellspacing cellvalign char charoff charset cite class colspan compact coords datetime dir frame headers
		height href hreflang hspace id lang longdesc name nohref nowrap rel rev rowspan rules scope shape span src
		start style summary tabindex title type valign value vspace width xml:lang`) {
		xhtmlAttributes[a] = true
	}
}

// checkXHTML returns "" for an acceptable narrative div, errNarrativeEmpty when it has
// no content, or what is wrong with it.
func checkXHTML(div string) string {
	s := xhtmlScanner{src: div}
	return s.run()
}

type xhtmlScanner struct {
	src     string
	pos     int
	stack   []string
	content bool
	buf     [16]string // backing store for stack
}

func (s *xhtmlScanner) run() string {
	s.stack = s.buf[:0]
	s.skipSpace()
	if !strings.HasPrefix(s.src[s.pos:], "<div") {
		return "the narrative must be an XHTML div element"
	}
	root := true
	for s.pos < len(s.src) {
		c := s.src[s.pos]
		switch {
		case c == '<' && strings.HasPrefix(s.src[s.pos:], "<!--"):
			end := strings.Index(s.src[s.pos+4:], "-->")
			if end < 0 {
				return "the narrative is not well-formed XHTML: unterminated comment"
			}
			s.pos += 4 + end + 3
		case c == '<' && s.pos+1 < len(s.src) && s.src[s.pos+1] == '/':
			if msg := s.endTag(); msg != "" {
				return msg
			}
			if len(s.stack) == 0 {
				s.skipSpace()
				if s.pos != len(s.src) {
					return "the narrative must be a single div element"
				}
				if !s.content {
					return errNarrativeEmpty
				}
				return ""
			}
		case c == '<':
			if len(s.stack) == 0 && !root {
				return "the narrative must be a single div element"
			}
			if msg := s.startTag(root); msg != "" {
				return msg
			}
			root = false
		case c == '&':
			if msg := s.entity(); msg != "" {
				return msg
			}
			s.content = true
		default:
			if len(s.stack) == 0 {
				return "the narrative must be a single div element"
			}
			if !isSpace(c) {
				s.content = true
			}
			s.pos++
		}
	}
	return "the narrative is not well-formed XHTML: element <" + s.top() + "> is not closed"
}

func (s *xhtmlScanner) top() string {
	if len(s.stack) == 0 {
		return "div"
	}
	return s.stack[len(s.stack)-1]
}

func (s *xhtmlScanner) skipSpace() {
	for s.pos < len(s.src) && isSpace(s.src[s.pos]) {
		s.pos++
	}
}

func isNameByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == ':'
}

func (s *xhtmlScanner) name() string {
	start := s.pos
	for s.pos < len(s.src) && isNameByte(s.src[s.pos]) {
		s.pos++
	}
	return s.src[start:s.pos]
}

func (s *xhtmlScanner) startTag(root bool) string {
	s.pos++ // <
	if s.pos < len(s.src) && (s.src[s.pos] == '!' || s.src[s.pos] == '?') {
		return "the narrative must not contain processing instructions, declarations or CDATA"
	}
	name := s.name()
	if name == "" {
		return "the narrative is not well-formed XHTML: '<' must start a tag"
	}
	if root {
		if name != "div" {
			return "the narrative must be an XHTML div element"
		}
	} else if !xhtmlElements[name] {
		return "Illegal element name in the XHTML ('" + name + "')"
	}
	ns := ""
	for {
		s.skipSpace()
		if s.pos >= len(s.src) {
			return "the narrative is not well-formed XHTML: unterminated tag <" + name + ">"
		}
		switch s.src[s.pos] {
		case '>':
			s.pos++
			if root && ns != xhtmlNS {
				return "the narrative root must be a div in the XHTML namespace (" + xhtmlNS + ")"
			}
			if name == "img" {
				s.content = true
			}
			s.stack = append(s.stack, name)
			return ""
		case '/':
			if !strings.HasPrefix(s.src[s.pos:], "/>") {
				return "the narrative is not well-formed XHTML: bad '/' in <" + name + ">"
			}
			s.pos += 2
			if root {
				if ns != xhtmlNS {
					return "the narrative root must be a div in the XHTML namespace (" + xhtmlNS + ")"
				}
				return errNarrativeEmpty
			}
			if name == "img" {
				s.content = true
			}
			return ""
		}
		attr := s.name()
		if attr == "" {
			return "the narrative is not well-formed XHTML: bad attribute in <" + name + ">"
		}
		s.skipSpace()
		if s.pos >= len(s.src) || s.src[s.pos] != '=' {
			return "the narrative is not well-formed XHTML: attribute " + attr + " has no value"
		}
		s.pos++
		s.skipSpace()
		if s.pos >= len(s.src) || (s.src[s.pos] != '"' && s.src[s.pos] != '\'') {
			return "the narrative is not well-formed XHTML: attribute " + attr + " is not quoted"
		}
		q := s.src[s.pos]
		end := strings.IndexByte(s.src[s.pos+1:], q)
		if end < 0 {
			return "the narrative is not well-formed XHTML: unterminated attribute " + attr
		}
		value := s.src[s.pos+1 : s.pos+1+end]
		s.pos += end + 2
		if strings.IndexByte(value, '<') >= 0 {
			return "the narrative is not well-formed XHTML: '<' in attribute " + attr
		}
		switch {
		case attr == "xmlns":
			if value != xhtmlNS {
				return "the narrative must be in the XHTML namespace (" + xhtmlNS + ")"
			}
			ns = value
		case strings.HasPrefix(attr, "xmlns:"):
			// Declaring a prefix is harmless; using one is refused by name checks.
		case !xhtmlAttributes[attr]:
			return "Illegal attribute name in the XHTML ('" + attr + "' on '" + name + "')"
		case (attr == "href" || attr == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(value)), "javascript:"):
			return "Illegal " + attr + " in the XHTML: scripts are not allowed"
		}
	}
}

func (s *xhtmlScanner) endTag() string {
	s.pos += 2 // </
	name := s.name()
	s.skipSpace()
	if s.pos >= len(s.src) || s.src[s.pos] != '>' {
		return "the narrative is not well-formed XHTML: bad end tag </" + name + ">"
	}
	s.pos++
	if len(s.stack) == 0 || s.stack[len(s.stack)-1] != name {
		return "the narrative is not well-formed XHTML: </" + name + "> does not close <" + s.top() + ">"
	}
	s.stack = s.stack[:len(s.stack)-1]
	return ""
}

// entity checks a character or entity reference: numeric, XML's five, or an HTML
// entity (narratives often use &nbsp;).
func (s *xhtmlScanner) entity() string {
	end := strings.IndexByte(s.src[s.pos:], ';')
	if end < 2 || end > 32 {
		return "the narrative is not well-formed XHTML: '&' must start an entity reference"
	}
	ref := s.src[s.pos+1 : s.pos+end]
	s.pos += end + 1
	if ref[0] == '#' {
		digits, hex := ref[1:], false
		if strings.HasPrefix(digits, "x") || strings.HasPrefix(digits, "X") {
			digits, hex = digits[1:], true
		}
		if digits == "" {
			return "the narrative is not well-formed XHTML: empty character reference"
		}
		for i := 0; i < len(digits); i++ {
			c := digits[i]
			if !(c >= '0' && c <= '9' || hex && (c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F')) {
				return "the narrative is not well-formed XHTML: bad character reference &" + ref + ";"
			}
		}
		return ""
	}
	switch ref {
	case "amp", "lt", "gt", "quot", "apos":
		return ""
	}
	if _, ok := xml.HTMLEntity[ref]; ok {
		return ""
	}
	return "the narrative is not well-formed XHTML: unknown entity &" + ref + ";"
}
