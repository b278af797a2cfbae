package engine

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// TestHardwareUsage checks the counters against what the test wrote and
// searched: vector bytes, encoded payload bytes (encoded again here), and
// the elements an exact search scores (every point's vector).
func TestHardwareUsage(t *testing.T) {
	db := openTestDB(t, t.TempDir(), testOpts())
	const n, dim = 50, 8
	createColl(t, db, "c", dim, distance.Dot, 10000)
	createColl(t, db, "other", dim, distance.Dot, 10000)
	rng := rand.New(rand.NewPCG(1, 2))
	var pts []Point
	wantPayload := int64(0)
	for i := range n {
		pl := payload.ObjectValue(payload.Field{Key: "i", Value: payload.IntValue(int64(i))}, payload.Field{Key: "s", Value: payload.StringValue("x")})
		wantPayload += int64(len(pl.AppendBinary(nil)))
		pts = append(pts, Point{ID: filter.NumID(uint64(i + 1)), Vectors: map[string][]float32{"": randVec(rng, dim)}, Payload: pl})
	}
	_, err := db.Upsert(bg, "c", &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
	require.NoError(t, err)
	u, err := db.HardwareUsage(bg, "c")
	require.NoError(t, err)
	require.Equal(t, HardwareUsage{VectorIOWrite: n * dim * 4, PayloadIOWrite: wantPayload}, u)

	_, err = db.Search(bg, "c", &SearchRequest{Vector: randVec(rng, dim), Limit: 3, Exact: true})
	require.NoError(t, err)
	u, err = db.HardwareUsage(bg, "c")
	require.NoError(t, err)
	require.Equal(t, int64(n*dim), u.CPU, "an exact search scores every vector")

	other, err := db.HardwareUsage(bg, "other")
	require.NoError(t, err)
	require.Zero(t, other, "collections count apart")
	_, err = db.HardwareUsage(bg, "missing")
	require.ErrorIs(t, err, ErrNotFound)
}
