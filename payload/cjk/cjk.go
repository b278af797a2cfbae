package cjk

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Split calls fn with each word of text, in order, as Qdrant 1.17's
// multilingual tokenizer segments and normalises it, before the per-token
// steps every tokenizer shares (lower-casing, folding, stopwords, length
// limits). Words without a letter (numbers, punctuation) are left out, as
// Qdrant leaves them out.
//
// Text whose main script is kana, or kanji with more than 5% kana, is
// Japanese: it is analysed whole into morphemes (UniDic), runs of ASCII
// letters kept whole. Any other text is cut where the script changes
// (Latin, Han and kana, Hangul, Cyrillic, ...) and at punctuation and
// spaces; a piece of Chinese (ideographs with no more than 5% kana) is
// segmented with the jieba dictionary, and any other piece is one word,
// so Korean is split at spaces and punctuation only. Such words are then
// normalised: compatibility decomposition (NFKD), control characters
// dropped, Latin words lower-cased, stripped of nonspacing marks (café
// is cafe) and with æ and œ spelt out, and Chinese ideographs replaced by
// their kVariants form (们 is 們).
//
// The dictionaries load on the first text that needs them.
func Split(text string, fn func(string)) {
	if hasCJ(text) && isJapanese(text) {
		japaneseWords(text, func(w string) { emit(w, fn) })
		return
	}
	var g *segmenter
	chunks(text, func(chunk string, s script) {
		chinese := s == scriptHan && !isJapanese(chunk)
		pieces(chunk, func(p string) {
			if !chinese {
				emitNormalized(p, s, false, fn)
				return
			}
			if g == nil {
				g = &segmenter{d: mustJieba()}
			}
			g.cut(p, func(w string) {
				g.searchSplit(w, func(w string) { emitNormalized(w, s, true, fn) })
			})
		})
	})
}

// Preload decodes the dictionaries now rather than on first use.
func Preload() {
	mustJieba()
	loadKVariants()
	loadJapanese()
}

func mustJieba() *jiebaDict {
	d, err := loadJieba()
	if err != nil {
		panic(fmt.Sprintf("cjk: BUG: embedded jieba dictionary: %v", err))
	}
	return d
}

// chunks calls fn with each stretch of text in one script. Characters of
// no script (digits, punctuation, spaces, symbols) stay in the stretch
// they follow, or start the next one.
func chunks(text string, fn func(chunk string, s script)) {
	start, cur := 0, scriptOther
	for i, r := range text {
		s := chunkScript(r)
		if s == scriptOther || s == cur {
			continue
		}
		if cur != scriptOther {
			fn(text[start:i], cur)
			start = i
		}
		cur = s
	}
	if start < len(text) {
		fn(text[start:], cur)
	}
}

// pieces calls fn with each non-empty piece of chunk between separators.
func pieces(chunk string, fn func(string)) {
	start := 0
	for i, r := range chunk {
		if unicode.Is(separators, r) {
			if start < i {
				fn(chunk[start:i])
			}
			start = i + utf8.RuneLen(r)
		}
	}
	if start < len(chunk) {
		fn(chunk[start:])
	}
}

// emitNormalized normalises a word of a chunk in script s as Qdrant's
// charabia does and passes it on; chinese reports a word of a Chinese
// piece.
func emitNormalized(w string, s script, chinese bool, fn func(string)) {
	if !isASCII(w) {
		w = norm.NFKD.String(w)
		w = strings.Map(func(r rune) rune {
			if unicode.IsControl(r) && !unicode.IsSpace(r) {
				return -1
			}
			return r
		}, w)
	}
	switch s {
	case scriptLatin, scriptCyrillic, scriptGreek, scriptGeorgian, scriptArmenian:
		w = strings.ToLower(w)
	}
	if !isASCII(w) {
		if s == scriptLatin && strings.ContainsAny(w, "æÆœŒ") {
			w = aeOe.Replace(w)
		}
		if chinese {
			w = foldVariants(w)
		}
		switch s {
		case scriptLatin, scriptGreek, scriptHebrew, scriptArabic, scriptThai:
			w = strings.Map(func(r rune) rune {
				if unicode.Is(unicode.Mn, r) {
					return -1
				}
				return r
			}, w)
		}
	}
	emit(w, fn)
}

var aeOe = strings.NewReplacer("æ", "ae", "Æ", "ae", "œ", "oe", "Œ", "oe")

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// emit passes w on when it has a letter.
func emit(w string, fn func(string)) {
	if strings.IndexFunc(w, isAlphabetic) >= 0 {
		fn(w)
	}
}

// isAlphabetic is Unicode's Alphabetic property.
func isAlphabetic(r rune) bool {
	return unicode.IsLetter(r) || unicode.Is(unicode.Nl, r) || unicode.Is(unicode.Other_Alphabetic, r)
}

// script is the writing system of a character as Qdrant's script detection
// classifies it.
type script uint8

const (
	scriptOther script = iota // digits, punctuation, symbols, unlisted scripts
	scriptLatin
	scriptHan // ideographs
	scriptHiragana
	scriptKatakana
	scriptHangul
	scriptCyrillic
	scriptGreek
	scriptArabic
	scriptHebrew
	scriptDevanagari
	scriptThai
	scriptGeorgian
	scriptArmenian
	scriptOtherLetters // another script that splits chunks
	numScripts
)

// scriptOf classifies r by the character ranges Qdrant's detection uses
// for the scripts segmentation cares about, and by Unicode script for the
// rest.
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
		// Qdrant's detection counts the fullwidth and halfwidth forms
		// block as Hangul.
		return scriptHangul
	case r >= 0x0370 && r <= 0x03FF:
		return scriptGreek
	}
	for _, t := range scriptTables {
		if unicode.Is(t.table, r) {
			return t.script
		}
	}
	return scriptOther
}

// scriptTables are the other scripts Qdrant's detection tells apart, by
// Unicode script; letters of any other script (and Latin letters outside
// its Latin ranges, such as the ligature ﬁ) belong to no script.
var scriptTables = []struct {
	table  *unicode.RangeTable
	script script
}{
	{unicode.Cyrillic, scriptCyrillic}, {unicode.Arabic, scriptArabic}, {unicode.Hebrew, scriptHebrew},
	{unicode.Devanagari, scriptDevanagari}, {unicode.Thai, scriptThai}, {unicode.Georgian, scriptGeorgian},
	{unicode.Armenian, scriptArmenian},
	{unicode.Ethiopic, scriptOtherLetters}, {unicode.Bengali, scriptOtherLetters}, {unicode.Kannada, scriptOtherLetters},
	{unicode.Tamil, scriptOtherLetters}, {unicode.Gujarati, scriptOtherLetters}, {unicode.Gurmukhi, scriptOtherLetters},
	{unicode.Telugu, scriptOtherLetters}, {unicode.Malayalam, scriptOtherLetters}, {unicode.Oriya, scriptOtherLetters},
	{unicode.Myanmar, scriptOtherLetters}, {unicode.Sinhala, scriptOtherLetters}, {unicode.Khmer, scriptOtherLetters},
}

// chunkScript is scriptOf with ideographs and kana as one script.
func chunkScript(r rune) script {
	switch s := scriptOf(r); s {
	case scriptHiragana, scriptKatakana:
		return scriptHan
	default:
		return s
	}
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

func hasCJ(s string) bool {
	for i := 0; i < len(s); {
		if s[i] < utf8.RuneSelf {
			i++
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if chunkScript(r) == scriptHan {
			return true
		}
		i += n
	}
	return false
}

// isJapanese reports whether Qdrant's language detection calls text
// Japanese: the script with most characters (ASCII punctuation, digits and
// spaces not counted) is kana, or it is Han with more than 5% of the Han
// and kana characters being kana.
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
		if s != scriptOtherLetters && n[s] > n[best] {
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
