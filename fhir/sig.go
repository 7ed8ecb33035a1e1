package fhir

import (
	"strconv"
	"strings"
)

// Code systems the sig mappings use (all but SNOMED CT are in the FHIR core package, so
// the validator checks their codes and displays offline).
const (
	systemRouteV3       = "http://terminology.hl7.org/CodeSystem/v3-RouteOfAdministration"
	systemDrugFormV3    = "http://terminology.hl7.org/CodeSystem/v3-orderableDrugForm"
	systemGTSAbbrev     = "http://terminology.hl7.org/CodeSystem/v3-GTSAbbreviation"
	systemRoleCode      = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
	systemCondClinical  = "http://terminology.hl7.org/CodeSystem/condition-clinical"
	systemCondVerStatus = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
	systemCondCategory  = "http://terminology.hl7.org/CodeSystem/condition-category"
	systemAllergyClin   = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
	systemAllergyVer    = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
	systemProvAgentType = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
	systemDataOperation = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
)

// route is one route of administration: SNOMED CT (the system of FHIR's route-codes
// value set) and, where one fits, the HL7 v3 RouteOfAdministration code.
type route struct {
	snomed, snomedDisplay string
	v3, v3Display         string
	text                  string // how the sig text says it
}

var routes = map[string]route{
	"oral":          {"26643006", "Oral route", "PO", "Swallow, oral", "by mouth"},
	"sublingual":    {"37839007", "Sublingual route", "SL", "Dissolve, sublingual", "sublingually"},
	"buccal":        {"54471007", "Buccal route", "BUC", "Topical application, buccal", "buccally"},
	"intravenous":   {"47625008", "Intravenous route", "IV", "Infusion, intravenous", "intravenously"},
	"intramuscular": {"78421000", "Intramuscular route", "IM", "Injection, intramuscular", "intramuscularly"},
	"subcutaneous":  {"34206005", "Subcutaneous route", "SQ", "Injection, subcutaneous", "subcutaneously"},
	"intradermal":   {"372464004", "Intradermal route", "IDINJ", "Injection, intradermal", "intradermally"},
	"topical":       {"6064005", "Topical route", "TOPICAL", "Topical", "topically"},
	"transdermal":   {"45890007", "Transdermal route", "TRNSDERM", "Transdermal", "transdermally"},
	"inhalation":    {"447694001", "Respiratory tract route", "IPINHL", "Inhalation, respiratory", "by inhalation"},
	"nasal":         {"46713006", "Nasal route", "NASAL", "Topical application, nasal", "in the nose"},
	"ophthalmic":    {"54485002", "Ophthalmic route", "OPTHALTA", "Topical application, ophthalmic", "in the eye"},
	"otic":          {"10547007", "Otic route", "OT", "Instillation, otic", "in the ear"},
	"rectal":        {"37161004", "Rectal route", "PR", "Insertion, rectal", "rectally"},
	"vaginal":       {"16857009", "Vaginal route", "VAGINSI", "Insertion, vaginal", "vaginally"},
	"oromucosal":    {"372473007", "Oromucosal route", "ORMUC", "Topical application, oromucosal", "in the mouth"},
	"intrathecal":   {"72607000", "Intrathecal route", "IT", "Infusion, intrathecal", "intrathecally"},
	"epidural":      {"404820008", "Epidural route", "EPI", "Infusion, epidural", "epidurally"},
	"intraarticular": {"12130007", "Intra-articular route", "IARTINJ", "Injection, intraarticular",
		"into the joint"},
	"gastrostomy": {"127490009", "Gastrostomy route", "GT", "Instillation, gastrostomy tube", "by gastrostomy tube"},
	"nasogastric": {"127492001", "Nasogastric route", "NGT", "Instillation, nasogastric tube", "by nasogastric tube"},
	"chew":        {"26643006", "Oral route", "CHEW", "Chew, oral", "chewed"},
}

// routeWords maps spoken forms to the keys of routes.
var routeWords = map[string]string{
	"po": "oral", "p.o.": "oral", "p.o": "oral", "oral": "oral", "orally": "oral", "by mouth": "oral",
	"per os": "oral", "mouth": "oral", "enteral": "oral",
	"sl": "sublingual", "sublingual": "sublingual", "sublingually": "sublingual", "under the tongue": "sublingual",
	"buccal": "buccal", "buccally": "buccal",
	"iv": "intravenous", "i.v.": "intravenous", "intravenous": "intravenous", "intravenously": "intravenous",
	"im": "intramuscular", "i.m.": "intramuscular", "intramuscular": "intramuscular", "intramuscularly": "intramuscular",
	"sc": "subcutaneous", "sq": "subcutaneous", "subq": "subcutaneous", "sub-q": "subcutaneous", "s.c.": "subcutaneous",
	"subcut": "subcutaneous", "subcutaneous": "subcutaneous", "subcutaneously": "subcutaneous",
	"intradermal": "intradermal", "intradermally": "intradermal", "id": "intradermal",
	"topical": "topical", "topically": "topical", "cutaneous": "topical", "to skin": "topical", "on the skin": "topical",
	"transdermal": "transdermal", "transdermally": "transdermal", "patch": "transdermal", "td": "transdermal",
	"inhaled": "inhalation", "inhalation": "inhalation", "inh": "inhalation", "inhaler": "inhalation",
	"nebulized": "inhalation", "nebulised": "inhalation", "neb": "inhalation", "by inhalation": "inhalation",
	"respiratory": "inhalation",
	"nasal":       "nasal", "intranasal": "nasal", "intranasally": "nasal", "nasally": "nasal", "in the nose": "nasal",
	"ophthalmic": "ophthalmic", "eye": "ophthalmic", "in the eye": "ophthalmic", "in each eye": "ophthalmic",
	"in both eyes": "ophthalmic", "ou": "ophthalmic", "od": "ophthalmic", "os": "ophthalmic",
	"otic": "otic", "ear": "otic", "in the ear": "otic",
	"rectal": "rectal", "rectally": "rectal", "pr": "rectal", "per rectum": "rectal",
	"vaginal": "vaginal", "vaginally": "vaginal", "pv": "vaginal", "per vagina": "vaginal",
	"oromucosal": "oromucosal", "mouthwash": "oromucosal", "swish": "oromucosal",
	"intrathecal": "intrathecal", "intrathecally": "intrathecal", "it": "intrathecal",
	"epidural": "epidural", "epidurally": "epidural",
	"intra-articular": "intraarticular", "intraarticular": "intraarticular", "into the joint": "intraarticular",
	"gastrostomy": "gastrostomy", "g-tube": "gastrostomy", "g tube": "gastrostomy", "peg": "gastrostomy",
	"per g-tube": "gastrostomy", "via g-tube": "gastrostomy", "per peg": "gastrostomy",
	"nasogastric": "nasogastric", "ng": "nasogastric", "ng tube": "nasogastric", "per ng tube": "nasogastric",
	"chewed": "chew", "chew": "chew", "chewable": "chew",
}

// lookupRoute normalises a spoken route.
func lookupRoute(word string) (route, bool) {
	k := strings.Join(strings.Fields(strings.ToLower(word)), " ")
	if key, ok := routeWords[k]; ok {
		return routes[key], true
	}
	if r, ok := routes[k]; ok {
		return r, true
	}
	return route{}, false
}

// unit is a dose unit: UCUM where it is a measure, v3 orderableDrugForm where it is a
// dose form (tablet, capsule...).
type unit struct {
	system, code, text string // text: the singular word written in Quantity.unit
	plural             string
}

var units = map[string]unit{
	"mg":       {SystemUCUM, "mg", "mg", "mg"},
	"mcg":      {SystemUCUM, "ug", "mcg", "mcg"},
	"g":        {SystemUCUM, "g", "g", "g"},
	"kg":       {SystemUCUM, "kg", "kg", "kg"},
	"ng":       {SystemUCUM, "ng", "ng", "ng"},
	"mL":       {SystemUCUM, "mL", "mL", "mL"},
	"L":        {SystemUCUM, "L", "L", "L"},
	"unit":     {SystemUCUM, "[iU]", "unit", "units"},
	"mEq":      {SystemUCUM, "meq", "mEq", "mEq"},
	"mmol":     {SystemUCUM, "mmol", "mmol", "mmol"},
	"%":        {SystemUCUM, "%", "%", "%"},
	"mg/kg":    {SystemUCUM, "mg/kg", "mg/kg", "mg/kg"},
	"mcg/h":    {SystemUCUM, "ug/h", "mcg/h", "mcg/h"},
	"mg/mL":    {SystemUCUM, "mg/mL", "mg/mL", "mg/mL"},
	"tablet":   {systemDrugFormV3, "TAB", "tablet", "tablets"},
	"capsule":  {systemDrugFormV3, "CAP", "capsule", "capsules"},
	"pill":     {systemDrugFormV3, "PILL", "pill", "pills"},
	"puff":     {systemDrugFormV3, "PUFF", "puff", "puffs"},
	"drop":     {systemDrugFormV3, "DROP", "drop", "drops"},
	"spray":    {systemDrugFormV3, "SPRY", "spray", "sprays"},
	"patch":    {systemDrugFormV3, "PATCH", "patch", "patches"},
	"supp":     {systemDrugFormV3, "SUPP", "suppository", "suppositories"},
	"lozenge":  {systemDrugFormV3, "ORTROCHE", "lozenge", "lozenges"},
	"inhalant": {systemDrugFormV3, "INHL", "inhalation", "inhalations"},
}

var unitWords = map[string]string{
	"mg": "mg", "milligram": "mg", "milligrams": "mg", "mgs": "mg",
	"mcg": "mcg", "ug": "mcg", "µg": "mcg", "microgram": "mcg", "micrograms": "mcg", "mcgs": "mcg",
	"g": "g", "gm": "g", "gram": "g", "grams": "g", "gms": "g",
	"kg": "kg", "kilogram": "kg", "kilograms": "kg",
	"ng": "ng", "nanogram": "ng", "nanograms": "ng",
	"ml": "mL", "milliliter": "mL", "milliliters": "mL", "millilitre": "mL", "millilitres": "mL", "cc": "mL", "mls": "mL",
	"l": "L", "liter": "L", "liters": "L", "litre": "L", "litres": "L",
	"unit": "unit", "units": "unit", "u": "unit", "iu": "unit", "international unit": "unit",
	"international units": "unit", "[iu]": "unit",
	"meq": "mEq", "milliequivalent": "mEq", "milliequivalents": "mEq",
	"mmol": "mmol", "millimole": "mmol", "millimoles": "mmol",
	"%": "%", "percent": "%",
	"mg/kg": "mg/kg", "mcg/hr": "mcg/h", "mcg/h": "mcg/h", "ug/h": "mcg/h", "mg/ml": "mg/mL",
	"tablet": "tablet", "tablets": "tablet", "tab": "tablet", "tabs": "tablet",
	"capsule": "capsule", "capsules": "capsule", "cap": "capsule", "caps": "capsule",
	"pill": "pill", "pills": "pill",
	"puff": "puff", "puffs": "puff", "inhalation": "inhalant", "inhalations": "inhalant",
	"drop": "drop", "drops": "drop", "gtt": "drop", "gtts": "drop",
	"spray": "spray", "sprays": "spray",
	"patch": "patch", "patches": "patch",
	"suppository": "supp", "suppositories": "supp", "supp": "supp",
	"lozenge": "lozenge", "lozenges": "lozenge",
}

// lookupUnit normalises a spoken dose unit.
func lookupUnit(word string) (unit, bool) {
	k := strings.Join(strings.Fields(strings.ToLower(word)), " ")
	if key, ok := unitWords[k]; ok {
		return units[key], true
	}
	return unit{}, false
}

// timeUnit is a UCUM unit of time from FHIR's units-of-time value set.
type timeUnit struct {
	code, singular, plural string
}

var timeUnits = map[string]timeUnit{
	"s": {"s", "second", "seconds"}, "min": {"min", "minute", "minutes"}, "h": {"h", "hour", "hours"},
	"d": {"d", "day", "days"}, "wk": {"wk", "week", "weeks"}, "mo": {"mo", "month", "months"},
	"a": {"a", "year", "years"},
}

var timeUnitWords = map[string]string{
	"s": "s", "sec": "s", "second": "s", "seconds": "s",
	"min": "min", "mins": "min", "minute": "min", "minutes": "min",
	"h": "h", "hr": "h", "hrs": "h", "hour": "h", "hours": "h",
	"d": "d", "day": "d", "days": "d",
	"wk": "wk", "wks": "wk", "week": "wk", "weeks": "wk",
	"mo": "mo", "mos": "mo", "month": "mo", "months": "mo",
	"a": "a", "y": "a", "yr": "a", "yrs": "a", "year": "a", "years": "a",
}

func lookupTimeUnit(word string) (timeUnit, bool) {
	if key, ok := timeUnitWords[strings.ToLower(strings.TrimSpace(word))]; ok {
		return timeUnits[key], true
	}
	return timeUnit{}, false
}

// abbreviation is the meaning of a timing abbreviation.
type abbreviation struct {
	gts       string // v3 GTSAbbreviation code in FHIR's timing-abbreviation value set, or ""
	times     int
	period    string
	periodMax string
	unit      string
	when      []string
	text      string
}

var abbreviations = map[string]abbreviation{
	"QD":  {gts: "QD", times: 1, period: "1", unit: "d", text: "once a day"},
	"BID": {gts: "BID", times: 2, period: "1", unit: "d", text: "twice a day"},
	"TID": {gts: "TID", times: 3, period: "1", unit: "d", text: "three times a day"},
	"QID": {gts: "QID", times: 4, period: "1", unit: "d", text: "four times a day"},
	"QOD": {gts: "QOD", times: 1, period: "2", unit: "d", text: "every other day"},
	"AM":  {gts: "AM", times: 1, period: "1", unit: "d", when: []string{"MORN"}, text: "every morning"},
	"PM":  {gts: "PM", times: 1, period: "1", unit: "d", when: []string{"EVE"}, text: "every evening"},
	"BED": {gts: "BED", times: 1, period: "1", unit: "d", when: []string{"HS"}, text: "at bedtime"},
	"WK":  {gts: "WK", times: 1, period: "1", unit: "wk", text: "once a week"},
	"MO":  {gts: "MO", times: 1, period: "1", unit: "mo", text: "once a month"},
}

// abbreviationAliases are other spellings of the codes above.
var abbreviationAliases = map[string]string{
	"DAILY": "QD", "OD": "QD", "Q24H": "QD", "QDAY": "QD", "ONCEDAILY": "QD",
	"QAM": "AM", "QPM": "PM", "QHS": "BED", "HS": "BED", "NIGHTLY": "BED", "QNIGHT": "BED",
	"QWK": "WK", "WEEKLY": "WK", "QWEEK": "WK", "MONTHLY": "MO", "QMONTH": "MO",
	"QOD": "QOD", "EOD": "QOD",
	"Q1H": "Q1H", "QH": "Q1H",
}

// lookupAbbreviation interprets a timing abbreviation, including the open families
// Q<n>H, Q<n>-<m>H, Q<n>D and Q<n>WK.
func lookupAbbreviation(code string) (abbreviation, string, bool) {
	c := strings.ToUpper(strings.NewReplacer(".", "", " ", "", "_", "").Replace(code))
	if a, ok := abbreviationAliases[c]; ok {
		c = a
	}
	if a, ok := abbreviations[c]; ok {
		return a, c, true
	}
	if !strings.HasPrefix(c, "Q") || len(c) < 3 {
		return abbreviation{}, "", false
	}
	var unitCode, word string
	body := c[1:]
	switch {
	case strings.HasSuffix(body, "H"):
		unitCode, word, body = "h", "hours", strings.TrimSuffix(body, "H")
	case strings.HasSuffix(body, "WK"):
		unitCode, word, body = "wk", "weeks", strings.TrimSuffix(body, "WK")
	case strings.HasSuffix(body, "D"):
		unitCode, word, body = "d", "days", strings.TrimSuffix(body, "D")
	default:
		return abbreviation{}, "", false
	}
	lo, hi, isRange := strings.Cut(body, "-")
	n, err := strconv.Atoi(lo)
	if err != nil || n <= 0 || n > 1000 {
		return abbreviation{}, "", false
	}
	a := abbreviation{times: 1, period: lo, unit: unitCode, text: "every " + lo + " " + word}
	if isRange {
		m, err := strconv.Atoi(hi)
		if err != nil || m <= n || m > 1000 {
			return abbreviation{}, "", false
		}
		a.periodMax = hi
		a.text = "every " + lo + " to " + hi + " " + word
	}
	// The value set has codes for every 1, 2, 3, 4, 6 and 8 hours only.
	if !isRange && unitCode == "h" {
		switch n {
		case 1, 2, 3, 4, 6, 8:
			a.gts = "Q" + lo + "H"
		}
	}
	return a, c, true
}

// gtsDisplay holds the displays of the v3 GTSAbbreviation codes FHIR's
// timing-abbreviation value set includes.
var gtsDisplay = map[string]string{
	"BID": "BID", "TID": "TID", "QID": "QID", "AM": "AM", "PM": "PM", "QD": "QD", "QOD": "QOD",
	"Q1H": "every hour", "Q2H": "every 2 hours", "Q3H": "every 3 hours", "Q4H": "Q4H", "Q6H": "Q6H",
	"Q8H": "every 8 hours", "BED": "at bedtime", "WK": "weekly", "MO": "monthly",
}

// whenText says an event-timing code in words for sig text.
var whenText = map[string]string{
	"HS": "at bedtime", "WAKE": "on waking", "C": "with meals", "CM": "with breakfast", "CD": "with lunch",
	"CV": "with dinner", "AC": "before meals", "ACM": "before breakfast", "ACD": "before lunch",
	"ACV": "before dinner", "PC": "after meals", "PCM": "after breakfast", "PCD": "after lunch",
	"PCV": "after dinner", "MORN": "in the morning", "NOON": "at noon", "AFT": "in the afternoon",
	"EVE": "in the evening", "NIGHT": "at night", "PHS": "after sleep",
}

// relative is a v3 RoleCode for a family member.
type relative struct {
	code, display string
}

var relatives = map[string]relative{
	"mother": {"MTH", "mother"}, "mom": {"MTH", "mother"}, "father": {"FTH", "father"}, "dad": {"FTH", "father"},
	"parent": {"PRN", "parent"}, "brother": {"BRO", "brother"}, "sister": {"SIS", "sister"},
	"sibling": {"SIB", "sibling"}, "son": {"SON", "natural son"}, "daughter": {"DAU", "natural daughter"},
	"child": {"CHILD", "child"}, "grandmother": {"GRMTH", "grandmother"}, "grandfather": {"GRFTH", "grandfather"},
	"grandparent":          {"GRPRN", "grandparent"},
	"maternal grandmother": {"MGRMTH", "maternal grandmother"}, "paternal grandmother": {"PGRMTH", "paternal grandmother"},
	"maternal grandfather": {"MGRFTH", "maternal grandfather"}, "paternal grandfather": {"PGRFTH", "paternal grandfather"},
	"aunt": {"AUNT", "aunt"}, "uncle": {"UNCLE", "uncle"},
	"maternal aunt": {"MAUNT", "maternal aunt"}, "paternal aunt": {"PAUNT", "paternal aunt"},
	"maternal uncle": {"MUNCLE", "maternal uncle"}, "paternal uncle": {"PUNCLE", "paternal uncle"},
	"cousin": {"COUSN", "cousin"}, "niece": {"NIECE", "niece"}, "nephew": {"NEPHEW", "nephew"},
	"half-brother": {"HBRO", "half-brother"}, "half brother": {"HBRO", "half-brother"},
	"half-sister": {"HSIS", "half-sister"}, "half sister": {"HSIS", "half-sister"},
	"twin": {"TWIN", "twin"}, "husband": {"HUSB", "husband"}, "wife": {"WIFE", "wife"},
	"grandson": {"GRNDSON", "grandson"}, "granddaughter": {"GRNDDAU", "granddaughter"},
}

var familyMember = relative{"FAMMEMB", "family member"}

func lookupRelative(word string) (relative, bool) {
	k := strings.Join(strings.Fields(strings.ToLower(word)), " ")
	k = strings.TrimPrefix(k, "the ")
	k = strings.TrimPrefix(k, "patient's ")
	k = strings.TrimPrefix(k, "his ")
	k = strings.TrimPrefix(k, "her ")
	if r, ok := relatives[k]; ok {
		return r, true
	}
	if r, ok := relatives[strings.TrimSuffix(k, "s")]; ok {
		return r, true
	}
	return familyMember, false
}
