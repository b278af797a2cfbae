package main

import (
	"math"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

// limitAfterGC collects until the heap policy has moved the memory limit
// away from from, and returns the new limit and the live heap the last
// collection found.
func limitAfterGC(t *testing.T, from int64) (limit, live int64) {
	t.Helper()
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		runtime.GC()
		runtime.Gosched()
		if l := debug.SetMemoryLimit(-1); l != from {
			metrics.Read(s)
			return l, int64(s[0].Value.Uint64())
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatalf("the memory limit stayed %d after collections", from)
	return 0, 0
}

// The policy sets the limit to the live heap plus its headroom after a
// collection, never above the user's ceiling, and not at all with GOGC set.
func TestHeapPolicy(t *testing.T) {
	t.Setenv("GOGC", "") // the policy's own check; the runtime read GOGC at start
	before := debug.SetMemoryLimit(-1)
	defer debug.SetMemoryLimit(before)
	debug.SetMemoryLimit(math.MaxInt64)

	// 96 MiB of live pointer-free data: the headroom is its quarter.
	const held = 96 << 20
	data := make([]byte, held)
	for i := range data {
		data[i] = byte(i)
	}
	stop := startHeapPolicy(math.MaxInt64)
	limit, live := limitAfterGC(t, math.MaxInt64)
	if live < held {
		t.Fatalf("live heap %d below the %d bytes held", live, held)
	}
	// Above live plus the headroom, below that plus a runtime overhead far
	// smaller than the data.
	if lo, hi := live+live/heapHeadroomDiv, live+live/heapHeadroomDiv+held/4; limit < lo || limit > hi {
		t.Fatalf("limit %d with %d live: want in [%d, %d]", limit, live, lo, hi)
	}
	stop()
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("after stop the limit is %d, want the ceiling back", got)
	}

	// A ceiling below what the policy would choose wins.
	const ceiling = 64 << 20
	debug.SetMemoryLimit(ceiling)
	stop = startHeapPolicy(ceiling)
	debug.SetMemoryLimit(ceiling + 1) // so that the policy's setting shows
	if limit, _ := limitAfterGC(t, ceiling+1); limit != ceiling {
		t.Fatalf("limit %d, want the ceiling %d", limit, ceiling)
	}
	stop()
	runtime.KeepAlive(data)

	// With GOGC set the policy does nothing.
	t.Setenv("GOGC", "100")
	debug.SetMemoryLimit(math.MaxInt64)
	stop = startHeapPolicy(math.MaxInt64)
	for range 3 {
		runtime.GC()
	}
	time.Sleep(10 * time.Millisecond)
	if got := debug.SetMemoryLimit(-1); got != math.MaxInt64 {
		t.Fatalf("with GOGC set the limit moved to %d", got)
	}
	stop()
}
