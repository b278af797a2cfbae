package filter

import (
	"math"
	"math/bits"
)

// Estimate is Qdrant's CardinalityEstimation: the smallest, expected and
// largest number of points a filter may match.
type Estimate struct {
	Min, Exp, Max int
}

// exactEstimate is a known count.
func exactEstimate(n int) Estimate { return Estimate{n, n, n} }

// unknownEstimate is Qdrant's estimate for a condition no index can answer.
func unknownEstimate(total int) Estimate { return Estimate{0, total / 2, total} }

// roundCount converts a non-negative float count as Rust's `f64::round() as
// usize` does: half away from zero, NaN to 0, saturating.
func roundCount(x float64) int {
	switch {
	case math.IsNaN(x) || x <= 0:
		return 0
	case x >= math.MaxInt:
		return math.MaxInt
	}
	return int(math.Round(x))
}

// combineMust estimates the intersection of independent conditions.
func combineMust(ests []Estimate, total int) Estimate {
	minAcc := total
	for _, e := range ests {
		minAcc = max(0, minAcc+e.Min-total)
	}
	maxEst := total
	if len(ests) > 0 {
		maxEst = ests[0].Max
		for _, e := range ests[1:] {
			maxEst = min(maxEst, e.Max)
		}
	}
	prob := 1.0
	for _, e := range ests {
		prob *= float64(e.Exp) / float64(total)
	}
	return Estimate{Min: minAcc, Exp: roundCount(prob * float64(total)), Max: maxEst}
}

// expectedShould is the complement rule: total * (1 - prod(1 - exp_i/total)).
func expectedShould(ests []Estimate, total int) int {
	if total == 0 {
		return 0
	}
	notHit := 1.0
	for _, e := range ests {
		notHit *= 1 - float64(e.Exp)/float64(total)
	}
	return roundCount((1 - notHit) * float64(total))
}

// combineShould estimates the union of independent conditions.
func combineShould(ests []Estimate, total int) Estimate {
	out := Estimate{Exp: expectedShould(ests, total)}
	sum := 0
	for _, e := range ests {
		out.Min = max(out.Min, e.Min)
		sum += e.Max
	}
	out.Max = min(sum, total)
	return out
}

// minShouldMaxCombinations bounds the combinations combineMinShould
// enumerates before approximating, as Qdrant does.
const minShouldMaxCombinations = 100_000

// combineMinShould estimates "at least k of the conditions": the union of
// the intersections of every k conditions, or, when there are too many
// combinations, the union of all with no lower bound.
func combineMinShould(ests []Estimate, k, total int) Estimate {
	n := len(ests)
	if k > n {
		return exactEstimate(0)
	}
	if !combinationsAtMost(n, k, minShouldMaxCombinations) {
		u := combineShould(ests, total)
		return Estimate{Min: 0, Exp: u.Exp, Max: u.Max}
	}
	var inter []Estimate
	combo := make([]Estimate, k)
	idx := make([]int, k)
	for i := range idx {
		idx[i] = i
	}
	for {
		for i, j := range idx {
			combo[i] = ests[j]
		}
		inter = append(inter, combineMust(combo, total))
		// next combination in lexicographic order
		i := k - 1
		for i >= 0 && idx[i] == n-k+i {
			i--
		}
		if i < 0 {
			break
		}
		idx[i]++
		for j := i + 1; j < k; j++ {
			idx[j] = idx[j-1] + 1
		}
	}
	return combineShould(inter, total)
}

// combinationsAtMost reports whether C(n, k) <= limit without overflow.
func combinationsAtMost(n, k int, limit uint64) bool {
	if k > n {
		return true
	}
	k = min(k, n-k)
	c := uint64(1)
	for i := uint64(0); i < uint64(k); i++ {
		hi, lo := bits.Mul64(c, uint64(n)-i)
		if hi != 0 {
			return false
		}
		c = lo / (i + 1)
		if c > limit {
			return false
		}
	}
	return true
}

// invertEstimate is the estimate of the complement of e.
func invertEstimate(e Estimate, total int) Estimate {
	return Estimate{
		Min: max(0, total-e.Max),
		Exp: max(0, total-e.Exp),
		Max: max(0, total-e.Min),
	}
}
