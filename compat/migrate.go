package compat

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qdrant/go-client/qdrant"
	"github.com/schollz/progressbar/v3"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/qlite/qlite/engine"
)

// MigrateOptions configures Migrate. Zero fields take their defaults.
type MigrateOptions struct {
	// Collections are the collections to copy, by name. Default: every
	// collection of the source.
	Collections []string
	// BatchSize is the number of points read by one scroll and written by
	// one upsert. Default: 256.
	BatchSize int
	// StateDir is the directory of the state files that make a migration
	// resumable, one per collection, named .qlite-migrate-<collection>.json.
	// It is created when missing. Default: the current directory.
	StateDir string
	// Progress, when set, receives a progress bar per collection (points
	// copied of the source's count). Default: no progress bar.
	Progress io.Writer
	// Log, when set, receives one line per step: collection created or
	// resumed, indexes created, points copied and counted. Default: none.
	Log io.Writer
}

// DefaultMigrateBatchSize is MigrateOptions.BatchSize's default.
const DefaultMigrateBatchSize = 256

// Migrate copies collections from one Client to another: from and to may
// each be a Qdrant server (*qdrant.Client) or an embedded database
// (NewEmbedded). For each collection it
//
//  1. creates the target collection with the source's configuration, as far
//     as CreateCollection takes it: vectors (unnamed or named, with their
//     own HNSW, quantization and storage settings), sparse vectors, shard
//     number, replication and write consistency factors, on-disk payload,
//     HNSW, optimizer, WAL, quantization and strict-mode configs and the
//     metadata. Custom sharding is not carried over: the points land in the
//     target's default shards;
//  2. creates the payload indexes of the source's payload schema, with their
//     parameters;
//  3. copies the points, with all their vectors and payload, in id order, a
//     batch at a time: a scroll of the source, then an upsert with wait=true
//     to the target. After each acknowledged batch it records the offset of
//     the next one in the collection's state file;
//  4. compares the exact point counts of both sides and fails if they
//     differ.
//
// A migration that stops (an error, a cancelled ctx, a crash) resumes where
// it stopped when run again with the same StateDir: the collection already
// existing on the target is then expected, its vectors must match the
// source's, and copying continues from the recorded offset. Without a state
// file, an existing target collection is used only if it is empty and its
// vectors match. A collection whose migration completed (counts equal) is
// recorded as done; a rerun only checks its counts again. Points are upserted
// by id, so copying a batch twice does no harm.
//
// The source should not change during the migration: points written to it
// after their batch was copied are not copied, and the count check reports
// the difference when the counts end up unequal.
func Migrate(ctx context.Context, from, to Client, o *MigrateOptions) error {
	var opts MigrateOptions
	if o != nil {
		opts = *o
	}
	if opts.BatchSize == 0 {
		opts.BatchSize = DefaultMigrateBatchSize
	}
	if opts.StateDir == "" {
		opts.StateDir = "."
	}
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	if opts.BatchSize < 0 || opts.BatchSize > 1<<20 {
		return fmt.Errorf("migrate: batch size %d out of range [1, %d]", opts.BatchSize, 1<<20)
	}
	names := opts.Collections
	if len(names) == 0 {
		var err error
		if names, err = from.ListCollections(ctx); err != nil {
			return fmt.Errorf("migrate: list source collections: %w", err)
		}
		slices.Sort(names)
	}
	seen := make(map[string]bool, len(names))
	for _, name := range names {
		if name == "" {
			return errors.New("migrate: empty collection name")
		}
		if seen[name] {
			continue
		}
		seen[name] = true
		m := &migrator{from: from, to: to, opts: &opts, coll: name}
		if err := m.run(ctx); err != nil {
			return fmt.Errorf("migrate %s: %w", name, err)
		}
	}
	return nil
}

// MigrateStatePath returns the state file of a collection's migration in
// dir: .qlite-migrate-<collection>.json, with characters that cannot appear
// in a file name escaped.
func MigrateStatePath(dir, collection string) string {
	return filepath.Join(dir, ".qlite-migrate-"+url.PathEscape(collection)+".json")
}

// migState is a collection's migration progress, as stored in its state
// file.
type migState struct {
	Collection string `json:"collection"`
	// NextOffset is the id of the first point not yet copied; nil before
	// the first batch and after the last.
	NextOffset *migOffset `json:"next_offset,omitempty"`
	// Copied is the number of points copied before NextOffset.
	Copied uint64 `json:"copied"`
	// Done records a completed migration, counts checked.
	Done bool `json:"done,omitempty"`
}

// migOffset is a point id in a state file: a number or a UUID.
type migOffset struct {
	Num  *uint64 `json:"num,omitempty"`
	UUID string  `json:"uuid,omitempty"`
}

func migOffsetFromID(id *qdrant.PointId) *migOffset {
	switch x := id.GetPointIdOptions().(type) {
	case *qdrant.PointId_Num:
		return &migOffset{Num: &x.Num}
	case *qdrant.PointId_Uuid:
		return &migOffset{UUID: x.Uuid}
	}
	return nil
}

func (o *migOffset) id() *qdrant.PointId {
	switch {
	case o == nil:
		return nil
	case o.Num != nil:
		return qdrant.NewIDNum(*o.Num)
	}
	return qdrant.NewIDUUID(o.UUID)
}

func (o *migOffset) String() string {
	if o.Num != nil {
		return strconv.FormatUint(*o.Num, 10)
	}
	return o.UUID
}

// migrator copies one collection.
type migrator struct {
	from, to Client
	opts     *MigrateOptions
	coll     string
}

func (m *migrator) logf(format string, args ...any) {
	fmt.Fprintf(m.opts.Log, "%s: "+format+"\n", append([]any{m.coll}, args...)...)
}

func (m *migrator) statePath() string { return MigrateStatePath(m.opts.StateDir, m.coll) }

// loadState returns the collection's state, or nil when it has no state
// file.
func (m *migrator) loadState() (*migState, error) {
	b, err := os.ReadFile(m.statePath())
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var s migState
	if err := json.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("state file %s: %w", m.statePath(), err)
	}
	if s.Collection != m.coll {
		return nil, fmt.Errorf("state file %s is for collection %q", m.statePath(), s.Collection)
	}
	if o := s.NextOffset; o != nil && (o.Num == nil) == (o.UUID == "") {
		return nil, fmt.Errorf("state file %s: next_offset needs exactly one of num and uuid", m.statePath())
	}
	return &s, nil
}

// saveState replaces the state file atomically and durably.
func (m *migrator) saveState(s *migState) error {
	if err := os.MkdirAll(m.opts.StateDir, 0o755); err != nil {
		return err
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(m.opts.StateDir, ".qlite-migrate-*.tmp")
	if err != nil {
		return err
	}
	_, err = f.Write(append(b, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), m.statePath())
	}
	if err != nil {
		os.Remove(f.Name())
		return fmt.Errorf("write state file: %w", err)
	}
	return nil
}

func (m *migrator) run(ctx context.Context) error {
	info, err := m.from.GetCollectionInfo(ctx, m.coll)
	if err != nil {
		return err
	}
	st, err := m.loadState()
	if err != nil {
		return err
	}
	exists, err := m.to.CollectionExists(ctx, m.coll)
	if err != nil {
		return err
	}
	var target *qdrant.CollectionInfo
	if exists {
		if target, err = m.to.GetCollectionInfo(ctx, m.coll); err != nil {
			return err
		}
		if err := migSameVectors(info.GetConfig().GetParams(), target.GetConfig().GetParams()); err != nil {
			return fmt.Errorf("the target collection exists with other vectors: %w", err)
		}
		if st == nil {
			n, err := m.count(ctx, m.to)
			if err != nil {
				return err
			}
			if n > 0 {
				return fmt.Errorf("the target collection exists and holds %d points, and there is no state file %s to resume from", n, m.statePath())
			}
			st = &migState{Collection: m.coll}
		}
		if st.NextOffset != nil {
			m.logf("resuming at point %s (%d points copied)", st.NextOffset, st.Copied)
		}
	} else {
		if st != nil {
			m.logf("the target collection is gone; starting again")
		}
		if err := m.to.CreateCollection(ctx, migCreateCollection(m.coll, info.GetConfig())); err != nil {
			return err
		}
		m.logf("created")
		st = &migState{Collection: m.coll}
	}
	if st.NextOffset == nil && !st.Done {
		st.Copied = 0 // nothing copied yet, or all to be copied again
	}
	if err := m.saveState(st); err != nil {
		return err
	}
	if err := m.createIndexes(ctx, info.GetPayloadSchema(), target.GetPayloadSchema()); err != nil {
		return err
	}
	if !st.Done {
		if err := m.copyPoints(ctx, st); err != nil {
			return err
		}
	}
	src, err := m.count(ctx, m.from)
	if err != nil {
		return err
	}
	dst, err := m.count(ctx, m.to)
	if err != nil {
		return err
	}
	if src != dst {
		st.Done = false
		if err := m.saveState(st); err != nil {
			return err
		}
		return fmt.Errorf("count check: the source has %d points, the target %d (did the source change during the migration? a rerun copies the points again)", src, dst)
	}
	if !st.Done {
		st.Done = true
		if err := m.saveState(st); err != nil {
			return err
		}
	}
	m.logf("done: %d points, counts match", dst)
	return nil
}

func (m *migrator) count(ctx context.Context, c Client) (uint64, error) {
	return c.Count(ctx, &qdrant.CountPoints{CollectionName: m.coll, Exact: qdrant.PtrOf(true)})
}

// createIndexes creates the source's payload indexes that the target does
// not have with the same type and parameters.
func (m *migrator) createIndexes(ctx context.Context, src, dst map[string]*qdrant.PayloadSchemaInfo) error {
	for _, key := range slices.Sorted(maps.Keys(src)) {
		s := src[key]
		if d, ok := dst[key]; ok && d.GetDataType() == s.GetDataType() && proto.Equal(d.GetParams(), s.GetParams()) {
			continue
		}
		if s.GetDataType() == qdrant.PayloadSchemaType_UnknownType {
			return fmt.Errorf("payload index %q: unknown type", key)
		}
		ft := qdrant.FieldType(s.GetDataType() - 1)
		_, err := m.to.CreateFieldIndex(ctx, &qdrant.CreateFieldIndexCollection{
			CollectionName:   m.coll,
			Wait:             qdrant.PtrOf(true),
			FieldName:        key,
			FieldType:        &ft,
			FieldIndexParams: s.Params,
		})
		if err != nil {
			return fmt.Errorf("payload index %q: %w", key, err)
		}
		m.logf("payload index %q (%s) created", key, strings.ToLower(s.GetDataType().String()))
	}
	return nil
}

// copyPoints copies the points from st.NextOffset on, recording the progress
// after each batch.
func (m *migrator) copyPoints(ctx context.Context, st *migState) error {
	total, err := m.count(ctx, m.from)
	if err != nil {
		return err
	}
	bar := m.newBar(total, st.Copied)
	defer func() {
		if bar != nil && !bar.IsFinished() {
			bar.Exit()
		}
	}()
	offset := st.NextOffset.id()
	for {
		pts, next, err := m.from.ScrollAndOffset(ctx, &qdrant.ScrollPoints{
			CollectionName: m.coll,
			Offset:         offset,
			Limit:          qdrant.PtrOf(uint32(m.opts.BatchSize)),
			WithPayload:    qdrant.NewWithPayload(true),
			WithVectors:    qdrant.NewWithVectors(true),
		})
		if err != nil {
			return err
		}
		if len(pts) > 0 {
			batch := make([]*qdrant.PointStruct, len(pts))
			for i, p := range pts {
				if batch[i], err = migPoint(p); err != nil {
					return err
				}
			}
			_, err := m.to.Upsert(ctx, &qdrant.UpsertPoints{CollectionName: m.coll, Wait: qdrant.PtrOf(true), Points: batch})
			if err != nil {
				return err
			}
		}
		st.Copied += uint64(len(pts))
		st.NextOffset = migOffsetFromID(next)
		if err := m.saveState(st); err != nil {
			return err
		}
		if bar != nil {
			if st.Copied > uint64(bar.GetMax64()) {
				bar.ChangeMax64(int64(st.Copied))
			}
			bar.Set64(int64(st.Copied))
		}
		if next == nil {
			break
		}
		offset = next
	}
	if bar != nil {
		bar.Finish()
	}
	m.logf("%d points copied", st.Copied)
	return nil
}

// newBar returns the progress bar of a collection, or nil.
func (m *migrator) newBar(total, done uint64) *progressbar.ProgressBar {
	w := m.opts.Progress
	if w == nil || total == 0 {
		return nil
	}
	bar := progressbar.NewOptions64(int64(max(total, done)),
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(m.coll),
		progressbar.OptionSetWidth(30),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("points"),
		progressbar.OptionThrottle(100*time.Millisecond),
		progressbar.OptionOnCompletion(func() { fmt.Fprintln(w) }),
	)
	if done > 0 {
		bar.Set64(int64(done))
	}
	return bar
}

// migCreateCollection is the request that creates a copy of a collection
// with configuration c.
func migCreateCollection(name string, c *qdrant.CollectionConfig) *qdrant.CreateCollection {
	p := c.GetParams()
	r := &qdrant.CreateCollection{
		CollectionName:         name,
		VectorsConfig:          p.GetVectorsConfig(),
		HnswConfig:             c.GetHnswConfig(),
		WalConfig:              c.GetWalConfig(),
		OptimizersConfig:       c.GetOptimizerConfig(),
		OnDiskPayload:          qdrant.PtrOf(p.GetOnDiskPayload()),
		ReplicationFactor:      p.ReplicationFactor,
		WriteConsistencyFactor: p.WriteConsistencyFactor,
		QuantizationConfig:     c.GetQuantizationConfig(),
		StrictModeConfig:       c.GetStrictModeConfig(),
		Metadata:               c.GetMetadata(),
	}
	if n := p.GetShardNumber(); n > 0 {
		r.ShardNumber = &n
	}
	if sv := p.GetSparseVectorsConfig(); len(sv.GetMap()) > 0 {
		r.SparseVectorsConfig = sv
	}
	return r
}

// migVectorShapes describes the vectors of a collection by name: size,
// distance and multivector comparator of dense vectors, "sparse" for sparse
// ones.
func migVectorShapes(p *qdrant.CollectionParams) map[string]string {
	out := map[string]string{}
	shape := func(vp *qdrant.VectorParams) string {
		s := fmt.Sprintf("size %d, %s", vp.GetSize(), vp.GetDistance())
		if mv := vp.GetMultivectorConfig(); mv != nil {
			s += ", multivector " + mv.GetComparator().String()
		}
		return s
	}
	switch x := p.GetVectorsConfig().GetConfig().(type) {
	case *qdrant.VectorsConfig_Params:
		out[""] = shape(x.Params)
	case *qdrant.VectorsConfig_ParamsMap:
		for name, vp := range x.ParamsMap.GetMap() {
			out[name] = shape(vp)
		}
	}
	for name := range p.GetSparseVectorsConfig().GetMap() {
		out[name] = "sparse"
	}
	return out
}

// migSameVectors reports how the vectors of two collections differ, or nil.
func migSameVectors(src, dst *qdrant.CollectionParams) error {
	a, b := migVectorShapes(src), migVectorShapes(dst)
	for _, name := range slices.Sorted(maps.Keys(a)) {
		if b[name] != a[name] {
			if _, ok := b[name]; !ok {
				return fmt.Errorf("vector %q (%s) is missing", name, a[name])
			}
			return fmt.Errorf("vector %q is %s in the source, %s in the target", name, a[name], b[name])
		}
	}
	for _, name := range slices.Sorted(maps.Keys(b)) {
		if _, ok := a[name]; !ok {
			return fmt.Errorf("vector %q (%s) is not in the source", name, b[name])
		}
	}
	return nil
}

// migPoint converts a point read from the source into one to upsert.
func migPoint(p *qdrant.RetrievedPoint) (*qdrant.PointStruct, error) {
	out := &qdrant.PointStruct{Id: p.GetId(), Payload: p.GetPayload()}
	switch x := p.GetVectors().GetVectorsOptions().(type) {
	case *qdrant.VectorsOutput_Vector:
		out.Vectors = &qdrant.Vectors{VectorsOptions: &qdrant.Vectors_Vector{Vector: migVector(x.Vector)}}
	case *qdrant.VectorsOutput_Vectors:
		named := make(map[string]*qdrant.Vector, len(x.Vectors.GetVectors()))
		for name, v := range x.Vectors.GetVectors() {
			named[name] = migVector(v)
		}
		out.Vectors = qdrant.NewVectorsMap(named)
	case nil:
		out.Vectors = qdrant.NewVectorsMap(map[string]*qdrant.Vector{})
	default:
		return nil, fmt.Errorf("point %v: unknown kind of vectors %T", p.GetId(), x)
	}
	return out, nil
}

// migVector converts a vector read from the source (in the oneof or in the
// deprecated fields) into one to upsert.
func migVector(v *qdrant.VectorOutput) *qdrant.Vector {
	if s := v.GetSparseVector(); s != nil {
		return qdrant.NewVectorSparse(s.GetIndices(), s.GetValues())
	}
	if mv := v.GetMultiVector(); mv != nil {
		return &qdrant.Vector{Vector: &qdrant.Vector_MultiDense{MultiDense: mv}}
	}
	return qdrant.NewVectorDense(v.GetDenseVector().GetData())
}

// EndpointOptions configures OpenEndpoint.
type EndpointOptions struct {
	// APIKey is sent to a server endpoint as Qdrant's api-key.
	APIKey string
	// MustExist refuses a database directory that does not exist yet,
	// instead of creating an empty database.
	MustExist bool
}

// OpenEndpoint returns a Client for an endpoint: grpc://HOST[:PORT] (or
// grpcs:// for TLS) connects to a Qdrant server with go-client (port 6334
// by default); anything else is a database directory, opened in process
// with engine.Open and served by NewEmbedded. Closing the client closes the
// connection, or the database.
func OpenEndpoint(endpoint string, o *EndpointOptions) (Client, error) {
	var opts EndpointOptions
	if o != nil {
		opts = *o
	}
	if scheme, rest, ok := strings.Cut(endpoint, "://"); ok && (scheme == "grpc" || scheme == "grpcs") {
		rest = strings.TrimSuffix(rest, "/")
		host, port := rest, 6334
		if h, p, err := net.SplitHostPort(rest); err == nil {
			if port, err = strconv.Atoi(p); err != nil || port <= 0 || port > 65535 {
				return nil, fmt.Errorf("endpoint %s: bad port %q", endpoint, p)
			}
			host = h
			if strings.Contains(h, ":") {
				host = "[" + h + "]" // go-client joins host and port with a colon
			}
		}
		if host == "" || strings.ContainsAny(host, "/?#@") {
			return nil, fmt.Errorf("endpoint %s: want %s://HOST:PORT", endpoint, scheme)
		}
		c, err := qdrant.NewClient(&qdrant.Config{
			Host:     host,
			Port:     port,
			APIKey:   opts.APIKey,
			UseTLS:   scheme == "grpcs",
			PoolSize: 1,
			GrpcOptions: []grpc.DialOption{
				grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxRecvMsgSize)),
			},
		})
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", endpoint, err)
		}
		return c, nil
	}
	if strings.Contains(endpoint, "://") {
		return nil, fmt.Errorf("endpoint %s: want grpc://HOST:PORT, grpcs://HOST:PORT or a database directory", endpoint)
	}
	if opts.MustExist {
		fi, err := os.Stat(endpoint)
		if err != nil {
			return nil, fmt.Errorf("endpoint %s: %w", endpoint, err)
		}
		if !fi.IsDir() {
			return nil, fmt.Errorf("endpoint %s: not a directory", endpoint)
		}
	}
	db, err := engine.Open(endpoint, nil)
	if err != nil {
		return nil, fmt.Errorf("endpoint %s: %w", endpoint, err)
	}
	return &migOwnedEmbedded{Embedded: NewEmbedded(db), db: db}, nil
}

// migOwnedEmbedded is an Embedded client that owns its database: Close
// closes it.
type migOwnedEmbedded struct {
	*Embedded
	db *engine.DB
}

func (c *migOwnedEmbedded) Close() error {
	if c.Embedded.closed.Swap(true) {
		return nil
	}
	return c.db.Close()
}
