package filter

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload"
)

// TestPayloadKeys decides random filters on random points twice, with the
// whole payload and with only the top-level fields PayloadKeys names: the
// answers agree, so a reader may decode just those fields.
func TestPayloadKeys(t *testing.T) {
	g := gen{rand.New(rand.NewPCG(5, 6))}
	pts := g.points(200)
	for range 300 {
		f := g.filter(2, false)
		keys := f.PayloadKeys(nil)
		for _, p := range pts {
			var kept []payload.Field
			for _, fl := range p.payload.Fields() {
				if slices.Contains(keys, fl.Key) {
					kept = append(kept, fl)
				}
			}
			part := &testPoint{id: p.id, payload: payload.ObjectValue(kept...), vectors: p.vectors}
			require.Equal(t, f.Matches(p), f.Matches(part), "filter %+v keys %v payload %v", f, keys, p.payload)
		}
	}
	require.Empty(t, (*Filter)(nil).PayloadKeys(nil))
}
