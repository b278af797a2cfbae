package compat

import "testing"

// TestPythonClientSparse runs the official Python client's sparse vector
// scenario against the server, over REST and over gRPC, and compares every
// answer with the client's local mode (testdata/pyclient/sparse_differential.py,
// which says where local mode and Qdrant's server differ).
func TestPythonClientSparse(t *testing.T) {
	runPythonClientScript(t, "sparse_differential.py", "5")
}

// TestPythonClientMultivectors runs the official Python client's
// multivector scenario against the server, over REST and over gRPC, and
// compares every answer with the client's local mode
// (testdata/pyclient/multivector_differential.py).
func TestPythonClientMultivectors(t *testing.T) {
	runPythonClientScript(t, "multivector_differential.py", "7")
}
