package compat

import (
	"encoding/binary"
	"encoding/json"
	"hash/fnv"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/qlite/qlite/engine"
)

// GET /telemetry answers Qdrant's TelemetryData, in more detail as
// details_level grows, as Qdrant 1.17 does (src/common/telemetry.rs and
// src/common/telemetry_ops/*): level 0 has the application, the number
// of collections, the cluster and the request counts; level 1 adds the
// application's features and system, each collection's vectors and
// parameters, memory and hardware; level 2 each collection's
// configuration, snapshot counts and the cluster configuration; level 3
// each collection's shard; level 4 and more the shard's segments.
// anonymize replaces collection and vector names with hashes and rounds
// the machine's sizes.

// restQueryBool reads a boolean query parameter as Qdrant's telemetry and
// metrics routes do: their message does not name the parameter.
func restQueryBool(r *http.Request, name string) (bool, error) {
	switch v := r.URL.Query().Get(name); v {
	case "", "false":
		return false, nil
	case "true":
		return true, nil
	}
	return false, restQueryError("provided string was not `true` or `false`")
}

// telemetryTime formats a time as Qdrant's telemetry does: UTC, to the
// hundredth of a second, with three decimals.
func telemetryTime(t time.Time) string {
	t = t.UTC().Truncate(10 * time.Millisecond)
	return t.Format("2006-01-02T15:04:05.000Z")
}

// anonymizer hashes names when anonymize is set.
type anonymizer bool

func (a anonymizer) name(s string) string {
	if !a {
		return s
	}
	h := fnv.New64a()
	h.Write([]byte(s))
	return strconv.FormatUint(h.Sum64(), 10)
}

// size keeps five significant digits of n when anonymizing.
func (a anonymizer) size(n uint64) uint64 {
	if !a {
		return n
	}
	p := uint64(1)
	for n/p >= 100000 {
		p *= 10
	}
	return n / p * p
}

// telemetryStats is Qdrant's OperationDurationStatistics of one series.
func telemetryStats(d *durationStats, level uint64) map[string]any {
	m := map[string]any{"count": d.count}
	if d.timed > 0 {
		m["avg_duration_micros"] = float32(d.avg() * 1e6)
	}
	if level >= 1 {
		if d.timed > 0 {
			// Qdrant times each response in whole microseconds.
			m["min_duration_micros"] = float32(math.Round(d.min * 1e6))
			m["max_duration_micros"] = float32(math.Round(d.max * 1e6))
			m["total_duration_micros"] = uint64(math.Round(d.sum * 1e6))
		}
		m["last_responded"] = telemetryTime(d.last)
	}
	return m
}

// telemetryResponses groups the global series of s by endpoint, then
// status: "METHOD /route" and the HTTP status for REST, the full method
// and the code for gRPC.
func telemetryResponses(s *responseStats, level uint64) map[string]any {
	out := map[string]any{}
	keys, stats := s.snapshot(false)
	for i, k := range keys {
		ep := k.endpoint
		if k.method != "" {
			ep = k.method + " " + ep
		}
		byStatus, _ := out[ep].(map[string]any)
		if byStatus == nil {
			byStatus = map[string]any{}
			out[ep] = byStatus
		}
		byStatus[strconv.Itoa(k.status)] = telemetryStats(&stats[i], level)
	}
	return out
}

// telemetrySystem describes the machine, as Qdrant's RunningEnvironment:
// sizes in KiB.
func telemetrySystem(db *engine.DB, anon anonymizer) map[string]any {
	sys := map[string]any{
		"distribution": nil, "distribution_version": nil,
		"is_docker": false, "cores": runtime.NumCPU(),
		"ram_size": nil, "disk_size": nil,
		"cpu_flags": "", "cpu_endian": cpuEndian(),
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			k, v, _ := strings.Cut(line, "=")
			v = strings.Trim(v, `"`)
			switch k {
			case "ID":
				sys["distribution"] = v
			case "VERSION_ID":
				sys["distribution_version"] = v
			}
		}
	}
	if _, err := os.Stat("/.dockerenv"); err == nil {
		sys["is_docker"] = true
	}
	if v, ok := procField("/proc/meminfo", "MemTotal:"); ok {
		if n, err := strconv.ParseUint(strings.TrimSuffix(v, " kB"), 10, 64); err == nil {
			sys["ram_size"] = anon.size(n)
		}
	}
	if n, ok := diskSizeKiB(filepath.Dir(db.SnapshotsDir())); ok {
		sys["disk_size"] = anon.size(n)
	}
	if v, ok := procField("/proc/cpuinfo", "flags"); ok {
		have := map[string]bool{}
		for _, f := range strings.Fields(strings.TrimPrefix(strings.TrimSpace(v), ":")) {
			have[f] = true
		}
		var flags []string
		// The flags Qdrant looks for, in its order.
		for _, f := range []string{"sse", "sse2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512vl", "avx512vpopcntdq"} {
			if have[f] || have[strings.Replace(f, "avx512", "avx512_", 1)] {
				flags = append(flags, f)
			}
		}
		sys["cpu_flags"] = strings.Join(flags, ",")
	}
	return sys
}

func (s *restServer) telemetry(w http.ResponseWriter, r *http.Request) (any, error) {
	q := r.URL.Query()
	anonymize, err := restQueryBool(r, "anonymize")
	if err != nil {
		return nil, err
	}
	anon := anonymizer(anonymize)
	var level uint64
	if d := q.Get("details_level"); d != "" {
		if level, err = strconv.ParseUint(d, 10, 64); err != nil {
			return nil, restQueryError("invalid digit found in string")
		}
	}
	if err := restCheckTimeout(r); err != nil {
		return nil, err
	}
	ctx := r.Context()
	names, err := s.db.ListCollections(ctx)
	if err != nil {
		return nil, err
	}
	slices.Sort(names)
	tel := telemetryFrom(ctx)

	app := map[string]any{"name": "qdrant", "version": qdrantVersion, "startup": telemetryTime(s.started)}
	out := map[string]any{"id": s.id, "app": app}
	colls := map[string]any{"number_of_collections": len(names)}
	out["collections"] = colls
	cluster := map[string]any{"enabled": false, "resharding_enabled": false}
	out["cluster"] = cluster
	rest, grpc := map[string]any{}, map[string]any{}
	if tel != nil {
		rest, grpc = telemetryResponses(&tel.rest, level), telemetryResponses(&tel.grpc, level)
	}
	out["requests"] = map[string]any{"rest": map[string]any{"responses": rest}, "grpc": map[string]any{"responses": grpc}}
	if level == 0 {
		return out, nil
	}

	app["features"] = map[string]bool{
		"debug": false, "service_debug_feature": false, "recovery_mode": false,
		"gpu": false, "rocksdb": false, "staging": false,
	}
	if !anonymize {
		// Qdrant's storage feature flags, as they hold for qlite's storage:
		// no RocksDB anywhere, graphs built incrementally.
		app["runtime_features"] = map[string]bool{
			"all": false, "payload_index_skip_rocksdb": true, "payload_index_skip_mutable_rocksdb": true,
			"payload_storage_skip_rocksdb": true, "incremental_hnsw_building": true,
			"migrate_rocksdb_id_tracker": true, "migrate_rocksdb_vector_storage": true,
			"migrate_rocksdb_payload_storage": true, "migrate_rocksdb_payload_indices": true,
			"appendable_quantization": true, "single_file_mmap_vector_storage": false,
		}
	}
	app["hnsw_global_config"] = map[string]any{"healing_threshold": 0.3}
	app["system"] = telemetrySystem(s.db, anon)

	var list []any
	var snapIDs []string
	var snaps []snapshotCounts
	if tel != nil {
		snapIDs, snaps = tel.snapshots.counts(names)
	} else {
		snapIDs, snaps = names, make([]snapshotCounts, len(names))
	}
	for _, n := range names {
		c, err := s.collectionTelemetry(r, n, level, anon)
		if err != nil {
			continue // deleted meanwhile
		}
		list = append(list, c)
	}
	if list == nil {
		list = []any{}
	}
	colls["collections"] = list
	snapList := []any{}
	if level >= 2 {
		for i, id := range snapIDs {
			snapList = append(snapList, map[string]any{
				"id": anon.name(id), "running_snapshots": snaps[i].creating,
				"running_snapshot_recovery": snaps[i].recovering, "total_snapshot_creations": snaps[i].created,
			})
		}
		// Qdrant's defaults: a single node uses none of them.
		cluster["config"] = map[string]any{
			"grpc_timeout_ms": 60000,
			"p2p":             map[string]any{"connection_pool_size": 2},
			"consensus":       map[string]any{"max_message_queue_size": 100, "tick_period_ms": 100, "bootstrap_timeout_sec": 15},
		}
	}
	colls["snapshots"] = snapList

	mem := readRuntime()
	resident := mem[2] - mem[5]
	if rss, ok := residentBytes(); ok {
		resident = rss
	}
	out["memory"] = map[string]uint64{
		"active_bytes": uint64(mem[1] + mem[3]), "allocated_bytes": uint64(mem[1]),
		"metadata_bytes": uint64(mem[6] + mem[7] + mem[8]), "resident_bytes": uint64(resident),
		"retained_bytes": uint64(mem[4] + mem[5]),
	}
	// What each collection's operations cost (engine.HardwareUsage).
	hw := map[string]any{}
	for _, n := range names {
		u, err := s.db.HardwareUsage(ctx, n)
		if err != nil {
			continue // deleted meanwhile
		}
		hw[anon.name(n)] = map[string]int64{
			"cpu": u.CPU, "payload_io_read": u.PayloadIORead, "payload_io_write": u.PayloadIOWrite,
			"payload_index_io_read": u.PayloadIndexIORead, "payload_index_io_write": u.PayloadIndexIOWrite,
			"vector_io_read": u.VectorIORead, "vector_io_write": u.VectorIOWrite,
		}
	}
	out["hardware"] = map[string]any{"collection_data": hw}
	return out, nil
}

// collectionTelemetry is one collection's entry at level (1 or more).
func (s *restServer) collectionTelemetry(r *http.Request, name string, level uint64, anon anonymizer) (map[string]any, error) {
	ctx := r.Context()
	info, err := s.db.CollectionInfo(ctx, name)
	if err != nil {
		return nil, err
	}
	vecNames := make([]string, 0, len(info.Config.Params.Vectors))
	for v := range info.Config.Params.Vectors {
		vecNames = append(vecNames, v)
	}
	slices.Sort(vecNames)
	if level < 2 {
		return map[string]any{
			"vectors":           info.PointsCount * len(vecNames),
			"optimizers_status": "ok",
			"params":            info.Config.Params,
		}, nil
	}
	var config map[string]any
	b, err := json.Marshal(info.Config)
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &config); err != nil {
		return nil, err
	}
	delete(config, "metadata")
	config["uuid"] = nil
	out := map[string]any{"id": anon.name(name), "init_time_ms": 0, "config": config}
	if level < 3 {
		return out, nil
	}
	segs, err := s.db.Segments(ctx, name)
	if err != nil {
		return nil, err
	}
	status := "green"
	if info.Status != engine.StatusGreen {
		status = string(info.Status)
	}
	byName := map[string]int{}
	excluded := map[string]int{}
	vectorBytes := 0
	for _, v := range vecNames {
		byName[anon.name(v)] = info.PointsCount
		excluded[anon.name(v)] = 0
		vectorBytes += vectorsHeld(info, v, info.PointsCount, segs...) * int(info.Config.Params.Vectors[v].Size) * 4
	}
	if app := segs[len(segs)-1]; app.Optimizing {
		for _, v := range vecNames {
			excluded[anon.name(v)] = max(0, app.Slots-app.IndexedVectors/max(1, len(vecNames)))
		}
	}
	last := info.LastOptimization
	if last.IsZero() {
		last = s.started
	}
	optStatus := map[string]any{
		"status": "ok",
		"optimizations": map[string]any{
			"count": info.Optimizations, "total_duration_micros": info.OptimizationTime.Microseconds(),
			"last_responded": telemetryTime(last),
		},
	}
	local := map[string]any{
		"variant_name": "local shard", "status": status, "total_optimized_points": 0,
		"vectors_size_bytes": vectorBytes, "payloads_size_bytes": 0,
		"num_points": info.PointsCount, "num_vectors": info.PointsCount * len(vecNames),
		"num_vectors_by_name": byName, "optimizations": optStatus, "async_scorer": false,
		"update_queue": map[string]any{"length": info.UpdateQueueLength, "op_num": info.LastOperation},
	}
	if level >= 4 {
		optStatus["log"] = []any{}
		local["indexed_only_excluded_vectors"] = excluded
		var segList []any
		for _, sg := range segs {
			segList = append(segList, segmentTelemetry(info, vecNames, sg, anon))
		}
		local["segments"] = segList
	}
	out["shards"] = []any{map[string]any{
		"id": 0, "key": nil, "local": local, "remote": []any{},
		"replicate_states": map[string]string{strconv.FormatUint(s.peerID, 10): "Active"},
		"partial_snapshot": map[string]any{"ongoing_create_snapshot_requests": 0, "is_recovering": false, "recovery_timestamp": 0},
	}}
	out["transfers"] = []any{}
	out["resharding"] = []any{}
	return out, nil
}

// vectorsHeld is the number of vectors named v that segs hold, as Qdrant
// counts them for vectors_size_bytes: for a plain vector, one per point
// (points of them); for a multivector, every vector of the points'
// multivectors.
func vectorsHeld(info *engine.CollectionInfo, v string, points int, segs ...engine.SegmentInfo) int {
	if !info.Config.Params.Vectors[v].IsMulti() {
		return points
	}
	n := 0
	for _, sg := range segs {
		n += sg.MultiVectors[v]
	}
	return n
}

// segmentTelemetry is one segment's entry of a shard at level 4 and more.
func segmentTelemetry(info *engine.CollectionInfo, vecNames []string, sg engine.SegmentInfo, anon anonymizer) map[string]any {
	perVector := sg.IndexedVectors / max(1, len(vecNames))
	deleted := sg.Slots - sg.Points
	data, config := map[string]any{}, map[string]any{}
	vectorBytes := 0
	var searches []any
	segType := "plain"
	if sg.IndexedVectors > 0 {
		segType = "indexed"
	}
	for _, v := range vecNames {
		p := info.Config.Params.Vectors[v]
		vectorBytes += vectorsHeld(info, v, sg.Points, sg) * int(p.Size) * 4
		data[anon.name(v)] = map[string]any{"num_vectors": sg.Points, "num_indexed_vectors": perVector, "num_deleted_vectors": deleted}
		index := map[string]any{"type": "plain", "options": map[string]any{}}
		if segType == "indexed" {
			h := info.Config.VectorHNSW(v)
			index = map[string]any{"type": "hnsw", "options": h}
		}
		config[anon.name(v)] = map[string]any{
			"size": p.Size, "distance": p.Distance, "storage_type": "InRamChunkedMmap",
			"index": index, "quantization_config": nil,
		}
		entry := map[string]any{}
		if !anon {
			entry["index_name"] = v
		}
		searches = append(searches, entry)
	}
	if searches == nil {
		searches = []any{}
	}
	return map[string]any{
		"info": map[string]any{
			"uuid": sg.UUID, "segment_type": segType,
			"num_vectors": sg.Points * len(vecNames), "num_points": sg.Points,
			"num_deferred_points": 0, "num_deleted_deferred_points": 0,
			"num_indexed_vectors": sg.IndexedVectors, "num_deleted_vectors": deleted * len(vecNames),
			"vectors_size_bytes": vectorBytes, "payloads_size_bytes": 0,
			"ram_usage_bytes": 0, "disk_usage_bytes": 0,
			"is_appendable": sg.Appendable, "index_schema": map[string]any{}, "vector_data": data,
		},
		"config": map[string]any{
			"vector_data":          config,
			"payload_storage_type": map[string]any{"type": "mmap"},
		},
		"vector_index_searches": searches,
		"payload_field_indices": []any{},
	}
}

// cpuEndian is the byte order of the machine, as Qdrant names it.
func cpuEndian() string {
	if binary.NativeEndian.Uint16([]byte{1, 0}) == 1 {
		return "little"
	}
	return "big"
}
