package compat

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	"github.com/qlite/qlite/engine"
)

// Limits bound what one request may ask of a server, beyond the size of
// its body (MaxRequestBytes). Qdrant has none of them: a query batch of a
// million empty queries (3 MB) takes it 3 GB and over a minute. Zero
// fields take their defaults.
type Limits struct {
	// MaxBatch is the most searches one batch request may hold (search,
	// query, recommend and discover batches, REST and gRPC). The entries
	// are counted in the body before it is decoded. Default 10,000.
	MaxBatch int
	// MaxRequestMemory bounds the memory the results of one search, query,
	// recommend, discover or scroll request or batch are estimated to take: per
	// search, a fixed cost plus, per point it can return (its limit plus
	// offset, at most the collection's points), a point's cost (larger when
	// vectors are returned, by as many vectors as the collection's points
	// hold on average, multivectors' counted one by one). A request above
	// it is refused before it runs.
	// Default 1 GiB.
	MaxRequestMemory int64
	// MaxFilterConditions bounds the conditions of a request's filters,
	// summed, counted as strict mode counts them. Default 10,000.
	MaxFilterConditions int
}

// Defaults of Limits.
const (
	defaultMaxBatch         = 10_000
	defaultMaxRequestMemory = 1 << 30
	defaultMaxConditions    = 10_000
)

// withDefaults returns l with its zero fields defaulted.
func (l Limits) withDefaults() Limits {
	if l.MaxBatch <= 0 {
		l.MaxBatch = defaultMaxBatch
	}
	if l.MaxRequestMemory <= 0 {
		l.MaxRequestMemory = defaultMaxRequestMemory
	}
	if l.MaxFilterConditions <= 0 {
		l.MaxFilterConditions = defaultMaxConditions
	}
	return l
}

// The costs of the memory estimate: per search of a batch, per point a
// search may return, and per vector when vectors are returned too (a
// 768-dimension vector, decoded and encoded), times the vectors the
// collection's points hold on average (their multivectors' every vector).
const (
	costPerSearch = 4 << 10
	costPerPoint  = 1 << 10
	costPerVector = 8 << 10
)

// errTooMuchMemory is the refusal of a request whose results would take
// more than the limit.
type errTooMuchMemory struct{ est, limit int64 }

func (e *errTooMuchMemory) Error() string {
	return fmt.Sprintf("Bad request: the request could take about %d MiB for its results, more than the server allows for one request (%d MiB); lower its limit, its batch size or the vectors it returns",
		e.est>>20, e.limit>>20)
}

// window is what one search of a request may return.
type window struct {
	limit, offset int
	vectors       bool
}

// admit estimates the memory of a request's searches and refuses it when
// above the limit. points bounds each window (the collection's points,
// read only when a window could exceed it).
func (l *Limits) admit(ctx context.Context, db *engine.DB, coll string, ws []window) error {
	var est int64
	points, perPoint := int64(-1), int64(-1)
	for _, w := range ws {
		n := int64(w.limit) + int64(w.offset)
		if n*costPerPoint > l.MaxRequestMemory/int64(max(len(ws), 1)) && points < 0 {
			_, p, err := db.BoundWindow(ctx, coll, 1, math.MaxUint64)
			if err != nil {
				return err
			}
			points = int64(p)
		}
		if points >= 0 {
			n = min(n, points)
		}
		per := int64(costPerPoint)
		if w.vectors {
			if perPoint < 0 {
				p, v, err := db.HeldVectors(ctx, coll)
				if err != nil {
					return err
				}
				// Vectors a point, rounded up: a point may return all
				// of its vectors, a multivector's every one.
				perPoint = max(1, (int64(v)+int64(p)-1)/max(int64(p), 1))
			}
			per += costPerVector * perPoint
		}
		est += costPerSearch + n*per
	}
	if est > l.MaxRequestMemory {
		return &errTooMuchMemory{est, l.MaxRequestMemory}
	}
	return nil
}

// batchTooLarge is the refusal of a batch with more than max searches.
func batchTooLarge(max int) string {
	return fmt.Sprintf("Bad request: the batch holds more than %d searches, the most the server allows in one request", max)
}

// restCheckBatch refuses, with 400, a body whose top-level array key holds
// more than max elements, before the body is decoded; and, as Qdrant
// does, one with a null element ("invalid type: null, expected struct
// elem").
func restCheckBatch(body []byte, key, elem string, max int) error {
	n, null := jsonArrayScan(body, key, max)
	if n > max {
		return &restError{http.StatusBadRequest, batchTooLarge(max)}
	}
	if null >= 0 {
		line, col := restLineCol(body, int64(null))
		return restFormatError("invalid type: null, expected struct %s at line %d column %d", elem, line, col)
	}
	return nil
}

// jsonArrayScan counts the elements of the array under key in the
// top-level object of data, stopping once it passes stop, and returns the
// offset just past its first null element (or -1). The count is 0 when
// there is no such array. data need not be valid JSON: the scan only
// decides whether to decode it.
func jsonArrayScan(data []byte, key string, stop int) (n, null int) {
	null = -1
	depth := 0
	inArray := false // inside the array of key, at depth 2
	atElem := false  // where an element of that array starts
	lastKey := ""
	expectKey := false
	elem := func() {
		if inArray && depth == 2 && n == 0 {
			n = 1
		}
		atElem = false
	}
	for i := 0; i < len(data); i++ {
		switch c := data[i]; c {
		case '"':
			elem()
			start := i + 1
			for i++; i < len(data) && data[i] != '"'; i++ {
				if data[i] == '\\' {
					i++
				}
			}
			if depth == 1 && expectKey {
				lastKey = string(data[start:min(i, len(data))])
			}
		case '{', '[':
			elem()
			depth++
			expectKey = c == '{' && depth == 1
			if depth == 2 && c == '[' && lastKey == key {
				inArray, atElem = true, true
			}
		case '}', ']':
			depth--
			if inArray && depth == 1 {
				return n, null
			}
		case ',':
			if inArray && depth == 2 {
				n++
				if n > stop {
					return n, null
				}
				atElem = true
			}
			expectKey = depth == 1
		case ':':
			expectKey = false
		case ' ', '\t', '\n', '\r':
		default:
			if atElem && null < 0 && bytes.HasPrefix(data[i:], []byte("null")) {
				null = i + len("null")
			}
			elem()
		}
	}
	return n, null
}

// batchFields names, for each batch message of the gRPC API, its repeated
// field of searches.
var batchFields = map[protoreflect.FullName]protoreflect.FieldNumber{}

func init() {
	for _, m := range []proto.Message{&qdrant.SearchBatchPoints{}, &qdrant.QueryBatchPoints{}, &qdrant.RecommendBatchPoints{}, &qdrant.DiscoverBatchPoints{}} {
		md := m.ProtoReflect().Descriptor()
		for i := range md.Fields().Len() {
			if f := md.Fields().Get(i); f.IsList() && f.Kind() == protoreflect.MessageKind {
				batchFields[md.FullName()] = f.Number()
			}
		}
	}
}

// batchCodec is the server's protobuf codec: before a batch message is
// decoded, it counts the searches on the wire, and of a batch above the
// limit decodes only the first max+1, which the method then refuses: a
// message of many small entries is never expanded in memory.
type batchCodec struct {
	encoding.CodecV2
	max int
}

func (c batchCodec) Unmarshal(data mem.BufferSlice, v any) error {
	m, ok := v.(proto.Message)
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	field, ok := batchFields[m.ProtoReflect().Descriptor().FullName()]
	if !ok {
		return c.CodecV2.Unmarshal(data, v)
	}
	buf := data.MaterializeToBuffer(mem.DefaultBufferPool())
	defer buf.Free()
	b := buf.ReadOnlyData()
	if protoCount(b, field, c.max) <= c.max {
		return proto.Unmarshal(b, m)
	}
	return proto.Unmarshal(protoTruncate(b, field, c.max+1), m)
}

// protoCount counts the top-level occurrences of field in a protobuf
// message, stopping once it passes stop.
func protoCount(b []byte, field protoreflect.FieldNumber, stop int) int {
	n := 0
	for len(b) > 0 && n <= stop {
		num, l := protoNext(b)
		if l < 0 {
			return n
		}
		b = b[l:]
		if num == field {
			n++
		}
	}
	return n
}

// protoTruncate returns a copy of a protobuf message keeping only the
// first keep occurrences of field (and every other field).
func protoTruncate(b []byte, field protoreflect.FieldNumber, keep int) []byte {
	var out []byte
	for len(b) > 0 {
		num, l := protoNext(b)
		if l < 0 {
			return append(out, b...) // let the decoder report it
		}
		if num != field || keep > 0 {
			out = append(out, b[:l]...)
			if num == field {
				keep--
			}
		}
		b = b[l:]
	}
	return out
}

// protoNext returns the number of the first field of b and its length
// with its tag, or a negative length when b does not parse.
func protoNext(b []byte) (protoreflect.FieldNumber, int) {
	num, typ, l := protowire.ConsumeTag(b)
	if l < 0 {
		return 0, l
	}
	n := protowire.ConsumeFieldValue(num, typ, b[l:])
	if n < 0 {
		return 0, n
	}
	return num, l + n
}

// windowsOf lists the windows of a batch's requests.
func windowsOf[R any](reqs []R, w func(*R) window) []window {
	out := make([]window, len(reqs))
	for i := range reqs {
		out[i] = w(&reqs[i])
	}
	return out
}

func searchWindow(r *engine.SearchRequest) window {
	return window{r.Limit, r.Offset, r.WithVectors.Enable || len(r.WithVectors.Names) > 0}
}

func queryWindow(r *engine.QueryRequest) window {
	return window{max(r.Limit, 10), r.Offset, r.WithVectors.Enable || len(r.WithVectors.Names) > 0}
}

func scrollWindow(r *engine.ScrollRequest) window {
	return window{r.Limit, 0, r.WithVectors.Enable || len(r.WithVectors.Names) > 0}
}

func recommendWindow(r *engine.RecommendRequest) window {
	return window{r.Limit, r.Offset, r.WithVectors.Enable || len(r.WithVectors.Names) > 0}
}

// grpcAdmit checks a gRPC batch's size and estimated memory.
func (l *Limits) grpcAdmit(ctx context.Context, db *engine.DB, coll string, ws []window) error {
	if len(ws) > l.MaxBatch {
		return status.Error(codes.InvalidArgument, batchTooLarge(l.MaxBatch))
	}
	if err := l.admit(ctx, db, coll, ws); err != nil {
		var tm *errTooMuchMemory
		if errors.As(err, &tm) {
			return status.Error(codes.InvalidArgument, tm.Error())
		}
		return GRPCError(err)
	}
	return nil
}

// restAdmit checks a REST batch's estimated memory.
func (l *Limits) restAdmit(ctx context.Context, db *engine.DB, coll string, ws []window) error {
	if err := l.admit(ctx, db, coll, ws); err != nil {
		var tm *errTooMuchMemory
		if errors.As(err, &tm) {
			return &restError{http.StatusBadRequest, tm.Error()}
		}
		return err
	}
	return nil
}
