package bench

import (
	"context"
	"fmt"
	"time"
)

// filteredWorkload is everything a filtered run measures against: the
// generated payloads, one filter case per selectivity with its exact ground
// truth and exact selectivity over the measured queries.
type filteredWorkload struct {
	payloads    []PointPayload
	cases       []*filterCase
	gts         []*GroundTruth // per case, nq rows
	selectivity []float64      // per case, over the nq measured queries
	classLabels string         // "dataset" or "generated"
}

// prepareFiltered generates the payloads of ds from c.Seed, builds the
// filter cases of c.FilterKind at c.FilterSelectivity and their ground
// truths over the first nq queries.
func prepareFiltered(ctx context.Context, c *Config, ds *Dataset, nq int) (*filteredWorkload, error) {
	start := time.Now()
	fw := &filteredWorkload{classLabels: "dataset"}
	if ds.BaseLabels == nil {
		fw.classLabels = "generated"
	}
	fw.payloads = GeneratePayloads(ds.N, ds.BaseLabels, c.Seed)
	cases, err := buildFilterCases(c.FilterKind, c.FilterSelectivity, fw.payloads, queryLabels(ds, c.Seed))
	if err != nil {
		return nil, err
	}
	fw.cases = cases
	fmt.Fprintf(c.Log, "payloads and filters for %d points in %.2fs (classes: %s labels)\n", ds.N, time.Since(start).Seconds(), fw.classLabels)
	for _, fc := range cases {
		gt, err := filteredGroundTruth(ctx, ds, fc, nq, c.K, &GroundTruthOptions{CacheDir: c.CacheDir, Log: c.Log})
		if err != nil {
			return nil, fmt.Errorf("bench: ground truth of %s: %w", fc.Name, err)
		}
		fw.gts = append(fw.gts, gt)
		fw.selectivity = append(fw.selectivity, fc.Selectivity(nq))
		fmt.Fprintf(c.Log, "filter %s: selectivity %.5f (requested %v)\n", fc.Name, fc.Selectivity(nq), fc.Requested)
	}
	return fw, nil
}

// mostCommon returns the key with the highest count (the least key among
// equals) and its count; "", 0 for an empty map.
func mostCommon(counts map[string]int) (string, int) {
	best, bestN := "", 0
	for key, n := range counts {
		if n > bestN || (n == bestN && key < best) {
			best, bestN = key, n
		}
	}
	return best, bestN
}
