package fhir

// Canonical URLs of the code systems medscribe codes with.
const (
	SystemICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
	SystemRxNorm  = "http://www.nlm.nih.gov/research/umls/rxnorm"
	SystemSNOMED  = "http://snomed.info/sct"
	SystemUCUM    = "http://unitsofmeasure.org"
	SystemLOINC   = "http://loinc.org"
)

// Terminology answers code questions for code systems that are not part of the FHIR
// core package (ICD-10-CM, RxNorm...). The terminology database (db/terminology)
// implements it. Implementations must be safe for concurrent use.
type Terminology interface {
	// KnowsSystem reports whether the terminology holds the code system with this canonical URL.
	KnowsSystem(system string) bool
	// Display returns the preferred display of code in system and whether the code exists.
	Display(system, code string) (display string, ok bool, err error)
}
