package payload

import (
	"math"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// GeoIndex indexes geo points (see GeoPointFrom). Points are kept in Z-order
// (Morton order of a 2^24 x 2^24 lat/lon grid, cells about 2.4 m tall), so a
// grid cell at any coarser level is one contiguous run of keys. A query
// covers its area's bounding rectangles with at most geoMaxCells cells at
// the finest level that allows it, collects the points in those cells, and
// checks each candidate exactly with the shape's Contains: answers are exact,
// the grid only prunes.
type GeoIndex struct {
	params IndexParams
	pairs  pairSet[uint64]
	vals   [][]GeoPoint // by point id; nil when the point has no values
	points *roaring.Bitmap
	nvals  int
}

const (
	geoLevels   = 24 // bits per axis of the finest grid
	geoMaxCells = 32 // cells a query may cover
)

// NewGeoIndex returns an empty geo index.
func NewGeoIndex(p IndexParams) *GeoIndex {
	return &GeoIndex{params: p, points: roaring.New()}
}

// Params returns the params the index was created with.
func (x *GeoIndex) Params() IndexParams { return x.params }

// Set replaces the values of point id. See Index.
func (x *GeoIndex) Set(id uint32, vals []Value) {
	var pts []GeoPoint
	forEachValue(vals, func(v Value) {
		if p, ok := GeoPointFrom(v); ok {
			pts = append(pts, p)
		}
	})
	x.Remove(id)
	if len(pts) == 0 {
		return
	}
	for int(id) >= len(x.vals) {
		x.vals = append(x.vals, nil)
	}
	x.vals[id] = slices.Clip(pts)
	x.nvals += len(pts)
	for _, p := range pts {
		x.pairs.insert(pair[uint64]{geoCode(p), id})
	}
	x.points.Add(id)
}

// Remove drops point id from the index.
func (x *GeoIndex) Remove(id uint32) {
	if int(id) >= len(x.vals) || x.vals[id] == nil {
		return
	}
	for _, p := range x.vals[id] {
		x.pairs.delete(pair[uint64]{geoCode(p), id})
	}
	x.nvals -= len(x.vals[id])
	x.vals[id] = nil
	x.points.Remove(id)
}

// Points returns the points with at least one geo value. Read-only; see
// Index.
func (x *GeoIndex) Points() *roaring.Bitmap { return x.points }

// ValuesCount returns the number of geo points of point id.
func (x *GeoIndex) ValuesCount(id uint32) int {
	if int(id) >= len(x.vals) {
		return 0
	}
	return len(x.vals[id])
}

// Values returns the geo points of point id. The slice belongs to the
// index: do not modify it.
func (x *GeoIndex) Values(id uint32) []GeoPoint {
	if int(id) >= len(x.vals) {
		return nil
	}
	return x.vals[id]
}

// Len returns the number of points with at least one geo value.
func (x *GeoIndex) Len() int { return int(x.points.GetCardinality()) }

// MemoryBytes estimates the memory the index holds.
func (x *GeoIndex) MemoryBytes() int64 {
	return x.pairs.memoryBytes(16) + int64(cap(x.vals))*24 + int64(x.nvals)*16 +
		int64(x.points.GetSizeInBytes())
}

// BoundingBox returns the points with a value inside b (b.Contains).
func (x *GeoIndex) BoundingBox(b GeoBoundingBox) *roaring.Bitmap {
	return x.query(boxRects(b), b.Contains)
}

// Radius returns the points with a value inside r (r.Contains).
func (x *GeoIndex) Radius(r GeoRadius) *roaring.Bitmap {
	return x.query(radiusRects(r), r.Contains)
}

// Polygon returns the points with a value inside p (p.Contains).
func (x *GeoIndex) Polygon(p GeoPolygon) *roaring.Bitmap {
	return x.query(polygonRects(p), p.Contains)
}

// EstimateBoundingBox returns an upper bound of BoundingBox(b)'s size: the
// points in the grid cells covering b.
func (x *GeoIndex) EstimateBoundingBox(b GeoBoundingBox) int {
	return x.estimate(boxRects(b))
}

// EstimateRadius returns an upper bound of Radius(r)'s size.
func (x *GeoIndex) EstimateRadius(r GeoRadius) int { return x.estimate(radiusRects(r)) }

// EstimatePolygon returns an upper bound of Polygon(p)'s size.
func (x *GeoIndex) EstimatePolygon(p GeoPolygon) int { return x.estimate(polygonRects(p)) }

func (x *GeoIndex) query(rects []geoRect, contains func(GeoPoint) bool) *roaring.Bitmap {
	var ids []uint32
	for _, b := range geoCover(rects) {
		x.pairs.ascend(b, func(p pair[uint64]) bool {
			// A point with several values may be checked more than once;
			// bitmapOf drops the repeats.
			for _, q := range x.vals[p.id] {
				if inRects(q, rects) && contains(q) {
					ids = append(ids, p.id)
					break
				}
			}
			return true
		})
	}
	return bitmapOf(ids, len(x.vals))
}

// inRects is a cheap pre-check: every point a query can match lies in one
// of its covering rectangles.
func inRects(p GeoPoint, rects []geoRect) bool {
	for _, r := range rects {
		if p.Lon >= r.minLon && p.Lon <= r.maxLon && p.Lat >= r.minLat && p.Lat <= r.maxLat {
			return true
		}
	}
	return false
}

func (x *GeoIndex) estimate(rects []geoRect) int {
	n := 0
	for _, b := range geoCover(rects) {
		n += x.pairs.count(b)
	}
	return min(n, x.Len())
}

// geoRect is a closed lat/lon rectangle that does not cross the
// antimeridian.
type geoRect struct {
	minLon, minLat, maxLon, maxLat float64
}

var worldRect = geoRect{-180, -90, 180, 90}

// boxRects covers a bounding box, split in two when it crosses the
// antimeridian.
func boxRects(b GeoBoundingBox) []geoRect {
	minLat, maxLat := b.BottomRight.Lat, b.TopLeft.Lat
	if !(minLat < maxLat) {
		return nil
	}
	if b.TopLeft.Lon > b.BottomRight.Lon {
		return []geoRect{
			{b.TopLeft.Lon, minLat, 180, maxLat},
			{-180, minLat, b.BottomRight.Lon, maxLat},
		}
	}
	return []geoRect{{b.TopLeft.Lon, minLat, b.BottomRight.Lon, maxLat}}
}

// radiusRects covers a circle with its bounding rectangles on the sphere,
// widened by a margin for rounding in the distance formula.
func radiusRects(r GeoRadius) []geoRect {
	if !(r.Radius > 0) {
		return nil
	}
	const margin = 1e-6 // radians, about 6 m
	delta := r.Radius/EarthRadius + margin
	if delta >= math.Pi {
		return []geoRect{worldRect}
	}
	deg := delta * 180 / math.Pi
	minLat, maxLat := r.Center.Lat-deg, r.Center.Lat+deg
	if minLat <= -90 || maxLat >= 90 {
		return []geoRect{{-180, max(minLat, -90), 180, min(maxLat, 90)}}
	}
	s := math.Sin(delta) / math.Cos(r.Center.Lat*math.Pi/180)
	if s >= 1 {
		return []geoRect{{-180, minLat, 180, maxLat}}
	}
	dLon := math.Asin(s)*180/math.Pi + 1e-9
	lo, hi := r.Center.Lon-dLon, r.Center.Lon+dLon
	switch {
	case lo < -180:
		return []geoRect{{lo + 360, minLat, 180, maxLat}, {-180, minLat, hi, maxLat}}
	case hi > 180:
		return []geoRect{{lo, minLat, 180, maxLat}, {-180, minLat, hi - 360, maxLat}}
	}
	return []geoRect{{lo, minLat, hi, maxLat}}
}

// polygonRects covers a polygon with the planar bounding box of its
// exterior ring.
func polygonRects(p GeoPolygon) []geoRect {
	if len(p.Exterior) == 0 {
		return nil
	}
	minLon, minLat, maxLon, maxLat := p.bounds()
	if math.IsNaN(minLon + minLat + maxLon + maxLat) {
		return nil
	}
	return []geoRect{{minLon, minLat, maxLon, maxLat}}
}

// geoCell returns the cell coordinates of p at the finest level.
func geoCell(lon, lat float64) (x, y uint32) {
	const n = 1 << geoLevels
	fx := math.Floor((lon + 180) / 360 * n)
	fy := math.Floor((lat + 90) / 180 * n)
	return uint32(min(max(fx, 0), n-1)), uint32(min(max(fy, 0), n-1))
}

func geoCode(p GeoPoint) uint64 {
	x, y := geoCell(p.Lon, p.Lat)
	return interleave(x, y)
}

// interleave puts the bits of x in the even positions and y in the odd.
func interleave(x, y uint32) uint64 {
	return spread(x) | spread(y)<<1
}

func spread(v uint32) uint64 {
	x := uint64(v)
	x = (x | x<<16) & 0x0000FFFF0000FFFF
	x = (x | x<<8) & 0x00FF00FF00FF00FF
	x = (x | x<<4) & 0x0F0F0F0F0F0F0F0F
	x = (x | x<<2) & 0x3333333333333333
	x = (x | x<<1) & 0x5555555555555555
	return x
}

// geoCover returns key ranges covering rects: the grid cells, at the finest
// level that needs no more than geoMaxCells of them, that intersect the
// rectangles, merged where adjacent in Z-order.
func geoCover(rects []geoRect) []keyBounds[uint64] {
	type span struct{ x0, y0, x1, y1 uint32 }
	spans := make([]span, 0, len(rects))
	for _, r := range rects {
		if !(r.minLon <= r.maxLon && r.minLat <= r.maxLat) {
			continue
		}
		x0, y0 := geoCell(max(r.minLon, -180), max(r.minLat, -90))
		x1, y1 := geoCell(min(r.maxLon, 180), min(r.maxLat, 90))
		spans = append(spans, span{x0, y0, x1, y1})
	}
	if len(spans) == 0 {
		return nil
	}
	shift := 0
	for ; shift < geoLevels; shift++ {
		cells := 0
		for _, s := range spans {
			cells += int((s.x1>>shift)-(s.x0>>shift)+1) * int((s.y1>>shift)-(s.y0>>shift)+1)
		}
		if cells <= geoMaxCells {
			break
		}
	}
	var codes []uint64
	for _, s := range spans {
		for y := s.y0 >> shift; y <= s.y1>>shift; y++ {
			for x := s.x0 >> shift; x <= s.x1>>shift; x++ {
				codes = append(codes, interleave(x, y))
			}
		}
	}
	slices.Sort(codes)
	codes = slices.Compact(codes)
	var out []keyBounds[uint64]
	width := uint64(1) << (2 * shift)
	for _, c := range codes {
		lo := c << (2 * shift)
		hi := lo + width - 1
		if n := len(out); n > 0 && out[n-1].hi+1 == lo {
			out[n-1].hi = hi
			continue
		}
		out = append(out, keyBounds[uint64]{lo: lo, hi: hi, hasLo: true, hasHi: true, loIncl: true, hiIncl: true})
	}
	return out
}
