package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
)

func unit(v []float32) []float64 {
	var n float64
	for _, x := range v {
		n += float64(x) * float64(x)
	}
	out := make([]float64, len(v))
	for i, x := range v {
		out[i] = float64(x) / math.Sqrt(n)
	}
	return out
}

func cos(a, b []float64) float64 {
	var d, na, nb float64
	for i := range a {
		d += a[i] * b[i]
		na += a[i] * a[i]
		nb += b[i] * b[i]
	}
	return d / math.Sqrt(na*nb)
}

// bruteForce scores every film that is not an example and not of the
// excluded genre, by the strategy's definition.
func bruteForce(pos, neg []int, strategy, exclude string, k int) []string {
	vecs := make([][]float64, len(films))
	for i, f := range films {
		vecs[i] = unit(vector(f))
	}
	avg := func(ids []int) []float64 {
		out := make([]float64, 16)
		for _, id := range ids {
			for j, x := range vecs[id-1] {
				out[j] += x / float64(len(ids))
			}
		}
		return out
	}
	q := avg(pos)
	if len(neg) > 0 {
		n := avg(neg)
		for j := range q {
			q[j] = 2*q[j] - n[j]
		}
	}
	type hit struct {
		id    int
		score float64
	}
	var hits []hit
	for i, f := range films {
		id := i + 1
		if slices.Contains(pos, id) || slices.Contains(neg, id) || slices.Contains(f.Genres, exclude) {
			continue
		}
		var s float64
		switch strategy {
		case "average_vector":
			s = cos(q, vecs[i])
		case "sum_scores":
			for _, p := range pos {
				s += cos(vecs[p-1], vecs[i])
			}
			for _, n := range neg {
				s -= cos(vecs[n-1], vecs[i])
			}
		}
		hits = append(hits, hit{id, s})
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case a.score > b.score:
			return -1
		case a.score < b.score:
			return 1
		}
		return 0
	})
	var out []string
	for _, h := range hits[:k] {
		f := films[h.id-1]
		out = append(out, fmt.Sprintf("  %d %.4f %s (%s)", h.id, h.score, f.Title, strings.Join(f.Genres, ", ")))
	}
	return out
}

func TestRecommend(t *testing.T) {
	f := func(pos, neg []int, strategy, exclude string) {
		t.Helper()
		join := func(ids []int) string {
			s := make([]string, len(ids))
			for i, id := range ids {
				s[i] = fmt.Sprint(id)
			}
			return strings.Join(s, ",")
		}
		var out bytes.Buffer
		args := []string{"-like", join(pos), "-dislike", join(neg), "-strategy", strategy, "-exclude-genre", exclude}
		if err := run(context.Background(), args, &out); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		rec, query := lines[1:5], lines[6:]
		if !slices.Equal(rec, query) {
			t.Fatalf("recommend and query answers differ:\n%s", out.String())
		}
		if strategy == "best_score" {
			return
		}
		if want := bruteForce(pos, neg, strategy, exclude, 4); !slices.Equal(rec, want) {
			t.Fatalf("%v: got\n%s\nbrute force\n%s", args, strings.Join(rec, "\n"), strings.Join(want, "\n"))
		}
		t.Logf("%v\n%s", args, out.String())
	}
	f([]int{1, 10}, nil, "average_vector", "")
	f([]int{1, 10}, []int{2}, "average_vector", "")
	f([]int{4}, []int{7, 9}, "average_vector", "horror")
	f([]int{3, 8}, []int{1}, "sum_scores", "")
	f([]int{3, 8}, []int{1}, "best_score", "comedy")

	var out bytes.Buffer
	if err := run(context.Background(), []string{"-like", "x"}, &out); err == nil {
		t.Fatal("a bad id was accepted")
	}
	if err := run(context.Background(), []string{"-like", "1", "-strategy", "nope"}, &out); err == nil {
		t.Fatal("an unknown strategy was accepted")
	}
}
