package engine

import (
	"bufio"
	"cmp"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// The crash test: a child process applies a deterministic stream of writes
// with Wait, printing "ack N" after each returns; the parent kills it with
// SIGKILL at a random moment, reopens the directory and checks that the
// state equals the model after every acknowledged write (plus, possibly,
// the one in flight). Then it starts the next child on the same directory.
// Some steps of the stream restore a snapshot over the collection (a
// collection snapshot, or a full snapshot) instead of writing: after a kill
// the collection is either whole as before the restore or whole as the
// snapshot, keeps its alias, and nothing of the restore is left over.
//
// QLITE_CRASH_KILLS sets the number of kills (default 50; 10 with -short).
// TestCrashOnDisk runs the same stream with the dense vector on disk and
// scalar quantised, so that kills land in seals writing segment files
// (vectors and codes), and checks a rescored quantised search too (default
// 20 kills; 5 with -short; more, each later, until one finds segment files).

const crashColl = "crash"

var crashSpec = VectorParams{Size: 8, Distance: distance.Dot}

// crashOnDisk puts the crash collection's dense vector on disk; the child
// learns it from QLITE_CRASH_ONDISK.
var crashOnDisk = os.Getenv("QLITE_CRASH_ONDISK") == "1"

const crashAlias = "crash-alias"

// crashStep is step n of the stream seeded by seed: a write, or a restore
// of the collection snapshot (restore 1) or of the full snapshot (2).
func crashStep(seed uint64, n int) (op Operation, restore int) {
	switch rand.New(rand.NewPCG(seed, uint64(n)+1<<32)).IntN(40) {
	case 0:
		return Operation{}, 1
	case 1:
		return Operation{}, 2
	}
	return crashOp(seed, n), 0
}

// crashSnapshots writes, in dir, a collection snapshot and a full snapshot
// of the crash collection (with its alias), each holding other points, and
// returns their paths and models.
func crashSnapshots(t *testing.T, dir string) (paths [3]string, models [3]crashModel) {
	db := openTestDB(t, dir, testOpts())
	createCrashColl(t, db)
	rng := rand.New(rand.NewPCG(7, 7))
	m := crashModel{}
	for i := range 2 {
		var pts []Point
		for j := range 1500 {
			p := Point{ID: numID(uint64(rng.IntN(3000))), Vectors: map[string][]float32{"": randVec(rng, 8)}, Payload: obj("g", rng.IntN(10), "snap", i, "j", j)}
			pts = append(pts, p)
		}
		_, err := db.Upsert(bg, crashColl, &UpsertOp{Points: pts}, &WriteOptions{Wait: true})
		require.NoError(t, err)
		m.apply(Operation{Upsert: &UpsertOp{Points: pts}})
		var d *SnapshotDescription
		if i == 0 {
			d, err = db.CreateSnapshot(bg, crashColl)
			require.NoError(t, err)
			paths[1], err = db.SnapshotPath(bg, crashColl, d.Name)
		} else {
			d, err = db.CreateFullSnapshot(bg)
			require.NoError(t, err)
			paths[2], err = db.FullSnapshotPath(bg, d.Name)
		}
		require.NoError(t, err)
		models[i+1] = m.clone()
	}
	return paths, models
}

func createCrashColl(t testing.TB, db *DB) {
	thr, vmin, maxSeg := 1, 100, 8
	del := 0.1
	spec := crashSpec
	if crashOnDisk {
		// Qdrant's memory-saving mode: originals on disk, quantised codes
		// in RAM (a segment file of their own).
		spec.OnDisk = &crashOnDisk
		spec.Quantization = []byte(`{"scalar": {"type": "int8", "always_ram": true}}`)
	}
	err := db.CreateCollection(bg, crashColl, &CreateCollection{
		Vectors: VectorsConfig{"": spec,
			// A multivector (Euclid: stored as given, compared exactly).
			"m": {Size: 3, Distance: distance.Euclid, Multivector: []byte(`{"comparator": "max_sim"}`)}},
		SparseVectors: map[string]SparseVectorParams{"s": {Modifier: "idf"}},
		Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr, VacuumMinVectorNumber: &vmin,
			DeletedThreshold: &del, MaxSegmentSize: &maxSeg},
	})
	if err == nil {
		err = db.UpdateAliases(bg, []AliasOp{{Create: &CreateAlias{Collection: crashColl, Alias: crashAlias}}})
	}
	if err != nil {
		if t != nil {
			t.Fatal(err)
		}
		fmt.Println("error", err)
		os.Exit(2)
	}
}

// crashOp returns write n of the stream seeded by seed.
func crashOp(seed uint64, n int) Operation {
	rng := rand.New(rand.NewPCG(seed, uint64(n)))
	id := func() PointID { return numID(uint64(rng.IntN(400))) }
	switch k := rng.IntN(10); {
	case k < 6:
		pts := make([]Point, 1+rng.IntN(30))
		for i := range pts {
			pts[i] = Point{ID: id(), Vectors: map[string][]float32{"": randVec(rng, 8)},
				Payload: obj("g", rng.IntN(10), "n", n)}
			if rng.IntN(3) != 0 {
				v := SparseVector{}
				for range rng.IntN(8) {
					if d := uint32(rng.IntN(1000)); !slices.Contains(v.Indices, d) {
						v.Indices = append(v.Indices, d)
						v.Values = append(v.Values, float32(rng.NormFloat64()))
					}
				}
				pts[i].Sparse = map[string]SparseVector{"s": v}
			}
			if rng.IntN(2) == 0 {
				var mv [][]float32
				for range 1 + rng.IntN(4) {
					mv = append(mv, randVec(rng, 3))
				}
				pts[i].Multi = map[string][][]float32{"m": mv}
			}
		}
		return Operation{Upsert: &UpsertOp{Points: pts}}
	case k < 8:
		ids := make([]PointID, 1+rng.IntN(20))
		for i := range ids {
			ids[i] = id()
		}
		return Operation{Delete: &Selector{IDs: ids}}
	case k < 9:
		f := &filter.Filter{Must: []filter.Condition{&filter.Field{Key: mustPath("g"), Match: filter.NewMatchInteger(int64(rng.IntN(10)))}}}
		return Operation{SetPayload: &SetPayloadOp{Payload: obj("s", n), Selector: Selector{Filter: f}}}
	default:
		f := &filter.Filter{Must: []filter.Condition{&filter.Field{Key: mustPath("g"), Match: filter.NewMatchInteger(int64(rng.IntN(10)))}}}
		return Operation{Delete: &Selector{Filter: f}}
	}
}

func mustPath(s string) payload.Path {
	p, err := payload.ParsePath(s)
	if err != nil {
		panic(err)
	}
	return p
}

// crashModel is the expected state: point id -> (vector, payload).
type crashModel map[PointID]*modelPoint

func (m crashModel) clone() crashModel {
	out := make(crashModel, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func (m crashModel) apply(op Operation) {
	switch {
	case op.Upsert != nil:
		for _, p := range op.Upsert.Points {
			m[p.ID] = &modelPoint{vectors: p.Vectors, multi: p.Multi, sparse: p.Sparse, payload: p.Payload}
		}
	case op.Delete != nil && op.Delete.IDs != nil:
		for _, id := range op.Delete.IDs {
			delete(m, id)
		}
	case op.Delete != nil:
		for id, p := range m {
			if op.Delete.Filter.Matches(modelView{id, p}) {
				delete(m, id)
			}
		}
	case op.SetPayload != nil:
		for id, p := range m {
			if op.SetPayload.Selector.Filter.Matches(modelView{id, p}) {
				m[id] = &modelPoint{vectors: p.vectors, multi: p.multi, sparse: p.sparse, payload: payload.Merge(p.payload, op.SetPayload.Payload)}
			}
		}
	}
}

// equalTo reports the first difference between the DB and the model.
func (m crashModel) diff(db *DB) error {
	res, err := db.Scroll(bg, crashColl, &ScrollRequest{Limit: 100000, WithPayload: AllPayload, WithVectors: AllVectors})
	if err != nil {
		return err
	}
	if len(res.Points) != len(m) {
		return fmt.Errorf("%d points, model has %d", len(res.Points), len(m))
	}
	for _, r := range res.Points {
		p, ok := m[r.ID]
		if !ok {
			return fmt.Errorf("point %s not in the model", r.ID)
		}
		if !payload.Equal(normPayload(p.payload), r.Payload) {
			return fmt.Errorf("point %s: payload %v, model %v", r.ID, r.Payload, p.payload)
		}
		if !slices.Equal(p.vectors[""], r.Vectors[""]) {
			return fmt.Errorf("point %s: vector differs", r.ID)
		}
		if !slices.EqualFunc(p.multi["m"], r.Multi["m"], slices.Equal) {
			return fmt.Errorf("point %s: multivector %v, model %v", r.ID, r.Multi["m"], p.multi["m"])
		}
		want, ok := p.sparse["s"]
		got, has := r.Sparse["s"]
		if ok != has {
			return fmt.Errorf("point %s: sparse vector present %v, model %v", r.ID, has, ok)
		}
		if want = sparseSorted(want); !slices.Equal(want.Indices, got.Indices) || !slices.Equal(want.Values, got.Values) {
			return fmt.Errorf("point %s: sparse vector %v, model %v", r.ID, got, want)
		}
	}
	// An exact search reads the segments' rows (mapped ones too): its
	// scores are the model's.
	q := []float32{1, -1, 0.5, 0, 2, -0.5, 1, 1}
	hits, err := db.Search(bg, crashColl, &SearchRequest{Vector: q, Limit: 10, Exact: true})
	if err != nil {
		return err
	}
	var want []float32
	for _, p := range m {
		if v, ok := p.vectors[""]; ok {
			want = append(want, distance.Dot.Score(distance.Dot.Distance(q, v)))
		}
	}
	slices.SortFunc(want, func(a, b float32) int { return cmp.Compare(b, a) })
	want = want[:min(10, len(want))]
	if len(hits) != len(want) {
		return fmt.Errorf("exact search: %d hits, model has %d", len(hits), len(want))
	}
	for i, h := range hits {
		if d := float64(h.Score) - float64(want[i]); d > 1e-4 || d < -1e-4 {
			return fmt.Errorf("exact search: hit %d scores %v, model %v", i, h.Score, want[i])
		}
	}
	if crashOnDisk {
		// A search on the quantised codes, rescored: every hit is a point
		// of the model with its exact score.
		yes := true
		hits, err := db.Search(bg, crashColl, &SearchRequest{Vector: q, Limit: 10, Quant: QuantParams{Rescore: &yes, Oversampling: 3}})
		if err != nil {
			return err
		}
		if len(hits) != len(want) {
			return fmt.Errorf("quantised search: %d hits, model has %d", len(hits), len(want))
		}
		for i, h := range hits {
			p, ok := m[h.ID]
			v, has := []float32(nil), false
			if ok {
				v, has = p.vectors[""]
			}
			if !has {
				return fmt.Errorf("quantised search: hit %d is %s, not in the model", i, h.ID)
			}
			if d := float64(h.Score) - float64(distance.Dot.Score(distance.Dot.Distance(q, v))); d > 1e-4 || d < -1e-4 {
				return fmt.Errorf("quantised search: hit %d (%s) scores %v, model %v", i, h.ID, h.Score, v)
			}
		}
	}
	return nil
}

func crashOptions() *Options {
	return &Options{IndexingWorkers: 2, SealDelay: 5 * time.Millisecond, OptimizerInterval: 2 * time.Millisecond}
}

// TestCrashChild is the child process; it does nothing in a normal run.
func TestCrashChild(t *testing.T) {
	dir := os.Getenv("QLITE_CRASH_DIR")
	if dir == "" {
		t.Skip("child process of TestCrash")
	}
	seed, _ := strconv.ParseUint(os.Getenv("QLITE_CRASH_SEED"), 10, 64)
	db, err := Open(dir, crashOptions())
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	if ok, _ := db.CollectionExists(bg, crashColl); !ok {
		createCrashColl(nil, db)
	}
	snaps := [3]string{1: os.Getenv("QLITE_CRASH_SNAP"), 2: os.Getenv("QLITE_CRASH_FULL")}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	w.Flush()
	for n := 0; ; n++ {
		op, restore := crashStep(seed, n)
		var err error
		switch restore {
		case 1:
			fmt.Fprintln(w, "restore", n)
			w.Flush()
			err = db.RecoverSnapshot(bg, snaps[1], crashColl)
		case 2:
			fmt.Fprintln(w, "restore", n)
			w.Flush()
			err = db.RestoreFullSnapshot(bg, snaps[2], true)
		default:
			_, err = db.BatchUpdate(bg, crashColl, []Operation{op}, &WriteOptions{Wait: true})
		}
		if err != nil {
			fmt.Fprintln(w, "error", err)
			w.Flush()
			os.Exit(2)
		}
		fmt.Fprintln(w, "ack", n)
		w.Flush()
	}
}

func TestCrash(t *testing.T) {
	kills := 50
	if testing.Short() {
		kills = 10
	}
	runCrash(t, kills)
}

// TestCrashOnDisk is TestCrash with the dense vector on disk.
func TestCrashOnDisk(t *testing.T) {
	kills := 20
	if testing.Short() {
		kills = 5
	}
	crashOnDisk = true
	t.Cleanup(func() { crashOnDisk = false })
	runCrash(t, kills)
}

func runCrash(t *testing.T, kills int) {
	if s := os.Getenv("QLITE_CRASH_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	snaps, snapModels := crashSnapshots(t, t.TempDir())
	model := crashModel{}
	// apply applies step n of the stream seeded by seed to m.
	apply := func(m crashModel, seed uint64, n int) crashModel {
		op, restore := crashStep(seed, n)
		if restore != 0 {
			return snapModels[restore].clone()
		}
		m.apply(op)
		return m
	}
	rng := rand.New(rand.NewPCG(42, 42))
	inFlightApplied, restores, killedInRestore, sawFiles, made := 0, 0, 0, 0, 0
	// On disk, the test is only worth its name if some kill landed after a
	// seal wrote segment files; a slow (loaded, race-instrumented) child may
	// not reach one in the planned kills, so kills go on, each later (up to
	// 5 s after the start), until one does.
	for k := 0; k < kills || (crashOnDisk && sawFiles == 0 && k < 3*kills); k++ {
		seed := uint64(1000 + k)
		made++
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "QLITE_CRASH_DIR="+dir, "QLITE_CRASH_SEED="+strconv.FormatUint(seed, 10),
			"QLITE_CRASH_SNAP="+snaps[1], "QLITE_CRASH_FULL="+snaps[2], "QLITE_CRASH_ONDISK="+map[bool]string{true: "1"}[crashOnDisk])
		out, err := cmd.StdoutPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := make(chan string, 1<<16)
		go func() {
			sc := bufio.NewScanner(out)
			for sc.Scan() {
				lines <- sc.Text()
			}
			close(lines)
		}()
		select {
		case l := <-lines:
			require.Equal(t, "ready", l, "child %d", k)
		case <-time.After(30 * time.Second):
			t.Fatalf("child %d did not start", k)
		}
		wait := time.Duration(5+rng.IntN(150)) * time.Millisecond
		if k >= kills {
			wait = min(time.Duration(k-kills+1)*250*time.Millisecond, 5*time.Second)
		}
		time.Sleep(wait)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		acked, inRestore := 0, false
		for l := range lines {
			if n, ok := strings.CutPrefix(l, "ack "); ok {
				v, _ := strconv.Atoi(n)
				require.Equal(t, acked, v)
				acked++
				inRestore = false
			} else if n, ok := strings.CutPrefix(l, "restore "); ok {
				v, _ := strconv.Atoi(n)
				require.Equal(t, acked, v)
				restores++
				inRestore = true
			} else {
				t.Fatalf("child %d: %s", k, l)
			}
		}
		if inRestore {
			killedInRestore++
		}
		for n := range acked {
			model = apply(model, seed, n)
		}
		if files, _ := filepath.Glob(filepath.Join(dir, segFileDir, "*", "*")); len(files) > 0 {
			sawFiles++
		}
		db, err := Open(dir, &Options{DisableOptimizer: true})
		require.NoError(t, err, "reopen after kill %d", k)
		require.NoError(t, db.CheckInvariants(), "kill %d", k)
		colls, err := db.ListCollections(bg)
		require.NoError(t, err)
		require.Equal(t, []string{crashColl}, colls, "kill %d: nothing of a restore is left", k)
		aliases, err := db.ListAliases(bg, "")
		require.NoError(t, err)
		require.Equal(t, []AliasDesc{{Alias: crashAlias, Collection: crashColl}}, aliases, "kill %d", k)
		if err := model.diff(db); err != nil {
			// The step in flight may have been committed without its ack
			// reaching us.
			next := apply(model.clone(), seed, acked)
			if err2 := next.diff(db); err2 != nil {
				t.Fatalf("kill %d after %d acks: %v (and with the step in flight applied: %v)", k, acked, err, err2)
			}
			model = next
			inFlightApplied++
		}
		require.NoError(t, db.Close())
	}
	if crashOnDisk {
		require.Positive(t, sawFiles, "no reopen found a segment file")
		t.Logf("%d of %d reopens found segment files", sawFiles, made)
	}
	t.Logf("%d kills survived, %d of them during a snapshot restore (%d restores); %d points at the end, step in flight found applied %d times",
		made, killedInRestore, restores, len(model), inFlightApplied)
}
