package engine

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
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
//
// QLITE_CRASH_KILLS sets the number of kills (default 50; 10 with -short).

const crashColl = "crash"

var crashSpec = VectorParams{Size: 8, Distance: distance.Dot}

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
			m[p.ID] = &modelPoint{vectors: p.Vectors, payload: p.Payload}
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
				m[id] = &modelPoint{vectors: p.vectors, payload: payload.Merge(p.payload, op.SetPayload.Payload)}
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
		thr, vmin, maxSeg := 1, 100, 8
		del := 0.1
		err := db.CreateCollection(bg, crashColl, &CreateCollection{
			Vectors: VectorsConfig{"": crashSpec},
			Optimizers: &OptimizersConfigDiff{IndexingThreshold: &thr, VacuumMinVectorNumber: &vmin,
				DeletedThreshold: &del, MaxSegmentSize: &maxSeg},
		})
		if err != nil {
			fmt.Println("error", err)
			os.Exit(2)
		}
	}
	w := bufio.NewWriter(os.Stdout)
	fmt.Fprintln(w, "ready")
	w.Flush()
	for n := 0; ; n++ {
		if _, err := db.BatchUpdate(bg, crashColl, []Operation{crashOp(seed, n)}, &WriteOptions{Wait: true}); err != nil {
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
	if s := os.Getenv("QLITE_CRASH_KILLS"); s != "" {
		kills, _ = strconv.Atoi(s)
	}
	dir := t.TempDir()
	model := crashModel{}
	rng := rand.New(rand.NewPCG(42, 42))
	inFlightApplied := 0
	for k := range kills {
		seed := uint64(1000 + k)
		cmd := exec.Command(os.Args[0], "-test.run=^TestCrashChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "QLITE_CRASH_DIR="+dir, "QLITE_CRASH_SEED="+strconv.FormatUint(seed, 10))
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
		time.Sleep(time.Duration(5+rng.IntN(150)) * time.Millisecond)
		require.NoError(t, cmd.Process.Signal(syscall.SIGKILL))
		_ = cmd.Wait()
		acked := 0
		for l := range lines {
			if n, ok := strings.CutPrefix(l, "ack "); ok {
				v, _ := strconv.Atoi(n)
				require.Equal(t, acked, v)
				acked++
			} else {
				t.Fatalf("child %d: %s", k, l)
			}
		}
		for n := range acked {
			model.apply(crashOp(seed, n))
		}
		db, err := Open(dir, &Options{DisableOptimizer: true})
		require.NoError(t, err, "reopen after kill %d", k)
		require.NoError(t, db.CheckInvariants(), "kill %d", k)
		if err := model.diff(db); err != nil {
			// The write in flight may have been committed without its ack
			// reaching us.
			next := model.clone()
			next.apply(crashOp(seed, acked))
			if err2 := next.diff(db); err2 != nil {
				t.Fatalf("kill %d after %d acks: %v (and with the write in flight applied: %v)", k, acked, err, err2)
			}
			model = next
			inFlightApplied++
		}
		require.NoError(t, db.Close())
	}
	t.Logf("%d kills, %d points at the end, in-flight write found applied %d times", kills, len(model), inFlightApplied)
}
