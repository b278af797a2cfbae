// Command qlite is the qlite binary: the Qdrant-compatible server (qlite serve)
// and the benchmark harness (qlite bench).
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/qlite/qlite/bench"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, the next one stops the process at once.
		<-ctx.Done()
		stop()
	}()
	err := newRootCmd().ExecuteContext(ctx)
	stop()
	if err != nil {
		msg := err.Error()
		if !strings.HasPrefix(msg, "qlite: ") {
			msg = "qlite: " + msg
		}
		fmt.Fprintln(os.Stderr, msg)
		if errors.Is(err, bench.ErrNotInstalled) {
			os.Exit(bench.ExitNotInstalled)
		}
		os.Exit(1)
	}
}
