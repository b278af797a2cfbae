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

// japaneseWords calls fn with the surface of each morpheme of text. Runs
// of ASCII letters are words of their own, as Qdrant's Japanese model
// keeps them (UniDic would cut an unknown word such as "API" into
// letters); the text between them goes to the analyser.
func japaneseWords(text string, fn func(string)) {
	tok := loadJapanese()
	for len(text) > 0 {
		i := 0
		for i < len(text) && isASCIILetter(text[i]) {
			i++
		}
		if i > 0 {
			fn(text[:i])
			text = text[i:]
			continue
		}
		for i < len(text) && !isASCIILetter(text[i]) {
			i++
		}
		for _, t := range tok.Tokenize(text[:i]) {
			fn(t.Surface)
		}
		text = text[i:]
	}
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
