package engine

import (
	"context"
	"fmt"
)

// queryOther serves the queries not handled in query.go.
func (db *DB) queryOther(ctx context.Context, coll string, r *QueryRequest) ([]ScoredPoint, error) {
	return nil, fmt.Errorf("%w: this query kind is not available yet", ErrBadRequest)
}
