package compat

import (
	"net"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestPythonClientSparse runs the official Python client's sparse vector
// scenario against the server, over REST and over gRPC, and compares every
// answer with the client's local mode (testdata/pyclient/sparse_differential.py,
// which says where local mode and Qdrant's server differ).
func TestPythonClientSparse(t *testing.T) {
	py := pythonWithClient(t)
	_, h, g := startServer(t, nil)
	host, rest, _ := net.SplitHostPort(h)
	_, grpcPort, _ := net.SplitHostPort(g)
	for _, mode := range []string{"rest", "grpc"} {
		t.Run(mode, func(t *testing.T) {
			args := []string{filepath.Join("testdata", "pyclient", "sparse_differential.py"),
				"--host", host, "--rest-port", rest, "--grpc-port", grpcPort, "--seed", "5"}
			if mode == "grpc" {
				args = append(args, "--grpc")
			}
			out, err := exec.Command(py, args...).CombinedOutput()
			require.NoError(t, err, "%s", out)
			t.Logf("%s", out)
		})
	}
}
