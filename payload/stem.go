package payload

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/blevesearch/snowballstem"
	"github.com/blevesearch/snowballstem/arabic"
	"github.com/blevesearch/snowballstem/danish"
	"github.com/blevesearch/snowballstem/dutch"
	"github.com/blevesearch/snowballstem/english"
	"github.com/blevesearch/snowballstem/finnish"
	"github.com/blevesearch/snowballstem/french"
	"github.com/blevesearch/snowballstem/german"
	"github.com/blevesearch/snowballstem/hungarian"
	"github.com/blevesearch/snowballstem/italian"
	"github.com/blevesearch/snowballstem/norwegian"
	"github.com/blevesearch/snowballstem/portuguese"
	"github.com/blevesearch/snowballstem/romanian"
	"github.com/blevesearch/snowballstem/russian"
	"github.com/blevesearch/snowballstem/spanish"
	"github.com/blevesearch/snowballstem/swedish"
	"github.com/blevesearch/snowballstem/tamil"
	"github.com/blevesearch/snowballstem/turkish"

	"github.com/qlite/qlite/payload/internal/snowball/armenian"
	"github.com/qlite/qlite/payload/internal/snowball/greek"
)

// stemmerLanguages are the snowball languages Qdrant accepts (its
// SnowballLanguage enum), in its order.
var stemmerLanguages = []string{
	"arabic", "armenian", "danish", "dutch", "english", "finnish", "french", "german", "greek",
	"hungarian", "italian", "norwegian", "portuguese", "romanian", "russian", "spanish",
	"swedish", "tamil", "turkish",
}

// snowball maps a language to its stemmer: those of
// github.com/blevesearch/snowballstem, and Armenian and Greek (which it
// lacks) generated into internal/snowball by the snowball compiler from the
// algorithms of the snowball release Qdrant's stemmers come from.
var snowball = map[string]func(*snowballstem.Env) bool{
	"arabic": arabic.Stem, "armenian": armenian.Stem, "greek": greek.Stem, "danish": danish.Stem, "dutch": dutch.Stem, "english": english.Stem,
	"finnish": finnish.Stem, "french": french.Stem, "german": german.Stem,
	"hungarian": hungarian.Stem, "italian": italian.Stem, "norwegian": norwegian.Stem,
	"portuguese": portuguese.Stem, "romanian": romanian.Stem, "russian": russian.Stem,
	"spanish": spanish.Stem, "swedish": swedish.Stem, "tamil": tamil.Stem, "turkish": turkish.Stem,
}

// StemmerLanguages returns the snowball languages Qdrant accepts.
func StemmerLanguages() []string { return slices.Clone(stemmerLanguages) }

// StemmerLanguage returns the snowball language that name denotes (a
// language or its ISO code, as Qdrant accepts them), and whether Qdrant
// has one.
func StemmerLanguage(name string) (string, bool) { return lookupLanguage(name, stemmerLanguages) }

// IsStemmerLanguage reports whether lang is a snowball language Qdrant
// accepts.
func IsStemmerLanguage(lang string) bool {
	_, ok := StemmerLanguage(lang)
	return ok
}

// A Stemmer reduces a word to its stem. It is safe for concurrent use.
type Stemmer func(word string) string

// NewStemmer returns the snowball stemmer of lang (a language or its ISO
// code). It fails with an *UnknownLanguageError for a language Qdrant does
// not stem.
func NewStemmer(lang string) (Stemmer, error) {
	lang, _ = StemmerLanguage(lang)
	f, ok := snowball[lang]
	if !ok {
		return nil, &UnknownLanguageError{What: "stemmer", Language: lang}
	}
	c := &stemCache{m: make(map[string]string)}
	stem := func(w string) string {
		if st, ok := c.get(w); ok {
			return st
		}
		env := snowballstem.NewEnv(w)
		f(env)
		st := env.Current()
		c.put(w, st)
		return st
	}
	if lang == "arabic" {
		// Qdrant's Arabic stemmer (an earlier snowball release) deletes
		// these punctuation marks anywhere in the word before stemming;
		// later releases keep them.
		return func(w string) string {
			if strings.ContainsAny(w, arabicDropped) {
				w = strings.Map(func(r rune) rune {
					if strings.ContainsRune(arabicDropped, r) {
						return -1
					}
					return r
				}, w)
			}
			return stem(w)
		}, nil
	}
	return stem, nil
}

// stemCacheMax bounds a stemmer's cache of words: the most frequent words
// of a language (which make most of any text) stay cached, at about 1 MiB.
const stemCacheMax = 1 << 14

// stemCache remembers the stems of words, since stemming a word costs far
// more than a map lookup and text repeats its words. It is cleared when
// full, so that it stays bounded whatever text passes.
type stemCache struct {
	mu sync.RWMutex
	m  map[string]string
}

func (c *stemCache) get(w string) (string, bool) {
	c.mu.RLock()
	st, ok := c.m[w]
	c.mu.RUnlock()
	return st, ok
}

func (c *stemCache) put(w, st string) {
	if len(w) > 64 {
		return // long tokens are rare: not worth the memory
	}
	c.mu.Lock()
	if len(c.m) >= stemCacheMax {
		clear(c.m)
	}
	// The word may be a slice of a large text: keep a copy, not the text.
	c.m[strings.Clone(w)] = strings.Clone(st)
	c.mu.Unlock()
}

const arabicDropped = "!\"%*,./:;?\\\u060c\u061b\u061f\u066a\u066b\u066c"

// UnknownLanguageError is a stopword or stemmer language that Qdrant does
// not know. It wraps ErrBadIndexParams.
type UnknownLanguageError struct {
	What     string // "stopwords" or "stemmer"
	Language string
}

func (e *UnknownLanguageError) Error() string {
	return fmt.Sprintf("%s: unknown language %q", e.What, e.Language)
}

func (e *UnknownLanguageError) Unwrap() error { return ErrBadIndexParams }
