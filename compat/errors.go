package compat

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/qlite/qlite/engine"
)

// Status maps an engine error to Qdrant's HTTP status, gRPC code and
// message (Qdrant's prefixes: "Wrong input: ", "Not found: ", ...).
func Status(err error) (int, codes.Code, string) {
	detail := func(sentinel error) string {
		return strings.TrimPrefix(err.Error(), sentinel.Error()+": ")
	}
	var st interface{ GRPCStatus() *status.Status }
	var rl *engine.RateLimitError
	switch {
	case errors.As(err, &rl):
		return http.StatusTooManyRequests, codes.ResourceExhausted, "Rate limiting exceeded: " + rl.Detail
	case errors.Is(err, engine.ErrInvalidQuery):
		return http.StatusBadRequest, codes.InvalidArgument, "Bad request: " + detail(engine.ErrInvalidQuery)
	case errors.Is(err, engine.ErrStrictMode):
		return http.StatusBadRequest, codes.InvalidArgument, "Bad request: " + detail(engine.ErrStrictMode)
	case errors.As(err, &st):
		s := st.GRPCStatus()
		return httpFromCode(s.Code()), s.Code(), s.Message()
	case errors.Is(err, engine.ErrNoSpace):
		// Qdrant's answer to a write on a full disk (measured with 1.17.1
		// on a full tmpfs), whatever the engine's detail.
		return http.StatusInternalServerError, codes.Internal, "Service internal error: No space left on device: WAL buffer size exceeds available disk space"
	case errors.Is(err, engine.ErrNotFound):
		return http.StatusNotFound, codes.NotFound, "Not found: " + detail(engine.ErrNotFound)
	case errors.Is(err, engine.ErrConflict):
		return http.StatusConflict, codes.AlreadyExists, "Wrong input: " + detail(engine.ErrConflict)
	case errors.Is(err, engine.ErrBadRequest):
		return http.StatusBadRequest, codes.InvalidArgument, "Wrong input: " + detail(engine.ErrBadRequest)
	case errors.Is(err, engine.ErrUnavailable):
		return http.StatusInternalServerError, codes.Internal, "Service internal error: " + detail(engine.ErrUnavailable)
	case errors.Is(err, engine.ErrClosed):
		return http.StatusServiceUnavailable, codes.Unavailable, "Service internal error: the database is closed"
	case errors.Is(err, context.DeadlineExceeded):
		return http.StatusRequestTimeout, codes.DeadlineExceeded, "Timeout: " + err.Error()
	case errors.Is(err, context.Canceled):
		return http.StatusRequestTimeout, codes.Canceled, "Timeout: request cancelled"
	}
	return http.StatusInternalServerError, codes.Internal, "Service internal error: " + err.Error()
}

// RetryAfter is how long a client should wait before sending a request
// that failed with err again: the rate limiter's estimate for a rate limited
// request, 0 otherwise.
func RetryAfter(err error) time.Duration {
	var rl *engine.RateLimitError
	if errors.As(err, &rl) {
		return rl.RetryAfter
	}
	return 0
}

// GRPCError converts an engine error to a gRPC status error.
func GRPCError(err error) error {
	if err == nil {
		return nil
	}
	var ve *engine.ValidationError
	if errors.As(err, &ve) {
		return validationErr(ve.Path, "%s", ve.Msg)
	}
	_, code, msg := Status(err)
	if d := RetryAfter(err); d > 0 {
		return &retryError{st: status.New(code, msg), after: d}
	}
	return status.Error(code, msg)
}

// retryError is the gRPC error of a rate limited request; it keeps the
// delay that retryAfterUnary sends in the "retry-after" trailer, as Qdrant
// does.
type retryError struct {
	st    *status.Status
	after time.Duration
}

func (e *retryError) Error() string              { return e.st.Err().Error() }
func (e *retryError) GRPCStatus() *status.Status { return e.st }

// retryAfterUnary sets the "retry-after" trailer (whole seconds) of calls
// refused by a rate limit. It allocates nothing for other calls
// (errors.As, whose target escapes, cost every call an allocation).
func retryAfterUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, h grpc.UnaryHandler) (any, error) {
	resp, err := h(ctx, req)
	if re, ok := errors.AsType[*retryError](err); ok {
		grpc.SetTrailer(ctx, metadata.Pairs("retry-after", strconv.FormatInt(int64(re.after/time.Second), 10)))
	}
	return resp, err
}

// Unsupported is the error for a feature qlite does not have: InvalidArgument
// (HTTP 400) naming it.
func Unsupported(feature string) error {
	return status.Errorf(codes.InvalidArgument, "Wrong input: %s is not supported by qlite", feature)
}

func httpFromCode(c codes.Code) int {
	switch c {
	case codes.OK:
		return http.StatusOK
	case codes.InvalidArgument, codes.OutOfRange, codes.DataLoss:
		return http.StatusBadRequest
	case codes.NotFound:
		return http.StatusNotFound
	case codes.AlreadyExists:
		return http.StatusConflict
	case codes.PermissionDenied:
		return http.StatusForbidden
	case codes.Unauthenticated:
		return http.StatusUnauthorized
	case codes.DeadlineExceeded, codes.Canceled:
		return http.StatusRequestTimeout
	case codes.ResourceExhausted:
		return http.StatusTooManyRequests
	case codes.FailedPrecondition:
		return http.StatusForbidden
	case codes.Unimplemented:
		return http.StatusNotImplemented
	case codes.Unavailable:
		return http.StatusServiceUnavailable
	}
	return http.StatusInternalServerError
}
