package payload

import (
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// mapIndex is the shared body of the keyword and UUID indexes: a posting
// bitmap per distinct value plus each point's values.
type mapIndex[K comparable] struct {
	params  IndexParams
	extract func(Value) (K, bool)
	post    map[K]*roaring.Bitmap
	vals    [][]K // by point id; nil when the point has no values
	points  *roaring.Bitmap
	nvals   int
	keySize int64 // estimated bytes per key, for MemoryBytes
}

func newMapIndex[K comparable](p IndexParams, extract func(Value) (K, bool), keySize int64) mapIndex[K] {
	return mapIndex[K]{params: p, extract: extract, post: map[K]*roaring.Bitmap{}, points: roaring.New(), keySize: keySize}
}

// Params returns the params the index was created with.
func (x *mapIndex[K]) Params() IndexParams { return x.params }

// Set replaces the values of point id. See Index.
func (x *mapIndex[K]) Set(id uint32, vals []Value) {
	var keys []K
	forEachValue(vals, func(v Value) {
		if k, ok := x.extract(v); ok && !slices.Contains(keys, k) {
			keys = append(keys, k)
		}
	})
	x.remove(id)
	if len(keys) == 0 {
		return
	}
	for int(id) >= len(x.vals) {
		x.vals = append(x.vals, nil)
	}
	x.vals[id] = slices.Clip(keys)
	x.nvals += len(keys)
	for _, k := range keys {
		bm := x.post[k]
		if bm == nil {
			bm = roaring.New()
			x.post[k] = bm
		}
		bm.Add(id)
	}
	x.points.Add(id)
}

// Remove drops point id from the index.
func (x *mapIndex[K]) Remove(id uint32) { x.remove(id) }

func (x *mapIndex[K]) remove(id uint32) {
	if int(id) >= len(x.vals) || x.vals[id] == nil {
		return
	}
	for _, k := range x.vals[id] {
		if bm := x.post[k]; bm != nil {
			bm.Remove(id)
			if bm.IsEmpty() {
				delete(x.post, k)
			}
		}
	}
	x.nvals -= len(x.vals[id])
	x.vals[id] = nil
	x.points.Remove(id)
}

// Points returns the points with at least one value. Read-only; see Index.
func (x *mapIndex[K]) Points() *roaring.Bitmap { return x.points }

// ValuesCount returns the number of distinct values of point id.
func (x *mapIndex[K]) ValuesCount(id uint32) int {
	if int(id) >= len(x.vals) {
		return 0
	}
	return len(x.vals[id])
}

// Len returns the number of points with at least one value.
func (x *mapIndex[K]) Len() int { return int(x.points.GetCardinality()) }

// MemoryBytes estimates the memory the index holds.
func (x *mapIndex[K]) MemoryBytes() int64 {
	n := int64(x.points.GetSizeInBytes()) + int64(cap(x.vals))*24 + int64(x.nvals)*x.keySize
	for _, bm := range x.post {
		n += int64(bm.GetSizeInBytes()) + x.keySize + 16
	}
	return n
}

func (x *mapIndex[K]) match(k K) *roaring.Bitmap {
	if bm := x.post[k]; bm != nil {
		return bm.Clone()
	}
	return roaring.New()
}

func (x *mapIndex[K]) matchAny(ks []K) *roaring.Bitmap {
	bms := make([]*roaring.Bitmap, 0, len(ks))
	for _, k := range ks {
		if bm := x.post[k]; bm != nil {
			bms = append(bms, bm)
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

func (x *mapIndex[K]) matchExcept(ks []K) *roaring.Bitmap {
	bms := make([]*roaring.Bitmap, 0, len(x.post))
	for k, bm := range x.post {
		if !slices.Contains(ks, k) {
			bms = append(bms, bm)
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

func (x *mapIndex[K]) estimate(k K) int {
	if bm := x.post[k]; bm != nil {
		return int(bm.GetCardinality())
	}
	return 0
}

func (x *mapIndex[K]) estimateAny(ks []K) int {
	n := 0
	for _, k := range ks {
		n += x.estimate(k)
	}
	return min(n, x.Len())
}

// forEachValue calls fn with each distinct value and the number of points
// that hold it, in no particular order, until fn returns false.
func (x *mapIndex[K]) forEach(fn func(K, int) bool) {
	for k, bm := range x.post {
		if !fn(k, int(bm.GetCardinality())) {
			return
		}
	}
}

// KeywordIndex indexes string values for exact match.
type KeywordIndex struct {
	mapIndex[string]
}

// NewKeywordIndex returns an empty keyword index.
func NewKeywordIndex(p IndexParams) *KeywordIndex {
	return &KeywordIndex{newMapIndex(p, func(v Value) (string, bool) { return v.Str() }, 24)}
}

// Match returns the points with value s (exact, case-sensitive).
func (x *KeywordIndex) Match(s string) *roaring.Bitmap { return x.match(s) }

// MatchAny returns the points with any of the values ss.
func (x *KeywordIndex) MatchAny(ss []string) *roaring.Bitmap { return x.matchAny(ss) }

// MatchExcept returns the points with at least one indexed value not in ss.
// Points whose field holds values of other types (which Qdrant's unindexed
// check counts as matching) are not seen by the index.
func (x *KeywordIndex) MatchExcept(ss []string) *roaring.Bitmap { return x.matchExcept(ss) }

// Estimate returns the number of points with value s (exact).
func (x *KeywordIndex) Estimate(s string) int { return x.estimate(s) }

// EstimateAny returns an upper bound of the points with any of ss.
func (x *KeywordIndex) EstimateAny(ss []string) int { return x.estimateAny(ss) }

// Values returns the distinct values of point id. The slice belongs to the
// index: do not modify it.
func (x *KeywordIndex) Values(id uint32) []string {
	if int(id) >= len(x.vals) {
		return nil
	}
	return x.vals[id]
}

// ForEach calls fn with each distinct value and its number of points, in
// no particular order, until fn returns false. It serves facets.
func (x *KeywordIndex) ForEach(fn func(value string, points int) bool) { x.forEach(fn) }

// UUIDIndex indexes string values that parse as UUIDs, by their 128-bit
// value, so that any accepted spelling matches any other.
type UUIDIndex struct {
	mapIndex[[16]byte]
}

// NewUUIDIndex returns an empty UUID index.
func NewUUIDIndex(p IndexParams) *UUIDIndex {
	return &UUIDIndex{newMapIndex(p, func(v Value) ([16]byte, bool) {
		s, ok := v.Str()
		if !ok {
			return [16]byte{}, false
		}
		return ParseUUID(s)
	}, 16)}
}

// Match returns the points whose value is the UUID s. An s that does not
// parse matches nothing here; Qdrant then falls back to comparing raw
// strings, which the filter package can do.
func (x *UUIDIndex) Match(s string) *roaring.Bitmap {
	u, ok := ParseUUID(s)
	if !ok {
		return roaring.New()
	}
	return x.match(u)
}

// MatchAny returns the points whose value is any of the UUIDs ss;
// unparsable entries are skipped.
func (x *UUIDIndex) MatchAny(ss []string) *roaring.Bitmap { return x.matchAny(parseUUIDs(ss)) }

// MatchExcept returns the points with at least one UUID not in ss;
// unparsable entries of ss exclude nothing.
func (x *UUIDIndex) MatchExcept(ss []string) *roaring.Bitmap {
	return x.matchExcept(parseUUIDs(ss))
}

// Estimate returns the number of points with UUID s (exact).
func (x *UUIDIndex) Estimate(s string) int {
	u, ok := ParseUUID(s)
	if !ok {
		return 0
	}
	return x.estimate(u)
}

// EstimateAny returns an upper bound of the points with any of ss.
func (x *UUIDIndex) EstimateAny(ss []string) int { return x.estimateAny(parseUUIDs(ss)) }

// ForEach calls fn with each distinct UUID (canonical lower-case form) and
// its number of points, until fn returns false. It serves facets.
func (x *UUIDIndex) ForEach(fn func(value string, points int) bool) {
	x.forEach(func(u [16]byte, n int) bool { return fn(FormatUUID(u), n) })
}

func parseUUIDs(ss []string) [][16]byte {
	out := make([][16]byte, 0, len(ss))
	for _, s := range ss {
		if u, ok := ParseUUID(s); ok {
			out = append(out, u)
		}
	}
	return out
}

// ParseUUID parses a UUID in the forms Qdrant accepts: 32 hex digits,
// hyphenated 8-4-4-4-12, the hyphenated form in braces, or prefixed with
// "urn:uuid:". Hex digits may be in either case.
func ParseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	switch {
	case len(s) == 32:
		return parseHex(s, u)
	case len(s) == 38 && s[0] == '{' && s[37] == '}':
		s = s[1:37]
	case len(s) == 45 && s[:9] == "urn:uuid:":
		s = s[9:]
	case len(s) == 36:
	default:
		return u, false
	}
	if s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return u, false
	}
	return parseHex(s[0:8]+s[9:13]+s[14:18]+s[19:23]+s[24:36], u)
}

func parseHex(s string, u [16]byte) ([16]byte, bool) {
	for i := 0; i < 16; i++ {
		hi, ok1 := hexVal(s[2*i])
		lo, ok2 := hexVal(s[2*i+1])
		if !ok1 || !ok2 {
			return [16]byte{}, false
		}
		u[i] = hi<<4 | lo
	}
	return u, true
}

func hexVal(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// FormatUUID returns u in canonical lower-case hyphenated form.
func FormatUUID(u [16]byte) string {
	const hex = "0123456789abcdef"
	var b [36]byte
	j := 0
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b[j] = '-'
			j++
		}
		b[j], b[j+1] = hex[c>>4], hex[c&15]
		j += 2
	}
	return string(b[:])
}

// BoolIndex indexes bool values.
type BoolIndex struct {
	params IndexParams
	trues  *roaring.Bitmap
	falses *roaring.Bitmap
	points *roaring.Bitmap
}

// NewBoolIndex returns an empty bool index.
func NewBoolIndex(p IndexParams) *BoolIndex {
	return &BoolIndex{params: p, trues: roaring.New(), falses: roaring.New(), points: roaring.New()}
}

// Params returns the params the index was created with.
func (x *BoolIndex) Params() IndexParams { return x.params }

// Set replaces the values of point id. See Index.
func (x *BoolIndex) Set(id uint32, vals []Value) {
	x.Remove(id)
	forEachValue(vals, func(v Value) {
		if b, ok := v.Bool(); ok {
			if b {
				x.trues.Add(id)
			} else {
				x.falses.Add(id)
			}
			x.points.Add(id)
		}
	})
}

// Remove drops point id from the index.
func (x *BoolIndex) Remove(id uint32) {
	x.trues.Remove(id)
	x.falses.Remove(id)
	x.points.Remove(id)
}

// Points returns the points with at least one bool. Read-only; see Index.
func (x *BoolIndex) Points() *roaring.Bitmap { return x.points }

// ValuesCount returns the number of distinct bools of point id (0 to 2):
// like Qdrant's bool index, [true, true] counts as one value.
func (x *BoolIndex) ValuesCount(id uint32) int {
	n := 0
	if x.trues.Contains(id) {
		n++
	}
	if x.falses.Contains(id) {
		n++
	}
	return n
}

// Len returns the number of points with at least one bool.
func (x *BoolIndex) Len() int { return int(x.points.GetCardinality()) }

// MemoryBytes estimates the memory the index holds.
func (x *BoolIndex) MemoryBytes() int64 {
	return int64(x.trues.GetSizeInBytes() + x.falses.GetSizeInBytes() + x.points.GetSizeInBytes())
}

// Match returns the points that have the value b.
func (x *BoolIndex) Match(b bool) *roaring.Bitmap {
	if b {
		return x.trues.Clone()
	}
	return x.falses.Clone()
}

// Estimate returns the number of points that have the value b (exact).
func (x *BoolIndex) Estimate(b bool) int {
	if b {
		return int(x.trues.GetCardinality())
	}
	return int(x.falses.GetCardinality())
}
