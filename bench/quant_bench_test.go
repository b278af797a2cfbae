//go:build linux

package bench

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// BenchmarkQuantizedSearch measures one query at a time through go-client's
// API over the engine (the embedded target) on quantised collections of the
// whole of Fashion-MNIST, at fixed efs, with the recall of the first 1000
// queries at each; one op is one query. Each kind's collection is built
// once (10 to 20 s).
//
//	go test ./bench -run XXX -bench 'QuantizedSearch/kind=scalar-euclid' -count 6 | benchstat -col /ef -
func BenchmarkQuantizedSearch(b *testing.B) {
	for _, tc := range []struct {
		name, dataset, quant string
		oversampling         float64
		efs                  []int
	}{
		{"scalar-euclid", "fashion-mnist-784-euclidean", "scalar", 0, []int{16, 64}},
		{"scalar-angular", "fashion-mnist-784-angular", "scalar", 0, []int{24, 48}},
		{"binary-2bit-angular", "fashion-mnist-784-angular", "binary-2bit", 4, []int{8, 64}},
	} {
		b.Run("kind="+tc.name, func(b *testing.B) {
			ds, err := LoadDataset(tc.dataset, nil)
			if errors.Is(err, ErrNotInstalled) {
				b.Skipf("Fashion-MNIST is not installed: %v", err)
			}
			if err != nil {
				b.Fatal(err)
			}
			const nq = 1000
			gt, err := ds.GroundTruth(context.Background(), nq, benchK, &GroundTruthOptions{CacheDir: b.TempDir()})
			if err != nil {
				b.Fatal(err)
			}
			c := benchConfig()
			c.Quantization, c.Oversampling = tc.quant, tc.oversampling
			ctx := context.Background()
			db, cl := openBenchDB(b, c)
			if cl.quant, cl.quantSearch, err = quantizationOf(c); err != nil {
				b.Fatal(err)
			}
			if err := createCollection(ctx, c, cl, ds, nil); err != nil {
				b.Fatal(err)
			}
			if err := uploadBase(ctx, cl, ds, nil, nil); err != nil {
				b.Fatal(err)
			}
			if err := db.WaitGreen(ctx, cl.coll, 20*time.Millisecond); err != nil {
				b.Fatal(err)
			}
			// No compaction left to run beside the searches.
			if err := db.Compact(ctx); err != nil {
				b.Fatal(err)
			}
			search := func(i, ef int, row []int32) {
				if err := cl.search(ctx, ds.Query(i), benchK, ef, nil, row); err != nil {
					b.Fatal(err)
				}
			}
			for _, ef := range tc.efs {
				found := make([]int32, nq*benchK)
				for i := range found {
					found[i] = -1
				}
				for i := range nq {
					search(i, ef, found[i*benchK:(i+1)*benchK])
				}
				recall := Recall(found, gt, benchK)
				row := make([]int32, benchK)
				b.Run(fmt.Sprintf("ef=%d", ef), func(b *testing.B) {
					// The searches' own CPU time: one thread, which
					// the other goroutines' work does not touch.
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					b.ReportAllocs()
					i := 0
					cpu0 := threadCPU()
					for b.Loop() {
						search(i%nq, ef, row)
						i++
					}
					b.ReportMetric(float64(threadCPU()-cpu0)/float64(b.N), "thread-cpu-ns/op")
					reportSearch(b, ef, recall)
				})
			}
		})
	}
}

// threadCPU returns the CPU time of the calling OS thread.
func threadCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_THREAD, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
