package bench

import (
	"math"
	"math/rand/v2"
	"strconv"
	"time"
)

// FashionMNISTClasses are the names of Fashion-MNIST's ten labels, by label.
var FashionMNISTClasses = [10]string{
	"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
	"Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
}

// RndRange is the number of distinct values of the generated "rnd" field:
// it is uniform in [0, RndRange).
const RndRange = 1_000_000

// The generated "ts" field is uniform over these seconds, both included.
var (
	tsFirst = time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	tsLast  = time.Date(2025, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
)

// Streams of the generator, so that each field's values do not depend on
// whether the others are drawn.
const (
	streamPayload     = 0x9a71_0ad0
	streamBaseClass   = 0xc1a5_5ba5
	streamQueryClass  = 0xc1a5_5c0e
	numClasses        = len(FashionMNISTClasses)
	payloadLocDecimal = 6 // lon and lat are rounded to this many decimals
)

// PointPayload is the generated payload of one base point:
//
//	{"class": 3, "class_name": "Dress", "rnd": 123456,
//	 "loc": {"lon": -12.345678, "lat": 45.678901}, "ts": "2021-04-05T06:07:08Z"}
//
// class is the point's label (its dataset label, or a seeded uniform draw
// for datasets without labels), rnd is uniform in [0, RndRange) and
// independent of the vector, loc uniform over lon [-180, 180] and lat
// [-90, 90], ts uniform over 2020-01-01..2025-12-31 with second precision.
type PointPayload struct {
	Class uint8
	Rnd   int32
	Lon   float64
	Lat   float64
	TS    int64 // Unix seconds
}

// ClassName returns the Fashion-MNIST name of the point's class.
func (p *PointPayload) ClassName() string { return className(p.Class) }

func className(c uint8) string {
	if int(c) < len(FashionMNISTClasses) {
		return FashionMNISTClasses[c]
	}
	return "class " + strconv.Itoa(int(c))
}

// Time returns the point's "ts" as a time in UTC.
func (p *PointPayload) Time() time.Time { return time.Unix(p.TS, 0).UTC() }

// AppendJSON appends the payload as a JSON object to dst.
func (p *PointPayload) AppendJSON(dst []byte) []byte {
	dst = append(dst, `{"class":`...)
	dst = strconv.AppendInt(dst, int64(p.Class), 10)
	dst = append(dst, `,"class_name":`...)
	dst = strconv.AppendQuote(dst, p.ClassName())
	dst = append(dst, `,"rnd":`...)
	dst = strconv.AppendInt(dst, int64(p.Rnd), 10)
	dst = append(dst, `,"loc":{"lon":`...)
	dst = strconv.AppendFloat(dst, p.Lon, 'f', -1, 64)
	dst = append(dst, `,"lat":`...)
	dst = strconv.AppendFloat(dst, p.Lat, 'f', -1, 64)
	dst = append(dst, `},"ts":"`...)
	dst = p.Time().AppendFormat(dst, time.RFC3339)
	return append(dst, `"}`...)
}

// GeneratePayloads returns the payloads of n base points, a pure function
// of labels and seed: point i's payload does not depend on n, so a prefix
// of the base gets a prefix of the payloads. labels gives each point's class
// (len >= n); when nil, classes are drawn uniformly from the seed.
func GeneratePayloads(n int, labels []uint8, seed uint64) []PointPayload {
	out := make([]PointPayload, n)
	rng := rand.New(rand.NewPCG(seed, streamPayload))
	scale := math.Pow10(payloadLocDecimal)
	round := func(v float64) float64 { return math.Round(v*scale) / scale }
	for i := range out {
		p := &out[i]
		p.Rnd = int32(rng.IntN(RndRange))
		p.Lon = round(-180 + 360*rng.Float64())
		p.Lat = round(-90 + 180*rng.Float64())
		p.TS = tsFirst + rng.Int64N(tsLast-tsFirst+1)
	}
	if labels != nil {
		for i := range out {
			out[i].Class = labels[i]
		}
	} else {
		fillClasses(out, seed, streamBaseClass)
	}
	return out
}

// fillClasses draws uniform classes for points without dataset labels.
func fillClasses(ps []PointPayload, seed, stream uint64) {
	rng := rand.New(rand.NewPCG(seed, stream))
	for i := range ps {
		ps[i].Class = uint8(rng.IntN(numClasses))
	}
}

// queryLabels returns the class label of each of the nq queries of ds: the
// dataset's own labels, or seeded uniform draws when it has none.
func queryLabels(ds *Dataset, seed uint64) []uint8 {
	if ds.QueryLabels != nil {
		return ds.QueryLabels[:ds.NQ]
	}
	rng := rand.New(rand.NewPCG(seed, streamQueryClass))
	out := make([]uint8, ds.NQ)
	for i := range out {
		out[i] = uint8(rng.IntN(numClasses))
	}
	return out
}
