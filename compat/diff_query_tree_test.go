package compat

import (
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"testing"
)

// TestQueryTreeMatchesQdrant sends random universal queries with nested
// prefetches (depth up to 3, one to three prefetches per level) to the real
// Qdrant and to qlite, over the same collection (two dense named vectors, a
// sparse one, payloads), and requires the same status, the same error
// message, the same points in the same order, and scores within 1e-5
// (relative).
//
// Equal scores are the one allowance. Qdrant orders equal fused scores by
// a hash map's iteration order and equal re-scored ones by a hash set's,
// both seeded at random per process, so their order is not reproducible:
// points whose scores are equal may come in any order among themselves, and
// when such a run is cut by the limit, which of them are kept is Qdrant's
// chance too. When an answer still differs, the request is sent to Qdrant
// again: if Qdrant's own answers differ (a tie cut inside the tree changed
// what the levels above saw), the request is counted as not reproducible
// rather than compared, and those must stay a small share of the requests.
//
// QLITE_TREE_CASES sets the number of requests (default 300) and
// QLITE_TREE_SEED the seed.
func TestQueryTreeMatchesQdrant(t *testing.T) {
	q := realQdrant(t)
	if err := q.reset(); err != nil {
		t.Fatal(err)
	}
	_, h, _ := startServer(t, nil)
	qd, ql := "http://"+q.httpAddr, "http://"+h
	seed := uint64(16)
	if s := os.Getenv("QLITE_TREE_SEED"); s != "" {
		seed, _ = strconv.ParseUint(s, 10, 64)
	}
	cases := 300
	if s := os.Getenv("QLITE_TREE_CASES"); s != "" {
		cases, _ = strconv.Atoi(s)
	}
	rng := rand.New(rand.NewPCG(seed, 16))
	for _, base := range []string{qd, ql} {
		for _, step := range treeCollection(rand.New(rand.NewPCG(seed, 17))) {
			if st, res := bm25Call(t, step.method, base+step.path, step.body); st != 200 {
				t.Fatalf("%s %s: %d %v", step.method, step.path, st, res)
			}
		}
	}
	g := newTreeGen(rng)
	unstable, errs := 0, 0
	for i := range cases {
		body := g.request()
		url := "/collections/t/points/query"
		want, got := treeAnswer(t, qd+url, body), treeAnswer(t, ql+url, body)
		if want.status != 200 {
			errs++
		}
		msg := treeCompare(want, got, body["limit"])
		if msg == "" {
			continue
		}
		if treeUnstable(t, qd+url, body, want) {
			unstable++
			continue
		}
		js, _ := json.Marshal(body)
		t.Fatalf("request %d differs from Qdrant: %s\nrequest: %s\nqdrant: %v\nqlite:  %v\n%s", i, msg, js, want.raw, got.raw,
			treeLocate(t, qd+url, ql+url, body, nil))
	}
	t.Logf("%d random query trees: %d answered with an error, %d not reproducible by Qdrant itself", cases, errs, unstable)
	if unstable > cases/10 {
		t.Fatalf("%d of %d requests gave different answers on Qdrant itself: the generator makes too many ties", unstable, cases)
	}
}

// treeStep is one request that builds the collection.
type treeStep struct {
	method, path string
	body         any
}

// treeDim is the size of the dense vectors.
const treeDim = 8

// treeCollection is the collection the trees query: t, with dense vectors
// a (Cosine) and b (Dot), sparse vector s on most points, and payload g
// (integer, indexed), f (float, indexed) and tag; and l, a collection to
// look example points up in. Extension point: vectors of other kinds (a
// multivector with max_sim) go here, with leaf queries that use them.
func treeCollection(rng *rand.Rand) []treeStep {
	vec := func() []float32 {
		v := make([]float32, treeDim)
		for i := range v {
			v[i] = float32(math.Round(rng.NormFloat64()*1000) / 1000)
		}
		return v
	}
	var points []any
	for i := 1; i <= 200; i++ {
		v := map[string]any{"a": vec(), "b": vec()}
		if i%6 != 0 {
			n := 1 + rng.IntN(4)
			idx := rng.Perm(20)[:n]
			slices.Sort(idx)
			vals := make([]float32, n)
			for j := range vals {
				// Fine enough that no two points tie: Qdrant orders equal
				// sparse scores by insertion, qlite by id.
				vals[j] = float32(math.Round(rng.Float64()*2e6)/1e6 + 0.001)
			}
			v["s"] = map[string]any{"indices": idx, "values": vals}
		}
		points = append(points, map[string]any{"id": i, "vector": v,
			"payload": map[string]any{"g": i % 7, "f": math.Round(rng.Float64()*1e4) / 100, "tag": []string{"x", "y", "z"}[i%3]}})
	}
	var lpoints []any
	for i := 1; i <= 20; i++ {
		lpoints = append(lpoints, map[string]any{"id": i * 10, "vector": map[string]any{"v": vec()}})
	}
	return []treeStep{
		{"PUT", "/collections/t", map[string]any{
			"vectors":        map[string]any{"a": map[string]any{"size": treeDim, "distance": "Cosine"}, "b": map[string]any{"size": treeDim, "distance": "Dot"}},
			"sparse_vectors": map[string]any{"s": map[string]any{}}}},
		{"PUT", "/collections/t/points?wait=true", map[string]any{"points": points}},
		{"PUT", "/collections/t/index?wait=true", map[string]any{"field_name": "g", "field_schema": "integer"}},
		{"PUT", "/collections/t/index?wait=true", map[string]any{"field_name": "f", "field_schema": "float"}},
		{"PUT", "/collections/l", map[string]any{"vectors": map[string]any{"v": map[string]any{"size": treeDim, "distance": "Dot"}}}},
		{"PUT", "/collections/l/points?wait=true", map[string]any{"points": lpoints}},
	}
}

// treeGen builds random query requests over treeCollection.
//
// Extension points, for the query kinds still to come:
//   - leaves: the queries a prefetch without prefetches may run over the
//     collection (a multivector nearest goes here);
//   - merges: the queries applied to the results of prefetches (fusions
//     and re-scores today; formula and MMR go here);
//   - each returns the query and the "using" it needs ("" for none), and
//     may set other fields of the node it is given.
type treeGen struct {
	rng    *rand.Rand
	leaves []func(g *treeGen, node map[string]any) any
	merges []func(g *treeGen, node map[string]any, prefetches int) any
}

func newTreeGen(rng *rand.Rand) *treeGen {
	g := &treeGen{rng: rng}
	g.leaves = []func(*treeGen, map[string]any) any{
		func(g *treeGen, n map[string]any) any { return g.dense(n) },
		func(g *treeGen, n map[string]any) any { return g.dense(n) },
		func(g *treeGen, n map[string]any) any { n["using"] = "s"; return g.sparse() },
		func(g *treeGen, n map[string]any) any { // a stored point, excluded from every result
			g.space(n)
			return 1 + g.rng.IntN(200)
		},
		func(g *treeGen, n map[string]any) any { // a point of another collection
			g.space(n)
			n["lookup_from"] = map[string]any{"collection": "l", "vector": "v"}
			return 10 * (1 + g.rng.IntN(20))
		},
		func(g *treeGen, n map[string]any) any { return g.recommend(n) },
		func(g *treeGen, n map[string]any) any { return nil }, // points by id
	}
	g.merges = []func(*treeGen, map[string]any, int) any{
		func(g *treeGen, n map[string]any, _ int) any { return map[string]any{"fusion": "rrf"} },
		func(g *treeGen, n map[string]any, _ int) any { return map[string]any{"fusion": "dbsf"} },
		func(g *treeGen, n map[string]any, k int) any {
			rrf := map[string]any{}
			if g.rng.IntN(2) == 0 {
				rrf["k"] = 1 + g.rng.IntN(60)
			}
			if g.rng.IntN(2) == 0 {
				w := make([]float64, k)
				for i := range w {
					w[i] = math.Round(g.rng.Float64()*300) / 100
				}
				rrf["weights"] = w
			}
			return map[string]any{"rrf": rrf}
		},
		func(g *treeGen, n map[string]any, _ int) any { return g.dense(n) },
		func(g *treeGen, n map[string]any, _ int) any { return g.dense(n) },
		func(g *treeGen, n map[string]any, _ int) any { n["using"] = "s"; return g.sparse() },
		func(g *treeGen, n map[string]any, _ int) any { return g.recommend(n) },
	}
	return g
}

// space picks a dense vector for node n.
func (g *treeGen) space(n map[string]any) {
	n["using"] = []string{"a", "b"}[g.rng.IntN(2)]
}

func (g *treeGen) vector() []float64 {
	v := make([]float64, treeDim)
	for i := range v {
		v[i] = math.Round(g.rng.NormFloat64()*1000) / 1000
	}
	return v
}

func (g *treeGen) dense(n map[string]any) any {
	g.space(n)
	return g.vector()
}

func (g *treeGen) sparse() any {
	idx := g.rng.Perm(20)[:1+g.rng.IntN(5)]
	slices.Sort(idx)
	vals := make([]float64, len(idx))
	for i := range vals {
		vals[i] = math.Round(g.rng.Float64()*1000)/1000 + 0.001
	}
	return map[string]any{"indices": idx, "values": vals}
}

func (g *treeGen) recommend(n map[string]any) any {
	g.space(n)
	pos := []any{g.vector(), 1 + g.rng.IntN(200)}[:1+g.rng.IntN(2)]
	r := map[string]any{"positive": pos}
	if g.rng.IntN(2) == 0 {
		r["negative"] = []any{g.vector()}
	}
	r["strategy"] = []string{"average_vector", "best_score", "sum_scores"}[g.rng.IntN(3)]
	return map[string]any{"recommend": r}
}

// filter returns a random filter on the payload or ids, or nil.
func (g *treeGen) filter() any {
	switch g.rng.IntN(6) {
	case 0:
		return map[string]any{"must": []any{map[string]any{"key": "g", "match": map[string]any{"any": []int{g.rng.IntN(7), g.rng.IntN(7), g.rng.IntN(7)}}}}}
	case 1:
		return map[string]any{"must_not": []any{map[string]any{"key": "g", "match": map[string]any{"value": g.rng.IntN(7)}}}}
	case 2:
		lo := g.rng.Float64() * 60
		return map[string]any{"must": []any{map[string]any{"key": "f", "range": map[string]any{"gte": lo, "lt": lo + 50}}}}
	case 3:
		return map[string]any{"should": []any{map[string]any{"key": "tag", "match": map[string]any{"value": "x"}},
			map[string]any{"has_id": []int{g.rng.IntN(200), g.rng.IntN(200), g.rng.IntN(200)}}}}
	}
	return nil
}

// threshold returns a score threshold plausible for the node's query, or
// nil.
func (g *treeGen) threshold(n map[string]any) any {
	if g.rng.IntN(4) != 0 || n["query"] == nil {
		return nil
	}
	q, _ := n["query"].(map[string]any)
	switch {
	case q["fusion"] == "rrf" || q["rrf"] != nil:
		return math.Round(g.rng.Float64()*60) / 100
	case q["fusion"] == "dbsf":
		return math.Round(g.rng.Float64()*150) / 100
	case n["using"] == "a":
		return math.Round((g.rng.Float64()-0.3)*100) / 100
	}
	return math.Round(g.rng.NormFloat64()*100) / 100
}

// node builds a prefetch at depth (1 to 3).
//
// A fusion inside the tree must not make equal scores: Qdrant orders them
// by the keys of a hash map seeded at random when the process starts (the
// same within a run, so asking again does not show it), and the levels
// above see that order as ranks. So an inner RRF of several lists weighs
// each differently (one point's contributions then never sum to another's),
// and an inner DBSF does not fuse lists of points by id (all scored 1).
//
// DBSF normalises each list by its spread: two scores that nearly agree
// normalise to values whose rounding error is the scores' own, divided by
// their tiny difference (two-point lists always normalise to 0.5 ± 0.118,
// however close their scores). So a DBSF's prefetches keep at least 5
// points, without threshold, where the spread dwarfs the last bit.
func (g *treeGen) node(depth int) map[string]any {
	n := map[string]any{}
	if depth < 3 && g.rng.IntN(2) == 0 {
		k := 1 + g.rng.IntN(3)
		ps := make([]any, k)
		listed := false
		for i := range ps {
			p := g.node(depth + 1)
			listed = listed || p["query"] == nil
			ps[i] = p
		}
		n["prefetch"] = ps
		for {
			q := g.merges[g.rng.IntN(len(g.merges))](g, n, k)
			m, _ := q.(map[string]any)
			switch {
			case m["fusion"] == "dbsf" && listed:
				continue
			case (m["fusion"] == "rrf" || m["rrf"] != nil) && k > 1:
				w := make([]float64, k)
				for i := range w {
					w[i] = 0.1 + float64(i) + g.rng.Float64()*0.9
				}
				g.rng.Shuffle(k, func(i, j int) { w[i], w[j] = w[j], w[i] })
				q = map[string]any{"rrf": map[string]any{"k": 1 + g.rng.IntN(60), "weights": w}}
			}
			n["query"] = q
			break
		}
		g.spread(n)
	} else if q := g.leaves[g.rng.IntN(len(g.leaves))](g, n); q != nil {
		n["query"] = q
	}
	if f := g.filter(); f != nil {
		n["filter"] = f
	}
	if g.rng.IntN(3) > 0 {
		n["limit"] = 1 + g.rng.IntN(25)
	}
	if th := g.threshold(n); th != nil {
		n["score_threshold"] = th
	}
	return n
}

// spread makes the prefetches of a DBSF node keep enough points (see
// node).
func (g *treeGen) spread(n map[string]any) {
	if q, _ := n["query"].(map[string]any); q["fusion"] != "dbsf" {
		return
	}
	for _, p := range n["prefetch"].([]any) {
		p := p.(map[string]any)
		if l, ok := p["limit"].(int); ok && l < 5 {
			p["limit"] = 5 + l
		}
		delete(p, "score_threshold")
	}
}

// request builds a query request with one to three prefetches.
func (g *treeGen) request() map[string]any {
	r := map[string]any{}
	k := 1 + g.rng.IntN(3)
	ps := make([]any, k)
	for i := range ps {
		ps[i] = g.node(1)
	}
	r["prefetch"] = ps
	switch g.rng.IntN(12) {
	case 0:
		r["query"] = map[string]any{"order_by": map[string]any{"key": "f", "direction": []string{"asc", "desc"}[g.rng.IntN(2)]}}
	case 1: // an error: a fusion with a vector name
		r["query"] = map[string]any{"fusion": "rrf"}
		r["using"] = "a"
	default:
		r["query"] = g.merges[g.rng.IntN(len(g.merges))](g, r, k)
	}
	g.spread(r)
	if f := g.filter(); f != nil {
		r["filter"] = f
	}
	r["limit"] = 1 + g.rng.IntN(15)
	if g.rng.IntN(3) == 0 {
		r["offset"] = g.rng.IntN(4)
	}
	if q, _ := r["query"].(map[string]any); q["order_by"] == nil {
		if th := g.threshold(r); th != nil {
			r["score_threshold"] = th
		}
	}
	if g.rng.IntN(4) == 0 {
		r["with_payload"] = true
	}
	return r
}

// treeResult is one server's answer.
type treeResult struct {
	status int
	err    string
	ids    []string
	scores []float64
	raw    map[string]any
}

func treeAnswer(t *testing.T, url string, body any) treeResult {
	t.Helper()
	st, res := bm25Call(t, "POST", url, body)
	out := treeResult{status: st, raw: res}
	if st != 200 {
		s, _ := res["status"].(map[string]any)
		out.err, _ = s["error"].(string)
		return out
	}
	r, _ := res["result"].(map[string]any)
	pts, _ := r["points"].([]any)
	for _, p := range pts {
		p := p.(map[string]any)
		id, _ := json.Marshal(p["id"])
		pl, _ := json.Marshal(p["payload"])
		out.ids = append(out.ids, string(id)+" "+string(pl))
		out.scores = append(out.scores, p["score"].(float64))
	}
	return out
}

// treeClose reports whether two scores agree within 1e-5, relative; near 0
// within 1e-6, as similarities that nearly cancel out carry the rounding of
// their terms (about 1e-7 each), whatever order they are summed in.
func treeClose(a, b float64) bool {
	return math.Abs(a-b) <= 1e-5*max(math.Abs(a), math.Abs(b), 0.1)
}

// treeCompare returns why got differs from want, or "". Points may be in
// any order within a run of equal scores, and a run cut by the limit may
// keep different points.
func treeCompare(want, got treeResult, limit any) string {
	if want.status != got.status || want.err != got.err {
		return fmt.Sprintf("status %d %q, qlite %d %q", want.status, want.err, got.status, got.err)
	}
	if len(want.ids) != len(got.ids) {
		return fmt.Sprintf("%d points, qlite %d", len(want.ids), len(got.ids))
	}
	for i := range want.scores {
		if !treeClose(want.scores[i], got.scores[i]) {
			return fmt.Sprintf("score %d: %v, qlite %v", i, want.scores[i], got.scores[i])
		}
	}
	full := fmt.Sprint(len(want.ids)) == fmt.Sprint(limit)
	for lo := 0; lo < len(want.ids); {
		hi := lo + 1
		for hi < len(want.ids) && treeClose(want.scores[lo], want.scores[hi]) {
			hi++
		}
		if hi == len(want.ids) && full {
			break // the limit may cut a run of ties: see treeCut
		}
		a, b := slices.Clone(want.ids[lo:hi]), slices.Clone(got.ids[lo:hi])
		slices.Sort(a)
		slices.Sort(b)
		if !slices.Equal(a, b) {
			return fmt.Sprintf("points %d to %d: %v, qlite %v", lo, hi-1, want.ids[lo:hi], got.ids[lo:hi])
		}
		lo = hi
	}
	return ""
}

// treeUnstable reports whether Qdrant answers body differently from first
// when asked again.
func treeUnstable(t *testing.T, url string, body any, first treeResult) bool {
	t.Helper()
	for range 8 {
		again := treeAnswer(t, url, body)
		if treeCompare(first, again, body.(map[string]any)["limit"]) != "" {
			return true
		}
	}
	return false
}

// treeLocate finds the deepest prefetch of node whose results differ
// between the servers, each prefetch asked for alone (under the filters
// above it, as the request's filter) with a fusion that keeps its order.
func treeLocate(t *testing.T, qd, ql string, node map[string]any, above []any) string {
	t.Helper()
	ps, _ := node["prefetch"].([]any)
	if f := node["filter"]; f != nil {
		above = append(slices.Clone(above), f)
	}
	for i, p := range ps {
		p := p.(map[string]any)
		body := map[string]any{"prefetch": []any{p}, "query": map[string]any{"fusion": "dbsf"}, "limit": 1000}
		if len(above) > 0 {
			body["filter"] = map[string]any{"must": above}
		}
		want, got := treeAnswer(t, qd, body), treeAnswer(t, ql, body)
		if msg := treeCompare(want, got, nil); msg != "" {
			js, _ := json.Marshal(p)
			return fmt.Sprintf("prefetch %d differs: %s\n  %s\n  qdrant %v\n  qlite  %v\n", i, msg, js, want.ids, got.ids) +
				treeLocate(t, qd, ql, p, above)
		}
	}
	return ""
}

// treeCut checks the last run of equal scores of a full answer, which the
// limit may have cut: the points qlite kept there must be among the points
// of that score Qdrant finds when asked for more.
func treeCut(t *testing.T, qd, ql string, body map[string]any, want, got treeResult) string {
	t.Helper()
	n := len(want.ids)
	if want.status != 200 || n == 0 || fmt.Sprint(n) != fmt.Sprint(body["limit"]) {
		return ""
	}
	lo := n - 1
	for lo > 0 && treeClose(want.scores[lo-1], want.scores[n-1]) {
		lo--
	}
	a, b := slices.Clone(want.ids[lo:]), slices.Clone(got.ids[lo:])
	slices.Sort(a)
	slices.Sort(b)
	if slices.Equal(a, b) {
		return ""
	}
	more := maps.Clone(body)
	more["limit"] = n + 50
	wider := treeAnswer(t, qd, more)
	tied := map[string]bool{}
	for i, id := range wider.ids {
		if treeClose(wider.scores[i], want.scores[n-1]) {
			tied[id] = true
		}
	}
	for _, id := range got.ids[lo:] {
		if !tied[id] {
			return fmt.Sprintf("points %d to %d: %v, qlite %v (%s is not among Qdrant's points of that score)", lo, n-1, want.ids[lo:], got.ids[lo:], id)
		}
	}
	return ""
}
