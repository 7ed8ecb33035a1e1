package extract

import (
	"fmt"
	"strings"
)

// The language model reads one user turn that holds the instructions and
// the transcript, one numbered line per committed segment, and answers in a
// model turn with the items of the last line. The instructions and each
// segment's line stay in the KV cache; only the turn markers and the answer
// are evaluated and dropped per call.

// Gemma's chat template: no system role, so the instructions open the user
// turn; a turn ends with <end_of_turn> and the reply follows
// "<start_of_turn>model".
const (
	gemmaUserStart  = "<start_of_turn>user\n"
	gemmaTurnEnd    = "<end_of_turn>\n"
	gemmaModelStart = "<start_of_turn>model\n"
)

// itemSchema is the JSON schema of an answer. Field order is the order
// fields are generated and streamed: the name first, then the sig, then
// the status. Lengths and counts are bounded so that one answer's cost is
// bounded too.
const itemSchema = `{
  "type": "object",
  "properties": {
    "items": {
      "type": "array",
      "maxItems": 6,
      "items": {
        "type": "object",
        "properties": {
          "type": {"enum": ["medication", "condition", "allergy", "family_history"]},
          "name": {"type": "string", "maxLength": 60},
          "dose": {"type": "string", "maxLength": 24},
          "route": {"type": "string", "maxLength": 16},
          "frequency": {"type": "string", "maxLength": 24},
          "status": {"enum": ["active", "intended", "stopped", "not-taken", "unknown"]},
          "assertion": {"enum": ["present", "negated", "possible", "hypothetical", "historical", "family"]},
          "relative": {"type": "string", "maxLength": 24},
          "code": {"type": "string", "maxLength": 12}
        },
        "required": ["type", "name"]
      }
    }
  },
  "required": ["items"]
}`

// instructions open the user turn. Kept short: every token here is
// evaluated once per session.
const instructions = `You extract clinical items from a dictation as it is transcribed.
The transcript follows, one numbered line per stretch of speech. Reply with JSON:
{"items":[...]} listing only the items mentioned in the LAST line that are new or changed.
Each item: type (medication, condition, allergy, family_history), name (as a clinician writes it),
for medications dose, route, frequency and status (active, intended, stopped, not-taken),
for conditions assertion (present, negated, possible, hypothetical, historical, family),
for family history the relative, and code (RxNorm or ICD-10-CM) if you are sure.
A drug the patient is allergic to is an allergy, never a medication.
A relative's disease is family_history, never the patient's condition.
Examples:
[1] She takes metformin 500 mg twice daily and denies chest pain.
{"items":[{"type":"medication","name":"metformin","dose":"500 mg","route":"oral","frequency":"BID","status":"active"},{"type":"condition","name":"chest pain","assertion":"negated"}]}
[2] Allergic to penicillin. Mother had breast cancer.
{"items":[{"type":"allergy","name":"penicillin"},{"type":"family_history","name":"breast cancer","relative":"mother"}]}

Transcript:`

// segmentLine is how a committed segment appears in the transcript.
func segmentLine(n int, text string) string {
	return fmt.Sprintf("\n[%d] %s", n, strings.TrimSpace(text))
}

// answerSuffix closes the user turn and opens the reply.
const answerSuffix = "\n" + gemmaTurnEnd + gemmaModelStart

// summaryLine carries what earlier lines established once they no longer
// fit the context window.
func summaryLine(items []string) string {
	if len(items) == 0 {
		return "\n(Earlier lines omitted.)"
	}
	return "\n(Earlier lines omitted. Items so far: " + strings.Join(items, "; ") + ".)"
}

// correctionPrompt asks the model to fix an item the validator rejected.
func correctionPrompt(itemJSON, problems string) string {
	return "\n" + gemmaTurnEnd + gemmaUserStart +
		"This item from your answer is invalid: " + itemJSON + "\nProblems: " + problems +
		"\nReply with the corrected item list for the last line." + "\n" + gemmaTurnEnd + gemmaModelStart
}
