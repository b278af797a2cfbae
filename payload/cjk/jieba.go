package cjk

import (
	"bufio"
	"bytes"
	"compress/gzip"
	_ "embed"
	"fmt"
	"io"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// jiebaDictGz is the word list of jieba-rs 0.8.1 (the Chinese dictionary
// Qdrant 1.17 segments with): one "word frequency" pair a line, sorted by
// bytes, gzip-compressed. The part-of-speech tags are left out. See
// NOTICE.md for its origin and licence.
//
//go:embed jieba_dict.gz
var jiebaDictGz []byte

// jiebaDict is a read-only word list sorted by bytes: words[i] is
// blob[off[i]:off[i+1]], with frequency freq[i]. A sorted array instead of
// a map or a trie keeps it compact (about 8 bytes a word beside the text),
// and a range of words sharing a prefix narrows one byte at a time, which
// is all the segmenter needs.
type jiebaDict struct {
	blob     string
	off      []uint32 // len(freq)+1 offsets into blob
	freq     []uint32
	logTotal float64 // ln of the sum of all frequencies
}

var (
	jiebaOnce sync.Once
	jiebaD    *jiebaDict
	jiebaErr  error
)

// loadJieba returns the dictionary, decoding it on first use.
func loadJieba() (*jiebaDict, error) {
	jiebaOnce.Do(func() {
		jiebaD, jiebaErr = parseJiebaDict(jiebaDictGz)
	})
	return jiebaD, jiebaErr
}

func parseJiebaDict(gz []byte) (*jiebaDict, error) {
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, fmt.Errorf("cjk: jieba dictionary: %w", err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("cjk: jieba dictionary: %w", err)
	}
	n := bytes.Count(raw, []byte{'\n'})
	d := &jiebaDict{off: make([]uint32, 0, n+1), freq: make([]uint32, 0, n)}
	var blob strings.Builder
	blob.Grow(len(raw))
	var total uint64
	sc := bufio.NewScanner(bytes.NewReader(raw))
	prev := ""
	for line := 1; sc.Scan(); line++ {
		word, f, ok := strings.Cut(sc.Text(), " ")
		freq, err := strconv.ParseUint(f, 10, 32)
		if !ok || word == "" || err != nil || (line > 1 && word <= prev) {
			return nil, fmt.Errorf("cjk: jieba dictionary: bad line %d", line)
		}
		prev = word
		d.off = append(d.off, uint32(blob.Len()))
		blob.WriteString(word)
		d.freq = append(d.freq, uint32(freq))
		total += freq
	}
	d.off = append(d.off, uint32(blob.Len()))
	d.blob = blob.String()
	d.logTotal = math.Log(float64(total))
	return d, nil
}

func (d *jiebaDict) word(i int) string { return d.blob[d.off[i]:d.off[i+1]] }

// lookup returns the index of word w, or -1.
func (d *jiebaDict) lookup(w string) int {
	n := len(d.freq)
	i := sort.Search(n, func(i int) bool { return d.word(i) >= w })
	if i < n && d.word(i) == w {
		return i
	}
	return -1
}

// prefixes calls fn(end, freq) for each dictionary word that is a prefix
// of s, in order of increasing length.
func (d *jiebaDict) prefixes(s string, fn func(end int, freq uint32)) {
	lo, hi := 0, len(d.freq)
	for k := 0; k < len(s) && lo < hi; k++ {
		// Every word in [lo, hi) starts with s[:k]; the one equal to it,
		// if any, sorts first.
		if len(d.word(lo)) == k {
			lo++
		}
		c := s[k]
		lo += sort.Search(hi-lo, func(i int) bool { return d.word(lo + i)[k] >= c })
		hi = lo + sort.Search(hi-lo, func(i int) bool { return d.word(lo + i)[k] > c })
		if lo < hi && len(d.word(lo)) == k+1 {
			fn(k+1, d.freq[lo])
		}
	}
}

// isHanBlockRune reports whether jieba keeps r inside a block that it
// segments with the dictionary (its default "han" pattern: CJK ideographs
// and a few ASCII characters).
func isHanBlockRune(r rune) bool {
	switch {
	case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		return true
	case r == '+', r == '#', r == '&', r == '.', r == '_', r == '%', r == '-':
		return true
	case r >= 0x3400 && r <= 0x4DBF, r >= 0x4E00 && r <= 0x9FFF, r >= 0xF900 && r <= 0xFAFF:
		return true
	case r >= 0x20000 && r <= 0x2A6DF, r >= 0x2A700 && r <= 0x2EBEF, r >= 0x2F800 && r <= 0x2FA1F:
		return true
	}
	return false
}

// segmenter holds the scratch of one segmentation.
type segmenter struct {
	d     *jiebaDict
	route []routeStep
	words []string
}

type routeStep struct {
	score float64
	end   int
}

// cut splits s into words as jieba's cut without HMM does: blocks of
// ideographs (and ASCII letters, digits and +#&._%-) are segmented along
// the most probable path through the dictionary; other text is split into
// whitespace runs and single characters.
func (g *segmenter) cut(s string, fn func(string)) {
	for len(s) > 0 {
		r, size := utf8.DecodeRuneInString(s)
		if isHanBlockRune(r) {
			end := size
			for end < len(s) {
				r, n := utf8.DecodeRuneInString(s[end:])
				if !isHanBlockRune(r) {
					break
				}
				end += n
			}
			g.cutBlock(s[:end], fn)
			s = s[end:]
			continue
		}
		if r == '\r' && len(s) > 1 && s[1] == '\n' {
			size = 2
		}
		fn(s[:size])
		s = s[size:]
	}
}

// cutBlock segments one block along the route of highest probability;
// runs of single ASCII letters or digits are joined into one word.
func (g *segmenter) cutBlock(s string, fn func(string)) {
	g.calc(s)
	left := -1
	for x := 0; x < len(s); {
		y := g.route[x].end
		if y-x == 1 && isASCIIAlnum(s[x]) {
			if left < 0 {
				left = x
			}
		} else {
			if left >= 0 {
				fn(s[left:x])
				left = -1
			}
			fn(s[x:y])
		}
		x = y
	}
	if left >= 0 {
		fn(s[left:])
	}
}

// calc fills g.route: for each character start, the best score of the rest
// of s and where the first word of that best path ends. Scores are sums of
// ln(freq/total); a character that starts no dictionary word is a word of
// frequency 1. Ties go to the longer word.
func (g *segmenter) calc(s string) {
	if cap(g.route) < len(s)+1 {
		g.route = make([]routeStep, len(s)+1)
	}
	route := g.route[:len(s)+1]
	route[len(s)] = routeStep{}
	next := len(s)
	for i := len(s); i > 0; {
		_, size := utf8.DecodeLastRuneInString(s[:i])
		i -= size
		best := routeStep{score: math.Inf(-1), end: -1}
		g.d.prefixes(s[i:], func(n int, freq uint32) {
			sc := math.Log(float64(freq)) - g.d.logTotal + route[i+n].score
			if sc > best.score || (sc == best.score && i+n > best.end) {
				best = routeStep{sc, i + n}
			}
		})
		if best.end < 0 {
			best = routeStep{-g.d.logTotal + route[next].score, next}
		}
		route[i] = best
		next = i
	}
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// searchSplit splits a word of more than two characters that is not plain
// ASCII letters and digits into dictionary bigrams, then trigrams, then
// single characters, greedily from the left, as charabia's Chinese
// segmenter does after jieba so that a query word such as 数据 matches
// inside 数据库.
func (g *segmenter) searchSplit(w string, fn func(string)) {
	if utf8.RuneCountInString(w) <= 2 || allASCIIAlnum(w) {
		fn(w)
		return
	}
	for len(w) > 0 {
		if n := gram(w, 2); n > 0 && g.d.lookup(w[:n]) >= 0 {
			fn(w[:n])
			w = w[n:]
		} else if n := gram(w, 3); n > 0 && g.d.lookup(w[:n]) >= 0 {
			fn(w[:n])
			w = w[n:]
		} else {
			_, size := utf8.DecodeRuneInString(w)
			fn(w[:size])
			w = w[size:]
		}
	}
}

// gram returns the byte length of the first k runes of s, or 0 when s is
// shorter.
func gram(s string, k int) int {
	for i := range s {
		if k == 0 {
			return i
		}
		k--
	}
	if k == 0 {
		return len(s)
	}
	return 0
}

func allASCIIAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isASCIIAlnum(s[i]) {
			return false
		}
	}
	return true
}
