package payload

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/qlite/qlite/payload/cjk"
)

// Tokenizer names accepted in TextParams.Tokenizer.
const (
	TokenizerWord         = "word"
	TokenizerWhitespace   = "whitespace"
	TokenizerPrefix       = "prefix"
	TokenizerMultilingual = "multilingual"
)

// textTokenizer turns text into tokens as Qdrant's full-text index does:
// split, then per token fold to ASCII (if enabled), lower-case (if
// enabled), drop stopwords, stem (if enabled), and drop tokens outside the
// length limits (counted in characters, after stemming).
type textTokenizer struct {
	kind      string
	minLen    int  // tokens shorter than this are dropped (0: none are)
	maxLen    int  // with hasMax, tokens longer than this are dropped
	hasMax    bool // a MaxTokenLen was given (0 is a limit)
	minPrefix int  // the shortest prefix the prefix tokenizer indexes
	lowercase bool
	fold      bool
	stopwords map[string]struct{} // read-only: may be shared (languageStopwords)
	stem      Stemmer             // nil: no stemming
}

func newTextTokenizer(p TextParams) (textTokenizer, error) {
	t := textTokenizer{
		kind:      p.Tokenizer,
		minPrefix: 1,
		lowercase: p.LowercaseEnabled(),
		fold:      p.ASCIIFolding,
	}
	switch t.kind {
	case "":
		t.kind = TokenizerWord
	case TokenizerWord, TokenizerWhitespace, TokenizerPrefix, TokenizerMultilingual:
	default:
		return t, fmt.Errorf("%w: unknown tokenizer %q", ErrBadIndexParams, p.Tokenizer)
	}
	if p.MinTokenLen != nil {
		t.minLen, t.minPrefix = *p.MinTokenLen, *p.MinTokenLen
	}
	if p.MaxTokenLen != nil {
		t.maxLen, t.hasMax = *p.MaxTokenLen, true
	}
	if t.minLen < 0 || t.maxLen < 0 {
		return t, fmt.Errorf("%w: token lengths must not be negative", ErrBadIndexParams)
	}
	for _, lang := range p.StopwordLanguages {
		if !IsStopwordLanguage(lang) {
			return t, &UnknownLanguageError{What: "stopwords", Language: lang}
		}
	}
	switch {
	case len(p.Stopwords) == 0 && len(p.StopwordLanguages) == 1:
		t.stopwords = languageStopwords(p.StopwordLanguages[0], t.lowercase)
	case len(p.Stopwords) > 0 || len(p.StopwordLanguages) > 0:
		t.stopwords = make(map[string]struct{}, len(p.Stopwords))
		add := func(w string) {
			if t.lowercase {
				w = rustLower(w)
			}
			t.stopwords[w] = struct{}{}
		}
		for _, lang := range p.StopwordLanguages {
			for _, w := range StopwordList(lang) {
				add(w)
			}
		}
		for _, w := range p.Stopwords {
			add(w)
		}
	}
	if p.Stemmer != "" {
		stem, err := NewStemmer(p.Stemmer)
		if err != nil {
			return t, err
		}
		t.stem = stem
	}
	return t, nil
}

// isWordRune reports whether r is part of a word for the word and prefix
// tokenizers: Unicode alphabetic or numeric.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// process applies folding, case, stopwords and length limits to one raw
// token. checkMax is false for whole words of the prefix tokenizer, whose
// prefixes are bounded instead.
func (t *textTokenizer) process(tok string, checkMax bool) (string, bool) {
	if tok == "" {
		return "", false
	}
	if t.fold {
		tok = foldASCII(tok)
	}
	if t.lowercase {
		tok = rustLower(tok)
	}
	if _, stop := t.stopwords[tok]; stop {
		return "", false
	}
	if t.stem != nil {
		tok = t.stem(tok)
	}
	if t.minLen > 0 || (checkMax && t.hasMax) {
		n := utf8.RuneCountInString(tok)
		if n < t.minLen || (checkMax && t.hasMax && n > t.maxLen) {
			return "", false
		}
	}
	return tok, true
}

// splitWords calls fn with each maximal run of word runes in s.
func splitWords(s string, fn func(string)) {
	start := -1
	for i, r := range s {
		if isWordRune(r) {
			if start < 0 {
				start = i
			}
		} else if start >= 0 {
			fn(s[start:i])
			start = -1
		}
	}
	if start >= 0 {
		fn(s[start:])
	}
}

// doc appends the tokens of a stored text to dst, in order.
func (t *textTokenizer) doc(text string, dst []string) []string {
	switch t.kind {
	case TokenizerWhitespace:
		for _, w := range strings.FieldsFunc(text, unicode.IsSpace) {
			if tok, ok := t.process(w, true); ok {
				dst = append(dst, tok)
			}
		}
	case TokenizerPrefix:
		splitWords(text, func(w string) {
			word, ok := t.process(w, false)
			if !ok {
				return
			}
			for n := t.minPrefix; !t.hasMax || n <= t.maxLen; n++ {
				end, ok := runeOffset(word, n)
				if !ok {
					dst = append(dst, word)
					break
				}
				dst = append(dst, word[:end])
			}
		})
	case TokenizerMultilingual:
		cjk.Split(text, func(w string) {
			if tok, ok := t.process(w, true); ok {
				dst = append(dst, tok)
			}
		})
	default: // word
		splitWords(text, func(w string) {
			if tok, ok := t.process(w, true); ok {
				dst = append(dst, tok)
			}
		})
	}
	return dst
}

// query appends the tokens of a query text to dst. Only the prefix
// tokenizer differs from doc: each query word becomes one token (folded,
// lower-cased and stemmed as a document word), cut to the longest indexed
// prefix, and stopwords are kept so that a partly typed word still
// matches.
func (t *textTokenizer) query(text string, dst []string) []string {
	if t.kind != TokenizerPrefix {
		return t.doc(text, dst)
	}
	splitWords(text, func(w string) {
		if t.fold {
			w = foldASCII(w)
		}
		if t.lowercase {
			w = rustLower(w)
		}
		if t.stem != nil {
			w = t.stem(w)
		}
		if t.minLen > 0 && utf8.RuneCountInString(w) < t.minLen {
			return
		}
		if t.hasMax {
			if end, ok := runeOffset(w, t.maxLen); ok {
				w = w[:end]
			}
		}
		dst = append(dst, w)
	})
	return dst
}

// runeOffset returns the byte offset of the n-th rune (0-based) of s, and
// false when s has no more than n runes.
func runeOffset(s string, n int) (int, bool) {
	i := 0
	for off := range s {
		if i == n {
			return off, true
		}
		i++
	}
	return 0, false
}

// rustLower lower-cases s with the full Unicode mapping that Qdrant's
// tokenizer applies, which differs from strings.ToLower in two places:
// U+0130 (İ) becomes "i̇" (i and a combining dot), and a capital sigma at the
// end of a word becomes final sigma (ς).
func rustLower(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if ascii {
		return strings.ToLower(s)
	}
	var b strings.Builder
	b.Grow(len(s))
	for i, r := range s {
		switch r {
		case '\u0130':
			b.WriteString("i\u0307")
		case 'Σ':
			if finalSigma(s, i) {
				b.WriteRune('ς')
			} else {
				b.WriteRune('σ')
			}
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return b.String()
}

// finalSigma reports whether the capital sigma at byte i of s ends a word:
// a cased letter precedes it and none follows, skipping case-ignorable
// characters on both sides.
func finalSigma(s string, i int) bool {
	before := false
	for j := i; j > 0; {
		r, size := utf8.DecodeLastRuneInString(s[:j])
		j -= size
		if caseIgnorable(r) {
			continue
		}
		before = isCased(r)
		break
	}
	if !before {
		return false
	}
	for _, r := range s[i+len("Σ"):] {
		if caseIgnorable(r) {
			continue
		}
		return !isCased(r)
	}
	return true
}

func isCased(r rune) bool {
	return unicode.IsUpper(r) || unicode.IsLower(r) || unicode.IsTitle(r)
}

func caseIgnorable(r rune) bool {
	switch r {
	case '\'', '.', ':', '^', '`', '\u00B7', '\u2018', '\u2019', '\u2024', '\u2027':
		return true
	}
	return unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf, unicode.Lm, unicode.Sk)
}

// Tokenizer is the text index's tokenizer for use outside the index (the
// BM25 model). It is safe for concurrent use.
type Tokenizer struct{ t textTokenizer }

// NewTokenizer returns the tokenizer of a text index with params p.
func NewTokenizer(p TextParams) (*Tokenizer, error) {
	t, err := newTextTokenizer(p)
	if err != nil {
		return nil, err
	}
	return &Tokenizer{t}, nil
}

// Doc appends the tokens of a stored text to dst, in order.
func (t *Tokenizer) Doc(text string, dst []string) []string { return t.t.doc(text, dst) }

// Query appends the tokens of a query text to dst, in order.
func (t *Tokenizer) Query(text string, dst []string) []string { return t.t.query(text, dst) }
