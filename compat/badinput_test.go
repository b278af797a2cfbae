package compat

import (
	"context"
	"encoding/json"
	"net"
	"strconv"
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// TestBadInputREST sends malformed and invalid requests: each gets Qdrant's
// status and an error envelope with a message, nothing is written, and the
// server goes on serving.
func TestBadInputREST(t *testing.T) {
	_, h, _ := startServer(t, &ServerConfig{MaxRequestBytes: 1 << 20})
	base := "http://" + h
	code, _ := httpDo(t, "PUT", base+"/collections/c", `{"vectors":{"size":3,"distance":"Dot"}}`, nil)
	require.Equal(t, 200, code)

	cases := []struct {
		name, method, path, body string
		code                     int
		msg                      string
	}{
		{"malformed json", "PUT", "/collections/c/points?wait=true", `{"points":[{"id":1,`, 400, "Format error in JSON body"},
		{"wrong type", "PUT", "/collections/c/points?wait=true", `{"points":[{"id":1,"vector":"abc"}]}`, 400, ""},
		{"negative id", "PUT", "/collections/c/points?wait=true", `{"points":[{"id":-1,"vector":[1,2,3]}]}`, 400, ""},
		{"id beyond u64", "PUT", "/collections/c/points?wait=true", `{"points":[{"id":18446744073709551616,"vector":[1,2,3]}]}`, 400, ""},
		{"bad uuid", "PUT", "/collections/c/points?wait=true", `{"points":[{"id":"not-a-uuid","vector":[1,2,3]}]}`, 400, ""},
		{"wrong dimension", "PUT", "/collections/c/points?wait=true", `{"points":[{"id":1,"vector":[1,2,3]},{"id":2,"vector":[1,2]}]}`, 400, "expected dim: 3, got 2"},
		{"unknown vector", "PUT", "/collections/c/points?wait=true", `{"points":[{"id":1,"vector":{"x":[1,2,3]}}]}`, 400, "x"},
		{"unknown collection", "POST", "/collections/nope/points/query", `{"query":[1,2,3]}`, 404, "Collection `nope` doesn't exist"},
		{"limit 0", "POST", "/collections/c/points/query", `{"query":[1,2,3],"limit":0}`, 422, "Validation error"},
		{"bad filter", "POST", "/collections/c/points/scroll", `{"filter":{"must":[{"key":"a","match":{"nope":1}}]}}`, 400, ""},
		{"oversized body", "PUT", "/collections/c/points?wait=true", `{"points":[{"id":1,"vector":[` + strings.Repeat("1,", 600000) + `1]}]}`, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := httpDo(t, tc.method, base+tc.path, tc.body, nil)
			if tc.code != 0 {
				require.Equal(t, tc.code, code, body)
			} else {
				require.GreaterOrEqual(t, code, 400, body)
				require.Less(t, code, 500, body)
			}
			var env struct {
				Status struct {
					Error string `json:"error"`
				} `json:"status"`
			}
			require.NoError(t, json.Unmarshal([]byte(body), &env), "error body is Qdrant's envelope: %s", body)
			require.NotEmpty(t, env.Status.Error)
			require.Contains(t, env.Status.Error, tc.msg)
		})
	}
	// Nothing was written, and the server still serves.
	code, body := httpDo(t, "POST", base+"/collections/c/points/count", `{"exact":true}`, nil)
	require.Equal(t, 200, code)
	require.JSONEq(t, `{"count":0}`, resultOf(t, body))
}

func resultOf(t *testing.T, body string) string {
	t.Helper()
	var env struct {
		Result json.RawMessage `json:"result"`
	}
	require.NoError(t, json.Unmarshal([]byte(body), &env))
	return string(env.Result)
}

// TestBadInputGRPC sends invalid requests through go-client: each fails with
// Qdrant's code, nothing is written, and the server goes on serving.
func TestBadInputGRPC(t *testing.T) {
	_, _, g := startServer(t, nil)
	host, port, err := net.SplitHostPort(g)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, SkipCompatibilityCheck: true})
	require.NoError(t, err)
	defer c.Close()
	ctx := context.Background()
	require.NoError(t, c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "c",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 3, Distance: qdrant.Distance_Dot}),
	}))
	f := func(want codes.Code, err error) {
		t.Helper()
		require.Equal(t, want, status.Code(err), "%v", err)
		require.NotEmpty(t, status.Convert(err).Message())
	}
	_, err = c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectors(1, 2, 3)},
		{Id: qdrant.NewIDNum(2), Vectors: qdrant.NewVectors(1, 2)},
	}})
	f(codes.InvalidArgument, err)
	_, err = c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewID("zzz"), Vectors: qdrant.NewVectors(1, 2, 3)}}})
	f(codes.InvalidArgument, err)
	_, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "nope", Query: qdrant.NewQuery(1, 2, 3)})
	f(codes.NotFound, err)
	_, err = c.Query(ctx, &qdrant.QueryPoints{CollectionName: "c", Query: qdrant.NewQuerySparse([]uint32{1}, []float32{1})})
	f(codes.InvalidArgument, err)
	n, err := c.Count(ctx, &qdrant.CountPoints{CollectionName: "c"})
	require.NoError(t, err)
	require.Zero(t, n, "nothing written")
}
