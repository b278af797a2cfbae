package payload

import (
	"errors"
	"math"
	"testing"
)

func gp(lon, lat float64) GeoPoint { return GeoPoint{Lon: lon, Lat: lat} }

func geoValue(lon, lat float64) Value {
	return ObjectValue(Field{"lon", FloatValue(lon)}, Field{"lat", FloatValue(lat)})
}

func TestGeoPointFrom(t *testing.T) {
	f := func(v Value, want GeoPoint, ok bool) {
		t.Helper()
		got, gotOK := GeoPointFrom(v)
		if gotOK != ok || got != want {
			t.Errorf("GeoPointFrom(%v) = %v, %v; want %v, %v", v, got, gotOK, want, ok)
		}
	}
	f(geoValue(13.4, 52.5), gp(13.4, 52.5), true)
	f(ObjectValue(Field{"lat", IntValue(10)}, Field{"lon", IntValue(-20)}, Field{"x", StringValue("y")}), gp(-20, 10), true)
	f(geoValue(180, -90), gp(180, -90), true)
	f(geoValue(180.5, 0), GeoPoint{}, false)
	f(geoValue(0, 90.1), GeoPoint{}, false)
	f(ObjectValue(Field{"lon", StringValue("1")}, Field{"lat", IntValue(1)}), GeoPoint{}, false)
	f(ObjectValue(Field{"lon", IntValue(1)}), GeoPoint{}, false)
	f(ArrayValue(FloatValue(1), FloatValue(2)), GeoPoint{}, false)
	if p, ok := GeoPointFromUnchecked(geoValue(200, 100)); !ok || p != gp(200, 100) {
		t.Errorf("GeoPointFromUnchecked = %v, %v", p, ok)
	}
}

func TestGeoBoundingBox(t *testing.T) {
	box := GeoBoundingBox{TopLeft: gp(10, 50), BottomRight: gp(20, 40)}
	f := func(b GeoBoundingBox, p GeoPoint, want bool) {
		t.Helper()
		if got := b.Contains(p); got != want {
			t.Errorf("%v.Contains(%v) = %v, want %v", b, p, got, want)
		}
	}
	f(box, gp(15, 45), true)
	f(box, gp(10, 45), false) // edges are excluded
	f(box, gp(20, 45), false)
	f(box, gp(15, 50), false)
	f(box, gp(15, 40), false)
	f(box, gp(25, 45), false)
	// Crossing the antimeridian: from 170 east to -170.
	am := GeoBoundingBox{TopLeft: gp(170, 10), BottomRight: gp(-170, -10)}
	f(am, gp(175, 0), true)
	f(am, gp(-175, 0), true)
	f(am, gp(180, 0), true)
	f(am, gp(-180, 0), true)
	f(am, gp(170, 0), false)
	f(am, gp(-170, 0), false)
	f(am, gp(0, 0), false)
	// Top south of bottom matches nothing.
	f(GeoBoundingBox{TopLeft: gp(10, 40), BottomRight: gp(20, 50)}, gp(15, 45), false)
	// Poles.
	f(GeoBoundingBox{TopLeft: gp(-180, 90), BottomRight: gp(180, 80)}, gp(0, 89.9), true)
	f(GeoBoundingBox{TopLeft: gp(-180, 90), BottomRight: gp(180, 80)}, gp(0, 90), false)
	if err := (GeoBoundingBox{TopLeft: gp(181, 0)}).Validate(); !errors.Is(err, ErrBadGeo) {
		t.Errorf("Validate = %v", err)
	}
}

func TestGeoRadius(t *testing.T) {
	berlin := gp(13.413637, 52.521976)
	moscow := gp(37.621379, 55.753628)
	d := HaversineDistance(berlin, moscow)
	if math.Abs(d-1_608_000) > 5_000 {
		t.Errorf("Berlin-Moscow = %.0f m", d)
	}
	f := func(r GeoRadius, p GeoPoint, want bool) {
		t.Helper()
		if got := r.Contains(p); got != want {
			t.Errorf("%v.Contains(%v) = %v (distance %.3f), want %v", r, p, got, HaversineDistance(r.Center, p), want)
		}
	}
	f(GeoRadius{Center: berlin, Radius: 2000}, gp(13.413637435864272, 52.52197645), true)
	f(GeoRadius{Center: gp(20.423637, 52.511), Radius: 2000}, berlin, false)
	f(GeoRadius{Center: berlin, Radius: d + 1}, moscow, true)
	f(GeoRadius{Center: berlin, Radius: d}, moscow, false) // strict
	f(GeoRadius{Center: berlin, Radius: 0}, berlin, false)
	f(GeoRadius{Center: berlin, Radius: -1}, berlin, false)
	// Near the antimeridian: 179.9 and -179.9 are about 22 km apart.
	f(GeoRadius{Center: gp(179.9, 0), Radius: 25_000}, gp(-179.9, 0), true)
	f(GeoRadius{Center: gp(179.9, 0), Radius: 20_000}, gp(-179.9, 0), false)
	// At a pole every longitude is the same place.
	f(GeoRadius{Center: gp(0, 90), Radius: 1}, gp(123, 90), true)
	f(GeoRadius{Center: gp(0, 89.99), Radius: 3000}, gp(180, 89.99), true)
	// Earth radius: a quarter meridian.
	if q := HaversineDistance(gp(0, 0), gp(0, 90)); math.Abs(q-EarthRadius*math.Pi/2) > 1e-6 {
		t.Errorf("quarter meridian = %v", q)
	}
}

func square(x0, y0, x1, y1 float64) []GeoPoint {
	return []GeoPoint{gp(x0, y0), gp(x1, y0), gp(x1, y1), gp(x0, y1), gp(x0, y0)}
}

func TestGeoPolygon(t *testing.T) {
	poly := GeoPolygon{
		Exterior:  square(11, 11, 20, 20),
		Interiors: [][]GeoPoint{square(13, 13, 17, 17)},
	}
	if err := poly.Validate(); err != nil {
		t.Fatal(err)
	}
	f := func(g GeoPolygon, p GeoPoint, want bool) {
		t.Helper()
		if got := g.Contains(p); got != want {
			t.Errorf("Contains(%v) = %v, want %v", p, got, want)
		}
	}
	f(poly, gp(12, 12), true)
	f(poly, gp(14, 14), false) // in the hole
	f(poly, gp(30, 30), false)
	f(poly, gp(20, 15), false) // on the exterior ring
	f(poly, gp(11, 11), false) // on an exterior vertex
	f(poly, gp(13, 15), false) // on the hole's ring
	f(poly, gp(17, 17), false) // on a hole vertex
	f(poly, gp(19.999999, 15), true)
	// Rays through vertices.
	diamond := GeoPolygon{Exterior: []GeoPoint{gp(0, -1), gp(1, 0), gp(0, 1), gp(-1, 0), gp(0, -1)}}
	f(diamond, gp(0, 0), true)
	f(diamond, gp(-0.5, 0), true)
	f(diamond, gp(-2, 0), false)
	f(diamond, gp(0.5, 0.5), false) // on an edge
	f(diamond, gp(0.25, 0.5), true)
	f(diamond, gp(0.5, 0.5000000001), false)
	// A concave ring whose horizontal edge lies on the ray.
	u := GeoPolygon{Exterior: []GeoPoint{gp(0, 0), gp(3, 0), gp(3, 3), gp(2, 3), gp(2, 1), gp(1, 1), gp(1, 3), gp(0, 3), gp(0, 0)}}
	f(u, gp(0.5, 1), true)
	f(u, gp(1.5, 1), false) // on the inner horizontal edge
	f(u, gp(1.5, 2), false) // in the notch
	f(u, gp(2.5, 2), true)
	f(u, gp(0.5, 2), true)
	// An edge that is not exactly representable: collinear points are
	// decided exactly.
	tri := GeoPolygon{Exterior: []GeoPoint{gp(0, 0), gp(0.3, 0.1), gp(0, 1), gp(0, 0)}}
	f(tri, gp(0.15, 0.05), orient2d(gp(0, 0), gp(0.3, 0.1), gp(0.15, 0.05)) > 0)
}

func TestGeoPolygonValidate(t *testing.T) {
	f := func(g GeoPolygon, ok bool) {
		t.Helper()
		err := g.Validate()
		if (err == nil) != ok || (err != nil && !errors.Is(err, ErrBadGeo)) {
			t.Errorf("Validate(%v) = %v, want ok=%v", g, err, ok)
		}
	}
	f(GeoPolygon{Exterior: square(0, 0, 1, 1)}, true)
	f(GeoPolygon{Exterior: square(0, 0, 1, 1)[:4]}, false)                                      // not closed
	f(GeoPolygon{Exterior: []GeoPoint{gp(0, 0), gp(1, 0), gp(0, 0)}}, false)                    // 3 points
	f(GeoPolygon{Exterior: square(0, 0, 1, 1), Interiors: [][]GeoPoint{{gp(0.5, 0.5)}}}, false) // bad hole
	f(GeoPolygon{Exterior: square(0, 0, 200, 1)}, false)                                        // out of range
	err := GeoPolygon{Exterior: square(0, 0, 1, 1)[:3]}.Validate()
	if err == nil || err.Error() != "qlite: invalid geo condition: polygon invalid, the size must be at least 4, got 3" {
		t.Errorf("message: %v", err)
	}
}

func TestOrient2dExact(t *testing.T) {
	// Points on a line through non-representable coordinates: the float
	// determinant is noise, the exact one decides.
	a, b := gp(0.1, 0.1), gp(0.3, 0.3)
	for _, c := range []GeoPoint{gp(0.2, 0.2), gp(0.7, 0.7), gp(1e-17, 1e-17)} {
		want := orient2dExact(a, b, c)
		if got := orient2d(a, b, c); got != want {
			t.Errorf("orient2d(%v) = %d, exact %d", c, got, want)
		}
	}
	if orient2d(gp(0, 0), gp(1, 0), gp(0.5, 1e-300)) != 1 {
		t.Error("tiny left turn")
	}
}
