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
		url, configPath string
		timeout         time.Duration
	)
	cmd := &cobra.Command{
		Use:   "healthcheck",
		Short: "Exit 0 when the local server answers GET /readyz with 200, else 1 (a container health check)",
		Long: `GET /readyz of the qlite server on this machine and exit 0 when it answers 200, 1 otherwise
(refused, timed out, or any other status), printing the answer. Without --url the address is
the one qlite serve started in the same directory and environment listens on: service.host
(0.0.0.0, :: or unset ask the loopback address), service.http_port and service.enable_tls from
the same config files (config/config.yaml, config/$RUN_MODE.yaml, config/local.yaml and
--config-path) and QDRANT__ variables. Over TLS the certificate is not verified: the check
asks whether the server answers, not who it is.`,
		Example: `  qlite healthcheck
  qlite healthcheck --url http://127.0.0.1:6333/readyz --timeout 2s`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u := url
			insecure := false
			if u == "" {
				var err error
				if u, insecure, err = healthcheckURL(".", configPath, os.Environ()); err != nil {
					return err
				}
			}
			return healthcheck(cmd.Context(), cmd.OutOrStdout(), u, timeout, insecure)
		},
	}
	cmd.Flags().StringVar(&url, "url", "", "URL to GET (default: /readyz of the local server, see above)")
	cmd.Flags().StringVar(&configPath, "config-path", "", "the config file qlite serve was given, if any")
	cmd.Flags().DurationVar(&timeout, "timeout", 5*time.Second, "give up after this long")
	return cmd
}

// healthcheckURL is the /readyz URL of the server qlite serve starts in
// dir with the config file configPath and the environment environ, and
// whether it is https.
func healthcheckURL(dir, configPath string, environ []string) (url string, tlsOn bool, err error) {
	flags := newServeCmd().Flags()
	if _, err := loadConfig(flags, dir, configPath, environ); err != nil {
		return "", false, err
	}
	host, _ := flags.GetString("host")
	port, _ := flags.GetInt("http-port")
	tlsOn, _ = flags.GetBool("enable-tls")
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	scheme := "http"
	if tlsOn {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(strings.Trim(host, "[]"), strconv.Itoa(port)) + "/readyz", tlsOn, nil
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
