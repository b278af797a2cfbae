package compat

import (
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/engine"
)

// startServer serves a new database on free loopback ports until the test
// ends, and returns the REST and gRPC addresses.
func startServer(t testing.TB, cfg *ServerConfig) (*engine.DB, string, string) {
	t.Helper()
	db, err := engine.Open(t.TempDir(), &engine.Options{SealDelay: 50 * time.Millisecond})
	require.NoError(t, err)
	c := ServerConfig{}
	if cfg != nil {
		c = *cfg
	}
	c.HTTPAddr, c.GRPCAddr = "127.0.0.1:0", "127.0.0.1:0"
	srv := NewServer(db, &c)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	h, g, err := srv.Addrs(ctx)
	require.NoError(t, err)
	t.Cleanup(func() {
		cancel()
		require.NoError(t, <-done)
		require.NoError(t, db.CheckInvariants())
		require.NoError(t, db.Close())
	})
	return db, h, g
}

// pythonWithClient returns a Python interpreter that imports qdrant_client
// (QLITE_PYTHON, else python3), or skips the test saying how to install it.
func pythonWithClient(t *testing.T) string {
	py := os.Getenv("QLITE_PYTHON")
	if py == "" {
		py = "python3"
	}
	if err := exec.Command(py, "-c", "import qdrant_client").Run(); err != nil {
		t.Skipf("%s cannot import qdrant_client (pip install qdrant-client==1.17.1, or set QLITE_PYTHON): %v", py, err)
	}
	return py
}

// TestPythonClientDifferential runs the official Python client against the
// server, over REST and over gRPC, and compares every answer with the
// client's local mode.
func TestPythonClientDifferential(t *testing.T) {
	runPythonClientScript(t, "differential.py", "3")
}

// runPythonClientScript runs a differential script of testdata/pyclient
// against a new server, over REST and over gRPC, with the seed given; the
// script fails when the server and the client's local mode disagree.
func runPythonClientScript(t *testing.T, script, seed string) {
	py := pythonWithClient(t)
	_, h, g := startServer(t, nil)
	host, rest, _ := net.SplitHostPort(h)
	_, grpcPort, _ := net.SplitHostPort(g)
	for _, mode := range []string{"rest", "grpc"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{filepath.Join("testdata", "pyclient", script),
				"--host", host, "--rest-port", rest, "--grpc-port", grpcPort, "--seed", seed}
			if mode == "grpc" {
				args = append(args, "--grpc")
			}
			out, err := exec.Command(py, args...).CombinedOutput()
			require.NoError(t, err, "%s", out)
			t.Logf("%s", out)
		})
	}
}

// TestJSClient runs a CRUD, search, filter and scroll scenario through the
// official JavaScript REST client.
func TestJSClient(t *testing.T) {
	node := os.Getenv("QLITE_NODE")
	if node == "" {
		node = "node"
	}
	dir := filepath.Join("testdata", "jsclient")
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@qdrant", "js-client-rest")); err != nil {
		t.Skipf("@qdrant/js-client-rest not installed (npm install --prefix %s)", dir)
	}
	if _, err := exec.LookPath(node); err != nil {
		t.Skipf("no %s: %v", node, err)
	}
	_, h, _ := startServer(t, nil)
	cmd := exec.Command(node, "scenario.mjs")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "QLITE_URL=http://"+h)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("%s", out)
}

// TestPythonClientParsesCollectionInfo checks that the official Python
// client accepts the collection info qlite answers over REST, whose
// result carries qlite's section (restQliteInfo) beside Qdrant's fields,
// and that the section is there with the vectors the client upserted.
func TestPythonClientParsesCollectionInfo(t *testing.T) {
	const n, dim = 200, 16
	py := pythonWithClient(t)
	_, h, _ := startServer(t, nil)
	host, rest, _ := net.SplitHostPort(h)
	out, err := exec.Command(py, filepath.Join("testdata", "pyclient", "collection_info.py"),
		"--host", host, "--rest-port", rest, "--points", strconv.Itoa(n), "--dim", strconv.Itoa(dim)).CombinedOutput()
	require.NoError(t, err, "%s", out)
	t.Logf("%s", out)
	var info struct {
		Result struct {
			Qlite restQliteInfo `json:"qlite"`
		} `json:"result"`
	}
	require.NoError(t, getJSON("http://"+h+"/collections/info", &info))
	require.GreaterOrEqual(t, info.Result.Qlite.RAMBytes.Vectors, int64(n*dim*4))
}

// TestPythonClientHybrid runs hybrid search (sparse and dense prefetches
// fused with RRF, DBSF and weighted RRF, and re-scored) through the official
// Python client, over REST and gRPC, against the client's local mode.
func TestPythonClientHybrid(t *testing.T) {
	runPythonClientScript(t, "hybrid.py", "16")
}
