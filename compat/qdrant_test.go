package compat

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// qdrantServer is a real Qdrant server started for the tests: the oracle of
// the differential tests. One is started per test binary, on first use,
// and stopped by TestMain.
type qdrantServer struct {
	cmd        *exec.Cmd
	dir        string
	snapshots  string
	httpAddr   string
	grpcAddr   string
	logPath    string
	startErr   error
	skipReason string
}

var (
	qdrantOnce sync.Once
	qdrantSrv  qdrantServer
)

// realQdrant returns the shared Qdrant server, starting it on first use
// from the binary QDRANT_BIN names. It skips the test, saying why, when
// QDRANT_BIN is unset, and fails it when the server does not start.
func realQdrant(t testing.TB) *qdrantServer {
	t.Helper()
	qdrantOnce.Do(func() { qdrantSrv.start() })
	if qdrantSrv.skipReason != "" {
		t.Skip(qdrantSrv.skipReason)
	}
	if qdrantSrv.startErr != nil {
		t.Fatalf("starting Qdrant: %v", qdrantSrv.startErr)
	}
	return &qdrantSrv
}

// freePort returns a loopback port that was free a moment ago. Qdrant
// cannot be told to pick its own, so the test picks one and closes it.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func (q *qdrantServer) start() {
	bin := os.Getenv("QDRANT_BIN")
	if bin == "" {
		q.skipReason = "QDRANT_BIN is unset: no real Qdrant server to compare with (.ci/run sets it from ../shared/tools/qdrant-1.17.1/install.sh)"
		return
	}
	dir, err := os.MkdirTemp("", "qlite-qdrant-oracle-")
	if err != nil {
		q.startErr = err
		return
	}
	q.dir = dir
	q.snapshots = filepath.Join(dir, "snapshots")
	for attempt := 0; attempt < 3; attempt++ {
		if q.startErr = q.launch(bin); q.startErr == nil {
			return
		}
	}
}

// launch starts Qdrant with its compiled-in defaults (no config file, as
// its container image runs), on two free loopback ports, telemetry off,
// and waits for /readyz.
func (q *qdrantServer) launch(bin string) error {
	hp, err := freePort()
	if err != nil {
		return err
	}
	gp, err := freePort()
	if err != nil {
		return err
	}
	if gp == hp {
		return fmt.Errorf("the same free port twice")
	}
	storage := filepath.Join(q.dir, "storage")
	run := filepath.Join(q.dir, "run")
	for _, d := range []string{storage, run, q.snapshots} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	q.logPath = filepath.Join(run, "qdrant.log")
	logf, err := os.Create(q.logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.Command(bin, "--disable-telemetry")
	cmd.Dir = run
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Env = append(os.Environ(),
		"RUN_MODE=production",
		"QDRANT__SERVICE__HOST=127.0.0.1",
		"QDRANT__SERVICE__HTTP_PORT="+strconv.Itoa(hp),
		"QDRANT__SERVICE__GRPC_PORT="+strconv.Itoa(gp),
		"QDRANT__STORAGE__STORAGE_PATH="+storage,
		"QDRANT__STORAGE__SNAPSHOTS_PATH="+q.snapshots,
		"QDRANT__TELEMETRY_DISABLED=true",
	)
	if err := cmd.Start(); err != nil {
		return err
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	q.httpAddr = fmt.Sprintf("127.0.0.1:%d", hp)
	q.grpcAddr = fmt.Sprintf("127.0.0.1:%d", gp)
	deadline := time.Now().Add(60 * time.Second)
	for {
		resp, err := http.Get("http://" + q.httpAddr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				q.cmd = cmd
				return nil
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(q.logPath)
			return fmt.Errorf("qdrant exited: %s", lastBytes(log, 2000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-exited
			log, _ := os.ReadFile(q.logPath)
			return fmt.Errorf("qdrant not ready after 60s: %s", lastBytes(log, 2000))
		}
	}
}

func lastBytes(b []byte, n int) []byte {
	if len(b) > n {
		return b[len(b)-n:]
	}
	return b
}

// stop kills the server and removes its directory.
func (q *qdrantServer) stop() {
	if q.cmd != nil {
		q.cmd.Process.Kill()
		q.cmd.Process.Wait()
	}
	if q.dir != "" {
		os.RemoveAll(q.dir)
	}
}

// reset deletes every collection and alias, and every full snapshot, so
// that a scenario starts from an empty server.
func (q *qdrantServer) reset() error {
	return resetServer("http://" + q.httpAddr)
}

// resetServer deletes every collection (and so every alias) of a server.
func resetServer(base string) error {
	var list struct {
		Result struct {
			Collections []struct{ Name string } `json:"collections"`
		} `json:"result"`
	}
	if err := getJSON(base+"/collections", &list); err != nil {
		return err
	}
	for _, c := range list.Result.Collections {
		req, err := http.NewRequest(http.MethodDelete, base+"/collections/"+url.PathEscape(c.Name), nil)
		if err != nil {
			return err
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
	}
	return nil
}

func getJSON(u string, v any) error {
	resp, err := http.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		return err
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %d %s", u, resp.StatusCode, buf.Bytes())
	}
	return json.Unmarshal(buf.Bytes(), v)
}
