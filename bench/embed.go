package bench

import (
	"hash/fnv"
	"math"
	"strings"
	"sync"
	"unicode"
)

// The Query API workloads (RunQueries) need dense vectors and per-token
// multivectors for the text corpus, and no model ships offline. They are
// derived deterministically from the text instead, so that any machine
// makes the same data:
//
//   - hashedEmbedding: a bag of words and word pairs under a sparse random
//     projection. Each lower-cased word (a run of letters and digits of two
//     characters or more) with weight 1+ln(tf), and each pair of adjacent
//     words with half that weight, adds its weight with a pseudo-random
//     sign to 8 pseudo-random coordinates, both drawn from a hash of the
//     feature; the vector is then normalised. Texts sharing words are
//     near in cosine distance, as with a learned embedding of their words.
//   - tokenVectors: one vector per word position (the first maxTokens
//     words), the word's own pseudo-random unit vector plus half of each
//     neighbour's, normalised: a ColBERT-like contextual token vector.
//   - queryTokenVectors: exactly n vectors, the query's token vectors
//     repeated to fill n, each mixed with a pseudo-random vector of its
//     position (as ColBERT pads a query with mask tokens).

// embedTokens returns the lower-cased words of text.
func embedTokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
}

func wordsOf(text string) []string {
	var out []string
	for _, w := range embedTokens(text) {
		if len(w) >= 2 {
			out = append(out, w)
		}
	}
	return out
}

func hashString(s string) uint64 {
	h := fnv.New64a()
	h.Write([]byte(s))
	return h.Sum64()
}

// splitmix64 advances x and returns the next pseudo-random value.
func splitmix64(x *uint64) uint64 {
	*x += 0x9e3779b97f4a7c15
	z := *x
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// embedProjections is the number of coordinates each feature touches.
const embedProjections = 8

// hashedEmbedding returns text's dim-dimensional unit vector (see above).
func hashedEmbedding(text string, dim int) []float32 {
	words := wordsOf(text)
	tf := map[string]float64{}
	for i, w := range words {
		tf[w]++
		if i > 0 {
			tf[words[i-1]+" "+w] += 0.5
		}
	}
	v := make([]float64, dim)
	for f, n := range tf {
		w := 1 + math.Log(max(n, 1))
		if strings.Contains(f, " ") {
			w = 0.5 * (1 + math.Log(max(2*n, 1)))
		}
		x := hashString(f)
		for range embedProjections {
			r := splitmix64(&x)
			if r&1 == 0 {
				v[(r>>1)%uint64(dim)] += w
			} else {
				v[(r>>1)%uint64(dim)] -= w
			}
		}
	}
	if len(tf) == 0 {
		x := hashString("")
		v[splitmix64(&x)%uint64(dim)] = 1
	}
	return normalized(v)
}

func normalized(v []float64) []float32 {
	var n float64
	for _, x := range v {
		n += x * x
	}
	n = math.Sqrt(n)
	out := make([]float32, len(v))
	for i, x := range v {
		if n > 0 {
			out[i] = float32(x / n)
		}
	}
	return out
}

// tokenTable caches the pseudo-random unit vector of each word.
type tokenTable struct {
	dim int
	mu  sync.Mutex // guards m
	m   map[string][]float64
}

func newTokenTable(dim int) *tokenTable { return &tokenTable{dim: dim, m: map[string][]float64{}} }

func (t *tokenTable) vec(word string) []float64 {
	t.mu.Lock()
	defer t.mu.Unlock()
	if v, ok := t.m[word]; ok {
		return v
	}
	v := make([]float64, t.dim)
	x := hashString(word)
	var n float64
	for i := range v {
		// Uniform in [-1, 1).
		v[i] = float64(splitmix64(&x)>>11)/(1<<52) - 1
		n += v[i] * v[i]
	}
	n = math.Sqrt(n)
	for i := range v {
		v[i] /= n
	}
	t.m[word] = v
	return v
}

// tokenVectors returns one contextual vector per word of text, for its
// first maxTokens words; a text without words gets one vector.
func (t *tokenTable) tokenVectors(text string, maxTokens int) [][]float32 {
	words := wordsOf(text)
	if len(words) == 0 {
		words = []string{""}
	}
	words = words[:min(len(words), maxTokens)]
	out := make([][]float32, len(words))
	acc := make([]float64, t.dim)
	for i, w := range words {
		copy(acc, t.vec(w))
		for _, j := range []int{i - 1, i + 1} {
			if j >= 0 && j < len(words) {
				for d, x := range t.vec(words[j]) {
					acc[d] += 0.5 * x
				}
			}
		}
		out[i] = normalized(acc)
	}
	return out
}

// queryTokenVectors returns n vectors for query text (see above).
func (t *tokenTable) queryTokenVectors(text string, n int) [][]float32 {
	toks := t.tokenVectors(text, n)
	out := make([][]float32, n)
	acc := make([]float64, t.dim)
	for i := range out {
		tok := toks[i%len(toks)]
		pos := t.vec("[MASK]" + string(rune('a'+i%26)) + string(rune('a'+i/26)))
		for d := range acc {
			acc[d] = float64(tok[d]) + 0.3*pos[d]
		}
		out[i] = normalized(acc)
	}
	return out
}
