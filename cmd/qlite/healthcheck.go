package main

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"
)

// newHealthcheckCmd is the health check of the container image, which has
// no shell and no curl: it asks the server in the same container whether
// it is ready.
func newHealthcheckCmd() *cobra.Command {
	var (
		url     string
		timeout time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local server answers GET /readyz with 200, else 1 (a container health check)",
		Long: `GET /readyz of the qlite server on this machine and exit 0 when it answers 200, 1 otherwise
(refused, timed out, or any other status), printing the answer. Without --url the address is
the one qlite serve listens on, read from the same environment variables:
QDRANT__SERVICE__HOST (0.0.0.0, :: or unset ask the loopback address), QDRANT__SERVICE__HTTP_PORT
(default 6333), and QDRANT__SERVICE__ENABLE_TLS (true: https, without verifying the
certificate, as the check asks whether the server answers, not who it is).`,
		Example: `  qlite healthcheck
  qlite healthcheck --url http://127.0.0.1:6333/readyz --timeout 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u := url
			insecure := false
			if u == "" {
				var err error
				if u, insecure, err = healthcheckURL(os.LookupEnv); err != nil {
					return err
				}
			}
			return healthcheck(cmd.Context(), cmd.OutOrStdout(), u, timeout, insecure)
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "URL to GET (default: /readyz of the local server, see above)")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// healthcheckURL is the /readyz URL of the server qlite serve starts with
// the environment lookup reads, and whether it is https.
func healthcheckURL(lookup func(string) (string, bool)) (url string, tlsOn bool, err error) {
	host, _ := lookup("QDRANT__SERVICE__HOST")
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	port := "6333"
	if p, ok := lookup("QDRANT__SERVICE__HTTP_PORT"); ok {
		if n, err := strconv.ParseUint(p, 10, 16); err != nil || n == 0 {
			return "", false, fmt.Errorf("QDRANT__SERVICE__HTTP_PORT=%q: not a port", p)
		}
		port = p
	}
	scheme := "http"
	if v, ok := lookup("QDRANT__SERVICE__ENABLE_TLS"); ok {
		on, err := strconv.ParseBool(v)
		if err != nil {
			return "", false, fmt.Errorf("QDRANT__SERVICE__ENABLE_TLS=%q: %w", v, err)
		}
		if on {
			scheme = "https"
		}
	}
	return scheme + "://" + net.JoinHostPort(strings.Trim(host, "[]"), port) + "/readyz", scheme == "https", nil
}

// healthcheck GETs url and returns nil when it answers 200 within timeout,
// writing the answer's first line to out either way.
func healthcheck(ctx context.Context, out io.Writer, url string, timeout time.Duration, insecure bool) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	tr := &http.Transport{Proxy: nil, DisableKeepAlives: true}
	if insecure {
		tr.TLSClientConfig = &tls.Config{InsecureSkipVerify: true}
	}
	defer tr.CloseIdleConnections()
	resp, err := (&http.Client{Transport: tr}).Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	msg, _, _ := strings.Cut(strings.TrimSpace(string(body)), "\n")
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s: %s", url, resp.Status, msg)
	}
	fmt.Fprintf(out, "%s: %s\n", url, msg)
	return nil
}
