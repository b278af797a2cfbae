package bm25

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
)

// FuzzEmbed embeds any text, valid UTF-8 or not, with options from the
// fuzzer: it must not panic, must be deterministic, and must keep the
// shape Qdrant stores (sorted distinct document indices, finite positive
// weights when k, b and avg_len are the defaults; distinct query indices
// with weight 1).
func FuzzEmbed(f *testing.F) {
	f.Add("The quick brown foxes are running", `null`)
	f.Add("Les chats mangeaient des souris", `{"language": "french", "ascii_folding": true}`)
	f.Add("\xff\xfe broken \xc3 utf-8 \u0130 ΣΊΣΥΦΟΣ", `{"tokenizer": "prefix", "max_token_len": 3}`)
	f.Add("::::. ، ؟ كشاط:ة", `{"language": "arabic", "tokenizer": "whitespace"}`)
	f.Add("a a a a", `{"stopwords": {"custom": ["A"]}, "lowercase": false}`)
	f.Fuzz(func(t *testing.T, text, opts string) {
		o, err := ParseOptions(json.RawMessage(opts))
		if err != nil {
			return
		}
		m, err := New(o)
		if err != nil {
			return
		}
		di, dv := m.Document(text)
		di2, dv2 := m.Document(text)
		if !slices.Equal(di, di2) || len(dv) != len(dv2) {
			t.Fatalf("Document not deterministic")
		}
		if !slices.IsSorted(di) || len(slices.Compact(slices.Clone(di))) != len(di) || len(di) != len(dv) {
			t.Fatalf("document indices %v: not sorted and distinct", di)
		}
		def := DefaultOptions()
		if o.K == def.K && o.B == def.B && o.AvgLen == def.AvgLen {
			for _, v := range dv {
				if !(v > 0) || math.IsInf(float64(v), 0) {
					t.Fatalf("weight %v", v)
				}
			}
		}
		qi, qv := m.Query(text)
		seen := map[uint32]bool{}
		for i, x := range qi {
			if seen[x] || qv[i] != 1 {
				t.Fatalf("query %v %v", qi, qv)
			}
			seen[x] = true
		}
		for _, x := range di {
			if !seen[x] {
				t.Fatalf("document token %d missing from the query of the same text", x)
			}
		}
	})
}

func TestTokenID(t *testing.T) {
	// Qdrant 1.17.1 stores these ids for the BM25 documents "i", "a" and
	// "x2" (language "none").
	f := func(tok string, want uint32) {
		t.Helper()
		if got := TokenID(tok); got != want {
			t.Fatalf("TokenID(%q) = %d, want %d", tok, got, want)
		}
	}
	f("i", 2128973781)
	f("a", 1009084850)
	f("x2", 835636256)
}

func TestDocumentWeights(t *testing.T) {
	// Qdrant 1.17.1 stores 1.369863 for "hello" with k=1.5, b=0.5,
	// avg_len=10: 2.5 / (1 + 1.5·(0.5 + 0.5/10)).
	o := DefaultOptions()
	o.K, o.B, o.AvgLen = 1.5, 0.5, 10
	idx, val, err := Embed("hello", o, false)
	if err != nil {
		t.Fatal(err)
	}
	if len(idx) != 1 || idx[0] != 613153351 || val[0] != float32(1.369863) {
		t.Fatalf("got %v %v", idx, val)
	}
}
