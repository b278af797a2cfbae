package engine

import (
	"fmt"
	"maps"
	"slices"
)

// Warnings returns the warnings Qdrant 1.17 gives in collection info for
// settings of c that make no sense and are ignored, by vector name in
// name order: inline HNSW storage (hnsw_config.inline_storage, the
// vector's own or the collection's) on a multivector, which cannot have
// it, or on a vector without quantisation (its own or the collection's),
// which it needs. qlite ignores inline_storage either way: its graphs never
// hold vector copies.
func (c *CollectionConfig) Warnings() []string {
	var out []string
	for _, name := range slices.Sorted(maps.Keys(c.Params.Vectors)) {
		vp := c.Params.Vectors[name]
		h := c.VectorHNSW(name)
		if h.InlineStorage == nil || !*h.InlineStorage {
			continue
		}
		switch {
		case vp.IsMulti():
			out = append(out, fmt.Sprintf("The `hnsw_config.inline_storage` option for vector '%s' is not compatible with multivectors. This option will be ignored.", name))
		case cfgRaw(vp.Quantization) == nil && cfgRaw(c.Quantization) == nil:
			out = append(out, fmt.Sprintf("The `hnsw_config.inline_storage` option for vector '%s' requires quantization to be enabled. This option will be ignored.", name))
		}
	}
	return out
}
