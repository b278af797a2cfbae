package compat

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"

	"github.com/qdrant/go-client/qdrant"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// Filters are bounded by their number of conditions (Limits.
// MaxFilterConditions): every condition is evaluated against every
// candidate point, so a body of 300,000 conditions made a count over 1,000
// points take 100 s (Qdrant: a 500 after its 60 s timeout). The conditions
// of every filter of a request are summed, counted as strict mode counts
// them (a nested filter counts its conditions), after the request is
// decoded and before it runs.

// tooManyConditions is the refusal of a request over the limit.
func tooManyConditions(max int) string {
	return fmt.Sprintf("Bad request: the request's filters hold more than %d conditions, the most the server allows in one request", max)
}

// restCheckConditions refuses, with 400, a decoded request whose filters
// hold more than max conditions.
func restCheckConditions(v any, max int) error {
	n := 0
	if raw, ok := v.(*json.RawMessage); ok {
		// A body its handler reads itself: its top-level filter.
		if !bytes.Contains(*raw, []byte(`"filter"`)) {
			return nil
		}
		var sel struct {
			Filter json.RawMessage `json:"filter"`
		}
		if json.Unmarshal(*raw, &sel) != nil {
			return nil
		}
		v = &sel
	}
	countFilters(reflect.ValueOf(v), &n, max)
	if n > max {
		return &restError{http.StatusBadRequest, tooManyConditions(max)}
	}
	return nil
}

var rawType = reflect.TypeFor[json.RawMessage]()

// isRawFilter reports whether a struct field is a filter kept as raw JSON
// (decoded by the handler): a json.RawMessage named "filter". Every filter
// of a REST request is one, or sits in one named "prefetch" (a query's
// prefetches, whose filters at every depth count; the key of an order_by
// query among them counts as one condition more).
func isRawFilter(f reflect.StructField) bool {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return f.Type == rawType && (name == "filter" || name == "prefetch")
}

// holdsFilter caches, per type, whether a value of it can hold a filter:
// the walk skips what cannot (vectors, payloads).
var holdsFilter sync.Map // reflect.Type -> bool

func mayHoldFilter(t reflect.Type) bool {
	if v, ok := holdsFilter.Load(t); ok {
		return v.(bool)
	}
	b := mayHoldFilterIn(t, map[reflect.Type]bool{})
	holdsFilter.Store(t, b)
	return b
}

func mayHoldFilterIn(t reflect.Type, seen map[reflect.Type]bool) bool {
	if seen[t] {
		return false
	}
	seen[t] = true
	switch t.Kind() {
	case reflect.Pointer, reflect.Slice, reflect.Array:
		return mayHoldFilterIn(t.Elem(), seen)
	case reflect.Struct:
		for i := range t.NumField() {
			if f := t.Field(i); isRawFilter(f) || (f.IsExported() || f.Anonymous) && mayHoldFilterIn(f.Type, seen) {
				return true
			}
		}
	}
	return false
}

// countFilters adds to n the conditions of the filters in v, stopping
// once n passes stop.
func countFilters(v reflect.Value, n *int, stop int) {
	if *n > stop || !v.IsValid() || !mayHoldFilter(v.Type()) {
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if !v.IsNil() {
			countFilters(v.Elem(), n, stop)
		}
	case reflect.Slice, reflect.Array:
		for i := range v.Len() {
			countFilters(v.Index(i), n, stop)
		}
	case reflect.Struct:
		for i := range v.NumField() {
			switch f := v.Type().Field(i); {
			case isRawFilter(f):
				*n += rawConditions(v.Field(i).Bytes())
			case f.IsExported() || f.Anonymous:
				countFilters(v.Field(i), n, stop)
			}
		}
	}
}

// rawConditions counts the conditions of a filter in JSON without
// decoding it (its handler does, and reports its errors): the object keys
// "key", "has_id" and "has_vector", one of which every condition has
// (is_empty, is_null and nested conditions hold a "key"; a nested one thus
// counts one more than strict mode counts). A key is a quoted name not
// preceded by a backslash and followed by a colon: the same text inside a
// string value has its quotes escaped.
func rawConditions(raw []byte) int {
	n := 0
	for i := 0; i < len(raw); i++ {
		if raw[i] != '"' || i > 0 && raw[i-1] == '\\' {
			continue
		}
		rest := raw[i+1:]
		var name int
		switch {
		case bytes.HasPrefix(rest, []byte(`key"`)):
			name = len(`key"`)
		case bytes.HasPrefix(rest, []byte(`has_id"`)):
			name = len(`has_id"`)
		case bytes.HasPrefix(rest, []byte(`has_vector"`)):
			name = len(`has_vector"`)
		default:
			continue
		}
		j := i + 1 + name
		for j < len(raw) && (raw[j] == ' ' || raw[j] == '\t' || raw[j] == '\n' || raw[j] == '\r') {
			j++
		}
		if j < len(raw) && raw[j] == ':' {
			n++
		}
		i = j - 1
	}
	return n
}

// conditionName is the gRPC API's condition message.
var conditionName = (&qdrant.Condition{}).ProtoReflect().Descriptor().FullName()

// grpcHoldsCondition caches, per message type, whether it can hold a
// qdrant.Condition.
var grpcHoldsCondition sync.Map // protoreflect.FullName -> bool

func grpcMayHoldCondition(md protoreflect.MessageDescriptor) bool {
	if v, ok := grpcHoldsCondition.Load(md.FullName()); ok {
		return v.(bool)
	}
	b := grpcMayHoldConditionIn(md, map[protoreflect.FullName]bool{})
	grpcHoldsCondition.Store(md.FullName(), b)
	return b
}

func grpcMayHoldConditionIn(md protoreflect.MessageDescriptor, seen map[protoreflect.FullName]bool) bool {
	if md.FullName() == conditionName {
		return true
	}
	if seen[md.FullName()] {
		return false
	}
	seen[md.FullName()] = true
	fields := md.Fields()
	for i := range fields.Len() {
		f := fields.Get(i)
		if f.IsMap() {
			f = f.MapValue()
		}
		if f.Message() != nil && grpcMayHoldConditionIn(f.Message(), seen) {
			return true
		}
	}
	return false
}

// grpcCountConditions adds to n the conditions in m (a filter or nested
// condition counts those it holds), stopping once n passes stop.
func grpcCountConditions(m protoreflect.Message, n *int, stop int) {
	if *n > stop || !grpcMayHoldCondition(m.Descriptor()) {
		return
	}
	if m.Descriptor().FullName() == conditionName {
		c := m.Interface().(*qdrant.Condition)
		if c.GetFilter() == nil && c.GetNested() == nil {
			*n++
			return
		}
	}
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := range l.Len() {
				grpcCountConditions(l.Get(i).Message(), n, stop)
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				grpcCountConditions(mv.Message(), n, stop)
				return *n <= stop
			})
		case fd.Message() != nil:
			grpcCountConditions(v.Message(), n, stop)
		}
		return *n <= stop
	})
}

// conditionsInterceptor refuses, with InvalidArgument, a call whose
// request's filters hold more than max conditions.
func conditionsInterceptor(max int) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
		if m, ok := req.(proto.Message); ok {
			n := 0
			if !grpcCountSearchConditions(m, &n, max) {
				grpcCountConditions(m.ProtoReflect(), &n, max)
			}
			if n > max {
				return nil, status.Error(codes.InvalidArgument, tooManyConditions(max))
			}
		}
		return h(ctx, req)
	}
}

// grpcCountSearchConditions counts, as grpcCountConditions does but
// without reflection (which cost about 10 us a call), the conditions of
// the searches the server answers most: a SearchPoints, and a QueryPoints
// without prefetches whose query is absent or a nearest-vector query. Only
// their filter can then hold conditions. It reports false, counting
// nothing, for any other message.
func grpcCountSearchConditions(m proto.Message, n *int, stop int) bool {
	switch r := m.(type) {
	case *qdrant.SearchPoints:
		countFilterConditions(r.GetFilter(), n, stop)
		return true
	case *qdrant.QueryPoints:
		if len(r.GetPrefetch()) > 0 || (r.GetQuery() != nil && r.GetQuery().GetNearest() == nil) {
			return false
		}
		countFilterConditions(r.GetFilter(), n, stop)
		return true
	}
	return false
}

// countFilterConditions adds to n the conditions in f, nested filters
// counting theirs, stopping once n passes stop.
func countFilterConditions(f *qdrant.Filter, n *int, stop int) {
	if f == nil {
		return
	}
	for _, l := range [...][]*qdrant.Condition{f.GetMust(), f.GetShould(), f.GetMustNot(), f.GetMinShould().GetConditions()} {
		for _, c := range l {
			if *n > stop {
				return
			}
			switch {
			case c.GetFilter() != nil:
				countFilterConditions(c.GetFilter(), n, stop)
			case c.GetNested() != nil:
				countFilterConditions(c.GetNested().GetFilter(), n, stop)
			default:
				*n++
			}
		}
	}
}
