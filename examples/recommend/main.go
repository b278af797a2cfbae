// Recommendations: films like the ones a viewer liked and unlike the ones they disliked, with the recommend API and the query API's recommend form.
//
//	go run ./examples/recommend -like 1,4 -dislike 9
//	go run ./examples/recommend -like 1 -strategy sum_scores -exclude-genre horror
//
// Each film's vector mixes the vectors of its genres with a little
// per-film variation; a real system would use vectors learnt from ratings
// or an embedding model.
package main

import (
	"context"
	"flag"
	"fmt"
	"hash/fnv"
	"io"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/engine"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// Film is a film's payload.
type Film struct {
	Title  string   `json:"title"`
	Genres []string `json:"genres"`
	Year   int      `json:"year"`
}

var films = []Film{
	{"Orbit of Ash", []string{"scifi", "action"}, 2019},
	{"The Last Courier", []string{"action", "thriller"}, 2015},
	{"Quiet Harbour", []string{"drama", "romance"}, 2012},
	{"Laugh Track", []string{"comedy"}, 2018},
	{"Starfall Protocol", []string{"scifi", "thriller"}, 2021},
	{"The Long Table", []string{"drama", "family"}, 2010},
	{"Midnight Ward", []string{"horror", "thriller"}, 2017},
	{"Paper Moons", []string{"romance", "comedy"}, 2016},
	{"Hollow Pines", []string{"horror"}, 2020},
	{"Iron Meridian", []string{"action", "scifi"}, 2023},
	{"Grandma's Garden", []string{"family", "comedy"}, 2014},
	{"Cold Signal", []string{"scifi", "drama"}, 2022},
	{"Ten Thousand Steps", []string{"drama"}, 2011},
	{"Blackout City", []string{"action", "horror"}, 2019},
	{"Summer Reruns", []string{"comedy", "romance"}, 2013},
	{"The Cartographer", []string{"drama", "thriller"}, 2018},
	{"Nebula Kids", []string{"scifi", "family"}, 2021},
	{"Last Laugh", []string{"comedy", "drama"}, 2009},
	{"Deep Shaft", []string{"horror", "scifi"}, 2016},
	{"Runaway Bride of Mars", []string{"scifi", "comedy", "romance"}, 2024},
}

var genres = []string{"action", "comedy", "drama", "family", "horror", "romance", "scifi", "thriller"}

// vector places a film near the sum of its genres' directions, moved a
// little by noise seeded by its title, so that films of a genre are close.
func vector(f Film) []float32 {
	const dim = 16
	v := make([]float32, dim)
	for _, g := range f.Genres {
		for i, name := range genres {
			if name == g {
				v[i] += 1
			}
		}
	}
	h := fnv.New64a()
	h.Write([]byte(f.Title))
	rng := rand.New(rand.NewPCG(h.Sum64(), 7))
	for i := range v {
		v[i] += float32(rng.NormFloat64() * 0.15)
	}
	return v
}

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "recommend:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("recommend", flag.ContinueOnError)
	like := fs.String("like", "1,10", "ids of films the viewer liked, comma-separated")
	dislike := fs.String("dislike", "", "ids of films the viewer disliked, comma-separated")
	strategy := fs.String("strategy", "average_vector", "average_vector, best_score or sum_scores")
	exclude := fs.String("exclude-genre", "", "never recommend films of this genre")
	k := fs.Int("k", 4, "films to recommend")
	if err := fs.Parse(args); err != nil {
		return err
	}
	pos, err := examples(*like)
	if err != nil {
		return fmt.Errorf("-like: %w", err)
	}
	neg, err := examples(*dislike)
	if err != nil {
		return fmt.Errorf("-dislike: %w", err)
	}

	tmp, err := os.MkdirTemp("", "qlite-recommend-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	db, err := engine.Open(tmp, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	if err := db.CreateCollection(ctx, "films", &engine.CreateCollection{
		Vectors: engine.VectorsConfig{"": {Size: 16, Distance: distance.Cosine}},
	}); err != nil {
		return err
	}
	pts := make([]engine.Point, len(films))
	for i, f := range films {
		p, err := payload.FromStruct(f)
		if err != nil {
			return err
		}
		pts[i] = engine.Point{ID: filter.NumID(uint64(i + 1)), Vectors: map[string][]float32{"": vector(f)}, Payload: p}
	}
	if _, err := db.Upsert(ctx, "films", &engine.UpsertOp{Points: pts}, nil); err != nil {
		return err
	}

	var f *filter.Filter
	if *exclude != "" {
		f = filter.MustNot(filter.Key("genres").Match(*exclude))
	}
	strat := engine.RecommendStrategy(*strategy)

	// The recommend API (POST /collections/films/points/recommend).
	hits, err := db.Recommend(ctx, "films", &engine.RecommendRequest{
		Positive: pos, Negative: neg, Strategy: strat, Filter: f, Limit: *k, WithPayload: engine.AllPayload,
	})
	if err != nil {
		return err
	}
	if err := printHits(out, "recommend", hits); err != nil {
		return err
	}
	// The same through the universal query API ({"query": {"recommend":
	// {...}}}), which also composes with prefetch.
	hits, err = db.Query(ctx, "films", &engine.QueryRequest{
		Query:  &engine.Query{Recommend: &engine.RecommendQuery{Positive: pos, Negative: neg, Strategy: strat}},
		Filter: f, Limit: *k, WithPayload: engine.AllPayload,
	})
	if err != nil {
		return err
	}
	return printHits(out, "query", hits)
}

func printHits(out io.Writer, api string, hits []engine.ScoredPoint) error {
	fmt.Fprintf(out, "%s:\n", api)
	for _, h := range hits {
		var f Film
		if err := h.Payload.Decode(&f); err != nil {
			return err
		}
		fmt.Fprintf(out, "  %s %.4f %s (%s)\n", h.ID, h.Score, f.Title, strings.Join(f.Genres, ", "))
	}
	return nil
}

// examples parses comma-separated point ids into examples.
func examples(s string) ([]engine.Example, error) {
	var out []engine.Example
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part == "" {
			continue
		}
		n, err := strconv.ParseUint(part, 10, 64)
		if err != nil {
			return nil, err
		}
		id := filter.NumID(n)
		out = append(out, engine.Example{ID: &id})
	}
	return out, nil
}
