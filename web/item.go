package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

func bytesReader(b []byte) *bytes.Reader { return bytes.NewReader(b) }

// ItemView is what a page shows of one item.
type ItemView struct {
	Kind     string // FHIR resourceType
	Label    string // what a clinician calls it
	Title    string
	Code     string // system-short code, e.g. "ICD-10-CM E11.9"
	Detail   string
	Source   string
	Severity string   // "ok", "warning" or "error": the worst validation issue
	Problems []string // validation issues worth showing
}

// The parts of FHIR JSON a page reads. Parsing loosely keeps pages working
// for every version of a stored item.
type looseResource struct {
	ResourceType string        `json:"resourceType"`
	Code         *looseConcept `json:"code"`
	Medication   *looseConcept `json:"medicationCodeableConcept"`
	Status       string        `json:"status"`
	Clinical     *looseConcept `json:"clinicalStatus"`
	Verification *looseConcept `json:"verificationStatus"`
	Relationship *looseConcept `json:"relationship"`
	Condition    []struct {
		Code *looseConcept `json:"code"`
	} `json:"condition"`
	Dosage []struct {
		Text string `json:"text"`
	} `json:"dosage"`
}

type looseConcept struct {
	Text   string `json:"text"`
	Coding []struct {
		System  string `json:"system"`
		Code    string `json:"code"`
		Display string `json:"display"`
	} `json:"coding"`
}

func (c *looseConcept) title() string {
	if c == nil {
		return ""
	}
	if c.Text != "" {
		return c.Text
	}
	for _, cd := range c.Coding {
		if cd.Display != "" {
			return cd.Display
		}
	}
	return ""
}

func (c *looseConcept) code() string {
	if c == nil {
		return ""
	}
	for _, cd := range c.Coding {
		if cd.Code == "" {
			continue
		}
		sys := cd.System
		switch {
		case strings.Contains(sys, "icd-10-cm"):
			sys = "ICD-10-CM"
		case strings.Contains(sys, "rxnorm"):
			sys = "RxNorm"
		case strings.Contains(sys, "snomed"):
			sys = "SNOMED CT"
		}
		return sys + " " + cd.Code
	}
	return ""
}

func (c *looseConcept) first() string {
	if c == nil || len(c.Coding) == 0 {
		return ""
	}
	return c.Coding[0].Code
}

type looseOutcome struct {
	Issue []struct {
		Severity    string   `json:"severity"`
		Diagnostics string   `json:"diagnostics"`
		Expression  []string `json:"expression"`
		Details     *struct {
			Text string `json:"text"`
		} `json:"details"`
	} `json:"issue"`
}

// NewItemView summarises a stored item for display.
func NewItemView(kind string, resource, validation json.RawMessage, source string) ItemView {
	v := ItemView{Kind: kind, Source: source, Severity: "ok"}
	var r looseResource
	if err := json.Unmarshal(resource, &r); err != nil {
		v.Title = "(unreadable resource)"
		v.Severity = "error"
		return v
	}
	switch r.ResourceType {
	case "MedicationStatement":
		v.Label = "Medication"
		v.Title, v.Code = r.Medication.title(), r.Medication.code()
		var parts []string
		for _, d := range r.Dosage {
			if d.Text != "" {
				parts = append(parts, d.Text)
			}
		}
		if r.Status != "" && r.Status != "active" {
			parts = append(parts, r.Status)
		}
		v.Detail = strings.Join(parts, "; ")
	case "Condition":
		v.Label = "Condition"
		v.Title, v.Code = r.Code.title(), r.Code.code()
		var parts []string
		if s := r.Verification.first(); s != "" && s != "confirmed" {
			parts = append(parts, s)
		}
		if s := r.Clinical.first(); s != "" && s != "active" {
			parts = append(parts, s)
		}
		v.Detail = strings.Join(parts, ", ")
	case "AllergyIntolerance":
		v.Label = "Allergy"
		v.Title, v.Code = r.Code.title(), r.Code.code()
	case "FamilyMemberHistory":
		v.Label = "Family history"
		if len(r.Condition) > 0 {
			v.Title, v.Code = r.Condition[0].Code.title(), r.Condition[0].Code.code()
		}
		v.Detail = r.Relationship.title()
	default:
		v.Label = r.ResourceType
	}
	if v.Title == "" {
		v.Title = "(unnamed)"
	}
	if len(validation) > 0 {
		var oo looseOutcome
		if json.Unmarshal(validation, &oo) == nil {
			for _, is := range oo.Issue {
				msg := is.Diagnostics
				if is.Details != nil && is.Details.Text != "" {
					msg = is.Details.Text
				}
				if len(is.Expression) > 0 {
					msg = fmt.Sprintf("%s (%s)", msg, is.Expression[0])
				}
				switch is.Severity {
				case "error", "fatal":
					v.Severity = "error"
					v.Problems = append(v.Problems, msg)
				case "warning":
					if v.Severity == "ok" {
						v.Severity = "warning"
					}
					v.Problems = append(v.Problems, msg)
				}
			}
		}
	}
	return v
}
