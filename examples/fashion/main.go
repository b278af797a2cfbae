// Image similarity on Fashion-MNIST: store 28x28 clothing images as 784-dimensional vectors, find the images most like a query image, optionally of one class only.
//
//	apt-get install dataset-fashion-mnist   # or put the four idx .gz files in a directory
//	go run ./examples/fashion -n 20000 -queries 5
//	go run ./examples/fashion -class Sneaker
//
// The vectors are the raw pixels compared by Euclidean distance, which
// works on this small, centred dataset; for photos use an image embedding
// model (CLIP and the like) and Cosine.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/qlite/qlite/bench"
	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// Classes are Fashion-MNIST's labels, by number.
var Classes = []string{"T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"}

// Image is an image's payload.
type Image struct {
	Class string `json:"class"`
	Label int    `json:"label"`
	Index int    `json:"index"` // row in the training file
}

// Data is the loaded subset: n training images as base, some test images as
// queries.
type Data struct {
	Base, Queries           [][]float32
	BaseLabels, QueryLabels []uint8
}

// Load reads the first n training images and the first q test images from
// the idx files in dir, with bench's reader.
func Load(dir string, n, q int) (*Data, error) {
	d := &Data{}
	read := func(images, labels string, limit int) ([][]float32, []uint8, error) {
		flat, rows, dim, err := bench.ReadIDXImages(filepath.Join(dir, images), limit)
		if err != nil {
			return nil, nil, err
		}
		lab, err := bench.ReadIDXLabels(filepath.Join(dir, labels), limit)
		if err != nil {
			return nil, nil, err
		}
		vecs := make([][]float32, rows)
		for i := range vecs {
			vecs[i] = flat[i*dim : (i+1)*dim]
		}
		return vecs, lab, nil
	}
	var err error
	if d.Base, d.BaseLabels, err = read("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", n); err != nil {
		return nil, err
	}
	if d.Queries, d.QueryLabels, err = read("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz", q); err != nil {
		return nil, err
	}
	return d, nil
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "fashion:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("fashion", flag.ContinueOnError)
	dir := fs.String("data", bench.DefaultFashionMNISTDir, "directory of Fashion-MNIST's idx .gz files")
	n := fs.Int("n", 5000, "training images to store (up to 60000)")
	nq := fs.Int("queries", 5, "test images to query with")
	k := fs.Int("k", 5, "similar images per query")
	class := fs.String("class", "", "return only images of this class (e.g. Sneaker)")
	exact := fs.Bool("exact", false, "score every image instead of walking the HNSW graph")
	if err := fs.Parse(args); err != nil {
		return err
	}
	data, err := Load(*dir, *n, *nq)
	if err != nil {
		return err
	}
	var f *filter.Filter
	if *class != "" {
		if !slices.Contains(Classes, *class) {
			return fmt.Errorf("unknown class %q (known: %q)", *class, Classes)
		}
		f = filter.Must(filter.Key("class").Match(*class))
	}

	tmp, err := os.MkdirTemp("", "qlite-fashion-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := engine.Open(tmp, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateCollection(ctx, "images", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: 784, Distance: distance.Euclid}},
	}); err != nil {
		return err
	}
	if _, err := db.CreateFieldIndex(ctx, "images", "class", payload.IndexParams{Type: payload.TypeKeyword}, nil); err != nil {
		return err
	}
	const batch = 1000
	for start := 0; start < len(data.Base); start += batch {
		pts := make([]engine.Point, 0, batch)
		for i := start; i < min(start+batch, len(data.Base)); i++ {
			l := int(data.BaseLabels[i])
			p, err := payload.FromStruct(Image{Class: Classes[l], Label: l, Index: i})
			if err != nil {
				return err
			}
			pts = append(pts, engine.Point{ID: filter.NumID(uint64(i)), Vectors: map[string][]float32{"": data.Base[i]}, Payload: p})
		}
		if _, err := db.Upsert(ctx, "images", &engine.UpsertOp{Points: pts}, nil); err != nil {
			return err
		}
	}
	// Wait for the background optimizer to build the graph, so that the
	// searches walk it.
	if err := db.WaitGreen(ctx, "images", 20*time.Millisecond); err != nil {
		return err
	}

	same, total := 0, 0
	for qi, q := range data.Queries {
		hits, err := db.Search(ctx, "images", &engine.SearchRequest{
			Vector: q, Limit: *k, Filter: f, Exact: *exact, WithPayload: engine.AllPayload,
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "query %d (%s):", qi, Classes[data.QueryLabels[qi]])
		for _, h := range hits {
			var img Image
			if err := h.Payload.Decode(&img); err != nil {
				return err
			}
			fmt.Fprintf(out, " %s", h.ID)
			total++
			if img.Label == int(data.QueryLabels[qi]) {
				same++
			}
		}
		fmt.Fprintln(out)
	}
	if total > 0 {
		fmt.Fprintf(out, "%d of %d results share the query's class (%.0f%%)\n", same, total, 100*float64(same)/float64(total))
	}
	return nil
}
