package bench

import (
	"context"
	"testing"
)

// TestRunQuantizedTargets runs every target that takes --quantization over
// a small dataset twice (2000 points of 1300 dimensions, just over the 10 MB
// at which qlite and Qdrant index a segment, so that qlite's segment is
// sealed and quantised; Qdrant quantises its unindexed segments too when the
// codes are binary): scalar int8 with Qdrant's default rescoring must
// keep recall, and one-bit binary codes without rescoring must lose much of
// it, which shows that the target searched the codes it was asked to build
// rather than ignoring the config.
func TestRunQuantizedTargets(t *testing.T) {
	targets := []string{"embedded", TargetServe, TargetQdrant, "qdrant-edge"}
	for _, target := range targets {
		t.Run(target, func(t *testing.T) {
			var cfg *Config
			switch target {
			case "qdrant-edge":
				cfg = edgeConfig(t)
			case TargetQdrant:
				bin := qdrantBin(t)
				cfg = smallConfig(t, target)
				cfg.QdrantBin = bin
			default:
				cfg = smallConfig(t, target)
			}
			cfg.Dataset = "fvecs:" + makeFvecsDir(t, 2000, 100, 1300)
			cfg.Ef = []int{64}
			cfg.Repeat = 1
			cfg.Quantization = "scalar"
			res, err := Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Params.Quantization != "scalar" {
				t.Errorf("params %+v do not record the quantization", res.Params)
			}
			scalar := runAt(t, res, res.Runs, 64).Recall
			if scalar < 0.9 {
				t.Errorf("scalar int8, rescored: recall@10 %.4f at ef 64, want >= 0.9", scalar)
			}

			cfg.Quantization, cfg.Rescore = "binary-1bit", "false"
			res, err = Run(context.Background(), cfg)
			if err != nil {
				t.Fatal(err)
			}
			if res.Params.Rescore != "false" {
				t.Errorf("params %+v do not record rescore", res.Params)
			}
			if bin := runAt(t, res, res.Runs, 64).Recall; bin > scalar-0.2 {
				t.Errorf("binary one-bit codes without rescoring: recall@10 %.4f, scalar %.4f: the codes were not searched", bin, scalar)
			}
		})
	}
}
