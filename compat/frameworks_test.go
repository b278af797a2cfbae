package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// frameworkModules are what the framework scenarios import.
var frameworkModules = []string{"qdrant_client", "langchain_qdrant", "langchain_core.embeddings", "llama_index.core", "llama_index.vector_stores.qdrant"}

// pythonWithFrameworks returns a Python interpreter that imports the
// framework integrations (QLITE_PYTHON, else python3), or skips the test
// saying how to install them.
func pythonWithFrameworks(t *testing.T) string {
	py := os.Getenv("QLITE_PYTHON")
	if py == "" {
		py = "python3"
	}
	imports := "import " + strings.Join(frameworkModules, ", ")
	if out, err := exec.Command(py, "-c", imports).CombinedOutput(); err != nil {
		t.Skipf("%s cannot import the framework integrations (pip install qdrant-client==1.17.1 -r compat/testdata/frameworks/requirements.txt -c compat/testdata/frameworks/constraints.txt, or set QLITE_PYTHON): %v: %s",
			py, err, lastBytes(out, 300))
	}
	return py
}

// runFramework runs one framework scenario against the server at
// httpAddr/grpcAddr and returns the JSON it prints. The scenario gets no
// network beyond the server: proxies that refuse every connection stand in
// for the outside world, so a package that tried to download a model or a
// tokenizer would fail the test.
func runFramework(t *testing.T, py, name, httpAddr, grpcAddr string, grpc bool) any {
	t.Helper()
	host, rest, err := net.SplitHostPort(httpAddr)
	require.NoError(t, err)
	_, grpcPort, err := net.SplitHostPort(grpcAddr)
	require.NoError(t, err)
	args := []string{filepath.Join("testdata", "frameworks", name+"_scenario.py"),
		"--host", host, "--rest-port", rest, "--grpc-port", grpcPort}
	if grpc {
		args = append(args, "--grpc")
	}
	// A scenario takes seconds; the bound turns a hang into a failure that
	// says where it hung.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, py, args...)
	const nowhere = "http://127.0.0.1:9"
	cmd.Env = append(os.Environ(),
		"HTTP_PROXY="+nowhere, "HTTPS_PROXY="+nowhere, "http_proxy="+nowhere, "https_proxy="+nowhere,
		"NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost",
		"HF_HUB_OFFLINE=1", "TRANSFORMERS_OFFLINE=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	require.NoError(t, cmd.Run(), "%s %s against %s:\n%s", name, modeName(grpc), httpAddr, lastBytes(stderr.Bytes(), 4000))
	dec := json.NewDecoder(&stdout)
	dec.UseNumber()
	var out any
	require.NoError(t, dec.Decode(&out), "%s printed %q", name, lastBytes(stdout.Bytes(), 2000))
	return out
}

func modeName(grpc bool) string {
	if grpc {
		return "over gRPC"
	}
	return "over REST"
}

// TestFrameworks runs LangChain's (langchain-qdrant) and LlamaIndex's
// (llama-index-vector-stores-qdrant) Qdrant integrations through the
// scenarios in testdata/frameworks against qlite serve, over REST and over
// gRPC. Each scenario checks its answers against its own data; the answers
// over REST and over gRPC must agree, and, when QDRANT_BIN names a real
// Qdrant server, each must agree with the real server's (scores to 1e-5).
func TestFrameworks(t *testing.T) {
	py := pythonWithFrameworks(t)
	_, h, g := startServer(t, nil)
	var real *qdrantServer
	if os.Getenv("QDRANT_BIN") != "" {
		real = realQdrant(t)
	} else {
		t.Log("QDRANT_BIN is unset: comparing qlite over REST and gRPC only, not with a real Qdrant server")
	}
	for _, name := range []string{"langchain", "llamaindex"} {
		t.Run(name, func(t *testing.T) {
			got := map[bool]any{}
			for _, grpc := range []bool{false, true} {
				got[grpc] = runFramework(t, py, name, h, g, grpc)
				if real == nil {
					continue
				}
				want := runFramework(t, py, name, real.httpAddr, real.grpcAddr, grpc)
				var diffs []string
				diffValues(&diffs, nil, want, got[grpc], nil, true)
				if len(diffs) > 0 {
					t.Errorf("%s %s differs from Qdrant:\n  %s", name, modeName(grpc), strings.Join(diffs, "\n  "))
				}
			}
			var diffs []string
			diffValues(&diffs, nil, got[false], got[true], nil, true)
			if len(diffs) > 0 {
				t.Errorf("%s: qlite answers differently over REST (written \"Qdrant\" below) and over gRPC (\"qlite\"):\n  %s",
					name, strings.Join(diffs, "\n  "))
			}
		})
	}
}
