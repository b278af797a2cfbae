package filter

import "slices"

// PayloadKeys appends to dst the top-level payload keys f's conditions
// read (each once, in no particular order): the part of a payload that
// deciding f needs. has_id and has_vector read none.
func (f *Filter) PayloadKeys(dst []string) []string {
	if f == nil {
		return dst
	}
	for _, cs := range [][]Condition{f.Should, f.Must, f.MustNot} {
		dst = conditionKeys(cs, dst)
	}
	if f.MinShould != nil {
		dst = conditionKeys(f.MinShould.Conditions, dst)
	}
	return dst
}

func conditionKeys(cs []Condition, dst []string) []string {
	add := func(k string) {
		if !slices.Contains(dst, k) {
			dst = append(dst, k)
		}
	}
	for _, c := range cs {
		switch c := c.(type) {
		case *Field:
			add(c.Key.Head())
		case *IsEmpty:
			add(c.Key.Head())
		case *IsNull:
			add(c.Key.Head())
		case *Nested:
			add(c.Key.Head())
		case *Filter:
			dst = c.PayloadKeys(dst)
		}
	}
	return dst
}
