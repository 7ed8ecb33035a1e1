package extract

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/medscribe/medscribe/fhir"
)

// LM is a loaded language model (extract/llama backs it with llama.cpp).
type LM interface {
	Tokenize(text string, bos, special bool) ([]int, error)
	// NewSeq allocates one conversation's KV cache.
	NewSeq() (Seq, error)
	// Grammar compiles a JSON schema into the model's grammar format.
	Grammar(schema string) (string, error)
}

// Seq is one conversation whose evaluated tokens stay cached between calls.
type Seq interface {
	Len() int
	Capacity() int
	// Truncate drops cached tokens after the first n.
	Truncate(n int)
	// Eval appends tokens to the cache.
	Eval(ctx context.Context, tokens []int) (int, error)
	// Generate samples a reply after the cached tokens under grammar,
	// calling fn with each piece of text (false stops), and removes the
	// reply from the cache before returning it.
	Generate(ctx context.Context, grammar string, maxTokens int, fn func(piece string) bool) (string, error)
	Close()
}

// LLMOptions tune the model extractor.
type LLMOptions struct {
	// MaxTokens bounds one answer (default 256).
	MaxTokens int
	// MinScore is the least terminology match score that gives an item a
	// code (default 0.8): below it the item keeps its name and no code.
	MinScore float64
	// Corrections is how many times the model may fix an item the
	// validator rejected before its code comes from the terminology alone
	// (default 1; negative for none).
	Corrections int
	// Schema replaces the answer's JSON schema (tests force answers with
	// it); it must keep the item fields' names.
	Schema string
}

// LLMStats count the work of one session, for benchmarks and metrics.
type LLMStats struct {
	Calls             int
	InstructionTokens int // the instructions, evaluated once per session
	PromptTokens      int // tokens evaluated for prompts (instructions, segments, turn markers)
	FullPromptTokens  int // what re-reading everything at each call would have evaluated
	GeneratedTokens   int
	Rebuilds          int // times the transcript was windowed to fit the context
	Corrections       int
	FirstPartial      []time.Duration // per call: segment given → first item.partial
	FirstFinal        []time.Duration // per call: segment given → first item produced
}

// LLM extracts items with a language model that reads the transcript once:
// every segment is appended to a KV cache that holds the instructions and
// everything before it. Codes come from the terminology, never from the
// model alone.
type LLM struct {
	lm      LM
	seq     Seq
	grammar string
	ground  Grounder
	asm     *Assembler
	opts    LLMOptions
	suffix  []int
	base    int     // cached tokens of the instructions
	lines   [][]int // tokens of each segment line, in order
	// identity, when set (by Merged), names items instead of identify's
	// own keys, so that partial and final items carry the merged ids.
	identity func(Description) string

	ids   idTable
	mu    sync.Mutex
	items map[string]Description
	stats LLMStats
}

// NewLLM starts a session's model extractor. It evaluates the instructions
// at once, so the first segment costs only its own tokens.
func NewLLM(ctx context.Context, lm LM, g Grounder, asm *Assembler, opts *LLMOptions) (*LLM, error) {
	o := LLMOptions{MaxTokens: 256, MinScore: 0.8, Corrections: 1}
	if opts != nil {
		if opts.MaxTokens > 0 {
			o.MaxTokens = opts.MaxTokens
		}
		if opts.MinScore > 0 {
			o.MinScore = opts.MinScore
		}
		if opts.Corrections > 0 {
			o.Corrections = opts.Corrections
		} else if opts.Corrections < 0 {
			o.Corrections = 0
		}
	}
	schema := itemSchema
	if opts != nil && opts.Schema != "" {
		schema = opts.Schema
	}
	grammar, err := lm.Grammar(schema)
	if err != nil {
		return nil, fmt.Errorf("llm extractor: %w", err)
	}
	instr, err := lm.Tokenize(gemmaUserStart+instructions, true, true)
	if err != nil {
		return nil, fmt.Errorf("llm extractor: tokenize instructions: %w", err)
	}
	suffix, err := lm.Tokenize(answerSuffix, false, true)
	if err != nil {
		return nil, fmt.Errorf("llm extractor: tokenize turn markers: %w", err)
	}
	seq, err := lm.NewSeq()
	if err != nil {
		return nil, fmt.Errorf("llm extractor: %w", err)
	}
	if len(instr)+len(suffix)+o.MaxTokens*2 > seq.Capacity() {
		seq.Close()
		return nil, fmt.Errorf("llm extractor: context of %d tokens is too small for the instructions", seq.Capacity())
	}
	if _, err := seq.Eval(ctx, instr); err != nil {
		seq.Close()
		return nil, fmt.Errorf("llm extractor: evaluate instructions: %w", err)
	}
	x := &LLM{lm: lm, seq: seq, grammar: grammar, ground: g, asm: asm, opts: o, suffix: suffix,
		base: len(instr), items: map[string]Description{}}
	x.stats.PromptTokens, x.stats.InstructionTokens = len(instr), len(instr)
	return x, nil
}

// Close frees the KV cache.
func (x *LLM) Close() error {
	x.seq.Close()
	return nil
}

// Stats returns the session's counters.
func (x *LLM) Stats() LLMStats {
	x.mu.Lock()
	defer x.mu.Unlock()
	s := x.stats
	s.FirstPartial = append([]time.Duration(nil), s.FirstPartial...)
	s.FirstFinal = append([]time.Duration(nil), s.FirstFinal...)
	return s
}

// modelItem is one item as the model writes it.
type modelItem struct {
	Type      string `json:"type"`
	Name      string `json:"name"`
	Dose      string `json:"dose,omitempty"`
	Route     string `json:"route,omitempty"`
	Frequency string `json:"frequency,omitempty"`
	Status    string `json:"status,omitempty"`
	Assertion string `json:"assertion,omitempty"`
	Relative  string `json:"relative,omitempty"`
	Code      string `json:"code,omitempty"`
}

type modelAnswer struct {
	Items []modelItem `json:"items"`
}

// Feed implements Extractor.
func (x *LLM) Feed(ctx context.Context, seg Segment, partial func(Partial)) ([]Item, error) {
	start := time.Now()
	line, err := x.lm.Tokenize(segmentLine(seg.ID, seg.Text), false, false)
	if err != nil {
		return nil, fmt.Errorf("llm extractor: tokenize segment: %w", err)
	}
	x.lines = append(x.lines, line)
	if err := x.fit(ctx); err != nil {
		return nil, err
	}
	evaluated := x.seq.Len()
	if _, err := x.seq.Eval(ctx, line); err != nil {
		return nil, fmt.Errorf("llm extractor: evaluate segment: %w", err)
	}
	answer, tokens, firstPartial, err := x.ask(ctx, seg, partial, "")
	if err != nil {
		return nil, err
	}
	full := x.base
	for _, l := range x.lines {
		full += len(l)
	}
	x.mu.Lock()
	x.stats.Calls++
	x.stats.PromptTokens += x.seq.Len() - evaluated + len(x.suffix)
	x.stats.FullPromptTokens += full + len(x.suffix)
	x.stats.GeneratedTokens += tokens
	if firstPartial > 0 {
		x.stats.FirstPartial = append(x.stats.FirstPartial, firstPartial)
	}
	x.mu.Unlock()

	var out []Item
	for _, mi := range answer.Items {
		it, ok, err := x.item(ctx, seg, mi)
		if err != nil {
			return out, err
		}
		if ok {
			out = append(out, it)
			if len(out) == 1 {
				x.mu.Lock()
				x.stats.FirstFinal = append(x.stats.FirstFinal, time.Since(start))
				x.mu.Unlock()
			}
		}
	}
	return out, nil
}

// resourceTypes maps item kinds to the resources they become.
var resourceTypes = map[string]string{
	KindMedication: "MedicationStatement", KindCondition: "Condition",
	KindAllergy: "AllergyIntolerance", KindFamily: "FamilyMemberHistory",
}

// ask evaluates the turn markers (or a correction turn), generates an
// answer while streaming partial items, and drops both from the cache.
// Partial items carry the id their final item will have: once an item's
// name is complete it is grounded and identified, so later mentions and
// the final item agree. It returns the time from the start of generation
// to the first partial.
func (x *LLM) ask(ctx context.Context, seg Segment, partial func(Partial), correction string) (modelAnswer, int, time.Duration, error) {
	keep := x.seq.Len()
	defer x.seq.Truncate(keep)
	suffix := x.suffix
	if correction != "" {
		var err error
		if suffix, err = x.lm.Tokenize(correction, false, true); err != nil {
			return modelAnswer{}, 0, 0, fmt.Errorf("llm extractor: tokenize correction: %w", err)
		}
	}
	start := time.Now()
	if _, err := x.seq.Eval(ctx, suffix); err != nil {
		return modelAnswer{}, 0, 0, fmt.Errorf("llm extractor: evaluate turn: %w", err)
	}
	var firstPartial time.Duration
	var text strings.Builder
	tokens := 0
	type pending struct {
		id     string
		kind   string
		fields map[string]string
	}
	items := map[int]*pending{}
	stream := newItemStream(func(i int, key, value string) {
		if partial == nil {
			return
		}
		p := items[i]
		if p == nil {
			p = &pending{fields: map[string]string{}}
			items[i] = p
		}
		p.fields[key] = value
		if key == "name" && p.id == "" {
			mi := modelItem{Type: p.fields["type"], Name: value}
			if d, _, err := x.groundItem(ctx, mi); err == nil && d.Kind != "" && strings.TrimSpace(value) != "" {
				p.id, p.kind = x.identify(d), resourceTypes[d.Kind]
			}
		}
		if p.id == "" || (key != "name" && key != "dose" && key != "route" && key != "frequency" && key != "status") {
			return
		}
		if firstPartial == 0 {
			firstPartial = time.Since(start)
		}
		fields := make(map[string]string, len(p.fields))
		for k, v := range p.fields {
			if k != "type" && k != "code" {
				fields[k] = v
			}
		}
		partial(Partial{ItemID: p.id, Kind: p.kind, Fields: fields})
	}, nil)
	_, err := x.seq.Generate(ctx, x.grammar, x.opts.MaxTokens, func(piece string) bool {
		tokens++
		text.WriteString(piece)
		stream.Write(piece)
		return true
	})
	if err != nil {
		return modelAnswer{}, tokens, firstPartial, fmt.Errorf("llm extractor: generate: %w", err)
	}
	var ans modelAnswer
	if err := json.Unmarshal([]byte(text.String()), &ans); err != nil {
		// The grammar makes this rare: only an answer cut at MaxTokens.
		return modelAnswer{}, tokens, firstPartial, nil
	}
	return ans, tokens, firstPartial, nil
}

// fit makes room for the newest segment line: when the cache would
// overflow, the transcript is rebuilt as the instructions, a summary of
// the items so far, and as many recent lines as fill half the context.
func (x *LLM) fit(ctx context.Context) error {
	need := x.seq.Len() + len(x.lines[len(x.lines)-1]) + len(x.suffix) + x.opts.MaxTokens
	if need <= x.seq.Capacity() {
		return nil
	}
	x.seq.Truncate(x.base)
	summary, err := x.lm.Tokenize(summaryLine(x.knownItems()), false, false)
	if err != nil {
		return fmt.Errorf("llm extractor: tokenize summary: %w", err)
	}
	budget := x.seq.Capacity()/2 - len(summary)
	first := len(x.lines) - 1
	used := len(x.lines[first])
	for first > 0 && used+len(x.lines[first-1]) <= budget {
		first--
		used += len(x.lines[first])
	}
	toks := summary
	for _, l := range x.lines[first : len(x.lines)-1] {
		toks = append(toks, l...)
	}
	if _, err := x.seq.Eval(ctx, toks); err != nil {
		return fmt.Errorf("llm extractor: rebuild context: %w", err)
	}
	x.mu.Lock()
	x.stats.Rebuilds++
	x.stats.PromptTokens += len(toks)
	x.mu.Unlock()
	return nil
}

// knownItems lists the items so far, briefly, for the summary line.
func (x *LLM) knownItems() []string {
	x.mu.Lock()
	defer x.mu.Unlock()
	ids := make([]string, 0, len(x.items))
	for id := range x.items {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	var out []string
	for _, id := range ids {
		d := x.items[id]
		s := d.Kind + " " + d.Name
		if d.Dose != "" {
			s += " " + d.Dose
		}
		if d.Assertion != "" && d.Assertion != "present" {
			s += " (" + d.Assertion + ")"
		}
		out = append(out, s)
	}
	if len(out) > 40 {
		out = out[len(out)-40:]
	}
	return out
}

// item grounds one model item in the terminology, builds and validates
// it, and lets the model correct it when the validator finds errors.
func (x *LLM) item(ctx context.Context, seg Segment, mi modelItem) (Item, bool, error) {
	mi.Name = strings.TrimSpace(mi.Name)
	if mi.Name == "" {
		return Item{}, false, nil
	}
	d, source, err := x.groundItem(ctx, mi)
	if err != nil {
		return Item{}, false, err
	}
	if d.Kind == "" {
		return Item{}, false, nil
	}
	d.ID = x.identify(d)
	it, nerr, why, err := x.build(ctx, d, source, seg.ID)
	if err != nil {
		return Item{}, false, err
	}
	for try := 0; nerr > 0 && try < x.opts.Corrections; try++ {
		x.mu.Lock()
		x.stats.Corrections++
		x.mu.Unlock()
		orig, _ := json.Marshal(mi)
		ans, _, _, err := x.ask(ctx, seg, nil, correctionPrompt(string(orig), why))
		if err != nil {
			return Item{}, false, err
		}
		if len(ans.Items) == 0 {
			break
		}
		fixed, _, err := x.groundItem(ctx, ans.Items[0])
		if err != nil {
			return Item{}, false, err
		}
		if fixed.Kind != d.Kind {
			break
		}
		fixed.ID = d.ID
		fit, ferr, fwhy, err := x.build(ctx, fixed, SourceCorrected, seg.ID)
		if err != nil {
			return Item{}, false, err
		}
		if ferr < nerr {
			d, it, nerr, why = fixed, fit, ferr, fwhy
		}
	}
	if nerr > 0 {
		// Last resort: only what the terminology vouches for.
		plain := Description{ID: d.ID, Kind: d.Kind, Name: d.Name, Text: d.Text, Code: d.Code,
			Ingredients: d.Ingredients, Status: d.Status, Assertion: d.Assertion, Relative: d.Relative}
		fit, ferr, _, err := x.build(ctx, plain, SourceFallback, seg.ID)
		if err != nil {
			return Item{}, false, err
		}
		if ferr < nerr {
			d, it, nerr = plain, fit, ferr
		}
		if it.Resource == nil {
			return Item{}, false, nil // nothing buildable: drop the item
		}
	}
	x.mu.Lock()
	x.items[d.ID] = d
	x.mu.Unlock()
	return it, true, nil
}

// build assembles a description. An item the builders refuse (a reversed
// dose range, say) counts as one error, like a validation error, so that
// the model gets to correct it; why says what was wrong.
func (x *LLM) build(ctx context.Context, d Description, source string, segID int) (Item, int, string, error) {
	it, nerr, err := x.asm.Item(ctx, d, source, segID)
	if errors.Is(err, fhir.ErrInvalidItem) {
		return Item{}, 1, err.Error(), nil
	}
	if err != nil {
		return Item{}, 0, "", err
	}
	return it, nerr, problems(it.Validation), nil
}

// problems summarises an OperationOutcome's errors for a correction prompt.
func problems(outcome json.RawMessage) string {
	var oo struct {
		Issue []struct {
			Severity    string   `json:"severity"`
			Diagnostics string   `json:"diagnostics"`
			Expression  []string `json:"expression"`
		} `json:"issue"`
	}
	if json.Unmarshal(outcome, &oo) != nil {
		return "invalid resource"
	}
	var out []string
	for _, is := range oo.Issue {
		if is.Severity == "error" || is.Severity == "fatal" {
			out = append(out, strings.TrimSpace(is.Diagnostics+" "+strings.Join(is.Expression, ",")))
		}
	}
	return strings.Join(out, "; ")
}

// groundItem turns a model item into a description whose code, if any,
// comes from the terminology. A code the model wrote is kept only when
// the terminology holds it and it agrees with the name.
func (x *LLM) groundItem(ctx context.Context, mi modelItem) (Description, string, error) {
	d := Description{Name: mi.Name, Text: mi.Name, Dose: mi.Dose, Route: mi.Route, Frequency: mi.Frequency,
		Status: mi.Status, Assertion: mi.Assertion, Relative: mi.Relative}
	source := SourceModel
	switch mi.Type {
	case KindMedication, KindAllergy:
		d.Kind = mi.Type
		strength := ""
		if _, ok := parseDose(mi.Dose); ok && mi.Type == KindMedication {
			strength = mi.Dose
		}
		drug, ingr, score, ok, err := x.ground.ResolveDrugCoding(ctx, mi.Name, strength, "")
		if err != nil {
			return d, "", fmt.Errorf("ground %s: %w", mi.Type, err)
		}
		resolved := ok && score >= x.opts.MinScore
		if mi.Code != "" {
			agrees := false
			if resolved {
				agrees = mi.Code == drug.Code
				for _, in := range ingr {
					agrees = agrees || mi.Code == in.Code
				}
			}
			if c, ok, err := x.ground.LookupCoding(ctx, fhir.SystemRxNorm, mi.Code); err != nil {
				return d, "", fmt.Errorf("ground %s: %w", mi.Type, err)
			} else if ok && agrees {
				d.Code, d.Ingredients = c, ingr
				return d, SourceModel, nil
			}
			source = SourceFallback
		}
		if resolved {
			d.Code, d.Ingredients = drug, ingr
		}
	case KindCondition, KindFamily:
		d.Kind = mi.Type
		if mi.Type == KindCondition && mi.Assertion == "family" {
			d.Kind = KindFamily
		}
		c, score, ok, err := x.ground.ResolveConditionCoding(ctx, mi.Name)
		if err != nil {
			return d, "", fmt.Errorf("ground condition: %w", err)
		}
		resolved := ok && score >= x.opts.MinScore
		if mi.Code != "" {
			mc, ok, err := x.ground.LookupCoding(ctx, fhir.SystemICD10CM, mi.Code)
			if err != nil {
				return d, "", fmt.Errorf("ground condition: %w", err)
			}
			// The model's code agrees when it is the resolved code or in
			// its category (the model may be more specific).
			if ok && resolved && len(mc.Code) >= 3 && len(c.Code) >= 3 && mc.Code[:3] == c.Code[:3] {
				d.Code = mc
				return d, SourceModel, nil
			}
			source = SourceFallback
		}
		if resolved {
			d.Code = c
		}
	}
	return d, source, nil
}

// identify gives the same id to the same thing mentioned again: a drug by
// its ingredients, a condition by its code, otherwise by its name.
func (x *LLM) identify(d Description) string {
	if x.identity != nil {
		return x.identity(d)
	}
	return x.ids.id(d, d.Ingredients)
}

// ErrNoModel is returned when the LLM extractor is requested without a model.
var ErrNoModel = errors.New("no language model configured")
