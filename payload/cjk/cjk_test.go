package cjk

import (
	"fmt"
	"math"
	"math/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

func split(s string) []string {
	var w []string
	Split(s, func(x string) { w = append(w, x) })
	return w
}

func TestSplit(t *testing.T) {
	f := func(text string, want ...string) {
		t.Helper()
		if got := split(text); !slices.Equal(got, want) {
			t.Errorf("Split(%q) = %q, want %q", text, got, want)
		}
	}
	f("")
	f("  123 ...")
	f("Hello, world 42", "hello", "world")
	// Chinese words are folded to their kVariants form (mostly
	// traditional), after the cut with the (simplified) dictionary.
	f("向量数据库", "向量", "數据", "庫")
	f("我从2025年开始学习Rust语言。", "我", "从", "年", "开始", "學習", "rust", "語言")
	f("他們的關係", "他", "們", "的", "關", "係")
	// Korean is decomposed (NFKD), as Qdrant indexes it.
	f("한국어 형태소 분석", norm.NFKD.String("한국어"), norm.NFKD.String("형태소"), norm.NFKD.String("분석"))
	if raceEnabled {
		return // no Japanese: see raceEnabled
	}
	f("これはテストです", "これ", "は", "テスト", "です")
	f("東京都に住んでいる", "東京", "都", "に", "住ん", "で", "いる")
	f("このデータはJSONです", "この", "データ", "は", "JSON", "です")
}

func TestIsJapanese(t *testing.T) {
	f := func(text string, want bool) {
		t.Helper()
		if got := isJapanese(text); got != want {
			t.Errorf("isJapanese(%q) = %v", text, got)
		}
	}
	f("これはテストです", true)
	f("日本語", false)                  // no kana: Chinese
	f("这是数据库がある", true)              // 3 kana of 8
	f("中华人民共和国成立了一个新的国家的事情の", false) // 1 kana of 21: under 5%
	f("Qdrant is a vector database のテスト", false)
	f("한국어 문장입니다 テスト", false)
}

// TestCutCoversText checks that jieba's cut and the bigram split return
// the text they are given, cut into pieces, for random mixes of
// dictionary words, ideographs, ASCII and punctuation.
func TestCutCoversText(t *testing.T) {
	d, err := loadJieba()
	if err != nil {
		t.Fatal(err)
	}
	g := segmenter{d: d}
	rng := rand.New(rand.NewSource(1))
	pieces := []string{"数据库", "中华人民共和国", "的", "，", " ", "Rust", "2025", "C++", "龘", "𠀀", "ー", "x", "。", "\r\n", "的确", "确实"}
	for i := 0; i < 2000; i++ {
		var b strings.Builder
		for n := rng.Intn(12); n > 0; n-- {
			if rng.Intn(3) == 0 {
				b.WriteString(d.word(rng.Intn(len(d.freq))))
			} else {
				b.WriteString(pieces[rng.Intn(len(pieces))])
			}
		}
		s := b.String()
		var cut []string
		g.cut(s, func(w string) {
			if w == "" {
				t.Fatalf("cut(%q) gave an empty word", s)
			}
			var parts []string
			g.searchSplit(w, func(p string) { parts = append(parts, p) })
			if strings.Join(parts, "") != w {
				t.Fatalf("searchSplit(%q) = %q", w, parts)
			}
			cut = append(cut, w)
		})
		if strings.Join(cut, "") != s {
			t.Fatalf("cut(%q) = %q", s, cut)
		}
	}
}

// TestRouteIsBest compares the route jieba's dynamic programme picks with
// an exhaustive search over every way to cut short texts into dictionary
// words (a character that starts no word being a word of frequency 1).
func TestRouteIsBest(t *testing.T) {
	d, err := loadJieba()
	if err != nil {
		t.Fatal(err)
	}
	g := segmenter{d: d}
	var best func(s string) float64
	best = func(s string) float64 {
		if s == "" {
			return 0
		}
		b := math.Inf(-1)
		d.prefixes(s, func(n int, freq uint32) {
			b = max(b, math.Log(float64(freq))-d.logTotal+best(s[n:]))
		})
		if math.IsInf(b, -1) {
			_, n := utf8.DecodeRuneInString(s)
			b = -d.logTotal + best(s[n:])
		}
		return b
	}
	rng := rand.New(rand.NewSource(2))
	chars := []rune("中华人民共和国数据库的确实在研究生命起源了不起来")
	for i := 0; i < 500; i++ {
		r := make([]rune, 1+rng.Intn(9))
		for j := range r {
			r[j] = chars[rng.Intn(len(chars))]
		}
		s := string(r)
		g.calc(s)
		if got, want := g.route[0].score, best(s); math.Abs(got-want) > 1e-9 {
			t.Fatalf("route score of %q = %v, best %v", s, got, want)
		}
	}
}

func TestJiebaDictionary(t *testing.T) {
	d, err := loadJieba()
	if err != nil {
		t.Fatal(err)
	}
	if n := len(d.freq); n != 349045 {
		t.Errorf("%d words, want jieba-rs 0.8.1's 349045", n)
	}
	for _, w := range []string{"数据库", "向量", "中华人民共和国", "1号店"} {
		if d.lookup(w) < 0 {
			t.Errorf("lookup(%q) failed", w)
		}
	}
	for _, w := range []string{"据库x", "", "数据库x"} {
		if d.lookup(w) >= 0 {
			t.Errorf("lookup(%q) found a word", w)
		}
	}
	var got []string
	d.prefixes("中华人民共和国成立", func(n int, _ uint32) { got = append(got, "中华人民共和国成立"[:n]) })
	if want := []string{"中", "中华", "中华人民", "中华人民共和国"}; !slices.Equal(got, want) {
		t.Errorf("prefixes = %q, want %q", got, want)
	}
	for _, bad := range []string{"a 1\nb\n", "b 1\na 1\n", "a x\n"} {
		if _, err := parseJiebaDict(gzipBytes(t, bad)); err == nil {
			t.Errorf("parseJiebaDict(%q) accepted it", bad)
		}
	}
}

func TestKVariants(t *testing.T) {
	if got := foldVariants("们国书來"); got != "們國書來" {
		t.Errorf("foldVariants = %q", got)
	}
	if got := foldVariants("abc"); got != "abc" {
		t.Errorf("foldVariants = %q", got)
	}
}

func FuzzSplit(f *testing.F) {
	for _, s := range []string{"向量数据库", "これはテストです", "한국어 문장", "café ﬁ Ⅻ", "\xff中\x00文", "C++的", "ab12中"} {
		if raceEnabled && isJapanese(s) {
			continue // see raceEnabled
		}
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		Split(s, func(w string) {
			if !utf8.ValidString(w) && utf8.ValidString(s) {
				t.Fatalf("Split(%q) gave invalid %q", s, w)
			}
			if strings.IndexFunc(w, isAlphabetic) < 0 {
				t.Fatalf("Split(%q) gave %q, which has no letter", s, w)
			}
		})
	})
}

// TestSplitConcurrent segments from several goroutines at once, the
// dictionaries loading under contention; run with -race.
func TestSplitConcurrent(t *testing.T) {
	texts := []string{"向量数据库是一种数据库", "这是数据库", "한국어 형태소", "naïve café"}
	if !raceEnabled {
		texts[1] = "これはテストです"
	}
	want := make([][]string, len(texts))
	for i, s := range texts {
		want[i] = split(s)
	}
	done := make(chan error, 8)
	for g := 0; g < 8; g++ {
		go func() {
			for i := 0; i < 50; i++ {
				k := (g + i) % len(texts)
				if got := split(texts[k]); !slices.Equal(got, want[k]) {
					done <- fmt.Errorf("Split(%q) = %q, want %q", texts[k], got, want[k])
					return
				}
			}
			done <- nil
		}()
	}
	for g := 0; g < 8; g++ {
		if err := <-done; err != nil {
			t.Error(err)
		}
	}
}

// TestSplitMatchesCharabia compares Split with the words charabia 0.9.9
// itself gives (the library Qdrant 1.17.1 tokenizes with, built with
// Qdrant's features) for the oracle corpus and mixes of it with English,
// symbols and other scripts. testdata/charabia/words.tsv holds one input a
// line, a tab, then charabia's words lower-cased and joined by "|", or
// JPN where Qdrant sends the whole input to its Japanese model instead
// (which is checked, not its words). It was written by the program in
// testdata/charabia (oracle.rs, built with Cargo.toml.txt), which reads
// the inputs on standard input.
func TestSplitMatchesCharabia(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("testdata", "charabia", "words.tsv"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for i, line := range strings.Split(strings.TrimSuffix(string(b), "\n"), "\n") {
		text, want, ok := strings.Cut(line, "\t")
		if !ok {
			t.Fatalf("words.tsv line %d: no tab", i+1)
		}
		n++
		if want == "JPN" {
			if !hasCJ(text) || !isJapanese(text) {
				t.Errorf("line %d: %q is not detected as Japanese", i+1, text)
			}
			continue
		}
		var got []string
		Split(text, func(w string) { got = append(got, strings.ToLower(w)) })
		if g := strings.Join(got, "|"); g != want {
			t.Errorf("line %d: Split(%q)\n got %q\nwant %q", i+1, text, g, want)
		}
	}
	if n < 600 {
		t.Fatalf("only %d lines in words.tsv", n)
	}
}
