package payload

import (
	"errors"
	"fmt"
	"math"
	"math/big"
)

// ErrBadGeo is wrapped by every geo validation error.
var ErrBadGeo = errors.New("qlite: invalid geo condition")

// EarthRadius is the mean Earth radius in metres used for haversine
// distances, the IUGG value Qdrant's geo library uses.
const EarthRadius = 6371008.8

// GeoPoint is a point on the Earth in degrees, as Qdrant stores geo payload:
// the object {"lon": number, "lat": number}.
type GeoPoint struct {
	Lon, Lat float64
}

// GeoPointFrom reads a geo point from a payload value the way a geo index
// does: an object with numeric "lon" in [-180, 180] and "lat" in [-90, 90].
// Integers are accepted as numbers and other fields are ignored. Anything
// else reports false, and the index ignores the value.
//
// Qdrant's unindexed condition check does not range-check the coordinates;
// use GeoPointFromUnchecked there.
func GeoPointFrom(v Value) (GeoPoint, bool) {
	p, ok := GeoPointFromUnchecked(v)
	if !ok || p.Validate() != nil {
		return GeoPoint{}, false
	}
	return p, true
}

// GeoPointFromUnchecked is GeoPointFrom without the coordinate range check,
// as Qdrant reads geo payload when it evaluates a geo condition without an
// index.
func GeoPointFromUnchecked(v Value) (GeoPoint, bool) {
	if v.Kind() != Object {
		return GeoPoint{}, false
	}
	lonV, ok1 := v.Get("lon")
	latV, ok2 := v.Get("lat")
	if !ok1 || !ok2 {
		return GeoPoint{}, false
	}
	lon, ok1 := lonV.Number()
	lat, ok2 := latV.Number()
	if !ok1 || !ok2 {
		return GeoPoint{}, false
	}
	return GeoPoint{Lon: lon, Lat: lat}, true
}

// Validate reports an error when the point is outside lon [-180, 180] or
// lat [-90, 90]. The message is Qdrant's.
func (p GeoPoint) Validate() error {
	if !(p.Lon >= -180 && p.Lon <= 180) || !(p.Lat >= -90 && p.Lat <= 90) {
		return fmt.Errorf("%w: Wrong format of GeoPoint payload: expected `lat` = %v within [-90;90] and `lon` = %v within [-180;180]",
			ErrBadGeo, p.Lat, p.Lon)
	}
	return nil
}

// GeoBoundingBox is the geo_bounding_box condition: the rectangle between
// TopLeft (north-west corner) and BottomRight (south-east corner).
type GeoBoundingBox struct {
	TopLeft, BottomRight GeoPoint
}

// Validate checks both corners. Like Qdrant it accepts a box whose top is
// south of its bottom; such a box matches nothing.
func (b GeoBoundingBox) Validate() error {
	if err := b.TopLeft.Validate(); err != nil {
		return err
	}
	return b.BottomRight.Validate()
}

// Contains reports whether p lies strictly inside the box: points on an edge
// do not match. When TopLeft.Lon > BottomRight.Lon the box crosses the
// antimeridian and covers lon > TopLeft.Lon or lon < BottomRight.Lon.
func (b GeoBoundingBox) Contains(p GeoPoint) bool {
	var lonOK bool
	if b.TopLeft.Lon > b.BottomRight.Lon {
		lonOK = p.Lon > b.TopLeft.Lon || p.Lon < b.BottomRight.Lon
	} else {
		lonOK = b.TopLeft.Lon < p.Lon && p.Lon < b.BottomRight.Lon
	}
	return lonOK && b.BottomRight.Lat < p.Lat && p.Lat < b.TopLeft.Lat
}

// GeoRadius is the geo_radius condition: a circle of Radius metres.
type GeoRadius struct {
	Center GeoPoint
	Radius float64 // metres
}

// Validate checks the centre and that the radius is a number. A negative
// radius is accepted, as Qdrant accepts it, and matches nothing.
func (r GeoRadius) Validate() error {
	if math.IsNaN(r.Radius) || math.IsInf(r.Radius, 0) {
		return fmt.Errorf("%w: radius must be a finite number", ErrBadGeo)
	}
	return r.Center.Validate()
}

// Contains reports whether the haversine distance from the centre to p is
// less than the radius (strictly).
func (r GeoRadius) Contains(p GeoPoint) bool {
	return HaversineDistance(r.Center, p) < r.Radius
}

// HaversineDistance returns the great-circle distance in metres between a
// and b on a sphere of radius EarthRadius.
func HaversineDistance(a, b GeoPoint) float64 {
	const rad = math.Pi / 180
	phi1, phi2 := a.Lat*rad, b.Lat*rad
	dPhi := (b.Lat - a.Lat) * rad
	dLambda := (b.Lon - a.Lon) * rad
	s1, s2 := math.Sin(dPhi/2), math.Sin(dLambda/2)
	h := s1*s1 + math.Cos(phi1)*math.Cos(phi2)*s2*s2
	return 2 * math.Asin(math.Sqrt(h)) * EarthRadius
}

// GeoPolygon is the geo_polygon condition: an exterior ring with optional
// holes. Rings are closed (first point == last point). Coordinates are
// treated as planar (x = lon, y = lat): edges are straight lines in degrees
// and nothing wraps around the antimeridian, as in Qdrant.
type GeoPolygon struct {
	Exterior  []GeoPoint
	Interiors [][]GeoPoint
}

// Validate checks every point and that every ring has at least 4 points and
// ends where it starts (within float64 epsilon, as Qdrant compares). The
// messages are Qdrant's.
func (g GeoPolygon) Validate() error {
	if err := validateRing(g.Exterior); err != nil {
		return err
	}
	for _, ring := range g.Interiors {
		if err := validateRing(ring); err != nil {
			return err
		}
	}
	return nil
}

func validateRing(ring []GeoPoint) error {
	if len(ring) <= 3 {
		return fmt.Errorf("%w: polygon invalid, the size must be at least 4, got %d", ErrBadGeo, len(ring))
	}
	first, last := ring[0], ring[len(ring)-1]
	const eps = 0x1p-52
	if math.Abs(first.Lat-last.Lat) > eps || math.Abs(first.Lon-last.Lon) > eps {
		return fmt.Errorf("%w: polygon invalid, the first and the last points should be the same to form a closed line", ErrBadGeo)
	}
	for _, p := range ring {
		if err := p.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// Contains reports whether p is strictly inside the polygon: inside the
// exterior ring and outside every hole. Points on any ring, exterior or
// interior, do not match. This is the contains predicate of the geo library
// Qdrant evaluates polygons with (OGC semantics: a polygon's boundary is not
// part of its interior), decided with exact orientation tests so that points
// on edges and vertices are classified exactly. Qdrant's documentation says
// boundary points match; its code does not, and qlite follows the code.
func (g GeoPolygon) Contains(p GeoPoint) bool {
	if len(g.Exterior) == 0 {
		return false
	}
	if ringPosition(p, g.Exterior) != posInside {
		return false
	}
	for _, hole := range g.Interiors {
		if len(hole) == 0 {
			continue
		}
		if ringPosition(p, hole) != posOutside {
			return false
		}
	}
	return true
}

// bounds returns the planar bounding box of the exterior ring.
func (g GeoPolygon) bounds() (minLon, minLat, maxLon, maxLat float64) {
	minLon, minLat = math.Inf(1), math.Inf(1)
	maxLon, maxLat = math.Inf(-1), math.Inf(-1)
	for _, q := range g.Exterior {
		minLon, maxLon = math.Min(minLon, q.Lon), math.Max(maxLon, q.Lon)
		minLat, maxLat = math.Min(minLat, q.Lat), math.Max(maxLat, q.Lat)
	}
	return
}

type ringPos uint8

const (
	posOutside ringPos = iota
	posInside
	posBoundary
)

// ringPosition classifies c against a closed ring by ray casting towards +x,
// with exact predicates. A ring whose last point differs from its first is
// closed implicitly.
func ringPosition(c GeoPoint, ring []GeoPoint) ringPos {
	n := len(ring)
	if n == 1 {
		if ring[0] == c {
			return posBoundary
		}
		return posOutside
	}
	closed := ring[0] == ring[n-1]
	segs := n - 1
	if !closed {
		segs = n
	}
	crossings := 0
	for i := 0; i < segs; i++ {
		a, b := ring[i], ring[(i+1)%n]
		if onSegment(a, b, c) {
			return posBoundary
		}
		maxX := math.Max(a.Lon, b.Lon)
		if maxX < c.Lon {
			continue
		}
		if a.Lat == b.Lat {
			// Horizontal edges never count; the ray touching one is
			// settled by the edges around it.
			continue
		}
		// An edge that ends on the ray and lies below it is not counted,
		// so a ray through a vertex is counted once or not at all.
		if (a.Lat == c.Lat && b.Lat < c.Lat) || (b.Lat == c.Lat && a.Lat < c.Lat) {
			continue
		}
		if segmentsIntersect(c, GeoPoint{Lon: maxX, Lat: c.Lat}, a, b) {
			crossings++
		}
	}
	if crossings%2 == 1 {
		return posInside
	}
	return posOutside
}

// onSegment reports whether c lies on the closed segment ab.
func onSegment(a, b, c GeoPoint) bool {
	if a == b {
		return a == c
	}
	return orient2d(a, b, c) == 0 && inRect(c, a, b)
}

// inRect reports whether c lies in the closed box spanned by a and b.
func inRect(c, a, b GeoPoint) bool {
	return c.Lon >= math.Min(a.Lon, b.Lon) && c.Lon <= math.Max(a.Lon, b.Lon) &&
		c.Lat >= math.Min(a.Lat, b.Lat) && c.Lat <= math.Max(a.Lat, b.Lat)
}

// segmentsIntersect reports whether the closed segments pq and ab share a
// point.
func segmentsIntersect(p, q, a, b GeoPoint) bool {
	if p == q {
		return onSegment(a, b, p)
	}
	o1, o2 := orient2d(p, q, a), orient2d(p, q, b)
	if o1 != o2 {
		return orient2d(a, b, p) != orient2d(a, b, q)
	}
	if o1 == 0 {
		return inRect(a, p, q) || inRect(b, p, q) || inRect(p, a, b) || inRect(q, a, b)
	}
	return false
}

// orient2d returns the sign of the cross product (b-a) x (c-a): +1 when c is
// left of the directed line ab, -1 when right, 0 when collinear. The float
// result is used when it is provably right; otherwise it is recomputed
// exactly.
func orient2d(a, b, c GeoPoint) int {
	detLeft := (b.Lon - a.Lon) * (c.Lat - a.Lat)
	detRight := (b.Lat - a.Lat) * (c.Lon - a.Lon)
	det := detLeft - detRight
	// Error bound of the float evaluation (Shewchuk, "Adaptive Precision
	// Floating-Point Arithmetic and Fast Robust Geometric Predicates").
	const eps = 0x1p-53
	const errBound = (3 + 16*eps) * eps
	if bound := errBound * (math.Abs(detLeft) + math.Abs(detRight)); det > bound {
		return 1
	} else if det < -bound {
		return -1
	} else if bound == 0 {
		return 0
	}
	return orient2dExact(a, b, c)
}

func orient2dExact(a, b, c GeoPoint) int {
	// Differences and products of float64 values are exact at this
	// precision.
	const prec = 4400
	f := func(x float64) *big.Float { return new(big.Float).SetPrec(prec).SetFloat64(x) }
	sub := func(x, y float64) *big.Float { return new(big.Float).SetPrec(prec).Sub(f(x), f(y)) }
	l := new(big.Float).SetPrec(prec).Mul(sub(b.Lon, a.Lon), sub(c.Lat, a.Lat))
	r := new(big.Float).SetPrec(prec).Mul(sub(b.Lat, a.Lat), sub(c.Lon, a.Lon))
	return l.Cmp(r)
}
