package compat

import (
	"math/rand/v2"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/protobuf/proto"
)

// The typed count of a search's conditions agrees with the reflective
// walk of the whole message on random filters, and the messages it skips
// reflection for hold conditions only where it looks.
func TestCountSearchConditions(t *testing.T) {
	// Only these fields of the fast-pathed messages can hold a condition
	// (a new field that can would need the typed count to look at it).
	holders := func(m proto.Message) []string {
		var out []string
		fields := m.ProtoReflect().Descriptor().Fields()
		for i := range fields.Len() {
			f := fields.Get(i)
			if f.IsMap() {
				f = f.MapValue()
			}
			if f.Message() != nil && grpcMayHoldCondition(f.Message()) {
				out = append(out, string(f.Name()))
			}
		}
		return out
	}
	if got := holders(&qdrant.SearchPoints{}); len(got) != 1 || got[0] != "filter" {
		t.Fatalf("SearchPoints fields holding conditions: %v", got)
	}
	if got := holders(&qdrant.QueryPoints{}); len(got) != 3 || got[0] != "prefetch" || got[1] != "query" || got[2] != "filter" {
		t.Fatalf("QueryPoints fields holding conditions: %v", got)
	}
	if grpcMayHoldCondition((&qdrant.VectorInput{}).ProtoReflect().Descriptor()) {
		t.Fatal("VectorInput can hold a condition")
	}

	rng := rand.New(rand.NewPCG(1, 2))
	var filter func(depth int) *qdrant.Filter
	cond := func(depth int) *qdrant.Condition {
		switch k := rng.IntN(6); {
		case k == 0 && depth < 3:
			return qdrant.NewFilterAsCondition(filter(depth + 1))
		case k == 1 && depth < 3:
			return qdrant.NewNestedFilter("n", filter(depth+1))
		case k == 2:
			return qdrant.NewHasID(qdrant.NewIDNum(1))
		case k == 3:
			return &qdrant.Condition{}
		default:
			return qdrant.NewMatchInt("k", int64(rng.IntN(10)))
		}
	}
	conds := func(depth int) []*qdrant.Condition {
		out := make([]*qdrant.Condition, rng.IntN(4))
		for i := range out {
			out[i] = cond(depth)
		}
		return out
	}
	filter = func(depth int) *qdrant.Filter {
		if rng.IntN(5) == 0 {
			return nil
		}
		f := &qdrant.Filter{Must: conds(depth), Should: conds(depth), MustNot: conds(depth)}
		if rng.IntN(2) == 0 {
			f.MinShould = &qdrant.MinShould{Conditions: conds(depth), MinCount: 1}
		}
		return f
	}
	count := func(m proto.Message, stop int) (fast, slow int, ok bool) {
		ok = grpcCountSearchConditions(m, &fast, stop)
		grpcCountConditions(m.ProtoReflect(), &slow, stop)
		return fast, slow, ok
	}
	for i := range 2000 {
		f := filter(0)
		stop := 1 << 30
		if i%2 == 1 {
			stop = rng.IntN(8)
		}
		msgs := []proto.Message{
			&qdrant.SearchPoints{CollectionName: "c", Vector: []float32{1, 2}, Filter: f},
			&qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQueryDense([]float32{1, 2}), Filter: f},
			&qdrant.QueryPoints{CollectionName: "c", Filter: f},
		}
		for _, m := range msgs {
			fast, slow, ok := count(m, stop)
			if !ok {
				t.Fatalf("%T: not counted", m)
			}
			// Past stop only "more than stop" matters.
			if fast != slow && (fast <= stop || slow <= stop) {
				t.Fatalf("%v (stop %d): typed count %d, reflective %d", m, stop, fast, slow)
			}
		}
	}
	// Queries that can hold conditions elsewhere are left to the walk.
	for _, m := range []proto.Message{
		&qdrant.QueryPoints{Prefetch: []*qdrant.PrefetchQuery{{Filter: &qdrant.Filter{}}}},
		&qdrant.QueryPoints{Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF)},
		&qdrant.CountPoints{},
	} {
		n := 0
		if grpcCountSearchConditions(m, &n, 10) {
			t.Errorf("%T %v: counted without reflection", m, m)
		}
	}
}
