package compat

import (
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// formulaGen writes random formula expressions (REST JSON) over the
// payload of formulaPoints and the scores of two prefetches.
type formulaGen struct{ rng *rand.Rand }

func (g formulaGen) pick(xs ...any) any { return xs[g.rng.IntN(len(xs))] }

func (g formulaGen) f32(lo, hi float64) float64 {
	return float64(float32(lo + g.rng.Float64()*(hi-lo)))
}

// leaf is a constant, a variable or a payload-derived value.
func (g formulaGen) leaf() any {
	switch g.rng.IntN(9) {
	case 0:
		return g.f32(-3, 3)
	case 1:
		return g.pick("$score", "$score[0]", "$score[1]", "$score[2]")
	case 2:
		return g.pick("a", "b", "arr", "obj.k", "lst[1].k")
	case 3:
		return map[string]any{"key": "tag", "match": map[string]any{"value": g.pick("x", "y", "z")}}
	case 4:
		return map[string]any{"key": "b", "range": map[string]any{"gte": g.rng.IntN(10)}}
	case 5:
		return map[string]any{"geo_distance": map[string]any{"origin": map[string]any{"lat": 52.5, "lon": 13.4}, "to": "g"}}
	case 6:
		return map[string]any{"sum": []any{map[string]any{"datetime_key": "d"}, map[string]any{"neg": map[string]any{"datetime": "2024-06-01T00:00:00Z"}}}}
	case 7:
		return map[string]any{"has_id": []any{1, 2, 3, 5, 8, 13, 21}}
	}
	return "$score"
}

// expr is a random expression of at most depth levels of operators.
func (g formulaGen) expr(depth int) any {
	if depth == 0 || g.rng.IntN(5) == 0 {
		return g.leaf()
	}
	sub := func() any { return g.expr(depth - 1) }
	decay := func() map[string]any {
		d := map[string]any{"x": sub()}
		if g.rng.IntN(2) == 0 {
			d["target"] = sub()
		}
		if g.rng.IntN(2) == 0 {
			d["scale"] = g.f32(0.1, 1e5)
		}
		if g.rng.IntN(2) == 0 {
			d["midpoint"] = g.f32(0.05, 0.95)
		}
		return d
	}
	switch g.rng.IntN(14) {
	case 0, 1:
		n := 1 + g.rng.IntN(3)
		args := make([]any, n)
		for i := range args {
			args[i] = sub()
		}
		return map[string]any{"sum": args}
	case 2, 3:
		return map[string]any{"mult": []any{sub(), sub()}}
	case 4:
		d := map[string]any{"left": sub(), "right": sub()}
		if g.rng.IntN(2) == 0 {
			d["by_zero_default"] = g.f32(-1, 1)
		}
		return map[string]any{"div": d}
	case 5:
		return map[string]any{"neg": sub()}
	case 6:
		return map[string]any{"abs": sub()}
	case 7:
		return map[string]any{"sqrt": map[string]any{"abs": sub()}}
	case 8:
		return map[string]any{"pow": map[string]any{"base": map[string]any{"abs": sub()}, "exponent": g.pick(0.5, 2.0, -1.0, 3.0)}}
	case 9:
		return map[string]any{"exp": map[string]any{"lin_decay": decay()}}
	case 10:
		return map[string]any{g.pick("ln", "log10").(string): map[string]any{"sum": []any{1.5, map[string]any{"abs": sub()}}}}
	case 11:
		return map[string]any{"lin_decay": decay()}
	case 12:
		return map[string]any{"exp_decay": decay()}
	}
	return map[string]any{"gauss_decay": decay()}
}

// formulaPoints are the points of the random formula test: payloads with
// numbers (some in arrays, some missing), keywords, geo points and
// datetimes.
func formulaPoints(rng *rand.Rand, n int) []any {
	pts := make([]any, n)
	for i := range pts {
		pl := map[string]any{
			"b":   rng.IntN(10),
			"tag": []string{"x", "y", "z"}[rng.IntN(3)],
			"g":   map[string]any{"lat": 52 + rng.Float64(), "lon": 13 + rng.Float64()},
			"d":   fmt.Sprintf("2024-%02d-%02dT%02d:%02d:00Z", 1+rng.IntN(12), 1+rng.IntN(28), rng.IntN(24), rng.IntN(60)),
			"obj": map[string]any{"k": rng.IntN(5)},
			"lst": []any{map[string]any{"k": 1}, map[string]any{"k": rng.Float64()}},
		}
		if rng.IntN(4) > 0 {
			pl["a"] = math.Round(rng.Float64()*600-300) / 100
		}
		if rng.IntN(3) > 0 {
			pl["arr"] = []any{rng.IntN(7)}
		}
		vec := make([]float32, 4)
		for j := range vec {
			vec[j] = float32(rng.NormFloat64())
		}
		pts[i] = map[string]any{"id": i + 1, "vector": vec, "payload": pl}
	}
	return pts
}

// TestFormulaMatchesQdrant runs random formula queries over two prefetches
// on the real Qdrant and on qlite, and requires the same answer: the same
// status and message, or the same points in the same order (in any order
// among equal scores) with scores within 1e-5, relative.
func TestFormulaMatchesQdrant(t *testing.T) {
	base := oracleCollection(t, "formula")
	s := newRESTTest(t, nil)
	rng := rand.New(rand.NewPCG(16, 16))
	coll := map[string]any{"vectors": map[string]any{"size": 4, "distance": "Dot"}}
	pts := map[string]any{"points": formulaPoints(rng, 80)}
	index := map[string]any{"field_name": "b", "field_schema": "integer"}
	for _, step := range []struct {
		method, path string
		body         any
	}{{"PUT", "", coll}, {"PUT", "/points?wait=true", pts}, {"PUT", "/index?wait=true", index}} {
		if st, res := bm25Call(t, step.method, base+step.path, step.body); st != 200 {
			t.Fatalf("Qdrant %s %s: %d %v", step.method, step.path, st, res)
		}
		b, _ := json.Marshal(step.body)
		if st, res := s.do(step.method, "/collections/formula"+step.path, string(b)); st != 200 {
			t.Fatalf("qlite %s %s: %d %s", step.method, step.path, st, res)
		}
	}
	g := formulaGen{rng}
	vec := func() []float32 {
		v := make([]float32, 4)
		for j := range v {
			v[j] = float32(rng.NormFloat64())
		}
		return v
	}
	agreeOK, agreeErr := 0, 0
	for i := range 300 {
		q := map[string]any{
			"prefetch": []any{map[string]any{"query": vec(), "limit": 20}, map[string]any{"query": vec(), "limit": 15}},
			"query":    map[string]any{"formula": g.expr(4)},
			"limit":    40,
		}
		if rng.IntN(3) > 0 {
			q["query"].(map[string]any)["defaults"] = map[string]any{"a": g.f32(-1, 1), "arr": 2, "$score[1]": g.f32(-1, 1)}
		}
		if rng.IntN(5) == 0 {
			q["score_threshold"] = g.f32(-1, 1)
		}
		body, _ := json.Marshal(q)
		wantSt, want := bm25Call(t, "POST", base+"/points/query", q)
		gotSt, raw := s.do("POST", "/collections/formula/points/query", string(body))
		var got map[string]any
		if err := json.Unmarshal(raw, &got); err != nil {
			t.Fatalf("query %d: %v: %s", i, err, raw)
		}
		if wantSt != gotSt {
			t.Fatalf("query %d %s: status %d, Qdrant %d: %v / %v", i, body, gotSt, wantSt, got["status"], want["status"])
		}
		if wantSt != 200 {
			// Which point fails first is up to the order Qdrant scores
			// them in (a hash set's): the messages must agree but for
			// their figures, or both be errors of scoring some point.
			w, g := maskFigures(fmt.Sprint(want["status"])), maskFigures(fmt.Sprint(got["status"]))
			if w != g && (!formulaScoringError(w) || !formulaScoringError(g)) {
				t.Fatalf("query %d %s: error %v, Qdrant %v", i, body, g, w)
			}
			agreeErr++
			continue
		}
		if msg := sameScored(formulaScored(want), formulaScored(got)); msg != "" {
			t.Fatalf("query %d %s: %s\nQdrant %v\nqlite  %v", i, body, msg, want["result"], got["result"])
		}
		agreeOK++
	}
	t.Logf("%d answers and %d errors agree", agreeOK, agreeErr)
	if agreeOK < 150 {
		t.Fatalf("only %d of the random formulas scored points", agreeOK)
	}
}

var figures = regexp.MustCompile(`-?(\d+(\.\d*)?|inf|NaN)`)

// maskFigures replaces the numbers in s by '#'.
func maskFigures(s string) string { return figures.ReplaceAllString(s, "#") }

// formulaScoringError reports whether the (masked) message is an error of
// scoring one point.
func formulaScoringError(msg string) bool {
	return strings.HasPrefix(msg, "map[error:Wrong input: Expected ") || strings.HasPrefix(msg, "map[error:Wrong input: The expression ")
}

type scoredID struct {
	id    string
	score float64
}

func formulaScored(res map[string]any) []scoredID {
	pts, _ := res["result"].(map[string]any)["points"].([]any)
	out := make([]scoredID, len(pts))
	for i, p := range pts {
		p := p.(map[string]any)
		out[i] = scoredID{fmt.Sprint(p["id"]), p["score"].(float64)}
	}
	return out
}

// closeScores reports whether two scores agree within 1e-5, relative (and
// absolute near 0).
func closeScores(a, b float64) bool {
	return math.Abs(a-b) <= 1e-5*math.Max(1e-1, math.Max(math.Abs(a), math.Abs(b)))
}

// sameScored compares two answers: equal lengths, scores close position by
// position, and the same ids within each run of close scores (Qdrant
// leaves the order of equal scores to chance).
func sameScored(want, got []scoredID) string {
	if len(want) != len(got) {
		return fmt.Sprintf("%d points, Qdrant %d", len(got), len(want))
	}
	for i := range want {
		if !closeScores(want[i].score, got[i].score) {
			return fmt.Sprintf("point %d: score %v, Qdrant %v", i, got[i].score, want[i].score)
		}
	}
	for lo := 0; lo < len(want); {
		hi := lo + 1
		for hi < len(want) && closeScores(want[hi].score, want[hi-1].score) {
			hi++
		}
		ids := func(xs []scoredID) string {
			s := make([]string, len(xs))
			for i, x := range xs {
				s[i] = x.id
			}
			slices.Sort(s)
			return strings.Join(s, ",")
		}
		if a, b := ids(want[lo:hi]), ids(got[lo:hi]); a != b {
			return fmt.Sprintf("points %d..%d: ids %s, Qdrant %s", lo, hi-1, b, a)
		}
		lo = hi
	}
	return ""
}
