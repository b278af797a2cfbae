package engine

import (
	"context"
	"sync/atomic"
)

// HardwareUsage is what a collection's operations have cost since the
// database was opened, in the terms of Qdrant's hardware counters (its
// collection_hardware_metric_* metrics and the hardware section of its
// telemetry):
//
//   - CPU counts vector elements scored: the dimension of the vectors times
//     the number of distances computed by searches and distance matrices;
//   - VectorIOWrite and PayloadIOWrite count the bytes of vectors (4 a
//     dimension) and of encoded payloads written to the store;
//   - the read counters count bytes read from storage. qlite keeps vectors,
//     payloads and payload indexes in memory and writes payload indexes
//     nowhere but in memory, so those counters, and PayloadIndexIOWrite,
//     stay 0 (as Qdrant's do for storage it keeps in RAM).
type HardwareUsage struct {
	CPU                 int64
	PayloadIORead       int64
	PayloadIOWrite      int64
	PayloadIndexIORead  int64
	PayloadIndexIOWrite int64
	VectorIORead        int64
	VectorIOWrite       int64
}

// hardwareCounters are a collection's running HardwareUsage.
type hardwareCounters struct {
	cpu, payloadIOWrite, vectorIOWrite atomic.Int64
}

func (h *hardwareCounters) usage() HardwareUsage {
	return HardwareUsage{CPU: h.cpu.Load(), PayloadIOWrite: h.payloadIOWrite.Load(), VectorIOWrite: h.vectorIOWrite.Load()}
}

// wrote counts a record written to the store: payloadBytes of encoded
// payload and its vectors.
func (h *hardwareCounters) wrote(r *record, payloadBytes int) {
	n := 0
	for _, v := range r.vectors {
		n += len(v)
	}
	h.vectorIOWrite.Add(int64(n) * 4)
	h.payloadIOWrite.Add(int64(payloadBytes))
}

// HardwareUsage returns a collection's hardware usage since the database
// was opened.
func (db *DB) HardwareUsage(ctx context.Context, coll string) (HardwareUsage, error) {
	c, err := db.collection(coll)
	if err != nil {
		return HardwareUsage{}, err
	}
	return c.hw.usage(), nil
}
