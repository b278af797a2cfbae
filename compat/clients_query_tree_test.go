package compat

import (
	"os"
	"testing"
)

// TestPythonClientQueryTree sends random nested prefetch trees (nearest over
// dense, sparse and multivectors, recommend, order_by, fusions rrf and dbsf,
// formulas and MMR, with filters, limits and thresholds) through the
// official Python client, over REST and over gRPC, and compares every
// answer with the client's local mode: same ids in the same order, scores
// within 1e-5 (testdata/pyclient/query_tree.py, which says where local mode
// and Qdrant's server differ and what it leaves out for that).
//
// QLITE_TREE_SEED sets the seed.
func TestPythonClientQueryTree(t *testing.T) {
	seed := "16"
	if s := os.Getenv("QLITE_TREE_SEED"); s != "" {
		seed = s
	}
	runPythonClientScript(t, "query_tree.py", seed)
}
