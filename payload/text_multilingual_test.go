package payload

import (
	"slices"
	"testing"

	"github.com/qlite/qlite/payload/cjk"
)

// TestMultilingualMatches checks which documents a match-text query finds
// with the multilingual tokenizer. Every expectation is what Qdrant 1.17.1
// answers for the same documents and query (asked with a scroll filter
// {"key": "t", "match": {"text": query}}).
func TestMultilingualMatches(t *testing.T) {
	docs := map[uint32]string{
		0:  "向量数据库是一种数据库",
		1:  "中华人民共和国成立了",
		2:  "人民的意志是政府权力的基础",
		3:  "他們賦有理性和良心並應以兄弟關係的精神互相對待",
		4:  "我们的数据库很好",
		5:  "한국어의형태해석을실시할수있습니다",
		6:  "한국어 형태 해석",
		7:  "café résumé version 123",
		8:  "ﬁne Ⅻ ２０２５年",
		12: "cafe この文章 here",
		13: "नमस्ते दुनिया",
		14: "x² don't",
		15: "Привет, мир! abcабв",
	}
	f := multilingualIndex(t, docs)
	// Chinese: jieba words, long words also split into dictionary bigrams.
	f("向量", 0)
	f("数据库", 0, 4)
	f("数据", 0, 4)
	f("据库")
	f("共和国", 1)
	f("人民", 1, 2)
	f("中华人民共和国", 1)
	// Simplified and traditional forms of one character are one word, but
	// words are cut before the characters are folded.
	f("們", 3)
	f("们", 3)
	f("我们", 4)
	f("我們")
	f("基础", 2)
	f("基礎")
	f("關係", 3)
	f("关系")
	// Korean is split at spaces and punctuation only.
	f("한국어", 6)
	f("한국어의")
	f("한국어의형태해석을실시할수있습니다", 5)
	// Compatibility forms are decomposed, accents dropped from Latin, and
	// words without a letter are not indexed.
	f("cafe", 7, 12)
	f("café", 7, 12)
	f("123")
	f("fine", 8)
	f("xii", 8)
	f("年", 8)
	// In text that is mainly Latin, a stretch of kana and kanji is not
	// segmented (Qdrant has no Japanese dictionary there), so its words do
	// not match.
	f("文章")
	// Other scripts: words run from separator to separator or to a change
	// of script, vowel signs and viramas included.
	f("नमस्ते", 13)
	f("नमस")
	f("x2", 14)
	f("don", 14)
	f("t", 14)
	f("abc", 15)
	f("абв", 15)
	f("мир", 15)
}

// TestMultilingualMatchesJapanese is TestMultilingualMatches for Japanese
// text, which loads the Japanese dictionary.
func TestMultilingualMatchesJapanese(t *testing.T) {
	if raceEnabled {
		t.Skip("loading the Japanese dictionary takes half a minute with -race; payload/cjk checks it under -race")
	}
	if cjk.JapaneseDictionary != "UniDic" {
		t.Skipf("the expected words are Qdrant's, which UniDic cuts as it does; this build segments with %s", cjk.JapaneseDictionary)
	}
	f := multilingualIndex(t, map[uint32]string{
		9:  "このパソコンは8GBのメモリです。Python3を使います。",
		10: "データベースを使う",
		11: "日本語のテキストです。Qdrantのコードで単体テストで使用されています。",
		12: "cafe この文章 here",
	})
	// Queried, a stretch of kana and kanji is Japanese and is cut into
	// words, which a stretch left whole inside Latin text does not have.
	f("この文章")
	// Japanese: morphemes, with runs of Latin letters kept whole.
	f("gb", 9)
	f("8gb")
	f("python", 9)
	f("python3")
	f("データベース", 10)
	f("データ")
	f("日本", 11)
	f("語", 11)
	// A query of ideographs only is not Japanese: it is cut as Chinese,
	// and 単 is not in the Chinese dictionary.
	f("単体")
	f("テスト", 11)
	f("qdrant", 11)
}

// multilingualIndex indexes docs with the multilingual tokenizer and
// returns a function that checks the documents a query matches.
func multilingualIndex(t *testing.T, docs map[uint32]string) func(q string, want ...uint32) {
	x, err := NewTextIndex(IndexParams{Type: TypeText, Text: TextParams{Tokenizer: TokenizerMultilingual}})
	if err != nil {
		t.Fatal(err)
	}
	for id, d := range docs {
		x.Set(id, []Value{StringValue(d)})
	}
	return func(q string, want ...uint32) {
		t.Helper()
		if got := x.Text(q).ToArray(); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Text(%q) = %v, want %v", q, got, want)
		}
	}
}
