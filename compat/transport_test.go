package compat

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/zstd"
	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
)

// allocatedDuring returns the bytes the process allocated while f ran: an
// upper bound of the memory a request made the in-process server take.
func allocatedDuring(f func()) uint64 {
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

// gzipBomb returns concatenated gzip members that decompress to n MiB of
// zeros (a gzip reader reads every member), built without holding them.
func gzipBomb(t testing.TB, n int) []byte {
	var one bytes.Buffer
	zw, err := gzip.NewWriterLevel(&one, gzip.BestCompression)
	require.NoError(t, err)
	_, err = zw.Write(make([]byte, 1<<20))
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return bytes.Repeat(one.Bytes(), n)
}

// grpcRaw sends one gRPC call as raw HTTP/2 with a compressed message and
// returns its grpc-status, so that the client neither builds nor
// compresses the message it sends.
func grpcRaw(t testing.TB, addr, method, encoding string, compressed []byte, header map[string]string) codes.Code {
	t.Helper()
	var tr http.Transport
	tr.Protocols = new(http.Protocols)
	tr.Protocols.SetUnencryptedHTTP2(true)
	defer tr.CloseIdleConnections()
	frame := make([]byte, 5, 5+len(compressed))
	if encoding != "" {
		frame[0] = 1
	}
	binary.BigEndian.PutUint32(frame[1:], uint32(len(compressed)))
	frame = append(frame, compressed...)
	req, err := http.NewRequest("POST", "http://"+addr+method, bytes.NewReader(frame))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	if encoding != "" {
		req.Header.Set("Grpc-Encoding", encoding)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := (&http.Client{Transport: &tr}).Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	st := resp.Trailer.Get("Grpc-Status")
	if st == "" {
		st = resp.Header.Get("Grpc-Status") // a trailers-only answer
	}
	code, err := strconv.Atoi(st)
	require.NoError(t, err, "grpc-status %q", st)
	return codes.Code(code)
}

// goClient returns a go-client over the gRPC address g, closed at the
// end of the test.
func goClient(t *testing.T, g, key string) *qdrant.Client {
	t.Helper()
	host, port, err := net.SplitHostPort(g)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, APIKey: key, SkipCompatibilityCheck: true})
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return c
}

// requireServes checks that the server still answers both APIs.
func requireServes(t *testing.T, h, g, key string) {
	t.Helper()
	code, body := httpDo(t, "GET", "http://"+h+"/collections", "", map[string]string{"api-key": key})
	require.Equal(t, 200, code, body)
	_, err := goClient(t, g, key).ListCollections(context.Background())
	require.NoError(t, err)
}

// A compressed gRPC message is neither read nor decompressed for a caller
// without a key, and for one with a key decompression stops at the limit.
func TestGRPCAuthBeforeDecompression(t *testing.T) {
	_, h, g := startServer(t, &ServerConfig{APIKey: "secret", ReadOnlyAPIKey: "ro"})
	const mib = 256
	bomb := gzipBomb(t, mib)
	for _, tc := range []struct {
		name   string
		header map[string]string
		want   codes.Code
		max    uint64
	}{
		// Refused from its headers: nothing of the message is kept.
		{"no key", nil, codes.Unauthenticated, 4 << 20},
		{"wrong key", map[string]string{"api-key": "nope"}, codes.Unauthenticated, 4 << 20},
		{"read-only key on a write", map[string]string{"api-key": "ro"}, codes.PermissionDenied, 4 << 20},
		// Decompressed up to the 32 MiB limit, then refused.
		{"valid key", map[string]string{"api-key": "secret"}, codes.ResourceExhausted, 3 * maxRecvMsgSize},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var code codes.Code
			n := allocatedDuring(func() {
				code = grpcRaw(t, g, "/qdrant.Points/Upsert", "gzip", bomb, tc.header)
			})
			require.Equal(t, tc.want, code)
			t.Logf("%d KiB allocated for a gzip message of %d KiB (%d MiB decompressed)", n>>10, len(bomb)>>10, mib)
			require.Less(t, n, tc.max, "allocated %d MiB for a message of %d MiB", n>>20, mib)
			requireServes(t, h, g, "secret")
		})
	}
}

// Streaming calls are refused from their headers as well.
func TestGRPCAuthStreaming(t *testing.T) {
	_, _, g := startServer(t, &ServerConfig{APIKey: "secret"})
	conn, err := grpc.NewClient(g, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	desc := &grpc.StreamDesc{ClientStreams: true, ServerStreams: true}
	st, err := conn.NewStream(context.Background(), desc, "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo")
	require.NoError(t, err)
	err = st.RecvMsg(new(struct{}))
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)
}

// An idle keep-alive connection is closed, after a 401 as after a 200,
// and a client that never finishes its headers is cut off.
func TestHTTPIdleAndHeaderTimeouts(t *testing.T) {
	_, h, _ := startServer(t, &ServerConfig{APIKey: "secret", IdleTimeout: 200 * time.Millisecond, HeaderTimeout: time.Second})
	for _, key := range []string{"", "secret"} {
		conn, err := net.Dial("tcp", h)
		require.NoError(t, err)
		defer conn.Close()
		_, err = io.WriteString(conn, "GET /collections HTTP/1.1\r\nHost: x\r\napi-key: "+key+"\r\n\r\n")
		require.NoError(t, err)
		br := bufio.NewReader(conn)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		require.Equal(t, map[string]int{"": 401, "secret": 200}[key], resp.StatusCode)
		requireClosed(t, conn, br)
	}
	conn, err := net.Dial("tcp", h)
	require.NoError(t, err)
	defer conn.Close()
	_, err = io.WriteString(conn, "GET /collections HTTP/1.1\r\nHost: x\r\n")
	require.NoError(t, err)
	requireClosed(t, conn, bufio.NewReader(conn))
}

// requireClosed waits (at most a generous minute) for the server to close
// conn, reading whatever it sends first.
func requireClosed(t *testing.T, conn net.Conn, r io.Reader) {
	t.Helper()
	require.NoError(t, conn.SetReadDeadline(time.Now().Add(time.Minute)))
	_, err := io.Copy(io.Discard, r)
	require.NoError(t, err, "the server kept the connection open")
}

// gRPC connections with no calls are closed (GOAWAY), and a connection
// that never completes its handshake is dropped.
func TestGRPCIdleAndHandshakeTimeouts(t *testing.T) {
	_, _, g := startServer(t, &ServerConfig{IdleTimeout: 200 * time.Millisecond, HeaderTimeout: time.Second})
	conn, err := grpc.NewClient(g, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	defer conn.Close()
	_, err = qdrant.NewQdrantClient(conn).HealthCheck(context.Background(), &qdrant.HealthCheckRequest{})
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for s := conn.GetState(); s == connectivity.Ready; s = conn.GetState() {
		require.True(t, conn.WaitForStateChange(ctx, s), "the server kept an idle connection")
	}

	raw, err := net.Dial("tcp", g)
	require.NoError(t, err)
	defer raw.Close()
	requireClosed(t, raw, raw)
}

// compressedZeros compresses n MiB of zeros with w, written a MiB at a
// time.
func compressedZeros(t testing.TB, n int, w func(io.Writer) io.WriteCloser) []byte {
	var buf bytes.Buffer
	zw := w(&buf)
	zero := make([]byte, 1<<20)
	for range n {
		_, err := zw.Write(zero)
		require.NoError(t, err)
	}
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

// A compressed REST body is decompressed only up to the size limit,
// whatever its encoding, and an unauthenticated one not at all.
func TestRESTDecompressionLimit(t *testing.T) {
	const limit = 1 << 20
	_, h, g := startServer(t, &ServerConfig{APIKey: "secret", MaxRequestBytes: limit})
	const mib = 128
	bombs := map[string][]byte{
		"gzip": gzipBomb(t, mib),
		"deflate": compressedZeros(t, mib, func(w io.Writer) io.WriteCloser {
			zw, _ := zlib.NewWriterLevel(w, zlib.BestCompression)
			return zw
		}),
		"zstd": compressedZeros(t, mib, func(w io.Writer) io.WriteCloser {
			zw, _ := zstd.NewWriter(w, zstd.WithEncoderLevel(zstd.SpeedBestCompression))
			return zw
		}),
	}
	for enc, bomb := range bombs {
		for _, key := range []string{"", "secret"} {
			var code int
			var body string
			n := allocatedDuring(func() {
				code, body = httpDo(t, "PUT", "http://"+h+"/collections/c/points", string(bomb),
					map[string]string{"Content-Encoding": enc, "api-key": key})
			})
			t.Logf("%s, key %q: %d KiB allocated for %d KiB inflating to %d MiB: %d", enc, key, n>>10, len(bomb)>>10, mib, code)
			if key == "" {
				require.Equal(t, 401, code, body)
			} else {
				require.Equal(t, 400, code, body)
				require.Contains(t, body, "Payload error: JSON payload has exceeded limit (1048576 bytes).")
			}
			require.Less(t, n, uint64(16*limit)+uint64(3*len(bomb)), "%s: allocated %d MiB", enc, n>>20)
			requireServes(t, h, g, "secret")
		}
	}
	// A small body in each encoding decodes.
	create := `{"vectors":{"size":2,"distance":"Dot"}}`
	for enc, w := range map[string]func(io.Writer) io.WriteCloser{
		"gzip":    func(w io.Writer) io.WriteCloser { return gzip.NewWriter(w) },
		"deflate": func(w io.Writer) io.WriteCloser { return zlib.NewWriter(w) },
		"zstd": func(w io.Writer) io.WriteCloser {
			zw, _ := zstd.NewWriter(w)
			return zw
		},
	} {
		var buf bytes.Buffer
		zw := w(&buf)
		io.WriteString(zw, create)
		require.NoError(t, zw.Close())
		code, body := httpDo(t, "PUT", "http://"+h+"/collections/c_"+enc, buf.String(),
			map[string]string{"Content-Encoding": enc, "api-key": "secret"})
		require.Equal(t, 200, code, "%s: %s", enc, body)
	}
}

// A batch of a million empty searches is refused from its size before it
// is decoded, over REST and gRPC, for a read-only key too.
func TestBatchSizeLimit(t *testing.T) {
	_, h, g := startServer(t, &ServerConfig{APIKey: "secret", ReadOnlyAPIKey: "ro"})
	code, body := httpDo(t, "PUT", "http://"+h+"/collections/c", `{"vectors":{"size":2,"distance":"Dot"}}`, map[string]string{"api-key": "secret"})
	require.Equal(t, 200, code, body)
	const n = 1_000_000
	rest := `{"searches":[` + strings.Repeat(`{},`, n-1) + `{}]}`
	for _, route := range []string{"query/batch", "search/batch", "recommend/batch", "discover/batch"} {
		var code int
		var body string
		alloc := allocatedDuring(func() {
			code, body = httpDo(t, "POST", "http://"+h+"/collections/c/points/"+route, rest, map[string]string{"api-key": "ro"})
		})
		t.Logf("REST %s of %d entries (%d KiB): %d KiB allocated", route, n, len(rest)>>10, alloc>>10)
		require.Equal(t, 400, code, body)
		require.Contains(t, body, "the batch holds more than 10000 searches, the most the server allows in one request")
		require.Less(t, alloc, uint64(4*len(rest)+16<<20))
	}
	// On the wire: collection_name, then n empty entries of field 2.
	for _, method := range []string{"QueryBatch", "SearchBatch", "RecommendBatch", "DiscoverBatch"} {
		msg := protowire.AppendTag(nil, 1, protowire.BytesType)
		msg = protowire.AppendString(msg, "c")
		entry := protowire.AppendBytes(protowire.AppendTag(nil, 2, protowire.BytesType), nil)
		msg = append(msg, bytes.Repeat(entry, n)...)
		var code codes.Code
		alloc := allocatedDuring(func() {
			code = grpcRaw(t, g, "/qdrant.Points/"+method, "", msg, map[string]string{"api-key": "ro"})
		})
		t.Logf("gRPC %s of %d entries (%d KiB): %d KiB allocated", method, n, len(msg)>>10, alloc>>10)
		require.Equal(t, codes.InvalidArgument, code)
		require.Less(t, alloc, uint64(4*len(msg)+16<<20))
	}
	requireServes(t, h, g, "ro")
	// At the limit, a batch runs.
	code, body = httpDo(t, "POST", "http://"+h+"/collections/c/points/query/batch",
		`{"searches":[`+strings.Repeat(`{},`, 9999)+`{}]}`, map[string]string{"api-key": "ro"})
	require.Equal(t, 200, code, body)
}

// A batch whose results would take more than MaxRequestMemory is refused
// before it runs; limits beyond the collection's points count only the
// points there are.
func TestRequestMemoryLimit(t *testing.T) {
	_, h, g := startServer(t, &ServerConfig{Limits: Limits{MaxRequestMemory: 1 << 20}})
	base := "http://" + h + "/collections/c"
	code, body := httpDo(t, "PUT", base, `{"vectors":{"size":2,"distance":"Dot"}}`, nil)
	require.Equal(t, 200, code, body)
	var pts []string
	for i := range 100 {
		pts = append(pts, fmt.Sprintf(`{"id":%d,"vector":[1,%d]}`, i+1, i))
	}
	code, body = httpDo(t, "PUT", base+"/points?wait=true", `{"points":[`+strings.Join(pts, ",")+`]}`, nil)
	require.Equal(t, 200, code, body)
	batch := func(n, limit int, vectors bool) string {
		q := fmt.Sprintf(`{"query":[1,0],"limit":%d,"with_vector":%t}`, limit, vectors)
		return `{"searches":[` + strings.Repeat(q+",", n-1) + q + `]}`
	}
	// 10 x (4 KiB + 100 points x 1 KiB) is above 1 MiB; 50 points is not,
	// nor is a limit of a million on 100 points without vectors.
	code, body = httpDo(t, "POST", base+"/points/query/batch", batch(10, 100, false), nil)
	require.Equal(t, 400, code, body)
	require.Contains(t, body, "more than the server allows for one request (1 MiB)")
	code, body = httpDo(t, "POST", base+"/points/query/batch", batch(10, 50, false), nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "POST", base+"/points/query/batch", batch(1, 1_000_000, false), nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "POST", base+"/points/query/batch", batch(2, 1_000_000, true), nil)
	require.Equal(t, 400, code, body)

	c := goClient(t, g, "")
	queries := func(n int, limit uint64) []*qdrant.QueryPoints {
		out := make([]*qdrant.QueryPoints, n)
		for i := range out {
			out[i] = &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQuery(1, 0), Limit: &limit}
		}
		return out
	}
	_, err := c.QueryBatch(context.Background(), &qdrant.QueryBatchPoints{CollectionName: "c", QueryPoints: queries(10, 100)})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	res, err := c.QueryBatch(context.Background(), &qdrant.QueryBatchPoints{CollectionName: "c", QueryPoints: queries(10, 50)})
	require.NoError(t, err)
	require.Len(t, res, 10)
	require.Len(t, res[0].Result, 50)

	// Single requests: a scroll of 200 points with vectors (200 x 9 KiB)
	// is above 1 MiB; without vectors it is not.
	pts = pts[:0]
	for i := 100; i < 200; i++ {
		pts = append(pts, fmt.Sprintf(`{"id":%d,"vector":[1,%d]}`, i+1, i))
	}
	code, body = httpDo(t, "PUT", base+"/points?wait=true", `{"points":[`+strings.Join(pts, ",")+`]}`, nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "POST", base+"/points/scroll", `{"limit":1000,"with_vector":true}`, nil)
	require.Equal(t, 400, code, body)
	code, body = httpDo(t, "POST", base+"/points/scroll", `{"limit":1000}`, nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "POST", base+"/points/query", `{"query":[1,0],"limit":1000,"with_vector":true}`, nil)
	require.Equal(t, 400, code, body)
	lim := uint32(1000)
	_, err = c.Scroll(context.Background(), &qdrant.ScrollPoints{CollectionName: "c", Limit: &lim, WithVectors: qdrant.NewWithVectors(true)})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	_, err = c.Scroll(context.Background(), &qdrant.ScrollPoints{CollectionName: "c", Limit: &lim})
	require.NoError(t, err)
	requireServes(t, h, g, "")
}

func TestJSONArrayScan(t *testing.T) {
	f := func(data string, wantN, wantNull int) {
		t.Helper()
		n, null := jsonArrayScan([]byte(data), "searches", 5)
		require.Equal(t, wantN, n, data)
		require.Equal(t, wantNull, null, data)
	}
	f(`{"searches": []}`, 0, -1)
	f(`{"searches": [{}]}`, 1, -1)
	f(`{"searches": [1, "a,b]", {"x": [1,2,3]}]}`, 3, -1)
	f(`{"x": [1,2,3], "searches": [{}, {}]}`, 2, -1)
	f(`{"a": {"searches": [1,2]}, "b": "searches", "searches": [7]}`, 1, -1)
	f(`{"s\"earches": [1,2], "searches": ["\"", "\\"]}`, 2, -1)
	f(`{"searches": [{}, null]}`, 2, 22)
	f(`{"searches": [{"a": null}]}`, 1, -1)
	f(`{"searches": [1,2,3,4,5,6,7,8]}`, 6, -1)
	f(`{"searches": 3}`, 0, -1)
	f(`not json`, 0, -1)
}

// The conditions of a request's filters are summed (nested filters count
// theirs) and a request above the limit is refused before it runs.
func TestFilterConditionsLimit(t *testing.T) {
	_, h, g := startServer(t, &ServerConfig{Limits: Limits{MaxFilterConditions: 10}})
	base := "http://" + h + "/collections/c"
	code, body := httpDo(t, "PUT", base, `{"vectors":{"size":2,"distance":"Dot"}}`, nil)
	require.Equal(t, 200, code, body)
	conds := func(n int) string {
		c := make([]string, n)
		for i := range c {
			c[i] = fmt.Sprintf(`{"key":"k","match":{"value":%d}}`, i)
		}
		return strings.Join(c, ",")
	}
	for _, tc := range []struct {
		route, body string
		want        int
	}{
		{"points/count", `{"filter":{"should":[` + conds(10) + `]}}`, 200},
		{"points/count", `{"filter":{"should":[` + conds(11) + `]}}`, 400},
		{"points/count", `{"filter":{"must":[` + conds(6) + `],"must_not":[{"must":[` + conds(5) + `]}]}}`, 400},
		{"points/scroll", `{"filter":{"min_should":{"conditions":[` + conds(11) + `],"min_count":1}}}`, 400},
		{"points/delete", `{"filter":{"should":[` + conds(11) + `]}}`, 400},
		{"points/query/batch", `{"searches":[{"filter":{"should":[` + conds(6) + `]}},{"filter":{"should":[` + conds(5) + `]}}]}`, 400},
		{"points/query/batch", `{"searches":[{"filter":{"should":[` + conds(5) + `]}},{"filter":{"should":[` + conds(5) + `]}}]}`, 200},
		// The filters of prefetches count, at every depth.
		{"points/query", `{"prefetch":{"prefetch":{"filter":{"should":[` + conds(6) + `]}},"filter":{"should":[` + conds(5) + `]},"query":{"fusion":"rrf"}},"query":{"fusion":"rrf"}}`, 400},
		{"points/query", `{"prefetch":[{"filter":{"should":[` + conds(5) + `]}}],"filter":{"should":[` + conds(5) + `]},"query":{"fusion":"rrf"}}`, 200},
		{"points/query/groups", `{"prefetch":[{"filter":{"should":[` + conds(6) + `]}}],"filter":{"should":[` + conds(5) + `]},"query":{"fusion":"rrf"},"group_by":"k"}`, 400},
	} {
		code, body := httpDo(t, "POST", base+"/"+tc.route, tc.body, nil)
		require.Equal(t, tc.want, code, "%s: %s", tc.route, body)
		if tc.want == 400 {
			require.Contains(t, body, "filters hold more than 10 conditions")
		}
	}
	c := goClient(t, g, "")
	match := func(n int) []*qdrant.Condition {
		out := make([]*qdrant.Condition, n)
		for i := range out {
			out[i] = qdrant.NewMatchInt("k", int64(i))
		}
		return out
	}
	_, err := c.Count(context.Background(), &qdrant.CountPoints{CollectionName: "c", Filter: &qdrant.Filter{Should: match(10)}})
	require.NoError(t, err)
	_, err = c.Count(context.Background(), &qdrant.CountPoints{CollectionName: "c", Filter: &qdrant.Filter{
		Must: match(6), MustNot: []*qdrant.Condition{qdrant.NewFilterAsCondition(&qdrant.Filter{Must: match(5)})}}})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	_, err = c.Query(context.Background(), &qdrant.QueryPoints{CollectionName: "c", Filter: &qdrant.Filter{Should: match(5)},
		Prefetch: []*qdrant.PrefetchQuery{{Prefetch: []*qdrant.PrefetchQuery{{Filter: &qdrant.Filter{Should: match(6)}}}, Query: qdrant.NewQueryFusion(qdrant.Fusion_RRF)}},
		Query:    qdrant.NewQueryFusion(qdrant.Fusion_RRF)})
	require.Equal(t, codes.InvalidArgument, status.Code(err), "%v", err)
	requireServes(t, h, g, "")
}

func TestRawConditions(t *testing.T) {
	f := func(raw string, want int) {
		t.Helper()
		require.Equal(t, want, rawConditions([]byte(raw)), raw)
	}
	f(`{}`, 0)
	f(`{"must": [{"key": "a", "match": {"value": "key"}}]}`, 1)
	f(`{"must": [{"key" : "a", "match": {"value": "\"key\": 1"}}, {"has_id": [1, 2]}]}`, 2)
	f(`{"should": [{"is_empty": {"key": "a"}}, {"is_null": {"key": "b"}}, {"has_vector": ""}]}`, 3)
	f(`{"must_not": [{"must": [{"key": "a", "range": {"gt": 1}}]}], "min_should": {"conditions": [{"has_id": [1]}], "min_count": 1}}`, 2)
	f(`{"must": [{"nested": {"key": "arr", "filter": {"must": [{"key": "x", "match": {"value": 1}}]}}}]}`, 2)
}
