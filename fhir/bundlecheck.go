package fhir

import (
	"strconv"
	"strings"
)

// bundleCtx indexes a Bundle's entries so references inside it can be resolved.
type bundleCtx struct {
	typ       string
	self      *resCtx // the Bundle; its entries' resources have it as parent
	entries   []bundleEntry
	byNode    map[*jnode]int
	byFullURL map[string][]int
	byTypeID  map[string][]int
	parent    *bundleCtx
}

type bundleEntry struct {
	fullURL, resType, id string
}

// enterBundle indexes the entries of a Bundle before they are walked.
func (w *walker) enterBundle(n *jnode, self *resCtx) {
	b := &bundleCtx{typ: str(n, "type"), self: self, parent: w.bundle,
		byNode: map[*jnode]int{}, byFullURL: map[string][]int{}, byTypeID: map[string][]int{}}
	if entries := n.get("entry"); entries != nil && entries.kind == nodeArray {
		for i := range entries.items {
			en := &entries.items[i]
			var be bundleEntry
			if en.kind == nodeObject {
				be.fullURL = str(en, "fullUrl")
				if r := en.get("resource"); r != nil && r.kind == nodeObject {
					be.resType, be.id = str(r, "resourceType"), str(r, "id")
					b.byNode[r] = i
					if be.resType != "" && be.id != "" {
						key := be.resType + "/" + be.id
						b.byTypeID[key] = append(b.byTypeID[key], i)
					}
				}
			}
			if be.fullURL != "" {
				b.byFullURL[be.fullURL] = append(b.byFullURL[be.fullURL], i)
			}
			b.entries = append(b.entries, be)
		}
	}
	w.bundle = b
}

func (w *walker) leaveBundle() { w.bundle = w.bundle.parent }

// fullURLOptional reports whether entries may lack a fullUrl: in requests (a POST
// creates the identity) and in responses and histories.
func (b *bundleCtx) fullURLOptional() bool {
	switch b.typ {
	case "transaction", "batch", "transaction-response", "batch-response", "history":
		return true
	}
	return false
}

// currentEntry returns the index of the Bundle entry being walked, or -1.
func (w *walker) currentEntry() int {
	for c := w.res; c != nil; c = c.parent {
		if c.parent == w.bundle.self {
			if i, ok := w.bundle.byNode[c.node]; ok {
				return i
			}
			return -1
		}
	}
	return -1
}

// resolveInBundle resolves a reference made inside a Bundle entry and returns the
// target's resource type, or "" when it does not resolve (reporting what HL7's
// validator reports about it).
func (w *walker) resolveInBundle(ref string) string {
	b := w.bundle
	cur := w.currentEntry()
	if cur < 0 {
		return ""
	}
	found := func(idx []int) string {
		if len(idx) > 1 {
			w.add(SeverityError, IssueStructure, "Found "+strconv.Itoa(len(idx))+" matches for '"+ref+"' in the bundle")
			return ""
		}
		return b.entries[idx[0]].resType
	}
	if isAbsoluteURL(ref) {
		if idx := b.byFullURL[ref]; len(idx) > 0 {
			return found(idx)
		}
		if strings.HasPrefix(ref, "urn:") {
			w.add(SeverityWarning, IssueNotFound, "URN reference is not locally contained within the bundle "+ref)
		}
		return ""
	}
	base := b.entries[cur].fullURL
	if base == "" {
		if !b.fullURLOptional() {
			w.add(SeverityError, IssueRequired, "Relative Reference appears inside Bundle whose entry is missing a fullUrl")
		}
	} else if t, id, ok := splitReference(base); ok && strings.HasPrefix(base, "http") {
		full := strings.TrimSuffix(strings.TrimSuffix(base, t+"/"+id), "/") + "/" + ref
		if idx := b.byFullURL[full]; len(idx) > 0 {
			return found(idx)
		}
	}
	typ, id, _ := splitReference(ref)
	if idx := b.byFullURL["urn:uuid:"+id]; id != "" && len(idx) == 1 && b.entries[idx[0]].resType != typ {
		// The id names an entry by its urn:uuid, but that entry is another type.
		w.add(SeverityError, IssueRequired, "Matching reference for reference "+ref+" has resourceType "+b.entries[idx[0]].resType)
		return ""
	}
	if idx := b.byTypeID[strings.SplitN(ref, "/_history/", 2)[0]]; len(idx) > 0 {
		if len(idx) == 1 && base != "" && !strings.HasPrefix(base, "urn:") && b.entries[idx[0]].fullURL != "" &&
			!strings.HasSuffix(b.entries[idx[0]].fullURL, "/"+ref) {
			w.add(SeverityWarning, IssueRequired, "Entry "+strconv.Itoa(idx[0])+" matches the reference "+ref+
				" by type and id but its fullUrl "+b.entries[idx[0]].fullURL+" does not match the full target URL by Bundle resolution rules")
		}
		return found(idx)
	}
	return ""
}

// bundleLinks checks the Bundle links: each relation at most once, and a self link on
// a search result.
func (w *walker) bundleLinks(n *jnode) {
	seen := map[string]bool{}
	links := items(n, "link")
	for i := range links {
		rel := str(&links[i], "relation")
		if rel == "" {
			continue
		}
		if seen[rel] {
			m := w.push("link")
			im := w.pushIndex(i)
			w.add(SeverityError, IssueInvalid, "The link relationship type '"+rel+"' can only occur once")
			w.pop(im)
			w.pop(m)
		}
		seen[rel] = true
	}
	if w.bundle.typ == "searchset" && !seen["self"] {
		w.add(SeverityWarning, IssueInvalid, "SearchSet Bundles should have a self link that specifies what the search was")
	}
}

// bundleRules checks what the Bundle invariants do not say about entries: fullUrl
// presence, form and agreement with the resource id.
func (w *walker) bundleRules(n *jnode) {
	b := w.bundle
	w.bundleLinks(n)
	entries := n.get("entry")
	if entries == nil || entries.kind != nodeArray {
		return
	}
	if b.typ == "searchset" {
		// Entries of the searched type (from the self link) are matches; any other
		// entry needs a search mode to say why it is there.
		searched := ""
		for _, l := range items(n, "link") {
			if str(&l, "relation") == "self" {
				u, _, _ := strings.Cut(str(&l, "url"), "?")
				if i := strings.LastIndexByte(u, '/'); i >= 0 && isResourceTypeName(u[i+1:]) {
					searched = u[i+1:]
				}
			}
		}
		for i := range entries.items {
			en := &entries.items[i]
			if en.kind != nodeObject || has(en, "search") || (searched != "" && b.entries[i].resType == searched) {
				continue
			}
			w.add(SeverityWarning, IssueInvalid, "SearchSet bundles should have search modes on the entries")
			break
		}
	}
	mark := w.push("entry")
	defer w.pop(mark)
	for i := range entries.items {
		en := &entries.items[i]
		if en.kind != nodeObject {
			continue
		}
		im := w.pushIndex(i)
		e := b.entries[i]
		res := en.get("resource")
		switch {
		case e.fullURL == "":
			if res != nil && !b.fullURLOptional() {
				w.add(SeverityError, IssueInvalid, "Except for transactions and batches, each entry in a Bundle must have a fullUrl which is the identity of the resource in the entry")
			}
		case !isAbsoluteURL(e.fullURL):
			fm := w.push("fullUrl")
			w.add(SeverityError, IssueInvalid, "The fullUrl must be an absolute URL (not '"+e.fullURL+"')")
			w.pop(fm)
		case res != nil && strings.HasPrefix(e.fullURL, "http"):
			if t, id, ok := splitReference(e.fullURL); ok && t == e.resType {
				fm := w.push("fullUrl")
				switch {
				case e.id == "":
					w.add(SeverityError, IssueInvalid, "The fullUrl '"+e.fullURL+"' looks like a RESTful server URL, but the resource has no id")
				case e.id != id:
					w.add(SeverityError, IssueInvalid, "The fullUrl '"+e.fullURL+"' looks like a RESTful server URL, but the resource id '"+e.id+"' does not match it")
				}
				w.pop(fm)
			}
		}
		w.pop(im)
	}
}
