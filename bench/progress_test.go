package bench

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

func TestProgressNotShown(t *testing.T) {
	if p := startProgress(nil, "x", 10, nil); p != nil {
		t.Fatalf("startProgress on a nil writer = %v, want nil", p)
	}
	var buf bytes.Buffer
	if p := startProgress(&buf, "x", 0, nil); p != nil {
		t.Fatalf("startProgress of 0 steps = %v, want nil", p)
	}
	var p *progress
	p.Add(3)
	p.Logf(&buf, "line %d", 1)
	p.Stop()
	if got := buf.String(); got != "line 1\n" {
		t.Fatalf("a nil progress wrote %q, want only the line", got)
	}
}

func TestProgressDrawsAndErases(t *testing.T) {
	var out bytes.Buffer
	p := startProgress(&out, "upload", 100, nil)
	p.Add(40)
	deadline := time.Now().Add(5 * time.Second)
	for {
		p.mu.Lock()
		drawn := strings.Contains(out.String(), "40/100")
		p.mu.Unlock()
		if drawn {
			break
		}
		if time.Now().After(deadline) {
			p.Stop()
			t.Fatalf("the bar never showed 40/100:\n%q", out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	p.Logf(&out, "upload: %d points", 40)
	p.Stop()
	p.Stop()

	got := out.String()
	if !strings.Contains(got, "upload") || !strings.Contains(got, "0/100") {
		t.Errorf("no bar labelled upload drawn at 0/100:\n%q", got)
	}
	// The log line starts on an erased line and the bar is erased at the
	// end: a carriage return precedes the line and ends the output.
	i := strings.Index(got, "upload: 40 points\n")
	if i < 1 || got[i-1] != '\r' {
		t.Errorf("the log line does not follow an erased bar:\n%q", got)
	}
	if !strings.HasSuffix(got, "\r") || strings.TrimSpace(got[strings.LastIndex(got[:len(got)-1], "\r"):]) != "" {
		t.Errorf("the bar is not erased at Stop:\n%q", got)
	}
}

func TestProgressSteppedByCount(t *testing.T) {
	var out bytes.Buffer
	n := 7
	p := startProgress(&out, "build", 10, func() int { return n })
	time.Sleep(3 * progressInterval)
	p.Stop()
	if !strings.Contains(out.String(), "7/10") {
		t.Errorf("the bar did not follow its count to 7/10:\n%q", out.String())
	}
}

// TestRunProgress checks that Config.Progress gets the bars of the upload
// and of each ef of the sweep, and that Log gets its lines free of them.
func TestRunProgress(t *testing.T) {
	for _, target := range []string{"hnsw", "embedded"} {
		t.Run(target, func(t *testing.T) {
			c := smallConfig(t, target)
			c.Points, c.Repeat, c.Threads = 600, 1, 2
			var bars, log bytes.Buffer
			c.Progress, c.Log = &bars, &log
			if _, err := Run(context.Background(), c); err != nil {
				t.Fatal(err)
			}
			want := []string{"search ef=16", "search ef=64"}
			if target == "embedded" {
				want = append(want, "upload")
			} else {
				want = append(want, "build")
			}
			for _, w := range want {
				if !strings.Contains(bars.String(), w+" ") {
					t.Errorf("no %q bar in:\n%q", w, bars.String())
				}
			}
			if strings.Contains(log.String(), "\r") {
				t.Errorf("the log has bar output:\n%s", log.String())
			}
			if !strings.Contains(log.String(), "search ef=64: recall@10") {
				t.Errorf("the log lacks the sweep lines:\n%s", log.String())
			}
		})
	}
}
