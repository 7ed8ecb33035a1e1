package extract_test

import (
	"strings"
	"testing"

	"github.com/medscribe/medscribe/extract"
)

// assertionCases: a sentence, the mention in it, and its assertion:
// "present", "negated", "possible", "hypothetical", "historical",
// "family:<relative>" or "family".
var assertionCases = []struct {
	sentence, mention, want string
}{
	{"The patient has hypertension.", "hypertension", "present"},
	{"He denies chest pain.", "chest pain", "negated"},
	{"She denies any fever, chills, or night sweats.", "night sweats", "negated"},
	{"No cyanosis, clubbing, or edema.", "edema", "negated"},
	{"No cyanosis, clubbing, or edema.", "clubbing", "negated"},
	{"Negative for shortness of breath.", "shortness of breath", "negated"},
	{"He was seen without respiratory distress.", "respiratory distress", "negated"},
	{"Pneumonia was ruled out.", "Pneumonia", "negated"},
	{"Pulmonary embolism has been ruled out.", "Pulmonary embolism", "negated"},
	{"There is no evidence of fracture.", "fracture", "negated"},
	{"He has no history of diabetes.", "diabetes", "negated"},
	{"No history of pneumonia or valley fever.", "valley fever", "negated"},
	{"The patient denies chest pain but reports shortness of breath.", "shortness of breath", "present"},
	{"No fever, however she has a cough.", "cough", "present"},
	{"GI ROS is -ve for change in bowel habit.", "change in bowel habit", "negated"},
	{"In general, no change in vision, diplopia or change in hearing.", "change in vision", "negated"},
	{"Chest x-ray shows no significant change.", "change", "present"},
	{"Gram negative rods were seen.", "rods", "present"},
	{"The patient does not have asthma.", "asthma", "negated"},
	{"I don't have any chest pain.", "chest pain", "negated"},
	{"There is low suspicion for coronary artery disease.", "coronary artery disease", "negated"},
	{"Possible pneumonia in the right lower lobe.", "pneumonia", "possible"},
	{"Rule out obstructive sleep apnea.", "obstructive sleep apnea", "possible"},
	{"R/O myocardial infarction.", "myocardial infarction", "possible"},
	{"Findings are concerning for appendicitis.", "appendicitis", "possible"},
	{"Probable urinary tract infection.", "urinary tract infection", "possible"},
	{"Questionable TIA in the past.", "TIA", "possible"},
	{"The rash is likely due to contact dermatitis.", "contact dermatitis", "possible"},
	{"Cellulitis versus abscess.", "Cellulitis", "possible"},
	{"Return if you develop chest pain.", "chest pain", "hypothetical"},
	{"If you have any shortness of breath, call us.", "shortness of breath", "hypothetical"},
	{"Steroids can cause high blood sugar.", "high blood sugar", "hypothetical"},
	{"They can also cause rash, nausea, headaches.", "headaches", "hypothetical"},
	{"Watch for signs of infection.", "infection", "hypothetical"},
	{"Deep venous thrombosis prophylaxis as per surgeon.", "Deep venous thrombosis", "hypothetical"},
	{"He has a history of myocardial infarction.", "myocardial infarction", "historical"},
	{"Status post appendectomy for appendicitis.", "appendicitis", "historical"},
	{"S/P MI in 2010.", "MI", "historical"},
	{"About a 20-pack-year tobacco use, quit in 1991.", "tobacco use", "historical"},
	{"Her pneumonia has resolved.", "pneumonia", "historical"},
	{"He had asthma as a child.", "asthma", "historical"},
	{"Her mother has diabetes.", "diabetes", "family:mother"},
	{"Father died of an MI at 60.", "MI", "family:father"},
	{"Mother with breast cancer.", "breast cancer", "family:mother"},
	{"My mum has eczema, and my dad has asthma.", "asthma", "family:father"},
	{"My mum has eczema, and I also had eczema as a kid.", "eczema", "family:mother"},
	{"Family history of coronary artery disease.", "coronary artery disease", "family"},
	{"Colon cancer runs in the family.", "Colon cancer", "family"},
	{"Her mother brought her in because of fever.", "fever", "present"},
	{"No family history of colon cancer.", "colon cancer", "negated"},
	{"Chest pain, rule out myocardial infarction.", "Chest pain", "present"},
	{"Any chest pain?", "chest pain", "possible"},
}

func TestAssess(t *testing.T) {
	t.Parallel()
	if len(assertionCases) < 40 {
		t.Fatalf("%d assertion cases, want at least 40", len(assertionCases))
	}
	for _, tc := range assertionCases {
		t.Run(tc.sentence+"/"+tc.mention, func(t *testing.T) {
			t.Parallel()
			i := strings.Index(tc.sentence, tc.mention)
			if i < 0 {
				t.Fatalf("mention %q not in sentence", tc.mention)
			}
			a := extract.Assess(tc.sentence, i, i+len(tc.mention))
			if got := name(a); got != tc.want {
				t.Errorf("assertion %q, want %q (%+v)", got, tc.want, a)
			}
		})
	}
}

// name says an assertion the way the cases do; a family assertion wins,
// then hypothetical, negated, possible, historical.
func name(a extract.Assertion) string {
	switch {
	case a.Family && a.Negated:
		return "negated"
	case a.Family && a.Relative != "":
		return "family:" + a.Relative
	case a.Family:
		return "family"
	case a.Hypothetical:
		return "hypothetical"
	case a.Negated:
		return "negated"
	case a.Possible:
		return "possible"
	case a.Historical:
		return "historical"
	}
	return "present"
}
