package fhir

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
)

// Narrative XHTML checks (txt-1, txt-2): a div in the XHTML namespace holding only the
// basic formatting elements and attributes FHIR allows, and some content.

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
		start style summary tabindex title type valign value vspace width`) {
		xhtmlAttributes[a] = true
	}
}

// checkXHTML returns "" for an acceptable narrative div, errNarrativeEmpty when it has
// no content, or what is wrong with it.
func checkXHTML(div string) string {
	if !strings.HasPrefix(strings.TrimSpace(div), "<div") {
		return "the narrative must be an XHTML div element"
	}
	d := xml.NewDecoder(strings.NewReader(div))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	depth := 0
	content := false
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return "the narrative is not well-formed XHTML: " + err.Error()
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if depth == 0 {
				if t.Name.Local != "div" || t.Name.Space != xhtmlNS {
					return "the narrative root must be a div in the XHTML namespace (" + xhtmlNS + ")"
				}
			} else if t.Name.Space != xhtmlNS || !xhtmlElements[t.Name.Local] {
				return "Illegal element name in the XHTML ('" + t.Name.Local + "')"
			}
			for _, a := range t.Attr {
				if a.Name.Space == "xmlns" || (a.Name.Space == "" && a.Name.Local == "xmlns") {
					continue
				}
				if a.Name.Space == "xml" || a.Name.Space == "http://www.w3.org/XML/1998/namespace" {
					if a.Name.Local == "lang" {
						continue
					}
				}
				if a.Name.Space != "" || !xhtmlAttributes[a.Name.Local] {
					return "Illegal attribute name in the XHTML ('" + a.Name.Local + "' on '" + t.Name.Local + "')"
				}
				if (a.Name.Local == "href" || a.Name.Local == "src") && strings.HasPrefix(strings.ToLower(strings.TrimSpace(a.Value)), "javascript:") {
					return "Illegal " + a.Name.Local + " in the XHTML: scripts are not allowed"
				}
			}
			if t.Name.Local == "img" {
				content = true
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if depth == 0 {
				if strings.TrimSpace(string(t)) != "" {
					return "the narrative has text outside its div"
				}
				continue
			}
			if strings.TrimSpace(string(t)) != "" {
				content = true
			}
		case xml.ProcInst, xml.Directive:
			return "the narrative must not contain processing instructions or declarations"
		}
		if depth == 0 {
			if _, isEnd := tok.(xml.EndElement); isEnd {
				// Only whitespace may follow the root div.
				rest, err := d.Token()
				for err == nil {
					if cd, ok := rest.(xml.CharData); !ok || strings.TrimSpace(string(cd)) != "" {
						return "the narrative must be a single div element"
					}
					rest, err = d.Token()
				}
				if !errors.Is(err, io.EOF) {
					return "the narrative is not well-formed XHTML: " + err.Error()
				}
				break
			}
		}
	}
	if !content {
		return errNarrativeEmpty
	}
	return ""
}
