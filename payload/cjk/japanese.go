package cjk

import (
	"fmt"
	"sync"

	"github.com/ikawaha/kagome-dict/uni"
	"github.com/ikawaha/kagome/v2/tokenizer"
)

var (
	japaneseOnce sync.Once
	japaneseTok  *tokenizer.Tokenizer
)

// loadJapanese returns the Japanese morphological analyser, loading its
// dictionary on first use. It uses UniDic, whose short units are the
// BCCWJ short-unit words that Qdrant's Japanese model was trained to
// produce. Only the surface forms are needed, so the dictionary is loaded
// without its feature columns.
func loadJapanese() *tokenizer.Tokenizer {
	japaneseOnce.Do(func() {
		t, err := tokenizer.New(uni.DictShrink(), tokenizer.OmitBosEos())
		if err != nil {
			panic(fmt.Sprintf("cjk: BUG: embedded UniDic: %v", err))
		}
		japaneseTok = t
	})
	return japaneseTok
}

// japaneseWords calls fn with the surface of each morpheme of text.
func japaneseWords(text string, fn func(string)) {
	for _, tok := range loadJapanese().Tokenize(text) {
		fn(tok.Surface)
	}
}
