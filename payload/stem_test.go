package payload

import (
	"math/rand/v2"
	"testing"
	"unicode/utf8"
)

// TestStemmersAnyInput stems random bytes (mostly invalid UTF-8) and
// random words of each language's letters with every stemmer: no panic,
// the same stem twice, and valid UTF-8 in gives valid UTF-8 out.
func TestStemmersAnyInput(t *testing.T) {
	alphabets := map[string][2]rune{
		"arabic": {0x0620, 0x064A}, "armenian": {0x0561, 0x0587}, "greek": {0x0386, 0x03CE},
		"russian": {0x0430, 0x044F}, "tamil": {0x0B85, 0x0BCD},
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for _, lang := range StemmerLanguages() {
		stem, err := NewStemmer(lang)
		if err != nil {
			t.Fatal(err)
		}
		ab, ok := alphabets[lang]
		if !ok {
			ab = [2]rune{'a', 'z'}
		}
		for i := 0; i < 3000; i++ {
			var w string
			if i%3 == 0 {
				b := make([]byte, rng.IntN(12))
				for j := range b {
					b[j] = byte(rng.IntN(256))
				}
				w = string(b)
			} else {
				r := make([]rune, 1+rng.IntN(14))
				for j := range r {
					r[j] = ab[0] + rune(rng.IntN(int(ab[1]-ab[0]+1)))
				}
				w = string(r)
			}
			s := stem(w)
			if stem(w) != s {
				t.Fatalf("%s: %q stems differently twice", lang, w)
			}
			if utf8.ValidString(w) && !utf8.ValidString(s) {
				t.Fatalf("%s: %q stems to invalid UTF-8 %q", lang, w, s)
			}
		}
	}
}
