package compat

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"mime/multipart"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	"github.com/qlite/qlite/engine"
)

// The hostile-input run sends mutated requests to every REST operation of
// Qdrant's API (restOperations) and every method of its four gRPC services
// (from go-client's descriptors) on a qlite server in a child process, and
// counts the answers per route family. Every case is made from the seed, so
// a failure is reproduced by running again with the same seed.
//
// No input may make the server answer 5xx (REST) or Unknown, Internal or
// DataLoss (gRPC), or crash it; afterwards the server must still serve, and
// the store must reopen cleanly once the server has stopped. The peak
// resident memory of the server during the run (VmHWM) is compared with
// its memory when idle after setup.
//
// Knobs: QLITE_HOSTILE_N cases per route and method (default 40);
// QLITE_HOSTILE_SEED (default 1); QLITE_HOSTILE_ONLY a regular expression
// the routes ("PUT /collections/{collection_name}", "GRPC Points/Upsert")
// must match, QLITE_HOSTILE_SKIP one they must not match;
// QLITE_HOSTILE_TRACE=1 prints every case with the server's memory;
// QLITE_HOSTILE_REPORT a file to write the tally to as JSON;
// QLITE_HOSTILE_TARGET "httpaddr,grpcaddr" to send the cases to a running
// server (a real Qdrant, to see its answers) instead of a child; no memory
// or reopen check is made then, and 5xx answers are counted, not failed.

// hostileRound is how many cases of a route run in a row.
const hostileRound = 10

// hostileTrace prints every case with the server's memory after it
// (QLITE_HOSTILE_TRACE=1).
var hostileTrace = os.Getenv("QLITE_HOSTILE_TRACE") != ""

// hostileChildEnv names the store directory of the child server.
const hostileChildEnv = "QLITE_HOSTILE_CHILD"

// TestHostileChild is the server process of TestHostileInputs; it does
// nothing in a normal run.
func TestHostileChild(t *testing.T) {
	dir := os.Getenv(hostileChildEnv)
	if dir == "" {
		t.Skip("child process of TestHostileInputs")
	}
	db, err := engine.Open(dir, nil)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	srv := NewServer(db, &ServerConfig{HTTPAddr: "127.0.0.1:0", GRPCAddr: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	h, g, err := srv.Addrs(ctx)
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Printf("listening %s %s\n", h, g)
	// Serve until the parent closes stdin.
	io.Copy(io.Discard, os.Stdin)
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	heap := ms.HeapInuse
	runtime.GC()
	runtime.ReadMemStats(&ms)
	fmt.Printf("memstats heap in use %d kB, live after GC %d kB, from the OS %d kB, GC cycles %d\n", heap>>10, ms.HeapAlloc>>10, ms.Sys>>10, ms.NumGC)
	cancel()
	err = errors.Join(<-done, db.Close())
	if err != nil {
		fmt.Println("error", err)
		os.Exit(2)
	}
	fmt.Println("closed")
	os.Exit(0)
}

// hostileTally counts the answers of one route or method.
type hostileTally struct {
	Family string `json:"family"`
	Route  string `json:"route"`
	Cases  int    `json:"cases"`
	OK     int    `json:"2xx"`
	Client int    `json:"4xx"`
	Server int    `json:"5xx"`
	// AsQdrant counts the server errors that are Qdrant's own answer to
	// the same input: Internal for a message that is not valid protobuf,
	// 500 from /cluster/recover on a standalone node.
	AsQdrant int `json:"5xx_as_qdrant"`
	Crashes  int `json:"crashes"`
	// PeakKB is the server's peak resident memory while the route ran.
	PeakKB int64 `json:"peak_kb,omitempty"`
	// Examples are the first few requests answered with a server error.
	Examples []string `json:"examples,omitempty"`
}

func (t *hostileTally) add(o hostileTally) {
	t.Cases += o.Cases
	t.OK += o.OK
	t.Client += o.Client
	t.Server += o.Server
	t.AsQdrant += o.AsQdrant
	t.Crashes += o.Crashes
	t.PeakKB = max(t.PeakKB, o.PeakKB)
}

// hostileReport is what QLITE_HOSTILE_REPORT receives.
type hostileReport struct {
	Seed     uint64         `json:"seed"`
	PerRoute int            `json:"cases_per_route"`
	Families []hostileTally `json:"families"`
	Routes   []hostileTally `json:"routes"`
	// IdleKB and PeakKB are the server's resident memory after setup and
	// its peak during the run (0 when not measured).
	IdleKB int64 `json:"idle_kb"`
	PeakKB int64 `json:"peak_kb"`
}

// hostileServer is the server under test.
type hostileServer struct {
	http    string
	grpc    string
	conn    *grpc.ClientConn
	client  *http.Client
	cmd     *exec.Cmd
	stdin   io.WriteCloser
	done    chan struct{} // closed when the child has exited
	waitErr error         // the child's exit, once done is closed
	stderr  *bytes.Buffer
}

// alive reports whether the child server still runs (always true for a
// target server).
func (s *hostileServer) alive() bool {
	if s.cmd == nil {
		return true
	}
	select {
	case <-s.done:
		return false
	case <-time.After(100 * time.Millisecond):
		return true
	}
}

func startHostileChild(t *testing.T, dir string) *hostileServer {
	cmd := exec.Command(os.Args[0], "-test.run=^TestHostileChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), hostileChildEnv+"="+dir)
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	stdin, err := cmd.StdinPipe()
	require.NoError(t, err)
	s := &hostileServer{cmd: cmd, stdin: stdin, done: make(chan struct{}), stderr: &bytes.Buffer{}}
	cmd.Stderr = s.stderr
	require.NoError(t, cmd.Start())
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	go func() {
		s.waitErr = cmd.Wait()
		close(s.done)
	}()
	select {
	case l := <-lines:
		f := strings.Fields(l)
		require.True(t, len(f) == 3 && f[0] == "listening", "child: %s %s", l, s.stderr)
		s.http, s.grpc = f[1], f[2]
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		t.Fatalf("the child server did not start: %s", s.stderr)
	}
	go func() {
		for l := range lines {
			if strings.HasPrefix(l, "error") || strings.HasPrefix(l, "memstats") {
				fmt.Fprintln(os.Stderr, "hostile child:", l)
			}
		}
	}()
	return s
}

// traceStart resets the child's peak memory before a traced case, so that
// the peak printed after it is the case's.
func (s *hostileServer) traceStart() {
	if hostileTrace && s.cmd != nil {
		os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", s.cmd.Process.Pid), []byte("5"), 0)
	}
}

// stop closes the child's stdin and waits for a clean exit.
func (s *hostileServer) stop(t *testing.T) {
	s.stdin.Close()
	select {
	case <-s.done:
		require.NoError(t, s.waitErr, "child exit: %s", s.stderr)
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		t.Fatalf("the child server did not stop: %s", s.stderr)
	}
}

// procStatusKB returns a field of /proc/PID/status in kB, or 0.
func procStatusKB(pid int, field string) int64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			n, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return n
		}
	}
	return 0
}

func TestHostileInputs(t *testing.T) {
	perRoute := 40
	if v := os.Getenv("QLITE_HOSTILE_N"); v != "" {
		n, err := strconv.Atoi(v)
		require.NoError(t, err, "QLITE_HOSTILE_N")
		perRoute = n
	}
	seed := uint64(1)
	if v := os.Getenv("QLITE_HOSTILE_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		require.NoError(t, err, "QLITE_HOSTILE_SEED")
		seed = n
	}
	var s *hostileServer
	dir := t.TempDir()
	target := os.Getenv("QLITE_HOSTILE_TARGET")
	if target != "" {
		h, g, ok := strings.Cut(target, ",")
		require.True(t, ok, "QLITE_HOSTILE_TARGET is httpaddr,grpcaddr")
		s = &hostileServer{http: h, grpc: g}
	} else {
		s = startHostileChild(t, dir)
		defer func() {
			if s.alive() {
				s.cmd.Process.Kill()
			}
		}()
	}
	s.client = &http.Client{Timeout: 60 * time.Second}
	conn, err := grpc.NewClient(s.grpc, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	s.conn = conn

	fx := hostileSetup(t, s)
	var rep hostileReport
	rep.Seed, rep.PerRoute = seed, perRoute
	if s.cmd != nil && runtime.GOOS == "linux" {
		rep.IdleKB = procStatusKB(s.cmd.Process.Pid, "VmRSS")
	}
	// peak returns the server's peak resident memory since the last call
	// and resets it (Linux only; 0 elsewhere).
	peak := func() int64 {
		if s.cmd == nil || runtime.GOOS != "linux" {
			return 0
		}
		pid := s.cmd.Process.Pid
		kb := procStatusKB(pid, "VmHWM")
		os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
		return kb
	}
	peak()

	only := regexp.MustCompile(os.Getenv("QLITE_HOSTILE_ONLY"))
	skip := regexp.MustCompile("^$")
	if v := os.Getenv("QLITE_HOSTILE_SKIP"); v != "" {
		skip = regexp.MustCompile(v)
	}
	// Each route runs its cases in rounds of hostileRound, the routes of
	// REST and gRPC mixed in an order drawn anew each round, so that what
	// one protocol writes the other reads back.
	type route struct {
		tl  *hostileTally
		run func(n int) hostileTally
	}
	var routes []*route
	for i, op := range restOperations {
		if !only.MatchString(op.method+" "+op.path) || skip.MatchString(op.method+" "+op.path) {
			continue
		}
		rng := rand.New(rand.NewPCG(seed, uint64(i)))
		routes = append(routes, &route{
			tl:  &hostileTally{Family: hostileFamily(op.path), Route: op.method + " " + op.path},
			run: func(n int) hostileTally { return hostileREST(t, s, fx, rng, op.method, op.path, n) },
		})
	}
	for i, m := range hostileMethods(t) {
		name := string(m.Parent().Name()) + "/" + string(m.Name())
		if !only.MatchString("GRPC "+name) || skip.MatchString("GRPC "+name) {
			continue
		}
		rng := rand.New(rand.NewPCG(seed, uint64(1000+i)))
		routes = append(routes, &route{
			tl:  &hostileTally{Family: "grpc " + string(m.Parent().Name()), Route: "GRPC " + name},
			run: func(n int) hostileTally { return hostileGRPC(t, s, fx, rng, m, n) },
		})
	}
	readBack := &hostileTally{Family: "rest points", Route: "read back (scroll, query)"}
	order := rand.New(rand.NewPCG(seed, 1<<40))
	start := time.Now()
rounds:
	for done := 0; done < perRoute; done += hostileRound {
		n := min(hostileRound, perRoute-done)
		order.Shuffle(len(routes), func(i, j int) { routes[i], routes[j] = routes[j], routes[i] })
		for _, r := range routes {
			tl := r.run(n)
			tl.PeakKB = peak()
			rep.PeakKB = max(rep.PeakKB, tl.PeakKB)
			r.tl.add(tl)
			if len(r.tl.Examples) < 5 {
				r.tl.Examples = append(r.tl.Examples, tl.Examples[:min(len(tl.Examples), 5-len(r.tl.Examples))]...)
			}
			if tl.Crashes > 0 {
				break rounds
			}
			// What the cases wrote reads back.
			for _, body := range []string{`{"limit": 100, "with_vector": true, "with_payload": true}`, `{"limit": 100, "with_vector": true, "with_payload": true, "query": {"sample": "random"}}`} {
				for _, c := range []string{"c", "m"} {
					path := "/collections/" + c + "/points/scroll"
					if strings.Contains(body, "query") {
						path = "/collections/" + c + "/points/query"
					}
					code, resp := s.rest(t, "POST", path, "application/json", body)
					readBack.Cases++
					switch {
					case code == 0 && !s.alive():
						readBack.Crashes++
					case code >= 500 || code == 0:
						readBack.Server++
						if len(readBack.Examples) < 5 {
							readBack.Examples = append(readBack.Examples, hostileShow(fmt.Sprintf("%d POST %s after %s", code, path, r.tl.Route), body, resp))
						}
					case code >= 400:
						readBack.Client++
					default:
						readBack.OK++
					}
				}
			}
			fx.ensure(t, s)
		}
	}
	for _, r := range routes {
		rep.Routes = append(rep.Routes, *r.tl)
	}
	rep.Routes = append(rep.Routes, *readBack)
	elapsed := time.Since(start)

	// Tally per family.
	fam := map[string]*hostileTally{}
	var families []string
	for _, r := range rep.Routes {
		f := fam[r.Family]
		if f == nil {
			f = &hostileTally{Family: r.Family}
			fam[r.Family] = f
			families = append(families, r.Family)
		}
		f.add(r)
	}
	sort.Strings(families)
	var sb strings.Builder
	total := hostileTally{Family: "all"}
	fmt.Fprintf(&sb, "%-18s %6s %6s %6s %6s %11s %7s %8s\n", "family", "cases", "2xx", "4xx", "5xx", "as Qdrant", "crashes", "peak kB")
	for _, name := range families {
		f := fam[name]
		rep.Families = append(rep.Families, *f)
		total.add(*f)
		fmt.Fprintf(&sb, "%-18s %6d %6d %6d %6d %11d %7d %8d\n", name, f.Cases, f.OK, f.Client, f.Server, f.AsQdrant, f.Crashes, f.PeakKB)
	}
	fmt.Fprintf(&sb, "%-18s %6d %6d %6d %6d %11d %7d %8d", "all", total.Cases, total.OK, total.Client, total.Server, total.AsQdrant, total.Crashes, total.PeakKB)
	t.Logf("hostile inputs, seed %d, %d per route, %s:\n%s", seed, perRoute, elapsed.Round(time.Millisecond), sb.String())
	if rep.IdleKB > 0 {
		t.Logf("server memory: idle %d kB after setup, peak %d kB during the run (%.2fx)", rep.IdleKB, rep.PeakKB, float64(rep.PeakKB)/float64(rep.IdleKB))
	}
	if path := os.Getenv("QLITE_HOSTILE_REPORT"); path != "" {
		b, _ := json.MarshalIndent(rep, "", "  ")
		require.NoError(t, os.WriteFile(path, b, 0o644))
	}

	for _, r := range rep.Routes {
		if r.Crashes > 0 {
			t.Errorf("%s: the server crashed: %s\n%s", r.Route, strings.Join(r.Examples, "\n  "), lastLines(s.stderr, 40))
		} else if n := r.Server - r.AsQdrant; n > 0 && target == "" {
			t.Errorf("%s: %d of %d cases answered with a server error:\n  %s", r.Route, n, r.Cases, strings.Join(r.Examples, "\n  "))
		}
	}
	if target != "" || t.Failed() {
		return
	}
	// The server still serves, stops cleanly, and the store reopens.
	code, body := s.rest(t, "GET", "/collections/c", "", "")
	require.Equal(t, 200, code, "%s", body)
	_, err = hostileInvoke(s.conn, "/qdrant.Qdrant/HealthCheck", mustMsg(t, "qdrant.HealthCheckRequest", `{}`))
	require.NoError(t, err)
	s.stop(t)
	// A panic that net/http recovered from is still a crash of a request.
	require.NotContains(t, s.stderr.String(), "panic", "the server's log:\n%s", lastLines(s.stderr, 60))
	db, err := engine.Open(dir, nil)
	require.NoError(t, err, "reopening the store")
	require.NoError(t, db.CheckInvariants())
	require.NoError(t, db.Close())
}

// lastLines returns the last n lines of b.
func lastLines(b *bytes.Buffer, n int) string {
	if b == nil {
		return ""
	}
	l := strings.Split(b.String(), "\n")
	if len(l) > n {
		l = l[len(l)-n:]
	}
	return strings.Join(l, "\n")
}

// rest sends one request and returns the status (0 when the connection
// failed) and the body, or the transport error.
func (s *hostileServer) rest(t *testing.T, method, path, contentType, body string) (int, string) {
	t.Helper()
	return s.restWith(t, method, path, contentType, body, nil)
}

// restWith is rest with more request headers.
func (s *hostileServer) restWith(t *testing.T, method, path, contentType, body string, header map[string]string) (int, string) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, "http://"+s.http+path, rd)
	if err != nil {
		return -1, err.Error()
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(b)
}

// hostileAsQdrant reports whether a REST server error is Qdrant's own
// answer to the same input: recovering the peer of a node without
// distributed mode, and recovering a snapshot from a URL that cannot be
// fetched (500 "Service internal error: Http request error: ...").
func hostileAsQdrant(route, resp string) bool {
	return route == "POST /cluster/recover" ||
		strings.HasSuffix(route, "/snapshots/recover") && strings.Contains(resp, `"Service internal error: Http request error: `)
}

// hostileFixture is what the cases refer to: collections, an alias,
// snapshots, points and indexed fields.
type hostileFixture struct {
	snapshot, fullSnapshot string
}

// The fixture collections. A small max_segment_size keeps the appendable
// segments the engine sizes from it small, so that the memory measured is
// that of the requests.
const (
	hostileCollC = `{"vectors": {"size": 4, "distance": "Dot"}, "optimizers_config": {"max_segment_size": 1000}}`
	hostileCollM = `{"vectors": {"a": {"size": 4, "distance": "Cosine"}, "b": {"size": 2, "distance": "Euclid"}}, "optimizers_config": {"max_segment_size": 1000}}`
)

func hostilePoints(named bool) string {
	var sb strings.Builder
	sb.WriteString(`{"points": [`)
	colors := []string{"red", "blue", "green"}
	for i := 1; i <= 30; i++ {
		if i > 1 {
			sb.WriteString(",")
		}
		vec := fmt.Sprintf("[%d, %d, %d, %d]", i%5, i%3, i%7, 1)
		if named {
			vec = fmt.Sprintf(`{"a": %s, "b": [%d, %d]}`, vec, i%4, i%6)
		}
		fmt.Fprintf(&sb, `{"id": %d, "vector": %s, "payload": {"n": %d, "f": %g, "color": %q, "tags": ["t%d", "u"], `+
			`"obj": {"k": %d, "arr": [{"x": %d}]}, "geo": {"lon": %d.5, "lat": %d.25}, "ts": "2024-01-%02dT00:00:00Z", "text": "hello world %d", "ok": %t}}`,
			i, vec, i, float64(i)/3, colors[i%3], i%4, i%5, i, i%90, i%45, i%28+1, i, i%2 == 0)
	}
	fmt.Fprintf(&sb, `, {"id": "550e8400-e29b-41d4-a716-446655440000", "vector": %s}]}`, map[bool]string{false: "[1, 1, 1, 1]", true: `{"a": [1, 1, 1, 1]}`}[named])
	return sb.String()
}

var hostileIndexes = []string{
	`{"field_name": "n", "field_schema": "integer"}`,
	`{"field_name": "f", "field_schema": "float"}`,
	`{"field_name": "color", "field_schema": "keyword"}`,
	`{"field_name": "geo", "field_schema": "geo"}`,
	`{"field_name": "ts", "field_schema": "datetime"}`,
	`{"field_name": "ok", "field_schema": "bool"}`,
	`{"field_name": "text", "field_schema": {"type": "text", "tokenizer": "word", "lowercase": true}}`,
	`{"field_name": "obj.arr[].x", "field_schema": "integer"}`,
}

func hostileSetup(t *testing.T, s *hostileServer) *hostileFixture {
	fx := &hostileFixture{}
	fx.ensure(t, s)
	code, body := s.rest(t, "POST", "/collections/c/snapshots?wait=true", "", "")
	require.Equal(t, 200, code, body)
	var snap struct {
		Result struct{ Name string } `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &snap), body)
	fx.snapshot = snap.Result.Name
	code, body = s.rest(t, "POST", "/snapshots?wait=true", "", "")
	require.Equal(t, 200, code, body)
	require.NoError(t, json.Unmarshal([]byte(body), &snap), body)
	fx.fullSnapshot = snap.Result.Name
	return fx
}

// ensure puts the fixture back where cases changed it: both collections
// with their vectors, points and indexes, and the alias; collections that
// cases created are deleted, so that the store does not grow.
func (fx *hostileFixture) ensure(t *testing.T, s *hostileServer) {
	t.Helper()
	for _, c := range []struct{ name, cfg string }{{"c", hostileCollC}, {"m", hostileCollM}} {
		code, body := s.rest(t, "GET", "/collections/"+c.name, "", "")
		if code == 0 {
			return // a crash, reported by the caller
		}
		if code == 200 && (c.name == "c" && !strings.Contains(body, `"size":4,"distance":"Dot"`) ||
			c.name == "m" && !strings.Contains(body, `"b":{"size":2,"distance":"Euclid"`)) {
			s.rest(t, "DELETE", "/collections/"+c.name, "", "")
			code = 404
		}
		for attempt := 0; ; attempt++ {
			if code == 404 {
				code, body = s.rest(t, "PUT", "/collections/"+c.name, "application/json", c.cfg)
				require.Equal(t, 200, code, "%s", body)
			}
			if strings.Count(body, `"data_type"`) < len(hostileIndexes) {
				for _, ix := range hostileIndexes {
					s.rest(t, "PUT", "/collections/"+c.name+"/index?wait=true", "application/json", ix)
				}
			}
			_, cnt := s.rest(t, "POST", "/collections/"+c.name+"/points/count", "application/json", `{"exact": true}`)
			if strings.Contains(cnt, `"count":31}`) {
				break
			}
			code, body = s.rest(t, "PUT", "/collections/"+c.name+"/points?wait=true", "application/json", hostilePoints(c.name == "m"))
			if code == 200 {
				break
			}
			// A case changed the collection so that the points do not
			// go in (a strict mode limit, say): start it anew.
			require.Zero(t, attempt, "%s", body)
			s.rest(t, "DELETE", "/collections/"+c.name, "", "")
			code = 404
		}
	}
	s.rest(t, "POST", "/collections/aliases", "application/json",
		`{"actions": [{"create_alias": {"collection_name": "c", "alias_name": "al"}}]}`)
	code, body := s.rest(t, "GET", "/collections", "", "")
	if code != 200 {
		return
	}
	var list struct {
		Result struct {
			Collections []struct{ Name string } `json:"collections"`
		} `json:"result"`
	}
	json.Unmarshal([]byte(body), &list)
	for _, c := range list.Result.Collections {
		if c.Name != "c" && c.Name != "m" {
			s.rest(t, "DELETE", "/collections/"+escapePath(c.Name), "", "")
		}
	}
}

func escapePath(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); i++ {
		b := s[i]
		if b >= 'a' && b <= 'z' || b >= 'A' && b <= 'Z' || b >= '0' && b <= '9' || b == '-' || b == '_' || b == '.' {
			sb.WriteByte(b)
		} else {
			fmt.Fprintf(&sb, "%%%02X", b)
		}
	}
	return sb.String()
}

// hostileFamily names the family of a REST route.
func hostileFamily(path string) string {
	switch {
	case strings.Contains(path, "snapshot"):
		return "rest snapshots"
	case strings.HasPrefix(path, "/cluster") || strings.HasSuffix(path, "/cluster") || strings.Contains(path, "/shards"):
		return "rest cluster"
	case strings.Contains(path, "/search") || strings.Contains(path, "/recommend") || strings.Contains(path, "/discover") ||
		strings.Contains(path, "/query"):
		return "rest search"
	case strings.Contains(path, "/points") || strings.HasSuffix(path, "/facet"):
		return "rest points"
	case strings.HasPrefix(path, "/collections") || path == "/aliases":
		return "rest collections"
	}
	return "rest service"
}

// hostileRESTTemplates are valid bodies of the operations that take one,
// by "METHOD path"; the cases mutate them.
var hostileRESTTemplates = map[string][]string{
	"PUT /collections/{collection_name}": {
		`{"vectors": {"size": 4, "distance": "Dot"}, "hnsw_config": {"m": 8, "ef_construct": 50}, "optimizers_config": {"indexing_threshold": 1000}, "on_disk_payload": true}`,
		`{"vectors": {"a": {"size": 3, "distance": "Manhattan", "on_disk": true}}, "sparse_vectors": {"s": {}}, "quantization_config": {"scalar": {"type": "int8", "quantile": 0.99}}}`,
	},
	"PATCH /collections/{collection_name}": {
		`{"optimizers_config": {"deleted_threshold": 0.5}, "hnsw_config": {"ef_construct": 50}, "params": {"on_disk_payload": false}}`,
		`{"vectors": {"": {"on_disk": true, "hnsw_config": {"m": 8}}}, "strict_mode_config": {"enabled": false}}`,
	},
	"POST /collections/aliases": {
		`{"actions": [{"create_alias": {"collection_name": "c", "alias_name": "al2"}}, {"rename_alias": {"old_alias_name": "al2", "new_alias_name": "al3"}}, {"delete_alias": {"alias_name": "al3"}}]}`,
	},
	"PUT /collections/{collection_name}/index": hostileIndexes,
	"POST /collections/{collection_name}/cluster": {
		`{"move_shard": {"shard_id": 0, "from_peer_id": 1, "to_peer_id": 2}}`,
		`{"create_sharding_key": {"shard_key": "k"}}`,
	},
	"PUT /collections/{collection_name}/shards":         {`{"shard_key": "k", "shards_number": 1}`},
	"POST /collections/{collection_name}/shards/delete": {`{"shard_key": "k"}`},
	"PUT /collections/{collection_name}/snapshots/recover": {
		`{"location": "file:///nonexistent/x.snapshot", "priority": "snapshot"}`,
		`{"location": "{snapshot_path}", "priority": "no_sync"}`,
	},
	"PUT /collections/{collection_name}/shards/{shard_id}/snapshots/recover": {`{"location": "file:///nonexistent/x.snapshot"}`},
	"POST /collections/{collection_name}/points": {
		`{"ids": [1, 2, "550e8400-e29b-41d4-a716-446655440000"], "with_payload": ["n", "color"], "with_vector": true}`,
	},
	"PUT /collections/{collection_name}/points": {
		`{"points": [{"id": 1, "vector": [1, 2, 3, 4], "payload": {"n": 1, "color": "red"}}], "update_filter": {"must": [{"key": "n", "match": {"value": 1}}]}}`,
		`{"batch": {"ids": [2, 3], "vectors": [[1, 2, 3, 4], [4, 3, 2, 1]], "payloads": [{"n": 2}, null]}}`,
		`{"points": [{"id": 4, "vector": {"a": [1, 2, 3, 4], "b": [1, 2]}, "payload": {"n": 4}}]}`,
	},
	"POST /collections/{collection_name}/points/delete": {
		`{"points": [1000, 1001]}`,
		`{"filter": {"must": [{"key": "n", "range": {"gt": 1000}}]}}`,
	},
	"PUT /collections/{collection_name}/points/vectors": {
		`{"points": [{"id": 1, "vector": [1, 2, 3, 4]}]}`,
		`{"points": [{"id": 1, "vector": {"b": [1, 2]}}], "update_filter": {"must": [{"has_id": [1]}]}}`,
	},
	"POST /collections/{collection_name}/points/vectors/delete": {`{"points": [1000], "vector": [""]}`, `{"filter": {"must": [{"has_id": [1000]}]}, "vector": ["b"]}`},
	"POST /collections/{collection_name}/points/payload": {
		`{"payload": {"x": 1}, "points": [1], "key": "obj"}`,
		`{"payload": {"x": [1, 2]}, "filter": {"must": [{"key": "n", "match": {"any": [1, 2]}}]}}`,
	},
	"PUT /collections/{collection_name}/points/payload":         {`{"payload": {"n": 1, "color": "red"}, "points": [1]}`},
	"POST /collections/{collection_name}/points/payload/delete": {`{"keys": ["x", "obj.k"], "points": [1]}`, `{"keys": ["x"], "filter": {"must": [{"key": "n", "match": {"value": 2}}]}}`},
	"POST /collections/{collection_name}/points/payload/clear":  {`{"points": [1000]}`, `{"filter": {"must": [{"has_id": [1000]}]}}`},
	"POST /collections/{collection_name}/points/batch": {
		`{"operations": [{"upsert": {"points": [{"id": 5, "vector": [1, 2, 3, 4]}]}}, {"set_payload": {"payload": {"x": 1}, "filter": {"must": [{"has_id": [1]}]}, "key": "y"}}, {"delete_vectors": {"points": [1000], "vector": [""]}}]}`,
		`{"operations": [{"overwrite_payload": {"payload": {"n": 3}, "points": [3]}}, {"delete_payload": {"keys": ["z"], "points": [3]}}, {"clear_payload": {"points": [1000]}}, {"update_vectors": {"points": [{"id": 3, "vector": [1, 1, 1, 1]}]}}, {"delete": {"points": [1000]}}]}`,
	},
	"POST /collections/{collection_name}/points/scroll": {
		`{"limit": 3, "offset": 1, "order_by": "n", "with_payload": {"exclude": ["n"]}, "with_vector": ["a"]}`,
		`{"limit": 5, "order_by": {"key": "ts", "direction": "desc", "start_from": "2024-01-05T00:00:00Z"}, "filter": {"must": [{"key": "color", "match": {"except": ["red"]}}]}}`,
		`{"filter": {"must": [{"key": "text", "match": {"text": "hello"}}, {"key": "geo", "geo_radius": {"center": {"lon": 1, "lat": 2}, "radius": 100000}}],
		  "should": [{"key": "ts", "range": {"gte": "2024-01-02T00:00:00Z"}}, {"key": "tags", "values_count": {"gte": 1}}, {"is_empty": {"key": "zz"}}, {"is_null": {"key": "n"}}],
		  "must_not": [{"nested": {"key": "obj.arr", "filter": {"must": [{"key": "x", "match": {"value": 3}}]}}}, {"has_vector": "a"},
		    {"key": "geo", "geo_bounding_box": {"top_left": {"lon": 0, "lat": 10}, "bottom_right": {"lon": 10, "lat": 0}}},
		    {"key": "geo", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 0}]}}}],
		  "min_should": {"conditions": [{"key": "f", "range": {"lt": 5.5}}, {"key": "ok", "match": {"value": true}}], "min_count": 1}}, "limit": 4}`,
	},
	"POST /collections/{collection_name}/points/count": {`{"filter": {"must": [{"key": "color", "match": {"value": "red"}}]}, "exact": true}`},
	"POST /collections/{collection_name}/facet": {
		`{"key": "color", "limit": 2, "filter": {"must_not": [{"is_empty": {"key": "n"}}]}, "exact": true}`,
	},
	"POST /collections/{collection_name}/points/search": {
		`{"vector": [1, 2, 3, 4], "limit": 3, "offset": 1, "filter": {"should": [{"key": "color", "match": {"any": ["red"]}}]}, "with_payload": ["n"], "params": {"exact": true, "hnsw_ef": 10}, "score_threshold": 0.1}`,
		`{"vector": {"name": "b", "vector": [1, 2]}, "limit": 2, "with_vector": ["b"]}`,
	},
	"POST /collections/{collection_name}/points/search/batch": {
		`{"searches": [{"vector": [1, 2, 3, 4], "limit": 3}, {"vector": [0, 0, 0, 1], "limit": 1, "filter": {"must": [{"key": "n", "range": {"gte": 3}}]}}]}`,
	},
	"POST /collections/{collection_name}/points/search/groups": {
		`{"vector": [1, 2, 3, 4], "group_by": "color", "group_size": 2, "limit": 2, "with_lookup": "m"}`,
	},
	"POST /collections/{collection_name}/points/recommend": {
		`{"positive": [1, [1, 2, 3, 4]], "negative": [2], "limit": 3, "strategy": "best_score", "using": "", "lookup_from": {"collection": "m", "vector": "a"}}`,
	},
	"POST /collections/{collection_name}/points/recommend/batch":  {`{"searches": [{"positive": [1], "limit": 2}, {"positive": [3], "negative": [4], "strategy": "sum_scores", "limit": 1}]}`},
	"POST /collections/{collection_name}/points/recommend/groups": {`{"positive": [1], "group_by": "n", "group_size": 1, "limit": 2}`},
	"POST /collections/{collection_name}/points/discover":         {`{"target": 1, "context": [{"positive": 2, "negative": 3}], "limit": 2}`},
	"POST /collections/{collection_name}/points/discover/batch":   {`{"searches": [{"target": [1, 2, 3, 4], "context": [{"positive": 2, "negative": 3}], "limit": 2}]}`},
	"POST /collections/{collection_name}/points/query": {
		`{"query": {"recommend": {"positive": [1, [1, 2, 3, 4]], "negative": [2], "strategy": "best_score"}}, "limit": 3, "with_vector": true}`,
		`{"query": {"discover": {"target": [1, 2, 3, 4], "context": [{"positive": 1, "negative": 2}]}}, "using": "", "lookup_from": {"collection": "c"}}`,
		`{"query": {"order_by": {"key": "n", "direction": "desc", "start_from": 3}}, "filter": {"must": [{"key": "n", "range": {"gte": 1}}]}}`,
		`{"query": {"context": [{"positive": 1, "negative": 2}]}, "limit": 2, "offset": 1, "score_threshold": 0.5, "params": {"exact": true}}`,
		`{"query": [1, 2], "using": "b", "with_payload": {"include": ["n"]}}`,
		`{"prefetch": [{"query": [1, 2, 3, 4], "limit": 5}], "query": {"fusion": "rrf"}, "limit": 3}`,
		`{"query": {"sample": "random"}, "limit": 2}`,
		`{"query": "550e8400-e29b-41d4-a716-446655440000", "limit": 2}`,
	},
	"POST /collections/{collection_name}/points/query/batch": {
		`{"searches": [{"query": [1, 2, 3, 4], "limit": 2}, {"query": {"nearest": [1, 2, 3, 4]}, "filter": {"must": [{"key": "n", "range": {"gte": 1}}]}}]}`,
	},
	"POST /collections/{collection_name}/points/query/groups": {
		`{"query": [1, 2, 3, 4], "group_by": "color", "group_size": 2, "limit": 3, "with_lookup": {"collection": "c", "with_payload": true}}`,
	},
	"POST /collections/{collection_name}/points/search/matrix/pairs":   {`{"sample": 5, "limit": 2, "using": ""}`},
	"POST /collections/{collection_name}/points/search/matrix/offsets": {`{"sample": 5, "limit": 2, "filter": {"min_should": {"conditions": [{"key": "n", "range": {"lt": 5}}], "min_count": 1}}}`},
}

// hostileStrings are string values the cases put anywhere.
var hostileStrings = []string{
	"", "c", "m", "al", "nope", "a", "b", "n", "f", "color", "red", "text", "geo", "ts", "obj.arr[].x", "obj.k",
	"tags[]", "a[", "a[].", "[]", ".", "..", "../c", "a/b", "\x00", "\n", "\xff\xfe", "é", "😀",
	"random", "keyword", "integer", "float", "uuid", "asc", "desc", "rrf", "dbsf", "best_score",
	"550e8400-e29b-41d4-a716-446655440000", "00000000-0000-0000-0000-000000000000", "not-a-uuid",
	"2024-01-02T03:04:05Z", "2024-13-45", "file:///nonexistent", "file:///etc/passwd", "http://127.0.0.1:1/x",
	"x.snapshot", "-1", "1e999", "NaN", "null", "true",
}

// hostileValue returns a random JSON value.
func hostileValue(rng *rand.Rand, depth int) any {
	n := 10
	if depth > 3 {
		n = 7
	}
	switch rng.IntN(n) {
	case 0:
		return nil
	case 1:
		return rng.IntN(2) == 0
	case 2:
		return json.Number([]string{"0", "1", "2", "3", "4", "-1", "-0", "9007199254740993", "18446744073709551615",
			"18446744073709551616", "-9223372036854775808", "-9223372036854775809", "4294967296", "2147483648", "65536", "1000000000"}[rng.IntN(16)])
	case 3:
		return json.Number([]string{"0.5", "-2.25", "1e300", "-1e300", "1e-300", "3.0", "1e39", "-0.0", "1e400", "0.1"}[rng.IntN(10)])
	case 4, 5:
		if rng.IntN(20) == 0 {
			return strings.Repeat("x", 1<<rng.IntN(17))
		}
		return hostileStrings[rng.IntN(len(hostileStrings))]
	case 6:
		k := rng.IntN(6)
		if rng.IntN(20) == 0 {
			k = 1 << rng.IntN(14)
		}
		v := make([]any, k)
		for i := range v {
			v[i] = json.Number(strconv.FormatFloat(rng.Float64()*10-5, 'g', 4, 64))
		}
		return v
	case 7, 8:
		m := map[string]any{}
		for range rng.IntN(4) {
			m[restFuzzKeys[rng.IntN(len(restFuzzKeys))]] = hostileValue(rng, depth+1)
		}
		return m
	}
	a := make([]any, rng.IntN(4))
	for i := range a {
		a[i] = hostileValue(rng, depth+1)
	}
	return a
}

// hostileMutate returns a copy of v with one node replaced, removed, or
// given an unknown member, chosen at random.
func hostileMutate(rng *rand.Rand, v any) any {
	switch x := v.(type) {
	case map[string]any:
		out := make(map[string]any, len(x)+1)
		keys := make([]string, 0, len(x))
		for k, e := range x {
			out[k] = e
			keys = append(keys, k)
		}
		sort.Strings(keys)
		switch r := rng.IntN(10); {
		case len(keys) == 0 || r == 0:
			out[restFuzzKeys[rng.IntN(len(restFuzzKeys))]] = hostileValue(rng, 2)
		case r == 1:
			delete(out, keys[rng.IntN(len(keys))])
		case r == 2:
			return hostileValue(rng, 2)
		default:
			k := keys[rng.IntN(len(keys))]
			out[k] = hostileMutate(rng, x[k])
		}
		return out
	case []any:
		out := append([]any(nil), x...)
		switch r := rng.IntN(10); {
		case len(out) == 0 || r == 0:
			out = append(out, hostileValue(rng, 2))
		case r == 1:
			return []any{}
		case r == 2:
			return hostileValue(rng, 2)
		case r == 3:
			// Many copies of an element, up to some 64 KiB.
			b, _ := json.Marshal(out[0])
			for range min(1<<rng.IntN(12), 1+(64<<10)/(len(b)+1)) {
				out = append(out, out[0])
			}
		default:
			i := rng.IntN(len(out))
			out[i] = hostileMutate(rng, out[i])
		}
		return out
	}
	return hostileValue(rng, 2)
}

var hostileNumberRE = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?([eE][-+]?[0-9]+)?`)

// hostileText mutates the text of a body: truncation, bytes that are not
// UTF-8, numbers JSON cannot hold, deep nesting, nulls, duplicate keys.
func hostileText(rng *rand.Rand, body string) string {
	if body == "" {
		body = "{}"
	}
	switch rng.IntN(9) {
	case 0:
		return body[:rng.IntN(len(body))]
	case 1:
		i := rng.IntN(len(body) + 1)
		return body[:i] + []string{"\xff", "\xc3", "\xed\xa0\x80", "\x00", `\ud800`, `\u0000`}[rng.IntN(6)] + body[i:]
	case 2, 3:
		locs := hostileNumberRE.FindAllStringIndex(body, -1)
		if len(locs) == 0 {
			return body + "1"
		}
		l := locs[rng.IntN(len(locs))]
		return body[:l[0]] + []string{"1e999", "-1e999", "NaN", "Infinity", "18446744073709551616", "-9223372036854775809",
			"1.5", "-1", "0", "1e-400", "4294967296", "99999999999999999999999", "0x10", "01", "+1", "1."}[rng.IntN(16)] + body[l[1]:]
	case 4:
		d := []int{64, 600, 5000, 20000}[rng.IntN(4)]
		open, close := "[", "]"
		if rng.IntN(2) == 0 {
			open, close = `{"must": [`, "]}"
		}
		nest := strings.Repeat(open, d) + "1" + strings.Repeat(close, d)
		if i := strings.LastIndex(body, "}"); i > 0 {
			return body[:i] + `, "filter": ` + nest + body[i:]
		}
		return nest
	case 5:
		return strings.NewReplacer(`"`, `"`, "1", "null", "true", "null", "[", "[null,").Replace(body)
	case 6:
		if i := strings.Index(body, "{"); i >= 0 {
			return body[:i+1] + `"limit": 1, "limit": "x", ` + body[i+1:]
		}
	case 7:
		return []string{"", " ", "null", "[]", "{}", `""`, "0", "-1", "true", `{"":{}}`, "{{", "}", `[{}]`, "\xff", "\ufeff{}", `{"a":1}{"b":2}`}[rng.IntN(16)]
	}
	return body + []string{"", " ", "}", ",", "]", "x", "\n{}"}[rng.IntN(7)]
}

// hostileParam returns a value for a path parameter.
func hostileParam(rng *rand.Rand, fx *hostileFixture, name string) string {
	odd := rng.IntN(4) == 0
	switch name {
	case "collection_name":
		if !odd {
			return []string{"c", "c", "m", "al"}[rng.IntN(4)]
		}
		return []string{"nope", "a%20b", "%C3%A9", "%FF", "x%00", strings.Repeat("n", 256), strings.Repeat("n", 255), "-", "_", "%2E", "a.b", "%E2%80%8B"}[rng.IntN(12)]
	case "id":
		if !odd {
			return []string{"1", "2", "550e8400-e29b-41d4-a716-446655440000", "1000"}[rng.IntN(4)]
		}
		return []string{"-1", "0", "18446744073709551615", "18446744073709551616", "abc", "1.5", "1e3", "%FF", "550e8400e29b41d4a716446655440000", "{1}", "%20"}[rng.IntN(11)]
	case "field_name":
		if !odd {
			return []string{"n", "color", "nope", "obj.arr[].x", "text"}[rng.IntN(5)]
		}
		return []string{"a%5B", "%5B%5D", "%FF", strings.Repeat("f", 1000), "a..b", "%2E"}[rng.IntN(6)]
	case "snapshot_name":
		if !odd {
			return []string{fx.snapshot, fx.fullSnapshot, "x.snapshot"}[rng.IntN(3)]
		}
		return []string{"%FF", strings.Repeat("s", 300), "a%20b.snapshot", "%2E%2Ex", "-", ".snapshot"}[rng.IntN(6)]
	case "shard_id":
		if !odd {
			return "0"
		}
		return []string{"1", "-1", "abc", "4294967296", "18446744073709551616"}[rng.IntN(5)]
	case "peer_id":
		return []string{"7", "0", "-1", "abc", "18446744073709551616"}[rng.IntN(5)]
	}
	return "x"
}

var hostileParamRE = regexp.MustCompile(`\{([a-z_]+)\}`)

// hostileQuery returns query parameters for a case.
func hostileQuery(rng *rand.Rand) string {
	if rng.IntN(3) != 0 {
		return []string{"", "?wait=true", "?wait=false"}[rng.IntN(3)]
	}
	var parts []string
	for range 1 + rng.IntN(3) {
		k := []string{"wait", "timeout", "ordering", "consistency", "exact", "priority", "checksum", "anonymize", "details_level", "force"}[rng.IntN(10)]
		v := []string{"true", "false", "1", "0", "-1", "abc", "18446744073709551616", "weak", "strong", "majority", "%FF", "", "1.5"}[rng.IntN(13)]
		parts = append(parts, k+"="+v)
	}
	return "?" + strings.Join(parts, "&")
}

// hostileREST runs n cases on one operation.
func hostileREST(t *testing.T, s *hostileServer, fx *hostileFixture, rng *rand.Rand, method, pattern string, n int) hostileTally {
	tl := hostileTally{Family: hostileFamily(pattern), Route: method + " " + pattern}
	templates := hostileRESTTemplates[method+" "+pattern]
	upload := strings.HasSuffix(pattern, "/snapshots/upload")
	for range n {
		path := hostileParamRE.ReplaceAllStringFunc(pattern, func(p string) string {
			return hostileParam(rng, fx, p[1:len(p)-1])
		})
		if method == "PUT" && pattern == "/collections/{collection_name}" && rng.IntN(2) == 0 {
			path = "/collections/fz" // a new collection
		}
		path += hostileQuery(rng)
		var body string
		ctype := "application/json"
		switch {
		case upload:
			body, ctype = hostileUpload(rng)
		case method == "GET" || method == "DELETE":
			if rng.IntN(5) == 0 {
				body = hostileText(rng, "{}")
			}
		case len(templates) > 0 && rng.IntN(5) != 0:
			body = hostileBody(rng, templates[rng.IntN(len(templates))], fx)
		default:
			b, _ := json.Marshal(hostileValue(rng, 0))
			body = string(b)
			if rng.IntN(3) == 0 {
				body = hostileText(rng, body)
			}
		}
		if rng.IntN(30) == 0 {
			ctype = []string{"", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"}[rng.IntN(4)]
		}
		var header map[string]string
		if rng.IntN(25) == 0 {
			// A body that says it is compressed: truly, truncated, or not.
			header = map[string]string{"Content-Encoding": "gzip"}
			var zb bytes.Buffer
			zw := gzip.NewWriter(&zb)
			zw.Write([]byte(body))
			zw.Close()
			switch rng.IntN(3) {
			case 0:
				body = zb.String()
			case 1:
				body = zb.String()[:rng.IntN(zb.Len())]
			}
		}
		tl.Cases++
		s.traceStart()
		code, resp := s.restWith(t, method, path, ctype, body, header)
		if hostileTrace && s.cmd != nil {
			fmt.Printf("%d rss %d kB hwm %d kB: %s\n", code, procStatusKB(s.cmd.Process.Pid, "VmRSS"), procStatusKB(s.cmd.Process.Pid, "VmHWM"), hostileShow(method+" "+path, body, resp))
		}
		switch {
		case code == 0:
			if !s.alive() {
				tl.Crashes++
				tl.Examples = append(tl.Examples, hostileShow(method+" "+path, body, resp))
				return tl
			}
			// The server cut the connection without an answer.
			tl.Server++
		case code >= 200 && code < 300:
			tl.OK++
		case code >= 400 && code < 500:
			tl.Client++
		case code >= 500 && hostileAsQdrant(tl.Route, resp):
			tl.Server++
			tl.AsQdrant++
			continue
		default:
			tl.Server++
		}
		if code == 0 || code >= 500 || code < 200 || code >= 300 && code < 400 {
			if len(tl.Examples) < 5 {
				tl.Examples = append(tl.Examples, hostileShow(fmt.Sprintf("%d %s %s", code, method, path), body, resp))
			}
		}
	}
	return tl
}

// hostileBody returns a mutation of a template.
func hostileBody(rng *rand.Rand, tmpl string, fx *hostileFixture) string {
	tmpl = strings.ReplaceAll(tmpl, "{snapshot_path}", "file:///nonexistent/"+fx.snapshot)
	if rng.IntN(4) == 0 {
		return hostileText(rng, tmpl)
	}
	dec := json.NewDecoder(strings.NewReader(tmpl))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		panic(fmt.Sprintf("hostile template %s: %v", tmpl, err))
	}
	for range 1 + rng.IntN(3) {
		v = hostileMutate(rng, v)
	}
	b, _ := json.Marshal(v)
	if rng.IntN(6) == 0 {
		return hostileText(rng, string(b))
	}
	return string(b)
}

// hostileUpload returns a multipart body with a "snapshot" file that is
// not a snapshot, or a malformed form.
func hostileUpload(rng *rand.Rand) (string, string) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	field := []string{"snapshot", "snapshot", "file", ""}[rng.IntN(4)]
	fw, _ := w.CreateFormFile(field, "x.snapshot")
	data := []string{"", "not a tar", strings.Repeat("\x00", 1024), "\x1f\x8b\x08\x00garbage"}[rng.IntN(4)]
	fw.Write([]byte(data))
	w.Close()
	body := buf.String()
	if rng.IntN(3) == 0 {
		body = body[:rng.IntN(len(body))]
	}
	ctype := w.FormDataContentType()
	if rng.IntN(5) == 0 {
		ctype = []string{"multipart/form-data", "multipart/form-data; boundary=", "application/json"}[rng.IntN(3)]
	}
	return body, ctype
}

func hostileShow(what, body, resp string) string {
	if len(body) > 300 {
		body = body[:300] + fmt.Sprintf("...(%d bytes)", len(body))
	}
	if len(resp) > 300 {
		resp = resp[:300] + "..."
	}
	return fmt.Sprintf("%s %q -> %s", what, body, resp)
}

// hostileMethods lists every method of Qdrant's four services.
func hostileMethods(t *testing.T) []protoreflect.MethodDescriptor {
	var out []protoreflect.MethodDescriptor
	for _, name := range []string{"qdrant.Qdrant", "qdrant.Collections", "qdrant.Points", "qdrant.Snapshots"} {
		d, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(name))
		require.NoError(t, err)
		sd := d.(protoreflect.ServiceDescriptor)
		for i := range sd.Methods().Len() {
			out = append(out, sd.Methods().Get(i))
		}
	}
	require.Len(t, out, 49, "methods of Qdrant 1.17's gRPC services")
	return out
}

func mustMsg(t *testing.T, name, js string) proto.Message {
	mt, err := protoregistry.GlobalTypes.FindMessageByName(protoreflect.FullName(name))
	require.NoError(t, err)
	m := mt.New().Interface()
	require.NoError(t, protojson.Unmarshal([]byte(js), m), "%s %s", name, js)
	return m
}

// hostileRaw is a codec that sends and receives bytes as they are, for
// cases that are not valid protobuf.
type hostileRaw struct{}

func (hostileRaw) Marshal(v any) ([]byte, error) { return *v.(*[]byte), nil }
func (hostileRaw) Unmarshal(data []byte, v any) error {
	*v.(*[]byte) = append([]byte(nil), data...)
	return nil
}
func (hostileRaw) Name() string { return "proto" }

// hostileInvoke calls a method with a message or, for *[]byte, raw bytes.
func hostileInvoke(conn *grpc.ClientConn, method string, in any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if raw, ok := in.(*[]byte); ok {
		var out []byte
		err := conn.Invoke(ctx, method, raw, &out, grpc.ForceCodec(hostileRaw{}))
		return out, err
	}
	m := in.(proto.Message)
	mt, err := protoregistry.GlobalTypes.FindMessageByName(hostileOutput[method])
	if err != nil {
		return nil, err
	}
	out := mt.New().Interface()
	err = conn.Invoke(ctx, method, m, out)
	return out, err
}

// hostileOutput maps a method's full name to its output message.
var hostileOutput = map[string]protoreflect.FullName{
	"/qdrant.Qdrant/HealthCheck": "qdrant.HealthCheckReply",
}

// hostileGRPCTemplates are valid requests by method name; methods without
// one start from a message naming collection "c".
var hostileGRPCTemplates = map[string][]string{
	"Collections/Create": {
		`{"collection_name": "fz", "vectors_config": {"params": {"size": 4, "distance": "Dot"}}, "hnsw_config": {"m": 8}, "on_disk_payload": true}`,
		`{"collection_name": "fz", "vectors_config": {"params_map": {"map": {"a": {"size": 3, "distance": "Manhattan"}}}}, "quantization_config": {"scalar": {"type": "Int8"}}}`,
	},
	"Collections/Update":        {`{"collection_name": "c", "optimizers_config": {"deleted_threshold": 0.5}, "hnsw_config": {"ef_construct": 50}, "params": {"on_disk_payload": false}}`},
	"Collections/UpdateAliases": {`{"actions": [{"create_alias": {"collection_name": "c", "alias_name": "al2"}}, {"rename_alias": {"old_alias_name": "al2", "new_alias_name": "al3"}}, {"delete_alias": {"alias_name": "al3"}}]}`},
	"Points/Upsert": {
		`{"collection_name": "c", "wait": true, "points": [{"id": {"num": 1}, "vectors": {"vector": {"data": [1, 2, 3, 4]}}, "payload": {"n": {"integer_value": 1}, "color": {"string_value": "red"}}}]}`,
		`{"collection_name": "m", "points": [{"id": {"uuid": "550e8400-e29b-41d4-a716-446655440000"}, "vectors": {"vectors": {"vectors": {"a": {"data": [1, 2, 3, 4]}, "b": {"dense": {"data": [1, 2]}}}}}}]}`,
	},
	"Points/Delete":           {`{"collection_name": "c", "points": {"points": {"ids": [{"num": 1000}]}}}`, `{"collection_name": "c", "points": {"filter": {"must": [{"field": {"key": "n", "range": {"gt": 1000}}}]}}}`},
	"Points/Get":              {`{"collection_name": "c", "ids": [{"num": 1}, {"uuid": "550e8400-e29b-41d4-a716-446655440000"}], "with_payload": {"enable": true}, "with_vectors": {"enable": true}}`},
	"Points/UpdateVectors":    {`{"collection_name": "c", "points": [{"id": {"num": 1}, "vectors": {"vector": {"data": [1, 2, 3, 4]}}}]}`},
	"Points/DeleteVectors":    {`{"collection_name": "m", "points_selector": {"points": {"ids": [{"num": 1000}]}}, "vectors": {"names": ["b"]}}`},
	"Points/SetPayload":       {`{"collection_name": "c", "payload": {"x": {"list_value": {"values": [{"integer_value": 1}]}}}, "points_selector": {"points": {"ids": [{"num": 1}]}}, "key": "obj"}`},
	"Points/OverwritePayload": {`{"collection_name": "c", "payload": {"n": {"integer_value": 1}, "color": {"string_value": "red"}}, "points_selector": {"points": {"ids": [{"num": 1}]}}}`},
	"Points/DeletePayload":    {`{"collection_name": "c", "keys": ["x"], "points_selector": {"filter": {"must": [{"has_id": {"has_id": [{"num": 1}]}}]}}}`},
	"Points/ClearPayload":     {`{"collection_name": "c", "points": {"points": {"ids": [{"num": 1000}]}}}`},
	"Points/CreateFieldIndex": {`{"collection_name": "c", "field_name": "color", "field_type": "FieldTypeKeyword"}`, `{"collection_name": "c", "field_name": "text", "field_type": "FieldTypeText", "field_index_params": {"text_index_params": {"tokenizer": "Word", "lowercase": true, "min_token_len": 2, "max_token_len": 10}}}`},
	"Points/DeleteFieldIndex": {`{"collection_name": "c", "field_name": "nope"}`},
	"Points/Search": {
		`{"collection_name": "c", "vector": [1, 2, 3, 4], "limit": 3, "offset": 1, "filter": {"should": [{"field": {"key": "color", "match": {"keywords": {"strings": ["red"]}}}}]}, "with_payload": {"include": {"fields": ["n"]}}, "params": {"exact": true, "hnsw_ef": 10}, "score_threshold": 0.1}`,
		`{"collection_name": "m", "vector": [1, 2], "vector_name": "b", "limit": 2, "with_vectors": {"include": {"names": ["b"]}}}`,
	},
	"Points/SearchBatch":  {`{"collection_name": "c", "search_points": [{"collection_name": "c", "vector": [1, 2, 3, 4], "limit": 3}, {"collection_name": "c", "vector": [0, 0, 0, 1], "limit": 1}]}`},
	"Points/SearchGroups": {`{"collection_name": "c", "vector": [1, 2, 3, 4], "group_by": "color", "group_size": 2, "limit": 2, "with_lookup": {"collection": "m"}}`},
	"Points/Scroll": {
		`{"collection_name": "c", "limit": 3, "offset": {"num": 1}, "order_by": {"key": "n", "direction": "Desc", "start_from": {"integer": 3}}, "with_payload": {"exclude": {"fields": ["n"]}}}`,
		`{"collection_name": "c", "filter": {"must": [{"field": {"key": "text", "match": {"text": "hello"}}}, {"field": {"key": "geo", "geo_radius": {"center": {"lon": 1, "lat": 2}, "radius": 100000}}}],
		  "should": [{"field": {"key": "ts", "datetime_range": {"gte": "2024-01-02T00:00:00Z"}}}, {"field": {"key": "tags", "values_count": {"gte": 1}}}, {"is_empty": {"key": "zz"}}, {"is_null": {"key": "n"}}],
		  "must_not": [{"nested": {"key": "obj.arr", "filter": {"must": [{"field": {"key": "x", "match": {"integer": 3}}}]}}}, {"has_vector": {"has_vector": "a"}},
		    {"field": {"key": "geo", "geo_bounding_box": {"top_left": {"lon": 0, "lat": 10}, "bottom_right": {"lon": 10, "lat": 0}}}},
		    {"field": {"key": "geo", "geo_polygon": {"exterior": {"points": [{"lon": 0, "lat": 0}, {"lon": 1, "lat": 0}, {"lon": 1, "lat": 1}, {"lon": 0, "lat": 0}]}}}}],
		  "min_should": {"conditions": [{"field": {"key": "f", "range": {"lt": 5.5}}}, {"field": {"key": "ok", "match": {"boolean": true}}}], "min_count": 1}}, "limit": 4}`,
	},
	"Points/Recommend":       {`{"collection_name": "c", "positive": [{"num": 1}], "negative": [{"num": 2}], "positive_vectors": [{"data": [1, 2, 3, 4]}], "limit": 3, "strategy": "BestScore", "lookup_from": {"collection_name": "m", "vector_name": "a"}}`},
	"Points/RecommendBatch":  {`{"collection_name": "c", "recommend_points": [{"collection_name": "c", "positive": [{"num": 1}], "limit": 2}]}`},
	"Points/RecommendGroups": {`{"collection_name": "c", "positive": [{"num": 1}], "group_by": "n", "group_size": 1, "limit": 2}`},
	"Points/Discover":        {`{"collection_name": "c", "target": {"single": {"id": {"num": 1}}}, "context": [{"positive": {"id": {"num": 2}}, "negative": {"vector": {"data": [1, 2, 3, 4]}}}], "limit": 2}`},
	"Points/DiscoverBatch":   {`{"collection_name": "c", "discover_points": [{"collection_name": "c", "target": {"single": {"id": {"num": 1}}}, "context": [{"positive": {"id": {"num": 2}}, "negative": {"id": {"num": 3}}}], "limit": 2}]}`},
	"Points/Count":           {`{"collection_name": "c", "filter": {"must": [{"field": {"key": "color", "match": {"keyword": "red"}}}]}, "exact": true}`},
	"Points/UpdateBatch": {
		`{"collection_name": "c", "wait": true, "operations": [{"upsert": {"points": [{"id": {"num": 5}, "vectors": {"vector": {"data": [1, 2, 3, 4]}}}]}}, {"set_payload": {"payload": {"x": {"integer_value": 1}}, "points_selector": {"points": {"ids": [{"num": 1}]}}}},
		  {"delete_vectors": {"points_selector": {"points": {"ids": [{"num": 1000}]}}, "vectors": {"names": [""]}}}, {"delete_points": {"points": {"points": {"ids": [{"num": 1000}]}}}}, {"clear_payload": {"points": {"points": {"ids": [{"num": 1000}]}}}}]}`,
	},
	"Points/Query": {
		`{"collection_name": "c", "query": {"recommend": {"positive": [{"id": {"num": 1}}, {"dense": {"data": [1, 2, 3, 4]}}], "negative": [{"id": {"num": 2}}], "strategy": "BestScore"}}, "limit": 3, "with_vectors": {"enable": true}}`,
		`{"collection_name": "c", "query": {"discover": {"target": {"dense": {"data": [1, 2, 3, 4]}}, "context": {"pairs": [{"positive": {"id": {"num": 1}}, "negative": {"id": {"num": 2}}}]}}}, "lookup_from": {"collection_name": "c"}}`,
		`{"collection_name": "c", "query": {"order_by": {"key": "n", "direction": "Desc", "start_from": {"integer": 3}}}, "filter": {"must": [{"field": {"key": "n", "range": {"gte": 1}}}]}}`,
		`{"collection_name": "m", "query": {"nearest": {"dense": {"data": [1, 2]}}}, "using": "b", "with_payload": {"include": {"fields": ["n"]}}, "params": {"exact": true}, "score_threshold": 0.5, "offset": 1}`,
		`{"collection_name": "c", "prefetch": [{"query": {"nearest": {"dense": {"data": [1, 2, 3, 4]}}}, "limit": 5}], "query": {"fusion": "RRF"}, "limit": 3}`,
		`{"collection_name": "c", "query": {"sample": "Random"}, "limit": 2}`,
	},
	"Points/QueryBatch":          {`{"collection_name": "c", "query_points": [{"collection_name": "c", "query": {"nearest": {"dense": {"data": [1, 2, 3, 4]}}}, "limit": 2}]}`},
	"Points/QueryGroups":         {`{"collection_name": "c", "query": {"nearest": {"dense": {"data": [1, 2, 3, 4]}}}, "group_by": "color", "group_size": 2, "limit": 3, "with_lookup": {"collection": "c"}}`},
	"Points/Facet":               {`{"collection_name": "c", "key": "color", "limit": 2, "exact": true}`},
	"Points/SearchMatrixPairs":   {`{"collection_name": "c", "sample": 5, "limit": 2}`},
	"Points/SearchMatrixOffsets": {`{"collection_name": "m", "sample": 5, "limit": 2, "using": "a"}`},
	"Snapshots/Delete":           {`{"collection_name": "c", "snapshot_name": "x.snapshot"}`},
	"Snapshots/DeleteFull":       {`{"snapshot_name": "x.snapshot"}`},
}

// hostileGRPCFault classifies a gRPC error: client errors, server errors,
// and a broken connection.
func hostileGRPCServerCode(c codes.Code) bool {
	switch c {
	case codes.Unknown, codes.Internal, codes.DataLoss, codes.Unavailable:
		return true
	}
	return false
}

// hostileGRPC runs n cases on one method.
func hostileGRPC(t *testing.T, s *hostileServer, fx *hostileFixture, rng *rand.Rand, md protoreflect.MethodDescriptor, n int) hostileTally {
	svc := md.Parent().(protoreflect.ServiceDescriptor)
	full := "/" + string(svc.FullName()) + "/" + string(md.Name())
	short := string(svc.Name()) + "/" + string(md.Name())
	hostileOutput[full] = md.Output().FullName()
	tl := hostileTally{Family: "grpc " + string(svc.Name()), Route: "GRPC " + short}
	templates := hostileGRPCTemplates[short]
	if len(templates) == 0 {
		tmpl := `{}`
		if md.Input().Fields().ByName("collection_name") != nil {
			tmpl = `{"collection_name": "c"}`
		}
		templates = []string{tmpl}
	}
	for range n {
		m := mustMsg(t, string(md.Input().FullName()), templates[rng.IntN(len(templates))])
		var in any = m
		what := ""
		if rng.IntN(6) == 0 {
			raw, _ := proto.Marshal(m)
			raw = hostileWire(rng, raw)
			in = &raw
			what = fmt.Sprintf("raw %x", raw)
			if len(what) > 300 {
				what = what[:300] + "..."
			}
		} else {
			gen := hostileGen{rng: rng, fx: fx}
			for range 1 + rng.IntN(3) {
				gen.mutate(m.ProtoReflect(), 0)
			}
			b, _ := protojson.Marshal(m)
			what = string(b)
			if len(what) > 400 {
				what = what[:400] + fmt.Sprintf("...(%d bytes)", len(b))
			}
		}
		tl.Cases++
		s.traceStart()
		_, err := hostileInvoke(s.conn, full, in)
		if hostileTrace && s.cmd != nil {
			fmt.Printf("%s rss %d kB hwm %d kB: %s -> %v\n", short, procStatusKB(s.cmd.Process.Pid, "VmRSS"), procStatusKB(s.cmd.Process.Pid, "VmHWM"), what, err)
		}
		code := status.Code(err)
		switch {
		case err == nil:
			tl.OK++
		case code == codes.Unavailable && !s.alive():
			tl.Crashes++
			tl.Examples = append(tl.Examples, fmt.Sprintf("%s %s -> %v", short, what, err))
			return tl
		case code == codes.Internal && strings.HasPrefix(status.Convert(err).Message(), "grpc: failed to unmarshal the received message"):
			// Qdrant answers Internal "failed to decode Protobuf
			// message: ..." too.
			tl.Server++
			tl.AsQdrant++
		case hostileGRPCServerCode(code):
			tl.Server++
			if len(tl.Examples) < 5 {
				tl.Examples = append(tl.Examples, fmt.Sprintf("%s %s -> %v", short, what, err))
			}
		default:
			tl.Client++
		}
	}
	return tl
}

// hostileWire mutates an encoded message: truncated, a byte changed,
// garbage appended, a length made huge, or a string made invalid UTF-8.
func hostileWire(rng *rand.Rand, b []byte) []byte {
	b = append([]byte(nil), b...)
	if len(b) == 0 {
		return []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f}
	}
	switch rng.IntN(5) {
	case 0:
		return b[:rng.IntN(len(b))]
	case 1:
		b[rng.IntN(len(b))] ^= byte(1 + rng.IntN(255))
		return b
	case 2:
		return append(b, []byte{0x0a, 0x05, 0xff, 0xfe, 0xfd, 0xfc, 0xfb}...)
	case 3:
		// Field 1 (collection_name in most requests) with bytes that are
		// not UTF-8.
		return append([]byte{0x0a, 0x03, 0xff, 0xc3, 0x28}, b...)
	}
	return append(b, []byte{0x7a, 0xff, 0xff, 0xff, 0xff, 0x07}...)
}

// hostileGen makes random protobuf values.
type hostileGen struct {
	rng *rand.Rand
	fx  *hostileFixture
}

// mutate changes one field of m, or of a message below it.
func (g *hostileGen) mutate(m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	if fields.Len() == 0 {
		return
	}
	fd := fields.Get(g.rng.IntN(fields.Len()))
	// Go below a set message field half of the time.
	if fd.Kind() == protoreflect.MessageKind && !fd.IsList() && !fd.IsMap() && m.Has(fd) && g.rng.IntN(2) == 0 && depth < 8 {
		g.mutate(m.Mutable(fd).Message(), depth+1)
		return
	}
	if fd.IsList() && m.Has(fd) && fd.Kind() == protoreflect.MessageKind && g.rng.IntN(2) == 0 && depth < 8 {
		l := m.Mutable(fd).List()
		g.mutate(l.Get(g.rng.IntN(l.Len())).Message(), depth+1)
		return
	}
	if g.rng.IntN(6) == 0 {
		m.Clear(fd)
		return
	}
	g.set(m, fd, depth)
}

// set gives a field a random value.
func (g *hostileGen) set(m protoreflect.Message, fd protoreflect.FieldDescriptor, depth int) {
	switch {
	case fd.IsMap():
		mp := m.Mutable(fd).Map()
		for range g.rng.IntN(3) {
			k := g.scalar(fd.MapKey()).MapKey()
			if fd.MapValue().Kind() == protoreflect.MessageKind {
				v := mp.NewValue()
				g.fill(v.Message(), depth+1)
				mp.Set(k, v)
			} else {
				mp.Set(k, g.scalar(fd.MapValue()))
			}
		}
	case fd.IsList():
		l := m.Mutable(fd).List()
		if g.rng.IntN(15) == 0 {
			// Many elements: empty messages or one short value.
			v := l.NewElement()
			if fd.Kind() != protoreflect.MessageKind {
				v = g.scalar(fd)
				if s, ok := v.Interface().(string); ok && len(s) > 64 {
					v = protoreflect.ValueOfString("x")
				}
			}
			for range 1 << g.rng.IntN(13) {
				l.Append(v)
			}
			return
		}
		for range g.rng.IntN(4) {
			if fd.Kind() == protoreflect.MessageKind {
				v := l.NewElement()
				g.fill(v.Message(), depth+1)
				l.Append(v)
			} else {
				l.Append(g.scalar(fd))
			}
		}
	case fd.Kind() == protoreflect.MessageKind || fd.Kind() == protoreflect.GroupKind:
		v := m.NewField(fd)
		g.fill(v.Message(), depth+1)
		m.Set(fd, v)
	default:
		m.Set(fd, g.scalar(fd))
	}
}

// fill sets a few random fields of a new message.
func (g *hostileGen) fill(m protoreflect.Message, depth int) {
	fields := m.Descriptor().Fields()
	if fields.Len() == 0 || depth > 6 {
		return
	}
	for range g.rng.IntN(4) {
		fd := fields.Get(g.rng.IntN(fields.Len()))
		if fd.Name() == "collection_name" {
			m.Set(fd, protoreflect.ValueOfString([]string{"c", "m", "nope"}[g.rng.IntN(3)]))
			continue
		}
		g.set(m, fd, depth)
	}
}

func (g *hostileGen) scalar(fd protoreflect.FieldDescriptor) protoreflect.Value {
	r := g.rng
	ints := []int64{0, 1, 2, 3, 4, -1, 7, 1000, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64, 1 << 32, 65536}
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 0)
	case protoreflect.EnumKind:
		vals := fd.Enum().Values()
		if r.IntN(5) == 0 {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber([]int32{-1, 99, math.MaxInt32}[r.IntN(3)]))
		}
		return protoreflect.ValueOfEnum(vals.Get(r.IntN(vals.Len())).Number())
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(ints[r.IntN(len(ints))]))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(ints[r.IntN(len(ints))])
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(ints[r.IntN(len(ints))]))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(ints[r.IntN(len(ints))]))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32([]float64{0, 1, -1, 0.5, math.NaN(), math.Inf(1), math.Inf(-1), 3e38, 1e-45, -0.0}[r.IntN(10)]))
	case protoreflect.DoubleKind:
		return protoreflect.ValueOfFloat64([]float64{0, 1, -1, 0.5, math.NaN(), math.Inf(1), math.Inf(-1), 1e308, 5e-324, 1e20}[r.IntN(10)])
	case protoreflect.StringKind:
		s := hostileStrings[r.IntN(len(hostileStrings))]
		if r.IntN(20) == 0 {
			s = strings.Repeat("x", 1<<r.IntN(17))
		}
		if r.IntN(3) == 0 {
			s = []string{g.fx.snapshot, g.fx.fullSnapshot, "c", "m"}[r.IntN(4)]
		}
		return protoreflect.ValueOfString(strings.ToValidUTF8(s, "?"))
	case protoreflect.BytesKind:
		return protoreflect.ValueOfBytes([]byte{0xff, 0x00, 0x01}[:r.IntN(4)])
	}
	panic(fmt.Sprintf("hostile: kind %v", fd.Kind()))
}

// TestGRPCConfigFloatsNotNumbers checks the conversion of collection config
// floats that JSON cannot hold, found by the hostile run: Qdrant accepts them
// and reports null (testdata/diff/hostile.txt), where qlite failed with gRPC
// Unknown.
func TestGRPCConfigFloatsNotNumbers(t *testing.T) {
	for _, f := range []float64{math.NaN(), math.Inf(1), math.Inf(-1)} {
		q := float32(f)
		raw, err := strictModeFromProto(&qdrant.StrictModeConfig{SearchMaxOversampling: &q})
		require.NoError(t, err)
		require.JSONEq(t, `{"search_max_oversampling": null}`, string(raw))
		raw, err = quantizationFromProto(&qdrant.QuantizationConfig{Quantization: &qdrant.QuantizationConfig_Scalar{
			Scalar: &qdrant.ScalarQuantization{Type: qdrant.QuantizationType_Int8, Quantile: &q}}}, "quantization_config")
		if math.IsInf(f, 0) {
			// Qdrant's range check refuses infinite quantiles
			// (testdata/diff/quantization_limits.txt); NaN passes it.
			require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
			continue
		}
		require.NoError(t, err)
		require.JSONEq(t, `{"scalar": {"type": "int8", "quantile": null}}`, string(raw))
		require.Nil(t, quantizationToProto(raw).GetScalar().Quantile)
	}
}
