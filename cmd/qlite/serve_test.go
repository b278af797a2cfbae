package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"google.golang.org/protobuf/encoding/protowire"
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
	_, err := serveOutput(t, args...)
	return err
}

// serveOutput is serveOnce that also returns what the server wrote.
func serveOutput(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := newRootCmd()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	cmd.SetOut(w)
	cmd.SetErr(w)
	cmd.SetArgs(append([]string{"serve", "--host", "127.0.0.1", "--http-port", "0", "--grpc-port", "0"}, args...))
	err := cmd.ExecuteContext(ctx)
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String(), err
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

func TestParseByteSize(t *testing.T) {
	f := func(s string, want int64) {
		t.Helper()
		got, err := parseByteSize(s)
		if want < 0 {
			if err == nil {
				t.Fatalf("%q: got %d, want an error", s, got)
			}
			return
		}
		if err != nil || got != want {
			t.Fatalf("%q: got %d, %v; want %d", s, got, err, want)
		}
	}
	f("536870912", 512<<20)
	f("512MiB", 512<<20)
	f("512mib", 512<<20)
	f("2GiB", 2<<30)
	f("1.5GiB", 3<<29)
	f("64KiB", 64<<10)
	f("1TiB", 1<<40)
	f("100B", 100)
	f("500MB", 500_000_000)
	f("2gb", 2_000_000_000)
	f(" 2 GiB ", 2<<30)
	f("", -1)
	f("GiB", -1)
	f("0", -1)
	f("-1GiB", -1)
	f("0.1B", -1)
	f("1e9", -1)
	f("NaN", -1)
	f("Inf", -1)
	f("0x10", -1)
	f("2 GB/s", -1)
	f("9000PiB", -1)
	f("9000000TiB", -1)
	for _, n := range []int64{1, 1000, 512 << 20, 3 << 29, 2 << 30, 1 << 40} {
		back, err := parseByteSize(formatBytes(n))
		if err != nil || back != n {
			t.Fatalf("%d: formatted %q, parsed back %d, %v", n, formatBytes(n), back, err)
		}
	}
}

// TestServeMemoryLimit runs qlite serve with --memory-limit and checks that
// the Go runtime's limit is the one given; without the flag, the limit in
// force (GOMEMLIMIT's) is left alone, and a bad size is refused.
func TestServeMemoryLimit(t *testing.T) {
	prev := debug.SetMemoryLimit(-1)
	t.Cleanup(func() { debug.SetMemoryLimit(prev) })

	if err := serveOnce(t, "--storage", t.TempDir(), "--memory-limit", "3GiB"); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 3<<30 {
		t.Fatalf("limit after --memory-limit 3GiB: %d", got)
	}

	debug.SetMemoryLimit(700 << 20) // as GOMEMLIMIT=700MiB would at start
	if err := serveOnce(t, "--storage", t.TempDir()); err != nil {
		t.Fatal(err)
	}
	if got := debug.SetMemoryLimit(-1); got != 700<<20 {
		t.Fatalf("limit without the flag: %d, want GOMEMLIMIT's", got)
	}

	err := serveOnce(t, "--storage", t.TempDir(), "--memory-limit", "lots")
	if err == nil || !strings.Contains(err.Error(), "memory-limit") {
		t.Fatalf("--memory-limit lots: %v", err)
	}
	if got := debug.SetMemoryLimit(-1); got != 700<<20 {
		t.Fatalf("a refused flag changed the limit to %d", got)
	}
}

// TestServeLogFormat runs qlite serve with JSON logs and reads every line
// it writes back as a JSON record; the record that says where it serves
// names the addresses in its message (as scripts find them) and in fields.
func TestServeLogFormat(t *testing.T) {
	run := func(args ...string) (string, error) {
		t.Helper()
		return serveOutput(t, append([]string{"--storage", t.TempDir()}, args...)...)
	}
	out, err := run("--log-format", "json", "--log-level", "debug,segment=trace")
	if err != nil {
		t.Fatal(err)
	}
	var serving map[string]any
	lines := strings.Split(strings.TrimSpace(out), "\n")
	for _, l := range lines {
		var rec map[string]any
		if err := json.Unmarshal([]byte(l), &rec); err != nil {
			t.Fatalf("not a JSON record: %q", l)
		}
		if m, _ := rec["msg"].(string); strings.HasPrefix(m, "serving") {
			serving = rec
		}
	}
	if serving == nil {
		t.Fatalf("no serving record in %q", out)
	}
	m := regexp.MustCompile(`REST on (\S+), gRPC on (\S+) `).FindStringSubmatch(serving["msg"].(string))
	if m == nil || serving["rest"] != m[1] || serving["grpc"] != m[2] || serving["level"] != "INFO" {
		t.Fatalf("serving record %v", serving)
	}
	// The module directive is reported, at level warn.
	if !strings.Contains(lines[0], `"level":"WARN"`) || !strings.Contains(lines[0], "segment=trace") {
		t.Fatalf("first record %q", lines[0])
	}

	// Qdrant's variables set the level and format.
	t.Setenv("QDRANT__LOGGER__FORMAT", "JSON")
	out, err = run()
	if err != nil || !strings.HasPrefix(out, `{"time":`) {
		t.Fatalf("QDRANT__LOGGER__FORMAT=JSON: %v, %q", err, out)
	}
	t.Setenv("QDRANT__LOG_LEVEL", "loud")
	if _, err := run(); err == nil || !strings.Contains(err.Error(), "QDRANT__LOG_LEVEL") {
		t.Fatalf("QDRANT__LOG_LEVEL=loud: %v", err)
	}
	if _, err := run("--log-level", "info", "--log-format", "xml"); err == nil || !strings.Contains(err.Error(), "--log-format") {
		t.Fatalf("--log-format xml: %v", err)
	}
}

// TestServeLogConfig reads the logging keys from a config file in Qdrant's
// layout and from the environment: logger.log_level wins over log_level,
// the access log and probe switches are qlite's keys, and a bad level
// stops startup naming the key.
func TestServeLogConfig(t *testing.T) {
	dir := t.TempDir()
	path := writeFile(t, filepath.Join(dir, "c.yaml"), `log_level: debug
logger:
  log_level: WARN
  format: json
  access_log: false
  observe_probes: true
`)
	fl, r, err := configFlags(t, nil, dir, path, nil)
	if err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"log-level": "WARN", "log-format": "json", "access-log": "false", "observe-probes": "true"} {
		if got := flagValue(t, fl, name); got != want {
			t.Fatalf("--%s: %q, want %q", name, got, want)
		}
	}
	if len(r.ignored)+len(r.unknown) != 0 {
		t.Fatalf("reported: %v %v", r.ignored, r.unknown)
	}
	fl, _, err = configFlags(t, []string{"--log-level", "error"}, dir, path, []string{"QDRANT__LOGGER__ACCESS_LOG=true"})
	if err != nil {
		t.Fatal(err)
	}
	if flagValue(t, fl, "log-level") != "error" || flagValue(t, fl, "access-log") != "true" {
		t.Fatalf("flag and environment: --log-level %s --access-log %s", flagValue(t, fl, "log-level"), flagValue(t, fl, "access-log"))
	}
	_, _, err = configFlags(t, nil, dir, "", []string{"QDRANT__LOGGER__LOG_LEVEL=chatty"})
	if err == nil || !strings.Contains(err.Error(), "logger.log_level") {
		t.Fatalf("a bad level: %v", err)
	}
}

// --cpuprofile writes a CPU profile of the server when it stops (a gzipped
// profile.proto, as runtime/pprof writes), and a file it cannot create
// stops the server before it serves.
func TestServeCPUProfile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "cpu.pprof")
	if err := serveOnce(t, "--storage", t.TempDir(), "--cpuprofile", path); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("profile is not gzipped: %v", err)
	}
	b, err := io.ReadAll(zr)
	if err != nil || len(b) == 0 {
		t.Fatalf("profile: %d bytes, %v", len(b), err)
	}
	// A profile.proto message: valid fields, sample_type (1) among them.
	sampleTypes := 0
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			t.Fatalf("profile: bad tag: %v", protowire.ParseError(n))
		}
		m := protowire.ConsumeFieldValue(num, typ, b[n:])
		if m < 0 {
			t.Fatalf("profile: field %d: %v", num, protowire.ParseError(m))
		}
		if num == 1 && typ == protowire.BytesType {
			sampleTypes++
		}
		b = b[n+m:]
	}
	if sampleTypes == 0 {
		t.Fatal("profile has no sample_type")
	}
	out, err := serveOutput(t, "--storage", t.TempDir(), "--cpuprofile", filepath.Join(t.TempDir(), "no", "such", "dir", "cpu.pprof"))
	if err == nil || !strings.Contains(err.Error(), "--cpuprofile") || strings.Contains(out, "serving") {
		t.Fatalf("--cpuprofile in a missing directory: %v (output %q)", err, out)
	}
}
