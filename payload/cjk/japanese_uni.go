//go:build !ipadic

package cjk

import (
	"github.com/ikawaha/kagome-dict/dict"
	"github.com/ikawaha/kagome-dict/uni"
)

// JapaneseDictionary names the dictionary Japanese text is segmented with.
// UniDic is the default: its short units are the words Qdrant's Japanese
// model was trained to produce, so Japanese words are cut as Qdrant cuts
// them (98% of the words of the oracle test). It adds about 48 MB to a
// binary and holds about 116 MB of heap once loaded, on the first use of
// Japanese text. Building with -tags ipadic selects IPADIC instead: about
// 12 MB of binary and 29 MB of heap, with longer words kept whole (91% of
// the oracle test's words cut as Qdrant cuts them).
const JapaneseDictionary = "UniDic"

// japaneseDict loads the embedded dictionary without its feature columns:
// only the surface forms are needed.
func japaneseDict() *dict.Dict { return uni.DictShrink() }
