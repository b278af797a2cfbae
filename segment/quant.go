package segment

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/distance/quant"
)

// Quantized is the quantised form of one vector space of a sealed segment:
// a trained quantiser and the encoded row of every slot (row i at
// Rows[i*Q.RowSize():], zero for slots without the vector). Rows may alias
// a read-only mapping; it is never written once set.
type Quantized struct {
	Q    quant.Quantizer
	Rows []byte
	// Slots is the number of rows.
	Slots int
	// Mapped reports Rows as a read-only mapping of a file (not heap).
	Mapped bool
}

// Bytes returns the size of the encoded rows.
func (q *Quantized) Bytes() int64 {
	if q == nil {
		return 0
	}
	return int64(len(q.Rows))
}

// QuantSearch are Qdrant's search-time quantisation parameters.
type QuantSearch struct {
	// Ignore searches the original vectors even where quantised ones exist.
	Ignore bool
	// Rescore, when set, says whether the candidates found on the
	// quantised vectors are rescored with the originals; unset, it follows
	// Qdrant's default (on for binary quantisation, off otherwise).
	Rescore *bool
	// Oversampling multiplies the number of candidates taken from the
	// quantised search when above 1 (limit·oversampling, rounded down).
	Oversampling float64
}

// Quantize trains a quantiser on the vectors of space name with train and
// encodes every slot on up to workers goroutines. It does not install the
// result (SetQuantized does). It is meant for a sealed segment: slots
// appended later have no row.
func (s *Segment) Quantize(name string, workers int, train func(quant.Vectors) (quant.Quantizer, error)) (*Quantized, error) {
	sp, err := s.space(name)
	if err != nil {
		return nil, err
	}
	if sp.multi != nil {
		return nil, fmt.Errorf("vector %q: quantisation of multivectors is not supported", name)
	}
	n := s.n.Load()
	tv := trainVectors{sp: sp}
	for off := range n {
		if s.hasBit(sp, off) {
			tv.offs = append(tv.offs, off)
		}
	}
	q, err := train(tv)
	if err != nil {
		return nil, fmt.Errorf("vector %q: %w", name, err)
	}
	rs := q.RowSize()
	rows := quant.AlignedRows(q, int(n))
	// Slots are encoded in blocks taken in turn; rows do not overlap.
	const block = 1024
	var next atomic.Int64
	var wg sync.WaitGroup
	for range max(1, min(workers, (len(tv.offs)+block-1)/block)) {
		wg.Go(func() {
			for lo := int(next.Add(block) - block); lo < len(tv.offs); lo = int(next.Add(block) - block) {
				for _, off := range tv.offs[lo:min(lo+block, len(tv.offs))] {
					q.Encode(rows[int(off)*rs:int(off+1)*rs], sp.vector(off))
				}
			}
		})
	}
	wg.Wait()
	return &Quantized{Q: q, Rows: rows, Slots: int(n)}, nil
}

// SetQuantized installs (or with nil removes) the quantised vectors of
// space name; searches started after it use them.
func (s *Segment) SetQuantized(name string, q *Quantized) error {
	sp, err := s.space(name)
	if err != nil {
		return err
	}
	if q != nil {
		if q.Q.Dim() != sp.dim || q.Q.Metric() != sp.metric {
			return fmt.Errorf("vector %q: quantiser of dimension %d (%v), space has %d (%v)", name, q.Q.Dim(), q.Q.Metric(), sp.dim, sp.metric)
		}
		if len(q.Rows) < q.Slots*q.Q.RowSize() {
			return fmt.Errorf("vector %q: %d bytes of quantised rows for %d slots of %d bytes", name, len(q.Rows), q.Slots, q.Q.RowSize())
		}
	}
	sp.quant.Store(q)
	return nil
}

// Quantized returns the quantised vectors of space name, or nil.
func (s *Segment) Quantized(name string) *Quantized {
	sp, err := s.space(name)
	if err != nil {
		return nil
	}
	return sp.quant.Load()
}

// QuantizedBytes returns the bytes of every space's quantised rows.
func (s *Segment) QuantizedBytes() int64 {
	var b int64
	for _, sp := range s.spaces {
		b += sp.quant.Load().Bytes()
	}
	return b
}

// trainVectors shows the vectors of a space's slots offs to a trainer.
type trainVectors struct {
	sp   *space
	offs []uint32
}

func (t trainVectors) Len() int           { return len(t.offs) }
func (t trainVectors) Dim() int           { return t.sp.dim }
func (t trainVectors) At(i int) []float32 { return t.sp.vector(t.offs[i]) }

// quantVectors is hnsw.Vectors over quantised rows for one prepared query:
// Distances ignores the float query it is given.
type quantVectors struct {
	qv *Quantized
	pq quant.Query
}

func (v *quantVectors) Vector(uint32) []float32 {
	panic("segment: BUG: quantised vectors read by a graph insert")
}

func (v *quantVectors) Distances(_ []float32, ids []uint32, dst []float32) {
	v.qv.Q.Distances(dst, &v.pq, v.qv.Rows, ids)
}

// quantPlan decides whether a search of sp runs on quantised vectors, as
// Qdrant decides: quantised vectors exist and cover the slots searched,
// and the search is neither exact nor told to ignore them. It prepares the
// query into sc and returns the number of candidates to collect and
// whether they are rescored.
func (s *Segment) quantPlan(sc *scratch, sp *space, o *SearchOptions, k int, n uint32) (kk int, rescore, on bool) {
	qv := sp.quant.Load()
	if qv == nil || o.Exact || o.Quant.Ignore || int(n) > qv.Slots {
		return k, false, false
	}
	sc.qvec.qv = qv
	qv.Q.PrepareQuery(&sc.qvec.pq, sc.q)
	kk = k
	if o.Quant.Oversampling > 1 {
		kk = max(k, int(o.Quant.Oversampling*float64(k)))
	}
	rescore = qv.Q.Kind() == quant.KindBinary
	if o.Quant.Rescore != nil {
		rescore = *o.Quant.Rescore
	}
	return kk, rescore, true
}

// quantFinish turns the kk candidates in sc.top, scored on quantised
// vectors, into the top k: rescored with the original vectors when rescore
// is set. It returns the function that makes scores of the distances left
// in sc.top.
func (s *Segment) quantFinish(sc *scratch, sp *space, k int, rescore bool) func(float32) float32 {
	sc.res = sc.top.sorted(sc.res[:0])
	sc.top.reset(k)
	if rescore {
		ids := sc.qids[:0]
		for _, r := range sc.res {
			ids = append(ids, r.ID)
		}
		if cap(sc.qdist) < len(ids) {
			sc.qdist = make([]float32, len(ids))
		}
		d := sc.qdist[:len(ids)]
		vectors{sp}.Distances(sc.q, ids, d)
		for i, id := range ids {
			sc.top.push(id, d[i])
		}
		sc.qids = ids[:0]
		return sp.metric.Score
	}
	for _, r := range sc.res {
		sc.top.push(r.ID, r.Distance)
	}
	if sc.qvec.qv.Q.Kind() == quant.KindBinary {
		return binaryScore(sp.metric, sp.dim)
	}
	return sp.metric.Score
}

// binaryScore returns the score Qdrant reports for a binary quantised
// estimate that is not rescored: the estimate itself (Dim - 2·xor, the
// negation of qlite's distance) for Cosine and Dot, and for Euclid the
// square root of 4·xor, the proxy Qdrant derives from it.
func binaryScore(m distance.Metric, dim int) func(float32) float32 {
	switch m {
	case distance.Euclid:
		return func(d float32) float32 {
			return distance.Euclid.Score(2 * (float32(dim) + d))
		}
	case distance.Manhattan:
		return func(d float32) float32 { return float32(math.Abs(float64(d))) }
	}
	return func(d float32) float32 { return -d }
}
