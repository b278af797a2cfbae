package engine

import (
	"cmp"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"

	"github.com/cockroachdb/pebble/v2"

	"github.com/qlite/qlite/distance"
	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
	"github.com/qlite/qlite/segment"
)

// PointID is a Qdrant point id: an unsigned 64-bit integer or a UUID.
type PointID = filter.PointID

// Point is a point to write: its id, its vectors by name ("" is the unnamed
// vector; a point may lack some named vectors) and its payload (a JSON
// object, or null for none).
type Point struct {
	ID PointID
	// Vectors are the point's dense vectors, by name. A plain vector given
	// for a multivector name is a multivector of that one vector.
	Vectors map[string][]float32
	// Multi are the point's multivectors (names with a multivector_config),
	// by name: one or more vectors of the configured size each.
	Multi map[string][][]float32
	// Sparse are the point's sparse vectors, by name.
	Sparse  map[string]SparseVector
	Payload payload.Value
}

// UpdateStatus is the outcome of a write, as Qdrant reports it.
type UpdateStatus string

// The statuses of a write: acknowledged when the caller did not wait,
// completed when it did. Both are durable when returned.
const (
	StatusAcknowledged UpdateStatus = "acknowledged"
	StatusCompleted    UpdateStatus = "completed"
)

// UpdateResult is the result of a write: its operation id and status.
type UpdateResult struct {
	OperationID uint64
	Status      UpdateStatus
}

// WriteOptions are the options every write takes.
type WriteOptions struct {
	// Wait asks for the write to be applied before the call returns. Writes
	// are durable on return either way; qlite applies every write before
	// returning, and Wait only changes the reported status.
	Wait bool
}

// UpdateMode selects which points an upsert writes.
type UpdateMode int

// The update modes of Qdrant's upsert.
const (
	ModeUpsert     UpdateMode = iota // insert new points, replace existing ones
	ModeInsertOnly                   // only insert points that do not exist
	ModeUpdateOnly                   // only replace points that exist
)

// Selector names points: by ids or by filter (exactly one).
type Selector struct {
	IDs    []PointID
	Filter *filter.Filter
}

// Operation is one write of a BatchUpdate; exactly one field is set.
type Operation struct {
	Upsert           *UpsertOp
	Delete           *Selector
	SetPayload       *SetPayloadOp
	OverwritePayload *SetPayloadOp
	DeletePayload    *DeletePayloadOp
	ClearPayload     *Selector
	UpdateVectors    *UpdateVectorsOp
	DeleteVectors    *DeleteVectorsOp
}

// UpsertOp writes whole points.
type UpsertOp struct {
	Points []Point
	Mode   UpdateMode
	// UpdateFilter, when set, leaves existing points that do not match it
	// unchanged (new points are still inserted).
	UpdateFilter *filter.Filter
	// stored says that the vectors are as a collection of the same
	// configuration stored them (a snapshot's): float16 vectors are then
	// not normalised again, which could move an element of a
	// low-dimensional Cosine vector by one float16 step.
	stored bool
}

// SetPayloadOp merges (SetPayload) or replaces (OverwritePayload) payloads.
type SetPayloadOp struct {
	Payload  payload.Value
	Selector Selector
	// Key, for SetPayload, is the path of the object to merge into.
	Key string
}

// DeletePayloadOp removes payload keys (paths).
type DeletePayloadOp struct {
	Keys     []string
	Selector Selector
}

// UpdateVectorsOp replaces the given named vectors of existing points.
type UpdateVectorsOp struct {
	Points       []PointVectors
	UpdateFilter *filter.Filter
}

// PointVectors are vectors for one existing point.
type PointVectors struct {
	ID      PointID
	Vectors map[string][]float32
	// Multi are the multivectors to set, by name (see Point.Multi).
	Multi map[string][][]float32
	// Sparse are the sparse vectors to set, by name.
	Sparse map[string]SparseVector
}

// DeleteVectorsOp removes named vectors from points. Names may name dense
// and sparse vectors.
type DeleteVectorsOp struct {
	Selector Selector
	Names    []string
}

// Upsert writes points: new ids are inserted, existing ones replaced whole.
// The batch is validated first and written all or nothing.
func (db *DB) Upsert(ctx context.Context, coll string, op *UpsertOp, o *WriteOptions) (UpdateResult, error) {
	if op == nil {
		return UpdateResult{}, fmt.Errorf("%w: missing points", ErrBadRequest)
	}
	rs, err := db.update(ctx, opUpsert, coll, []Operation{{Upsert: op}}, o)
	return first(rs), err
}

// Delete removes the selected points (missing ids are ignored).
func (db *DB) Delete(ctx context.Context, coll string, sel Selector, o *WriteOptions) (UpdateResult, error) {
	rs, err := db.update(ctx, opDelete, coll, []Operation{{Delete: &sel}}, o)
	return first(rs), err
}

// SetPayload merges p into the payload of the selected points (into the
// object at key when key is not empty); a null field removes that key.
func (db *DB) SetPayload(ctx context.Context, coll string, op *SetPayloadOp, o *WriteOptions) (UpdateResult, error) {
	rs, err := db.update(ctx, opSetPayload, coll, []Operation{{SetPayload: op}}, o)
	return first(rs), err
}

// OverwritePayload replaces the payload of the selected points.
func (db *DB) OverwritePayload(ctx context.Context, coll string, op *SetPayloadOp, o *WriteOptions) (UpdateResult, error) {
	rs, err := db.update(ctx, opOverwritePayload, coll, []Operation{{OverwritePayload: op}}, o)
	return first(rs), err
}

// DeletePayload removes keys from the payload of the selected points.
func (db *DB) DeletePayload(ctx context.Context, coll string, op *DeletePayloadOp, o *WriteOptions) (UpdateResult, error) {
	rs, err := db.update(ctx, opDeletePayload, coll, []Operation{{DeletePayload: op}}, o)
	return first(rs), err
}

// ClearPayload empties the payload of the selected points.
func (db *DB) ClearPayload(ctx context.Context, coll string, sel Selector, o *WriteOptions) (UpdateResult, error) {
	rs, err := db.update(ctx, opClearPayload, coll, []Operation{{ClearPayload: &sel}}, o)
	return first(rs), err
}

// UpdateVectors replaces named vectors of existing points.
func (db *DB) UpdateVectors(ctx context.Context, coll string, op *UpdateVectorsOp, o *WriteOptions) (UpdateResult, error) {
	rs, err := db.update(ctx, opUpdateVectors, coll, []Operation{{UpdateVectors: op}}, o)
	return first(rs), err
}

// DeleteVectors removes named vectors from the selected points.
func (db *DB) DeleteVectors(ctx context.Context, coll string, op *DeleteVectorsOp, o *WriteOptions) (UpdateResult, error) {
	rs, err := db.update(ctx, opDeleteVectors, coll, []Operation{{DeleteVectors: op}}, o)
	return first(rs), err
}

func first(rs []UpdateResult) UpdateResult {
	if len(rs) == 0 {
		return UpdateResult{}
	}
	return rs[0]
}

// BatchUpdate applies ops in order, each with its own operation id, in one
// atomic, durable write: if any op is invalid, nothing is written.
func (db *DB) BatchUpdate(ctx context.Context, coll string, ops []Operation, o *WriteOptions) ([]UpdateResult, error) {
	return db.update(ctx, opBatchUpdate, coll, ops, o)
}

// update serves the writes: BatchUpdate and the single operations, each
// traced as operation name.
func (db *DB) update(ctx context.Context, name, coll string, ops []Operation, o *WriteOptions) (_ []UpdateResult, err error) {
	ctx, op := db.tel.start(ctx, name, coll)
	defer func() { op.end(err, -1) }()
	op.batch(len(ops))
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	c, err := db.collection(coll)
	if err != nil {
		return nil, err
	}
	checks := make([]strictCheck, len(ops))
	for i := range ops {
		checks[i] = ops[i].strictCheck()
	}
	if err := c.admit(ctx, checks...); err != nil {
		return nil, err
	}
	wait := o != nil && o.Wait
	rs, err := c.write(ops, wait)
	if err == nil && wait && !db.opts.DisableOptimizer {
		// With prevent_unoptimized, a waiting write returns once reads see
		// its points (see readLimit); if ctx ends first, the write stands
		// and is reported acknowledged.
		if c.waitVisible(ctx) != nil {
			for i := range rs {
				rs[i].Status = StatusAcknowledged
			}
		}
	}
	return rs, err
}

// txn stages the point changes of one write batch over the collection's
// current state.
type txn struct {
	c       *collection
	pending map[PointID]*record // nil record: deleted
	order   []PointID           // first-touch order of pending
	// upserted and deleted count the points upsert and delete operations
	// staged, for telemetry.
	upserted, deleted int
	// err is the first error reading the stored state met (a payload on
	// disk that could not be read): the batch then commits nothing.
	err error
}

// get returns the current state of id: staged or stored. A stored state
// that cannot be read sets t.err and reads as absent.
func (t *txn) get(id PointID) (*record, bool) {
	if r, ok := t.pending[id]; ok {
		return r, r != nil
	}
	ref, off, ok := t.c.locate(id)
	if !ok {
		return nil, false
	}
	r, err := t.c.readRecord(ref, off)
	if err != nil {
		t.err = cmp.Or(t.err, err)
		return nil, false
	}
	return r, true
}

func (t *txn) set(id PointID, r *record) {
	if _, ok := t.pending[id]; !ok {
		t.order = append(t.order, id)
	}
	t.pending[id] = r
}

// stagedPoint adapts a staged record to the filter.
type stagedPoint struct {
	id PointID
	r  *record
}

func (p stagedPoint) ID() PointID            { return p.id }
func (p stagedPoint) Payload() payload.Value { return p.r.payload }
func (p stagedPoint) HasVector(n string) bool {
	_, ok := p.r.vectors[n]
	_, sparse := p.r.sparse[n]
	return ok || sparse
}

// matches reports whether the current state of id exists and matches f.
func (t *txn) matches(id PointID, f *filter.Filter) bool {
	r, ok := t.get(id)
	if !ok {
		return false
	}
	if f == nil {
		return true
	}
	if _, staged := t.pending[id]; staged {
		return f.Matches(stagedPoint{id, r})
	}
	ref, off, _ := t.c.locate(id)
	ok, err := ref.seg.Matches(f, off)
	t.err = cmp.Or(t.err, err)
	return ok
}

// selected returns the ids of existing points sel names. With strict, a
// listed id that does not exist is an error (Qdrant's 404).
func (t *txn) selected(sel *Selector, strict bool) ([]PointID, error) {
	switch {
	case sel == nil || (sel.IDs == nil && sel.Filter == nil):
		return nil, fmt.Errorf("%w: points selector: give point ids or a filter", ErrBadRequest)
	case sel.IDs != nil && sel.Filter != nil:
		return nil, fmt.Errorf("%w: points selector: give point ids or a filter, not both", ErrBadRequest)
	case sel.IDs != nil:
		var out []PointID
		for _, id := range sel.IDs {
			if _, ok := t.get(id); ok {
				out = append(out, id)
			} else if strict {
				return nil, fmt.Errorf("%w: No point with id %s found", ErrNotFound, id)
			}
		}
		return out, nil
	}
	if err := sel.Filter.Validate(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	var out []PointID
	seen := map[PointID]bool{}
	for _, ref := range t.c.segs {
		err := ref.seg.Match(sel.Filter, func(off uint32) bool {
			id, _ := ref.seg.PointAt(off)
			if _, staged := t.pending[id]; !staged && !seen[id] {
				seen[id] = true
				out = append(out, id)
			}
			return true
		})
		if err != nil {
			return nil, err
		}
	}
	for _, id := range t.order {
		if r := t.pending[id]; r != nil && !seen[id] && sel.Filter.Matches(stagedPoint{id, r}) {
			seen[id] = true
			out = append(out, id)
		}
	}
	slices.SortFunc(out, func(a, b PointID) int { return a.Compare(b) })
	return out, nil
}

// readRecord copies the stored state of a slot. It fails when the payload
// is on disk and cannot be read.
func (c *collection) readRecord(ref *segRef, off uint32) (*record, error) {
	_, ver := ref.seg.PointAt(off)
	p, err := ref.seg.Payload(off)
	if err != nil {
		return nil, err
	}
	r := &record{op: ver, vectors: map[string][]float32{}, payload: p}
	for _, name := range c.vectorNames() {
		if v, ok := ref.seg.Vector(name, off); ok {
			r.vectors[name] = slices.Clone(v)
		}
	}
	for _, name := range c.sparseNames() {
		if v, ok := ref.seg.SparseVector(name, off); ok {
			if r.sparse == nil {
				r.sparse = map[string]segment.SparseVector{}
			}
			// Stored vectors never change: the record may alias them.
			r.sparse[name] = v
		}
	}
	return r, nil
}

// checkSparse validates sparse vectors against the configuration and
// returns them sorted by index, as they are stored.
func (c *collection) checkSparse(vecs map[string]SparseVector, where string) (map[string]segment.SparseVector, error) {
	if len(vecs) == 0 {
		return nil, nil
	}
	cfg := c.config()
	out := make(map[string]segment.SparseVector, len(vecs))
	for name, v := range vecs {
		if _, ok := cfg.Params.SparseVectors[name]; !ok {
			if _, dense := cfg.Params.Vectors[name]; dense {
				return nil, fmt.Errorf("%w: Conversion between sparse and regular vectors failed", ErrBadRequest)
			}
			return nil, fmt.Errorf("%w: %s: Not existing vector name error: %s", ErrBadRequest, where, name)
		}
		if msg := v.problem(); msg != "" {
			return nil, fmt.Errorf("%w: %s: vector %q: %s", ErrBadRequest, where, name, msg)
		}
		out[name] = segment.SparseVector(sparseSorted(v))
	}
	return out, nil
}

// checkVectors validates vectors and multivectors against the
// configuration and returns them preprocessed (Cosine normalised), as they
// are stored: a multivector as its vectors back to back.
func (c *collection) checkVectors(vecs map[string][]float32, multi map[string][][]float32, where string, stored bool) (map[string][]float32, error) {
	cfg := c.config()
	out := make(map[string][]float32, len(vecs)+len(multi))
	params := func(name string) (VectorParams, error) {
		vp, ok := cfg.Params.Vectors[name]
		if _, sparse := cfg.Params.SparseVectors[name]; !ok && sparse {
			return vp, fmt.Errorf("%w: Conversion between sparse and regular vectors failed", ErrBadRequest)
		}
		if !ok {
			if name == "" {
				return vp, fmt.Errorf("%w: %s: Not existing vector name error: the collection has only named vectors", ErrBadRequest, where)
			}
			return vp, fmt.Errorf("%w: %s: Not existing vector name error: %s", ErrBadRequest, where, name)
		}
		return vp, nil
	}
	for name, v := range vecs {
		vp, err := params(name)
		if err != nil {
			return nil, err
		}
		if len(v) != int(vp.Size) {
			return nil, fmt.Errorf("%w: %s: Vector dimension error: expected dim: %d, got %d", ErrBadRequest, where, vp.Size, len(v))
		}
		if err := distance.Validate(v, int(vp.Size)); err != nil {
			return nil, fmt.Errorf("%w: %s: vector %q: %w", ErrBadRequest, where, name, err)
		}
		out[name] = vp.preprocess(nil, v, stored)
		if err := checkConverted(out[name], vp, where, name); err != nil {
			return nil, err
		}
	}
	for name, mv := range multi {
		vp, err := params(name)
		if err != nil {
			return nil, err
		}
		if _, dup := vecs[name]; dup {
			return nil, fmt.Errorf("%w: %s: vector %q given twice", ErrBadRequest, where, name)
		}
		flat, err := flattenMulti(mv, vp)
		if err != nil {
			// Qdrant's messages name no point.
			return nil, fmt.Errorf("%w: %w", ErrBadRequest, err)
		}
		out[name] = vp.preprocess(flat, flat, stored)
		if err := checkConverted(out[name], vp, where, name); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// checkConverted refuses a vector that its datatype cannot hold: a float16
// element beyond ±65504 rounds to an infinity (Qdrant 1.17 stores it, and
// its scores become null; qlite keeps its vectors finite).
func checkConverted(v []float32, vp VectorParams, where, name string) error {
	if vp.elementType() != segment.Float16 {
		return nil
	}
	for i, x := range v {
		if math.IsInf(float64(x), 0) {
			return fmt.Errorf("%w: %s: vector %q: element %d is out of the float16 range (at most 65504 in magnitude)", ErrBadRequest, where, name, i)
		}
	}
	return nil
}

// flattenMulti checks a multivector of vp (which must be one) and returns
// its vectors back to back, in a new slice.
func flattenMulti(mv [][]float32, vp VectorParams) ([]float32, error) {
	if !vp.IsMulti() {
		return nil, errMultiToRegular
	}
	dim := int(vp.Size)
	if len(mv) == 0 {
		return nil, fmt.Errorf("Vector dimension error: expected dim: %d, got 0", dim)
	}
	flat := make([]float32, 0, len(mv)*dim)
	for _, v := range mv {
		if len(v) != dim {
			return nil, fmt.Errorf("Vector dimension error: expected dim: %d, got %d", dim, len(v))
		}
		if err := distance.Validate(v, dim); err != nil {
			return nil, err
		}
		flat = append(flat, v...)
	}
	return flat, nil
}

// errMultiToRegular is Qdrant's message for a multivector given for a
// vector that is not one.
var errMultiToRegular = errors.New("Conversion between multi and regular vectors failed")

func checkPayload(p payload.Value, where string) error {
	if k := p.Kind(); k != payload.Object && k != payload.Null {
		return fmt.Errorf("%w: %s: payload must be a JSON object, not %v", ErrBadRequest, where, k)
	}
	if d := payload.Depth(p); d > payload.MaxDepth {
		return fmt.Errorf("%w: %s: payload nests %d levels of arrays and objects, at most %d are allowed", ErrBadRequest, where, d, payload.MaxDepth)
	}
	return nil
}

// stage applies one operation to the transaction.
func (t *txn) stage(i int, op *Operation) error {
	c := t.c
	where := func(s string) string {
		return fmt.Sprintf("operations[%d].%s", i, s)
	}
	n := 0
	for _, set := range []bool{op.Upsert != nil, op.Delete != nil, op.SetPayload != nil, op.OverwritePayload != nil,
		op.DeletePayload != nil, op.ClearPayload != nil, op.UpdateVectors != nil, op.DeleteVectors != nil} {
		if set {
			n++
		}
	}
	if n != 1 {
		return fmt.Errorf("%w: operations[%d]: exactly one operation per entry, got %d", ErrBadRequest, i, n)
	}
	switch {
	case op.Upsert != nil:
		u := op.Upsert
		if err := u.UpdateFilter.Validate(); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadRequest, where("update_filter"), err)
		}
		recs := make([]*record, len(u.Points))
		for j := range u.Points {
			p := &u.Points[j]
			w := where(fmt.Sprintf("points[%d]", j))
			vecs, err := c.checkVectors(p.Vectors, p.Multi, w, u.stored)
			if err != nil {
				return err
			}
			sparse, err := c.checkSparse(p.Sparse, w)
			if err != nil {
				return err
			}
			if err := checkPayload(p.Payload, w); err != nil {
				return err
			}
			recs[j] = &record{vectors: vecs, sparse: sparse, payload: p.Payload}
		}
		for j := range u.Points {
			id := u.Points[j].ID
			_, exists := t.get(id)
			switch {
			case exists && u.Mode == ModeInsertOnly, !exists && u.Mode == ModeUpdateOnly:
				continue
			case exists && u.UpdateFilter != nil && !t.matches(id, u.UpdateFilter):
				continue
			}
			t.set(id, recs[j])
			t.upserted++
		}
	case op.Delete != nil:
		ids, err := t.selected(op.Delete, false)
		if err != nil {
			return err
		}
		for _, id := range ids {
			t.set(id, nil)
		}
		t.deleted += len(ids)
	case op.SetPayload != nil, op.OverwritePayload != nil:
		sp, overwrite := op.SetPayload, false
		if sp == nil {
			sp, overwrite = op.OverwritePayload, true
		}
		if sp.Payload.Kind() != payload.Object {
			return fmt.Errorf("%w: %s: payload must be a JSON object", ErrBadRequest, where("payload"))
		}
		if err := checkPayload(sp.Payload, where("payload")); err != nil {
			return err
		}
		var path payload.Path
		if sp.Key != "" && !overwrite {
			var err error
			if path, err = payload.ParsePath(sp.Key); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrBadRequest, where("key"), err)
			}
		}
		ids, err := t.selected(&sp.Selector, true)
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, _ := t.get(id)
			nr := *r
			if overwrite {
				nr.payload = sp.Payload
			} else if nr.payload, err = path.Set(r.payload, sp.Payload); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrBadRequest, where("payload"), err)
			}
			t.set(id, &nr)
		}
	case op.DeletePayload != nil:
		paths := make([]payload.Path, len(op.DeletePayload.Keys))
		for j, k := range op.DeletePayload.Keys {
			var err error
			if paths[j], err = payload.ParsePath(k); err != nil {
				return fmt.Errorf("%w: %s: %w", ErrBadRequest, where(fmt.Sprintf("keys[%d]", j)), err)
			}
		}
		ids, err := t.selected(&op.DeletePayload.Selector, true)
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, _ := t.get(id)
			nr := *r
			changed := false
			for _, p := range paths {
				var ch bool
				nr.payload, ch = p.Delete(nr.payload)
				changed = changed || ch
			}
			if changed {
				t.set(id, &nr)
			}
		}
	case op.ClearPayload != nil:
		ids, err := t.selected(op.ClearPayload, true)
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, _ := t.get(id)
			nr := *r
			nr.payload = payload.ObjectValue()
			t.set(id, &nr)
		}
	case op.UpdateVectors != nil:
		u := op.UpdateVectors
		if err := u.UpdateFilter.Validate(); err != nil {
			return fmt.Errorf("%w: %s: %w", ErrBadRequest, where("update_filter"), err)
		}
		type upd struct {
			id     PointID
			vecs   map[string][]float32
			sparse map[string]segment.SparseVector
		}
		var ups []upd
		for j, pv := range u.Points {
			w := where(fmt.Sprintf("points[%d]", j))
			if len(pv.Vectors) == 0 && len(pv.Multi) == 0 && len(pv.Sparse) == 0 {
				return fmt.Errorf("%w: %s: no vectors to update", ErrBadRequest, w)
			}
			vecs, err := c.checkVectors(pv.Vectors, pv.Multi, w, false)
			if err != nil {
				return err
			}
			sparse, err := c.checkSparse(pv.Sparse, w)
			if err != nil {
				return err
			}
			ups = append(ups, upd{pv.ID, vecs, sparse})
		}
		for _, up := range ups {
			r, ok := t.get(up.id)
			if !ok {
				return fmt.Errorf("%w: No point with id %s found", ErrNotFound, up.id)
			}
			if u.UpdateFilter != nil && !t.matches(up.id, u.UpdateFilter) {
				continue
			}
			nr := *r
			nr.vectors = make(map[string][]float32, len(r.vectors)+len(up.vecs))
			for k, v := range r.vectors {
				nr.vectors[k] = v
			}
			for k, v := range up.vecs {
				nr.vectors[k] = v
			}
			if len(up.sparse) > 0 {
				nr.sparse = maps.Clone(r.sparse)
				if nr.sparse == nil {
					nr.sparse = map[string]segment.SparseVector{}
				}
				maps.Copy(nr.sparse, up.sparse)
			}
			t.set(up.id, &nr)
		}
	case op.DeleteVectors != nil:
		cfg := c.config()
		for _, name := range op.DeleteVectors.Names {
			_, sparse := cfg.Params.SparseVectors[name]
			if _, ok := cfg.Params.Vectors[name]; !ok && !sparse {
				return fmt.Errorf("%w: %s: Not existing vector name error: %s", ErrBadRequest, where("vector"), name)
			}
		}
		ids, err := t.selected(&op.DeleteVectors.Selector, true)
		if err != nil {
			return err
		}
		for _, id := range ids {
			r, _ := t.get(id)
			nr := *r
			nr.vectors = make(map[string][]float32, len(r.vectors))
			for k, v := range r.vectors {
				if !slices.Contains(op.DeleteVectors.Names, k) {
					nr.vectors[k] = v
				}
			}
			nr.sparse = nil
			for k, v := range r.sparse {
				if !slices.Contains(op.DeleteVectors.Names, k) {
					if nr.sparse == nil {
						nr.sparse = map[string]segment.SparseVector{}
					}
					nr.sparse[k] = v
				}
			}
			t.set(id, &nr)
		}
	}
	return nil
}

// write stages ops, commits them in one synced Pebble batch, and applies
// them to the segments.
func (c *collection) write(ops []Operation, wait bool) ([]UpdateResult, error) {
	c.lockWrite()
	defer c.wmu.Unlock()
	// Once the batch is applied (or failed), no reader needs the payloads
	// of the versions it replaced.
	defer c.retiring.clear()
	if c.deleted {
		return nil, fmt.Errorf("%w: Collection `%s` doesn't exist!", ErrNotFound, c.name)
	}
	t := &txn{c: c, pending: map[PointID]*record{}}
	// Staging reads the segments; the segment list only changes under wmu,
	// and slots only under wmu too, so no read lock is needed.
	for i := range ops {
		err := t.stage(i, &ops[i])
		if t.err != nil { // what stage saw may be wrong: report the cause
			return nil, t.err
		}
		if err != nil {
			return nil, err
		}
	}
	first := c.op + 1
	last := c.op + uint64(len(ops))
	status := StatusAcknowledged
	if wait {
		status = StatusCompleted
	}
	results := make([]UpdateResult, len(ops))
	for i := range results {
		results[i] = UpdateResult{OperationID: first + uint64(i), Status: status}
	}

	type change struct {
		id     PointID
		rec    *record
		oldRef *segRef
		oldOff uint32
		had    bool
	}
	changes := make([]change, 0, len(t.order))
	b := c.db.store.NewBatch()
	defer b.Close()
	var buf []byte
	for _, id := range t.order {
		ch := change{id: id, rec: t.pending[id]}
		ch.oldRef, ch.oldOff, ch.had = c.locate(id)
		if ch.rec == nil && !ch.had {
			continue // inserted and deleted within the batch
		}
		if ch.had && ch.oldRef.persisted.Load() {
			old, err := c.readRecord(ch.oldRef, ch.oldOff)
			if err != nil {
				return nil, err
			}
			if err := b.Set(ghostKey(c.cid, ch.oldRef.id, ch.oldOff), appendGhost(nil, old.vectors), nil); err != nil {
				return nil, err
			}
		}
		if ch.had && ch.oldRef.seg.PayloadsOnDisk() {
			// Readers may see the old slot until the batch is applied.
			_, ver := ch.oldRef.seg.PointAt(ch.oldOff)
			p, err := ch.oldRef.seg.Payload(ch.oldOff)
			if err != nil {
				return nil, err
			}
			c.retiring.put(payloadKey{c.cid, id, ver}, p)
		}
		// The point record and the vector record change together, in
		// this batch, and carry the same operation id.
		key, vkey := pointKey(c.cid, id), vectorsKey(c.cid, id)
		if ch.rec == nil {
			if err := errors.Join(b.Delete(key, nil), b.Delete(vkey, nil)); err != nil {
				return nil, err
			}
		} else {
			ch.rec.op = last
			var plBytes int
			buf, plBytes = appendPointRecord(buf[:0], ch.rec)
			if err := b.Set(key, buf, nil); err != nil {
				return nil, err
			}
			var err error
			switch {
			case len(ch.rec.vectors) > 0:
				buf = appendVectorRecord(buf[:0], ch.rec, c.segmentDatatype)
				err = b.Set(vkey, buf, nil)
			case ch.had:
				err = b.Delete(vkey, nil) // the old version may have had some
			}
			if err != nil {
				return nil, err
			}
			c.hw.wrote(ch.rec, plBytes)
		}
		changes = append(changes, ch)
	}
	if err := b.Set(opKey(c.cid), binary.LittleEndian.AppendUint64(nil, last), nil); err != nil {
		return nil, err
	}
	if err := c.db.commit(b, pebble.Sync, true); err != nil {
		return nil, err
	}
	c.op = last
	c.lastOp.Store(last)
	c.db.tel.pointsWritten(c.name, t.upserted, t.deleted)
	if c.afterCommit != nil {
		c.afterCommit()
	}

	// Apply: new versions first, then mask the old ones, all under rw so
	// readers see the batch whole or not at all.
	c.rw.Lock()
	defer c.rw.Unlock()
	var errs []error
	for _, ch := range changes {
		if ch.rec != nil {
			if err := c.appendLocked(ch.id, ch.rec); err != nil {
				errs = append(errs, err)
			}
		}
		if ch.had {
			ch.oldRef.seg.Delete(ch.oldOff)
		}
	}
	c.touch()
	c.db.kick()
	if len(errs) > 0 {
		// The batch is durable; the in-memory state will be rebuilt from it
		// on the next open. This is a bug: validation should have caught it.
		return nil, fmt.Errorf("qlite: BUG: applying a committed write: %w", errors.Join(errs...))
	}
	return results, nil
}

// appendLocked appends a point version to the appendable segment, starting
// a new one when it is full. The caller holds wmu and rw.
func (c *collection) appendLocked(id PointID, r *record) error {
	p := &segment.Point{ID: id, Version: r.op, Vectors: r.vectors, Sparse: r.sparse, Payload: r.payload}
	app := c.appendable()
	_, err := app.seg.Append(p)
	if !errors.Is(err, segment.ErrFull) {
		return err
	}
	if err := c.rotateLocked(); err != nil {
		return err
	}
	_, err = c.appendable().seg.Append(p)
	return err
}

// rotateLocked freezes the appendable segment (the optimizer will seal and
// persist it) and starts a new one. The caller holds wmu and rw.
func (c *collection) rotateLocked() error {
	next, err := c.newAppendable()
	if err != nil {
		return err
	}
	c.appendable().seg.Seal()
	c.segs = append(c.segs, next)
	return nil
}

// CreateFieldIndex indexes a payload field in every segment, present and
// future. Creating an index that exists replaces it.
func (db *DB) CreateFieldIndex(ctx context.Context, coll, field string, params payload.IndexParams, o *WriteOptions) (_ UpdateResult, err error) {
	ctx, op := db.tel.start(ctx, opCreateFieldIndex, coll)
	defer func() { op.end(err, -1) }()
	c, err := db.collection(coll)
	if err != nil {
		return UpdateResult{}, err
	}
	rec, err := checkFieldIndex(field, params)
	if err != nil {
		return UpdateResult{}, err
	}
	// Creating an index takes two write tokens in Qdrant 1.17 (measured).
	if err := c.admit(ctx, strictCheck{newIndex: true, writeCost: 2}); err != nil {
		return UpdateResult{}, err
	}
	return c.fieldIndexOp(field, &params, rec, o)
}

// DeleteFieldIndex drops a payload field index.
func (db *DB) DeleteFieldIndex(ctx context.Context, coll, field string, o *WriteOptions) (_ UpdateResult, err error) {
	ctx, op := db.tel.start(ctx, opDeleteFieldIndex, coll)
	defer func() { op.end(err, -1) }()
	c, err := db.collection(coll)
	if err != nil {
		return UpdateResult{}, err
	}
	return c.fieldIndexOp(field, nil, nil, o)
}

func (c *collection) fieldIndexOp(field string, params *payload.IndexParams, rec []byte, o *WriteOptions) (UpdateResult, error) {
	c.lockWrite()
	defer c.wmu.Unlock()
	if c.deleted {
		return UpdateResult{}, fmt.Errorf("%w: Collection `%s` doesn't exist!", ErrNotFound, c.name)
	}
	// Qdrant 1.17 numbers a field index change as two operations (the
	// schema change, then the index), so the next write's operation id
	// is two further on, and so is qlite's.
	op := c.op + 2
	b := c.db.store.NewBatch()
	defer b.Close()
	var err error
	if params != nil {
		err = b.Set(indexKey(c.cid, field), rec, nil)
	} else {
		err = b.Delete(indexKey(c.cid, field), nil)
	}
	if err != nil {
		return UpdateResult{}, err
	}
	if err := b.Set(opKey(c.cid), binary.LittleEndian.AppendUint64(nil, op), nil); err != nil {
		return UpdateResult{}, err
	}
	if err := c.db.commit(b, pebble.Sync, true); err != nil {
		return UpdateResult{}, err
	}
	c.op = op
	c.lastOp.Store(op)
	c.rw.Lock()
	defer c.rw.Unlock()
	if params != nil {
		c.fields[field] = *params
		for _, ref := range c.segs {
			if err := ref.seg.CreateFieldIndex(field, *params); err != nil {
				return UpdateResult{}, err
			}
		}
	} else {
		delete(c.fields, field)
		for _, ref := range c.segs {
			ref.seg.DeleteFieldIndex(field)
		}
	}
	status := StatusAcknowledged
	if o != nil && o.Wait {
		status = StatusCompleted
	}
	return UpdateResult{OperationID: op, Status: status}, nil
}
