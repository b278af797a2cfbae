package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/qlite/qlite/compat"
)

func newMigrateCmd() *cobra.Command {
	var (
		from, to, fromKey, toKey string
		opts                     compat.MigrateOptions
		quiet                    bool
	)
	cmd := &cobra.Command{
		Use:   "migrate --from PATH|grpc://HOST:PORT --to PATH|grpc://HOST:PORT",
		Short: "Copy collections between qlite databases and Qdrant servers",
		Long: `Copy collections, with their configuration, payload indexes and points (all vectors and
payloads), from one endpoint to another. An endpoint is a qlite database directory, opened
in process, or a Qdrant server (qlite serve or Qdrant itself): grpc://HOST:PORT, or
grpcs://HOST:PORT for TLS.

After each batch the target acknowledged, the next scroll offset is recorded in a state
file (.qlite-migrate-<collection>.json in --state-dir). Run the same command again after
an interruption and it resumes from there. At the end the exact point counts of both
sides must match.`,
		Example: `  qlite migrate --from ./qlite_storage --to grpcs://qdrant.example.com:6334 --api-key-to "$QDRANT_API_KEY"
  qlite migrate --from grpc://localhost:6334 --to ./data --collection products --collection users`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if from == "" || to == "" {
				return errors.New("migrate: --from and --to are required")
			}
			if from == to {
				return errors.New("migrate: --from and --to are the same endpoint")
			}
			src, err := compat.OpenEndpoint(from, &compat.EndpointOptions{APIKey: fromKey, MustExist: true})
			if err != nil {
				return err
			}
			defer src.Close()
			dst, err := compat.OpenEndpoint(to, &compat.EndpointOptions{APIKey: toKey})
			if err != nil {
				return err
			}
			defer dst.Close()
			stderr := cmd.ErrOrStderr()
			if !quiet {
				opts.Log = stderr
				if f, ok := stderr.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
					opts.Progress = stderr
				}
			}
			if err := compat.Migrate(cmd.Context(), src, dst, &opts); err != nil {
				if cmd.Context().Err() != nil {
					return fmt.Errorf("%w (interrupted: run the same command again to resume)", err)
				}
				return err
			}
			return errors.Join(dst.Close(), src.Close())
		},
	}
	f := cmd.Flags()
	f.StringVar(&from, "from", "", "source: a database directory or grpc://HOST:PORT")
	f.StringVar(&to, "to", "", "target: a database directory (created when missing) or grpc://HOST:PORT")
	f.StringArrayVar(&opts.Collections, "collection", nil, "collection to copy (repeatable; default: all)")
	f.IntVar(&opts.BatchSize, "batch-size", compat.DefaultMigrateBatchSize, "points per scroll and upsert")
	f.StringVar(&opts.StateDir, "state-dir", ".", "directory of the resumption state files")
	f.StringVar(&fromKey, "api-key-from", "", "API key of a server source")
	f.StringVar(&toKey, "api-key-to", "", "API key of a server target")
	f.BoolVarP(&quiet, "quiet", "q", false, "no progress bar and no log")
	return cmd
}
