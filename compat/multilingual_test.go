package compat

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math/rand"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"unicode"

	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/payload/cjk"
)

// multilingualFloor is, per language, the share of query words for which
// qlite must match exactly the sentences Qdrant 1.17.1 matches. Chinese
// uses Qdrant's own dictionary and algorithm, and Korean is not segmented
// by either, so both must agree fully. Japanese is segmented by UniDic
// where Qdrant uses a statistical model trained on the same short-unit
// words, so a few words are cut differently (IPADIC, in builds with the
// ipadic tag, keeps longer words whole and cuts fewer as Qdrant does).
var multilingualFloor = map[string]float64{"zh": 1, "ko": 1, "ja": map[string]float64{"UniDic": 0.95, "IPADIC": 0.88}[cjk.JapaneseDictionary]}

// TestMultilingualMatchesQdrant indexes a few hundred Chinese, Japanese
// and Korean sentences (testdata/multilingual) in a multilingual text index
// of qlite and of a real Qdrant, then sends both the same match-text
// queries: every word qlite's segmenter finds in the sentences, and random
// substrings of them, which probe word boundaries. For each query, the
// sentences of the query's language that match must be the same on both
// servers, up to the floor above; the agreement per language is logged.
func TestMultilingualMatchesQdrant(t *testing.T) {
	q := realQdrant(t)
	ql := newRESTTest(t, nil)
	targets := []string{"http://" + q.httpAddr, ql.srv.URL}
	const coll = "multilingual_oracle"

	langs := []string{"zh", "ja", "ko"}
	var points []map[string]any
	sentences := map[string][]string{}
	first := map[string]int{} // id of each language's first sentence
	for _, lang := range langs {
		first[lang] = len(points) + 1
		f, err := os.Open(filepath.Join("testdata", "multilingual", lang+".txt"))
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if s := strings.TrimSpace(sc.Text()); s != "" {
				sentences[lang] = append(sentences[lang], s)
				points = append(points, map[string]any{
					"id": len(points) + 1, "vector": []float32{1},
					"payload": map[string]any{"t": s},
				})
			}
		}
		require.NoError(t, sc.Err())
		f.Close()
	}
	for _, base := range targets {
		mustJSON(t, http.MethodPut, base+"/collections/"+coll, map[string]any{
			"vectors": map[string]any{"size": 1, "distance": "Dot"},
		})
		t.Cleanup(func() { httpJSON(http.MethodDelete, base+"/collections/"+coll, nil) })
		mustJSON(t, http.MethodPut, base+"/collections/"+coll+"/index?wait=true", map[string]any{
			"field_name":   "t",
			"field_schema": map[string]any{"type": "text", "tokenizer": "multilingual"},
		})
		mustJSON(t, http.MethodPut, base+"/collections/"+coll+"/points?wait=true", map[string]any{"points": points})
	}

	for _, lang := range langs {
		queries := multilingualQueries(sentences[lang], 250)
		agree := 0
		var diffs []string
		for _, w := range queries {
			got := make([][]int, len(targets))
			for i, base := range targets {
				got[i] = slices.DeleteFunc(matchText(t, base, coll, w), func(id int) bool {
					return id < first[lang] || id >= first[lang]+len(sentences[lang])
				})
			}
			if slices.Equal(got[0], got[1]) {
				agree++
			} else if len(diffs) < 15 {
				diffs = append(diffs, fmt.Sprintf("%q: qdrant %v, qlite %v", w, got[0], got[1]))
			}
		}
		rate := float64(agree) / float64(len(queries))
		t.Logf("%s: %d of %d query words match the same sentences as Qdrant (%.1f%%), %d sentences",
			lang, agree, len(queries), 100*rate, len(sentences[lang]))
		for _, d := range diffs {
			t.Logf("  %s differs: %s", lang, d)
		}
		if rate < multilingualFloor[lang] {
			t.Errorf("%s: agreement %.3f is below %.3f", lang, rate, multilingualFloor[lang])
		}
	}
}

// multilingualQueries returns the distinct words qlite's segmenter finds in
// sentences, plus n random substrings of 1 to 4 letters, sorted.
func multilingualQueries(sentences []string, n int) []string {
	set := map[string]bool{}
	var runs [][]rune
	for _, s := range sentences {
		cjk.Split(s, func(w string) { set[w] = true })
		var run []rune
		for _, r := range s + "\n" {
			if unicode.IsLetter(r) {
				run = append(run, r)
			} else if len(run) > 0 {
				runs = append(runs, run)
				run = nil
			}
		}
	}
	rng := rand.New(rand.NewSource(15))
	for i := 0; i < n; i++ {
		run := runs[rng.Intn(len(runs))]
		start := rng.Intn(len(run))
		end := min(len(run), start+1+rng.Intn(4))
		set[string(run[start:end])] = true
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	slices.Sort(out)
	return out
}

// matchText returns the sorted ids of the points whose "t" matches text w.
func matchText(t *testing.T, base, coll, w string) []int {
	t.Helper()
	res := mustJSON(t, http.MethodPost, base+"/collections/"+coll+"/points/scroll", map[string]any{
		"filter": map[string]any{"must": []any{
			map[string]any{"key": "t", "match": map[string]any{"text": w}},
		}},
		"limit": 10000, "with_payload": false,
	})
	var page struct {
		Points []struct{ ID int } `json:"points"`
	}
	require.NoError(t, json.Unmarshal(res, &page))
	ids := make([]int, len(page.Points))
	for i, p := range page.Points {
		ids[i] = p.ID
	}
	slices.Sort(ids)
	return ids
}

// mustJSON sends a JSON request that must answer 200 and returns its
// result.
func mustJSON(t *testing.T, method, u string, body any) json.RawMessage {
	t.Helper()
	code, b, err := httpJSON(method, u, body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "%s %s: %s", method, u, b)
	var env struct{ Result json.RawMessage }
	require.NoError(t, json.Unmarshal(b, &env), "%s", b)
	return env.Result
}

func httpJSON(method, u string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, b, err
}
