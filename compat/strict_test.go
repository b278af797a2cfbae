package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
)

// rateLimitedRE is Qdrant's message for a request over a bucket of one
// token a minute that was just emptied.
var rateLimitedRE = regexp.MustCompile(`^Rate limiting exceeded: Read rate limit exceeded: Operation requires 1 tokens but only 0\.0 were available\. Retry after ([0-9]+)s$`)

// TestStrictRateLimitAnswers checks how a rate limited request is answered:
// REST 429 with a Retry-After header of whole seconds that matches the
// message, gRPC ResourceExhausted with a "retry-after" trailer.
func TestStrictRateLimitAnswers(t *testing.T) {
	_, h, g := startServer(t, nil)
	do := func(method, path, body string) (*http.Response, []byte) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+h+path, bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp, b
	}
	resp, _ := do("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}, "strict_mode_config": {"read_rate_limit": 1}}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	resp, _ = do("POST", "/collections/c/points/count", `{}`)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Retry-After"))

	resp, body := do("POST", "/collections/c/points/count", `{}`)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	var env struct {
		Status struct {
			Error string `json:"error"`
		} `json:"status"`
	}
	require.NoError(t, json.Unmarshal(body, &env))
	m := rateLimitedRE.FindStringSubmatch(env.Status.Error)
	require.NotNil(t, m, env.Status.Error)
	require.Equal(t, m[1], resp.Header.Get("Retry-After"))
	secs, err := strconv.Atoi(m[1])
	require.NoError(t, err)
	require.True(t, secs >= 1 && secs <= 60, "retry after %d s", secs)

	// Other routes of the collection are not limited.
	resp, _ = do("GET", "/collections/c", ``)
	require.Equal(t, http.StatusOK, resp.StatusCode)

	conn, err := grpc.NewClient(g, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	var trailer metadata.MD
	_, err = qdrant.NewPointsClient(conn).Count(context.Background(), &qdrant.CountPoints{CollectionName: "c"}, grpc.Trailer(&trailer))
	st := status.Convert(err)
	require.Equal(t, codes.ResourceExhausted, st.Code())
	m = rateLimitedRE.FindStringSubmatch(st.Message())
	require.NotNil(t, m, st.Message())
	require.Equal(t, []string{m[1]}, trailer.Get("retry-after"))

	// A request larger than the bucket has no retry delay.
	resp, _ = do("POST", "/collections/c/points/count", `{"filter": {"must": [{"has_id": [1]}]}}`)
	require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
	require.Empty(t, resp.Header.Get("Retry-After"))
}

// TestStrictErrorAnswers checks that a strict mode refusal is Qdrant's
// 400 "Bad request: ..." over REST and InvalidArgument over gRPC.
func TestStrictErrorAnswers(t *testing.T) {
	_, h, g := startServer(t, nil)
	post := func(method, path, body string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, "http://"+h+path, bytes.NewReader([]byte(body)))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		var env struct {
			Status json.RawMessage `json:"status"`
		}
		require.NoError(t, json.NewDecoder(resp.Body).Decode(&env))
		return resp.StatusCode, string(env.Status)
	}
	code, _ := post("PUT", "/collections/c", `{"vectors": {"size": 2, "distance": "Dot"}, "strict_mode_config": {"enabled": true, "max_query_limit": 2}}`)
	require.Equal(t, http.StatusOK, code)
	const want = `Bad request: Limit exceeded 3 > 2 for "limit". Help: Reduce the "limit" parameter to or below 2.`
	code, st := post("POST", "/collections/c/points/search", `{"vector": [1, 1], "limit": 3}`)
	require.Equal(t, http.StatusBadRequest, code)
	wantJSON, _ := json.Marshal(map[string]string{"error": want})
	require.JSONEq(t, string(wantJSON), st)

	conn, err := grpc.NewClient(g, grpc.WithTransportCredentials(insecure.NewCredentials()))
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	_, err = qdrant.NewPointsClient(conn).Search(context.Background(), &qdrant.SearchPoints{CollectionName: "c", Vector: []float32{1, 1}, Limit: 3})
	require.Equal(t, codes.InvalidArgument, status.Code(err))
	require.Equal(t, want, status.Convert(err).Message())
}

// TestRetryAfterUnaryAllocs checks that the interceptor that sets the
// "retry-after" trailer costs a call that was not rate limited no
// allocation: it runs on every unary call.
func TestRetryAfterUnaryAllocs(t *testing.T) {
	ctx := context.Background()
	resp := &qdrant.HealthCheckReply{}
	ok := func(context.Context, any) (any, error) { return resp, nil }
	failed := status.Error(codes.NotFound, "Not found")
	notFound := func(context.Context, any) (any, error) { return nil, failed }
	for _, h := range []grpc.UnaryHandler{ok, notFound} {
		if n := testing.AllocsPerRun(100, func() { _, _ = retryAfterUnary(ctx, nil, nil, h) }); n != 0 {
			t.Fatalf("retryAfterUnary allocates %v times a call, want 0", n)
		}
	}
}
