package engine

import (
	"archive/tar"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/stretchr/testify/require"
)

// The tests of this file check that no configuration, whatever path stores
// it, leaves a store that does not open again or does not serve.

// configLimitSeeds are create and update bodies at and past every limit
// Validate knows: Qdrant's ranges, qlite's graph limits, sizes that
// overflowed capacity arithmetic, features qlite does not serve.
var configLimitSeeds = [][2]string{
	{`{"vectors": {"size": 4, "distance": "Dot"}}`, `{"hnsw_config": {"m": 1024, "ef_construct": 65536}}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": 5000}}`, `{}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"ef_construct": 65537}}`, `{}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}}`, `{"hnsw_config": {"m": 1025}}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}}`, `{"vectors": {"": {"hnsw_config": {"ef_construct": 100000}}}}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}}`, `{"vectors": {"": {"hnsw_config": {"m": 0}}}}`},
	{`{"vectors": {"a": {"size": 4, "distance": "Dot", "hnsw_config": {"m": 2}}}, "hnsw_config": {"m": 0}}`, `{"hnsw_config": {"m": 3000}}`},
	{`{"vectors": {"size": 0, "distance": "Dot"}}`, `{}`},
	{`{"vectors": {"size": 65537, "distance": "Dot"}}`, `{}`},
	{`{"vectors": {"size": 65536, "distance": "Dot"}, "optimizers_config": {"max_segment_size": 1}}`, `{}`},
	// Segments are still allocated for their capacity up front: large
	// sizes go with small vectors here.
	{`{"vectors": {"size": 4, "distance": "Cosine"}, "optimizers_config": {"max_segment_size": 9223372036854775807, "indexing_threshold": 9223372036854775807}}`, `{"optimizers_config": {"max_segment_size": 1000000000}}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"full_scan_threshold": 9223372036854775807}}`, `{"optimizers_config": {"indexing_threshold": 0}}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "optimizers_config": {"prevent_unoptimized": true, "indexing_threshold": 9223372036854775807}}`, `{}`},
	{`{"vectors": {"size": 4, "distance": "Dot", "datatype": "uint8"}}`, `{}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "sparse_vectors": {"s": {}}}`, `{}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}}`, `{"optimizers_config": {"deleted_threshold": 2}}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "shard_number": 0}`, `{}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "wal_config": {"wal_capacity_mb": 0}}`, `{}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "strict_mode_config": {"enabled": true, "max_query_limit": 1}}`, `{"strict_mode_config": {"read_rate_limit": 9223372036854775807}}`},
	{`{"vectors": {"size": 4, "distance": "Dot"}, "metadata": {"a": 1}}`, `{"metadata": {"a": null}}`},
	{`{}`, `{}`},
}

// checkConfigPaths sends a create body, then an update body, through every
// path that stores a configuration: create, update, and snapshot restore
// (the create body read as a stored configuration, as a crafted archive
// would carry it). After each it reopens the store and checks that it opens
// with no failed collection and that every collection serves an upsert and
// a search. A refusal must be bad input, never an internal error, and must
// leave the stored configuration as it was.
func checkConfigPaths(t *testing.T, dir string, create, update []byte) {
	t.Helper()
	o := testOpts()
	o.Log = io.Discard
	reopen := func(db *DB) *DB {
		t.Helper()
		if db != nil {
			require.NoError(t, db.Close())
		}
		db, err := Open(dir, o)
		require.NoError(t, err, "the store must reopen")
		require.Empty(t, db.failed, "no collection may fail to load")
		for name, c := range db.colls {
			cfg := c.config()
			vecs := map[string][]float32{}
			sparse := map[string]SparseVector{}
			for n, vp := range cfg.Params.Vectors {
				v := make([]float32, vp.Size)
				v[0] = 1
				vecs[n] = v
			}
			for n := range cfg.Params.SparseVectors {
				sparse[n] = SparseVector{Indices: []uint32{7}, Values: []float32{1}}
			}
			_, err := db.Upsert(bg, name, &UpsertOp{Points: []Point{{ID: numID(1), Vectors: vecs, Sparse: sparse}}}, &WriteOptions{Wait: true})
			require.NoError(t, err, "collection %s must take writes", name)
			for using, v := range vecs {
				res, err := db.Search(bg, name, &SearchRequest{Vector: v, Using: using, Limit: 1})
				require.NoError(t, err, "collection %s must serve searches", name)
				require.Len(t, res, 1)
			}
			for using, v := range sparse {
				res, err := db.Search(bg, name, &SearchRequest{Sparse: &v, Using: using, Limit: 1})
				require.NoError(t, err, "collection %s must serve sparse searches", name)
				require.Len(t, res, 1)
			}
			n, err := db.Count(bg, name, nil, true)
			require.NoError(t, err)
			require.Equal(t, 1, n)
		}
		return db
	}
	refused := func(err error) {
		t.Helper()
		require.Truef(t, errors.Is(err, ErrBadRequest) || errors.Is(err, ErrConflict), "want bad input, got %v", err)
	}
	db := reopen(nil)
	defer func() { require.NoError(t, db.Close()) }()
	for _, name := range []string{"c", "r"} {
		_, err := db.DeleteCollection(bg, name)
		require.NoError(t, err)
	}

	var req CreateCollection
	if json.Unmarshal(create, &req) == nil {
		if err := db.CreateCollection(bg, "c", &req); err != nil {
			refused(err)
		}
		db = reopen(db)
	}
	if c, ok := db.colls["c"]; ok {
		before, err := json.Marshal(c.config())
		require.NoError(t, err)
		var u UpdateCollection
		if json.Unmarshal(update, &u) == nil {
			if err := db.UpdateCollection(bg, "c", &u); err != nil {
				refused(err)
				db = reopen(db)
				after, err := json.Marshal(db.colls["c"].config())
				require.NoError(t, err)
				require.JSONEq(t, string(before), string(after), "a refused update changes nothing")
			} else {
				db = reopen(db)
			}
		}
	}

	if stored := storedFromCreate(create); stored != nil {
		path := filepath.Join(t.TempDir(), "crafted.snapshot")
		require.NoError(t, os.WriteFile(path, craftSnapshot(t, stored), 0o644))
		if err := db.RestoreSnapshot(bg, path, "r"); err != nil {
			refused(err)
			_, ok := db.colls["r"]
			require.False(t, ok, "a refused restore creates nothing")
		}
		db = reopen(db)
	}
}

// storedFromCreate returns the stored form of a configuration with the
// values of the create body laid over the defaults, unchecked, as a crafted
// snapshot could carry it; nil when create is not an object.
func storedFromCreate(create []byte) []byte {
	var req map[string]json.RawMessage
	if json.Unmarshal(create, &req) != nil || req == nil {
		return nil
	}
	def, _ := json.Marshal(cfgDefault())
	var out map[string]map[string]json.RawMessage
	if json.Unmarshal(def, &out) != nil {
		return nil
	}
	for k, v := range req {
		switch k {
		case "vectors", "shard_number", "replication_factor", "write_consistency_factor", "on_disk_payload", "sparse_vectors":
			out["params"][k] = v
		case "hnsw_config", "optimizers_config", "wal_config":
			var m map[string]json.RawMessage
			json.Unmarshal(v, &m)
			dst := out[strings.Replace(k, "optimizers_", "optimizer_", 1)]
			for mk, mv := range m {
				dst[mk] = mv
			}
		}
	}
	b, _ := json.Marshal(out)
	return b
}

// craftSnapshot returns a collection snapshot with the configuration cfg
// (JSON, taken as is), no field index and no point.
func craftSnapshot(t testing.TB, cfg []byte) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, m := range []struct {
		name string
		data []byte
	}{{snapConfig, cfg}, {snapFields, []byte("{}")}, {snapPoints, []byte(snapMagic)}} {
		require.NoError(t, tw.WriteHeader(&tar.Header{Name: m.name, Mode: 0o644, Size: int64(len(m.data)), Typeflag: tar.TypeReg}))
		_, err := tw.Write(m.data)
		require.NoError(t, err)
	}
	require.NoError(t, tw.Close())
	return buf.Bytes()
}

// TestConfigLimitsRandom runs random configurations, built from values at
// and around every limit, through every path.
func TestConfigLimitsRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(20, 1))
	dir := t.TempDir()
	n := 40
	if testing.Short() {
		n = 10
	}
	for i := range n {
		create, update := randomConfigBodies(rng)
		if !t.Run(fmt.Sprint(i), func(t *testing.T) { checkConfigPaths(t, dir, create, update) }) {
			t.Logf("create %s\nupdate %s", create, update)
		}
	}
}

// randomConfigBodies returns a create and an update body whose members
// take values around the limits of each field.
func randomConfigBodies(rng *rand.Rand) ([]byte, []byte) {
	ints := []int64{-1, 0, 1, 2, 3, 4, 10, 16, 100, 1024, 1025, 5000, 65536, 65537, 1 << 31, 1<<53 + 1, 1<<63 - 1}
	pick := func() int64 { return ints[rng.IntN(len(ints))] }
	some := func(keys ...string) map[string]any {
		m := map[string]any{}
		for _, k := range keys {
			if rng.IntN(3) == 0 {
				m[k] = pick()
			}
		}
		return m
	}
	hnsw := func() map[string]any {
		return some("m", "ef_construct", "full_scan_threshold", "max_indexing_threads", "payload_m")
	}
	opt := func() map[string]any {
		m := some("vacuum_min_vector_number", "default_segment_number", "max_segment_size", "memmap_threshold",
			"indexing_threshold", "flush_interval_sec", "max_optimization_threads")
		if rng.IntN(3) == 0 {
			m["deleted_threshold"] = []float64{-0.5, 0, 0.2, 1, 1.5}[rng.IntN(5)]
		}
		if rng.IntN(4) == 0 {
			m["prevent_unoptimized"] = true
		}
		return m
	}
	vec := func() map[string]any {
		// No large valid size: segments are still allocated for their
		// capacity up front, and the sizes here reach the largest.
		v := map[string]any{"size": []int64{0, 1, 4, 65537}[rng.IntN(4)], "distance": "Dot"}
		if rng.IntN(2) == 0 {
			v["hnsw_config"] = hnsw()
		}
		return v
	}
	create := map[string]any{"hnsw_config": hnsw(), "optimizers_config": opt(), "wal_config": some("wal_capacity_mb", "wal_segments_ahead", "wal_retain_closed")}
	if rng.IntN(2) == 0 {
		create["vectors"] = vec()
	} else {
		create["vectors"] = map[string]any{"a": vec(), "b": vec()}
	}
	for _, k := range []string{"shard_number", "replication_factor", "write_consistency_factor"} {
		if rng.IntN(4) == 0 {
			create[k] = pick()
		}
	}
	update := map[string]any{"hnsw_config": hnsw(), "optimizers_config": opt()}
	if rng.IntN(2) == 0 {
		update["vectors"] = map[string]any{"": map[string]any{"hnsw_config": hnsw()}, "a": map[string]any{"hnsw_config": hnsw()}}
	}
	c, _ := json.Marshal(create)
	u, _ := json.Marshal(update)
	return c, u
}

func FuzzConfigPaths(f *testing.F) {
	for _, s := range configLimitSeeds {
		f.Add([]byte(s[0]), []byte(s[1]))
	}
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, create, update []byte) {
		checkConfigPaths(t, dir, create, update)
	})
}

// TestOpenServesAroundFailedCollection writes collection records that do
// not load straight into the store (past every validation) and checks
// that Open serves the other collections, reports the failed ones, and
// lets them be deleted.
func TestOpenServesAroundFailedCollection(t *testing.T) {
	dir := t.TempDir()
	o := testOpts()
	var log bytes.Buffer
	o.Log = &log
	db := openTestDB(t, dir, o)
	createColl(t, db, "good", 4, 1, 10000)
	_, err := db.Upsert(bg, "good", &UpsertOp{Points: []Point{{ID: numID(7), Vectors: map[string][]float32{"": {1, 0, 0, 0}}}}}, &WriteOptions{Wait: true})
	require.NoError(t, err)

	good := *db.colls["good"].config()
	bad := map[string][]byte{}
	for name, mut := range map[string]func(*CollectionConfig){
		"size0":   func(c *CollectionConfig) { c.Params.Vectors[""] = VectorParams{Size: 0, Distance: 1} },
		"size":    func(c *CollectionConfig) { c.Params.Vectors[""] = VectorParams{Size: 65537, Distance: 1} },
		"m":       func(c *CollectionConfig) { c.HNSW.M = 5000 },
		"ef":      func(c *CollectionConfig) { c.HNSW.EfConstruct = 1 << 20 },
		"dupname": func(c *CollectionConfig) { c.Params.SparseVectors = map[string]SparseVectorParams{"": {}} },
	} {
		cfg := good.cfgClone()
		mut(&cfg)
		rec, err := encodeCollectionRecord(1000+uint32(len(bad)), cfg)
		require.NoError(t, err)
		bad[name] = rec
	}
	rec, err := encodeCollectionRecord(2000, good)
	require.NoError(t, err)
	bad["crc"] = append(slices.Clone(rec[:len(rec)-1]), rec[len(rec)-1]^1)
	bad["garbage"] = []byte("not a record")
	for name, rec := range bad {
		require.NoError(t, db.store.Set(collectionKey(name), rec, pebble.Sync))
	}
	// A setting qlite only stores, out of Qdrant's range, does not keep a
	// collection from loading.
	odd := good.cfgClone()
	odd.WAL.WalCapacityMB = 0
	rec, err = encodeCollectionRecord(3000, odd)
	require.NoError(t, err)
	require.NoError(t, db.store.Set(collectionKey("odd"), rec, pebble.Sync))
	require.NoError(t, db.Close())

	db, err = Open(dir, o)
	require.NoError(t, err)
	defer db.Close()
	names, err := db.ListCollections(bg)
	require.NoError(t, err)
	require.Len(t, names, len(bad)+2)
	info, err := db.CollectionInfo(bg, "odd")
	require.NoError(t, err)
	require.NotEqual(t, StatusRed, info.Status)
	res, err := db.Search(bg, "good", &SearchRequest{Vector: []float32{1, 0, 0, 0}, Limit: 1})
	require.NoError(t, err)
	require.Len(t, res, 1)
	for name := range bad {
		require.Contains(t, log.String(), fmt.Sprintf("collection %q failed to load", name))
		info, err := db.CollectionInfo(bg, name)
		require.NoError(t, err)
		require.Equal(t, StatusRed, info.Status, name)
		require.NotEmpty(t, info.Reason)
		_, err = db.Search(bg, name, &SearchRequest{Vector: []float32{1, 0, 0, 0}, Limit: 1})
		require.ErrorIs(t, err, ErrUnavailable)
		require.True(t, strings.Contains(err.Error(), "delete it to recover"), err.Error())
		ok, err := db.CollectionExists(bg, name)
		require.NoError(t, err)
		require.True(t, ok)
		require.ErrorIs(t, db.CreateCollection(bg, name, &CreateCollection{Vectors: VectorsConfig{"": {Size: 2, Distance: 1}}}), ErrConflict)
		ok, err = db.DeleteCollection(bg, name)
		require.NoError(t, err)
		require.True(t, ok)
	}
	require.NoError(t, db.Close())

	db = openTestDB(t, dir, o)
	names, err = db.ListCollections(bg)
	require.NoError(t, err)
	require.Equal(t, []string{"good", "odd"}, names)
	require.NoError(t, db.CreateCollection(bg, "size0", &CreateCollection{Vectors: VectorsConfig{"": {Size: 2, Distance: 1}}}))
	res, err = db.Search(bg, "good", &SearchRequest{Vector: []float32{1, 0, 0, 0}, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, numID(7), res[0].ID)
}
