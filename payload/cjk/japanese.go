package cjk

import (
	"fmt"
	"sync"

	"github.com/ikawaha/kagome/v2/tokenizer"
)

var (
	japaneseOnce sync.Once
	japaneseTok  *tokenizer.Tokenizer
)

// loadJapanese returns the Japanese morphological analyser, loading its
// dictionary (see japaneseDict) on first use.
func loadJapanese() *tokenizer.Tokenizer {
	japaneseOnce.Do(func() {
		t, err := tokenizer.New(japaneseDict(), tokenizer.OmitBosEos())
		if err != nil {
			panic(fmt.Sprintf("cjk: BUG: embedded %s: %v", JapaneseDictionary, err))
		}
		japaneseTok = t
	})
	return japaneseTok
}

// japaneseWords calls fn with the surface of each morpheme of text. Runs
// of ASCII letters are words of their own, as Qdrant's Japanese model
// keeps them: UniDic cuts an unknown word such as "API" into letters,
// which are joined again, and "Python3" is cut after the letters.
func japaneseWords(text string, fn func(string)) {
	start, end := -1, -1 // the pending run of ASCII letters
	flush := func() {
		if start >= 0 {
			fn(text[start:end])
			start = -1
		}
	}
	for _, t := range loadJapanese().Tokenize(text) {
		s, p := t.Surface, t.Position
		for i := 0; i < len(s); {
			j := i
			for j < len(s) && isASCIILetter(s[j]) {
				j++
			}
			if j > i {
				if start < 0 || end != p+i {
					flush()
					start = p + i
				}
				end = p + j
				i = j
				continue
			}
			for j < len(s) && !isASCIILetter(s[j]) {
				j++
			}
			flush()
			fn(s[i:j])
			i = j
		}
	}
	flush()
}

func isASCIILetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }
