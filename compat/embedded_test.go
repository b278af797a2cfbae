package compat

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/prototext"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
)

// embOpenDB opens a database for a test, checked and closed at cleanup. The
// optimizer is off, so that two databases given the same operations stay in
// the same state (segments, statuses) whatever the timing.
func embOpenDB(t testing.TB, dir string) *engine.DB {
	t.Helper()
	db, err := engine.Open(dir, &engine.Options{DisableOptimizer: true, IndexingWorkers: 1})
	require.NoError(t, err)
	t.Cleanup(func() {
		require.NoError(t, db.CheckInvariants())
		require.NoError(t, db.Close())
	})
	return db
}

// embServe serves db with NewServer on loopback ports until the test ends
// and returns go-client connected to its gRPC port, and that port's address.
func embServe(t testing.TB, db *engine.DB, cfg *ServerConfig) (*qdrant.Client, string) {
	t.Helper()
	c := ServerConfig{}
	if cfg != nil {
		c = *cfg
	}
	c.HTTPAddr, c.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	srv := NewServer(db, &c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	_, g, err := srv.Addrs(ctx)
	require.NoError(t, err)
	// Registered after the database's cleanup and before the client's, so
	// run after the client closes and before the database does.
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
	})
	return embDial(t, g, c.APIKey), g
}

// embDial connects go-client to a gRPC address until the test ends.
func embDial(t testing.TB, addr, apiKey string) *qdrant.Client {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	client, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, APIKey: apiKey, SkipCompatibilityCheck: true})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, client.Close()) })
	return client
}

// embTwin runs each step of a scenario twice, on two databases that start
// empty: through NewEmbedded, and through go-client connected to a qlite
// server, which is the oracle. Both must return the same results and
// errors.
type embTwin struct {
	t        *testing.T
	emb, net Client
	// real is set when net is the real Qdrant server.
	real bool
}

func embNewTwin(t *testing.T) *embTwin {
	emb := NewEmbedded(embOpenDB(t, t.TempDir()))
	net, _ := embServe(t, embOpenDB(t, t.TempDir()), nil)
	return &embTwin{t: t, emb: emb, net: net}
}

var embCtx = context.Background()

// same runs step on both clients and requires equal results and errors. It
// returns the embedded result and error.
func (w *embTwin) same(name string, step func(c Client) (any, error)) (any, error) {
	w.t.Helper()
	re, ee := step(w.emb)
	rn, en := step(w.net)
	if w.real {
		re, rn = embBesideQdrant(re), embBesideQdrant(rn)
		embAlignScores(reflect.ValueOf(re), reflect.ValueOf(rn))
	}
	if (ee == nil) != (en == nil) {
		w.t.Fatalf("%s: embedded error %v, server error %v", name, ee, en)
	}
	if ee != nil {
		require.Equal(w.t, en.Error(), ee.Error(), "%s: error text", name)
		require.Equal(w.t, status.Code(en), status.Code(ee), "%s: status code", name)
		return nil, ee
	}
	if !embEqual(reflect.ValueOf(re), reflect.ValueOf(rn)) {
		// A line diff of the two.
		require.Equal(w.t, embShow(rn), embShow(re), "%s: results differ (server, then embedded)", name)
		w.t.Fatalf("%s: results differ\nembedded: %s\nserver:   %s", name, embShow(re), embShow(rn))
	}
	return re, nil
}

// ok is same for a step that must succeed.
func (w *embTwin) ok(name string, step func(c Client) (any, error)) any {
	w.t.Helper()
	r, err := w.same(name, step)
	require.NoError(w.t, err, name)
	return r
}

// fails is same for a step that must fail with code.
func (w *embTwin) fails(name string, code codes.Code, step func(c Client) (any, error)) {
	w.t.Helper()
	_, err := w.same(name, step)
	require.Error(w.t, err, name)
	require.Equal(w.t, code, status.Code(err), "%s: %v", name, err)
}

// embBesideQdrant clears what legitimately differs between qlite and the
// real Qdrant server in a result: the build commit of a health reply, the
// segment count of collection info, peer ids (Qdrant draws one at random),
// operation ids and point versions
// (Qdrant spends an operation id on some writes it then refuses), and
// the order of collections and aliases in lists (Qdrant's is a hash map's).
func embBesideQdrant(r any) any {
	switch x := r.(type) {
	case proto.Message:
		if x == nil || !x.ProtoReflect().IsValid() {
			return r
		}
		r = embWithout(x, "operation_id", "version", "peer_id")
	}
	if v := reflect.ValueOf(r); v.Kind() == reflect.Slice && v.Type().Elem().Implements(reflect.TypeFor[proto.Message]()) {
		out := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			if m := v.Index(i).Interface().(proto.Message); m.ProtoReflect().IsValid() {
				out.Index(i).Set(reflect.ValueOf(embWithout(m, "operation_id", "version", "peer_id")))
			}
		}
		r = out.Interface()
	}
	switch x := r.(type) {
	case []string:
		return slices.Sorted(slices.Values(x))
	case []*qdrant.AliasDescription:
		return slices.SortedFunc(slices.Values(x), func(a, b *qdrant.AliasDescription) int {
			return strings.Compare(a.GetAliasName(), b.GetAliasName())
		})
	case *qdrant.CollectionInfo:
		if x == nil {
			return r
		}
		// How many segments hold the points is each engine's own layout,
		// and Qdrant's update queue may still hold an applied update for a
		// moment (its length is 1 now and then on a loaded machine).
		c := proto.Clone(x).(*qdrant.CollectionInfo)
		c.SegmentsCount = 0
		c.UpdateQueue = nil
		return c
	case *qdrant.HealthCheckReply:
		if x == nil {
			return r
		}
		c := proto.Clone(x).(*qdrant.HealthCheckReply)
		c.Commit = nil
		return c
	}
	return r
}

// embAlignScores gives a score of the embedded result a the value of the
// same score of the server's result b when they differ by at most 1e-5,
// relative: the real Qdrant server's Cosine and Dot scores may differ from
// qlite's in the last bits of a float32. a is a copy embBesideQdrant made or
// a fresh result.
func embAlignScores(a, b reflect.Value) {
	if !a.IsValid() || !b.IsValid() || a.Type() != b.Type() {
		return
	}
	if ma, ok := a.Interface().(proto.Message); ok && a.Kind() == reflect.Pointer && !a.IsNil() && !b.IsNil() {
		embAlignMessage(ma.ProtoReflect(), b.Interface().(proto.Message).ProtoReflect())
		return
	}
	switch a.Kind() {
	case reflect.Slice:
		for i := range min(a.Len(), b.Len()) {
			embAlignScores(a.Index(i), b.Index(i))
		}
	case reflect.Interface:
		embAlignScores(a.Elem(), b.Elem())
	}
}

func embAlignMessage(a, b protoreflect.Message) {
	a.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		if !b.Has(fd) {
			return true
		}
		w := b.Get(fd)
		switch {
		case fd.Name() == "score" && fd.Kind() == protoreflect.FloatKind:
			x, y := v.Float(), w.Float()
			if math.Abs(x-y) <= 1e-5*max(1, math.Abs(y)) {
				a.Set(fd, w)
			}
		case fd.IsList() && fd.Message() != nil:
			for i := range min(v.List().Len(), w.List().Len()) {
				embAlignMessage(v.List().Get(i).Message(), w.List().Get(i).Message())
			}
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			embAlignMessage(v.Message(), w.Message())
		}
		return true
	})
}

// embWithout returns a copy of m with the uint64 fields of these names
// cleared, at any depth.
func embWithout(m proto.Message, names ...string) proto.Message {
	c := proto.Clone(m)
	var clear func(protoreflect.Message)
	clear = func(m protoreflect.Message) {
		m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
			switch {
			case slices.Contains(names, string(fd.Name())) && fd.Kind() == protoreflect.Uint64Kind:
				m.Clear(fd)
			case fd.IsList() && fd.Message() != nil:
				for i := range v.List().Len() {
					clear(v.List().Get(i).Message())
				}
			case fd.IsMap() && fd.MapValue().Message() != nil:
				v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
					clear(mv.Message())
					return true
				})
			case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
				clear(v.Message())
			}
			return true
		})
	}
	clear(c.ProtoReflect())
	return c
}

// embEqual compares results: protobuf messages with proto.Equal once their
// timing fields are cleared, slices and structs element by element, other
// values with reflect.DeepEqual.
func embEqual(a, b reflect.Value) bool {
	if !a.IsValid() || !b.IsValid() {
		return a.IsValid() == b.IsValid()
	}
	if a.Type() != b.Type() {
		return false
	}
	if m, ok := a.Interface().(proto.Message); ok {
		return proto.Equal(embUntimed(m), embUntimed(b.Interface().(proto.Message)))
	}
	switch a.Kind() {
	case reflect.Slice:
		if a.Len() != b.Len() {
			return false
		}
		for i := range a.Len() {
			if !embEqual(a.Index(i), b.Index(i)) {
				return false
			}
		}
		return true
	case reflect.Struct:
		for i := range a.NumField() {
			if !embEqual(a.Field(i), b.Field(i)) {
				return false
			}
		}
		return true
	case reflect.Interface:
		return embEqual(a.Elem(), b.Elem())
	}
	return reflect.DeepEqual(a.Interface(), b.Interface())
}

// embUntimed returns a copy of m with every "time" field (the seconds a
// response took) cleared, at any depth.
func embUntimed(m proto.Message) proto.Message {
	if m == nil || !m.ProtoReflect().IsValid() {
		return m
	}
	c := proto.Clone(m)
	embClearTime(c.ProtoReflect())
	return c
}

func embClearTime(m protoreflect.Message) {
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.Name() == "time" && fd.Kind() == protoreflect.DoubleKind:
			m.Clear(fd)
		case fd.IsList() && fd.Message() != nil:
			for i := range v.List().Len() {
				embClearTime(v.List().Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				embClearTime(mv.Message())
				return true
			})
		case !fd.IsList() && !fd.IsMap() && fd.Message() != nil:
			embClearTime(v.Message())
		}
		return true
	})
}

// embShow formats a result for a failure message.
func embShow(v any) string {
	switch x := v.(type) {
	case proto.Message:
		return prototext.Format(x)
	case []*qdrant.RetrievedPoint:
		s := ""
		for _, p := range x {
			s += prototext.Format(p) + "; "
		}
		return s
	case []*qdrant.ScoredPoint:
		s := ""
		for _, p := range x {
			s += prototext.Format(p) + "; "
		}
		return s
	}
	return fmt.Sprintf("%+v", v)
}

// embPage is a ScrollAndOffset result.
type embPage struct {
	Points []*qdrant.RetrievedPoint
	Next   *qdrant.PointId
}

// embSnapshotTime matches the creation time in a snapshot name, and the
// peer id before it in a collection snapshot's (Qdrant draws its peer id at
// random; qlite's is 0).
var embSnapshotTime = regexp.MustCompile(`(-\d+-)?\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2}`)

// embPoints returns n points of dimension dim with payloads, numeric ids
// 1..n-3 and three UUIDs, from a fixed seed.
func embPoints(n, dim int, seed uint64) []*qdrant.PointStruct {
	rng := rand.New(rand.NewPCG(seed, 7))
	colors := []string{"red", "green", "blue"}
	out := make([]*qdrant.PointStruct, n)
	for i := range out {
		v := make([]float32, dim)
		for j := range v {
			v[j] = rng.Float32()*2 - 1
		}
		id := qdrant.NewIDNum(uint64(i + 1))
		if i >= n-3 {
			id = qdrant.NewIDUUID(fmt.Sprintf("%08x-1111-4222-8333-%012x", rng.Uint32(), i))
		}
		out[i] = &qdrant.PointStruct{
			Id:      id,
			Vectors: qdrant.NewVectorsDense(v),
			Payload: qdrant.NewValueMap(map[string]any{
				"color": colors[i%3],
				"n":     int64(i),
				"price": float64(i) * 1.5,
				"tags":  []any{"t" + fmt.Sprint(i%4), "all"},
				"meta":  map[string]any{"even": i%2 == 0},
			}),
		}
	}
	return out
}

func embVec(dim int, seed uint64) []float32 {
	rng := rand.New(rand.NewPCG(seed, 11))
	v := make([]float32, dim)
	for i := range v {
		v[i] = rng.Float32()*2 - 1
	}
	return v
}

// TestEmbeddedMatchesServer runs one scenario through NewEmbedded and through
// go-client over a qlite server, and requires the same result or error at
// every step.
func TestEmbeddedMatchesServer(t *testing.T) {
	embScenario(t, embNewTwin(t))
}

// TestEmbeddedMatchesQdrant runs the scenario of TestEmbeddedMatchesServer
// through NewEmbedded and through go-client over the real Qdrant server
// (QDRANT_BIN), which is the oracle.
func TestEmbeddedMatchesQdrant(t *testing.T) {
	q := realQdrant(t)
	require.NoError(t, q.reset())
	w := &embTwin{t: t, emb: NewEmbedded(embOpenDB(t, t.TempDir())), net: embDial(t, q.grpcAddr, ""), real: true}
	embScenario(t, w)
}

// embScenario is the scenario of the embedded client's tests.
func embScenario(t *testing.T, w *embTwin) {
	const coll, named = "emb", "emb_named"
	wait := qdrant.PtrOf(true)

	// Service and empty state.
	hc := w.ok("health", func(c Client) (any, error) { return c.HealthCheck(embCtx) }).(*qdrant.HealthCheckReply)
	require.Equal(t, qdrantVersion, hc.GetVersion())
	w.ok("list empty", func(c Client) (any, error) { return c.ListCollections(embCtx) })
	w.ok("exists before", func(c Client) (any, error) { return c.CollectionExists(embCtx, coll) })

	// Collections.
	w.ok("create", func(c Client) (any, error) {
		return nil, c.CreateCollection(embCtx, &qdrant.CreateCollection{
			CollectionName: coll,
			VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
			HnswConfig:     &qdrant.HnswConfigDiff{M: qdrant.PtrOf[uint64](8)},
		})
	})
	w.ok("create named", func(c Client) (any, error) {
		return nil, c.CreateCollection(embCtx, &qdrant.CreateCollection{
			CollectionName: named,
			VectorsConfig: qdrant.NewVectorsConfigMap(map[string]*qdrant.VectorParams{
				"a": {Size: 3, Distance: qdrant.Distance_Dot},
				"b": {Size: 2, Distance: qdrant.Distance_Euclid},
			}),
		})
	})
	w.fails("create again", codes.AlreadyExists, func(c Client) (any, error) {
		return nil, c.CreateCollection(embCtx, &qdrant.CreateCollection{
			CollectionName: coll,
			VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 4, Distance: qdrant.Distance_Cosine}),
		})
	})
	w.fails("create bad name", codes.InvalidArgument, func(c Client) (any, error) {
		return nil, c.CreateCollection(embCtx, &qdrant.CreateCollection{CollectionName: "a/b"})
	})
	names := w.ok("list", func(c Client) (any, error) { return c.ListCollections(embCtx) }).([]string)
	require.ElementsMatch(t, []string{coll, named}, names)
	w.ok("exists", func(c Client) (any, error) { return c.CollectionExists(embCtx, coll) })
	w.ok("update", func(c Client) (any, error) {
		return nil, c.UpdateCollection(embCtx, &qdrant.UpdateCollection{
			CollectionName:   coll,
			OptimizersConfig: &qdrant.OptimizersConfigDiff{IndexingThreshold: qdrant.PtrOf[uint64](20000)},
		})
	})
	info := w.ok("info", func(c Client) (any, error) { return c.GetCollectionInfo(embCtx, coll) }).(*qdrant.CollectionInfo)
	require.Equal(t, uint64(20000), info.GetConfig().GetOptimizerConfig().GetIndexingThreshold())
	w.fails("info missing", codes.NotFound, func(c Client) (any, error) { return c.GetCollectionInfo(embCtx, "nope") })

	// Aliases.
	w.ok("create alias", func(c Client) (any, error) { return nil, c.CreateAlias(embCtx, "al", coll) })
	w.ok("rename alias", func(c Client) (any, error) { return nil, c.RenameAlias(embCtx, "al", "al2") })
	w.ok("update aliases", func(c Client) (any, error) {
		return nil, c.UpdateAliases(embCtx, []*qdrant.AliasOperations{
			qdrant.NewAliasCreate("al3", named), qdrant.NewAliasCreate("al4", coll), qdrant.NewAliasDelete("al4"),
		})
	})
	aliases := w.ok("collection aliases", func(c Client) (any, error) { return c.ListCollectionAliases(embCtx, coll) }).([]string)
	require.Equal(t, []string{"al2"}, aliases)
	all := w.ok("all aliases", func(c Client) (any, error) { return c.ListAliases(embCtx) }).([]*qdrant.AliasDescription)
	require.Len(t, all, 2)
	w.ok("delete missing alias", func(c Client) (any, error) { return nil, c.DeleteAlias(embCtx, "nope") })
	w.fails("rename missing alias", codes.NotFound, func(c Client) (any, error) { return nil, c.RenameAlias(embCtx, "nope", "x") })
	w.fails("alias of missing", codes.NotFound, func(c Client) (any, error) { return nil, c.CreateAlias(embCtx, "x", "nope") })
	w.ok("delete alias", func(c Client) (any, error) { return nil, c.DeleteAlias(embCtx, "al3") })
	w.ok("no aliases", func(c Client) (any, error) { return c.ListCollectionAliases(embCtx, named) })

	// Points.
	points := embPoints(40, 4, 1)
	up := w.ok("upsert", func(c Client) (any, error) {
		return c.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: coll, Wait: wait, Points: points})
	}).(*qdrant.UpdateResult)
	require.Equal(t, qdrant.UpdateStatus_Completed, up.GetStatus())
	w.ok("upsert no wait", func(c Client) (any, error) {
		return c.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: "al2", Points: points[:2]})
	})
	w.fails("upsert wrong dim", codes.InvalidArgument, func(c Client) (any, error) {
		return c.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: coll, Wait: wait, Points: embPoints(1, 3, 3)})
	})
	w.fails("upsert missing collection", codes.NotFound, func(c Client) (any, error) {
		return c.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: "nope", Points: points[:1]})
	})
	w.fails("upsert nil request", codes.InvalidArgument, func(c Client) (any, error) { return c.Upsert(embCtx, nil) })
	got := w.ok("get", func(c Client) (any, error) {
		return c.Get(embCtx, &qdrant.GetPoints{
			CollectionName: coll,
			Ids:            []*qdrant.PointId{qdrant.NewIDNum(3), points[39].GetId(), qdrant.NewIDNum(999)},
			WithVectors:    qdrant.NewWithVectors(true),
		})
	}).([]*qdrant.RetrievedPoint)
	require.Len(t, got, 2)
	w.ok("get payload subset", func(c Client) (any, error) {
		return c.Get(embCtx, &qdrant.GetPoints{
			CollectionName: coll, Ids: []*qdrant.PointId{qdrant.NewIDNum(5)},
			WithPayload: qdrant.NewWithPayloadInclude("color", "meta"),
		})
	})
	w.fails("get bad uuid", codes.InvalidArgument, func(c Client) (any, error) {
		return c.Get(embCtx, &qdrant.GetPoints{CollectionName: coll, Ids: []*qdrant.PointId{qdrant.NewIDUUID("not-a-uuid")}})
	})

	// Scroll every page; the pages must cover all points once.
	seen := 0
	var offset *qdrant.PointId
	for page := 0; ; page++ {
		p := w.ok(fmt.Sprintf("scroll page %d", page), func(c Client) (any, error) {
			pts, next, err := c.ScrollAndOffset(embCtx, &qdrant.ScrollPoints{
				CollectionName: coll, Offset: offset, Limit: qdrant.PtrOf[uint32](7), WithVectors: qdrant.NewWithVectors(true),
			})
			return embPage{pts, next}, err
		}).(embPage)
		seen += len(p.Points)
		if p.Next == nil {
			break
		}
		offset = p.Next
	}
	require.Equal(t, 40, seen)
	w.ok("scroll filtered", func(c Client) (any, error) {
		return c.Scroll(embCtx, &qdrant.ScrollPoints{
			CollectionName: coll,
			Filter:         &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "red")}},
			Limit:          qdrant.PtrOf[uint32](100),
		})
	})
	w.fails("scroll limit 0", codes.InvalidArgument, func(c Client) (any, error) {
		return c.Scroll(embCtx, &qdrant.ScrollPoints{CollectionName: coll, Limit: qdrant.PtrOf[uint32](0)})
	})
	n := w.ok("count", func(c Client) (any, error) {
		return c.Count(embCtx, &qdrant.CountPoints{CollectionName: coll, Exact: wait})
	}).(uint64)
	require.Equal(t, uint64(40), n)
	w.ok("count filtered", func(c Client) (any, error) {
		return c.Count(embCtx, &qdrant.CountPoints{
			CollectionName: coll,
			Filter:         &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("n", &qdrant.Range{Gte: qdrant.PtrOf(10.0), Lt: qdrant.PtrOf(25.0)})}},
		})
	})

	// Payload operations.
	ids := qdrant.NewPointsSelector(qdrant.NewIDNum(1), qdrant.NewIDNum(2))
	w.ok("set payload", func(c Client) (any, error) {
		return c.SetPayload(embCtx, &qdrant.SetPayloadPoints{
			CollectionName: coll, Wait: wait, PointsSelector: ids,
			Payload: qdrant.NewValueMap(map[string]any{"extra": "x", "color": nil}),
		})
	})
	w.ok("set payload key", func(c Client) (any, error) {
		return c.SetPayload(embCtx, &qdrant.SetPayloadPoints{
			CollectionName: coll, Wait: wait, PointsSelector: ids, Key: qdrant.PtrOf("meta"),
			Payload: qdrant.NewValueMap(map[string]any{"deep": 1}),
		})
	})
	w.ok("overwrite payload", func(c Client) (any, error) {
		return c.OverwritePayload(embCtx, &qdrant.SetPayloadPoints{
			CollectionName: coll, Wait: wait, PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(3)),
			Payload: qdrant.NewValueMap(map[string]any{"only": true}),
		})
	})
	w.ok("delete payload", func(c Client) (any, error) {
		return c.DeletePayload(embCtx, &qdrant.DeletePayloadPoints{
			CollectionName: coll, Wait: wait, Keys: []string{"tags", "meta.even"},
			PointsSelector: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "blue")}}),
		})
	})
	w.ok("clear payload", func(c Client) (any, error) {
		return c.ClearPayload(embCtx, &qdrant.ClearPayloadPoints{CollectionName: coll, Wait: wait, Points: qdrant.NewPointsSelector(qdrant.NewIDNum(4))})
	})
	w.fails("clear payload no selector", codes.InvalidArgument, func(c Client) (any, error) {
		return c.ClearPayload(embCtx, &qdrant.ClearPayloadPoints{CollectionName: coll})
	})
	w.ok("payloads after", func(c Client) (any, error) {
		return c.Scroll(embCtx, &qdrant.ScrollPoints{CollectionName: coll, Limit: qdrant.PtrOf[uint32](100)})
	})

	// Field indexes.
	kw, integer := qdrant.FieldType_FieldTypeKeyword, qdrant.FieldType_FieldTypeInteger
	w.ok("index color", func(c Client) (any, error) {
		return c.CreateFieldIndex(embCtx, &qdrant.CreateFieldIndexCollection{CollectionName: coll, Wait: wait, FieldName: "color", FieldType: &kw})
	})
	w.ok("index n", func(c Client) (any, error) {
		return c.CreateFieldIndex(embCtx, &qdrant.CreateFieldIndexCollection{
			CollectionName: coll, Wait: wait, FieldName: "n", FieldType: &integer,
			FieldIndexParams: qdrant.NewPayloadIndexParamsInt(&qdrant.IntegerIndexParams{Lookup: qdrant.PtrOf(true), Range: qdrant.PtrOf(true)}),
		})
	})
	info = w.ok("info with indexes", func(c Client) (any, error) { return c.GetCollectionInfo(embCtx, coll) }).(*qdrant.CollectionInfo)
	require.Len(t, info.GetPayloadSchema(), 2)
	w.ok("scroll order by", func(c Client) (any, error) {
		return c.Scroll(embCtx, &qdrant.ScrollPoints{
			CollectionName: coll, Limit: qdrant.PtrOf[uint32](5),
			OrderBy: &qdrant.OrderBy{Key: "n", Direction: qdrant.Direction_Desc.Enum()},
		})
	})

	// Queries.
	q := embVec(4, 9)
	hits := w.ok("query nearest", func(c Client) (any, error) {
		return c.Query(embCtx, &qdrant.QueryPoints{
			CollectionName: coll, Query: qdrant.NewQuery(q...), Limit: qdrant.PtrOf[uint64](5),
			WithPayload: qdrant.NewWithPayload(true), WithVectors: qdrant.NewWithVectors(true),
		})
	}).([]*qdrant.ScoredPoint)
	require.Len(t, hits, 5)
	w.ok("query filter", func(c Client) (any, error) {
		return c.Query(embCtx, &qdrant.QueryPoints{
			CollectionName: coll, Query: qdrant.NewQuery(q...), Limit: qdrant.PtrOf[uint64](5),
			Filter: &qdrant.Filter{
				Must:    []*qdrant.Condition{qdrant.NewMatchKeywords("color", "red", "green")},
				MustNot: []*qdrant.Condition{qdrant.NewRange("n", &qdrant.Range{Lt: qdrant.PtrOf(5.0)})},
			},
			ScoreThreshold: qdrant.PtrOf[float32](-0.5),
		})
	})
	w.ok("query by id", func(c Client) (any, error) {
		return c.Query(embCtx, &qdrant.QueryPoints{CollectionName: coll, Query: qdrant.NewQueryID(qdrant.NewIDNum(7)), Limit: qdrant.PtrOf[uint64](3)})
	})
	w.ok("query offset", func(c Client) (any, error) {
		return c.Query(embCtx, &qdrant.QueryPoints{CollectionName: coll, Query: qdrant.NewQuery(q...), Offset: qdrant.PtrOf[uint64](3)})
	})
	w.fails("query wrong dim", codes.InvalidArgument, func(c Client) (any, error) {
		return c.Query(embCtx, &qdrant.QueryPoints{CollectionName: coll, Query: qdrant.NewQuery(1, 2)})
	})
	batch := w.ok("query batch", func(c Client) (any, error) {
		return c.QueryBatch(embCtx, &qdrant.QueryBatchPoints{CollectionName: coll, QueryPoints: []*qdrant.QueryPoints{
			{CollectionName: coll, Query: qdrant.NewQuery(q...), Limit: qdrant.PtrOf[uint64](2)},
			{CollectionName: coll, Query: qdrant.NewQuery(embVec(4, 10)...), Filter: &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "green")}}},
		}})
	}).([]*qdrant.BatchResult)
	require.Len(t, batch, 2)
	groups := w.ok("query groups", func(c Client) (any, error) {
		return c.QueryGroups(embCtx, &qdrant.QueryPointGroups{
			CollectionName: coll, Query: qdrant.NewQuery(q...), GroupBy: "color",
			GroupSize: qdrant.PtrOf[uint64](2), Limit: qdrant.PtrOf[uint64](3), WithPayload: qdrant.NewWithPayload(true),
		})
	}).([]*qdrant.PointGroup)
	require.NotEmpty(t, groups)
	facet := w.ok("facet", func(c Client) (any, error) {
		return c.Facet(embCtx, &qdrant.FacetCounts{CollectionName: coll, Key: "color", Exact: wait})
	}).([]*qdrant.FacetHit)
	require.NotEmpty(t, facet)
	w.fails("facet unindexed", codes.InvalidArgument, func(c Client) (any, error) {
		return c.Facet(embCtx, &qdrant.FacetCounts{CollectionName: coll, Key: "price"})
	})
	// The matrix samples points at random; a filter selecting no more points
	// than the sample makes it deterministic.
	few := &qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewRange("n", &qdrant.Range{Gte: qdrant.PtrOf(10.0), Lt: qdrant.PtrOf(16.0)})}}
	w.ok("matrix pairs", func(c Client) (any, error) {
		return c.SearchMatrixPairs(embCtx, &qdrant.SearchMatrixPoints{CollectionName: coll, Filter: few, Sample: qdrant.PtrOf[uint64](10), Limit: qdrant.PtrOf[uint64](2)})
	})
	w.ok("matrix offsets", func(c Client) (any, error) {
		return c.SearchMatrixOffsets(embCtx, &qdrant.SearchMatrixPoints{CollectionName: coll, Filter: few, Sample: qdrant.PtrOf[uint64](10), Limit: qdrant.PtrOf[uint64](2)})
	})

	// Named vectors, vector updates and batches.
	w.ok("upsert named", func(c Client) (any, error) {
		return c.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: named, Wait: wait, Points: []*qdrant.PointStruct{
			{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(1, 2, 3), "b": qdrant.NewVector(0, 1)})},
			{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(3, 2, 1)})},
		}})
	})
	w.ok("update vectors", func(c Client) (any, error) {
		return c.UpdateVectors(embCtx, &qdrant.UpdatePointVectors{CollectionName: named, Wait: wait, Points: []*qdrant.PointVectors{
			{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"b": qdrant.NewVector(5, 5)})},
		}})
	})
	w.fails("update vectors missing point", codes.NotFound, func(c Client) (any, error) {
		return c.UpdateVectors(embCtx, &qdrant.UpdatePointVectors{CollectionName: named, Wait: wait, Points: []*qdrant.PointVectors{
			{Id: qdrant.NewIDNum(99), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"b": qdrant.NewVector(5, 5)})},
		}})
	})
	w.ok("delete vectors", func(c Client) (any, error) {
		return c.DeleteVectors(embCtx, &qdrant.DeletePointVectors{
			CollectionName: named, Wait: wait, PointsSelector: qdrant.NewPointsSelector(qdrant.NewIDNum(1)),
			Vectors: &qdrant.VectorsSelector{Names: []string{"b"}},
		})
	})
	w.ok("query named", func(c Client) (any, error) {
		return c.Query(embCtx, &qdrant.QueryPoints{
			CollectionName: named, Query: qdrant.NewQuery(1, 1), Using: qdrant.PtrOf("b"), WithVectors: qdrant.NewWithVectors(true),
		})
	})
	res := w.ok("update batch", func(c Client) (any, error) {
		return c.UpdateBatch(embCtx, &qdrant.UpdateBatchPoints{CollectionName: named, Wait: wait, Operations: []*qdrant.PointsUpdateOperation{
			qdrant.NewPointsUpdateUpsert(&qdrant.PointsUpdateOperation_PointStructList{Points: []*qdrant.PointStruct{
				{Id: qdrant.NewIDNum(3), Vectors: qdrant.NewVectorsMap(map[string]*qdrant.Vector{"a": qdrant.NewVector(0, 0, 1)}), Payload: qdrant.NewValueMap(map[string]any{"k": "v"})},
			}}),
			qdrant.NewPointsUpdateDeletePoints(&qdrant.PointsUpdateOperation_DeletePoints{Points: qdrant.NewPointsSelector(qdrant.NewIDNum(1))}),
		}})
	}).([]*qdrant.UpdateResult)
	require.Len(t, res, 2)
	w.ok("named after", func(c Client) (any, error) {
		return c.Scroll(embCtx, &qdrant.ScrollPoints{CollectionName: named, WithVectors: qdrant.NewWithVectors(true)})
	})
	w.ok("delete points", func(c Client) (any, error) {
		return c.Delete(embCtx, &qdrant.DeletePoints{
			CollectionName: coll, Wait: wait,
			Points: qdrant.NewPointsSelectorFilter(&qdrant.Filter{Must: []*qdrant.Condition{qdrant.NewMatch("color", "green")}}),
		})
	})
	w.ok("count after delete", func(c Client) (any, error) { return c.Count(embCtx, &qdrant.CountPoints{CollectionName: coll}) })

	// Sharding and cluster, as a single node answers.
	w.ok("cluster info", func(c Client) (any, error) { return c.GetCollectionClusterInfo(embCtx, coll) })
	w.ok("shard keys", func(c Client) (any, error) { return c.ListShardKeys(embCtx, coll) })
	w.same("create shard key", func(c Client) (any, error) {
		return nil, c.CreateShardKey(embCtx, coll, &qdrant.CreateShardKey{ShardKey: qdrant.NewShardKey("k")})
	})
	w.same("delete shard key", func(c Client) (any, error) {
		return nil, c.DeleteShardKey(embCtx, coll, &qdrant.DeleteShardKey{ShardKey: qdrant.NewShardKey("k")})
	})
	w.same("cluster setup", func(c Client) (any, error) {
		return nil, c.UpdateClusterCollectionSetup(embCtx,
			qdrant.NewUpdateCollectionClusterDeleteShardKey(coll, &qdrant.DeleteShardKey{ShardKey: qdrant.NewShardKey("k")}))
	})

	// Snapshots: each side deletes its own; names differ only in their time.
	w.ok("snapshots", func(c Client) (any, error) {
		d, err := c.CreateSnapshot(embCtx, coll)
		if err != nil {
			return nil, err
		}
		list, err := c.ListSnapshots(embCtx, coll)
		if err != nil {
			return nil, err
		}
		if len(list) != 1 || list[0].GetName() != d.GetName() || d.GetSize() == 0 || d.GetChecksum() == "" {
			return nil, fmt.Errorf("listed %v after creating %v", list, d)
		}
		if err := c.DeleteSnapshot(embCtx, coll, d.GetName()); err != nil {
			return nil, err
		}
		after, err := c.ListSnapshots(embCtx, coll)
		return []any{embSnapshotTime.ReplaceAllString(d.GetName(), "T"), len(after)}, err
	})
	w.same("delete missing snapshot", func(c Client) (any, error) { return nil, c.DeleteSnapshot(embCtx, coll, "nope.snapshot") })
	w.ok("full snapshot", func(c Client) (any, error) {
		d, err := c.CreateFullSnapshot(embCtx)
		if err != nil {
			return nil, err
		}
		list, err := c.ListFullSnapshots(embCtx)
		if err != nil {
			return nil, err
		}
		if len(list) != 1 || list[0].GetName() != d.GetName() || d.GetSize() == 0 {
			return nil, fmt.Errorf("listed %v after creating %v", list, d)
		}
		if err := c.DeleteFullSnapshot(embCtx, d.GetName()); err != nil {
			return nil, err
		}
		after, err := c.ListFullSnapshots(embCtx)
		return []any{embSnapshotTime.ReplaceAllString(d.GetName(), "T"), len(after)}, err
	})
	w.same("delete full snapshot", func(c Client) (any, error) { return nil, c.DeleteFullSnapshot(embCtx, "nope.snapshot") })

	// Errors made by the client or the transport.
	cancelled, cancel := context.WithCancel(embCtx)
	cancel()
	w.fails("cancelled", codes.Canceled, func(c Client) (any, error) {
		return c.Count(cancelled, &qdrant.CountPoints{CollectionName: coll})
	})
	expired, cancel := context.WithDeadline(embCtx, time.Now().Add(-time.Second))
	defer cancel()
	w.fails("expired", codes.DeadlineExceeded, func(c Client) (any, error) { return c.ListCollections(expired) })

	// Deletions.
	w.ok("delete index", func(c Client) (any, error) {
		return c.DeleteFieldIndex(embCtx, &qdrant.DeleteFieldIndexCollection{CollectionName: coll, Wait: wait, FieldName: "n"})
	})
	w.ok("info after", func(c Client) (any, error) { return c.GetCollectionInfo(embCtx, coll) })
	w.ok("delete", func(c Client) (any, error) { return nil, c.DeleteCollection(embCtx, coll) })
	w.fails("delete again", codes.Unknown, func(c Client) (any, error) { return nil, c.DeleteCollection(embCtx, coll) })
	w.ok("aliases after", func(c Client) (any, error) { return c.ListAliases(embCtx) })
	w.ok("list after", func(c Client) (any, error) { return c.ListCollections(embCtx) })
}

// TestEmbeddedErrors checks the errors of the embedded client against
// go-client's: the text, the status code and message.
func TestEmbeddedErrors(t *testing.T) {
	w := embNewTwin(t)
	_, err := w.same("get missing", func(c Client) (any, error) {
		return c.Get(embCtx, &qdrant.GetPoints{CollectionName: "nope", Ids: []*qdrant.PointId{qdrant.NewIDNum(1)}})
	})
	require.Equal(t, "Get() failed: nope: rpc error: code = NotFound desc = Not found: Collection `nope` doesn't exist!", err.Error())
	st, ok := status.FromError(err)
	require.True(t, ok)
	require.Equal(t, codes.NotFound, st.Code())

	_, err = w.same("rename missing", func(c Client) (any, error) { return nil, c.RenameAlias(embCtx, "a", "b") })
	require.Regexp(t, `^RenameAlias\(\) failed: rpc error: code = NotFound`, err.Error())
}

// TestEmbeddedOwnership checks that the embedded client keeps no reference
// to what it is given or returns, as a remote client cannot, and that Close
// leaves the engine to its owner.
func TestEmbeddedOwnership(t *testing.T) {
	db := embOpenDB(t, t.TempDir())
	e := NewEmbedded(db)
	require.NoError(t, e.CreateCollection(embCtx, &qdrant.CreateCollection{
		CollectionName: "own",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Euclid}),
	}))
	vec := []float32{1, 2, 3}
	pl := qdrant.NewValueMap(map[string]any{"k": "v"})
	_, err := e.Upsert(embCtx, &qdrant.UpsertPoints{CollectionName: "own", Wait: qdrant.PtrOf(true), Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectorsDense(vec), Payload: pl},
	}})
	require.NoError(t, err)
	vec[0] = 100
	pl["k"] = qdrant.NewValueString("changed")

	get := func() *qdrant.RetrievedPoint {
		ps, err := e.Get(embCtx, &qdrant.GetPoints{CollectionName: "own", Ids: []*qdrant.PointId{qdrant.NewIDNum(1)}, WithVectors: qdrant.NewWithVectors(true), WithPayload: qdrant.NewWithPayload(true)})
		require.NoError(t, err)
		require.Len(t, ps, 1)
		return ps[0]
	}
	p := get()
	require.Equal(t, []float32{1, 2, 3}, p.GetVectors().GetVector().GetDenseVector().GetData())
	require.Equal(t, "v", p.GetPayload()["k"].GetStringValue())
	p.GetVectors().GetVector().GetDenseVector().GetData()[1] = -1
	p.GetPayload()["k"] = qdrant.NewValueString("changed")
	p = get()
	require.Equal(t, []float32{1, 2, 3}, p.GetVectors().GetVector().GetDenseVector().GetData())
	require.Equal(t, "v", p.GetPayload()["k"].GetStringValue())

	// The engine agrees.
	recs, err := db.Get(embCtx, "own", []engine.PointID{filter.NumID(1)}, &engine.ReadOptions{WithVectors: engine.AllVectors})
	require.NoError(t, err)
	require.Len(t, recs, 1)
	require.Equal(t, []float32{1, 2, 3}, recs[0].Vectors[""])

	require.NoError(t, e.Close())
	require.NoError(t, e.Close())
	_, err = e.ListCollections(embCtx)
	require.Equal(t, codes.Canceled, status.Code(err))
	names, err := db.ListCollections(embCtx)
	require.NoError(t, err)
	require.Equal(t, []string{"own"}, names)
	n, err := NewEmbedded(db).Count(embCtx, &qdrant.CountPoints{CollectionName: "own"})
	require.NoError(t, err)
	require.Equal(t, uint64(1), n)
}
