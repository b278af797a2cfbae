package bench

import (
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/schollz/progressbar/v3"
)

// progressInterval is how often a bar is redrawn.
const progressInterval = 100 * time.Millisecond

// A progress is one progress bar on Config.Progress: a count of steps out of
// a total, redrawn every progressInterval by its own goroutine, so that the
// measured loops only pay for an atomic add per step. A nil *progress is a
// bar that is not shown; all its methods are no-ops.
type progress struct {
	count func() int   // the steps done; nil: done
	done  atomic.Int64 // steps counted with Add, when count is nil

	// mu serializes writes to the terminal: redraws, and lines logged
	// while the bar is shown. It guards bar.
	mu  sync.Mutex
	bar *progressbar.ProgressBar

	stopOnce sync.Once
	stopc    chan struct{} // closed by Stop
	donec    chan struct{} // closed when the redraw goroutine returns
}

// startProgress shows a bar labelled desc of total steps on w, drawn at once
// and then every progressInterval until Stop.
// The steps done are read from count, or counted with Add when count is
// nil. It returns nil, a bar that is not shown, when w is nil or total is
// not positive.
func startProgress(w io.Writer, desc string, total int, count func() int) *progress {
	if w == nil || total <= 0 {
		return nil
	}
	p := &progress{
		count: count,
		bar: progressbar.NewOptions(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionSetDescription(desc),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionClearOnFinish(),
			progressbar.OptionSetRenderBlankState(true),
		),
		stopc: make(chan struct{}),
		donec: make(chan struct{}),
	}
	go p.redraw()
	return p
}

// Add counts n more steps.
func (p *progress) Add(n int) {
	if p != nil {
		p.done.Add(int64(n))
	}
}

func (p *progress) steps() int {
	if p.count != nil {
		return p.count()
	}
	return int(p.done.Load())
}

func (p *progress) redraw() {
	defer close(p.donec)
	t := time.NewTicker(progressInterval)
	defer t.Stop()
	for {
		select {
		case <-p.stopc:
			return
		case <-t.C:
			p.mu.Lock()
			p.bar.Set(min(p.steps(), p.bar.GetMax()))
			p.mu.Unlock()
		}
	}
}

// Logf writes a line to w, erasing the bar first so that the line does not
// run into it; the next redraw brings the bar back below the line. On a nil
// progress it only writes the line.
func (p *progress) Logf(w io.Writer, format string, args ...any) {
	if p == nil {
		fmt.Fprintf(w, format+"\n", args...)
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.bar.Clear()
	fmt.Fprintf(w, format+"\n", args...)
}

// Stop stops the redraws and erases the bar, leaving the cursor at the
// start of an empty line. Calling it again does nothing.
func (p *progress) Stop() {
	if p == nil {
		return
	}
	p.stopOnce.Do(func() {
		close(p.stopc)
		<-p.donec
		p.mu.Lock()
		defer p.mu.Unlock()
		p.bar.Clear()
		p.bar.Exit()
	})
}
