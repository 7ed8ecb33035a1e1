package fhir

import (
	"sort"
	"strings"
)

// Checks that go beyond the element tables: codes and bindings, references, extensions
// and Bundle rules. Messages follow the wording of HL7's Java validator where one exists,
// so that people who know that tool recognise them.

func str(n *jnode, name string) string {
	if v := n.get(name); v != nil && v.kind == nodeString {
		return v.str
	}
	return ""
}

// addSub reports an issue on a child element of the current node (Coding.code...).
func (w *walker) addSub(child, sev, code, msg string) {
	m := w.push(child)
	w.add(sev, code, msg)
	w.pop(m)
}

// checkCoding checks one Coding: its system, and its code and display against the core
// code systems in the tables or the Terminology.
func (w *walker) checkCoding(n *jnode) {
	sys, code, display := str(n, "system"), str(n, "code"), str(n, "display")
	if sys == "" {
		if code != "" {
			w.addSub("code", SeverityWarning, IssueCodeInvalid, "A code with no system has no defined meaning, and it cannot be validated. A system should be provided")
		}
		return
	}
	if valueSetIndex[sys] != nil || strings.HasPrefix(sys, "http://hl7.org/fhir/ValueSet/") {
		w.addSub("system", SeverityError, IssueInvalid, "The Coding references a value set, not a code system ('"+sys+"')")
		return
	}
	if !strings.Contains(sys, ":") {
		w.addSub("system", SeverityError, IssueInvalid, "Coding.system must be an absolute reference, not a local reference")
		return
	}
	if code == "" {
		return
	}
	if cs := codeSystemIndex[sys]; cs != nil {
		c := cs.lookup(code)
		if c == nil {
			// terminology.hl7.org code systems gain codes after R4 (HL7's validator uses
			// the current ones), so a code missing from the R4 copy is only a warning.
			sev := SeverityError
			if cs.content != "complete" || strings.HasPrefix(sys, "http://terminology.hl7.org/CodeSystem/") {
				sev = SeverityWarning
			}
			w.addSub("code", sev, IssueCodeInvalid, "Unknown code '"+code+"' in the CodeSystem '"+sys+"' version '4.0.1'")
			return
		}
		if display != "" && !displayMatches(display, c.display, c.designations) {
			w.addSub("display", SeverityWarning, IssueInvalid, wrongDisplay(display, sys, code, c.display, c.designations))
		}
		return
	}
	if t := w.v.Terminology; t != nil && t.KnowsSystem(sys) {
		want, ok, err := t.Display(sys, code)
		switch {
		case err != nil:
			w.addSub("code", SeverityWarning, IssueException, "The terminology lookup of "+sys+"#"+code+" failed: "+err.Error())
		case !ok:
			w.addSub("code", SeverityError, IssueCodeInvalid, "Unknown code '"+code+"' in the CodeSystem '"+sys+"'")
		case display != "" && want != "" && !displayMatches(display, want, nil):
			w.addSub("display", SeverityWarning, IssueInvalid, wrongDisplay(display, sys, code, want, nil))
		}
		return
	}
	w.addSub("system", SeverityInformation, IssueNotFound, "A definition for CodeSystem '"+sys+"' could not be found, so the code cannot be validated")
}

func wrongDisplay(got, sys, code, want string, others []string) string {
	msg := "Wrong Display Name '" + got + "' for " + sys + "#" + code + ". Valid display is '" + want + "'"
	if len(others) > 0 {
		msg += " (or one of '" + strings.Join(others, "', '") + "')"
	}
	return msg
}

// displayMatches compares displays as HL7's validator does: ignoring case and runs of
// whitespace.
func displayMatches(got, want string, others []string) bool {
	if sameDisplay(got, want) {
		return true
	}
	for _, o := range others {
		if sameDisplay(got, o) {
			return true
		}
	}
	return false
}

func sameDisplay(a, b string) bool {
	if a == b || strings.EqualFold(a, b) {
		return true
	}
	return normDisplay(a) == normDisplay(b)
}

func normDisplay(s string) string { return strings.ToLower(strings.Join(strings.Fields(s), " ")) }

// bindingCodeableConcept checks a CodeableConcept against its element's value set.
func (w *walker) bindingCodeableConcept(n *jnode, e *elemDef) {
	var codings []*jnode
	if c := n.get("coding"); c != nil && c.kind == nodeArray {
		for i := range c.items {
			if c.items[i].kind == nodeObject {
				codings = append(codings, &c.items[i])
			}
		}
	}
	w.bindingCodings(e, codings, true)
}

// bindingCodings checks that one of the codings is in the bound value set: an error for
// a required binding, a warning for extensible, information for preferred.
func (w *walker) bindingCodings(e *elemDef, codings []*jnode, isCC bool) {
	vs := valueSetIndex[e.valueSet]
	if vs == nil || !vs.complete {
		return // needs an external terminology server; not checked offline
	}
	if len(codings) == 0 {
		if e.strength == bindingRequired && isCC {
			w.add(SeverityError, IssueCodeInvalid, "No code provided, and a code is required from the value set '"+vs.name+"' ("+vs.url+")")
		}
		return
	}
	var shown []string
	for _, c := range codings {
		sys, code := str(c, "system"), str(c, "code")
		if code == "" {
			continue
		}
		if vs.contains(sys, code) {
			return
		}
		shown = append(shown, sys+"#"+code)
	}
	if len(shown) == 0 {
		if e.strength == bindingRequired {
			w.add(SeverityError, IssueCodeInvalid, "No code provided, and a code is required from the value set '"+vs.name+"' ("+vs.url+")")
		}
		return
	}
	msg := "None of the codings provided are in the value set '" + vs.name + "' (" + vs.url + ")"
	codes := " (codes = " + strings.Join(shown, ", ") + ")"
	if !isCC {
		msg = "The Coding provided (" + strings.Join(shown, ", ") + ") is not in the value set '" + vs.name + "' (" + vs.url + ")"
		codes = ""
	}
	switch e.strength {
	case bindingRequired:
		w.add(SeverityError, IssueCodeInvalid, msg+", and a code from this value set is required"+codes)
	case bindingExtensible:
		w.add(SeverityWarning, IssueCodeInvalid, msg+", and a coding should come from this value set unless it has no suitable code (note that the validator cannot judge what is suitable)"+codes)
	case bindingPreferred:
		w.add(SeverityInformation, IssueCodeInvalid, msg+", and a coding is recommended to come from this value set"+codes)
	}
}

// bindingCode checks a code primitive against its element's value set.
func (w *walker) bindingCode(code string, e *elemDef) {
	vs := valueSetIndex[e.valueSet]
	if vs == nil || !vs.complete {
		return
	}
	if _, ok := vs.byCode[code]; ok {
		return
	}
	msg := "The value provided ('" + code + "') was not found in the value set '" + vs.name + "' (" + vs.url + ")"
	if e.strength == bindingRequired {
		// HL7's validator first fails to find which code system the code belongs to,
		// then reports the binding; it counts as two errors there, and here.
		w.add(SeverityError, IssueNotFound, "The System URI could not be determined for the code '"+code+"' in the ValueSet '"+vs.url+"'")
		w.add(SeverityError, IssueCodeInvalid, msg+", and a code is required from this value set")
	} else {
		w.add(SeverityWarning, IssueCodeInvalid, msg+", and a code should come from this value set unless it has no suitable code")
	}
}

// splitReference finds the resource type and id of a literal reference: "Type/id",
// "Type/id/_history/v", or an absolute URL ending that way.
func splitReference(ref string) (typ, id string, ok bool) {
	if i := strings.Index(ref, "/_history/"); i >= 0 {
		ref = ref[:i]
	}
	j := strings.LastIndexByte(ref, '/')
	if j <= 0 || j == len(ref)-1 {
		return "", "", false
	}
	id = ref[j+1:]
	k := strings.LastIndexByte(ref[:j], '/')
	typ = ref[k+1 : j]
	if !isResourceTypeName(typ) || checkID(id) != "" {
		return "", "", false
	}
	return typ, id, true
}

func isAbsoluteURL(s string) bool {
	return strings.HasPrefix(s, "urn:") || strings.Contains(s, "://")
}

// checkReference checks a Reference: local (#) references, the format of relative
// ones, the target type, and resolution inside a Bundle.
func (w *walker) checkReference(n *jnode, targets []string) {
	ref := str(n, "reference")
	if ref == "" {
		return
	}
	if strings.HasPrefix(ref, "#") {
		if w.res != nil {
			root := w.res
			for root.contained && root.parent != nil {
				root = root.parent
			}
			root.noteLocalRef(ref)
			if ref == "#" && w.res.contained {
				w.res.refsUp = true
			} else if typ, ok := containedType(root.node, ref[1:]); !ok {
				w.add(SeverityError, IssueStructure, "Unable to resolve resource with reference '"+ref+"'")
			} else if !targetAllowed(typ, targets) {
				w.add(SeverityError, IssueStructure, "The type '"+typ+"' of the contained resource "+ref+
					" is not a valid Target for this element (must be one of ["+strings.Join(targets, ", ")+"])")
			}
		}
		return
	}
	typ := ""
	switch {
	case strings.HasPrefix(ref, "urn:uuid:"), strings.HasPrefix(ref, "urn:oid:"):
	case isAbsoluteURL(ref):
		typ, _, _ = splitReference(ref)
	default:
		t, _, ok := splitReference(ref)
		if !ok || strings.Count(strings.SplitN(ref, "/_history/", 2)[0], "/") != 1 {
			w.add(SeverityError, IssueStructure, "Relative URLs must be of the format [ResourceName]/[id]. Encountered "+ref)
			return
		}
		typ = t
	}
	if w.bundle != nil {
		if t := w.resolveInBundle(ref); t != "" {
			typ = t
		}
	}
	if declared := str(n, "type"); declared != "" && typ != "" && declared != typ {
		w.add(SeverityError, IssueStructure, "The type '"+declared+"' in Reference.type does not match the type '"+typ+"' of the reference "+ref)
	}
	if typ != "" && !targetAllowed(typ, targets) {
		w.add(SeverityError, IssueStructure, "The type '"+typ+"' implied by the reference URL "+ref+
			" is not a valid Target for this element (must be one of ["+strings.Join(targets, ", ")+"])")
	}
}

// containedType returns the resource type of the contained resource with this id.
func containedType(root *jnode, id string) (string, bool) {
	for _, c := range items(root, "contained") {
		if c.kind == nodeObject && str(&c, "id") == id {
			return str(&c, "resourceType"), true
		}
	}
	return "", false
}

func targetAllowed(typ string, targets []string) bool {
	if len(targets) == 0 {
		return true
	}
	for _, t := range targets {
		if t == typ || t == "Resource" {
			return true
		}
	}
	return false
}

// checkExtension checks an extension against the core extension definitions: the type
// of its value and the places it may be used.
func (w *walker) checkExtension(n *jnode, owner *typeDef, e *elemDef) {
	url := str(n, "url")
	// The parts of a complex extension are named by its definition (often with
	// relative URLs), which the tables do not hold.
	if url == "" || owner.name == "Extension" {
		return
	}
	def := extensionIndex[url]
	if def == nil {
		// HL7's validator refuses extensions it has no definition for; medscribe knows
		// the core ones only.
		w.add(SeverityError, IssueStructure, "The extension "+url+" could not be found so is not allowed here")
		return
	}
	valueType := ""
	for i := range n.fields {
		if name := n.fields[i].name; strings.HasPrefix(name, "value") && len(name) > 5 {
			valueType = name[5:]
		}
	}
	if valueType != "" {
		if len(def.valueTypes) == 0 {
			w.add(SeverityError, IssueStructure, "The Extension "+url+" is a complex extension, so it cannot have a value")
		} else if !extensionTypeAllowed(valueType, def.valueTypes) {
			w.add(SeverityError, IssueStructure, "The Extension '"+url+"' definition allows for the types ["+
				strings.Join(def.valueTypes, ", ")+"] but found type "+lowerFirstIfPrimitive(valueType))
		}
	}
	w.checkExtensionContext(def, owner, e)
}

func extensionTypeAllowed(jsonSuffix string, types []string) bool {
	for _, t := range types {
		if strings.EqualFold(t, jsonSuffix) {
			return true
		}
	}
	return false
}

func lowerFirstIfPrimitive(s string) string {
	for i := range typeTable {
		if typeTable[i].kind == kindPrimitive && strings.EqualFold(typeTable[i].name, s) {
			return typeTable[i].name
		}
	}
	return s
}

// checkExtensionContext checks where an extension is used against its element
// contexts. Definitions with FHIRPath or extension contexts are not checked.
func (w *walker) checkExtensionContext(def *extensionDef, owner *typeDef, e *elemDef) {
	if len(def.contexts) == 0 {
		return
	}
	here := []string{"Element", owner.name, w.elemPath}
	switch owner.kind {
	case kindResource:
		here = append(here, "Resource", "DomainResource")
	case kindBackbone:
		here = append(here, "BackboneElement")
	}
	if owner == &typeTable[tElement] && w.primType != "" {
		here = append(here, w.primType)
	}
	var allowed []string
	for _, c := range def.contexts {
		kind, expr, _ := strings.Cut(c, ":")
		if kind != "element" {
			return
		}
		for _, h := range here {
			if h != "" && (expr == h || strings.TrimSuffix(expr, "[x]") == h) {
				return
			}
		}
		allowed = append(allowed, "e:"+expr)
	}
	sort.Strings(allowed)
	w.add(SeverityError, IssueBusinessRule, "The extension "+def.url+" is not allowed to be used at this point (allowed = "+
		strings.Join(allowed, ", ")+"; this element is ["+w.elemPath+"])")
}

// checkProfiles reports the profiles a resource claims: medscribe validates against the
// base R4 definitions only, as HL7's validator does when it cannot find a profile.
func (w *walker) checkProfiles(meta *jnode) {
	profiles := meta.get("profile")
	if profiles == nil || profiles.kind != nodeArray {
		return
	}
	m := w.push("profile")
	defer w.pop(m)
	for i := range profiles.items {
		p := &profiles.items[i]
		if p.kind != nodeString || p.str == "http://hl7.org/fhir/StructureDefinition/"+w.elemPathRoot() {
			continue // the base definition itself is what medscribe checks
		}
		im := w.pushIndex(i)
		if v := otherFHIRVersion(p.str); v != "" {
			w.add(SeverityInformation, IssueStructure, "Profile is for a different version of FHIR ("+v+") so has been ignored")
		} else {
			w.add(SeverityWarning, IssueStructure, "Profile reference '"+p.str+"' has not been checked: medscribe validates against the base FHIR R4 definitions only")
		}
		w.pop(im)
	}
}

// elemPathRoot is the type of the resource being walked.
func (w *walker) elemPathRoot() string {
	if w.res == nil {
		return ""
	}
	return typeTable[w.res.typ].name
}

// otherFHIRVersion returns the version of a core profile URL of another FHIR release
// (http://hl7.org/fhir/5.0/StructureDefinition/...), or "".
func otherFHIRVersion(url string) string {
	rest, ok := strings.CutPrefix(url, "http://hl7.org/fhir/")
	if !ok {
		return ""
	}
	v, tail, ok := strings.Cut(rest, "/")
	if !ok || !strings.HasPrefix(tail, "StructureDefinition/") || v == "" || v[0] < '0' || v[0] > '9' || strings.HasPrefix(v, "4.0") {
		return ""
	}
	return v
}
