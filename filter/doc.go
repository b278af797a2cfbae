// Package filter is Qdrant's filter language: the Filter and Condition
// types, their REST JSON form (ParseJSON, MarshalJSON), evaluation against
// points (Matches, Evaluator), and planning against payload indexes
// (Filter.Plan): a cardinality estimate, a candidate set and a residual
// predicate.
//
// # Model
//
// A Filter has four clauses: Should, MinShould, Must and MustNot. A nil
// clause is absent; a present empty one is kept distinct, because inside a
// nested condition should: [] matches no element (on whole points Qdrant
// drops empty clauses, so there it imposes nothing). Conditions are *Field (key
// plus match / range / datetime range / geo / values_count / is_empty /
// is_null tests), *IsEmpty, *IsNull, *HasID, *HasVector, *Nested and
// *Filter. Key paths are payload.Path values (a.b, a[].b, a[0]).
//
// Evaluation follows Qdrant's condition checker (lib/segment/src/
// payload_storage/query_checker.rs and condition_checker.rs): the values at
// a key form a multi-value and a test holds if any value passes; an array
// at the end of the path is tested element by element; a missing key fails
// every test except is_empty: true and is_null: false. Integer matches see
// only JSON integers (never 1.0); match except holds for any non-null
// value of another type, fails on null and on a missing key; text, phrase
// and text_any are substring tests unless a text index is given to the
// Evaluator, in which case the index's tokenizer decides.
//
// # Lifetimes and concurrency
//
// Filters are plain values. Once built they are read-only: Matches, Plan
// and MarshalJSON never modify them, so one Filter may be shared by any
// number of goroutines. An Evaluator holds scratch buffers and must not be
// used by two goroutines at once; Filter.Matches takes one from a pool.
// Plan reads the indexes and never modifies the bitmaps they or the caller
// own; the caller owns Plan.Candidates. Indexes must not change while a
// Plan is built.
//
// # Building filters in code
//
// Must, Should, MustNot, AtLeast and And build filters, and Key(k) the
// field conditions on a key, in the shape of the JSON form:
// Must(Key("lang").Match("en"), Key("price").Range(Gte(10), Lt(20))) is
// {"must": [{"key": "lang", "match": {"value": "en"}}, {"key": "price",
// "range": {"gte": 10, "lt": 20}}]}, and equal to what ParseJSON makes of
// it. A builder given bad input returns a condition that Validate reports
// (and that matches nothing) instead of panicking or returning an error.
//
// # Errors
//
// ParseJSON and Validate return errors wrapping ErrInvalidFilter; they are
// *Error values naming the offending field (filter.must[2].match) and
// telling malformed input (HTTP 400 in Qdrant) from validation failures
// (HTTP 422). Nothing in the package panics on bad input.
package filter
