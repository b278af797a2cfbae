package compat_test

import (
	"context"
	"fmt"
	"os"

	"github.com/qdrant/go-client/qdrant"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
)

type Product struct {
	Name  string  `json:"name"`
	Price float64 `json:"price"`
}

// Code written against compat.Client runs in process here, and against any
// Qdrant server when c comes from qdrant.NewClient instead.
func ExampleNewEmbedded() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "qlite-example-")
	defer os.RemoveAll(dir)
	db, err := engine.Open(dir, nil)
	if err != nil {
		panic(err)
	}
	defer db.Close()

	var c compat.Client = compat.NewEmbedded(db)
	// c, err := qdrant.NewClient(&qdrant.Config{Host: "localhost", Port: 6334})

	err = c.CreateCollection(ctx, &qdrant.CreateCollection{
		CollectionName: "products",
		VectorsConfig:  qdrant.NewVectorsConfig(&qdrant.VectorParams{Size: 2, Distance: qdrant.Distance_Dot}),
	})
	if err != nil {
		panic(err)
	}
	var points []*qdrant.PointStruct
	for i, p := range []Product{{"lamp", 30}, {"desk", 250}, {"chair", 120}} {
		pl, err := compat.PayloadFromStruct(p)
		if err != nil {
			panic(err)
		}
		points = append(points, &qdrant.PointStruct{
			Id: qdrant.NewIDNum(uint64(i + 1)), Vectors: qdrant.NewVectorsDense([]float32{float32(i + 1), 1}), Payload: pl,
		})
	}
	if _, err := c.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: "products", Points: points}); err != nil {
		panic(err)
	}

	under200, err := compat.FilterToProto(filter.Must(filter.Key("price").Range(filter.Lt(200))))
	if err != nil {
		panic(err)
	}
	hits, err := c.Query(ctx, &qdrant.QueryPoints{
		CollectionName: "products",
		Query:          qdrant.NewQueryDense([]float32{1, 0}),
		Filter:         under200,
		WithPayload:    qdrant.NewWithPayload(true),
	})
	if err != nil {
		panic(err)
	}
	for _, h := range hits {
		var p Product
		if err := compat.DecodePayload(h.GetPayload(), &p); err != nil {
			panic(err)
		}
		fmt.Println(h.GetId().GetNum(), h.GetScore(), p.Name, p.Price)
	}
	// Output:
	// 3 3 chair 120
	// 1 1 lamp 30
}
