package main

import (
	"context"
	"errors"

	"github.com/medscribe/medscribe/db/terminology"
	"github.com/medscribe/medscribe/extract"
	"github.com/medscribe/medscribe/extract/llama"
)

// llamaSeqOptions sizes one session's language-model context.
func llamaSeqOptions(ctxTokens, threads int) llama.SeqOptions {
	return llama.SeqOptions{Context: ctxTokens, Batch: 512, Threads: threads}
}

// newRulesExtractor is replaced by the deterministic extractor's
// constructor when it lands.
func newRulesExtractor(ctx context.Context, t *terminology.DB, asm *extract.Assembler) (extract.Extractor, error) {
	return nil, errors.New("the rules extractor is not available in this build")
}
