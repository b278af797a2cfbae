// Switching one program between the embedded engine and a Qdrant server: the same go-client code runs on compat.NewEmbedded or on qdrant.NewClient, chosen by QDRANT_URL.
//
//	go run ./examples/switch                               # embedded, in ./switch-data
//	go run ./cmd/qlite serve & QDRANT_URL=grpc://localhost:6334 go run ./examples/switch
//	QDRANT_URL=grpc://qdrant.internal:6334 QDRANT_API_KEY=... go run ./examples/switch
//
// Everything after the constructor is go-client code: it does not know
// which one it talks to, and both give the same answers.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/url"
	"os"
	"strconv"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
)

// Item is a point's payload.
type Item struct {
	Name     string  `json:"name"`
	Category string  `json:"category"`
	Price    float64 `json:"price"`
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "switch:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("switch", flag.ContinueOnError)
	server := fs.String("url", os.Getenv("QDRANT_URL"), "gRPC address of a Qdrant server or qlite serve, grpc://HOST:PORT (default $QDRANT_URL; empty: embedded)")
	dir := fs.String("dir", "switch-data", "database directory, when embedded")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c, closeFn, err := connect(*server, *dir)
	if err != nil {
		return err
	}
	defer closeFn()
	return workload(ctx, c, out)
}

// connect returns a client of the server at addr, or of an embedded
// database in dir when addr is empty.
func connect(addr, dir string) (compat.Client, func() error, error) {
	if addr == "" {
		db, err := engine.Open(dir, nil)
		if err != nil {
			return nil, nil, err
		}
		return compat.NewEmbedded(db), db.Close, nil
	}
	u, err := url.Parse(addr)
	if err != nil || u.Scheme != "grpc" && u.Scheme != "grpcs" {
		return nil, nil, fmt.Errorf("server address %q: want grpc://HOST:PORT or grpcs://HOST:PORT", addr)
	}
	host, portStr, err := net.SplitHostPort(u.Host)
	if err != nil {
		return nil, nil, fmt.Errorf("server address %q: %w", addr, err)
	}
	port, err := strconv.Atoi(portStr)
	if err != nil {
		return nil, nil, fmt.Errorf("server address %q: bad port", addr)
	}
	c, err := qdrant.NewClient(&qdrant.Config{
		Host: host, Port: port, UseTLS: u.Scheme == "grpcs", APIKey: os.Getenv("QDRANT_API_KEY"),
	})
	if err != nil {
		return nil, nil, err
	}
	return c, c.Close, nil
}

// workload creates a collection, fills it and queries it, printing the
// answers. It sees only the compat.Client interface.
func workload(ctx context.Context, c compat.Client, out io.Writer) error {
	const coll = "switch_demo"
	if ok, err := c.CollectionExists(ctx, coll); err != nil {
		return err
	} else if ok {
		if err := c.DeleteCollection(ctx, coll); err != nil {
			return err
		}
	}
	err := c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: coll,
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 8, Distance: qdrant.Distance_Cosine}),
	})
	if err != nil {
		return err
	}
	wait := true
	if _, err := c.CreateFieldIndex(ctx, &qdrant.CreateFieldIndexCollection{
		CollectionName: coll, FieldName: "category", FieldType: qdrant.FieldType_FieldTypeKeyword.Enum(), Wait: &wait,
	}); err != nil {
		return err
	}
	rng := rand.New(rand.NewPCG(3, 4))
	var pts []*qdrant.PointStruct
	for i := range 300 {
		vec := make([]float32, 8)
		for j := range vec {
			vec[j] = float32(rng.NormFloat64())
		}
		p, err := compat.PayloadFromStruct(Item{
			Name:     fmt.Sprintf("item-%03d", i),
			Category: []string{"books", "games", "music"}[i%3],
			Price:    float64(rng.IntN(10000)) / 100,
		})
		if err != nil {
			return err
		}
		pts = append(pts, &qdrant.PointStruct{Id: qdrant.NewIDNum(uint64(i)), Vectors: qdrant.NewVectorsDense(vec), Payload: p})
	}
	if _, err := c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: coll, Points: pts, Wait: &wait}); err != nil {
		return err
	}

	query := []float32{1, 0.5, 0, -0.5, 1, 0, 0.25, -1}
	exact := &qdrant.SearchParams{Exact: qdrant.PtrOf(true)}
	books, err := compat.FilterToProto(filter.Must(
		filter.Key("category").Match("books"),
		filter.Key("price").Range(filter.Gte(20), filter.Lt(80)),
	))
	if err != nil {
		return err
	}
	hits, err := c.Query(ctx, &qdrant.QueryPoints{
		CollectionName: coll, Query: qdrant.NewQueryDense(query), Filter: books,
		Limit: qdrant.PtrOf(uint64(5)), Params: exact, WithPayload: qdrant.NewWithPayload(true),
	})
	if err != nil {
		return err
	}
	if err := printHits(out, "books priced 20 to 80", hits); err != nil {
		return err
	}

	// Two filtered searches fused, in one request, by distribution-based
	// score fusion (RRF would tie the firsts of both lists).
	games, _ := compat.FilterToProto(filter.Must(filter.Key("category").Match("games")))
	cheap, _ := compat.FilterToProto(filter.Must(filter.Key("price").Range(filter.Lt(10))))
	hits, err = c.Query(ctx, &qdrant.QueryPoints{
		CollectionName: coll,
		Prefetch: []*qdrant.PrefetchQuery{
			{Query: qdrant.NewQueryDense(query), Filter: games, Limit: qdrant.PtrOf(uint64(20)), Params: exact},
			{Query: qdrant.NewQueryDense(query), Filter: cheap, Limit: qdrant.PtrOf(uint64(20)), Params: exact},
		},
		Query: qdrant.NewQueryFusion(qdrant.Fusion_DBSF), Limit: qdrant.PtrOf(uint64(5)), WithPayload: qdrant.NewWithPayload(true),
	})
	if err != nil {
		return err
	}
	if err := printHits(out, "games, or under 10, fused", hits); err != nil {
		return err
	}

	n, err := c.Count(ctx, &qdrant.CountPoints{CollectionName: coll, Filter: books, Exact: qdrant.PtrOf(true)})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "books priced 20 to 80: %d\n", n)
	return nil
}

func printHits(out io.Writer, title string, hits []*qdrant.ScoredPoint) error {
	fmt.Fprintf(out, "%s:\n", title)
	for _, h := range hits {
		var it Item
		if err := compat.DecodePayload(h.GetPayload(), &it); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %d %.4f %s %s %.2f\n", h.GetId().GetNum(), h.GetScore(), it.Name, it.Category, it.Price)
	}
	return nil
}
