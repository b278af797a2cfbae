package compat

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestRequestMemoryMultivectors checks that the memory estimate of a
// request returning vectors counts every vector of the points'
// multivectors: 50 points of 10 vectors each are 500 vectors, above a
// 1 MiB limit, where 50 points of one plain vector each are not.
func TestRequestMemoryMultivectors(t *testing.T) {
	_, h, _ := startServer(t, &ServerConfig{Limits: Limits{MaxRequestMemory: 1 << 20}})
	base := "http://" + h + "/collections/"
	code, body := httpDo(t, "PUT", base+"mv", `{"vectors": {"size": 2, "distance": "Dot", "multivector_config": {"comparator": "max_sim"}}}`, nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "PUT", base+"p", `{"vectors": {"size": 2, "distance": "Dot"}}`, nil)
	require.Equal(t, 200, code, body)
	multi := "[" + strings.Repeat("[1, 2], ", 9) + "[2, 1]]"
	var mpts, ppts []string
	for i := range 50 {
		mpts = append(mpts, fmt.Sprintf(`{"id": %d, "vector": %s}`, i+1, multi))
		ppts = append(ppts, fmt.Sprintf(`{"id": %d, "vector": [1, %d]}`, i+1, i))
	}
	code, body = httpDo(t, "PUT", base+"mv/points?wait=true", `{"points": [`+strings.Join(mpts, ",")+`]}`, nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "PUT", base+"p/points?wait=true", `{"points": [`+strings.Join(ppts, ",")+`]}`, nil)
	require.Equal(t, 200, code, body)

	code, body = httpDo(t, "POST", base+"p/points/query", `{"query": [1, 0], "limit": 50, "with_vector": true}`, nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "POST", base+"mv/points/query", `{"query": [[1, 0]], "limit": 50}`, nil)
	require.Equal(t, 200, code, body)
	code, body = httpDo(t, "POST", base+"mv/points/query", `{"query": [[1, 0]], "limit": 50, "with_vector": true}`, nil)
	require.Equal(t, 400, code, body)
	require.Contains(t, body, "more than the server allows for one request (1 MiB)")
	code, body = httpDo(t, "POST", base+"mv/points/scroll", `{"limit": 50, "with_vector": true}`, nil)
	require.Equal(t, 400, code, body)
	code, body = httpDo(t, "POST", base+"mv/points/query", `{"query": [[1, 0]], "limit": 10, "with_vector": true}`, nil)
	require.Equal(t, 200, code, body)
}
