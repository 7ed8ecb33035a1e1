package extract

// NewScriptLM exposes the scripted model to the external tests.
func NewScriptLM(answers ...string) LM { return &scriptLM{answers: answers} }
