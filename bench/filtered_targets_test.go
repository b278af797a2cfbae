package bench

import (
	"context"
	"math"
	"strconv"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// filteredTargetConfig is a filtered run of target over a generated
// 4000 x 784 fvecs dataset with 50 queries: large enough (12 MB of vectors)
// for the engine's default thresholds (10 MB) to build a graph and to take
// it for the least selective filters, and exact scans for the others.
func filteredTargetConfig(t *testing.T, target string, sels []float64) *Config {
	t.Helper()
	return &Config{
		Dataset:           "fvecs:" + makeFvecsDir(t, 4000, 50, 784),
		Target:            target,
		Ef:                []int{16, 128},
		Seed:              1,
		FilterSelectivity: sels,
		CacheDir:          t.TempDir(),
	}
}

// checkFilteredRuns checks the runs of a filtered result as the hnsw
// target's are checked: the unfiltered runs first, then one group per
// selectivity whose runs carry the case's name and measured selectivity,
// every ef, and recall@k >= minRecall at the largest ef. withPlan asks for
// the plan the engine reported.
func checkFilteredRuns(t *testing.T, res *Result, sels []float64, indexed, withPlan bool, minRecall float64) {
	t.Helper()
	if p := res.Params.PayloadIndex; p == nil || *p != indexed {
		t.Errorf("%s: payload index param %v, want %v", res.Target, p, indexed)
	}
	if res.Params.FilterKind != FilterKindRnd || len(res.Params.FilterSelectivity) != len(sels) {
		t.Errorf("%s: params %+v", res.Target, res.Params)
	}
	groups := groupRuns(res.Runs)
	if len(groups) != 1+len(sels) || groups[0].key != "" {
		t.Fatalf("%s: %d groups: %+v", res.Target, len(groups), groups)
	}
	if len(groups[0].runs) != 2 {
		t.Fatalf("%s: unfiltered runs %+v", res.Target, groups[0].runs)
	}
	if m := groups[0].runs[1]; m.Recall < 0.95 || m.Filtered() || m.Filter != "" {
		t.Errorf("%s unfiltered: %+v", res.Target, m)
	}
	for _, s := range sels {
		name := "rnd<" + strconv.Itoa(rndBound(s))
		var g *runGroup
		for i := range groups {
			if groups[i].key == name {
				g = &groups[i]
			}
		}
		if g == nil {
			t.Fatalf("%s: no runs of %s: %+v", res.Target, name, res.Runs)
		}
		if len(g.runs) != 2 || g.runs[0].Ef != 16 || g.runs[1].Ef != 128 {
			t.Fatalf("%s %s: runs %+v", res.Target, name, g.runs)
		}
		for _, m := range g.runs {
			if m.Filter != name || math.Abs(m.Selectivity-s) > 0.25*s || !m.Filtered() {
				t.Errorf("%s %s: run %+v for selectivity %v", res.Target, name, m, s)
			}
			if m.QPS <= 0 || m.P99Ms < m.P50Ms {
				t.Errorf("%s %s: timings %+v", res.Target, name, m)
			}
			if withPlan && (m.Plan == "" || m.PlanShare <= 0) {
				t.Errorf("%s %s: no plan: %+v", res.Target, name, m)
			}
		}
		if m := g.runs[1]; m.Recall < minRecall {
			t.Errorf("%s %s: recall@%d at ef=128 = %.4f (plan %s), want >= %v", res.Target, name, res.Params.K, m.Recall, m.Plan, minRecall)
		}
	}
}

// TestRunFilteredEmbedded runs the embedded database's targets: through
// go-client's API (embedded) and through engine.DB.Search (engine).
func TestRunFilteredEmbedded(t *testing.T) {
	for _, target := range []string{"embedded", TargetEngine} {
		t.Run(target, func(t *testing.T) {
			sels := []float64{0.05, 0.9}
			cfg := filteredTargetConfig(t, target, sels)
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Target != target {
				t.Errorf("result of target %q, want %q", res.Target, target)
			}
			checkFilteredRuns(t, res, sels, true, true, 0.9)
			if res.Engine == nil || res.Engine.RawBytes <= int64(res.Points*res.Dims*4) {
				t.Errorf("engine figures %+v", res.Engine)
			}
		})
	}
}

// TestEmbeddedFilteredUpload checks the embedded target's upload of a
// filtered run: the payload of every point, and the payload indexes, or
// none with NoPayloadIndex.
func TestEmbeddedFilteredUpload(t *testing.T) {
	ctx := context.Background()
	ds, err := LoadDataset("fvecs:"+makeFvecsDir(t, 600, 10, 8), nil)
	if err != nil {
		t.Fatal(err)
	}
	c, err := (&Config{Dataset: "x", FilterSelectivity: []float64{0.1}, CacheDir: t.TempDir()}).withDefaults()
	if err != nil {
		t.Fatal(err)
	}
	fw, err := prepareFiltered(ctx, &c, ds, ds.NQ)
	if err != nil {
		t.Fatal(err)
	}
	db, err := engine.Open(t.TempDir(), &engine.Options{IndexingWorkers: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, noIndex := range []bool{false, true} {
		c.NoPayloadIndex = noIndex
		coll := map[bool]string{false: "indexed", true: "plain"}[noIndex]
		cl := &grpcRemote{c: compat.NewEmbedded(db), coll: coll}
		if _, _, err := uploadEmbedded(ctx, &c, db, cl, ds, fw, nil, nil); err != nil {
			t.Fatal(err)
		}
		info, err := db.CollectionInfo(ctx, coll)
		if err != nil {
			t.Fatal(err)
		}
		if info.PointsCount != ds.N {
			t.Errorf("%s: %d points, want %d", coll, info.PointsCount, ds.N)
		}
		if noIndex {
			if len(info.PayloadSchema) != 0 {
				t.Errorf("NoPayloadIndex: payload schema %+v", info.PayloadSchema)
			}
		} else {
			checkSchema(t, info.PayloadSchema, ds.N)
		}
		// The payload of a point is {"i": id} and the generated fields.
		recs, err := db.Get(ctx, coll, []filter.PointID{filter.NumID(7)}, &engine.ReadOptions{WithPayload: engine.AllPayload})
		if err != nil || len(recs) != 1 {
			t.Fatalf("get: %v %+v", err, recs)
		}
		want, err := payload.ParseObject(fw.payloads[7].AppendJSON(nil))
		if err != nil {
			t.Fatal(err)
		}
		want = want.With("i", payload.IntValue(7))
		if got := recs[0].Payload; !payload.Equal(got, want) {
			t.Errorf("%s: payload of 7 = %s, want %s", coll, got, want)
		}
		// The filter of the case matches exactly the ids the workload
		// computed.
		f, err := filter.ParseJSON([]byte(fw.cases[0].Groups[0].JSON))
		if err != nil {
			t.Fatal(err)
		}
		n, err := db.Count(ctx, coll, f, true)
		if err != nil || n != len(fw.cases[0].Groups[0].IDs) {
			t.Errorf("%s: count %d (%v), want %d", coll, n, err, len(fw.cases[0].Groups[0].IDs))
		}
	}
}

// checkSchema checks an engine payload schema against payloadIndexes.
func checkSchema(t *testing.T, schema map[string]engine.PayloadIndexInfo, n int) {
	t.Helper()
	if len(schema) != len(payloadIndexes) {
		t.Errorf("payload schema %+v, want the %d fields of payloadIndexes", schema, len(payloadIndexes))
	}
	for _, f := range payloadIndexes {
		got, ok := schema[f.key]
		if !ok || got.Params.Type != f.typ || !got.Params.LookupEnabled() || !got.Params.RangeEnabled() || got.Points != n {
			t.Errorf("index %s: %+v (present %v), want type %v over %d points", f.key, got, ok, f.typ, n)
		}
	}
}

// serveQlite serves a new database over gRPC and REST on loopback ports
// until t ends.
func serveQlite(t *testing.T) (db *engine.DB, grpcAddr, httpAddr string) {
	t.Helper()
	db, err := engine.Open(t.TempDir(), &engine.Options{IndexingWorkers: 2})
	if err != nil {
		t.Fatal(err)
	}
	srv := compat.NewServer(db, &compat.ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0"})
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-served; err != nil {
			t.Error(err)
		}
		if err := db.Close(); err != nil {
			t.Error(err)
		}
	})
	actx, acancel := context.WithTimeout(ctx, 10*time.Second)
	defer acancel()
	httpAddr, grpcAddr, err = srv.Addrs(actx)
	if err != nil {
		t.Fatal(err)
	}
	return db, grpcAddr, httpAddr
}

func TestRunFilteredGRPC(t *testing.T) {
	ctx := context.Background()
	db, grpcAddr, httpAddr := serveQlite(t)
	sels := []float64{0.05, 0.9}
	cfg := filteredTargetConfig(t, "grpc://"+grpcAddr, sels)
	res, err := Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	checkFilteredRuns(t, res, sels, true, false, 0.9)
	info, err := db.CollectionInfo(ctx, remoteCollection)
	if err != nil {
		t.Fatal(err)
	}
	checkSchema(t, info.PayloadSchema, res.Points)

	// Without payload indexes: the server has none, and the filters still
	// find the nearest matching points.
	cfg.NoPayloadIndex = true
	if res, err = Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	checkFilteredRuns(t, res, sels, false, false, 0.9)
	if info, err = db.CollectionInfo(ctx, remoteCollection); err != nil {
		t.Fatal(err)
	}
	if len(info.PayloadSchema) != 0 {
		t.Errorf("NoPayloadIndex: payload schema %+v", info.PayloadSchema)
	}

	// The correlated kind, each query filtered by its own class, and the
	// REST target.
	cfg.NoPayloadIndex = false
	cfg.FilterKind, cfg.FilterSelectivity = FilterKindClass, nil
	cfg.Target = "http://" + httpAddr
	cfg.Ef = []int{128}
	if res, err = Run(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 || res.Runs[1].Filter != "class=label" || math.Abs(res.Runs[1].Selectivity-0.1) > 0.03 || res.Runs[1].Recall < 0.9 {
		t.Fatalf("class runs over REST: %+v", res.Runs)
	}
	if info, err = db.CollectionInfo(ctx, remoteCollection); err != nil {
		t.Fatal(err)
	}
	checkSchema(t, info.PayloadSchema, res.Points)
}

func TestGRPCFilterFromJSON(t *testing.T) {
	f, err := grpcFilter(rndFilterJSON(1234))
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Must) != 1 || f.Must[0].GetField().GetKey() != "rnd" || f.Must[0].GetField().GetRange().GetLt() != 1234 ||
		f.Must[0].GetField().GetRange().Gte != nil || len(f.Should)+len(f.MustNot) != 0 {
		t.Errorf("rnd filter: %v", f)
	}
	if f, err = grpcFilter(classFilterJSON(7)); err != nil {
		t.Fatal(err)
	}
	if len(f.Must) != 1 || f.Must[0].GetField().GetKey() != "class" || f.Must[0].GetField().GetMatch().GetInteger() != 7 {
		t.Errorf("class filter: %v", f)
	}
	if f, err = grpcFilter(`{"must":[{"key":"class_name","match":{"value":"Bag"}},{"key":"ts","range":{"gte":1,"lte":2}}]}`); err != nil {
		t.Fatal(err)
	}
	if len(f.Must) != 2 || f.Must[0].GetField().GetMatch().GetKeyword() != "Bag" || f.Must[1].GetField().GetRange().GetLte() != 2 {
		t.Errorf("two conditions: %v", f)
	}
	for _, bad := range []string{
		``,
		`[]`,
		`{"must":[]}`,
		`{"should":[{"key":"rnd","range":{"lt":1}}]}`,
		`{"must":[{"key":"rnd","range":{"lt":1}}],"must_not":[]}`,
		`{"must":[{"key":"rnd","range":{}}]}`,
		`{"must":[{"key":"rnd"}]}`,
		`{"must":[{"range":{"lt":1}}]}`,
		`{"must":[{"key":"rnd","range":{"lt":1},"match":{"value":1}}]}`,
		`{"must":[{"key":"class","match":{"value":1.5}}]}`,
		`{"must":[{"key":"class","match":{"any":[1,2]}}]}`,
		`{"must":[{"key":"loc","geo_radius":{"center":{"lon":0,"lat":0},"radius":1}}]}`,
		`{"must":[{"has_id":[1]}]}`,
		`{"must":[{"key":"rnd","range":{"lt":1}}]} {}`,
	} {
		if f, err := grpcFilter(bad); err == nil {
			t.Errorf("grpcFilter(%s) = %v, want an error", bad, f)
		}
	}
	// The payload conversion keeps every kind of value.
	p, err := pointPayload(&filteredWorkload{payloads: GeneratePayloads(3, nil, 1)}, 2)
	if err != nil {
		t.Fatal(err)
	}
	fields := compat.PayloadToProto(p)
	if len(fields) != 6 || fields["i"].GetIntegerValue() != 2 || fields["loc"].GetStructValue().GetFields()["lat"] == nil ||
		fields["ts"].GetStringValue() == "" || fields["class_name"].GetStringValue() == "" {
		t.Errorf("payload %s as gRPC: %v", p, fields)
	}
	if _, ok := fields["rnd"].GetKind().(*qdrant.Value_IntegerValue); !ok {
		t.Errorf("rnd is %T, want an integer", fields["rnd"].GetKind())
	}
}
