package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/qlite/qlite/compat"
	"github.com/qlite/qlite/telemetry"
)

func newVersionCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "version",
		Short: "Print qlite's version, the commit and date it was built from, and the Qdrant API version it speaks",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			b := telemetry.BuildInfo()
			out := cmd.OutOrStdout()
			if asJSON {
				enc := json.NewEncoder(out)
				enc.SetIndent("", "  ")
				return enc.Encode(struct {
					telemetry.Build
					QdrantAPI string `json:"qdrant_api"`
				}{b, compat.QdrantVersion})
			}
			fmt.Fprintf(out, "qlite %s\n", b.Version)
			if b.Commit != "" {
				mod := ""
				if b.Modified {
					mod = " (with uncommitted changes)"
				}
				fmt.Fprintf(out, "commit      %s%s\n", b.Commit, mod)
			}
			if !b.CommitTime.IsZero() {
				fmt.Fprintf(out, "commit date %s\n", b.CommitTime.UTC().Format(time.RFC3339))
			}
			if b.Date != "" {
				fmt.Fprintf(out, "built       %s\n", b.Date)
			}
			fmt.Fprintf(out, "go          %s %s\n", b.GoVersion, b.Platform)
			fmt.Fprintf(out, "qdrant api  %s (REST and gRPC)\n", compat.QdrantVersion)
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the same as a JSON object")
	return cmd
}
