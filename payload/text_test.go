package payload

import (
	"slices"
	"testing"
)

func TestTokenize(t *testing.T) {
	f := func(p TextParams, text string, doc, query []string) {
		t.Helper()
		x, err := NewTextIndex(IndexParams{Type: TypeText, Text: p})
		if err != nil {
			t.Fatal(err)
		}
		if got := x.Tokenize(text, nil); !slices.Equal(got, doc) {
			t.Errorf("%+v Tokenize(%q) = %q, want %q", p, text, got, doc)
		}
		if query == nil {
			query = doc
		}
		if got := x.TokenizeQuery(text, nil); !slices.Equal(got, query) && !(len(got) == 0 && len(query) == 0) {
			t.Errorf("%+v TokenizeQuery(%q) = %q, want %q", p, text, got, query)
		}
	}
	none := []string{}
	off := false

	// word: split on anything not alphanumeric, lower-case by default.
	f(TextParams{}, "Hello, world! Привет, мир!", []string{"hello", "world", "привет", "мир"}, nil)
	f(TextParams{}, "e-mail: a.b@c.de 3.14 x²", []string{"e", "mail", "a", "b", "c", "de", "3", "14", "x²"}, nil)
	f(TextParams{}, "", none, nil)
	f(TextParams{}, "  ,,, ", none, nil)
	f(TextParams{Lowercase: &off}, "Hello World", []string{"Hello", "World"}, nil)
	// Vowel signs are alphabetic and stay in the word; the virama is not.
	f(TextParams{}, "नमस्ते दुनिया", []string{"नमस", "ते", "दुनिया"}, nil)
	f(TextParams{Tokenizer: TokenizerMultilingual}, "What are you waiting for?", []string{"what", "are", "you", "waiting", "for"}, nil)

	// whitespace: split on whitespace only.
	f(TextParams{Tokenizer: TokenizerWhitespace}, "Hello, world!\tfoo\u00a0bar", []string{"hello,", "world!", "foo", "bar"}, nil)

	// length limits count characters.
	f(TextParams{MinTokenLen: new(2), MaxTokenLen: new(3)}, "a bb ccc dddd мир мирр", []string{"bb", "ccc", "мир"}, nil)

	// stopwords are matched after lower-casing; custom words are
	// lower-cased too when lowercase is on.
	f(TextParams{Stopwords: []string{"The", "a"}}, "The cat and A dog", []string{"cat", "and", "dog"}, nil)
	f(TextParams{Stopwords: []string{"The"}, Lowercase: &off}, "The the cat", []string{"the", "cat"}, nil)

	// ASCII folding happens before lower-casing.
	f(TextParams{ASCIIFolding: true}, "Café Ærøskøbing straße ＡＢＣ Tiếng", []string{"cafe", "aeroskobing", "strasse", "abc", "tieng"}, nil)
	f(TextParams{}, "Café", []string{"café"}, nil)

	// prefix: documents index every prefix from min to max length; queries
	// use one token per word, cut to the longest prefix, and keep stopwords.
	f(TextParams{Tokenizer: TokenizerPrefix, MinTokenLen: new(1), MaxTokenLen: new(4)}, "hello, мир!",
		[]string{"h", "he", "hel", "hell", "м", "ми", "мир"}, []string{"hell", "мир"})
	f(TextParams{Tokenizer: TokenizerPrefix}, "abc", []string{"a", "ab", "abc"}, []string{"abc"})
	f(TextParams{Tokenizer: TokenizerPrefix, MinTokenLen: new(3)}, "ab abcd", []string{"abc", "abcd"}, []string{"abcd"})
	f(TextParams{Tokenizer: TokenizerPrefix, Stopwords: []string{"the"}}, "the theory",
		[]string{"t", "th", "the", "theo", "theor", "theory"}, []string{"the", "theory"})
}

func TestPrefixQueries(t *testing.T) {
	x, err := NewTextIndex(IndexParams{Type: TypeText, Text: TextParams{Tokenizer: TokenizerPrefix, MaxTokenLen: new(5)}})
	if err != nil {
		t.Fatal(err)
	}
	x.Set(1, []Value{StringValue("hello world")})
	x.Set(2, []Value{StringValue("help")})
	f := func(q string, want ...uint32) {
		t.Helper()
		if got := x.Text(q).ToArray(); !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("Text(%q) = %v, want %v", q, got, want)
		}
	}
	f("hel", 1, 2)
	f("hell", 1)
	f("helloooo", 1) // cut to 5 characters
	f("wor hel", 1)
	f("xyz")
	f("")
}

func TestTextQueries(t *testing.T) {
	x, err := NewTextIndex(IndexParams{Type: TypeText, Text: TextParams{PhraseMatching: true}})
	if err != nil {
		t.Fatal(err)
	}
	x.Set(0, []Value{StringValue("The celebration had a long way to go")})
	x.Set(1, []Value{ArrayValue(StringValue("the giant computer,"), StringValue("soft lights"))})
	x.Set(2, []Value{StringValue("the great time, and rest"), IntValue(3)})
	x.Set(3, []Value{IntValue(3)})
	x.Set(4, []Value{StringValue("")})
	f := func(what string, got []uint32, want ...uint32) {
		t.Helper()
		if !slices.Equal(got, want) && !(len(got) == 0 && len(want) == 0) {
			t.Errorf("%s = %v, want %v", what, got, want)
		}
	}
	f("Text giant computer", x.Text("giant computer").ToArray(), 1)
	f("Text the", x.Text("the").ToArray(), 0, 1, 2)
	f("Text unknown", x.Text("the zebra").ToArray())
	f("Text empty", x.Text("!!").ToArray())
	f("TextAny", x.TextAny("zebra rest GIANT").ToArray(), 1, 2)
	f("TextAny empty", x.TextAny("").ToArray())
	f("Phrase", x.Phrase("great time").ToArray(), 2)
	f("Phrase order", x.Phrase("time great").ToArray())
	f("Phrase gap", x.Phrase("the time").ToArray())
	f("Phrase across values", x.Phrase("computer soft").ToArray(), 1)
	f("Phrase one word", x.Phrase("celebration").ToArray(), 0)
	if x.Len() != 4 || x.Points().Contains(3) || !x.Points().Contains(4) {
		t.Errorf("points = %v", x.Points().ToArray())
	}
	if n := x.ValuesCount(0); n != 8 {
		t.Errorf("ValuesCount = %d", n)
	}
	// Without phrase matching, phrases match nothing.
	y, _ := NewTextIndex(IndexParams{Type: TypeText})
	y.Set(0, []Value{StringValue("great time")})
	f("Phrase without positions", y.Phrase("great time").ToArray())
	// Re-setting replaces tokens; vocabulary entries are recycled.
	x.Set(1, []Value{StringValue("giant")})
	f("after reset", x.Text("computer").ToArray())
	x.Remove(1)
	f("after remove", x.Text("giant").ToArray())
	x.Set(7, []Value{StringValue("giant new words")})
	f("recycled ids", x.Text("giant").ToArray(), 7)
	f("recycled ids", x.Text("lights").ToArray())
}

func TestRustLower(t *testing.T) {
	for in, want := range map[string]string{
		"HeLLo":          "hello",
		"İstanbul":       "i\u0307stanbul",
		"ΟΔΟΣ":           "οδος",
		"ΣΑΣ ΟΔΟΣ.":      "σας οδος.",
		"Σ":              "σ",
		"ΑΣ'Β":           "ασ'β",
		"ΑΣ'":            "ας'",
		"ÄÖÜ ẞ":          "äöü ß",
		"ǅ":              "ǆ",
		"ΑΣ\u0301":       "ας\u0301",
		"straße STRASSE": "straße strasse",
	} {
		if got := rustLower(in); got != want {
			t.Errorf("rustLower(%q) = %q, want %q", in, got, want)
		}
	}
}

// checkTokens requires the tokenizer of p to make doc of text as a
// document and query (doc when nil) of it as a query.
func checkTokens(t *testing.T, p TextParams, text string, doc, query []string) {
	t.Helper()
	tok, err := newTextTokenizer(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := tok.doc(text, nil); !slices.Equal(got, doc) {
		t.Fatalf("doc(%q) = %q, want %q", text, got, doc)
	}
	if query == nil {
		query = doc
	}
	if got := tok.query(text, nil); !slices.Equal(got, query) {
		t.Fatalf("query(%q) = %q, want %q", text, got, query)
	}
}

func TestTextStemStopwords(t *testing.T) {
	f := func(p TextParams, text string, doc, query []string) {
		t.Helper()
		checkTokens(t, p, text, doc, query)
	}
	en := []string{"english"}
	// Stopwords are dropped before stemming: "being" is a stopword, "beings"
	// is not, and stems to "be".
	f(TextParams{StopwordLanguages: en, Stemmer: "english"}, "The beings were RUNNING being", []string{"be", "run"}, nil)
	// The length limits count the stem.
	f(TextParams{Stemmer: "english", MinTokenLen: new(4)}, "running cats", []string{}, nil)
	f(TextParams{Stemmer: "english", MaxTokenLen: new(3)}, "running cats", []string{"run", "cat"}, nil)
	// Languages and custom words merge; custom words are lower-cased.
	f(TextParams{StopwordLanguages: []string{"german", "french"}, Stopwords: []string{"Hund"}}, "der Hund et le chat", []string{"chat"}, nil)
	// Without lower-casing the lists are kept as written.
	off := false
	f(TextParams{StopwordLanguages: en, Lowercase: &off}, "The the", []string{"The"}, nil)
	// Prefix queries are stemmed and keep stopwords.
	f(TextParams{Tokenizer: TokenizerPrefix, Stemmer: "english", StopwordLanguages: en}, "the running",
		[]string{"r", "ru", "run"}, []string{"the", "run"})
	if _, err := newTextTokenizer(TextParams{Stemmer: "klingon"}); err == nil {
		t.Fatal("klingon stemmer: no error")
	}
	if _, err := newTextTokenizer(TextParams{StopwordLanguages: []string{"klingon"}}); err == nil {
		t.Fatal("klingon stopwords: no error")
	}
}

func TestTextZeroTokenLengths(t *testing.T) {
	f := func(p TextParams, text string, doc, query []string) {
		t.Helper()
		checkTokens(t, p, text, doc, query)
	}
	// As in Qdrant 1.17.1: a MaxTokenLen of 0 drops every token; the prefix
	// tokenizer indexes no prefix and cuts query words to nothing; a
	// MinTokenLen of 0 makes the prefix tokenizer index the empty prefix.
	f(TextParams{MaxTokenLen: new(0)}, "hello world", []string{}, []string{})
	f(TextParams{Tokenizer: TokenizerPrefix, MaxTokenLen: new(0)}, "hello", []string{}, []string{""})
	f(TextParams{Tokenizer: TokenizerPrefix, MinTokenLen: new(0), MaxTokenLen: new(2)}, "hey", []string{"", "h", "he"}, []string{"he"})
	f(TextParams{MinTokenLen: new(0)}, "a bb", []string{"a", "bb"}, []string{"a", "bb"})
}
