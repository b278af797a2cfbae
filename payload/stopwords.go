package payload

import (
	"embed"
	"slices"
	"strings"
	"sync"
)

// The built-in stopword lists, one word a line, one file a language. They
// are the NLTK stopwords corpus (Japanese: the stopwords-iso list), kept
// word for word as far as Qdrant 1.17.1 keeps them: entries that Qdrant's
// lists leave out were dropped after probing the server, and phrases with
// spaces (which no token can equal) were left out.
//
//go:embed stopwords/*.txt
var stopwordFiles embed.FS

// stopwordLanguages are the names Qdrant accepts for its built-in lists
// (its Language enum), in its order.
var stopwordLanguages = []string{
	"arabic", "azerbaijani", "basque", "bengali", "catalan", "chinese", "danish", "dutch",
	"english", "finnish", "french", "german", "greek", "hebrew", "hinglish", "hungarian",
	"indonesian", "italian", "japanese", "kazakh", "nepali", "norwegian", "portuguese",
	"romanian", "russian", "slovene", "spanish", "swedish", "tajik", "turkish",
}

// StopwordLanguages returns the languages of the built-in stopword lists.
func StopwordLanguages() []string { return slices.Clone(stopwordLanguages) }

// languageCodes are the ISO 639 codes Qdrant accepts besides the names of
// its stopword and snowball languages ("hi-en" is Hinglish). A code names
// a language of either kind only where that kind has the language.
var languageCodes = map[string]string{
	"ar": "arabic", "az": "azerbaijani", "eu": "basque", "bn": "bengali", "ca": "catalan",
	"zh": "chinese", "da": "danish", "nl": "dutch", "en": "english", "fi": "finnish",
	"fr": "french", "de": "german", "el": "greek", "he": "hebrew", "hi-en": "hinglish",
	"hu": "hungarian", "id": "indonesian", "it": "italian", "kk": "kazakh", "ne": "nepali",
	"no": "norwegian", "pt": "portuguese", "ro": "romanian", "ru": "russian", "sl": "slovene",
	"es": "spanish", "sv": "swedish", "tg": "tajik", "tr": "turkish", "hy": "armenian", "ta": "tamil",
}

// lookupLanguage returns the language among langs that name (a language or
// its code) denotes, and whether there is one.
func lookupLanguage(name string, langs []string) (string, bool) {
	if l, ok := languageCodes[name]; ok {
		name = l
	}
	return name, slices.Contains(langs, name)
}

// StopwordLanguage returns the language of a built-in stopword list that
// name denotes (a language or its ISO code, as Qdrant accepts them), and
// whether there is one.
func StopwordLanguage(name string) (string, bool) { return lookupLanguage(name, stopwordLanguages) }

// StopwordLanguageNames returns every name StopwordLanguage accepts, each
// language with its code, in Qdrant's order (for its error messages).
func StopwordLanguageNames() []string {
	var out []string
	for _, l := range stopwordLanguages {
		pair := []string{l}
		for code, name := range languageCodes {
			if name == l {
				pair = append(pair, code)
			}
		}
		slices.Sort(pair)
		out = append(out, pair...)
	}
	return out
}

// IsStopwordLanguage reports whether lang names a built-in stopword list.
func IsStopwordLanguage(lang string) bool {
	_, ok := StopwordLanguage(lang)
	return ok
}

var stopwordCache struct {
	sync.Mutex
	lists map[string][]string // language -> words, read once
	// sets holds the words of a language as a set, lower-cased or not
	// (sets[lang][1] is lower-cased), built once and then only read.
	sets map[string]*[2]map[string]struct{}
}

// languageStopwords returns the stopwords of lang as a set, lower-cased
// as Qdrant lower-cases them when lower is set. The set is shared: do not
// modify it.
func languageStopwords(lang string, lower bool) map[string]struct{} {
	words := StopwordList(lang)
	lang, _ = StopwordLanguage(lang)
	stopwordCache.Lock()
	defer stopwordCache.Unlock()
	if stopwordCache.sets == nil {
		stopwordCache.sets = map[string]*[2]map[string]struct{}{}
	}
	e := stopwordCache.sets[lang]
	if e == nil {
		e = new([2]map[string]struct{})
		stopwordCache.sets[lang] = e
	}
	i := 0
	if lower {
		i = 1
	}
	if e[i] == nil {
		m := make(map[string]struct{}, len(words))
		for _, w := range words {
			if lower {
				w = rustLower(w)
			}
			m[w] = struct{}{}
		}
		e[i] = m
	}
	return e[i]
}

// StopwordList returns the built-in stopwords of lang, or nil for a
// language without a list. The slice is shared: do not modify it.
func StopwordList(lang string) []string {
	lang, ok := StopwordLanguage(lang)
	if !ok {
		return nil
	}
	stopwordCache.Lock()
	defer stopwordCache.Unlock()
	return stopwordListLocked(lang)
}

func stopwordListLocked(lang string) []string {
	if w, ok := stopwordCache.lists[lang]; ok {
		return w
	}
	b, err := stopwordFiles.ReadFile("stopwords/" + lang + ".txt")
	if err != nil {
		panic("payload: BUG: no stopword file for " + lang)
	}
	words := strings.Split(strings.TrimSpace(string(b)), "\n")
	if stopwordCache.lists == nil {
		stopwordCache.lists = map[string][]string{}
	}
	stopwordCache.lists[lang] = words
	return words
}
