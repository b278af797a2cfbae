package cjk

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Split calls fn with each word of text, in order, as Qdrant 1.17's
// multilingual tokenizer segments it, before case folding and the other
// per-token steps. Words without a letter (numbers, punctuation, spaces)
// are left out, as Qdrant leaves them out.
//
//   - Text in which most letters are kana, or which is mostly kanji with
//     more than 5% kana, is Japanese: it is segmented whole by morphological
//     analysis with UniDic.
//   - Otherwise text is split at every character that is not a letter or
//     digit; in each such run, a stretch of ideographs and kana is
//     segmented with the jieba dictionary (most probable path, then long
//     words split into dictionary bigrams and trigrams), and any other
//     stretch (Latin, Hangul, Cyrillic, ...) is one word. Korean is thus
//     split at spaces and punctuation only, as Qdrant does.
//
// The dictionaries load on the first text that needs them.
func Split(text string, fn func(string)) {
	if hasCJ(text) && isJapanese(text) {
		japaneseWords(text, func(w string) { emit(w, fn) })
		return
	}
	var g *segmenter
	splitRuns(text, func(run string) {
		splitScripts(run, func(part string, s script) {
			if s != scriptHan {
				emitNormalized(part, s, fn)
				return
			}
			if g == nil {
				d, err := loadJieba()
				if err != nil {
					panic(fmt.Sprintf("cjk: BUG: embedded jieba dictionary: %v", err))
				}
				g = &segmenter{d: d}
			}
			g.cut(part, func(w string) {
				g.searchSplit(w, func(w string) { emitNormalized(w, scriptHan, fn) })
			})
		})
	})
}

// Preload decodes the dictionaries now rather than on first use.
func Preload() {
	if _, err := loadJieba(); err != nil {
		panic(fmt.Sprintf("cjk: BUG: embedded jieba dictionary: %v", err))
	}
	loadJapanese()
}

// emitNormalized normalises a word outside Japanese text as Qdrant does
// before passing it on: compatibility decomposition (NFKD: ﬁ becomes fi,
// Ⅻ becomes XII, fullwidth forms become ASCII), nonspacing marks removed
// from Latin, Greek, Hebrew, Arabic and Thai words (café becomes cafe),
// æ and œ spelt out, and ideographs replaced by their kVariants
// destination (们 becomes 們).
func emitNormalized(w string, s script, fn func(string)) {
	ascii := true
	for i := 0; i < len(w); i++ {
		if w[i] >= utf8.RuneSelf {
			ascii = false
			break
		}
	}
	if !ascii {
		w = norm.NFKD.String(w)
		switch s {
		case scriptLatin, scriptGreek, scriptHebrew, scriptArabic, scriptThai:
			w = strings.Map(func(r rune) rune {
				if unicode.Is(unicode.Mn, r) {
					return -1
				}
				return r
			}, w)
		}
		if strings.ContainsAny(w, "æÆœŒ") {
			w = aeOe.Replace(w)
		}
		if s == scriptHan {
			w = foldVariants(w)
		}
	}
	emit(w, fn)
}

var aeOe = strings.NewReplacer("æ", "ae", "Æ", "AE", "œ", "oe", "Œ", "OE")

// emit passes w on when it has a letter.
func emit(w string, fn func(string)) {
	for _, r := range w {
		if isAlphabetic(r) {
			fn(w)
			return
		}
	}
}

// isAlphabetic is Unicode's Alphabetic property.
func isAlphabetic(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// isWordRune reports whether r continues a run of letters and digits.
func isWordRune(r rune) bool {
	return unicode.IsLetter(r) || unicode.IsNumber(r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// splitRuns calls fn with each maximal run of word runes in s.
func splitRuns(s string, fn func(string)) {
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

// script is the writing system of one character, as far as segmentation
// cares.
type script uint8

const (
	scriptOther script = iota // digits, symbols, unlisted scripts
	scriptLatin
	scriptHan // ideographs used in Chinese and Japanese
	scriptHiragana
	scriptKatakana
	scriptHangul
	scriptCyrillic
	scriptGreek
	scriptArabic
	scriptHebrew
	scriptDevanagari
	scriptThai
	numScripts
)

func scriptOf(r rune) script {
	switch {
	case r < 0x80:
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' {
			return scriptLatin
		}
		return scriptOther
	case r <= 0x024F, r >= 0x0250 && r <= 0x02AF, r >= 0x1D00 && r <= 0x1DBF, r >= 0x1E00 && r <= 0x1EFF,
		r >= 0x2100 && r <= 0x214F, r >= 0x2C60 && r <= 0x2C7F, r >= 0xA720 && r <= 0xA7FF, r >= 0xAB30 && r <= 0xAB6F:
		return scriptLatin
	case isHan(r):
		return scriptHan
	case r >= 0x3040 && r <= 0x309F:
		return scriptHiragana
	case r >= 0x30A0 && r <= 0x30FF:
		return scriptKatakana
	case r >= 0xAC00 && r <= 0xD7AF, r >= 0x1100 && r <= 0x11FF, r >= 0x3130 && r <= 0x318F, r >= 0x3200 && r <= 0x32FF,
		r >= 0xA960 && r <= 0xA97F, r >= 0xD7B0 && r <= 0xD7FF, r >= 0xFF00 && r <= 0xFFEF:
		// Qdrant's script detection counts the fullwidth and halfwidth
		// forms block as Hangul.
		return scriptHangul
	case unicode.Is(unicode.Cyrillic, r):
		return scriptCyrillic
	case r >= 0x0370 && r <= 0x03FF:
		return scriptGreek
	case unicode.Is(unicode.Arabic, r):
		return scriptArabic
	case unicode.Is(unicode.Hebrew, r):
		return scriptHebrew
	case unicode.Is(unicode.Devanagari, r):
		return scriptDevanagari
	case unicode.Is(unicode.Thai, r):
		return scriptThai
	}
	return scriptOther
}

// isHan reports whether Qdrant's script detection counts r as an ideograph
// (which excludes the newest CJK extensions).
func isHan(r rune) bool {
	switch {
	case r >= 0x2E80 && r <= 0x2E99, r >= 0x2E9B && r <= 0x2EF3, r >= 0x2F00 && r <= 0x2FD5,
		r == 0x3005, r == 0x3007, r >= 0x3021 && r <= 0x3029, r >= 0x3038 && r <= 0x303B,
		r >= 0x3400 && r <= 0x4DB5, r >= 0x4E00 && r <= 0x9FCC, r >= 0xF900 && r <= 0xFA6D, r >= 0xFA70 && r <= 0xFAD9:
		return true
	}
	return false
}

func isCJ(r rune) bool {
	s := scriptOf(r)
	return s == scriptHan || s == scriptHiragana || s == scriptKatakana
}

func hasCJ(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if isCJ(r) {
			return true
		}
		i += n
	}
	return false
}

// isJapanese reports whether Qdrant sends the whole of text to its
// Japanese segmenter: the script with most characters (ASCII punctuation,
// digits and spaces not counted) is kana, or it is Han with more than 5%
// of the Han and kana characters being kana.
func isJapanese(text string) bool {
	var n [numScripts]int
	for _, r := range text {
		if r <= 0x40 || r >= 0x5B && r <= 0x60 || r >= 0x7B && r <= 0x7E {
			continue
		}
		n[scriptOf(r)]++
	}
	best := scriptLatin
	for s := scriptLatin; s < numScripts; s++ {
		if n[s] > n[best] {
			best = s
		}
	}
	kana := n[scriptHiragana] + n[scriptKatakana]
	switch best {
	case scriptHiragana, scriptKatakana:
		return n[best] > 0
	case scriptHan:
		return float64(kana)/float64(kana+n[scriptHan]) > 0.05
	}
	return false
}

// splitScripts cuts a run of letters and digits where one script gives way
// to another; digits and characters of no listed script stay with the
// stretch they are in. A stretch of ideographs and kana has script
// scriptHan.
func splitScripts(run string, fn func(part string, s script)) {
	start, cur := 0, scriptOther
	for i, r := range run {
		s := scriptOf(r)
		if isCJ(r) {
			s = scriptHan
		}
		if s == scriptOther || s == cur {
			continue
		}
		if cur != scriptOther {
			fn(run[start:i], cur)
			start = i
		}
		cur = s
	}
	fn(run[start:], cur)
}
