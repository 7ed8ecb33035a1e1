package fhir

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
)

// Issue severities (OperationOutcome.issue.severity).
const (
	SeverityFatal       = "fatal"
	SeverityError       = "error"
	SeverityWarning     = "warning"
	SeverityInformation = "information"
)

// Issue type codes used in OperationOutcome.issue.code (FHIR issue-type value set).
const (
	IssueStructure    = "structure"
	IssueRequired     = "required"
	IssueValue        = "value"
	IssueInvariant    = "invariant"
	IssueInvalid      = "invalid"
	IssueCodeInvalid  = "code-invalid"
	IssueNotFound     = "not-found"
	IssueNotSupported = "not-supported"
	IssueException    = "exception"
	IssueInformation  = "informational"
	IssueBusinessRule = "business-rule"
)

// Validator checks resources against the R4 definitions: structure and cardinality,
// primitive formats, required/extensible/preferred bindings, code systems, the
// invariants of the modelled types, references and Bundle rules. The zero value is
// ready to use; a Validator is safe for concurrent use.
type Validator struct {
	// Terminology checks codes of systems outside the FHIR core package (ICD-10-CM,
	// RxNorm...). Nil leaves them unchecked, which each coding reports as information.
	Terminology Terminology
	// NoBestPractice leaves out best-practice recommendations (dom-6, "a resource should
	// have narrative"), which HL7's validator reports as warnings unless told otherwise.
	NoBestPractice bool
}

// Validate checks a resource with an optional terminology (nil: core code systems only).
func Validate(r Resource, term Terminology) OperationOutcome {
	v := Validator{Terminology: term}
	return v.Validate(r)
}

// ValidateJSON checks FHIR JSON with an optional terminology.
func ValidateJSON(data []byte, term Terminology) OperationOutcome {
	v := Validator{Terminology: term}
	return v.ValidateJSON(data)
}

// Validate checks a resource. The result always has at least one issue: an
// informational "All OK" when nothing was found, as HL7's validator reports.
// The resource is walked as the tree its JSON would parse to, without writing the
// JSON, so the result equals ValidateJSON of Marshal's output (except that a Go string
// that is not UTF-8 is reported, where Marshal would replace its bad bytes). r must not
// be modified during the call.
func (v *Validator) Validate(r Resource) OperationOutcome {
	root, release, err := buildTree(r)
	defer release()
	if err != nil {
		return outcome([]OperationOutcomeIssue{newIssue(SeverityFatal, IssueStructure, "marshal "+resourceTypeOf(r)+": "+err.Error(), "")})
	}
	return v.walkTree(&root)
}

// ValidateJSON checks FHIR JSON (a single resource, a Bundle included).
func (v *Validator) ValidateJSON(data []byte) OperationOutcome {
	// The tree lives only during this call; issues copy what they quote.
	root, release, err := parseTemp(data, true)
	defer release()
	if err != nil {
		return outcome([]OperationOutcomeIssue{newIssue(SeverityFatal, IssueStructure, "Invalid JSON: "+err.Error(), "")})
	}
	return v.walkTree(&root)
}

func (v *Validator) walkTree(root *jnode) OperationOutcome {
	sc := scratchPool.Get().(*walkScratch)
	defer scratchPool.Put(sc)
	w := walker{v: v, full: true, path: sc.path[:0], counts: sc.counts[:0]}
	w.topResource(root)
	sc.path, sc.counts = w.path[:0], w.counts[:0]
	if len(w.issues) == 0 {
		// Say what was checked, so that even "All OK" has a location.
		rt := ""
		if root.kind == nodeObject {
			rt = str(root, "resourceType")
		}
		return OperationOutcome{Issue: []OperationOutcomeIssue{newIssue(SeverityInformation, IssueInformation, "All OK", strings.Clone(rt))}}
	}
	return outcome(w.issues)
}

// walkScratch is the reusable memory of a walk.
type walkScratch struct {
	path   []byte
	counts []elemCount
}

var scratchPool = sync.Pool{New: func() any { return &walkScratch{path: make([]byte, 0, 256), counts: make([]elemCount, 0, 512)} }}

func outcome(issues []OperationOutcomeIssue) OperationOutcome {
	if len(issues) == 0 {
		issues = []OperationOutcomeIssue{newIssue(SeverityInformation, IssueInformation, "All OK", "")}
	}
	return OperationOutcome{Issue: issues}
}

func newIssue(sev, code, msg, expr string) OperationOutcomeIssue {
	is := OperationOutcomeIssue{Severity: sev, Code: code, Details: &CodeableConcept{Text: msg}}
	if expr != "" {
		is.Expression = []string{expr}
	}
	return is
}

// Count returns the number of issues of a severity ("error" counts fatal too).
func (oo OperationOutcome) Count(severity string) int {
	n := 0
	for _, is := range oo.Issue {
		if is.Severity == severity || (severity == SeverityError && is.Severity == SeverityFatal) {
			n++
		}
	}
	return n
}

// HasErrors reports whether any issue is an error or fatal.
func (oo OperationOutcome) HasErrors() bool { return oo.Count(SeverityError) > 0 }

// walker walks a JSON tree against the type tables. With full false it only checks what
// decoding into the Go types needs (Parse): known properties, JSON kinds, no nulls or
// empty values, arrays where the element repeats.
type walker struct {
	v      *Validator
	full   bool
	issues []OperationOutcomeIssue
	path   []byte
	res    *resCtx
	bundle *bundleCtx
	// elemPath is the official path of the element whose object is being walked
	// (extension contexts are stated in these terms); primType is the primitive type
	// when that object is a "_name" companion.
	elemPath string
	primType string
	counts   []elemCount
}

// elemCount is what object records per element: how many values, and which choice
// type (index+1, 0 for none).
type elemCount struct {
	n      uint32
	chosen int16
}

// resCtx is the resource being walked: the root for %resource, contained ids and the
// local references made inside it (dom-3, ref-1).
type resCtx struct {
	node      *jnode
	typ       typeIndex
	parent    *resCtx // the container of a contained resource
	contained bool
	localRefs map[string]bool // "#id" references made anywhere in the resource
	refsUp    bool            // a contained resource refers to its container ("#")
	upRefs    map[*jnode]bool // contained resources (by node) that refer to this container
}

func (w *walker) add(sev, code, msg string) {
	w.issues = append(w.issues, newIssue(sev, code, msg, string(w.path)))
}

func (w *walker) errorf(code, format string, args ...any) {
	w.add(SeverityError, code, fmt.Sprintf(format, args...))
}

func (w *walker) push(name string) int {
	n := len(w.path)
	if n > 0 {
		w.path = append(w.path, '.')
	}
	w.path = append(w.path, name...)
	return n
}

func (w *walker) pushIndex(i int) int {
	n := len(w.path)
	w.path = append(w.path, '[')
	w.path = strconv.AppendInt(w.path, int64(i), 10)
	w.path = append(w.path, ']')
	return n
}

func (w *walker) pop(n int) { w.path = w.path[:n] }

func (w *walker) topResource(n *jnode) {
	if n.kind == nodeObject {
		if rt := n.get("resourceType"); rt != nil && rt.kind == nodeString && rt.str != "" {
			w.path = append(w.path[:0], rt.str...)
		}
	}
	w.resource(n, false)
}

// resource walks a resource at the current path.
func (w *walker) resource(n *jnode, contained bool) {
	if n.kind != nodeObject {
		w.errorf(IssueStructure, "A resource must be a JSON object, not %s", kindName(n))
		return
	}
	rt := n.get("resourceType")
	if rt == nil || rt.kind != nodeString || rt.str == "" {
		w.errorf(IssueStructure, "Unable to find resourceType property")
		return
	}
	ti, ok := resourceTypeIndex[rt.str]
	if !ok {
		if isResourceTypeName(rt.str) {
			if w.full {
				w.add(SeverityInformation, IssueNotSupported, "Resource type '"+rt.str+"' is not modelled by medscribe: only its JSON syntax was checked")
			}
			return
		}
		w.errorf(IssueStructure, "Unknown resource type '%s'", rt.str)
		return
	}
	ctx := &resCtx{node: n, typ: ti, parent: w.res, contained: contained}
	w.res = ctx
	holder, prim := w.elemPath, w.primType
	w.elemPath, w.primType = rt.str, ""
	isBundle := ti == tBundle && w.full
	if isBundle {
		w.enterBundle(n, ctx)
	}
	w.object(n, ti, true)
	if isBundle {
		w.bundleRules(n)
		w.leaveBundle()
	}
	w.elemPath, w.primType = holder, prim
	w.res = ctx.parent
	if contained && ctx.parent != nil && ctx.refsUp {
		if ctx.parent.upRefs == nil {
			ctx.parent.upRefs = map[*jnode]bool{}
		}
		ctx.parent.upRefs[n] = true
	}
}

func (c *resCtx) noteLocalRef(ref string) {
	if c.localRefs == nil {
		c.localRefs = map[string]bool{}
	}
	c.localRefs[ref] = true
}

func isResourceTypeName(name string) bool {
	vs := valueSetIndex["http://hl7.org/fhir/ValueSet/resource-types"]
	if vs == nil {
		return false
	}
	_, ok := vs.byCode[name]
	return ok
}

func kindName(n *jnode) string {
	switch n.kind {
	case nodeObject:
		return "an object"
	case nodeArray:
		return "an array"
	case nodeString:
		return "a string"
	case nodeNumber:
		return "a number"
	case nodeBool:
		return "a boolean"
	}
	return "null"
}

// object walks the properties of an object of type ti.
func (w *walker) object(n *jnode, ti typeIndex, isResource bool) {
	t := &typeTable[ti]
	// Per-element value counts and chosen choice types live on a stack in the walker, so
	// an object costs only its own elements' worth of clearing.
	base := len(w.counts)
	w.counts = append(w.counts, make([]elemCount, len(t.elems))...)
	defer func() { w.counts = w.counts[:base] }()
	onlyID := true
	for i := range n.fields {
		f := &n.fields[i]
		if isResource && f.name == "resourceType" {
			continue
		}
		if f.name != "id" {
			onlyID = false
		}
		p, ok := t.props[f.name]
		if !ok {
			mark := w.push(f.name)
			w.errorf(IssueStructure, "Unrecognized property '%s'", f.name)
			w.pop(mark)
			continue
		}
		e := &t.elems[p.elem]
		ec := &w.counts[base+p.elem]
		if e.choice && ec.chosen > 0 && ec.chosen != int16(p.typ)+1 {
			mark := w.push(e.name + ".ofType(" + e.types[p.typ].code + ")")
			w.errorf(IssueStructure, "Only one of the %s[x] types may be present", e.name)
			w.pop(mark)
		}
		ec.chosen = int16(p.typ) + 1
		c := w.property(&f.val, t, e, &e.types[p.typ], p.companion, n)
		// property may have grown the stack; ec is re-read through the index.
		if c > w.counts[base+p.elem].n {
			w.counts[base+p.elem].n = c
		}
	}
	if !w.full {
		return
	}
	for ei := range t.elems {
		e := &t.elems[ei]
		c := int(w.counts[base+ei].n)
		if c < e.min {
			w.errorf(IssueStructure, "%s: minimum required = %d, but only found %d (from http://hl7.org/fhir/StructureDefinition/%s)",
				e.path, e.min, c, rootName(t, e))
		}
		if e.max >= 0 && c > e.max {
			w.errorf(IssueStructure, "%s: max allowed = %d, but found %d (from http://hl7.org/fhir/StructureDefinition/%s)",
				e.path, e.max, c, rootName(t, e))
		}
	}
	if !isResource && onlyID && len(n.fields) > 0 {
		w.invariantFailed("ele-1", "")
	}
	for _, key := range t.invariants {
		// Contained resources are described by their container's narrative.
		if key == "dom-6" && (w.v.NoBestPractice || (w.res != nil && w.res.contained)) {
			continue
		}
		w.checkInvariant(key, n)
	}
}

func rootName(t *typeDef, e *elemDef) string {
	if i := strings.IndexByte(e.path, '.'); i > 0 {
		return e.path[:i]
	}
	return t.name
}

// property walks one JSON property and returns how many values it holds.
func (w *walker) property(n *jnode, owner *typeDef, e *elemDef, et *elemType, companion bool, parent *jnode) uint32 {
	// A "_name" companion holds the primitive's id and extensions; in FHIRPath those are
	// children of the primitive itself, so both share one path.
	name := et.jsonName
	var mark int
	if e.choice {
		mark = w.push(e.name)
		w.path = append(w.path, ".ofType("...)
		w.path = append(w.path, et.code...)
		w.path = append(w.path, ')')
	} else {
		mark = w.push(name)
	}
	defer w.pop(mark)
	prop := name // the JSON property, for messages
	if companion {
		prop = "_" + name
	}
	if n.kind == nodeNull {
		w.errorf(IssueStructure, "Property '%s' cannot be null (leave it out instead)", prop)
		return 0
	}
	isPrim := et.typ >= 0 && typeTable[et.typ].kind == kindPrimitive
	if e.repeats() {
		if n.kind != nodeArray {
			w.errorf(IssueStructure, "The property '%s' must be a JSON array, not %s", prop, kindName(n))
			return 0
		}
		if len(n.items) == 0 {
			w.errorf(IssueStructure, "Array '%s' cannot be empty: leave the property out when it has no values", prop)
			return 0
		}
		// In a primitive array a null holds the place of a value that only has a
		// "_name" companion; the other array must then have an entry there.
		var partner *jnode
		if isPrim {
			other := name
			if !companion {
				other = "_" + name
			}
			partner = parent.get(other)
			if partner != nil && partner.kind == nodeArray && len(partner.items) != len(n.items) {
				w.errorf(IssueStructure, "Arrays '%s' and '_%s' must have the same length", name, name)
			}
		}
		for i := range n.items {
			it := &n.items[i]
			im := w.pushIndex(i)
			if it.kind == nodeNull {
				if partner == nil || partner.kind != nodeArray || i >= len(partner.items) || partner.items[i].kind == nodeNull {
					w.errorf(IssueStructure, "Null values are only allowed in a primitive array where the other of '%s' and '_%s' has a value", name, name)
				}
			} else if companion {
				w.companionValue(it, e, et)
				if partner == nil || partner.kind != nodeArray || i >= len(partner.items) || partner.items[i].kind == nodeNull {
					w.missingCode(e, et)
				}
			} else {
				w.value(it, owner, e, et)
			}
			w.pop(im)
		}
		return uint32(len(n.items))
	}
	if n.kind == nodeArray {
		w.errorf(IssueStructure, "The property '%s' must not be an array: it has at most one value", prop)
		return uint32(len(n.items))
	}
	if companion {
		w.companionValue(n, e, et)
		if parent.get(name) == nil {
			w.missingCode(e, et)
		}
	} else {
		w.value(n, owner, e, et)
	}
	return 1
}

// stripChoice turns "Condition.onset[x]" into "Condition.onset".
func stripChoice(path string) string { return strings.TrimSuffix(path, "[x]") }

// missingCode reports a code with a required binding that has only extensions (a
// data-absent-reason, say) and no value, as HL7's validator does.
func (w *walker) missingCode(e *elemDef, et *elemType) {
	if !w.full || et.code != "code" || e.strength != bindingRequired {
		return
	}
	if vs := valueSetIndex[e.valueSet]; vs != nil {
		w.add(SeverityError, IssueCodeInvalid, "No code provided, and a code is required from the value set '"+vs.name+"' ("+vs.url+")")
	}
}

// companionValue walks a "_name" object with the primitive's path as the context of
// its extensions.
func (w *walker) companionValue(n *jnode, e *elemDef, et *elemType) {
	holder, prim := w.elemPath, w.primType
	w.elemPath, w.primType = stripChoice(e.path), et.code
	w.primitiveExtension(n)
	w.elemPath, w.primType = holder, prim
}

// primitiveExtension walks a "_name" object: the id and extensions of a primitive.
func (w *walker) primitiveExtension(n *jnode) {
	if n.kind != nodeObject {
		w.errorf(IssueStructure, "A '_' property must hold an object, not %s", kindName(n))
		return
	}
	if len(n.fields) == 0 {
		w.errorf(IssueStructure, "Object must have some content")
		return
	}
	w.object(n, tElement, false)
}

// value walks one value of an element.
func (w *walker) value(n *jnode, owner *typeDef, e *elemDef, et *elemType) {
	if et.typ == noType {
		w.resource(n, e.name == "contained")
		return
	}
	t := &typeTable[et.typ]
	if t.kind == kindPrimitive {
		w.primitive(n, owner, e, t)
		return
	}
	if n.kind != nodeObject {
		w.errorf(IssueStructure, "The property '%s' must be a JSON object, not %s", et.jsonName, kindName(n))
		return
	}
	if len(n.fields) == 0 {
		w.errorf(IssueStructure, "Object must have some content")
		return
	}
	ti := et.typ
	if et.profile != noType {
		ti = et.profile
	}
	holder, prim := w.elemPath, w.primType
	w.elemPath, w.primType = stripChoice(e.path), ""
	w.object(n, ti, false)
	w.elemPath, w.primType = holder, prim
	if !w.full {
		return
	}
	switch t.name {
	case "Meta":
		w.checkProfiles(n)
	case "Coding":
		w.checkCoding(n)
	case "Reference":
		w.checkReference(n, et.targets)
	case "Extension":
		w.checkExtension(n, owner, e)
	}
	if e.strength >= bindingPreferred && e.valueSet != "" {
		switch t.name {
		case "CodeableConcept":
			w.bindingCodeableConcept(n, e)
		case "Coding":
			w.bindingCodings(e, []*jnode{n}, false)
		}
	}
	for _, key := range e.invariants {
		w.checkInvariant(key, n)
	}
}

// primitive checks a primitive value: its JSON kind, its lexical form and, for codes,
// its binding.
func (w *walker) primitive(n *jnode, owner *typeDef, e *elemDef, t *typeDef) {
	want := nodeString
	switch t.prim {
	case primBoolean:
		want = nodeBool
	case primInteger, primPositiveInt, primUnsignedInt, primDecimal:
		want = nodeNumber
	}
	if n.kind != want {
		w.errorf(IssueStructure, "Error parsing JSON: the primitive value must be %s, not %s", kindArticle(want), kindName(n))
		return
	}
	if want == nodeBool {
		return
	}
	switch t.prim {
	case primInteger, primPositiveInt, primUnsignedInt:
		// Decoding into int needs this even when only parsing.
		if msg := checkInteger(t.prim, n.str); msg != "" {
			w.errorf(IssueStructure, "The value '%s' is not a valid %s: %s", n.str, t.name, msg)
		}
		return
	}
	if n.str == "" {
		// FHIR JSON has no empty strings; an empty value is left out (in arrays: null).
		w.errorf(IssueStructure, "Empty string values are not allowed: leave the property out instead")
		return
	}
	if !w.full {
		return
	}
	if t.prim == primID && owner.kind == kindResource && e.name == "id" {
		if msg := checkID(n.str); msg != "" {
			w.errorf(IssueInvalid, "Invalid Resource id: %s", msg)
		}
		return
	}
	if msg := checkPrimitive(t.prim, n.str); msg != "" {
		w.errorf(IssueInvalid, "The value '%s' is not a valid %s: %s", truncate(n.str, 80), t.name, msg)
		return
	}
	if t.prim == primCode && e.strength >= bindingExtensible && e.valueSet != "" {
		w.bindingCode(n.str, e)
	}
	for _, key := range e.invariants {
		w.checkInvariant(key, n)
	}
}

func kindArticle(k nodeKind) string {
	switch k {
	case nodeBool:
		return "a boolean"
	case nodeNumber:
		return "a number"
	}
	return "a string"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// invariantFailed reports a failed constraint with its definition's severity and text.
func (w *walker) invariantFailed(key, detail string) {
	inv, ok := invariantTable[key]
	sev := SeverityError
	human := key
	if ok {
		human = inv.human
		if inv.severity == "warning" {
			sev = SeverityWarning
		}
	}
	msg := "Constraint failed: " + key + ": '" + human + "'"
	if detail != "" {
		msg += " (" + detail + ")"
	}
	if key == "dom-6" {
		msg += " (Best Practice Recommendation)"
	}
	w.add(sev, IssueInvariant, msg)
}
