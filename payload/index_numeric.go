package payload

import (
	"cmp"
	"math"
	"slices"
	"time"

	"github.com/RoaringBitmap/roaring/v2"
)

// numIndex is the shared body of the integer, float and datetime indexes:
// an ordered set of (value, point) pairs plus each point's values.
type numIndex[K cmp.Ordered] struct {
	params  IndexParams
	extract func(Value) (K, bool)
	pairs   pairSet[K]
	vals    [][]K // by point id; nil when the point has no values
	points  *roaring.Bitmap
	nvals   int
}

func newNumIndex[K cmp.Ordered](p IndexParams, extract func(Value) (K, bool)) numIndex[K] {
	return numIndex[K]{params: p, extract: extract, points: roaring.New()}
}

// Params returns the params the index was created with.
func (x *numIndex[K]) Params() IndexParams { return x.params }

// Set replaces the values of point id. See Index.
func (x *numIndex[K]) Set(id uint32, vals []Value) {
	var keys []K
	forEachValue(vals, func(v Value) {
		if k, ok := x.extract(v); ok {
			keys = append(keys, k)
		}
	})
	slices.Sort(keys)
	keys = slices.Compact(keys)
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
		x.pairs.insert(pair[K]{k, id})
	}
	x.points.Add(id)
}

// Remove drops point id from the index.
func (x *numIndex[K]) Remove(id uint32) { x.remove(id) }

func (x *numIndex[K]) remove(id uint32) {
	if int(id) >= len(x.vals) || x.vals[id] == nil {
		return
	}
	for _, k := range x.vals[id] {
		x.pairs.delete(pair[K]{k, id})
	}
	x.nvals -= len(x.vals[id])
	x.vals[id] = nil
	x.points.Remove(id)
}

// Points returns the points with at least one value. Read-only; see Index.
func (x *numIndex[K]) Points() *roaring.Bitmap { return x.points }

// ValuesCount returns the number of distinct values of point id.
func (x *numIndex[K]) ValuesCount(id uint32) int {
	if int(id) >= len(x.vals) {
		return 0
	}
	return len(x.vals[id])
}

// Len returns the number of points with at least one value.
func (x *numIndex[K]) Len() int { return int(x.points.GetCardinality()) }

// MemoryBytes estimates the memory the index holds.
func (x *numIndex[K]) MemoryBytes() int64 {
	var k K
	size := int64(sizeOf(k))
	return x.pairs.memoryBytes(int(size)+4) + int64(cap(x.vals))*24 + int64(x.nvals)*size +
		int64(x.points.GetSizeInBytes())
}

// values returns the values of point id, sorted and distinct. The slice
// belongs to the index.
func (x *numIndex[K]) values(id uint32) []K {
	if int(id) >= len(x.vals) {
		return nil
	}
	return x.vals[id]
}

func (x *numIndex[K]) walk(b keyBounds[K], desc bool, fn func(K, uint32) bool) {
	f := func(p pair[K]) bool { return fn(p.key, p.id) }
	if desc {
		x.pairs.descend(b, f)
	} else {
		x.pairs.ascend(b, f)
	}
}

func (x *numIndex[K]) query(b keyBounds[K]) *roaring.Bitmap {
	ids := make([]uint32, 0, x.pairs.count(b))
	return bitmapOf(x.pairs.appendIDs(b, ids), len(x.vals))
}

// estimate is the number of (value, point) pairs in b: exact for points
// with one value, an upper bound otherwise, and never more than Len.
func (x *numIndex[K]) estimate(b keyBounds[K]) int {
	return min(x.pairs.count(b), x.Len())
}

func sizeOf(v any) int {
	switch v.(type) {
	case int64, float64:
		return 8
	}
	return 16
}

// forEachValue calls fn for each value of vals, expanding arrays by one
// level as Qdrant's indexes read multi-values.
func forEachValue(vals []Value, fn func(Value)) {
	for _, v := range vals {
		if v.Kind() == Array {
			for _, e := range v.Array() {
				fn(e)
			}
			continue
		}
		fn(v)
	}
}

// exactly returns the bounds [k, k].
func exactly[K cmp.Ordered](k K) keyBounds[K] {
	return keyBounds[K]{lo: k, hi: k, hasLo: true, hasHi: true, loIncl: true, hiIncl: true}
}

// IntegerIndex indexes integer values (JSON numbers that are integers and
// fit int64; floats such as 1.0 are not indexed, as in Qdrant). It serves
// match, match any/except and range conditions.
type IntegerIndex struct {
	numIndex[int64]
}

// NewIntegerIndex returns an empty integer index.
func NewIntegerIndex(p IndexParams) *IntegerIndex {
	return &IntegerIndex{newNumIndex(p, func(v Value) (int64, bool) { return v.Int() })}
}

// Match returns the points with value i.
func (x *IntegerIndex) Match(i int64) *roaring.Bitmap { return x.query(exactly(i)) }

// MatchAny returns the points with any of the values is.
func (x *IntegerIndex) MatchAny(is []int64) *roaring.Bitmap {
	var ids []uint32
	for _, i := range is {
		ids = x.pairs.appendIDs(exactly(i), ids)
	}
	return bitmapOf(ids, len(x.vals))
}

// MatchExcept returns the points with at least one indexed value not in is.
// Points whose field holds values of other types (which Qdrant's unindexed
// check counts as matching) are not seen by the index.
func (x *IntegerIndex) MatchExcept(is []int64) *roaring.Bitmap {
	out := roaring.New()
	x.points.Iterate(func(id uint32) bool {
		for _, v := range x.vals[id] {
			if !slices.Contains(is, v) {
				out.Add(id)
				break
			}
		}
		return true
	})
	return out
}

// Range returns the points with a value in r. The float bounds are first
// turned into integer bounds that keep the predicate for every integer: gt
// and lte round down, gte and lt round up, saturating at the int64 limits;
// values then compare as integers. For integers up to 2^53 in magnitude this
// is exactly r.Contains(float64(value)). (Qdrant since its fix #9049; earlier
// versions truncated bounds toward zero, so {lt: 1.5} missed 1.)
func (x *IntegerIndex) Range(r Range) *roaring.Bitmap { return x.query(intBounds(r)) }

// Estimate returns the number of points with value i (exact).
func (x *IntegerIndex) Estimate(i int64) int { return x.pairs.count(exactly(i)) }

// EstimateAny returns an upper bound of the points with any of is.
func (x *IntegerIndex) EstimateAny(is []int64) int {
	n := 0
	for _, i := range is {
		n += x.pairs.count(exactly(i))
	}
	return min(n, x.Len())
}

// EstimateRange returns the number of points with a value in r: exact when
// every point has at most one value, an upper bound otherwise.
func (x *IntegerIndex) EstimateRange(r Range) int { return x.estimate(intBounds(r)) }

// Walk calls fn with each (value, point) pair whose value is in r (see
// Range), in ascending order of value and then point, or descending with
// desc, until fn returns false. A point appears once per distinct value.
// It serves order_by.
func (x *IntegerIndex) Walk(r Range, desc bool, fn func(v int64, id uint32) bool) {
	x.walk(intBounds(r), desc, fn)
}

// MarkDense sets in out the bit of each point with a value in r (bit id%64
// of word id/64); points past out's end are left out. It is Walk setting
// bits, several times faster.
func (x *IntegerIndex) MarkDense(r Range, out []uint64) { x.pairs.markDense(intBounds(r), out) }

// Values returns the distinct values of point id in ascending order. The
// slice belongs to the index: do not modify it.
func (x *IntegerIndex) Values(id uint32) []int64 { return x.values(id) }

// intRange is a range with integer bounds.
type intRange struct {
	gt, gte, lt, lte *int64
}

// intBounds converts a float range to integer key bounds for an integer
// index.
func intBounds(r Range) keyBounds[int64] {
	conv := func(f *float64, round func(float64) float64) *int64 {
		if f == nil {
			return nil
		}
		i := saturatingInt(round(*f))
		return &i
	}
	return intRange{
		gt:  conv(r.GT, math.Floor),
		gte: conv(r.GTE, math.Ceil),
		lt:  conv(r.LT, math.Ceil),
		lte: conv(r.LTE, math.Floor),
	}.bounds()
}

// saturatingInt converts f to int64 as Rust's `as` does: NaN is 0 and
// values beyond the int64 range clamp to its ends.
func saturatingInt(f float64) int64 {
	switch {
	case math.IsNaN(f):
		return 0
	case f >= 0x1p63:
		return math.MaxInt64
	case f < -0x1p63:
		return math.MinInt64
	}
	return int64(f)
}

// bounds turns r into a closed interval of int64 keys.
func (r intRange) bounds() keyBounds[int64] {
	b := keyBounds[int64]{lo: math.MinInt64, hi: math.MaxInt64, hasLo: true, hasHi: true, loIncl: true, hiIncl: true}
	if r.gt != nil {
		if *r.gt == math.MaxInt64 {
			b.empty = true
		} else {
			b.lo = max(b.lo, *r.gt+1)
		}
	}
	if r.gte != nil {
		b.lo = max(b.lo, *r.gte)
	}
	if r.lt != nil {
		if *r.lt == math.MinInt64 {
			b.empty = true
		} else {
			b.hi = min(b.hi, *r.lt-1)
		}
	}
	if r.lte != nil {
		b.hi = min(b.hi, *r.lte)
	}
	if b.lo > b.hi {
		b.empty = true
	}
	return b
}

// FloatIndex indexes numbers, integers included, as float64 for range
// conditions, as Qdrant's float index does.
type FloatIndex struct {
	numIndex[float64]
}

// NewFloatIndex returns an empty float index.
func NewFloatIndex(p IndexParams) *FloatIndex {
	return &FloatIndex{newNumIndex(p, func(v Value) (float64, bool) { return v.Number() })}
}

// Range returns the points with a value x for which r.Contains(x).
func (x *FloatIndex) Range(r Range) *roaring.Bitmap { return x.query(floatBounds(r)) }

// EstimateRange returns the number of points with a value in r: exact when
// every point has at most one value, an upper bound otherwise.
func (x *FloatIndex) EstimateRange(r Range) int { return x.estimate(floatBounds(r)) }

// Walk calls fn with each (value, point) pair whose value is in r, in
// ascending order of value and then point, or descending with desc, until
// fn returns false. It serves order_by.
func (x *FloatIndex) Walk(r Range, desc bool, fn func(v float64, id uint32) bool) {
	x.walk(floatBounds(r), desc, fn)
}

// MarkDense sets in out the bit of each point with a value in r (bit id%64
// of word id/64); points past out's end are left out. It is Walk setting
// bits, several times faster.
func (x *FloatIndex) MarkDense(r Range, out []uint64) { x.pairs.markDense(floatBounds(r), out) }

// Values returns the distinct values of point id in ascending order. The
// slice belongs to the index: do not modify it.
func (x *FloatIndex) Values(id uint32) []float64 { return x.values(id) }

// floatBounds converts r to key bounds: the tighter of each pair of bounds.
func floatBounds(r Range) keyBounds[float64] {
	var b keyBounds[float64]
	for _, f := range []*float64{r.GT, r.GTE, r.LT, r.LTE} {
		if f != nil && math.IsNaN(*f) {
			b.empty = true
			return b
		}
	}
	switch {
	case r.GT != nil && (r.GTE == nil || *r.GT >= *r.GTE):
		b.lo, b.hasLo = *r.GT, true
	case r.GTE != nil:
		b.lo, b.hasLo, b.loIncl = *r.GTE, true, true
	}
	switch {
	case r.LT != nil && (r.LTE == nil || *r.LT <= *r.LTE):
		b.hi, b.hasHi = *r.LT, true
	case r.LTE != nil:
		b.hi, b.hasHi, b.hiIncl = *r.LTE, true, true
	}
	if b.hasLo && b.hasHi && (b.lo > b.hi || (b.lo == b.hi && !(b.loIncl && b.hiIncl))) {
		b.empty = true
	}
	return b
}

// DatetimeIndex indexes string values that ParseDatetime accepts, as whole
// microseconds since the Unix epoch, for datetime range conditions.
type DatetimeIndex struct {
	numIndex[int64]
}

// NewDatetimeIndex returns an empty datetime index.
func NewDatetimeIndex(p IndexParams) *DatetimeIndex {
	return &DatetimeIndex{newNumIndex(p, func(v Value) (int64, bool) {
		s, ok := v.Str()
		if !ok {
			return 0, false
		}
		t, err := ParseDatetime(s)
		if err != nil {
			return 0, false
		}
		return DatetimeMicros(t), true
	})}
}

// Range returns the points with a datetime in r, comparing whole
// microseconds: stored values and bounds are both rounded down to the
// microsecond first, as Qdrant's datetime index does.
func (x *DatetimeIndex) Range(r DatetimeRange) *roaring.Bitmap {
	return x.query(r.micros().bounds())
}

// EstimateRange returns the number of points with a datetime in r: exact
// when every point has at most one value, an upper bound otherwise.
func (x *DatetimeIndex) EstimateRange(r DatetimeRange) int {
	return x.estimate(r.micros().bounds())
}

// Walk calls fn with each (microseconds since the epoch, point) pair
// whose datetime is in r, in ascending order, or descending with desc, until
// fn returns false. It serves order_by.
func (x *DatetimeIndex) Walk(r DatetimeRange, desc bool, fn func(micros int64, id uint32) bool) {
	x.walk(r.micros().bounds(), desc, fn)
}

// Values returns the distinct datetimes of point id in ascending order.
func (x *DatetimeIndex) Values(id uint32) []time.Time {
	us := x.values(id)
	out := make([]time.Time, len(us))
	for i, u := range us {
		out[i] = time.UnixMicro(u).UTC()
	}
	return out
}
