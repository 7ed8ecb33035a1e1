package main

import (
	"context"
	"sync"

	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/llama"
)

// llamaSeqOptions sizes one session's language-model context.
func llamaSeqOptions(ctxTokens, threads int) llama.SeqOptions {
	return llama.SeqOptions{Context: ctxTokens, Batch: 512, Threads: threads}
}

// termVocabulary adapts the terminology database to extract.Vocabulary, from
// which the rules extractor builds its in-memory matcher.
type termVocabulary struct{ db *terminology.DB }

func (v termVocabulary) EachName(ctx context.Context, fn func(extract.TermName) error) error {
	return v.db.ForEachDesignation(ctx, func(r terminology.DesignationRecord) error {
		return fn(extract.TermName{
			Concept: extract.TermConcept{System: r.Concept.URL(), Code: r.Concept.Code, Display: r.Concept.Display,
				Kind: r.Concept.Kind, Billable: r.Concept.Billable},
			Kind: r.Kind, Text: r.Text,
		})
	})
}

func (v termVocabulary) EachLink(ctx context.Context, fn func(extract.TermLink) error) error {
	return v.db.ForEachRelation(ctx, func(r terminology.Relation) error {
		return fn(extract.TermLink{System: terminology.SystemURL(r.System), Src: r.Src, Rel: r.Rel, Dst: r.Dst})
	})
}

// lexicons holds one matcher per terminology database; it is built on
// first use and shared by every session.
var lexicons sync.Map // *terminology.DB → *extract.Lexicon

func lexiconOf(t *terminology.DB) *extract.Lexicon {
	if l, ok := lexicons.Load(t); ok {
		return l.(*extract.Lexicon)
	}
	l, _ := lexicons.LoadOrStore(t, extract.NewLexicon(termVocabulary{t}))
	return l.(*extract.Lexicon)
}

// newRulesExtractor makes one session's deterministic extractor.
func newRulesExtractor(ctx context.Context, t *terminology.DB, asm *extract.Assembler) (*extract.Rules, error) {
	lex := lexiconOf(t)
	if err := lex.Build(ctx); err != nil {
		return nil, err
	}
	return extract.NewRules(lex, asm), nil
}
