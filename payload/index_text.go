package payload

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// TextIndex is a full-text index over string values. Each point's strings
// are tokenized (see TextParams) and concatenated into one document; the
// index keeps a posting bitmap per token and, with PhraseMatching, the
// document's token sequence for phrase queries.
//
// Query semantics follow Qdrant's text index: Text needs every query token
// in the document, TextAny needs one, Phrase needs the tokens consecutive
// and in order. A query with no tokens matches nothing, and a Text or
// Phrase query with a token the index has never seen matches nothing.
type TextIndex struct {
	params IndexParams
	tok    textTokenizer

	vocab map[string]uint32 // token -> token id
	words []string          // token id -> token
	post  []*roaring.Bitmap // token id -> points; nil for a free id
	free  []uint32          // token ids to reuse

	sets   [][]uint32 // by point: its distinct token ids, sorted
	docs   [][]uint32 // by point: its token ids in order (PhraseMatching only)
	has    []bool     // by point: whether it has a string value
	points *roaring.Bitmap
}

// NewTextIndex returns an empty text index. It fails on an unknown
// tokenizer or negative token lengths.
func NewTextIndex(p IndexParams) (*TextIndex, error) {
	tok, err := newTextTokenizer(p.Text)
	if err != nil {
		return nil, err
	}
	return &TextIndex{params: p, tok: tok, vocab: map[string]uint32{}, points: roaring.New()}, nil
}

// Params returns the params the index was created with.
func (x *TextIndex) Params() IndexParams { return x.params }

// Tokenize appends to dst the tokens the index stores for text, in order.
// The multilingual tokenizer falls back to the word tokenizer: Qdrant
// segments CJK and Thai text with dictionaries, which qlite does not have.
func (x *TextIndex) Tokenize(text string, dst []string) []string { return x.tok.doc(text, dst) }

// TokenizeQuery appends to dst the tokens Text and TextAny look up for a
// query. It differs from Tokenize only for the prefix tokenizer.
func (x *TextIndex) TokenizeQuery(text string, dst []string) []string {
	return x.tok.query(text, dst)
}

// Set replaces the values of point id. String values are indexed; a point
// with at least one string counts as indexed even if it yields no token.
func (x *TextIndex) Set(id uint32, vals []Value) {
	x.Remove(id)
	var toks []string
	n := 0
	forEachValue(vals, func(v Value) {
		if s, ok := v.Str(); ok {
			toks = x.tok.doc(s, toks)
			n++
		}
	})
	if n == 0 {
		return
	}
	for int(id) >= len(x.has) {
		x.has = append(x.has, false)
		x.sets = append(x.sets, nil)
		x.docs = append(x.docs, nil)
	}
	doc := make([]uint32, len(toks))
	for i, t := range toks {
		doc[i] = x.register(t)
	}
	set := slices.Clone(doc)
	slices.Sort(set)
	set = slices.Clip(slices.Compact(set))
	for _, t := range set {
		x.post[t].Add(id)
	}
	x.has[id] = true
	x.sets[id] = set
	if x.params.Text.PhraseMatching {
		x.docs[id] = doc
	}
	x.points.Add(id)
}

func (x *TextIndex) register(tok string) uint32 {
	if t, ok := x.vocab[tok]; ok {
		return t
	}
	var t uint32
	if n := len(x.free); n > 0 {
		t = x.free[n-1]
		x.free = x.free[:n-1]
		x.words[t] = tok
		x.post[t] = roaring.New()
	} else {
		t = uint32(len(x.words))
		x.words = append(x.words, tok)
		x.post = append(x.post, roaring.New())
	}
	x.vocab[tok] = t
	return t
}

// Remove drops point id from the index.
func (x *TextIndex) Remove(id uint32) {
	if int(id) >= len(x.has) || !x.has[id] {
		return
	}
	for _, t := range x.sets[id] {
		bm := x.post[t]
		bm.Remove(id)
		if bm.IsEmpty() {
			delete(x.vocab, x.words[t])
			x.words[t] = ""
			x.post[t] = nil
			x.free = append(x.free, t)
		}
	}
	x.has[id] = false
	x.sets[id] = nil
	x.docs[id] = nil
	x.points.Remove(id)
}

// Points returns the points with at least one string. Read-only; see Index.
func (x *TextIndex) Points() *roaring.Bitmap { return x.points }

// ValuesCount returns the number of distinct tokens of point id, which is
// what Qdrant's text index counts.
func (x *TextIndex) ValuesCount(id uint32) int {
	if int(id) >= len(x.sets) {
		return 0
	}
	return len(x.sets[id])
}

// Len returns the number of points with at least one string.
func (x *TextIndex) Len() int { return int(x.points.GetCardinality()) }

// MemoryBytes estimates the memory the index holds.
func (x *TextIndex) MemoryBytes() int64 {
	n := int64(x.points.GetSizeInBytes()) + int64(cap(x.sets)+cap(x.docs))*24 + int64(cap(x.has))
	for i, w := range x.words {
		n += int64(len(w)) + 40
		if x.post[i] != nil {
			n += int64(x.post[i].GetSizeInBytes())
		}
	}
	for i := range x.sets {
		n += int64(cap(x.sets[i])+cap(x.docs[i])) * 4
	}
	return n
}

// lookup resolves query tokens to distinct token ids; ok is false when a
// token is unknown.
func (x *TextIndex) lookup(toks []string) (ids []uint32, ok bool) {
	ids = make([]uint32, 0, len(toks))
	for _, t := range toks {
		id, found := x.vocab[t]
		if !found {
			return nil, false
		}
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return slices.Compact(ids), true
}

// intersect returns the points in every posting of ids.
func (x *TextIndex) intersect(ids []uint32) *roaring.Bitmap {
	if len(ids) == 0 {
		return roaring.New()
	}
	bms := make([]*roaring.Bitmap, len(ids))
	for i, t := range ids {
		bms[i] = x.post[t]
	}
	slices.SortFunc(bms, func(a, b *roaring.Bitmap) int {
		return int(a.GetCardinality()) - int(b.GetCardinality())
	})
	out := bms[0].Clone()
	for _, bm := range bms[1:] {
		if out.IsEmpty() {
			break
		}
		out.And(bm)
	}
	return out
}

// Text returns the points whose document has every token of q.
func (x *TextIndex) Text(q string) *roaring.Bitmap {
	ids, ok := x.lookup(x.tok.query(q, nil))
	if !ok {
		return roaring.New()
	}
	return x.intersect(ids)
}

// TextAny returns the points whose document has at least one token of q.
// Unknown tokens are ignored.
func (x *TextIndex) TextAny(q string) *roaring.Bitmap {
	var bms []*roaring.Bitmap
	for _, t := range x.tok.query(q, nil) {
		if id, ok := x.vocab[t]; ok {
			bms = append(bms, x.post[id])
		}
	}
	switch len(bms) {
	case 0:
		return roaring.New()
	case 1:
		return bms[0].Clone()
	}
	return roaring.FastOr(bms...)
}

// Phrase returns the points whose document has the tokens of q (tokenized
// as a document) consecutively and in order. Without PhraseMatching the
// index keeps no token order and, as in Qdrant, nothing matches.
func (x *TextIndex) Phrase(q string) *roaring.Bitmap {
	if !x.params.Text.PhraseMatching {
		return roaring.New()
	}
	toks := x.tok.doc(q, nil)
	phrase := make([]uint32, len(toks))
	for i, t := range toks {
		id, ok := x.vocab[t]
		if !ok {
			return roaring.New()
		}
		phrase[i] = id
	}
	set := slices.Clone(phrase)
	slices.Sort(set)
	out := x.intersect(slices.Compact(set))
	if len(phrase) < 2 {
		return out
	}
	var drop []uint32
	out.Iterate(func(id uint32) bool {
		if !hasPhrase(x.docs[id], phrase) {
			drop = append(drop, id)
		}
		return true
	})
	for _, id := range drop {
		out.Remove(id)
	}
	return out
}

func hasPhrase(doc, phrase []uint32) bool {
	for i := 0; i+len(phrase) <= len(doc); i++ {
		if slices.Equal(doc[i:i+len(phrase)], phrase) {
			return true
		}
	}
	return false
}

// EstimateText returns an upper bound of Text(q)'s size (exact for one
// token): the smallest posting of its tokens.
func (x *TextIndex) EstimateText(q string) int {
	ids, ok := x.lookup(x.tok.query(q, nil))
	if !ok || len(ids) == 0 {
		return 0
	}
	n := x.Len()
	for _, t := range ids {
		n = min(n, int(x.post[t].GetCardinality()))
	}
	return n
}

// EstimateTextAny returns an upper bound of TextAny(q)'s size.
func (x *TextIndex) EstimateTextAny(q string) int {
	n := 0
	for _, t := range x.tok.query(q, nil) {
		if id, ok := x.vocab[t]; ok {
			n += int(x.post[id].GetCardinality())
		}
	}
	return min(n, x.Len())
}

// EstimatePhrase returns an upper bound of Phrase(q)'s size.
func (x *TextIndex) EstimatePhrase(q string) int {
	if !x.params.Text.PhraseMatching {
		return 0
	}
	n := x.Len()
	toks := x.tok.doc(q, nil)
	if len(toks) == 0 {
		return 0
	}
	for _, t := range toks {
		id, ok := x.vocab[t]
		if !ok {
			return 0
		}
		n = min(n, int(x.post[id].GetCardinality()))
	}
	return n
}
