// Package bm25 is Qdrant's built-in "qdrant/bm25" model: it turns a text
// into a sparse vector, as Qdrant 1.17.1 does for a Document whose model is
// qdrant/bm25.
//
// A document becomes the BM25 term-frequency weight of each distinct token,
//
//	tf = n·(k+1) / (n + k·(1 − b + b·len/avg_len))
//
// (n the token's count, len the number of tokens), under the token id: the
// absolute value of the token's 32-bit murmur3 hash (seed 0) read as a
// signed integer. Indices come out sorted. A query becomes weight 1 for each
// distinct token id, in the order the tokens first occur; the collection's
// IDF modifier supplies the rest of the score.
//
// Tokens come from the text index's tokenizer (package payload) with the
// model's options: by default the word tokenizer, lower-casing, and the
// English stopwords and snowball stemmer. As in Qdrant 1.17.1, documents
// are tokenized as queries are (this matters only for the prefix tokenizer,
// whose words are then cut to max_token_len instead of expanded to
// prefixes).
//
// A Model is immutable and safe for concurrent use.
package bm25

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"

	"github.com/twmb/murmur3"

	"github.com/qlite/qlite/payload"
)

// Options are the model's options: Qdrant's Bm25Config. Start from
// DefaultOptions (or ParseOptions), whose values are Qdrant's defaults.
type Options struct {
	// K controls term frequency saturation. Default 1.2.
	K float64
	// B controls document length normalisation, 0 (none) to 1. Default 0.75.
	B float64
	// AvgLen is the expected average document length in tokens. Default 256.
	AvgLen float64
	// Tokenizer is "word" (default), "whitespace", "prefix" or
	// "multilingual".
	Tokenizer string
	// Language picks the default stopwords and stemmer: its built-in
	// stopword list if it has one, its snowball stemmer if it has one. A
	// language with neither (Qdrant's way to switch both off is "none")
	// gives neither. Default "english".
	Language string
	// Lowercase lower-cases tokens. Default true.
	Lowercase bool
	// ASCIIFolding folds accented letters to ASCII. Default false.
	ASCIIFolding bool
	// Stopwords, when non-nil, replace the language's stopwords.
	Stopwords *Stopwords
	// Stemmer, when non-nil, replaces the language's stemmer: a snowball
	// language (payload.StemmerLanguages).
	Stemmer *string
	// MinTokenLen and MaxTokenLen, when non-nil, drop tokens shorter or
	// longer than them in characters (after stemming). A MaxTokenLen of 0
	// drops every token, as in Qdrant.
	MinTokenLen, MaxTokenLen *int
}

// Stopwords are built-in stopword lists (payload.StopwordLanguages) and
// custom words.
type Stopwords struct {
	Languages []string
	Custom    []string
}

// DefaultOptions returns Qdrant's default options.
func DefaultOptions() Options {
	return Options{K: 1.2, B: 0.75, AvgLen: 256, Tokenizer: payload.TokenizerWord, Language: "english", Lowercase: true}
}

// ErrBadOptions is the class of errors for options Qdrant refuses; see
// OptionsError.
var ErrBadOptions = errors.New("bm25: invalid options")

// A Model embeds texts with fixed options.
type Model struct {
	k, b, avgLen float64
	tok          *payload.Tokenizer
}

// New returns the model with options o. It fails for a tokenizer, a
// stopword or stemmer language, or a negative length that Qdrant would
// refuse (ParseOptions refuses them first).
func New(o Options) (*Model, error) {
	p := payload.TextParams{
		Tokenizer:    o.Tokenizer,
		Lowercase:    &o.Lowercase,
		ASCIIFolding: o.ASCIIFolding,
		MinTokenLen:  o.MinTokenLen,
		MaxTokenLen:  o.MaxTokenLen,
	}
	if o.Stopwords != nil {
		p.StopwordLanguages, p.Stopwords = o.Stopwords.Languages, o.Stopwords.Custom
	} else if payload.IsStopwordLanguage(o.Language) {
		p.StopwordLanguages = []string{o.Language}
	}
	if o.Stemmer != nil {
		p.Stemmer = *o.Stemmer
	} else if payload.IsStemmerLanguage(o.Language) {
		p.Stemmer = o.Language
	}
	tok, err := payload.NewTokenizer(p)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadOptions, err)
	}
	return &Model{k: o.K, b: o.B, avgLen: o.AvgLen, tok: tok}, nil
}

// Embed returns the sparse vector of text with options o: the document
// vector, or the query vector when query is set. See Model.
func Embed(text string, o Options, query bool) (indices []uint32, values []float32, err error) {
	m, err := New(o)
	if err != nil {
		return nil, nil, err
	}
	if query {
		indices, values = m.Query(text)
	} else {
		indices, values = m.Document(text)
	}
	return indices, values, nil
}

func (m *Model) tokens(text string) []string { return m.tok.Query(text, nil) }

// TokenID is the sparse index of a token: the absolute value of its
// murmur3 hash (32 bits, seed 0) read as a signed integer.
func TokenID(token string) uint32 {
	h := int32(murmur3.SeedStringSum32(0, token))
	if h < 0 {
		return uint32(-int64(h))
	}
	return uint32(h)
}

// Document returns the document vector of text: indices ascending, one
// BM25 term-frequency weight each. Both are empty for a text without
// tokens. Tokens are counted by id: two tokens whose ids collide count as
// one (Qdrant then keeps the weight of either, at random).
func (m *Model) Document(text string) (indices []uint32, values []float32) {
	toks := m.tokens(text)
	ids := make([]uint32, len(toks))
	for i, t := range toks {
		ids[i] = TokenID(t)
	}
	slices.Sort(ids)
	// As a float64 product in Qdrant's order: b·len first, then ÷ avg_len.
	norm := 1 - m.b + m.b*float64(len(toks))/m.avgLen
	indices, values = ids[:0], make([]float32, 0, len(ids))
	for i := 0; i < len(ids); {
		j := i + 1
		for j < len(ids) && ids[j] == ids[i] {
			j++
		}
		n := float64(j - i)
		indices = append(indices, ids[i])
		values = append(values, float32(n*(m.k+1)/math.FMA(m.k, norm, n)))
		i = j
	}
	return indices, values
}

// Query returns the query vector of text: each distinct token id once, in
// the order of first occurrence, with weight 1.
func (m *Model) Query(text string) (indices []uint32, values []float32) {
	toks := m.tokens(text)
	indices = make([]uint32, 0, len(toks))
	seen := make(map[uint32]struct{}, len(toks))
	for _, t := range toks {
		id := TokenID(t)
		if _, dup := seen[id]; !dup {
			seen[id] = struct{}{}
			indices = append(indices, id)
		}
	}
	values = make([]float32, len(indices))
	for i := range values {
		values[i] = 1
	}
	return indices, values
}

// OptionsError is an option Qdrant refuses, with serde's message.
type OptionsError struct{ Msg string }

func (e *OptionsError) Error() string { return ErrBadOptions.Error() + ": " + e.Msg }

func (e *OptionsError) Unwrap() error { return ErrBadOptions }

// Qdrant returns Qdrant's message for the error, which its REST API
// prefixes with "Wrong input: " (status 400).
func (e *OptionsError) Qdrant() string {
	return "Invalid BM25 config: Error(" + strconv.Quote(e.Msg) + ", line: 0, column: 0)"
}
