package quant

import (
	"errors"
	"math"
	"math/rand/v2"
	"testing"
	"unsafe"

	"github.com/qlite/qlite/distance"
	"github.com/stretchr/testify/require"
)

// shuffled returns n vectors of dim values holding 0..n*dim-1 in a seeded
// random order.
func shuffled(n, dim int) Flat {
	f := Flat{Data: make([]float32, n*dim), D: dim}
	for i := range f.Data {
		f.Data[i] = float32(i)
	}
	r := rand.New(rand.NewPCG(5, 5))
	r.Shuffle(len(f.Data), func(i, j int) { f.Data[i], f.Data[j] = f.Data[j], f.Data[i] })
	return f
}

func TestScalarRange(t *testing.T) {
	f := func(v Flat, quantile float32, lo, hi float32) {
		t.Helper()
		s, err := TrainScalar(v, distance.Dot, v.D, ScalarOptions{Quantile: quantile})
		require.NoError(t, err)
		gotLo, gotHi := s.Range()
		require.Equal(t, lo, gotLo)
		require.InDelta(t, hi, gotHi, float64(hi)*1e-6)
	}
	// 1000 one-dimensional vectors 0..999: the cut is 1000*(1-0.9)/2 = 50
	// values, the range sorted[51]..sorted[949].
	f(shuffled(1000, 1), 0.9, 51, 949)
	// Four values per vector: Qdrant's cut still counts vectors (50), so
	// the range is sorted[51]..sorted[3949].
	f(shuffled(1000, 4), 0.9, 51, 3949)
	// quantile 1 or none: the full range.
	f(shuffled(1000, 4), 1, 0, 3999)
	f(shuffled(1000, 4), 0, 0, 3999)
	// Fewer than 127 vectors: the quantile is ignored.
	f(shuffled(126, 2), 0.5, 0, 251)
	// At least one value is cut from each end.
	f(shuffled(200, 1), 0.999, 2, 198)
}

func TestScalarEncodeAndEstimate(t *testing.T) {
	// Range [-1, 1.54]: alpha = 0.02, offset = -1.
	v := Flat{Data: []float32{-1, 1.54, 0, 0.5}, D: 2}
	for _, m := range allMetrics {
		s, err := TrainScalar(v, m, 2, ScalarOptions{})
		require.NoError(t, err)
		row := make([]byte, s.RowSize())
		s.Encode(row, []float32{-2, 0.011}) // clamps to 0; 1.011/0.02 = 50.55 rounds to 51
		require.Equal(t, []byte{0, 51}, row[:2])
		s.Encode(row, []float32{0.01, 9}) // 50.5 rounds half away from zero to 51; 9 clamps to 127
		require.Equal(t, []byte{51, 127}, row[:2])

		// Estimates against Qdrant's formula evaluated in float64 on the
		// codes: a = alpha, o = offset.
		a, o := float64(s.alpha), float64(s.offset)
		qv, rv := []float32{0.3, -0.45}, []float32{1.2, 0.07}
		var q Query
		s.PrepareQuery(&q, qv)
		rows := make([]byte, s.RowSize())
		s.Encode(rows, rv)
		dst := make([]float32, 1)
		s.Distances(dst, &q, rows, []uint32{0})
		var dot, l2, l1, sq, sv float64
		for i := range 2 {
			x, y := float64(q.code[i]), float64(rows[i])
			dot += x * y
			l2 += (x - y) * (x - y)
			l1 += math.Abs(x - y)
			sq += x
			sv += y
		}
		var want float64
		switch m {
		case distance.Euclid:
			want = a * a * l2
		case distance.Manhattan:
			want = a * l1
		default:
			want = 1 - (a*a*dot + a*o*sq + a*o*sv + 2*o*o)
		}
		require.InDelta(t, want, float64(dst[0]), 1e-5, "%v", m)
		// And the estimate is near the true distance.
		require.InDelta(t, float64(m.Distance(qv, rv)), float64(dst[0]), 0.05, "%v", m)
	}
}

func TestBinaryEncodings(t *testing.T) {
	// Dimension 0 has mean 0 and stddev 1.5 (sample), dimension 1 is
	// constant (stddev 0: falls back to x > 0), dimension 2 mean 10.
	v := Flat{Data: []float32{
		-1.5, 2, 9,
		0, 2, 10,
		1.5, 2, 11,
	}, D: 3}
	enc := func(e Encoding, x []float32) uint64 {
		b, err := TrainBinary(v, distance.Dot, 3, BinaryOptions{Encoding: e})
		require.NoError(t, err)
		row := make([]byte, b.RowSize())
		b.Encode(row, x)
		return uint64(row[0]) | uint64(row[1])<<8
	}
	// one_bit: x > 0.
	require.Equal(t, uint64(0b110), enc(OneBit, []float32{-0.1, 0.2, 3}))
	require.Equal(t, uint64(0b000), enc(OneBit, []float32{0, -1, -3}))
	// two_bits: z <= -2/3 -> 00, z < 2/3 -> 10, else 11; bit i then bit 3+i.
	// z0 = -1/1.5 = -0.667 (<= -2/3: 00), z2 = (10.9-10)/1 = 0.9 (11),
	// dimension 1: 2 > 0 -> bit 1 only.
	require.Equal(t, uint64(0b100_110), enc(TwoBits, []float32{-1, 2, 10.9}))
	// z0 = 0.5/1.5 = 0.333 (10), z2 = -0.5 (10), dimension 1 -1 -> 0.
	require.Equal(t, uint64(0b000_101), enc(TwoBits, []float32{0.5, -1, 9.5}))
	// one_and_half_bits: second bits of dimensions 0,1 share bit 3, of 2 bit 4.
	require.Equal(t, uint64(0b10_111), enc(OneAndHalfBits, []float32{0, 5, 11}))
	require.Equal(t, uint64(0b01_101), enc(OneAndHalfBits, []float32{1.2, 0, 10}))
}

func TestBinaryScalarQuery(t *testing.T) {
	// one_bit code, scalar4bits query: values quantised over [-2, 2] in
	// 15 steps of float32(4/15): -2 -> 0, 2 -> 15, 0 -> round(7.4999995) = 7
	// (float32 arithmetic, as Qdrant's), 1 -> round(11.25) = 11.
	v := Flat{Data: []float32{1, 1, 1, 1}, D: 4}
	b, err := TrainBinary(v, distance.Dot, 4, BinaryOptions{Encoding: OneBit, QueryEncoding: QueryScalar4Bits})
	require.NoError(t, err)
	var q Query
	b.PrepareQuery(&q, []float32{-2, 2, 0, 1})
	require.Equal(t, 4, q.planes)
	vals := []uint64{0, 15, 7, 11}
	for p := range 4 {
		var want uint64
		for i, x := range vals {
			want |= (x >> p & 1) << i
		}
		require.Equal(t, want, q.words[p], "plane %d", p)
	}
	// Against code 1010 (dimensions 1 and 3 positive): xor values are
	// 0, 15^15=0, 7, 11^15=4 -> 11, over 15; distance 2*11/15 - 4.
	rows := AlignedRows(b, 1)
	b.Encode(rows, []float32{-1, 1, -1, 1})
	dst := make([]float32, 1)
	b.Distances(dst, &q, rows, []uint32{0})
	require.InDelta(t, 2*11.0/15-4, float64(dst[0]), 1e-6)

	// Default query encoding: the Hamming distance.
	b2, err := TrainBinary(v, distance.Dot, 4, BinaryOptions{})
	require.NoError(t, err)
	b2.PrepareQuery(&q, []float32{-2, 2, 0, 1})
	b2.Distances(dst, &q, rows, []uint32{0})
	require.Equal(t, float32(-4), dst[0]) // query bits 1010 (0 > 0 is false) equal the code's
}

func TestProductSmall(t *testing.T) {
	// With no more vectors than centroids, the vectors are the centroids:
	// each encodes to its own index and the estimate is exact.
	data, _ := clustered(4, 200, 0, 16, distance.Euclid)
	for _, c := range []Compression{X4, X8, X16, X32, X64} {
		p, err := TrainProduct(data, distance.Euclid, 16, ProductOptions{Compression: c})
		require.NoError(t, err)
		require.Equal(t, 16*4/int(c), p.RowSize())
		rows := AlignedRows(p, data.Len())
		for i := range data.Len() {
			p.Encode(rows[i*p.RowSize():], data.At(i))
		}
		var q Query
		p.PrepareQuery(&q, data.At(7))
		dst := make([]float32, 3)
		p.Distances(dst, &q, rows, []uint32{7, 8, 9})
		require.Equal(t, float32(0), dst[0])
		require.InDelta(t, float64(distance.SquaredL2(data.At(7), data.At(8))), float64(dst[1]), 1e-3)
	}
	// A dimension that the sub-vector size does not divide.
	d5, _ := clustered(4, 300, 0, 10, distance.Dot)
	p, err := TrainProduct(d5, distance.Dot, 10, ProductOptions{Compression: X16, MaxIterations: 5})
	require.NoError(t, err)
	require.Equal(t, 3, p.RowSize())
}

func TestOptionsErrors(t *testing.T) {
	v := shuffled(10, 4)
	_, err := TrainScalar(v, distance.Dot, 4, ScalarOptions{Quantile: 0.3})
	require.ErrorIs(t, err, ErrBadOptions)
	_, err = TrainScalar(v, distance.Dot, 5, ScalarOptions{})
	require.ErrorIs(t, err, distance.ErrDimMismatch)
	_, err = TrainBinary(v, distance.Metric(9), 4, BinaryOptions{})
	require.ErrorIs(t, err, ErrBadOptions)
	_, err = TrainProduct(v, distance.Dot, 4, ProductOptions{Compression: 3})
	require.ErrorIs(t, err, ErrBadOptions)
	for _, s := range []string{"x4", "x8", "x16", "x32", "x64"} {
		_, err := ParseCompression(s)
		require.NoError(t, err)
	}
	_, err = ParseCompression("x2")
	require.ErrorIs(t, err, ErrBadOptions)
	_, err = ParseEncoding("three_bits")
	require.ErrorIs(t, err, ErrBadOptions)
	_, err = ParseQueryEncoding("scalar2bits")
	require.ErrorIs(t, err, ErrBadOptions)
}

// trainedAll returns one quantiser of each kind and configuration on data.
func trainedAll(t testing.TB, data Flat, m distance.Metric) []Quantizer {
	var qs []Quantizer
	s, err := TrainScalar(data, m, data.D, ScalarOptions{Quantile: 0.99})
	require.NoError(t, err)
	qs = append(qs, s)
	for _, e := range []Encoding{OneBit, TwoBits, OneAndHalfBits} {
		for _, qe := range []QueryEncoding{QueryDefault, QueryScalar4Bits, QueryScalar8Bits} {
			b, err := TrainBinary(data, m, data.D, BinaryOptions{Encoding: e, QueryEncoding: qe})
			require.NoError(t, err)
			qs = append(qs, b)
		}
	}
	p, err := TrainProduct(data, m, data.D, ProductOptions{Compression: X8, MaxIterations: 3})
	require.NoError(t, err)
	return append(qs, p)
}

func TestSerialisation(t *testing.T) {
	data, queries := clustered(6, 400, 3, 24, distance.Cosine)
	for _, q := range trainedAll(t, data, distance.Cosine) {
		buf := q.AppendBinary(nil)
		q2, err := Open(buf)
		require.NoError(t, err)
		require.Equal(t, q.Kind(), q2.Kind())
		rows, rows2 := AlignedRows(q, data.Len()), AlignedRows(q2, data.Len())
		ids := make([]uint32, data.Len())
		for i := range data.Len() {
			q.Encode(rows[i*q.RowSize():], data.At(i))
			q2.Encode(rows2[i*q.RowSize():], data.At(i))
			ids[i] = uint32(i)
		}
		require.Equal(t, rows, rows2)
		d1, d2 := make([]float32, len(ids)), make([]float32, len(ids))
		var qa, qb Query
		q.Distances(d1, q.PrepareQuery(&qa, queries.At(0)), rows, ids)
		q2.Distances(d2, q2.PrepareQuery(&qb, queries.At(0)), rows2, ids)
		require.Equal(t, d1, d2)
		// Every single-byte change is caught.
		for i := range buf {
			bad := append([]byte(nil), buf...)
			bad[i] ^= 0x10
			_, err := Open(bad)
			require.ErrorIs(t, err, ErrCorrupt, "byte %d of %v", i, q.Kind())
		}
		_, err = Open(buf[:len(buf)-1])
		require.ErrorIs(t, err, ErrCorrupt)
	}
}

func FuzzOpen(f *testing.F) {
	data, _ := clustered(6, 300, 0, 8, distance.Euclid)
	for _, q := range trainedAll(f, data, distance.Euclid) {
		f.Add(q.AppendBinary(nil))
	}
	f.Fuzz(func(t *testing.T, buf []byte) {
		q, err := Open(buf)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("error %v is not ErrCorrupt", err)
			}
			return
		}
		// A quantiser that opens must encode and score without panicking.
		v := make([]float32, q.Dim())
		for i := range v {
			v[i] = float32(i%5) - 2
		}
		rows := AlignedRows(q, 2)
		q.Encode(rows, v)
		q.Encode(rows[q.RowSize():], v)
		var qq Query
		dst := make([]float32, 2)
		q.Distances(dst, q.PrepareQuery(&qq, v), rows, []uint32{0, 1})
	})
}

func TestDistancesNoAllocs(t *testing.T) {
	data, queries := clustered(7, 300, 1, 64, distance.Dot)
	for _, q := range trainedAll(t, data, distance.Dot) {
		rows := AlignedRows(q, data.Len())
		ids := make([]uint32, data.Len())
		for i := range data.Len() {
			q.Encode(rows[i*q.RowSize():], data.At(i))
			ids[i] = uint32(i)
		}
		dst := make([]float32, len(ids))
		var qq Query
		q.PrepareQuery(&qq, queries.At(0))
		if n := testing.AllocsPerRun(20, func() {
			q.Distances(dst, q.PrepareQuery(&qq, queries.At(0)), rows, ids)
		}); n != 0 {
			t.Fatalf("%v: %v allocations per query", q.Kind(), n)
		}
	}
}

func TestDistancesOutOfContract(t *testing.T) {
	data, _ := clustered(7, 10, 0, 8, distance.Dot)
	for _, q := range trainedAll(t, data, distance.Dot) {
		rows := AlignedRows(q, 2)
		var qq Query
		q.PrepareQuery(&qq, data.At(0))
		require.Panics(t, func() { q.Distances(make([]float32, 1), &qq, rows, []uint32{2}) })
		require.Panics(t, func() { q.Distances(make([]float32, 0), &qq, rows, []uint32{0}) })
	}
}

// TestProductWorkers checks that the codebooks do not depend on how many
// goroutines train them.
func TestProductWorkers(t *testing.T) {
	data, _ := clustered(5, 3000, 0, 40, distance.Euclid)
	for _, c := range []Compression{X4, X16, X64} {
		one, err := TrainProduct(data, distance.Euclid, 40, ProductOptions{Compression: c, MaxIterations: 8, Seed: 3})
		require.NoError(t, err)
		three, err := TrainProduct(data, distance.Euclid, 40, ProductOptions{Compression: c, MaxIterations: 8, Seed: 3, Workers: 3})
		require.NoError(t, err)
		require.Equal(t, one.cents, three.cents, "compression %v", c)
	}
}

// TestScalarEuclidNorms checks that Euclid rows scored through their code
// norms and a dot product give the same estimates, bit for bit, as a
// quantiser serialised before the norms existed (p1 = 0, zero trailers),
// which must still open and score its own rows, and that both equal
// alpha²·Σ(qcode-vcode)² computed in float64.
func TestScalarEuclidNorms(t *testing.T) {
	for _, dim := range []int{3, 100, 784} {
		data, queries := clustered(7, 300, 4, dim, distance.Euclid)
		s, err := TrainScalar(data, distance.Euclid, dim, ScalarOptions{Quantile: 0.99})
		require.NoError(t, err)
		require.True(t, s.norms)
		// The old serialisation: the same parameters, flags 0.
		old, err := Open(appendFormat(nil, KindScalar, distance.Euclid, dim, 0, s.alpha, s.offset, nil))
		require.NoError(t, err)
		require.False(t, old.(*Scalar).norms)
		reopened, err := Open(s.AppendBinary(nil))
		require.NoError(t, err)
		require.True(t, reopened.(*Scalar).norms)

		n := data.Len()
		rows, oldRows := AlignedRows(s, n), AlignedRows(old, n)
		ids := make([]uint32, n)
		for i := range n {
			s.Encode(rows[i*s.RowSize():], data.At(i))
			old.Encode(oldRows[i*s.RowSize():], data.At(i))
			ids[i] = uint32(n - 1 - i)
		}
		got, want := make([]float32, n), make([]float32, n)
		for qi := range queries.Len() {
			var q, oq Query
			s.PrepareQuery(&q, queries.At(qi))
			old.PrepareQuery(&oq, queries.At(qi))
			s.Distances(got, &q, rows, ids)
			old.Distances(want, &oq, oldRows, ids)
			require.Equal(t, want, got, "dim=%d query %d", dim, qi)
			for i, id := range ids {
				row := rows[int(id)*s.RowSize():][:dim]
				require.Equal(t, row, oldRows[int(id)*s.RowSize():][:dim])
				var l2 float64
				for j, c := range row {
					d := float64(q.code[j]) - float64(c)
					l2 += d * d
				}
				a := float64(s.alpha)
				require.InDelta(t, a*a*l2, float64(got[i]), a*a*l2*1e-6, "dim=%d id=%d", dim, id)
			}
		}
	}
	// The flag means nothing for other metrics, and other flags are unknown.
	for _, bad := range []struct {
		m  distance.Metric
		p1 uint32
	}{{distance.Dot, scalarNorms}, {distance.Cosine, scalarNorms}, {distance.Manhattan, scalarNorms}, {distance.Euclid, 2}} {
		_, err := Open(appendFormat(nil, KindScalar, bad.m, 8, bad.p1, 0.5, 0, nil))
		require.ErrorIs(t, err, ErrCorrupt, "%v p1=%d", bad.m, bad.p1)
	}
}

// TestAlignedRows checks the row buffers below and past the huge-page size:
// zeroed, 64-byte aligned, exactly n rows long, and independent.
func TestAlignedRows(t *testing.T) {
	s := &Scalar{dim: 1000, metric: distance.Euclid}
	for _, n := range []int{0, 1, 7, hugeMin/s.RowSize() - 1, hugeMin/s.RowSize() + 3, 3 * hugeMin / s.RowSize()} {
		a, b := AlignedRows(s, n), AlignedRows(s, n)
		require.Len(t, a, n*s.RowSize())
		require.Equal(t, len(a), cap(a))
		if n > 0 {
			require.Zero(t, uintptr(unsafe.Pointer(&a[0]))%64, "n=%d", n)
			for i := range a {
				if a[i] != 0 {
					t.Fatalf("n=%d: byte %d is %d", n, i, a[i])
				}
				a[i] = 0xff
			}
			require.Zero(t, b[len(b)-1])
		}
	}
}

// TestScalarCodeRounding checks code's rounding against math.Round on every
// float32 half-way point and its neighbours in the range, and on random
// values.
func TestScalarCodeRounding(t *testing.T) {
	s := &Scalar{dim: 1, metric: distance.Euclid, alpha: 1, offset: 0}
	check := func(c float32) {
		want := byte(0)
		switch {
		case c >= 127:
			want = 127
		case c > 0:
			want = byte(math.Round(float64(c)))
		}
		if got := s.code(c); got != want {
			t.Fatalf("code(%v) = %d, want %d", c, got, want)
		}
	}
	for k := range 128 {
		h := float32(k) + 0.5
		for _, c := range []float32{h, math.Nextafter32(h, 0), math.Nextafter32(h, 200), float32(k), math.Nextafter32(float32(k), 0)} {
			check(c)
		}
	}
	for _, c := range []float32{1e-30, 1e-45, 0.49999997, -0.5, 126.99999} {
		check(c)
	}
	r := rand.New(rand.NewPCG(21, 21))
	for range 100000 {
		check(r.Float32()*140 - 5)
	}
}

// TestScalarDotDistances checks Dot and Cosine estimates on rows long
// enough for the gather kernels' vector loops (and their tails) against
// Qdrant's formula evaluated in float64 on the codes.
func TestScalarDotDistances(t *testing.T) {
	for _, m := range []distance.Metric{distance.Dot, distance.Cosine} {
		for _, dim := range []int{3, 65, 100, 784} {
			data, queries := clustered(8, 200, 3, dim, m)
			s, err := TrainScalar(data, m, dim, ScalarOptions{Quantile: 0.99})
			require.NoError(t, err)
			n, rs := data.Len(), s.RowSize()
			rows := AlignedRows(s, n)
			ids := make([]uint32, n)
			for i := range n {
				s.Encode(rows[i*rs:], data.At(i))
				ids[i] = uint32((i * 7) % n)
			}
			got := make([]float32, n)
			a, o := float64(s.alpha), float64(s.offset)
			for qi := range queries.Len() {
				var q Query
				s.PrepareQuery(&q, queries.At(qi))
				s.Distances(got, &q, rows, ids)
				for i, id := range ids {
					row := rows[int(id)*rs:][:dim]
					var dot, sq, sv float64
					for j, c := range row {
						require.LessOrEqual(t, c, byte(127))
						dot += float64(q.code[j]) * float64(c)
						sq += float64(q.code[j])
						sv += float64(c)
					}
					want := 1 - (a*a*dot + a*o*sq + a*o*sv + float64(dim)*o*o)
					// The terms are summed in float32 and cancel in part.
					tol := 1e-6 * (1 + math.Abs(a*a*dot) + math.Abs(a*o*sq) + math.Abs(a*o*sv) + math.Abs(float64(dim)*o*o))
					require.InDelta(t, want, float64(got[i]), tol, "%v dim=%d id=%d", m, dim, id)
				}
			}
		}
	}
}

// TestTwoBitsRows checks two_bits rows against twoBits, the rule applied
// one dimension at a time: random values, values at and next to the
// thresholds, constant dimensions, NaN and infinities.
func TestTwoBitsRows(t *testing.T) {
	const dim, n = 131, 300
	r := rand.New(rand.NewPCG(5, 5))
	data := make([]float32, n*dim)
	for i := range data {
		if i%dim%17 == 3 {
			data[i] = 0.25 // a constant dimension
		} else {
			data[i] = float32(r.NormFloat64()*3 + float64(i%dim))
		}
	}
	b, err := TrainBinary(Flat{Data: data, D: dim}, distance.Cosine, dim, BinaryOptions{Encoding: TwoBits})
	require.NoError(t, err)
	row := make([]byte, b.RowSize())
	for trial := range 200 {
		v := make([]float32, dim)
		for i := range v {
			m, s := b.mean[i], b.stddev[i]
			switch k := r.IntN(8); {
			case trial == 0:
				v[i] = float32(math.NaN())
			case trial == 1:
				v[i] = float32(math.Inf(2*(i%2) - 1))
			case k == 0:
				v[i] = m - 2*s/3
			case k == 1:
				v[i] = math.Nextafter32(m+2*s/3, float32(r.IntN(2)*2-1))
			default:
				v[i] = m + s*float32(r.NormFloat64())
			}
		}
		b.Encode(row, v)
		for i, x := range v {
			b1, b2 := b.twoBits(i, x)
			got1 := row[i/8]>>(i%8)&1 == 1
			j := dim + i
			got2 := row[j/8]>>(j%8)&1 == 1
			require.Equal(t, [2]bool{b1, b2}, [2]bool{got1, got2}, "trial %d dim %d x=%v", trial, i, x)
		}
	}
}
