package cjk

import (
	_ "embed"
	"fmt"
	"strings"
	"sync"
	"unicode/utf8"
)

// kvariantsTxt maps ideographs to the variant Qdrant indexes them as: one
// "from to" pair a line (wrong, semantic, simplified, old and equal
// variants from the kVariants table of irg-kvariants 0.1.1; see
// NOTICE.md). Simplified characters map to traditional ones, so 们 and 們
// are the same word.
//
//go:embed kvariants.txt
var kvariantsTxt string

var (
	kvariantsOnce sync.Once
	kvariants     map[rune]rune
)

func loadKVariants() map[rune]rune {
	kvariantsOnce.Do(func() {
		m := make(map[rune]rune, strings.Count(kvariantsTxt, "\n"))
		for i, line := range strings.Split(strings.TrimSuffix(kvariantsTxt, "\n"), "\n") {
			from, to, ok := strings.Cut(line, " ")
			f, nf := utf8.DecodeRuneInString(from)
			t, nt := utf8.DecodeRuneInString(to)
			if !ok || nf != len(from) || nt != len(to) || f == utf8.RuneError || t == utf8.RuneError {
				panic(fmt.Sprintf("cjk: BUG: embedded kVariants line %d: %q", i+1, line))
			}
			m[f] = t
		}
		kvariants = m
	})
	return kvariants
}

// foldVariants replaces each ideograph of w that has a kVariants
// destination by it.
func foldVariants(w string) string {
	m := loadKVariants()
	changed := false
	for _, r := range w {
		if _, ok := m[r]; ok {
			changed = true
			break
		}
	}
	if !changed {
		return w
	}
	return strings.Map(func(r rune) rune {
		if to, ok := m[r]; ok {
			return to
		}
		return r
	}, w)
}
