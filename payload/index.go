package payload

import (
	"errors"
	"fmt"

	"github.com/RoaringBitmap/roaring/v2"
)

// Field indexes.
//
// An index maps the values of one payload field to internal point ids
// (uint32, dense per segment). Each type reads only the values it holds, as
// Qdrant's indexes do: a keyword index reads strings, an integer index reads
// integers (not 1.0), a float index reads any number, a datetime index reads
// strings that ParseDatetime accepts, a UUID index reads strings that
// ParseUUID accepts, a geo index reads {"lon", "lat"} objects (GeoPointFrom),
// a text index reads strings, a bool index reads bools. Other values are
// ignored, so an index can see fewer points than the payload has: the
// filter package decides when that matters (match except, is_empty).
//
// Query methods return a new bitmap the caller owns. Estimate methods do
// not build bitmaps: they are exact where the answer is one posting list's
// size and upper bounds otherwise.
//
// Concurrency: query and estimate methods only read and may run in
// parallel with each other; Set and Remove need exclusive access.

// ErrBadIndexParams is wrapped by NewIndex errors.
var ErrBadIndexParams = errors.New("qlite: invalid index params")

// FieldType is the type of a payload index, numbered as gRPC's FieldType.
type FieldType uint8

// Index types, in gRPC FieldType order.
const (
	TypeKeyword  FieldType = 0
	TypeInteger  FieldType = 1
	TypeFloat    FieldType = 2
	TypeGeo      FieldType = 3
	TypeText     FieldType = 4
	TypeBool     FieldType = 5
	TypeDatetime FieldType = 6
	TypeUUID     FieldType = 7
)

var fieldTypeNames = [...]string{"keyword", "integer", "float", "geo", "text", "bool", "datetime", "uuid"}

// String returns the REST name of the type ("keyword", "integer", ...).
func (t FieldType) String() string {
	if int(t) < len(fieldTypeNames) {
		return fieldTypeNames[t]
	}
	return fmt.Sprintf("FieldType(%d)", int(t))
}

// ParseFieldType parses a REST type name as String returns it.
func ParseFieldType(s string) (FieldType, error) {
	for i, n := range fieldTypeNames {
		if n == s {
			return FieldType(i), nil
		}
	}
	return 0, fmt.Errorf("%w: unknown field type %q", ErrBadIndexParams, s)
}

// IndexParams configures a payload index: Qdrant's PayloadSchemaParams.
// Fields that do not apply to Type are ignored.
type IndexParams struct {
	Type FieldType

	// Lookup and Range say which integer conditions the index serves in
	// Qdrant's planner: Lookup for match, Range for range. Nil means true.
	// An IntegerIndex answers both either way, with identical results; the
	// flags are kept for the schema and for planning.
	Lookup, Range *bool

	// IsTenant (keyword, uuid) and IsPrincipal (integer, float, datetime)
	// are storage hints in Qdrant; qlite records them.
	IsTenant, IsPrincipal bool

	// OnDisk is recorded; indexes are kept in memory.
	OnDisk bool

	// Text configures a text index.
	Text TextParams
}

// LookupEnabled reports whether an integer index serves match conditions.
// Validate checks what Qdrant checks of index parameters in a request: an
// integer index keeps lookup or range (or both).
func (p IndexParams) Validate() error {
	if p.Type == TypeInteger && !p.LookupEnabled() && !p.RangeEnabled() {
		return fmt.Errorf("%w: %w", ErrBadIndexParams, ErrLookupAndRangeOff)
	}
	return nil
}

// ErrLookupAndRangeOff is Validate's message for an integer index with
// neither lookup nor range, in Qdrant's words.
var ErrLookupAndRangeOff = errors.New("the 'lookup' and 'range' capabilities can't be both disabled")

func (p IndexParams) LookupEnabled() bool { return p.Lookup == nil || *p.Lookup }

// RangeEnabled reports whether an integer index serves range conditions.
func (p IndexParams) RangeEnabled() bool { return p.Range == nil || *p.Range }

// TextParams configures a text index: Qdrant's TextIndexParams.
type TextParams struct {
	// Tokenizer is "word" (the default when empty), "whitespace", "prefix"
	// or "multilingual".
	Tokenizer string

	// MinTokenLen and MaxTokenLen, when set, drop tokens shorter or longer
	// than them, counted in characters after stemming; nil is no limit. As
	// in Qdrant, 0 is a limit: a MaxTokenLen of 0 drops every token. For
	// the prefix tokenizer they bound the prefixes generated (the shortest
	// is 1 character unless MinTokenLen says otherwise).
	MinTokenLen, MaxTokenLen *int

	// Lowercase folds tokens to lower case. Nil means true.
	Lowercase *bool

	// ASCIIFolding folds accented Latin letters to ASCII (é -> e, ß -> ss)
	// before lower-casing. See foldASCII for its coverage.
	ASCIIFolding bool

	// PhraseMatching keeps each point's token sequence, which Phrase needs;
	// without it Phrase matches nothing, as in Qdrant.
	PhraseMatching bool

	// Stopwords are custom stopwords, dropped from documents and queries
	// with those of StopwordLanguages: a token is a stopword when it equals
	// one of them after folding and lower-casing; with Lowercase on, the
	// lists are lower-cased too. The prefix tokenizer keeps stopwords in
	// queries, as Qdrant does.
	Stopwords []string

	// StopwordLanguages name built-in stopword lists (see
	// StopwordLanguages) whose words are dropped as well.
	StopwordLanguages []string

	// StopwordsForm is the form the stopwords were given in, which Qdrant
	// echoes: a bare language name ("english") or a set. In the set form a
	// nil slice is an absent member and an empty one is []. The zero value
	// writes a set when either slice is non-nil, else nothing.
	StopwordsForm StopwordsForm

	// Stemmer is the snowball language tokens are stemmed with, after
	// stopwords are dropped and before the length limits apply; empty for
	// none (the default). See StemmerLanguages.
	Stemmer string
}

// StopwordsForm is how TextParams' stopwords were written.
type StopwordsForm uint8

// Forms of the stopwords.
const (
	StopwordsAuto     StopwordsForm = iota // a set if any slice is non-nil
	StopwordsLanguage                      // "english": one language, no custom words
	StopwordsSet                           // {"languages": [...], "custom": [...]}
)

// LowercaseEnabled reports whether tokens are lower-cased.
func (p TextParams) LowercaseEnabled() bool { return p.Lowercase == nil || *p.Lowercase }

// Index is a payload field index: posting lists from values to internal
// point ids. Indexes are not safe for concurrent use: callers serialise
// writes against reads (queries may run concurrently with each other).
//
// Every query method of the concrete types returns a new bitmap that the
// caller owns and may modify. Estimate methods are cheap: exact when the
// answer is a single posting list's cardinality, otherwise an upper bound.
type Index interface {
	// Params returns the params the index was created with.
	Params() IndexParams

	// Set replaces the values of point id with vals: the values Path.Find
	// returned for the point. Array values are multi-values (each element is
	// indexed); values of a type the index does not hold are ignored, as in
	// Qdrant. A point whose vals hold nothing indexable is removed.
	Set(id uint32, vals []Value)

	// Remove drops point id from the index.
	Remove(id uint32)

	// Points returns the points that have at least one indexed value. The
	// bitmap is the index's own: read it, do not modify it, and do not keep
	// it across Set or Remove.
	Points() *roaring.Bitmap

	// ValuesCount returns the number of distinct values indexed for point
	// id (distinct tokens for a text index, as Qdrant counts).
	ValuesCount(id uint32) int

	// Len returns the number of points with at least one indexed value.
	Len() int

	// MemoryBytes estimates the memory the index holds.
	MemoryBytes() int64
}

// NewIndex returns an empty index of type p.Type: *KeywordIndex,
// *IntegerIndex, *FloatIndex, *GeoIndex, *TextIndex, *BoolIndex,
// *DatetimeIndex or *UUIDIndex.
func NewIndex(p IndexParams) (Index, error) {
	switch p.Type {
	case TypeKeyword:
		return NewKeywordIndex(p), nil
	case TypeInteger:
		return NewIntegerIndex(p), nil
	case TypeFloat:
		return NewFloatIndex(p), nil
	case TypeGeo:
		return NewGeoIndex(p), nil
	case TypeText:
		x, err := NewTextIndex(p)
		if err != nil {
			return nil, err
		}
		return x, nil
	case TypeBool:
		return NewBoolIndex(p), nil
	case TypeDatetime:
		return NewDatetimeIndex(p), nil
	case TypeUUID:
		return NewUUIDIndex(p), nil
	}
	return nil, fmt.Errorf("%w: unknown field type %d", ErrBadIndexParams, p.Type)
}

// Range is a numeric range condition: {gt, gte, lt, lte}. Nil bounds are
// absent; a value matches when it satisfies every present bound.
type Range struct {
	GT, GTE, LT, LTE *float64
}

// Contains reports whether x satisfies every bound.
func (r Range) Contains(x float64) bool {
	return (r.GT == nil || x > *r.GT) &&
		(r.GTE == nil || x >= *r.GTE) &&
		(r.LT == nil || x < *r.LT) &&
		(r.LTE == nil || x <= *r.LTE)
}

// IsUnbounded reports whether r has no bounds (and so matches every number).
func (r Range) IsUnbounded() bool {
	return r.GT == nil && r.GTE == nil && r.LT == nil && r.LTE == nil
}
