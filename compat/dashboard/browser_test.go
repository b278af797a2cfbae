package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"github.com/qlite/qlite/compat"
)

// chromium finds a Chromium or Chrome binary: $QLITE_CHROMIUM, else the
// usual names on the PATH.
func chromium() string {
	if p := os.Getenv("QLITE_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "headless-shell"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// screenshotDir is where the browser test keeps its screenshots:
// $QLITE_ARTIFACTS/dashboard-screenshots, else build/dashboard-screenshots
// at the repository's root.
func screenshotDir(t *testing.T) string {
	dir := filepath.Join("..", "..", "build", "dashboard-screenshots")
	if a := os.Getenv("QLITE_ARTIFACTS"); a != "" {
		dir = filepath.Join(a, "dashboard-screenshots")
	}
	require.NoError(t, os.MkdirAll(dir, 0o755))
	abs, err := filepath.Abs(dir)
	require.NoError(t, err)
	return abs
}

// browserFixture is a qlite server with an API key and a collection of
// points in three clusters, one colour each (the payload's "color").
type browserFixture struct {
	url, key string
	vecs     map[int][]float32
}

const browserDim = 8

func newBrowserFixture(t *testing.T) *browserFixture {
	t.Helper()
	f := &browserFixture{key: "dashboard-test-key", vecs: map[int][]float32{}}
	f.url = serve(t, compat.ServerConfig{APIKey: f.key})

	f.call(t, "PUT", "/collections/docs", `{"vectors": {"size": 8, "distance": "Cosine"}}`)
	rng := rand.New(rand.NewPCG(7, 9))
	colors := []string{"red", "green", "blue"}
	var pts []map[string]any
	for i := range 150 {
		c := i % 3
		v := make([]float32, browserDim)
		for j := range v {
			v[j] = float32(rng.NormFloat64() * 0.2)
		}
		v[c] += 3 // a cluster per colour
		f.vecs[i] = v
		pts = append(pts, map[string]any{"id": i, "vector": v, "payload": map[string]any{"color": colors[c], "n": i}})
	}
	body, err := json.Marshal(map[string]any{"points": pts})
	require.NoError(t, err)
	f.call(t, "PUT", "/collections/docs/points?wait=true", string(body))
	return f
}

// call sends an API request with the key and requires a 200.
func (f *browserFixture) call(t *testing.T, method, path, body string) []byte {
	t.Helper()
	req, err := http.NewRequest(method, f.url+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("api-key", f.key)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "%s %s: %s", method, path, b)
	return b
}

// nearest is the brute-force cosine top k of q among the fixture's points.
func (f *browserFixture) nearest(q []float32, k int) []string {
	type hit struct {
		id    int
		score float64
	}
	var hits []hit
	for id, v := range f.vecs {
		var dot, nq, nv float64
		for j := range v {
			dot += float64(q[j]) * float64(v[j])
			nq += float64(q[j]) * float64(q[j])
			nv += float64(v[j]) * float64(v[j])
		}
		hits = append(hits, hit{id, dot / math.Sqrt(nq*nv)})
	}
	slices.SortFunc(hits, func(a, b hit) int {
		if a.score != b.score {
			if a.score > b.score {
				return -1
			}
			return 1
		}
		return a.id - b.id
	})
	var ids []string
	for _, h := range hits[:k] {
		ids = append(ids, fmt.Sprint(h.id))
	}
	return ids
}

// console gathers the page's console errors and uncaught exceptions.
type console struct {
	mu sync.Mutex
	// expected is the HTTP status of the failed loads the test provokes
	// at the moment (the browser logs each as an error): 401 before the
	// key is entered, 400 for a bad query; "" for none.
	expected string
	bad      []string
}

func (c *console) watch(ctx context.Context) {
	for m, err := range chromedp.Console(ctx) {
		if err != nil {
			return
		}
		if m.Type != chromedp.ConsoleError && !m.IsException() {
			continue
		}
		c.mu.Lock()
		if c.expected == "" || m.Source != "network" || !strings.Contains(m.Text, "status of "+c.expected+" ") {
			c.bad = append(c.bad, m.String()+" at "+m.URL)
		}
		c.mu.Unlock()
	}
}

// expect sets the status of the failed loads now expected.
func (c *console) expect(status string) {
	c.mu.Lock()
	c.expected = status
	c.mu.Unlock()
}

func (c *console) check(t *testing.T) {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	require.Empty(t, c.bad, "console errors or uncaught exceptions")
}

// TestBrowser drives the UI in a headless Chromium: the key prompt, the
// collections list and info, the point browser with a filter and
// pagination, the query console, the projection and the metrics. It fails
// on any console error or uncaught exception, and keeps a screenshot of
// each view.
func TestBrowser(t *testing.T) {
	bin := chromium()
	if bin == "" {
		t.Skip("no Chromium binary (install Debian's chromium, or set QLITE_CHROMIUM): the web UI is not tested in a browser")
	}
	f := newBrowserFixture(t)
	shots := screenshotDir(t)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.WindowSize(1280, 1000))
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run its sandbox as root
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancelCtx := chromedp.NewContext(actx)
	defer cancelCtx()
	// Start the browser (without a timeout, which would stop it), then
	// bound the test.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate("about:blank")))
	cons := console{expected: "401"}
	go cons.watch(ctx)
	tctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		require.NoError(t, chromedp.Do(tctx, actions...), step)
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Text(chromedp.CSS(sel)))
		require.NoError(t, err, sel)
		return s
	}
	eval := func(js string, out any) {
		t.Helper()
		b, err := chromedp.Run(tctx, chromedp.Evaluate[[]byte](js, chromedp.EvalAwaitPromise))
		require.NoError(t, err, js)
		if out != nil {
			require.NoError(t, json.Unmarshal(b, out), "%s", b)
		}
	}
	shot := func(name string) {
		t.Helper()
		png, err := chromedp.Run(tctx, chromedp.FullScreenshot(100))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644))
	}

	// Without a key the API refuses the UI, which asks for the key.
	do("open", chromedp.Navigate(f.url+"/dashboard"), chromedp.WaitVisible(chromedp.ID("key-input")))
	require.Contains(t, text("#key-reason"), "API key")
	shot("0-key-prompt")
	cons.expect("")
	do("enter the key", chromedp.SendKeys(chromedp.ID("key-input"), f.key), chromedp.Click(chromedp.ID("key-save")),
		chromedp.WaitVisible(chromedp.CSS("a.collection-link")))
	var stored string
	eval(`localStorage.getItem("qlite.apiKey")`, &stored)
	require.Equal(t, f.key, stored)
	require.Equal(t, "docs", text("a.collection-link"))
	require.Contains(t, text("table"), "150")
	shot("1-collections")

	// The collection's information.
	do("info", chromedp.Click(chromedp.CSS("a.collection-link")), chromedp.WaitVisible(chromedp.ID("collection-cards")))
	cards := text("#collection-cards")
	require.Contains(t, cards, "150")
	require.Contains(t, cards, "green")
	require.Contains(t, text("#collection-config"), `"distance": "Cosine"`)
	shot("2-info")

	// The point browser: two pages, then a filter.
	do("points", chromedp.Click(chromedp.CSS(`a[data-tab="points"]`)), chromedp.WaitVisible(chromedp.ID("points-table")))
	var rows int
	eval(`document.querySelectorAll("#points-table .point-row").length`, &rows)
	require.Equal(t, 20, rows)
	require.Contains(t, text("#points-page"), "Page 1, 20 points")
	first := text("#points-table .point-row td")
	do("next page", chromedp.Click(chromedp.ID("points-next")),
		chromedp.Poll[chromedp.Void](`document.getElementById("points-page").textContent.startsWith("Page 2")`))
	require.NotEqual(t, first, text("#points-table .point-row td"), "the second page shows other points")
	do("filter", chromedp.SetValue(chromedp.ID("points-filter"), `{"must": [{"key": "color", "match": {"value": "blue"}}]}`),
		chromedp.SetValue(chromedp.ID("points-limit"), "100"), chromedp.Click(chromedp.ID("points-load")),
		chromedp.Poll[chromedp.Void](`document.getElementById("points-page").textContent.includes("50 points")`))
	var payloads []string
	eval(`[...document.querySelectorAll("#points-table .point-row td:nth-child(2)")].map(td => td.textContent)`, &payloads)
	require.Len(t, payloads, 50)
	for _, p := range payloads {
		require.Contains(t, p, `"color":"blue"`)
	}
	require.Contains(t, text("#points-page"), "last page")
	shot("3-points")

	// The query console: the page's results are the brute-force top 5,
	// with the plan of an exact search.
	q := f.vecs[7]
	qjs, err := json.Marshal(map[string]any{"query": q, "limit": 5, "with_payload": true, "params": map[string]any{"exact": true}})
	require.NoError(t, err)
	do("query", chromedp.Click(chromedp.CSS(`a[data-tab="query"]`)),
		chromedp.Poll[chromedp.Void](`document.getElementById("query-input") && document.getElementById("query-input").value.includes("query")`),
		chromedp.SetValue(chromedp.ID("query-input"), string(qjs)), chromedp.Click(chromedp.ID("query-run")),
		chromedp.WaitVisible(chromedp.ID("query-results")))
	var ids []string
	eval(`[...document.querySelectorAll("#query-results .result-row td:nth-child(2)")].map(td => td.textContent)`, &ids)
	require.Equal(t, f.nearest(q, 5), ids)
	plan := text("#query-plan")
	require.Contains(t, plan, "exact")
	require.Contains(t, plan, "150", "an exact search scores every point")
	require.Contains(t, text("#query-timing"), "5 results")
	// A bad query shows the server's message.
	cons.expect("400")
	do("bad query", chromedp.SetValue(chromedp.ID("query-input"), `{"query": [1, 2], "limit": 5}`), chromedp.Click(chromedp.ID("query-run")),
		chromedp.Poll[chromedp.Void](`document.querySelector("#query-out .error") !== null`))
	require.Contains(t, text("#query-out .error"), "dimension")
	cons.expect("")
	do("query again", chromedp.SetValue(chromedp.ID("query-input"), string(qjs)), chromedp.Click(chromedp.ID("query-run")),
		chromedp.WaitVisible(chromedp.ID("query-results")))
	shot("4-query")

	// The projection: every point drawn, coloured by a payload key.
	do("projection", chromedp.Click(chromedp.CSS(`a[data-tab="projection"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#projection-canvas[data-points]`)))
	var drawn string
	eval(`document.getElementById("projection-canvas").dataset.points`, &drawn)
	require.Equal(t, "150", drawn)
	eval(`(() => { const s = document.getElementById("projection-key"); s.value = "color"; s.dispatchEvent(new Event("change")); return true; })()`, nil)
	var legend []string
	eval(`[...document.querySelectorAll("#projection-legend > span")].map(s => s.textContent)`, &legend)
	slices.Sort(legend)
	require.Equal(t, []string{"blue (50)", "green (50)", "red (50)"}, legend)
	shot("5-projection")
	checkPCA(t, eval)

	// The metrics: the figures of the requests above.
	do("metrics", chromedp.Click(chromedp.CSS(`a[data-nav="metrics"]`)), chromedp.WaitVisible(chromedp.ID("metrics-cards")))
	require.Contains(t, text("#metrics-cards"), "Collections\n1")
	require.Contains(t, text("table"), "/collections/{collection_name}/points/query")
	shot("6-metrics")

	cons.check(t)
	t.Logf("screenshots in %s", shots)
}

// checkPCA runs the UI's pca2 in the page on points that lie in a plane,
// and compares its variances with the eigenvalues of the 2×2 covariance of
// the points' coordinates in that plane, and its components with the plane.
func checkPCA(t *testing.T, eval func(string, any)) {
	t.Helper()
	const n, d = 300, 12
	rng := rand.New(rand.NewPCG(3, 4))
	// An orthonormal pair u, w.
	u, w := make([]float64, d), make([]float64, d)
	for j := range d {
		u[j], w[j] = rng.NormFloat64(), rng.NormFloat64()
	}
	unit := func(v []float64) {
		var s float64
		for _, x := range v {
			s += x * x
		}
		for j := range v {
			v[j] /= math.Sqrt(s)
		}
	}
	unit(u)
	var dot float64
	for j := range d {
		dot += u[j] * w[j]
	}
	for j := range d {
		w[j] -= dot * u[j]
	}
	unit(w)
	rows := make([][]float64, n)
	a, b := make([]float64, n), make([]float64, n)
	for i := range rows {
		a[i], b[i] = 4*rng.NormFloat64()+1, 1.5*rng.NormFloat64()+a[i]*0.3
		rows[i] = make([]float64, d)
		for j := range d {
			rows[i][j] = a[i]*u[j] + b[i]*w[j] + 2 // an offset the centring removes
		}
	}
	// The covariance of (a, b) and its eigenvalues.
	mean := func(x []float64) float64 {
		var s float64
		for _, v := range x {
			s += v
		}
		return s / float64(len(x))
	}
	ma, mb := mean(a), mean(b)
	var caa, cbb, cab float64
	for i := range n {
		caa += (a[i] - ma) * (a[i] - ma)
		cbb += (b[i] - mb) * (b[i] - mb)
		cab += (a[i] - ma) * (b[i] - mb)
	}
	caa, cbb, cab = caa/(n-1), cbb/(n-1), cab/(n-1)
	tr, det := caa+cbb, caa*cbb-cab*cab
	disc := math.Sqrt(tr*tr/4 - det)
	want := []float64{tr/2 + disc, tr/2 - disc}

	in, err := json.Marshal(rows)
	require.NoError(t, err)
	var got struct {
		Variances  []float64   `json:"variances"`
		Total      float64     `json:"total"`
		Components [][]float64 `json:"components"`
	}
	eval(`import("/dashboard/pca.js").then(m => m.pca2(`+string(in)+`))`, &got)
	require.InEpsilonSlice(t, want, got.Variances, 1e-6)
	require.InEpsilon(t, tr, got.Total, 1e-9)
	for _, c := range got.Components {
		var cu, cw, norm float64
		for j := range d {
			cu += c[j] * u[j]
			cw += c[j] * w[j]
			norm += c[j] * c[j]
		}
		require.InDelta(t, 1, norm, 1e-9, "a unit component")
		require.InDelta(t, 1, cu*cu+cw*cw, 1e-6, "a component in the plane")
	}
	var cross float64
	for j := range d {
		cross += got.Components[0][j] * got.Components[1][j]
	}
	require.InDelta(t, 0, cross, 1e-6, "orthogonal components")
}
