package payload

import (
	"strings"
	"unicode/utf8"
)

// foldASCII replaces accented Latin letters, Latin ligatures and
// full-width ASCII with their plain ASCII spelling (é -> e, ß -> ss,
// æ -> ae, Ａ -> A). Other characters are kept.
//
// Coverage: Latin-1 Supplement, Latin Extended-A, the Vietnamese letters of
// Latin Extended Additional, common Latin Extended-B letters, the f-
// ligatures and full-width forms. Qdrant folds with Lucene's larger table,
// which also covers rarer letters (IPA, circled letters, ...); those pass
// through unchanged here.
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
	switch {
	case r >= 0xFF01 && r <= 0xFF5E: // full-width ASCII
		return string(rune(r - 0xFF01 + '!')), true
	case r >= 0x1EA0 && r <= 0x1EF9: // Vietnamese: pairs of capital, small
		for _, g := range vietnamese {
			if r >= g.from && r <= g.to {
				if (r-0x1EA0)%2 == 0 {
					return g.upper, true
				}
				return strings.ToLower(g.upper), true
			}
		}
	}
	f, ok := foldTable[r]
	return f, ok
}

var vietnamese = []struct {
	from, to rune
	upper    string
}{
	{0x1EA0, 0x1EB7, "A"},
	{0x1EB8, 0x1EC7, "E"},
	{0x1EC8, 0x1ECB, "I"},
	{0x1ECC, 0x1EE3, "O"},
	{0x1EE4, 0x1EF1, "U"},
	{0x1EF2, 0x1EF9, "Y"},
}

var foldTable = func() map[rune]string {
	groups := []struct{ from, to string }{
		{"ÀÁÂÃÄÅĀĂĄǍǞǠǺȀȂȦȺ", "A"}, {"àáâãäåāăąǎǟǡǻȁȃȧ", "a"},
		{"ÆǢǼ", "AE"}, {"æǣǽ", "ae"},
		{"ƁƂɃ", "B"}, {"ƀƃ", "b"},
		{"ÇĆĈĊČƇȻ", "C"}, {"çćĉċčƈȼ", "c"},
		{"ÐĎĐƉƊƋ", "D"}, {"ðďđƌȡ", "d"},
		{"ǄǱ", "DZ"}, {"ǅǲ", "Dz"}, {"ǆǳ", "dz"},
		{"ÈÉÊËĒĔĖĘĚƎƐȄȆȨɆ", "E"}, {"èéêëēĕėęěǝȅȇȩɇ", "e"},
		{"Ƒ", "F"}, {"ƒ", "f"},
		{"ĜĞĠĢƓǤǦǴ", "G"}, {"ĝğġģǥǧǵ", "g"},
		{"ĤĦȞ", "H"}, {"ĥħȟ", "h"}, {"Ƕ", "HV"}, {"ƕ", "hv"},
		{"ÌÍÎÏĨĪĬĮİƖƗǏȈȊ", "I"}, {"ìíîïĩīĭįıǐȉȋ", "i"},
		{"Ĳ", "IJ"}, {"ĳ", "ij"},
		{"ĴɈ", "J"}, {"ĵǰȷɉ", "j"},
		{"ĶƘǨ", "K"}, {"ķƙǩ", "k"},
		{"ĹĻĽĿŁȽ", "L"}, {"ĺļľŀłƚȴ", "l"},
		{"Ǉ", "LJ"}, {"ǈ", "Lj"}, {"ǉ", "lj"},
		{"ÑŃŅŇŊƝǸȠ", "N"}, {"ñńņňŉŋƞǹȵ", "n"},
		{"Ǌ", "NJ"}, {"ǋ", "Nj"}, {"ǌ", "nj"},
		{"ÒÓÔÕÖØŌŎŐƆƟƠǑǪǬǾȌȎȪȬȮȰ", "O"}, {"òóôõöøōŏőơǒǫǭǿȍȏȫȭȯȱ", "o"},
		{"Œ", "OE"}, {"œ", "oe"}, {"Ȣ", "OU"}, {"ȣ", "ou"},
		{"Ƥ", "P"}, {"ƥ", "p"},
		{"Ɋ", "Q"}, {"ĸɋ", "q"}, {"ȹ", "qp"},
		{"ŔŖŘȐȒɌ", "R"}, {"ŕŗřȑȓɍ", "r"},
		{"ŚŜŞŠȘ", "S"}, {"śŝşšſșȿ", "s"}, {"ẞ", "SS"}, {"ß", "ss"},
		{"ŢŤŦƬƮȚȾ", "T"}, {"ţťŧƫƭțȶ", "t"},
		{"Þ", "TH"}, {"þ", "th"},
		{"ÙÚÛÜŨŪŬŮŰŲƯǓǕǗǙǛȔȖɄ", "U"}, {"ùúûüũūŭůűųưǔǖǘǚǜȕȗ", "u"},
		{"ƲɅ", "V"},
		{"ŴǷ", "W"}, {"ŵ", "w"},
		{"ÝŶŸƳȲɎ", "Y"}, {"ýÿŷƴȳɏ", "y"},
		{"ŹŻŽƵȤ", "Z"}, {"źżžƶȥ", "z"},
		{"ﬀ", "ff"}, {"ﬁ", "fi"}, {"ﬂ", "fl"}, {"ﬃ", "ffi"}, {"ﬄ", "ffl"}, {"ﬆ", "st"},
	}
	m := make(map[rune]string, 512)
	for _, g := range groups {
		for _, r := range g.from {
			m[r] = g.to
		}
	}
	return m
}()
