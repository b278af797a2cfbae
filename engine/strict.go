package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/qlite/qlite/filter"
	"github.com/qlite/qlite/payload"
)

// Strict mode is Qdrant's per-collection set of limits on requests
// (StrictModeConfig). The collection's config keeps the JSON as given; this
// file decodes it and enforces it. The checks of a request run in Qdrant's
// order (lib/collection/src/operations/verification/mod.rs,
// StrictModeVerification::check_strict_mode), and only when "enabled" is
// true; the rate limits apply whenever they are set, whatever "enabled"
// says, as Qdrant's shards do.

// ErrStrictMode is wrapped by errors for requests strict mode refuses. The
// detail is Qdrant's description and help: "Limit exceeded 4 > 3 for
// \"limit\". Help: Reduce ...".
var ErrStrictMode = errors.New("qlite: strict mode")

// ErrRateLimited is matched (errors.Is) by a *RateLimitError.
var ErrRateLimited = errors.New("qlite: rate limited")

// RateLimitError is the error for a request over the collection's
// read_rate_limit or write_rate_limit.
type RateLimitError struct {
	// Detail is Qdrant's message after "Rate limiting exceeded: ".
	Detail string
	// RetryAfter is when enough tokens will be available again, rounded up
	// to whole seconds; 0 when the request is larger than the bucket and
	// never passes.
	RetryAfter time.Duration
}

func (e *RateLimitError) Error() string { return ErrRateLimited.Error() + ": " + e.Detail }

// Is makes errors.Is(err, ErrRateLimited) hold.
func (e *RateLimitError) Is(target error) bool { return target == ErrRateLimited }

// strictConfig is the decoded StrictModeConfig; nil members are unset.
type strictConfig struct {
	Enabled                       *bool    `json:"enabled"`
	MaxQueryLimit                 *int64   `json:"max_query_limit"`
	MaxTimeout                    *int64   `json:"max_timeout"`
	UnindexedFilteringRetrieve    *bool    `json:"unindexed_filtering_retrieve"`
	UnindexedFilteringUpdate      *bool    `json:"unindexed_filtering_update"`
	SearchMaxHnswEf               *int64   `json:"search_max_hnsw_ef"`
	SearchAllowExact              *bool    `json:"search_allow_exact"`
	SearchMaxOversampling         *float64 `json:"search_max_oversampling"`
	UpsertMaxBatchsize            *int64   `json:"upsert_max_batchsize"`
	SearchMaxBatchsize            *int64   `json:"search_max_batchsize"`
	MaxCollectionVectorSizeBytes  *int64   `json:"max_collection_vector_size_bytes"`
	MaxCollectionPayloadSizeBytes *int64   `json:"max_collection_payload_size_bytes"`
	MaxPointsCount                *int64   `json:"max_points_count"`
	ReadRateLimit                 *int64   `json:"read_rate_limit"`
	WriteRateLimit                *int64   `json:"write_rate_limit"`
	FilterMaxConditions           *int64   `json:"filter_max_conditions"`
	ConditionMaxSize              *int64   `json:"condition_max_size"`
	MaxPayloadIndexCount          *int64   `json:"max_payload_index_count"`
	// SparseConfig limits the number of entries of each named sparse
	// vector a write may store.
	SparseConfig map[string]struct {
		MaxLength *int64 `json:"max_length"`
	} `json:"sparse_config"`
	// MultivectorConfig limits the number of vectors of each named
	// multivector a write may store.
	MultivectorConfig map[string]struct {
		MaxVectors *int64 `json:"max_vectors"`
	} `json:"multivector_config"`
}

// strictState is a collection's decoded strict mode and its rate limiters
// (nil when unset). It is replaced as a whole when the config changes,
// which refills the buckets, as Qdrant does.
type strictState struct {
	raw         string
	cfg         strictConfig
	read, write *rateLimiter
}

// newStrictState decodes raw (a StrictModeConfig object or nothing).
// Members it cannot decode are left unset: the config was validated when it
// was stored. The rate limiters are made whenever a limit is set, except
// after an update, when Qdrant 1.17 makes them only if strict mode is
// enabled (measured: a limit set by an update with enabled unset is not
// applied, and one set at creation is dropped by such an update).
func newStrictState(raw json.RawMessage, now func() time.Time, updated bool) *strictState {
	s := &strictState{raw: string(raw)}
	if len(raw) == 0 {
		return s
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(raw, &m) != nil {
		return s
	}
	// Member by member, so that one odd member does not drop the others.
	for k, v := range m {
		one, _ := json.Marshal(map[string]json.RawMessage{k: v})
		json.Unmarshal(one, &s.cfg)
	}
	if updated && !s.enabled() {
		return s
	}
	if n := s.cfg.ReadRateLimit; n != nil && *n > 0 {
		s.read = newRateLimiter("Read", *n, now)
	}
	if n := s.cfg.WriteRateLimit; n != nil && *n > 0 {
		s.write = newRateLimiter("Write", *n, now)
	}
	return s
}

func (s *strictState) enabled() bool { return s.cfg.Enabled != nil && *s.cfg.Enabled }

// rateLimiter is a token bucket of n tokens refilled at n per minute,
// starting full (Qdrant's lib/common/common/src/rate_limiting.rs).
type rateLimiter struct {
	kind     string // "Read" or "Write", for messages
	capacity float64
	perSec   float64
	now      func() time.Time

	// mu guards the bucket.
	mu     sync.Mutex
	tokens float64
	last   time.Time
}

func newRateLimiter(kind string, perMinute int64, now func() time.Time) *rateLimiter {
	return &rateLimiter{kind: kind, capacity: float64(perMinute), perSec: float64(perMinute) / 60,
		now: now, tokens: float64(perMinute), last: now()}
}

// take consumes cost tokens, or returns the error saying why it cannot.
func (l *rateLimiter) take(cost int) error {
	c := float64(cost)
	if c > l.capacity {
		return &RateLimitError{Detail: l.kind + " rate limit exceeded, request larger than rate limiter capacity, please try to split your request"}
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if el := now.Sub(l.last); el > 0 {
		l.tokens = min(l.capacity, l.tokens+l.perSec*el.Seconds())
	}
	l.last = now
	if l.tokens >= c {
		l.tokens -= c
		return nil
	}
	// Whole seconds, rounded up; the small slack keeps an exact number of
	// seconds computed in floating point from rounding up once more.
	secs := math.Ceil((c-l.tokens)/l.perSec - 1e-9)
	return &RateLimitError{
		Detail: fmt.Sprintf("%s rate limit exceeded: Operation requires %d tokens but only %.1f were available. Retry after %ds",
			l.kind, cost, l.tokens, int64(secs)),
		RetryAfter: time.Duration(secs) * time.Second,
	}
}

// strictState returns the collection's strict mode, decoding it again when
// the config changed.
func (c *collection) strictState() *strictState {
	raw := c.config().StrictMode
	if s := c.strict.Load(); s != nil && s.raw == string(raw) {
		return s
	}
	c.strictMu.Lock()
	defer c.strictMu.Unlock()
	if s := c.strict.Load(); s != nil && s.raw == string(raw) {
		return s
	}
	s := newStrictState(raw, c.db.opts.Now, c.strictUpdated.Load())
	c.strict.Store(s)
	return s
}

// BoundWindow converts a request's limit and offset to ints bounded by the
// collection's number of points (at least 1): no answer holds more, and the
// engine sizes buffers by the limit. Servers call it for large values. A
// limit over strict mode's max_query_limit is kept (capped at MaxInt32), so
// that the refusal names it.
func (db *DB) BoundWindow(ctx context.Context, coll string, limit, offset uint64) (int, int, error) {
	c, err := db.collection(coll)
	if err != nil {
		return 0, 0, err
	}
	n := uint64(max(c.pointsCount(), 1))
	l := min(limit, n)
	if s := c.strictState(); s.enabled() && s.cfg.MaxQueryLimit != nil && limit > uint64(max(*s.cfg.MaxQueryLimit, 0)) {
		l = min(limit, math.MaxInt32)
	}
	return int(l), int(min(offset, n)), nil
}

// requestTimeoutKey is the context key of the timeout a request asked for.
type requestTimeoutKey struct{}

// WithRequestTimeout records the timeout (in seconds) a request asked for,
// which strict mode's max_timeout bounds. Servers call it with the request's
// timeout parameter; the caller still sets any deadline itself.
func WithRequestTimeout(ctx context.Context, seconds uint64) context.Context {
	return context.WithValue(ctx, requestTimeoutKey{}, seconds)
}

// internalKey marks a context of a server's own read (not a client's
// request): strict mode does not apply to it.
type internalKey struct{}

// Internal returns a context for reads a server makes on its own behalf
// (sizing a request, inferring an index type), which strict mode neither
// checks nor counts against the rate limits.
func Internal(ctx context.Context) context.Context {
	return context.WithValue(ctx, internalKey{}, true)
}

func requestTimeout(ctx context.Context) (uint64, bool) {
	v, ok := ctx.Value(requestTimeoutKey{}).(uint64)
	return v, ok
}

// strictCheck describes one request (or one request of a batch) for the
// strict mode checks. Zero members are not checked.
type strictCheck struct {
	// batch is the number of requests of a search batch; the first check
	// of a batch carries it.
	batch int
	// upsert is the number of points an upsert (or a vectors update, with
	// upsertName "update limit") writes.
	upsert     int
	upsertName string
	// sparse are the sparse vectors a write stores, per point.
	sparse []map[string]SparseVector
	// multi are the multivectors a write stores, per point.
	multi []map[string][][]float32
	// groupBy is the key of a groups request.
	groupBy string
	// formulas are the formula queries of a query tree, its prefetches'
	// first.
	formulas []*Formula
	// limit is the request's limit as Qdrant counts it, when hasLimit.
	limit    int
	hasLimit bool
	// read and write are the filters of a read and of a filtered update.
	read, write []*filter.Filter
	exact       bool
	hnswEf      int
	// oversampling is the quantization oversampling asked for.
	oversampling *float64
	// growth, for writes that add data: the points, vector bytes and
	// payload bytes they may add, and whether a payload index is created.
	grows    bool
	newIndex bool
	// readCost and writeCost are the rate limiter tokens the request takes;
	// lookupCost, the tokens its lookup of example points takes before;
	// laterCost, tokens taken after those when there are enough, the
	// request going ahead either way.
	readCost, writeCost, lookupCost, laterCost int
}

func strictErr(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrStrictMode, fmt.Sprintf(format, args...))
}

func limitErr(value, limit any, name string) error {
	return strictErr("Limit exceeded %v > %v for \"%s\". Help: Reduce the \"%s\" parameter to or below %v.",
		value, limit, name, name, limit)
}

// admit runs the strict mode checks of a request made of checks (one, or
// one per request of a batch), then takes its tokens from the rate
// limiters. The checks run only when strict mode is enabled.
func (c *collection) admit(ctx context.Context, checks ...strictCheck) error {
	if ctx.Value(internalKey{}) != nil {
		return nil
	}
	s := c.strictState()
	if s.enabled() {
		for i := range checks {
			if err := c.checkOne(s, &checks[i]); err != nil {
				return err
			}
		}
		if t, ok := requestTimeout(ctx); ok && s.cfg.MaxTimeout != nil && int64(t) > *s.cfg.MaxTimeout {
			return limitErr(t, *s.cfg.MaxTimeout, "timeout")
		}
	}
	var rc, wc, lc int
	for i := range checks {
		rc += checks[i].readCost
		wc += checks[i].writeCost
		lc += checks[i].lookupCost
	}
	if s.read != nil && lc > 0 {
		if err := s.read.take(lc); err != nil {
			return err
		}
	}
	if s.read != nil && rc > 0 {
		if err := s.read.take(rc); err != nil {
			return err
		}
		var later int
		for i := range checks {
			later += checks[i].laterCost
		}
		if later > 0 {
			s.read.take(later) // not refused: taken only when available
		}
	}
	if s.write != nil && wc > 0 {
		if err := s.write.take(wc); err != nil {
			return err
		}
		// Qdrant 1.17 takes the tokens of the first write to a collection
		// created with a write limit twice (measured; not so for a limit
		// set by an update). When the second take fails the write is
		// refused and the first stays spent.
		if c.firstWrite.CompareAndSwap(true, false) {
			if err := s.write.take(wc); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkOne runs the checks of one request, in Qdrant's order: the
// request's own (batch size, upsert size, group_by), the limit, the read
// then the write filters, and the search parameters (oversampling, hnsw_ef,
// exact).
func (c *collection) checkOne(s *strictState, k *strictCheck) error {
	cfg := &s.cfg
	if k.batch > 0 && cfg.SearchMaxBatchsize != nil && int64(k.batch) > *cfg.SearchMaxBatchsize {
		return limitErr(k.batch, *cfg.SearchMaxBatchsize, "search batch size")
	}
	if k.upsert > 0 && cfg.UpsertMaxBatchsize != nil && int64(k.upsert) > *cfg.UpsertMaxBatchsize {
		name := k.upsertName
		if name == "" {
			name = "upsert limit"
		}
		return limitErr(k.upsert, *cfg.UpsertMaxBatchsize, name)
	}
	if len(cfg.SparseConfig) > 0 {
		for _, vs := range k.sparse {
			for _, name := range slices.Sorted(maps.Keys(vs)) {
				if l := cfg.SparseConfig[name].MaxLength; l != nil && int64(len(vs[name].Indices)) > *l {
					return strictErr("Sparse vector '%s' has a limit of %d indices, but %d were provided!", name, *l, len(vs[name].Indices))
				}
			}
		}
	}
	if len(cfg.MultivectorConfig) > 0 {
		for _, vs := range k.multi {
			for _, name := range slices.Sorted(maps.Keys(vs)) {
				if l := cfg.MultivectorConfig[name].MaxVectors; l != nil && int64(len(vs[name])) > *l {
					return strictErr("Multivector '%s' has a limit of %d vectors, but %d were provided!", name, *l, len(vs[name]))
				}
			}
		}
	}
	if err := c.checkResources(s, k); err != nil {
		return err
	}
	if cfg.UnindexedFilteringRetrieve != nil && !*cfg.UnindexedFilteringRetrieve {
		if err := c.checkFormulas(k.formulas); err != nil {
			return err
		}
	}
	if k.groupBy != "" && cfg.UnindexedFilteringRetrieve != nil && !*cfg.UnindexedFilteringRetrieve {
		if err := c.checkGroupBy(k.groupBy); err != nil {
			return err
		}
	}
	if k.hasLimit && cfg.MaxQueryLimit != nil && int64(k.limit) > *cfg.MaxQueryLimit {
		return limitErr(k.limit, *cfg.MaxQueryLimit, "limit")
	}
	for _, f := range k.read {
		if err := c.checkFilter(cfg, f, cfg.UnindexedFilteringRetrieve); err != nil {
			return err
		}
	}
	for _, f := range k.write {
		if err := c.checkFilter(cfg, f, cfg.UnindexedFilteringUpdate); err != nil {
			return err
		}
	}
	if k.oversampling != nil && cfg.SearchMaxOversampling != nil && *k.oversampling > *cfg.SearchMaxOversampling {
		return limitErr(formatFloat(*k.oversampling), formatFloat(*cfg.SearchMaxOversampling), "oversampling")
	}
	if k.hnswEf > 0 && cfg.SearchMaxHnswEf != nil && int64(k.hnswEf) > *cfg.SearchMaxHnswEf {
		return limitErr(k.hnswEf, *cfg.SearchMaxHnswEf, "hnsw_ef")
	}
	// Exact is checked with the search parameters, after them.
	if k.exact && cfg.SearchAllowExact != nil && !*cfg.SearchAllowExact {
		return strictErr("Exact search disabled!. Help: Set exact=false.")
	}
	return nil
}

// formatFloat writes a float as Rust's Display does: integers without a
// fraction ("3"), others in the shortest form ("1.5").
func formatFloat(f float64) string {
	return strings.TrimSuffix(fmt.Sprintf("%v", f), ".0")
}

// checkGroupBy requires an index that serves match conditions on the
// group_by key (Qdrant's check_grouping_field).
func (c *collection) checkGroupBy(key string) error {
	c.rw.RLock()
	p, ok := c.fieldParams(key)
	c.rw.RUnlock()
	if !ok {
		return strictErr("Index required but not found for \"%s\". Help: Create an index supporting `match` for this key.", key)
	}
	switch p.Type {
	case payload.TypeKeyword, payload.TypeInteger, payload.TypeBool, payload.TypeUUID:
		if p.Type != payload.TypeInteger || p.LookupEnabled() {
			return nil
		}
	}
	return strictErr("Index of type \"%s\" found for \"%s\". Help: Create an index supporting `match` for this key.", schemaKindName(p.Type), key)
}

// schemaKindName is the Debug form of Qdrant's PayloadSchemaType.
func schemaKindName(t payload.FieldType) string {
	switch t {
	case payload.TypeUUID:
		return "Uuid"
	}
	s := t.String()
	return strings.ToUpper(s[:1]) + s[1:]
}

// checkFilter checks a filter: that its keys are indexed (when unindexed
// filtering is off), then its number of conditions, then the size of its
// largest condition.
func (c *collection) checkFilter(cfg *strictConfig, f *filter.Filter, allowUnindexed *bool) error {
	if f == nil {
		return nil
	}
	if allowUnindexed != nil && !*allowUnindexed {
		c.rw.RLock()
		key, schemas := oneUnindexedKey(f, c.fieldParams)
		c.rw.RUnlock()
		if key != "" {
			return strictErr("Index required but not found for \"%s\" of one of the following types: [%s]. Help: Create an index for this key or use a different filter.",
				key, strings.Join(schemas, ", "))
		}
	}
	if cfg.FilterMaxConditions != nil {
		if n := conditionsCount(f); int64(n) > *cfg.FilterMaxConditions {
			return strictErr("Filter condition limit reached (%d > %d). Help: Reduce the amount of conditions of your filter.", n, *cfg.FilterMaxConditions)
		}
	}
	if cfg.ConditionMaxSize != nil {
		if n := maxConditionSize(f); int64(n) > *cfg.ConditionMaxSize {
			return strictErr("Condition size limit reached (%d > %d). Help: Reduce the size of your condition.", n, *cfg.ConditionMaxSize)
		}
	}
	return nil
}

// filterClauses returns the conditions of f in Qdrant's order.
// An array, so that the strict-mode checks of every query allocate
// nothing for it; a missing min_should is an empty clause.
func filterClauses(f *filter.Filter) [4][]filter.Condition {
	var minShould []filter.Condition
	if f.MinShould != nil {
		minShould = f.MinShould.Conditions
	}
	return [4][]filter.Condition{f.Should, minShould, f.Must, f.MustNot}
}

// conditionsCount is Qdrant's Filter::total_conditions_count: conditions
// count one each, and a filter used as a condition and a nested condition
// count the conditions of their filter.
func conditionsCount(f *filter.Filter) int {
	if f == nil {
		return 0
	}
	n := 0
	for _, cl := range filterClauses(f) {
		for _, cond := range cl {
			switch cond := cond.(type) {
			case *filter.Filter:
				n += conditionsCount(cond)
			case *filter.Nested:
				n += conditionsCount(cond.Filter)
			default:
				n++
			}
		}
	}
	return n
}

// maxConditionSize is Qdrant's Filter::max_condition_input_size: the
// largest list a condition holds (match any or except values, has_id ids).
func maxConditionSize(f *filter.Filter) int {
	if f == nil {
		return 0
	}
	n := 0
	for _, cl := range filterClauses(f) {
		for _, cond := range cl {
			switch cond := cond.(type) {
			case *filter.Filter:
				n = max(n, maxConditionSize(cond))
			case *filter.Nested:
				n = max(n, maxConditionSize(cond.Filter))
			case *filter.HasID:
				n = max(n, len(cond.IDs))
			case *filter.Field:
				if m := cond.Match; m != nil {
					switch m.Kind {
					case filter.MatchAnyKeywords, filter.MatchExceptKeywords:
						n = max(n, len(m.Keywords))
					case filter.MatchAnyIntegers, filter.MatchExceptIntegers:
						n = max(n, len(m.Integers))
					}
				}
			}
		}
	}
	return n
}

// The index capabilities a condition can be served by (Qdrant's
// lib/collection/src/problems/unindexed_field.rs, FieldIndexType), with
// the schema each suggests.
type indexCap uint8

const (
	capIntMatch indexCap = iota
	capIntRange
	capKeywordMatch
	capFloatRange
	capText
	capTextPhrase
	capBoolMatch
	capUUIDMatch
	capUUIDRange
	capDatetimeRange
	capGeo
	numCaps
)

var capSchemas = [numCaps]string{"integer", "integer", "keyword", "float", "text",
	"text (with phrase_matching: true)", "bool", "uuid", "uuid", "datetime", "geo"}

// allCaps is what is_empty, is_null and values_count accept: any index.
var allCaps = func() []indexCap {
	out := make([]indexCap, numCaps)
	for i := range out {
		out[i] = indexCap(i)
	}
	return out
}()

// indexCaps returns what an index with params serves.
func indexCaps(p payload.IndexParams) []indexCap {
	switch p.Type {
	case payload.TypeKeyword:
		return []indexCap{capKeywordMatch}
	case payload.TypeInteger:
		var out []indexCap
		if p.LookupEnabled() {
			out = append(out, capIntMatch)
		}
		if p.RangeEnabled() {
			out = append(out, capIntRange)
		}
		return out
	case payload.TypeUUID:
		return []indexCap{capUUIDMatch, capUUIDRange}
	case payload.TypeBool:
		return []indexCap{capBoolMatch}
	case payload.TypeFloat:
		return []indexCap{capFloatRange}
	case payload.TypeGeo:
		return []indexCap{capGeo}
	case payload.TypeText:
		if p.Text.PhraseMatching {
			return []indexCap{capTextPhrase, capText}
		}
		return []indexCap{capText}
	case payload.TypeDatetime:
		return []indexCap{capDatetimeRange}
	}
	return nil
}

// fieldCaps returns the capabilities any one of which serves a field
// condition.
func fieldCaps(fc *filter.Field) []indexCap {
	var out []indexCap
	if m := fc.Match; m != nil {
		switch m.Kind {
		case filter.MatchKeyword:
			if isUUID(m.Keyword) {
				out = append(out, capUUIDMatch)
			}
			out = append(out, capKeywordMatch)
		case filter.MatchInteger:
			out = append(out, capIntMatch)
		case filter.MatchBool:
			out = append(out, capBoolMatch)
		case filter.MatchAnyKeywords, filter.MatchExceptKeywords:
			// An empty list counts as all UUIDs, as in Qdrant 1.17.
			if !slices.ContainsFunc(m.Keywords, func(s string) bool { return !isUUID(s) }) {
				out = append(out, capUUIDMatch)
			}
			out = append(out, capKeywordMatch)
		case filter.MatchAnyIntegers, filter.MatchExceptIntegers:
			out = append(out, capIntMatch)
		case filter.MatchText, filter.MatchTextAny:
			out = append(out, capText)
		case filter.MatchPhrase:
			out = append(out, capTextPhrase)
		}
	}
	if fc.Range != nil {
		out = append(out, capFloatRange, capIntRange)
	}
	if fc.DatetimeRange != nil {
		out = append(out, capDatetimeRange)
	}
	if fc.GeoBoundingBox != nil || fc.GeoRadius != nil || fc.GeoPolygon != nil {
		out = append(out, capGeo)
	}
	if fc.ValuesCount != nil || fc.IsEmpty != nil || fc.IsNull != nil {
		out = append(out, allCaps...)
	}
	return out
}

func isUUID(s string) bool {
	_, err := filter.ParseUUID(s)
	return err == nil
}

// oneUnindexedKey returns the first key of f (in Qdrant's order) whose
// condition no index of fields serves, with the schemas that would serve
// it, sorted; "" when every condition is served or needs no index.
func oneUnindexedKey(f *filter.Filter, fields func(string) (payload.IndexParams, bool)) (string, []string) {
	found := map[string][]indexCap{}
	var order []string
	need := func(key string, caps []indexCap) {
		if len(caps) == 0 {
			return
		}
		if p, ok := fields(key); ok {
			have := indexCaps(p)
			for _, c := range caps {
				if slices.Contains(have, c) {
					return
				}
			}
		}
		if _, ok := found[key]; !ok {
			order = append(order, key)
		}
		found[key] = append(found[key], caps...)
	}
	var walk func(prefix string, f *filter.Filter, once bool)
	walk = func(prefix string, f *filter.Filter, once bool) {
		if f == nil {
			return
		}
		for _, cl := range filterClauses(f) {
			for _, cond := range cl {
				switch cond := cond.(type) {
				case *filter.Filter:
					walk(prefix, cond, false)
				case *filter.Nested:
					walk(joinKey(prefix, nestedArrayKey(cond.Key.String())), cond.Filter, false)
				case *filter.Field:
					need(joinKey(prefix, cond.Key.String()), fieldCaps(cond))
				case *filter.IsEmpty:
					need(joinKey(prefix, cond.Key.String()), allCaps)
				case *filter.IsNull:
					need(joinKey(prefix, cond.Key.String()), allCaps)
				}
				if once && len(order) > 0 {
					return
				}
			}
		}
	}
	walk("", f, true)
	if len(order) == 0 {
		return "", nil
	}
	key := order[0]
	var names []string
	for _, c := range found[key] {
		names = append(names, capSchemas[c])
	}
	sort.Strings(names)
	return key, slices.Compact(names)
}

// nestedArrayKey is the key of a nested condition as an array: "a" and
// "a[]" both read "a[]".
func nestedArrayKey(k string) string {
	if strings.HasSuffix(k, "[]") {
		return k
	}
	return k + "[]"
}

func joinKey(prefix, key string) string {
	if prefix == "" {
		return key
	}
	return prefix + "." + key
}

// checkResources checks, for requests that add data, the limits on the
// collection's size (vector storage, payload storage, points, in Qdrant's
// order: lib/collection/src/operations/verification/update.rs), and for one
// that creates an index, the number of payload indexes.
func (c *collection) checkResources(s *strictState, k *strictCheck) error {
	cfg := &s.cfg
	if k.newIndex && cfg.MaxPayloadIndexCount != nil {
		c.rw.RLock()
		n := len(c.fields)
		c.rw.RUnlock()
		if int64(n) >= *cfg.MaxPayloadIndexCount {
			return strictErr("Collection already has the maximum number of payload indices (%d). Help: Please delete an existing index before creating a new one.", *cfg.MaxPayloadIndexCount)
		}
	}
	if !k.grows || (cfg.MaxCollectionVectorSizeBytes == nil && cfg.MaxCollectionPayloadSizeBytes == nil && cfg.MaxPointsCount == nil) {
		return nil
	}
	st, err := c.sizeStats(cfg.MaxCollectionPayloadSizeBytes != nil)
	if err != nil {
		return err
	}
	if lim := cfg.MaxCollectionVectorSizeBytes; lim != nil && k.upsert > 0 && st.vectorBytes >= *lim {
		return strictErr("Max vector storage size limit of %sMB reached!", megabytes(*lim))
	}
	if lim := cfg.MaxCollectionPayloadSizeBytes; lim != nil && st.payloadBytes >= *lim {
		return strictErr("Max payload storage size limit of %sMB reached!", megabytes(*lim))
	}
	if lim := cfg.MaxPointsCount; lim != nil && k.upsert > 0 && st.points >= *lim {
		return strictErr("Max points count limit of %d reached!", *lim)
	}
	return nil
}

// megabytes writes n bytes in MiB as Rust writes an f32.
func megabytes(n int64) string {
	return strconv.FormatFloat(float64(float32(n)/(1024*1024)), 'f', -1, 32)
}

// pointsCount is the number of live points.
func (c *collection) pointsCount() int {
	c.rw.RLock()
	defer c.rw.RUnlock()
	n := 0
	for _, ref := range c.segs {
		n += ref.seg.Live()
	}
	return n
}

// sizeStats are the sizes strict mode limits.
type sizeStats struct {
	points, vectorBytes, payloadBytes int64
}

// sizeStats measures the collection: live points, their vector storage and,
// when withPayload, the encoded size of their payloads.
func (c *collection) sizeStats(withPayload bool) (sizeStats, error) {
	c.rw.RLock()
	defer c.rw.RUnlock()
	var st sizeStats
	var buf []byte
	for _, ref := range c.segs {
		st.points += int64(ref.seg.Live())
		if !withPayload {
			continue
		}
		for off := range uint32(ref.seg.Len()) {
			if ref.seg.IsLive(off) {
				p, err := ref.seg.Payload(off)
				if err != nil {
					return sizeStats{}, err
				}
				buf = p.AppendBinary(buf[:0])
				st.payloadBytes += int64(len(buf))
			}
		}
	}
	st.vectorBytes = st.points * int64(c.pointBytes())
	return st, nil
}

// filterCost is the rate limiter cost of a filter: its conditions.
func filterCost(f *filter.Filter) int { return conditionsCount(f) }

// The checks of each kind of request. Rate costs follow Qdrant's
// (lib/collection/src/operations/verification/operation_rate_cost.rs and
// QueryEnum::search_cost), completed by measuring Qdrant 1.17: a vector
// search costs one token per query vector, a read without vectors one
// token, plus one per filter condition; looking up example points one per
// point and one more; a retrieve one per id; a write one per point it
// names, or one for a filter.

func filters(fs ...*filter.Filter) []*filter.Filter {
	var out []*filter.Filter
	for _, f := range fs {
		if f != nil {
			out = append(out, f)
		}
	}
	return out
}

func (r *SearchRequest) strictCheck() strictCheck {
	return strictCheck{limit: r.Limit, hasLimit: true, read: filters(r.Filter), exact: r.Exact,
		hnswEf: r.HnswEf, oversampling: r.Oversampling, readCost: 1 + filterCost(r.Filter)}
}

// idCount is the number of examples that name stored points.
func idCount(ex ...Example) int {
	n := 0
	for _, e := range ex {
		if e.ID != nil {
			n++
		}
	}
	return n
}

func pairExamples(pairs []ContextPair) []Example {
	var out []Example
	for _, p := range pairs {
		out = append(out, p.Positive, p.Negative)
	}
	return out
}

// queryCosts returns what a query costs, as Qdrant 1.17 counts it
// (measured): the lookup of its example points, one token per point, taken
// first; then the search, one token per vector it compares each point with
// (an average-vector recommendation compares one), and one more when it
// looked points up.
func queryCosts(q *Query) (lookup, search int) {
	if q != nil && q.Nearest != nil {
		// The common case, without gathering the examples.
		return idCount(*q.Nearest), 1 + idCount(*q.Nearest)
	}
	ex := q.examples()
	switch {
	case q == nil:
		return 0, 1
	case q.Recommend != nil:
		search = recommendVectors(q.Recommend.Strategy, len(ex))
	case q.Discover != nil:
		search = 1 + 2*len(q.Discover.Context)
	case q.Context != nil:
		search = max(1, 2*len(q.Context))
	case q.RelevanceFeedback != nil:
		ex = feedbackExamples(q.RelevanceFeedback)
		search = len(ex)
	default:
		return 0, 1
	}
	if lookup = idCount(ex...); lookup > 0 {
		search++
	}
	return lookup, search
}

// recommendVectors is the number of vectors a recommendation of n examples
// compares each point with.
func recommendVectors(st RecommendStrategy, n int) int {
	if st == "" || st == AverageVector {
		return 1
	}
	return max(n, 1)
}

func (r *QueryRequest) strictCheck() strictCheck {
	limit := r.Limit
	if limit == 0 {
		limit = 10
	}
	lookup, search := queryCosts(r.Query)
	k := strictCheck{limit: limit, hasLimit: true, read: filters(r.Filter), exact: r.Exact,
		hnswEf: r.HnswEf, oversampling: r.Oversampling, lookupCost: lookup, readCost: search + filterCost(r.Filter)}
	k.addPrefetches(r.Prefetch)
	if r.Query != nil && r.Query.Formula != nil {
		k.formulas = append(k.formulas, r.Query.Formula)
	}
	return k
}

// addPrefetches adds to k what the prefetches of a query ask for: each is
// checked as a query of its own (its limit, filter and search parameters)
// and costs what its query costs.
func (k *strictCheck) addPrefetches(ps []Prefetch) {
	for i := range ps {
		p := &ps[i]
		limit := p.Limit
		if limit == 0 {
			limit = defaultPrefetchLimit
		}
		k.limit = max(k.limit, limit)
		if p.Filter != nil {
			k.read = append(k.read, p.Filter)
		}
		k.exact = k.exact || p.Exact
		k.hnswEf = max(k.hnswEf, p.HnswEf)
		if p.Oversampling != nil && (k.oversampling == nil || *p.Oversampling > *k.oversampling) {
			k.oversampling = p.Oversampling
		}
		lookup, search := queryCosts(p.Query)
		k.lookupCost += lookup
		k.readCost += search + filterCost(p.Filter)
		k.addPrefetches(p.Prefetch)
		if p.Query != nil && p.Query.Formula != nil {
			k.formulas = append(k.formulas, p.Query.Formula)
		}
	}
}

func (r *RecommendRequest) strictCheck() strictCheck {
	// The recommend API counts the one more token of a lookup even when
	// all examples are vectors.
	ex := append(slices.Clone(r.Positive), r.Negative...)
	return strictCheck{limit: r.Limit, hasLimit: true, read: filters(r.Filter), exact: r.Exact,
		hnswEf: r.HnswEf, oversampling: r.Oversampling, lookupCost: idCount(ex...),
		readCost: recommendVectors(r.Strategy, len(ex)) + 1 + filterCost(r.Filter)}
}

func (r *GroupsRequest) strictCheck() strictCheck {
	k := r.QueryRequest.strictCheck()
	limit, size := r.Limit, r.GroupSize
	if limit == 0 {
		limit = defaultGroupLimit
	}
	if size == 0 {
		size = defaultGroupSize
	}
	k.limit = limit * size
	k.groupBy = r.GroupBy
	k.readCost++
	return k
}

func (r *ScrollRequest) strictCheck() strictCheck {
	return strictCheck{limit: r.Limit, hasLimit: !r.DefaultLimit, read: filters(r.Filter), readCost: 1 + filterCost(r.Filter)}
}

func (r *FacetRequest) strictCheck() strictCheck {
	return strictCheck{limit: r.Limit, hasLimit: r.Limit > 0, read: filters(r.Filter), exact: r.Exact, readCost: 1 + filterCost(r.Filter)}
}

func (r *MatrixRequest) strictCheck() strictCheck {
	// The limit Qdrant checks is sample × limit, when a sample is given.
	// The cost is two tokens, then two per sampled point taken only when
	// they are there (measured).
	sample := r.Sample
	if sample == 0 {
		sample = defaultMatrixSample
	}
	return strictCheck{limit: r.Sample * max(r.Limit, 1), hasLimit: r.Sample > 0, read: filters(r.Filter),
		readCost: 2 + filterCost(r.Filter), laterCost: 2 * sample}
}

// selectorCheck is the check of a write that names points by sel.
func selectorCheck(sel *Selector) strictCheck {
	if sel.Filter != nil {
		return strictCheck{write: filters(sel.Filter), writeCost: 1}
	}
	return strictCheck{writeCost: len(sel.IDs)}
}

// strictCheck returns the check of one write operation.
func (o *Operation) strictCheck() strictCheck {
	switch {
	case o.Upsert != nil:
		k := strictCheck{upsert: len(o.Upsert.Points), grows: true, writeCost: len(o.Upsert.Points)}
		for _, p := range o.Upsert.Points {
			if p.Sparse != nil {
				k.sparse = append(k.sparse, p.Sparse)
			}
			if p.Multi != nil {
				k.multi = append(k.multi, p.Multi)
			}
		}
		return k
	case o.Delete != nil:
		return selectorCheck(o.Delete)
	case o.SetPayload != nil:
		k := selectorCheck(&o.SetPayload.Selector)
		k.grows = true
		return k
	case o.OverwritePayload != nil:
		k := selectorCheck(&o.OverwritePayload.Selector)
		k.grows = true
		return k
	case o.DeletePayload != nil:
		return selectorCheck(&o.DeletePayload.Selector)
	case o.ClearPayload != nil:
		return selectorCheck(o.ClearPayload)
	case o.UpdateVectors != nil:
		k := strictCheck{upsert: len(o.UpdateVectors.Points), upsertName: "update limit", grows: true,
			writeCost: len(o.UpdateVectors.Points)}
		for _, p := range o.UpdateVectors.Points {
			if p.Sparse != nil {
				k.sparse = append(k.sparse, p.Sparse)
			}
			if p.Multi != nil {
				k.multi = append(k.multi, p.Multi)
			}
		}
		return k
	case o.DeleteVectors != nil:
		return selectorCheck(&o.DeleteVectors.Selector)
	}
	return strictCheck{}
}
