package engine

import (
	"context"
	"math/rand/v2"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

var bg = context.Background()

// testOpts are the options of test databases: no background optimizer
// unless asked for (tests call Optimize), so that runs are deterministic.
func init() {
	payloadsInRAM = os.Getenv("QLITE_PAYLOADS_IN_RAM") == "1"
}

func testOpts() *Options {
	return &Options{DisableOptimizer: true, IndexingWorkers: 2, SealDelay: 10 * time.Millisecond}
}

// openTestDB opens a DB in dir and registers a cleanup that checks its
// invariants and closes it.
func openTestDB(t testing.TB, dir string, o *Options) *DB {
	t.Helper()
	db, err := Open(dir, o)
	require.NoError(t, err)
	t.Cleanup(func() {
		if !db.closed.Load() {
			require.NoError(t, db.CheckInvariants())
			require.NoError(t, db.Close())
		}
	})
	return db
}

// closeChecked checks invariants and closes db.
func closeChecked(t testing.TB, db *DB) {
	t.Helper()
	require.NoError(t, db.CheckInvariants())
	require.NoError(t, db.Close())
}

func u64p(v uint64) *uint32 { x := uint32(v); return &x }

// createColl creates a collection of one unnamed vector.
func createColl(t testing.TB, db *DB, name string, dim int, m distance.Metric, indexingKB int) {
	t.Helper()
	thr := indexingKB
	req := &CreateCollection{
		Vectors:    VectorsConfig{"": {Size: uint64(dim), Distance: m}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr},
	}
	require.NoError(t, db.CreateCollection(bg, name, req))
}

func randVec(rng *rand.Rand, dim int) []float32 {
	v := make([]float32, dim)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

func numID(n uint64) PointID { return filter.NumID(n) }

func obj(kv ...any) payload.Value {
	var fs []payload.Field
	for i := 0; i < len(kv); i += 2 {
		var v payload.Value
		switch x := kv[i+1].(type) {
		case int:
			v = payload.IntValue(int64(x))
		case string:
			v = payload.StringValue(x)
		case float64:
			v = payload.FloatValue(x)
		case bool:
			v = payload.BoolValue(x)
		case payload.Value:
			v = x
		case nil:
			v = payload.NullValue()
		}
		fs = append(fs, payload.Field{Key: kv[i].(string), Value: v})
	}
	return payload.ObjectValue(fs...)
}

func mustFilter(t testing.TB, js string) *filter.Filter {
	t.Helper()
	f, err := filter.ParseJSON([]byte(js))
	require.NoError(t, err)
	return f
}
