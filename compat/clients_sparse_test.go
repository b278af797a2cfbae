package compat

import "testing"

// TestPythonClientSparse runs the official Python client's sparse vector
// scenario against the server, over REST and over gRPC, and compares every
// answer with the client's local mode (testdata/pyclient/sparse_differential.py,
// which says where local mode and Qdrant's server differ).
func TestPythonClientSparse(t *testing.T) {
	runPythonClientScript(t, "sparse_differential.py", "5")
}
