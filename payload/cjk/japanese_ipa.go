//go:build ipadic

package cjk

import (
	"github.com/ikawaha/kagome-dict/dict"
	"github.com/ikawaha/kagome-dict/ipa"
)

// JapaneseDictionary names the dictionary Japanese text is segmented with:
// IPADIC, selected by the ipadic build tag for smaller binaries (see the
// default build's comment). IPADIC keeps longer words whole (日本語 is one
// word, where Qdrant and UniDic have 日本 and 語).
const JapaneseDictionary = "IPADIC"

// japaneseDict loads the embedded dictionary without its feature columns:
// only the surface forms are needed.
func japaneseDict() *dict.Dict { return ipa.DictShrink() }
