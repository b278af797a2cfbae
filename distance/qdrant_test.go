package distance

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"
)

// fma32 is checked against exact arithmetic: the product and sum computed
// in big.Float, rounded once to float32 (nearest, ties to even).
func TestFMA32(t *testing.T) {
	exact := func(x, y, z float32) float32 {
		p := new(big.Float).SetPrec(200).Mul(big.NewFloat(float64(x)), big.NewFloat(float64(y)))
		p.Add(p, big.NewFloat(float64(z)))
		f, _ := p.Float32()
		return f
	}
	r := rand.New(rand.NewPCG(1, 2))
	f := func(x, y, z float32) {
		t.Helper()
		if got, want := fma32(x, y, z), exact(x, y, z); math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%g, %g, %g) = %g, want %g", x, y, z, got, want)
		}
	}
	f(1, 1, 1)
	f(0.1, 0.2, 0.3)
	f(1+1.0/(1<<23), 1-1.0/(1<<23), -1)
	for range 200000 {
		x := float32(r.NormFloat64())
		y := float32(r.NormFloat64())
		z := float32(r.NormFloat64()) * float32(math.Ldexp(1, r.IntN(40)-20))
		f(x, y, z)
		// Near-cancellation, where double rounding would show.
		f(x, y, -fma32(x, y, 0)+float32(math.Ldexp(r.Float64(), -30)))
	}
}

// With small integers every partial sum is exact, so whatever the order
// QdrantScore must give the exact result; and below 16 elements the sum is
// the left-to-right float32 sum.
func TestQdrantScore(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 4, 15, 16, 17, 31, 32, 33, 100, 768} {
		a := make([]float32, n)
		b := make([]float32, n)
		var dot, l1, l2 float64
		for i := range a {
			a[i] = float32(r.IntN(21) - 10)
			b[i] = float32(r.IntN(21) - 10)
			dot += float64(a[i]) * float64(b[i])
			l1 += math.Abs(float64(a[i] - b[i]))
			l2 += float64(a[i]-b[i]) * float64(a[i]-b[i])
		}
		if got := Dot.QdrantScore(a, b); float64(got) != dot {
			t.Errorf("n=%d: dot %g, want %g", n, got, dot)
		}
		if got := Manhattan.QdrantScore(a, b); float64(got) != l1 {
			t.Errorf("n=%d: l1 %g, want %g", n, got, l1)
		}
		if got, want := Euclid.QdrantScore(a, b), float32(math.Sqrt(l2)); got != want {
			t.Errorf("n=%d: l2 %g, want %g", n, got, want)
		}
	}
	for n := 1; n < qdrantSSEMin; n++ {
		a := make([]float32, n)
		b := make([]float32, n)
		var s float32
		for i := range a {
			a[i], b[i] = float32(r.NormFloat64()), float32(r.NormFloat64())
			s += float32(a[i] * b[i])
		}
		if got := Dot.QdrantScore(a, b); got != s {
			t.Errorf("n=%d: dot %g, want the left-to-right sum %g", n, got, s)
		}
	}
}
