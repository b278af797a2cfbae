package engine

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/segment"
)

// roundF16 rounds x to the nearest float16, ties to even, in float64: an
// oracle written apart from the distance package's conversion.
func roundF16(x float64) float64 {
	if x == 0 || math.IsNaN(x) {
		return x
	}
	e := math.Floor(math.Log2(math.Abs(x)))
	if math.Abs(x) < math.Exp2(e) { // Log2 rounded up
		e--
	}
	e = max(e, -14)
	step := math.Exp2(e - 10)
	r := math.RoundToEven(x/step) * step
	if math.Abs(r) > 65504 {
		return math.Copysign(math.Inf(1), x)
	}
	return r
}

// oracleConvert returns v as Qdrant stores it in a vector of datatype dt
// and metric m, in float64: uint8 truncated and saturated, never
// normalised; float16 normalised first for Cosine (in float32, as stored
// vectors are), then rounded.
func oracleConvert(v []float32, dt string, m distance.Metric) []float64 {
	out := make([]float64, len(v))
	switch dt {
	case "float32":
		for i, x := range m.Preprocess(nil, v) {
			out[i] = float64(x)
		}
	case "uint8":
		for i, x := range v {
			out[i] = math.Min(255, math.Max(0, math.Trunc(float64(x))))
		}
	case "float16":
		w := v
		if m == distance.Cosine {
			w = m.Preprocess(nil, v)
		}
		for i, x := range w {
			out[i] = roundF16(float64(x))
		}
	}
	return out
}

// dtypeOracleScore scores two converted vectors in Qdrant's convention.
func dtypeOracleScore(m distance.Metric, a, b []float64) float64 {
	var dot, na, nb, l2, l1 float64
	for i := range a {
		dot += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
		l2 += (a[i] - b[i]) * (a[i] - b[i])
		l1 += math.Abs(a[i] - b[i])
	}
	switch m {
	case distance.Euclid:
		return math.Sqrt(l2)
	case distance.Manhattan:
		return l1
	case distance.Dot:
		return dot
	}
	if na == 0 || nb == 0 {
		return 0
	}
	return dot / math.Sqrt(na*nb)
}

// dtypeVec returns a random vector suited to dt: uint8 vectors (and the
// float32 ones they are compared with) in [-2, 40), so that truncation and
// saturation at 0 both happen.
func dtypeVec(rng *rand.Rand, dim int, dt string) []float32 {
	v := make([]float32, dim)
	for i := range v {
		if dt == "uint8" || dt == "float32" {
			v[i] = float32(rng.Float64()*42 - 2)
		} else {
			v[i] = float32(rng.NormFloat64())
		}
	}
	return v
}

// Vectors of datatype float16 and uint8 are stored converted as Qdrant
// converts them (checked against an oracle in float64), in a half and a
// quarter of float32's row bytes (in RAM and in on-disk segment files),
// in typed vector records, and searched by the graph at a brute-force
// recall computed on the converted vectors; all of it survives a reopen.
func TestDatatypeVectors(t *testing.T) {
	const dim, n, nq = 24, 1200, 30
	metrics := []distance.Metric{distance.Cosine, distance.Euclid, distance.Dot, distance.Manhattan}
	dir := t.TempDir()
	o := testOpts()
	db := openTestDB(t, dir, o)
	type coll struct {
		name, dt string
		m        distance.Metric
		onDisk   bool
		vecs     map[PointID][]float32
		qs       [][]float32
	}
	var colls []coll
	thr := 20
	for _, dt := range []string{"float32", "float16", "uint8"} {
		for i, m := range metrics {
			c := coll{name: fmt.Sprintf("%s_%v", dt, m), dt: dt, m: m, onDisk: i%2 == 1, vecs: map[PointID][]float32{}}
			req := &CreateCollection{
				Vectors:    VectorsConfig{"": {Size: dim, Distance: m, Datatype: dt, OnDisk: &c.onDisk}},
				Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
			}
			require.NoError(t, db.CreateCollection(bg, c.name, req))
			rng := rand.New(rand.NewPCG(7, uint64(i)))
			var pts []Point
			for k := range n {
				v := dtypeVec(rng, dim, dt)
				c.vecs[numID(uint64(k))] = v
				pts = append(pts, Point{ID: numID(uint64(k)), Vectors: map[string][]float32{"": v}})
			}
			_, err := db.Upsert(bg, c.name, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
			require.NoError(t, err)
			for range nq {
				c.qs = append(c.qs, dtypeVec(rng, dim, dt))
			}
			require.NoError(t, db.Optimize(bg, c.name))
			colls = append(colls, c)
		}
	}

	check := func(db *DB) {
		t.Helper()
		for _, c := range colls {
			recs, err := db.Get(bg, c.name, []PointID{numID(1), numID(2), numID(3)}, &ReadOptions{WithVectors: AllVectors})
			require.NoError(t, err)
			for _, r := range recs {
				want := oracleConvert(c.vecs[r.ID], c.dt, c.m)
				for i, x := range r.Vectors[""] {
					require.InDelta(t, want[i], float64(x), math.Abs(want[i])*1e-3, "%s: point %v element %d", c.name, r.ID, i)
				}
			}
			conv := map[PointID][]float64{}
			for id, v := range c.vecs {
				conv[id] = oracleConvert(v, c.dt, c.m)
			}
			hits := 0
			for _, q := range c.qs {
				// Queries are converted as stored vectors are.
				cq := oracleConvert(q, c.dt, c.m)
				ids := slices.Collect(func(yield func(PointID) bool) {
					for id := range conv {
						if !yield(id) {
							return
						}
					}
				})
				score := func(id PointID) float64 { return dtypeOracleScore(c.m, cq, conv[id]) }
				sort.Slice(ids, func(i, j int) bool {
					si, sj := score(ids[i]), score(ids[j])
					if c.m.HigherIsBetter() {
						return si > sj
					}
					return si < sj
				})
				res, err := db.Search(bg, c.name, &SearchRequest{Vector: q, Limit: 10, HnswEf: 64})
				require.NoError(t, err)
				require.Len(t, res, 10)
				tenth := score(ids[9])
				for _, r := range res {
					// Integer scores tie: a point as good as the tenth
					// is a hit.
					if s := score(r.ID); slices.Contains(ids[:10], r.ID) || s == tenth || c.m.HigherIsBetter() == (s > tenth) {
						hits++
					}
					want := score(r.ID)
					require.InDelta(t, want, float64(r.Score), 1e-3*max(1, math.Abs(want)), "%s: score of %v", c.name, r.ID)
				}
			}
			recall := float64(hits) / float64(10*len(c.qs))
			// Inner products of non-negative vectors were the hard case
			// (0.72 to 0.94 over graph builds, from nodes of two or
			// three links) until graphs under Dot kept full lists: now
			// 0.98 to 1.
			require.GreaterOrEqual(t, recall, 0.95, "%s: recall@10", c.name)
		}
	}
	check(db)

	// Row bytes: a half and a quarter of float32's, for the same points
	// in the same segment layout.
	rowBytes := func(name string) int64 {
		info, err := db.CollectionInfo(bg, name)
		require.NoError(t, err)
		return info.Memory.Vectors + info.Memory.MappedVectors
	}
	for _, m := range metrics {
		f32 := rowBytes(fmt.Sprintf("float32_%v", m))
		require.InDelta(t, 0.5, float64(rowBytes(fmt.Sprintf("float16_%v", m)))/float64(f32), 0.01, "%v", m)
		require.InDelta(t, 0.25, float64(rowBytes(fmt.Sprintf("uint8_%v", m)))/float64(f32), 0.01, "%v", m)
	}
	// On-disk segment files hold the narrow rows.
	for _, c := range colls {
		if !c.onDisk {
			continue
		}
		ci, err := db.collection(c.name)
		require.NoError(t, err)
		dt, err := segment.ParseDatatype(c.dt)
		require.NoError(t, err)
		var files int
		for _, ref := range ci.snapshotSegs() {
			if !ref.seg.Mapped("") {
				continue
			}
			files++
		}
		require.Positive(t, files, c.name)
		for _, f := range segFiles(t, db, c.name) {
			st, err := os.Stat(f)
			require.NoError(t, err)
			var slotsOK bool
			for _, ref := range ci.snapshotSegs() {
				slotsOK = slotsOK || st.Size() == segFileDataOff+segment.RowsSize(ref.seg.Len(), dim, dt)
			}
			require.True(t, slotsOK, "%s: file %s of %d bytes", c.name, f, st.Size())
		}
	}
	// The store's vector records hold the datatype's bytes.
	for _, c := range colls {
		ci, err := db.collection(c.name)
		require.NoError(t, err)
		b, closer, err := db.store.Get(vectorsKey(ci.cid, numID(5)))
		require.NoError(t, err)
		size := map[string]int{"float32": 4, "float16": 2, "uint8": 1}[c.dt]
		want := 1 + 8 + 1 + 1 + 1 + 1 + dim*size + 4 // version, op, count, name, type, dim, elements, crc
		if c.dt == "float32" {
			want-- // version 1 names no type
		}
		require.Len(t, b, want, c.name)
		require.NoError(t, closer.Close())
	}

	closeChecked(t, db)
	db = openTestDB(t, dir, o)
	check(db)
}

// A datatype other than float32, float16 and uint8 is refused.
func TestDatatypeUnknown(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	err := db.CreateCollection(bg, "c", &CreateCollection{Vectors: VectorsConfig{"": {Size: 4, Distance: distance.Dot, Datatype: "int8"}}})
	require.ErrorIs(t, err, ErrBadRequest)
}

// A snapshot of float16 and uint8 vectors restores them bit for bit, low
// dimensional Cosine float16 vectors included (normalising their rounded
// values again could move an element by a float16 step).
func TestDatatypeSnapshotRoundTrip(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim, n = 3, 400
	thr := 1
	for _, dt := range []string{"float16", "uint8"} {
		name := dt
		require.NoError(t, db.CreateCollection(bg, name, &CreateCollection{
			Vectors:    VectorsConfig{"": {Size: dim, Distance: distance.Cosine, Datatype: dt}},
			Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
		}))
		rng := rand.New(rand.NewPCG(3, 3))
		var pts []Point
		ids := make([]PointID, n)
		for k := range n {
			ids[k] = numID(uint64(k))
			pts = append(pts, Point{ID: ids[k], Vectors: map[string][]float32{"": dtypeVec(rng, dim, dt)}})
		}
		_, err := db.Upsert(bg, name, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
		require.NoError(t, db.Optimize(bg, name))
		want, err := db.Get(bg, name, ids, &ReadOptions{WithVectors: AllVectors})
		require.NoError(t, err)
		d, err := db.CreateSnapshot(bg, name)
		require.NoError(t, err)
		path, err := db.SnapshotPath(bg, name, d.Name)
		require.NoError(t, err)
		require.NoError(t, db.RestoreSnapshot(bg, path, name+"-restored"))
		got, err := db.Get(bg, name+"-restored", ids, &ReadOptions{WithVectors: AllVectors})
		require.NoError(t, err)
		require.Equal(t, want, got, dt)
		cfg, err := db.CollectionInfo(bg, name+"-restored")
		require.NoError(t, err)
		require.Equal(t, dt, cfg.Config.Params.Vectors[""].Datatype)
	}
}

// Quantisation works on top of a datatype: the codes are trained on the
// stored (converted) vectors and rescoring uses the datatype's rows. Scalar
// codes find the brute-force neighbours (of the converted vectors); binary
// codes, coarse at 16 dimensions, find as many as on float32 vectors.
func TestDatatypeQuantized(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const dim, n = 16, 2000
	yes := true
	recalls := map[string]float64{}
	for _, dt := range []string{"float32", "float16", "uint8"} {
		for _, q := range []string{`{"scalar": {"type": "int8"}}`, `{"binary": {"encoding": "two_bits"}}`} {
			name := dt + q[2:8]
			// The same number of points in each sealed segment whatever
			// the datatype: the indexing threshold counts vector bytes.
			thr := 20 * map[string]int{"float32": 4, "float16": 2, "uint8": 1}[dt] / 4
			require.NoError(t, db.CreateCollection(bg, name, &CreateCollection{
				Vectors:      VectorsConfig{"": {Size: dim, Distance: distance.Euclid, Datatype: dt}},
				Optimizers:   &OptimizersConfigDiff{IndexingThreshold: &thr},
				Quantization: []byte(q),
			}))
			rng := rand.New(rand.NewPCG(5, 5))
			conv := map[PointID][]float32{}
			var pts []Point
			converted := func(v []float32) []float32 {
				c := make([]float32, dim)
				for i, x := range oracleConvert(v, dt, distance.Euclid) {
					c[i] = float32(x)
				}
				return c
			}
			for k := range n {
				// uint8-like values for every datatype, so that the
				// three collections hold nearly the same vectors.
				v := dtypeVec(rng, dim, "uint8")
				conv[numID(uint64(k))] = converted(v)
				pts = append(pts, Point{ID: numID(uint64(k)), Vectors: map[string][]float32{"": v}})
			}
			_, err := db.Upsert(bg, name, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
			require.NoError(t, err)
			require.NoError(t, db.Optimize(bg, name))
			ci, err := db.collection(name)
			require.NoError(t, err)
			quantized := 0
			for _, ref := range ci.snapshotSegs() {
				if ref.seg.Quantized("") != nil {
					quantized++
				}
			}
			require.Positive(t, quantized, name)
			var qs [][]float32
			for range 40 {
				qs = append(qs, converted(dtypeVec(rng, dim, "uint8")))
			}
			recalls[name] = quantRecall(t, db, name, conv, qs, QuantParams{Rescore: &yes, Oversampling: 3})
		}
	}
	t.Log(recalls)
	for name, r := range recalls {
		if strings.HasSuffix(name, "scalar") {
			require.GreaterOrEqual(t, r, 0.95, name)
		} else {
			require.GreaterOrEqual(t, r, recalls["float32binary"]-0.05, name)
		}
	}
}

// A typed vector record decodes to what was encoded (converted values
// exactly), and every truncation of its vector part is corruption, never
// a panic.
func TestTypedVectorRecord(t *testing.T) {
	dts := map[string]segment.Datatype{"a": segment.Float16, "b": segment.Uint8, "c": segment.Float32}
	rec := &record{op: 9, vectors: map[string][]float32{
		"a": segment.Float16.Convert([]float32{0.1, -3.3, 65504, 1e-7}),
		"b": {0, 1, 255},
		"c": {1.5, -2.25},
	}}
	enc := appendVectorRecord(nil, rec, func(name string) segment.Datatype { return dts[name] })
	require.Equal(t, byte(vectorRecordTyped), enc[0])
	m := map[string][]float32{"stale": {1}}
	require.NoError(t, decodeVectorRecordInto(m, enc, 9))
	require.Equal(t, rec.vectors, m)
	body := enc[9 : len(enc)-4]
	for n := range len(body) {
		_, err := decodeTypedVectorsInto(map[string][]float32{}, body[:n])
		require.ErrorIs(t, err, ErrCorrupt, "cut at %d", n)
	}
	bad := slices.Clone(body)
	bad[1+1+1] = 7 // the first vector's datatype
	_, err := decodeTypedVectorsInto(map[string][]float32{}, bad)
	require.ErrorIs(t, err, ErrCorrupt)
}
