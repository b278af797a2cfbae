package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/qlite/qlite/bench"
	"github.com/qlite/qlite/distance"
)

// dataDir returns the Fashion-MNIST directory, skipping the test when the
// dataset is not installed.
func dataDir(t *testing.T) string {
	dir := bench.DefaultFashionMNISTDir
	if _, err := os.Stat(filepath.Join(dir, "train-images-idx3-ubyte.gz")); err != nil {
		t.Skipf("Fashion-MNIST not installed in %s (apt-get install dataset-fashion-mnist): %v", dir, err)
	}
	return dir
}

// bruteForce returns the ids of the k images nearest q by Euclidean
// distance, of class label only when label >= 0.
func bruteForce(d *Data, q []float32, k, label int) []string {
	type hit struct {
		id   int
		dist float32
	}
	var hits []hit
	for i, v := range d.Base {
		if label >= 0 && int(d.BaseLabels[i]) != label {
			continue
		}
		hits = append(hits, hit{i, distance.SquaredL2(q, v)})
	}
	slices.SortStableFunc(hits, func(a, b hit) int {
		switch {
		case a.dist < b.dist:
			return -1
		case a.dist > b.dist:
			return 1
		}
		return 0
	})
	out := make([]string, k)
	for i := range out {
		out[i] = fmt.Sprint(hits[i].id)
	}
	return out
}

func TestFashion(t *testing.T) {
	dir := dataDir(t)
	const n, nq, k = 5000, 20, 5
	data, err := Load(dir, n, nq)
	if err != nil {
		t.Fatal(err)
	}
	f := func(exact bool, class string) {
		t.Helper()
		args := []string{"-data", dir, "-n", fmt.Sprint(n), "-queries", fmt.Sprint(nq), "-k", fmt.Sprint(k)}
		label := -1
		if class != "" {
			args = append(args, "-class", class)
			label = slices.Index(Classes, class)
		}
		if exact {
			args = append(args, "-exact")
		}
		var out bytes.Buffer
		if err := run(context.Background(), args, &out); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		found := 0
		for qi := range nq {
			_, ids, _ := strings.Cut(lines[qi], ": ")
			got := strings.Fields(ids)
			want := bruteForce(data, data.Queries[qi], k, label)
			if exact && !slices.Equal(got, want) {
				t.Fatalf("query %d: exact search gives %v, brute force %v", qi, got, want)
			}
			for _, id := range got {
				if slices.Contains(want, id) {
					found++
				}
			}
		}
		recall := float64(found) / (nq * k)
		t.Logf("%v: recall@%d %.3f; %s", args, k, recall, lines[len(lines)-1])
		if recall < 0.9 {
			t.Fatalf("recall@%d %.3f against brute force, want >= 0.9", k, recall)
		}
	}
	f(false, "")
	f(true, "Sneaker")

	if err := run(context.Background(), []string{"-data", dir, "-class", "Hat"}, &bytes.Buffer{}); err == nil {
		t.Fatal("an unknown class was accepted")
	}
	if err := run(context.Background(), []string{"-data", t.TempDir()}, &bytes.Buffer{}); err == nil {
		t.Fatal("a directory without the dataset was accepted")
	}
}
