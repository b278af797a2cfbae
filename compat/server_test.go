package compat

import (
	"context"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/qdrant/go-client/qdrant"
	"github.com/stretchr/testify/require"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func httpDo(t *testing.T, method, url, body string, header map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	require.NoError(t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestAPIKeysREST(t *testing.T) {
	_, h, _ := startServer(t, &ServerConfig{APIKey: "secret", ReadOnlyAPIKey: "ro"})
	base := "http://" + h
	create := `{"vectors":{"size":2,"distance":"Dot"}}`
	for _, p := range []string{"/", "/healthz", "/livez", "/readyz"} {
		code, _ := httpDo(t, "GET", base+p, "", nil)
		require.Equal(t, 200, code, p)
	}
	code, body := httpDo(t, "GET", base+"/collections", "", nil)
	require.Equal(t, 401, code)
	require.Contains(t, body, "Must provide an API key or an Authorization bearer token")
	code, body = httpDo(t, "GET", base+"/collections", "", map[string]string{"api-key": "nope"})
	require.Equal(t, 401, code)
	require.Contains(t, body, "Invalid API key")

	code, _ = httpDo(t, "PUT", base+"/collections/c", create, map[string]string{"api-key": "secret"})
	require.Equal(t, 200, code)
	code, _ = httpDo(t, "PUT", base+"/collections/d", create, map[string]string{"Authorization": "Bearer secret"})
	require.Equal(t, 200, code)

	ro := map[string]string{"api-key": "ro"}
	code, _ = httpDo(t, "GET", base+"/collections", "", ro)
	require.Equal(t, 200, code)
	code, _ = httpDo(t, "POST", base+"/collections/c/points/scroll", `{"limit":1}`, ro)
	require.Equal(t, 200, code)
	code, _ = httpDo(t, "POST", base+"/collections/c/points/query", `{"query":[1,0],"limit":1}`, ro)
	require.Equal(t, 200, code)
	code, body = httpDo(t, "PUT", base+"/collections/c/points?wait=true", `{"points":[{"id":1,"vector":[1,0]}]}`, ro)
	require.Equal(t, 403, code, body)
	code, _ = httpDo(t, "DELETE", base+"/collections/c", "", ro)
	require.Equal(t, 403, code)

	// CORS preflight.
	code, _ = httpDo(t, "OPTIONS", base+"/collections", "", map[string]string{
		"Origin": "http://example.com", "Access-Control-Request-Method": "PUT"})
	require.Equal(t, 200, code)
}

func TestAPIKeysGRPC(t *testing.T) {
	_, _, g := startServer(t, &ServerConfig{APIKey: "secret", ReadOnlyAPIKey: "ro"})
	host, port, err := net.SplitHostPort(g)
	require.NoError(t, err)
	p, err := strconv.Atoi(port)
	require.NoError(t, err)
	client := func(key string) *qdrant.Client {
		c, err := qdrant.NewClient(&qdrant.Config{Host: host, Port: p, APIKey: key, SkipCompatibilityCheck: true})
		require.NoError(t, err)
		t.Cleanup(func() { c.Close() })
		return c
	}
	ctx := context.Background()
	anon := client("")
	_, err = anon.HealthCheck(ctx)
	require.NoError(t, err, "health checks need no key")
	_, err = anon.ListCollections(ctx)
	require.Equal(t, codes.Unauthenticated, status.Code(err), "%v", err)

	admin := client("secret")
	require.NoError(t, admin.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "c",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
	}))
	reader := client("ro")
	names, err := reader.ListCollections(ctx)
	require.NoError(t, err)
	require.Equal(t, []string{"c"}, names)
	_, err = reader.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "c", Points: []*qdrant.PointStruct{
		{Id: qdrant.NewIDNum(1), Vectors: qdrant.NewVectors(1, 0)}}})
	require.Equal(t, codes.PermissionDenied, status.Code(err), "%v", err)
	require.Equal(t, codes.Unauthenticated, status.Code(client("wrong").DeleteCollection(ctx, "c")))
}
