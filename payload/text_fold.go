package payload

import (
	"strings"
	"unicode/utf8"
)

// foldASCII replaces accented Latin letters, ligatures, full-width ASCII
// and the other characters of Qdrant's folding table (Lucene's
// ASCIIFoldingFilter mapping: é -> e, ß -> ss, æ -> ae, Ａ -> A, ə -> a,
// ² -> 2, ⑴ -> (1)) with their ASCII spelling; see foldGroups. Other
// characters are kept.
func foldASCII(s string) string {
	i := 0
	for i < len(s) && s[i] < utf8.RuneSelf {
		i++
	}
	if i == len(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	b.WriteString(s[:i])
	for _, r := range s[i:] {
		if r < utf8.RuneSelf {
			b.WriteByte(byte(r))
			continue
		}
		if f, ok := foldRune(r); ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func foldRune(r rune) (string, bool) {
	f, ok := foldTable[r]
	return f, ok
}

// foldTable maps each folded character to its ASCII spelling.
var foldTable = func() map[rune]string {
	m := make(map[rune]string, 1280)
	for _, g := range foldGroups {
		for _, r := range g.from {
			m[r] = g.to
		}
	}
	return m
}()
