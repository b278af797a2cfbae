package main

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
)

func TestServeSnapshotFlags(t *testing.T) {
	f := func(args []string, want string) {
		t.Helper()
		fl := serveFlags{snapshots: args}
		o, err := fl.recoverOptions()
		if want == "" {
			if err == nil {
				t.Fatalf("%q: no error", args)
			}
			return
		}
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		var got []string
		for _, m := range o.Collections {
			got = append(got, m.Path+"|"+m.Collection)
		}
		if g := strings.Join(got, ","); g != want {
			t.Fatalf("%q: got %s, want %s", args, g, want)
		}
	}
	f([]string{"/a/b.snapshot:c"}, "/a/b.snapshot|c")
	f([]string{"C:/x.snapshot:c", "y:d"}, "C:/x.snapshot|c,y|d")
	f([]string{"nocolon"}, "")
	f([]string{":c"}, "")
	f([]string{"x:"}, "")
}

// cancelOnWrite cancels a context when the server reports that it serves.
type cancelOnWrite struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	cancel context.CancelFunc
}

func (w *cancelOnWrite) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), "serving") {
		w.cancel()
	}
	return len(p), nil
}

// serveOnce runs qlite serve with args until it serves (so the snapshots
// are restored), then stops it.
func serveOnce(t *testing.T, args ...string) error {
	t.Helper()
	cmd := newRootCmd()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	cmd.SetOut(w)
	cmd.SetErr(w)
	cmd.SetArgs(append([]string{"serve", "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0"}, args...))
	return cmd.ExecuteContext(ctx)
}

func TestServeRecoversFullSnapshot(t *testing.T) {
	ctx := context.Background()
	src, err := engine.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	cc := &engine.CreateCollection{Vectors: engine.VectorsConfig{"": {Size: 2, Distance: distance.Dot}}}
	if err := src.CreateCollection(ctx, "c", cc); err != nil {
		t.Fatal(err)
	}
	if _, err := src.Upsert(ctx, "c", &engine.UpsertOp{Points: []engine.Point{{ID: filter.NumID(1), Vectors: map[string][]float32{"": {1, 2}}}}}, &engine.WriteOptions{Wait: true}); err != nil {
		t.Fatal(err)
	}
	if err := src.UpdateAliases(ctx, []engine.AliasOp{{Create: &engine.CreateAlias{Collection: "c", Alias: "a"}}}); err != nil {
		t.Fatal(err)
	}
	d, err := src.CreateFullSnapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	full, err := src.FullSnapshotPath(ctx, d.Name)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := src.CreateSnapshot(ctx, "c")
	if err != nil {
		t.Fatal(err)
	}
	one, err := src.SnapshotPath(ctx, "c", cs.Name)
	if err != nil {
		t.Fatal(err)
	}

	dir := t.TempDir()
	if err := serveOnce(t, "--storage", dir, "--storage-snapshot", full, "--snapshot", one+":d"); err != nil {
		t.Fatal(err)
	}
	// Again without --force-snapshot: the collections exist.
	err = serveOnce(t, "--storage", dir, "--storage-snapshot", full)
	if err == nil || !strings.Contains(err.Error(), "already exists") {
		t.Fatalf("restoring over existing collections: %v", err)
	}
	if err := serveOnce(t, "--storage", dir, "--storage-snapshot", full, "-f"); err != nil {
		t.Fatal(err)
	}
	db, err := engine.Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, coll := range []string{"c", "d", "a"} {
		n, err := db.Count(ctx, coll, nil, true)
		if err != nil || n != 1 {
			t.Fatalf("%s: %d points, %v", coll, n, err)
		}
	}
}
