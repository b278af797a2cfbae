package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync"
)

// heapPolicy bounds how far the Go heap grows past its live data between
// collections. With GOGC=100 alone the heap of a server holding 200 MiB of
// vectors reaches 400 MiB before each collection, the garbage of uploads
// and queries filling the headroom. After every collection the policy sets
// the runtime's soft memory limit to the live heap plus a headroom of
// max(heapHeadroomFloor, live/heapHeadroomDiv), plus what the runtime holds
// besides heap objects (stacks, metadata): a large heap then grows by a
// quarter between collections, a small one by GOGC's usual amount (the
// runtime collects at the lower of GOGC's goal and the limit). The data is
// mostly pointer-free vectors the collector does not scan, so the extra
// collections cost little CPU.
//
// A limit the user set (--memory-limit, GOMEMLIMIT) stays the ceiling; a
// GOGC the user set turns the policy off.
type heapPolicy struct {
	ceiling int64 // the user's limit, math.MaxInt64 for none

	// mu orders the limit's updates with stop, after which there are none.
	mu      sync.Mutex
	stopped bool
	samples []metrics.Sample
}

const (
	heapHeadroomDiv = 4
	// heapHeadroomFloor is the least headroom. The headroom stays resident
	// (the runtime reuses the pages it frees rather than returning them),
	// so a floor above a quarter of the live heap is memory a small server
	// holds for nothing but fewer collections, which on such a heap cost
	// little: with the originals on disk and 45 MiB of codes in RAM, a
	// floor of 32 MiB was a third of the process's anonymous memory.
	heapHeadroomFloor = 16 << 20
)

// startHeapPolicy starts the policy under the user's ceiling, unless GOGC
// is set; the returned function stops it and restores the ceiling.
func startHeapPolicy(ceiling int64) (stop func()) {
	if os.Getenv("GOGC") != "" {
		return func() {}
	}
	p := &heapPolicy{ceiling: ceiling, samples: []metrics.Sample{
		{Name: "/gc/heap/live:bytes"},
		{Name: "/memory/classes/total:bytes"},
		{Name: "/memory/classes/heap/released:bytes"},
		{Name: "/memory/classes/heap/free:bytes"},
		{Name: "/memory/classes/heap/objects:bytes"},
	}}
	p.arm()
	return func() {
		p.mu.Lock()
		defer p.mu.Unlock()
		p.stopped = true
		debug.SetMemoryLimit(p.ceiling)
	}
}

// gcSentinel is an object whose finalizer marks the end of a collection;
// it is too large for the tiny allocator, whose blocks other objects can
// keep alive.
type gcSentinel struct{ _ [32]byte }

// arm runs p.collected after the next collection, through the finalizer
// of an object nothing else refers to.
func (p *heapPolicy) arm() {
	runtime.SetFinalizer(new(gcSentinel), func(*gcSentinel) {
		if p.collected() {
			p.arm()
		}
	})
}

// collected sets the limit from the live heap the last collection found,
// unless the policy is stopped; it reports whether it is still running.
func (p *heapPolicy) collected() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return false
	}
	metrics.Read(p.samples)
	v := func(i int) int64 {
		if p.samples[i].Value.Kind() != metrics.KindUint64 {
			return 0
		}
		return int64(p.samples[i].Value.Uint64())
	}
	live, total, released, free, objects := v(0), v(1), v(2), v(3), v(4)
	if live == 0 {
		return true
	}
	overhead := max(total-released-free-objects, 0)
	limit := live + max(heapHeadroomFloor, live/heapHeadroomDiv) + overhead
	debug.SetMemoryLimit(min(limit, p.ceiling))
	return true
}
