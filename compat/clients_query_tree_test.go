package compat

import "testing"

// TestPythonClientQueryTree sends random nested prefetch trees (nearest over
// dense, sparse and multivectors, recommend, order_by, fusions, formulas and
// MMR, with filters, limits and thresholds) through the official Python
// client, over REST and over gRPC, and compares every answer with the
// client's local mode (testdata/pyclient/query_tree.py, which says where
// local mode and Qdrant's server differ).
func TestPythonClientQueryTree(t *testing.T) {
	runPythonClientScript(t, "query_tree.py", "16")
}
