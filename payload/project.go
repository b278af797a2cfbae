package payload

// Projections of a payload on key paths, as Qdrant's with_payload include
// and exclude lists shape points (lib/segment/src/json_path/filter.rs and
// the check_include_pattern / check_exclude_pattern of
// lib/segment/src/json_path/v2.rs). The payload is walked and each value is
// named by its own path: object members by their key, array elements by
// [] (never by an index). Include keeps a value when its path and a
// pattern agree on every step both have, so a pattern's ancestors are kept
// with only the matching members, and a primitive on the way is kept
// whole; an [N] step matches no element, so it keeps an empty array.
// Exclude drops a value when a pattern is a prefix of its path, so an
// [N] step drops nothing.

// Include returns the parts of the object v that a path of paths names.
func Include(v Value, paths []Path) Value {
	return projectObject(v, make([]seg, 0, 8), func(p []seg) bool {
		for _, q := range paths {
			if includes(q.segs, p) {
				return true
			}
		}
		return false
	})
}

// Exclude returns the object v without the parts a path of paths names.
func Exclude(v Value, paths []Path) Value {
	return projectObject(v, make([]seg, 0, 8), func(p []seg) bool {
		for _, q := range paths {
			if excludes(q.segs, p) {
				return false
			}
		}
		return true
	})
}

// includes reports whether pattern and path agree on their common steps.
func includes(pattern, path []seg) bool {
	n := min(len(pattern), len(path))
	for i := range n {
		if pattern[i] != path[i] {
			return false
		}
	}
	return true
}

// excludes reports whether pattern is a prefix of path.
func excludes(pattern, path []seg) bool {
	if len(pattern) > len(path) {
		return false
	}
	for i := range pattern {
		if pattern[i] != path[i] {
			return false
		}
	}
	return true
}

func projectObject(v Value, path []seg, keep func([]seg) bool) Value {
	fields := make([]Field, 0, len(v.obj))
	for _, f := range v.obj {
		p := append(path, seg{kind: segKey, key: f.Key})
		if keep(p) {
			fields = append(fields, Field{Key: f.Key, Value: project(f.Value, p, keep)})
		}
	}
	return Value{kind: Object, obj: fields}
}

func project(v Value, path []seg, keep func([]seg) bool) Value {
	switch v.kind {
	case Object:
		return projectObject(v, path, keep)
	case Array:
		p := append(path, seg{kind: segAll})
		elems := make([]Value, 0, len(v.arr))
		if keep(p) {
			for _, e := range v.arr {
				elems = append(elems, project(e, p, keep))
			}
		}
		return Value{kind: Array, arr: elems}
	}
	return v
}
