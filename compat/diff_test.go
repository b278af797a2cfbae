package compat

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"

	_ "github.com/qdrant/go-client/qdrant" // registers Qdrant's services and messages
)

// The differential tests run scenarios from testdata/diff against a real
// Qdrant server (QDRANT_BIN) and against qlite serve, and compare every
// answer: the HTTP status or gRPC code, and the body field by field, with
// "time" removed. A scenario file is a route family; its format:
//
//	# a comment
//	=== name of a scenario
//	@known why this one still differs     (optional, right after ===)
//	PUT /collections/c {"vectors": {"size": 4, "distance": "Dot"}}
//	POST /collections/c/points/count
//	  {"filter": {"should": []}}          (indented lines continue the body)
//	@ignore result.points.*.version       (for the next request only)
//	GRPC qdrant.Points/Count {"collection_name": "c", "exact": true}
//
// The update queue of a collection's info (result.update_queue, gRPC's
// result.updateQueue) is left out of every comparison: Qdrant's may still
// hold an applied update when the info is read.
//
// Directives apply to the request after them:
//   - @ignore PATH...: JSON paths left out of the comparison; "*" matches
//     any key or array element.
//   - @status: compare the status or code only.
//   - @approx: numbers may differ by 1e-5, relative.
//   - @numbers TOL PATH...: the strings at these paths must be equal
//     except for the numbers in them, which may differ by TOL (for
//     messages that quote a clock-dependent figure, such as the tokens a
//     rate limiter has refilled by the time the request arrives).
//   - @shape PATH...: at these JSON paths compare the shape only: the same
//     fields with values of the same JSON types, recursively, whatever the
//     values and the lengths of arrays (for run-dependent values: times,
//     counts of requests, memory sizes). A shape path below an ignored
//     one compares the members both answers have.
//   - @unordered PATH...: the arrays at these paths are compared as
//     multisets (for results whose order among equal scores Qdrant leaves
//     to chance).
//   - @capture NAME PATH: remember a value of each server's answer; later
//     requests write it as {NAME}.
//   - @sleep DURATION: wait before the request (for background work).
//
// In paths and bodies, {snapshots} is each server's snapshots directory;
// in answers, that directory reads {snapshots}. Each scenario starts on
// servers with no collections. A scenario marked @known counts as a
// difference in the tally but does not fail the test.

// diffScenario is one scenario of a family file.
type diffScenario struct {
	family, name, known string
	line                int
	steps               []diffStep
}

type diffStep struct {
	line         int
	grpc         bool
	method, path string // REST; for gRPC, path is "qdrant.Points/Count"
	body         string
	ignore       []string
	shape        []string
	unordered    []string
	statusOnly   bool
	approx       bool
	captures     [][2]string
	numbers      []string
	numbersTol   float64
	sleep        time.Duration
}

// parseDiffFile reads a family file.
func parseDiffFile(path string) ([]*diffScenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	family := strings.TrimSuffix(filepath.Base(path), ".txt")
	var out []*diffScenario
	var cur *diffScenario
	var pending diffStep
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 1<<20), 1<<24)
	n := 0
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%s:%d: %s", path, n, fmt.Sprintf(format, args...))
	}
	for sc.Scan() {
		n++
		line := sc.Text()
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
		case strings.HasPrefix(line, "=== "):
			cur = &diffScenario{family: family, name: strings.TrimSpace(line[4:]), line: n}
			out = append(out, cur)
		case cur == nil:
			return nil, bad("a request before the first ===")
		case line[0] == ' ' || line[0] == '\t':
			if len(cur.steps) == 0 {
				return nil, bad("a continuation line before any request")
			}
			st := &cur.steps[len(cur.steps)-1]
			st.body += "\n" + trimmed
		case strings.HasPrefix(line, "@"):
			word, rest, _ := strings.Cut(trimmed, " ")
			rest = strings.TrimSpace(rest)
			switch word {
			case "@known":
				cur.known = rest
			case "@ignore":
				pending.ignore = append(pending.ignore, strings.Fields(rest)...)
			case "@unordered":
				pending.unordered = append(pending.unordered, strings.Fields(rest)...)
			case "@shape":
				pending.shape = append(pending.shape, strings.Fields(rest)...)
			case "@status":
				pending.statusOnly = true
			case "@approx":
				pending.approx = true
			case "@numbers":
				f := strings.Fields(rest)
				if len(f) < 2 {
					return nil, bad("@numbers TOL PATH...")
				}
				tol, err := strconv.ParseFloat(f[0], 64)
				if err != nil || tol < 0 {
					return nil, bad("@numbers TOL PATH...")
				}
				pending.numbersTol = tol
				pending.numbers = append(pending.numbers, f[1:]...)
			case "@capture":
				f := strings.Fields(rest)
				if len(f) != 2 {
					return nil, bad("@capture NAME PATH")
				}
				pending.captures = append(pending.captures, [2]string{f[0], f[1]})
			case "@sleep":
				d, err := time.ParseDuration(rest)
				if err != nil {
					return nil, bad("%v", err)
				}
				pending.sleep = d
			default:
				return nil, bad("unknown directive %s", word)
			}
		default:
			method, rest, _ := strings.Cut(line, " ")
			target, body, _ := strings.Cut(strings.TrimSpace(rest), " ")
			st := pending
			pending = diffStep{}
			st.line = n
			st.body = strings.TrimSpace(body)
			switch method {
			case "GRPC":
				st.grpc = true
				st.path = target
			case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD":
				st.method, st.path = method, target
			default:
				return nil, bad("unknown method %q", method)
			}
			cur.steps = append(cur.steps, st)
		}
	}
	return out, sc.Err()
}

// diffTarget is one server under comparison.
type diffTarget struct {
	name      string
	http      string // base URL
	conn      *grpc.ClientConn
	snapshots string
	vars      map[string]string
}

func newDiffTarget(t *testing.T, name, httpAddr, grpcAddr, snapshots string) *diffTarget {
	conn, err := grpc.NewClient(grpcAddr, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &diffTarget{name: name, http: "http://" + httpAddr, conn: conn, snapshots: snapshots}
}

// expand writes the target's values for {snapshots} and captured names.
func (d *diffTarget) expand(s string) string {
	s = strings.ReplaceAll(s, "{snapshots}", d.snapshots)
	for k, v := range d.vars {
		s = strings.ReplaceAll(s, "{"+k+"}", v)
	}
	return s
}

// diffAnswer is a server's answer to one step, normalised for comparison.
type diffAnswer struct {
	status string // "200" or a gRPC code name
	body   any    // decoded JSON, or a string when not JSON
	raw    string
}

func (d *diffTarget) do(ctx context.Context, st diffStep) (diffAnswer, error) {
	if st.grpc {
		return d.doGRPC(ctx, st)
	}
	var body io.Reader
	b := d.expand(st.body)
	if b != "" {
		body = strings.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, st.method, d.http+d.expand(st.path), body)
	if err != nil {
		return diffAnswer{}, err
	}
	if b != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return diffAnswer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return diffAnswer{}, err
	}
	a := diffAnswer{status: strconv.Itoa(resp.StatusCode), raw: string(raw)}
	a.body = d.decode(raw)
	return a, nil
}

// decode parses an answer, drops its time and writes the snapshots
// directory as {snapshots}.
func (d *diffTarget) decode(raw []byte) any {
	raw = bytes.ReplaceAll(raw, []byte(d.snapshots), []byte("{snapshots}"))
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return string(raw)
	}
	if m, ok := v.(map[string]any); ok {
		delete(m, "time")
	}
	return v
}

func (d *diffTarget) doGRPC(ctx context.Context, st diffStep) (diffAnswer, error) {
	svc, method, ok := strings.Cut(st.path, "/")
	if !ok {
		return diffAnswer{}, fmt.Errorf("gRPC target %q is not Service/Method", st.path)
	}
	desc, err := protoregistry.GlobalFiles.FindDescriptorByName(protoreflect.FullName(svc + "." + method))
	if err != nil {
		return diffAnswer{}, fmt.Errorf("gRPC method %s: %w", st.path, err)
	}
	md, ok := desc.(protoreflect.MethodDescriptor)
	if !ok {
		return diffAnswer{}, fmt.Errorf("%s is not a method", st.path)
	}
	newMsg := func(name protoreflect.FullName) (proto.Message, error) {
		mt, err := protoregistry.GlobalTypes.FindMessageByName(name)
		if err != nil {
			return nil, err
		}
		return mt.New().Interface(), nil
	}
	in, err := newMsg(md.Input().FullName())
	if err != nil {
		return diffAnswer{}, err
	}
	out, err := newMsg(md.Output().FullName())
	if err != nil {
		return diffAnswer{}, err
	}
	if b := d.expand(st.body); b != "" {
		if err := protojson.Unmarshal([]byte(b), in); err != nil {
			return diffAnswer{}, fmt.Errorf("request body: %w", err)
		}
	}
	if err := d.conn.Invoke(ctx, "/"+svc+"/"+method, in, out); err != nil {
		s := status.Convert(err)
		msg := strings.ReplaceAll(s.Message(), d.snapshots, "{snapshots}")
		return diffAnswer{status: s.Code().String(), body: msg, raw: msg}, nil
	}
	raw, err := protojson.Marshal(out)
	if err != nil {
		return diffAnswer{}, err
	}
	return diffAnswer{status: "OK", body: d.decode(raw), raw: string(raw)}, nil
}

// capture remembers values of an answer for later steps.
func (d *diffTarget) capture(st diffStep, a diffAnswer) error {
	for _, c := range st.captures {
		vals := diffLookup(a.body, strings.Split(c[1], "."))
		if len(vals) != 1 {
			return fmt.Errorf("%s: @capture %s: %d values at %s in %s", d.name, c[0], len(vals), c[1], a.raw)
		}
		if d.vars == nil {
			d.vars = map[string]string{}
		}
		switch v := vals[0].(type) {
		case string:
			d.vars[c[0]] = v
		default:
			b, _ := json.Marshal(v)
			d.vars[c[0]] = string(b)
		}
	}
	return nil
}

func diffLookup(v any, path []string) []any {
	if len(path) == 0 {
		return []any{v}
	}
	var out []any
	switch x := v.(type) {
	case map[string]any:
		if path[0] == "*" {
			for _, e := range x {
				out = append(out, diffLookup(e, path[1:])...)
			}
		} else if e, ok := x[path[0]]; ok {
			out = append(out, diffLookup(e, path[1:])...)
		}
	case []any:
		if path[0] == "*" {
			for _, e := range x {
				out = append(out, diffLookup(e, path[1:])...)
			}
		} else if i, err := strconv.Atoi(path[0]); err == nil && i >= 0 && i < len(x) {
			out = append(out, diffLookup(x[i], path[1:])...)
		}
	}
	return out
}

// diffDropQliteSection removes result.qlite, the section qlite adds to a
// collection's info (restQliteInfo), from qlite's answer where Qdrant's
// has no such field: it is qlite's own, tested on its own.
func diffDropQliteSection(want, got any) {
	w, _ := want.(map[string]any)
	g, _ := got.(map[string]any)
	wr, _ := w["result"].(map[string]any)
	gr, _ := g["result"].(map[string]any)
	if gr == nil || wr == nil {
		return
	}
	if _, ok := wr["qlite"]; !ok {
		delete(gr, "qlite")
	}
}

// diffCompare lists the differences between two answers.
func diffCompare(st diffStep, want, got diffAnswer) []string {
	var out []string
	if want.status != got.status {
		out = append(out, fmt.Sprintf("status: Qdrant %s, qlite %s", want.status, got.status))
	}
	if st.statusOnly {
		return out
	}
	diffDropQliteSection(want.body, got.body)
	for _, p := range st.unordered {
		path := strings.Split(p, ".")
		diffSortArrays(want.body, path)
		diffSortArrays(got.body, path)
	}
	ignore := make([][]string, len(st.ignore), len(st.ignore)+2)
	for i, p := range st.ignore {
		ignore[i] = strings.Split(p, ".")
	}
	// Qdrant's collection info may still count an applied update in its
	// update queue for a moment (now and then on a loaded machine): the
	// queue's length is never compared.
	ignore = append(ignore, []string{"result", "update_queue"}, []string{"result", "updateQueue"})
	shapes := make([][]string, len(st.shape))
	for i, p := range st.shape {
		shapes[i] = strings.Split(p, ".")
	}
	numbers := make([][]string, len(st.numbers))
	for i, p := range st.numbers {
		numbers[i] = strings.Split(p, ".")
		w, g := diffLookup(want.body, numbers[i]), diffLookup(got.body, numbers[i])
		if len(w) != len(g) {
			out = append(out, fmt.Sprintf("%s: Qdrant %d values, qlite %d", p, len(w), len(g)))
			continue
		}
		for j := range w {
			ws, wok := w[j].(string)
			gs, gok := g[j].(string)
			if !wok || !gok || !diffNumbersClose(ws, gs, st.numbersTol) {
				out = append(out, fmt.Sprintf("%s: Qdrant %q, qlite %q", p, w[j], g[j]))
			}
		}
	}
	ignore = append(ignore, numbers...)
	diffValues(&out, nil, want.body, got.body, append(ignore, shapes...), st.approx)
	if len(shapes) > 0 {
		diffShapeWalk(&out, nil, want.body, got.body, shapes, ignore)
	}
	return out
}

// diffKeys returns the keys of two objects, sorted.
func diffKeys(a, b map[string]any) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

// diffSortArrays sorts, in place, the arrays found at path by the JSON of
// their elements.
func diffSortArrays(v any, path []string) {
	parent := path[:len(path)-1]
	last := path[len(path)-1]
	for _, p := range diffLookup(v, parent) {
		m, ok := p.(map[string]any)
		if !ok {
			continue
		}
		arr, ok := m[last].([]any)
		if !ok {
			continue
		}
		sort.SliceStable(arr, func(i, j int) bool {
			a, _ := json.Marshal(arr[i])
			b, _ := json.Marshal(arr[j])
			return string(a) < string(b)
		})
	}
}

// diffShapeWalk finds the @shape paths in both answers and compares the
// shapes there.
func diffShapeWalk(out *[]string, path []string, want, got any, shapes, ignore [][]string) {
	if diffIgnored(path, ignore) && !diffBelow(path, shapes) {
		return
	}
	if len(path) > 0 && diffIgnored(path, shapes) {
		diffShape(out, path, want, got, ignore)
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return // diffValues reports it
		}
		for k, wv := range w {
			p := append(append([]string(nil), path...), k)
			if gv, ok := g[k]; ok {
				diffShapeWalk(out, p, wv, gv, shapes, ignore)
			} else if diffIgnored(p, shapes) {
				*out = append(*out, fmt.Sprintf("%s: Qdrant has it, qlite has no such field", strings.Join(p, ".")))
			}
		}
		for k := range g {
			p := append(append([]string(nil), path...), k)
			if _, ok := w[k]; !ok && diffIgnored(p, shapes) {
				*out = append(*out, fmt.Sprintf("%s: Qdrant has no such field, qlite has it", strings.Join(p, ".")))
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			return // diffValues reports it
		}
		for i := range w {
			diffShapeWalk(out, append(append([]string(nil), path...), strconv.Itoa(i)), w[i], g[i], shapes, ignore)
		}
	}
}

// diffBelow reports whether a pattern of pats reaches below path, so that
// an ignored object can still have the shape of its members compared.
func diffBelow(path []string, pats [][]string) bool {
	for _, p := range pats {
		if len(p) > len(path) && diffIgnored(path, [][]string{p[:len(path)]}) {
			return true
		}
	}
	return false
}

// diffKind names the JSON type of a decoded value.
func diffKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case map[string]any:
		return "object"
	case []any:
		return "array"
	case json.Number:
		return "number"
	case string:
		return "string"
	case bool:
		return "bool"
	}
	return fmt.Sprintf("%T", v)
}

// diffShape compares the shapes of two values: their JSON types, the
// fields of objects, and the shapes of array elements (each compared
// with the element at the same index of the other array, or its last); an
// array empty on one side only differs.
func diffShape(out *[]string, path []string, want, got any, ignore [][]string) {
	if diffIgnored(path, ignore) {
		return
	}
	where := strings.Join(path, ".")
	if wk, gk := diffKind(want), diffKind(got); wk != gk {
		*out = append(*out, fmt.Sprintf("%s: Qdrant has a %s, qlite a %s", where, wk, gk))
		return
	}
	switch w := want.(type) {
	case map[string]any:
		g := got.(map[string]any)
		for _, k := range diffKeys(w, g) {
			p := append(append([]string(nil), path...), k)
			wv, wok := w[k]
			gv, gok := g[k]
			switch {
			case diffIgnored(p, ignore):
			case !wok:
				*out = append(*out, fmt.Sprintf("%s: Qdrant has no such field, qlite has a %s", strings.Join(p, "."), diffKind(gv)))
			case !gok:
				*out = append(*out, fmt.Sprintf("%s: Qdrant has a %s, qlite has no such field", strings.Join(p, "."), diffKind(wv)))
			default:
				diffShape(out, p, wv, gv, ignore)
			}
		}
	case []any:
		g := got.([]any)
		if (len(w) == 0) != (len(g) == 0) {
			*out = append(*out, fmt.Sprintf("%s: Qdrant has %d elements, qlite %d", where, len(w), len(g)))
		}
		if len(w) == 0 || len(g) == 0 {
			return
		}
		for i := range max(len(w), len(g)) {
			diffShape(out, append(append([]string(nil), path...), strconv.Itoa(i)), w[min(i, len(w)-1)], g[min(i, len(g)-1)], ignore)
		}
	}
}

func diffIgnored(path []string, ignore [][]string) bool {
	for _, ig := range ignore {
		if len(ig) != len(path) {
			continue
		}
		match := true
		for i := range ig {
			if ig[i] != "*" && ig[i] != path[i] {
				match = false
				break
			}
		}
		if match {
			return true
		}
	}
	return false
}

func diffValues(out *[]string, path []string, want, got any, ignore [][]string, approx bool) {
	if diffIgnored(path, ignore) {
		return
	}
	where := strings.Join(path, ".")
	if where == "" {
		where = "(body)"
	}
	show := func(v any) string {
		b, _ := json.Marshal(v)
		if len(b) > 300 {
			return string(b[:300]) + "..."
		}
		return string(b)
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: Qdrant %s, qlite %s", where, show(want), show(got)))
			return
		}
		for _, k := range diffKeys(w, g) {
			p := append(append([]string(nil), path...), k)
			wv, wok := w[k]
			gv, gok := g[k]
			switch {
			case diffIgnored(p, ignore):
			case !wok:
				*out = append(*out, fmt.Sprintf("%s: Qdrant has no such field, qlite %s", strings.Join(p, "."), show(gv)))
			case !gok:
				*out = append(*out, fmt.Sprintf("%s: Qdrant %s, qlite has no such field", strings.Join(p, "."), show(wv)))
			default:
				diffValues(out, p, wv, gv, ignore, approx)
			}
		}
	case []any:
		g, ok := got.([]any)
		if !ok || len(g) != len(w) {
			*out = append(*out, fmt.Sprintf("%s: Qdrant %s, qlite %s", where, show(want), show(got)))
			return
		}
		for i := range w {
			diffValues(out, append(append([]string(nil), path...), strconv.Itoa(i)), w[i], g[i], ignore, approx)
		}
	case json.Number:
		g, ok := got.(json.Number)
		if !ok {
			*out = append(*out, fmt.Sprintf("%s: Qdrant %s, qlite %s", where, show(want), show(got)))
			return
		}
		wf, err1 := w.Float64()
		gf, err2 := g.Float64()
		same := err1 == nil && err2 == nil && wf == gf
		if !same && approx && err1 == nil && err2 == nil {
			same = math.Abs(wf-gf) <= 1e-5*math.Max(1, math.Max(math.Abs(wf), math.Abs(gf)))
		}
		if !same {
			*out = append(*out, fmt.Sprintf("%s: Qdrant %s, qlite %s", where, w, g))
		}
	default:
		if show(want) != show(got) {
			*out = append(*out, fmt.Sprintf("%s: Qdrant %s, qlite %s", where, show(want), show(got)))
		}
	}
}

var diffNumber = regexp.MustCompile(`-?[0-9]+(\.[0-9]+)?`)

// diffNumbersClose reports whether a and b are the same text with numbers
// in the same places that differ by at most tol.
func diffNumbersClose(a, b string, tol float64) bool {
	if diffNumber.ReplaceAllString(a, "#") != diffNumber.ReplaceAllString(b, "#") {
		return false
	}
	an, bn := diffNumber.FindAllString(a, -1), diffNumber.FindAllString(b, -1)
	for i := range an {
		x, err1 := strconv.ParseFloat(an[i], 64)
		y, err2 := strconv.ParseFloat(bn[i], 64)
		if err1 != nil || err2 != nil || math.Abs(x-y) > tol {
			return false
		}
	}
	return true
}

// diffTally counts agreeing scenarios per family.
type diffTally struct {
	Family    string   `json:"family"`
	Scenarios int      `json:"scenarios"`
	Agree     int      `json:"agree"`
	Differ    []string `json:"differ,omitempty"`
}

var diffFileRE = regexp.MustCompile(`\.txt$`)

// TestDifferential runs every scenario of testdata/diff against a real
// Qdrant server and qlite serve, and reports how many agree per family
// (written as JSON to QLITE_DIFF_REPORT when set).
func TestDifferential(t *testing.T) {
	q := realQdrant(t)
	db, h, g := startServer(t, nil)
	qd := newDiffTarget(t, "qdrant", q.httpAddr, q.grpcAddr, q.snapshots)
	ql := newDiffTarget(t, "qlite", h, g, db.SnapshotsDir())

	files, err := filepath.Glob(filepath.Join("testdata", "diff", "*.txt"))
	if err != nil {
		t.Fatal(err)
	}
	var tallies []diffTally
	for _, f := range files {
		if !diffFileRE.MatchString(f) {
			continue
		}
		scenarios, err := parseDiffFile(f)
		if err != nil {
			t.Fatal(err)
		}
		tally := diffTally{Family: strings.TrimSuffix(filepath.Base(f), ".txt")}
		for _, sc := range scenarios {
			diffs, ran := runDiffScenario(t, sc, qd, ql)
			if !ran {
				continue // left out by -run
			}
			tally.Scenarios++
			if len(diffs) == 0 {
				tally.Agree++
			} else {
				tally.Differ = append(tally.Differ, sc.name)
			}
		}
		if tally.Scenarios > 0 {
			tallies = append(tallies, tally)
		}
	}
	var sb strings.Builder
	total, agree := 0, 0
	for _, ta := range tallies {
		fmt.Fprintf(&sb, "%-14s %3d of %3d agree\n", ta.Family, ta.Agree, ta.Scenarios)
		total += ta.Scenarios
		agree += ta.Agree
	}
	fmt.Fprintf(&sb, "%-14s %3d of %3d agree", "all", agree, total)
	t.Logf("differential scenarios against Qdrant:\n%s", sb.String())
	if path := os.Getenv("QLITE_DIFF_REPORT"); path != "" {
		b, _ := json.MarshalIndent(tallies, "", "  ")
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Error(err)
		}
	}
}

// runDiffScenario runs one scenario on both servers and returns its
// differences; it fails the test on a difference unless the scenario is
// a known one. ran is false when -run leaves the scenario out.
func runDiffScenario(t *testing.T, sc *diffScenario, qd, ql *diffTarget) (diffs []string, ran bool) {
	t.Run(sc.family+"/"+sc.name, func(t *testing.T) {
		ran = true
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		for _, d := range []*diffTarget{qd, ql} {
			d.vars = nil
			if err := resetServer(d.http); err != nil {
				t.Fatalf("%s: reset: %v", d.name, err)
			}
		}
		for _, st := range sc.steps {
			if st.sleep > 0 {
				time.Sleep(st.sleep)
			}
			want, err := qd.do(ctx, st)
			if err != nil {
				t.Fatalf("line %d: Qdrant: %v", st.line, err)
			}
			got, err := ql.do(ctx, st)
			if err != nil {
				t.Fatalf("line %d: qlite: %v", st.line, err)
			}
			for _, d := range []struct {
				t *diffTarget
				a diffAnswer
			}{{qd, want}, {ql, got}} {
				if err := d.t.capture(st, d.a); err != nil {
					t.Fatalf("line %d: %v", st.line, err)
				}
			}
			for _, d := range diffCompare(st, want, got) {
				req := st.method + " " + st.path
				if st.grpc {
					req = "GRPC " + st.path
				}
				diffs = append(diffs, fmt.Sprintf("line %d %s: %s", st.line, req, d))
			}
		}
		if len(diffs) == 0 {
			if sc.known != "" {
				t.Logf("marked @known (%s) but agrees now", sc.known)
			}
			return
		}
		msg := fmt.Sprintf("%s (testdata/diff/%s.txt:%d) differs from Qdrant:\n  %s", sc.name, sc.family, sc.line, strings.Join(diffs, "\n  "))
		if sc.known != "" {
			t.Logf("known difference (%s): %s", sc.known, msg)
			return
		}
		t.Error(msg)
	})
	return diffs, ran
}
