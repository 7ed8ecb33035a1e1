package extract

// Sections change what a mention means: a drug under ALLERGIES is an
// allergy, a disease under FAMILY HISTORY a relative's, symptoms under
// REVIEW OF SYSTEMS are often listed as negatives. Written notes mark
// sections with headings ("PAST MEDICAL HISTORY:"); dictation says them
// ("past medical history is significant for...", "for allergies, ...").

type section uint8

const (
	secNone section = iota
	secComplaint
	secHPI
	secPMH
	secPSH
	secMeds
	secAllergies
	secFamily
	secSocial
	secROS
	secExam
	secData
	secAssessment
	secPlan
	secCourse
	secOther
)

var sectionNames = [...]string{"none", "chief complaint", "history of present illness", "past medical history",
	"past surgical history", "medications", "allergies", "family history", "social history", "review of systems",
	"physical exam", "data", "assessment", "plan", "course", "other"}

func (s section) String() string {
	if int(s) < len(sectionNames) {
		return sectionNames[s]
	}
	return "unknown"
}

// sectionHeadings map normalized headings to sections.
var sectionHeadings = func() map[string]section {
	m := map[string]section{}
	add := func(s section, names ...string) {
		for _, n := range names {
			m[normPhrase(n)] = s
		}
	}
	add(secComplaint, "chief complaint", "cc", "reason for visit", "reason for consultation", "reason for referral",
		"presenting complaint", "reason for admission", "reason for evaluation", "chief complaints")
	add(secHPI, "history of present illness", "hpi", "present illness", "history of the present illness",
		"subjective", "interval history", "history", "clinical history", "brief history", "history of presenting complaint",
		"history of presenting illness", "presenting illness", "history of the presenting illness",
		"history of present complaint", "history of the present complaint", "history of presenting problem")
	add(secPMH, "past medical history", "pmh", "medical history", "past history", "past medical and surgical history",
		"problem list", "active problems", "medical problems", "past psychiatric history", "psychiatric history",
		"past medical hx", "pmhx", "significant past medical history", "past illnesses", "previous medical history",
		"coronary risk factors", "risk factors", "cardiac risk factors")
	add(secPSH, "past surgical history", "psh", "surgical history", "previous surgeries", "past surgeries",
		"operations", "surgeries", "prior surgeries", "past procedures")
	add(secMeds, "medications", "medication", "meds", "current medications", "home medications",
		"outpatient medications", "discharge medications", "medications on admission", "admission medications",
		"current meds", "medication list", "home meds", "present medications", "current medication",
		"medications at home", "medications prior to admission", "discharge meds", "medicines", "current medicines",
		"drugs")
	add(secAllergies, "allergies", "allergy", "drug allergies", "medication allergies", "allergies to medications",
		"known allergies", "drug allergy", "allergies and intolerances", "adverse reactions")
	add(secFamily, "family history", "fh", "family medical history", "fhx", "family hx", "family and social history")
	add(secSocial, "social history", "sh", "social", "habits", "social hx", "personal history")
	add(secROS, "review of systems", "ros", "systems review", "review of system")
	add(secExam, "physical exam", "physical examination", "exam", "examination", "pe", "vital signs", "vitals",
		"on examination", "objective", "exam findings", "mental status exam", "mental status examination")
	add(secData, "laboratory data", "labs", "laboratory", "laboratory studies", "data", "diagnostic studies",
		"imaging", "radiology", "studies", "ekg", "ecg", "diagnostic data", "results", "laboratory results",
		"pertinent results", "findings", "lab data", "lab results", "laboratory values", "x ray", "chest x ray",
		"ct scan", "mri", "echocardiogram", "pathology", "procedure", "operative findings")
	add(secAssessment, "impression", "assessment", "assessment and plan", "a p", "diagnosis", "diagnoses",
		"final diagnosis", "discharge diagnosis", "discharge diagnoses", "admitting diagnosis", "admission diagnosis",
		"preoperative diagnosis", "postoperative diagnosis", "impression and plan", "clinical impression",
		"diagnostic impression", "assessment plan", "impressions", "final diagnoses", "working diagnosis",
		"differential diagnosis", "differential", "problem")
	add(secPlan, "plan", "recommendations", "recommendation", "disposition", "treatment plan", "plan of care",
		"follow up", "instructions", "discharge instructions", "management")
	add(secCourse, "hospital course", "course", "ed course", "emergency department course", "clinical course",
		"course in the emergency department", "er course")
	add(secOther, "procedure performed", "anesthesia", "indications", "indication", "description of procedure",
		"consent", "estimated blood loss", "complications", "specimens", "condition", "diet", "activity",
		"followup", "immunizations", "immunization history", "vaccinations", "health maintenance", "code status")
	return m
}()

// subHeadings are body-system headings inside a review of systems or an
// examination ("CARDIAC:", "HEENT:"): they end a sentence but keep the
// section.
var subHeadings = wordSet(
	"general", "heent", "head", "eyes", "ears", "nose", "throat", "neck", "lungs", "chest", "respiratory",
	"pulmonary", "heart", "cardiovascular", "cardiac", "cv", "abdomen", "abdominal", "gi", "gastrointestinal",
	"gu", "genitourinary", "extremities", "ext", "neurologic", "neurological", "neuro", "skin", "integumentary",
	"musculoskeletal", "msk", "psychiatric", "psych", "lymph", "lymphatic", "lymph nodes", "hematologic",
	"heme", "endocrine", "constitutional", "back", "spine", "rectal", "pelvic", "breasts", "breast", "ent",
	"allergic immunologic", "immunologic", "hematologic lymphatic", "eyes ears nose throat", "mouth", "oropharynx",
	"lungs chest", "heart lungs", "vascular", "peripheral vascular", "pulses", "genitalia", "urinary",
	"renal", "hem onc", "id", "infectious disease", "mental status", "affect", "mood", "cognitive",
	"appearance", "head and neck", "ears nose throat", "lymphatics", "nodes", "cor", "cvs", "resp", "hent",
	"constitutional symptoms", "bowel", "bladder", "weight", "height", "temperature", "blood pressure", "pulse",
	"respiratory rate", "skin and lymph", "musculoskeletal extremities", "wt", "ht", "bp", "hr", "rr", "t", "p",
)
