package main

import (
	"fmt"
	"sort"
	"strings"
)

// gValueSet is a value set bound by a generated element, expanded when its codes can be
// listed from the core package alone.
type gValueSet struct {
	URL      string
	Name     string
	Strength string // strongest binding strength that refers to it
	Complete bool   // false: some part needs an external code system (SNOMED, UCUM grammar, BCP-47...)
	Codes    []gCode
	Systems  []string // code systems the value set draws on
}

type gCode struct {
	System, Code string
}

// gCodeSystem is a core code system whose concepts are listed in the tables.
type gCodeSystem struct {
	URL           string
	Name          string
	Content       string
	CaseSensitive bool
	Concepts      []gConcept
}

type gConcept struct {
	Code, Display string
	Designations  []string
}

// expandValueSets expands every value set bound with strength preferred or stronger and
// lists the code systems they use.
func (m *model) expandValueSets() error {
	var urls []string
	for u, s := range m.bindings {
		if strengthRank[s] >= strengthRank["preferred"] {
			urls = append(urls, u)
		}
	}
	sort.Strings(urls)
	systems := map[string]bool{}
	for _, u := range urls {
		vs := m.pkg.valueSets[u]
		if vs == nil {
			return fmt.Errorf("value set %s is bound but not in the package", u)
		}
		codes, complete, syss, err := m.expand(vs, 0)
		if err != nil {
			return fmt.Errorf("expand %s: %w", u, err)
		}
		name := vs.Title
		if name == "" {
			name = vs.Name
		}
		g := &gValueSet{URL: u, Name: name, Strength: m.bindings[u], Complete: complete, Codes: codes}
		for s := range syss {
			g.Systems = append(g.Systems, s)
			systems[s] = true
		}
		sort.Strings(g.Systems)
		m.valueSets = append(m.valueSets, g)
	}
	for _, s := range extraCodeSystems {
		systems[s] = true
	}
	var sysURLs []string
	for s := range systems {
		// Code systems the package only names (SNOMED CT, LOINC...) stay external.
		if cs := m.pkg.codeSystems[s]; cs != nil && (cs.Content == "complete" || cs.Content == "fragment") {
			sysURLs = append(sysURLs, s)
		}
	}
	sort.Strings(sysURLs)
	for _, s := range sysURLs {
		cs := m.pkg.codeSystems[s]
		g := &gCodeSystem{URL: cs.URL, Name: cs.Name, Content: cs.Content, CaseSensitive: cs.CaseSensitive == nil || *cs.CaseSensitive}
		var walk func([]concept)
		walk = func(cs []concept) {
			for _, c := range cs {
				gc := gConcept{Code: c.Code, Display: c.Display}
				for _, d := range c.Designation {
					if (d.Language == "" || strings.HasPrefix(d.Language, "en")) && d.Value != c.Display {
						gc.Designations = append(gc.Designations, d.Value)
					}
				}
				g.Concepts = append(g.Concepts, gc)
				walk(c.Concept)
			}
		}
		walk(cs.Concept)
		m.codeSys = append(m.codeSys, g)
	}
	return nil
}

// expand lists the codes of vs. complete is false when a part of the compose cannot be
// enumerated from the package (an external code system, or a filter not supported here).
func (m *model) expand(vs *valueSet, depth int) (codes []gCode, complete bool, systems map[string]bool, err error) {
	if depth > 10 {
		return nil, false, nil, fmt.Errorf("value set nesting too deep at %s", vs.URL)
	}
	set := map[gCode]bool{}
	systems = map[string]bool{}
	complete = true
	include := func(inc vsInclude) (map[gCode]bool, bool, error) {
		out := map[gCode]bool{}
		ok := true
		var sets []map[gCode]bool
		for _, ref := range inc.ValueSet {
			sub := m.pkg.valueSets[strings.SplitN(ref, "|", 2)[0]]
			if sub == nil {
				ok = false
				continue
			}
			c, subOK, subSys, err := m.expand(sub, depth+1)
			if err != nil {
				return nil, false, err
			}
			ok = ok && subOK
			for s := range subSys {
				systems[s] = true
			}
			s := map[gCode]bool{}
			for _, x := range c {
				s[x] = true
			}
			sets = append(sets, s)
		}
		if inc.System != "" {
			systems[inc.System] = true
			s := map[gCode]bool{}
			cs := m.pkg.codeSystems[inc.System]
			switch {
			case len(inc.Concept) > 0:
				for _, c := range inc.Concept {
					s[gCode{inc.System, c.Code}] = true
				}
			case cs == nil || cs.Content != "complete":
				ok = false
			case len(inc.Filter) > 0:
				matched, fok := filterConcepts(cs, inc.Filter)
				ok = ok && fok
				for _, c := range matched {
					s[gCode{inc.System, c}] = true
				}
			default:
				for _, c := range allCodes(cs.Concept) {
					s[gCode{inc.System, c}] = true
				}
			}
			sets = append(sets, s)
		}
		// Several parts of one include intersect.
		for i, s := range sets {
			if i == 0 {
				for k := range s {
					out[k] = true
				}
				continue
			}
			for k := range out {
				if !s[k] {
					delete(out, k)
				}
			}
		}
		return out, ok, nil
	}
	for _, inc := range vs.Compose.Include {
		s, ok, err := include(inc)
		if err != nil {
			return nil, false, nil, err
		}
		complete = complete && ok
		for k := range s {
			set[k] = true
		}
	}
	for _, exc := range vs.Compose.Exclude {
		s, ok, err := include(exc)
		if err != nil {
			return nil, false, nil, err
		}
		complete = complete && ok
		for k := range s {
			delete(set, k)
		}
	}
	for k := range set {
		codes = append(codes, k)
	}
	sort.Slice(codes, func(i, j int) bool {
		if codes[i].System != codes[j].System {
			return codes[i].System < codes[j].System
		}
		return codes[i].Code < codes[j].Code
	})
	return codes, complete, systems, nil
}

func allCodes(cs []concept) []string {
	var out []string
	for _, c := range cs {
		out = append(out, c.Code)
		out = append(out, allCodes(c.Concept)...)
	}
	return out
}

// filterConcepts applies the hierarchy filters (is-a, descendent-of, is-not-a) and
// property equality filters; any other filter makes the expansion incomplete.
func filterConcepts(cs *codeSystem, filters []struct {
	Property string `json:"property"`
	Op       string `json:"op"`
	Value    string `json:"value"`
}) ([]string, bool) {
	type node struct {
		c      *concept
		parent *node
	}
	var all []*node
	var walk func([]concept, *node)
	walk = func(cs []concept, parent *node) {
		for i := range cs {
			n := &node{c: &cs[i], parent: parent}
			all = append(all, n)
			walk(cs[i].Concept, n)
		}
	}
	walk(cs.Concept, nil)
	under := func(n *node, code string, self bool) bool {
		if self && n.c.Code == code {
			return true
		}
		for p := n.parent; p != nil; p = p.parent {
			if p.c.Code == code {
				return true
			}
		}
		return false
	}
	ok := true
	var out []string
	for _, n := range all {
		keep := true
		for _, f := range filters {
			switch {
			case f.Property == "concept" && f.Op == "is-a":
				keep = keep && under(n, f.Value, true)
			case f.Property == "concept" && f.Op == "descendent-of":
				keep = keep && under(n, f.Value, false)
			case f.Property == "concept" && f.Op == "is-not-a":
				keep = keep && !under(n, f.Value, true)
			case f.Op == "=":
				has := false
				for _, p := range n.c.Property {
					v := p.ValueCode
					if p.ValueBoolean != nil {
						v = fmt.Sprint(*p.ValueBoolean)
					}
					if p.Code == f.Property && v == f.Value {
						has = true
					}
				}
				keep = keep && has
			default:
				ok = false
			}
		}
		if keep {
			out = append(out, n.c.Code)
		}
	}
	return out, ok
}
