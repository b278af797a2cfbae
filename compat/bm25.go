package compat

import (
	"encoding/json"

	"github.com/qlite/qlite/engine"
)

// bm25Embed is Qdrant's BM25 model: the sparse vector of text, document
// side or query side, with the model's options (a JSON object, nil for the
// defaults).
func bm25Embed(text string, options json.RawMessage, query bool) (engine.SparseVector, error) {
	return engine.SparseVector{}, Unsupported("inference (BM25)")
}
