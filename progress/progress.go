// Package progress reports the advance of long-running work on stderr.
//
// On a terminal it draws live bars (count, rate, ETA) with mpb. When the
// stream is not a terminal (CI, logs, pipes) it prints one plain line every
// few seconds and a final line, so logs are neither flooded with redraws nor
// silent for minutes. Progress never goes to stdout, which stays for
// machine-readable output.
package progress

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"
)

// Options configure a Reporter.
type Options struct {
	// Quiet suppresses all output.
	Quiet bool
	// Interval between plain lines when the writer is not a terminal
	// (default 5s).
	Interval time.Duration
	// ForcePlain uses plain lines even on a terminal (tests).
	ForcePlain bool
}

// Reporter creates tasks that report to one writer.
type Reporter struct {
	w     io.Writer
	opts  Options
	tty   bool
	mu    sync.Mutex
	mpb   *mpb.Progress
	nowFn func() time.Time
}

// New returns a Reporter writing to w (normally os.Stderr).
func New(w io.Writer, opts Options) *Reporter {
	if opts.Interval <= 0 {
		opts.Interval = 5 * time.Second
	}
	r := &Reporter{w: w, opts: opts, nowFn: time.Now}
	if f, ok := w.(*os.File); ok && !opts.ForcePlain && term.IsTerminal(int(f.Fd())) {
		width, _, err := term.GetSize(int(f.Fd()))
		r.tty = barsFit(width, err)
	}
	return r
}

// barsFit says whether live bars can be drawn on a terminal of the given
// width. Some terminals (serial consoles, a few CI pseudo-terminals) report
// 0 columns, where the bars render as nothing at all; plain lines are
// better than silence.
func barsFit(width int, err error) bool {
	return err == nil && width > 0
}

// Task is one unit of work with a known (or unknown, total <= 0) size.
type Task struct {
	r       *Reporter
	label   string
	unit    string
	total   int64
	mu      sync.Mutex
	done    int64
	status  string
	start   time.Time
	last    time.Time
	bar     *mpb.Bar
	stopped bool
}

// Start begins a task. unit names what is counted ("images", "batches").
func (r *Reporter) Start(label string, total int64, unit string) *Task {
	t := &Task{r: r, label: label, unit: unit, total: total, start: r.nowFn()}
	t.last = t.start
	if r.opts.Quiet || r.w == nil {
		return t
	}
	if r.tty {
		r.mu.Lock()
		if r.mpb == nil {
			r.mpb = mpb.New(mpb.WithOutput(r.w), mpb.WithRefreshRate(150*time.Millisecond))
		}
		p := r.mpb
		r.mu.Unlock()
		t.bar = p.AddBar(max(total, 0),
			mpb.PrependDecorators(decor.Name(label+" ", decor.WCSyncSpaceR), decor.CountersNoUnit("%d/%d", decor.WCSyncSpace)),
			mpb.AppendDecorators(
				decor.AverageSpeed(0, "%.0f "+unit+"/s", decor.WCSyncSpace),
				decor.Name(" ETA "), decor.AverageETA(decor.ET_STYLE_GO),
				decor.Any(func(decor.Statistics) string { return t.Status() }, decor.WCSyncSpace),
			),
		)
	}
	return t
}

// Add records n more units done.
func (t *Task) Add(n int64) {
	t.mu.Lock()
	t.done += n
	now := t.r.nowFn()
	emit := t.bar == nil && !t.r.opts.Quiet && t.r.w != nil && now.Sub(t.last) >= t.r.opts.Interval
	if emit {
		t.last = now
	}
	line := ""
	if emit {
		line = t.lineLocked(now)
	}
	t.mu.Unlock()
	if t.bar != nil {
		t.bar.IncrInt64(n)
	}
	if emit {
		fmt.Fprintln(t.r.w, line)
	}
}

// SetStatus attaches a short status (e.g. "loss 0.21 acc 93.1%") shown with the bar.
func (t *Task) SetStatus(s string) {
	t.mu.Lock()
	t.status = s
	t.mu.Unlock()
}

// Status returns the current status text.
func (t *Task) Status() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.status
}

// Done finishes the task and prints a final line (plain mode) or completes the bar.
func (t *Task) Done() {
	t.mu.Lock()
	if t.stopped {
		t.mu.Unlock()
		return
	}
	t.stopped = true
	line := t.lineLocked(t.r.nowFn())
	t.mu.Unlock()
	if t.r.opts.Quiet || t.r.w == nil {
		return
	}
	if t.bar != nil {
		if t.total <= 0 {
			t.bar.SetTotal(-1, true)
		} else {
			t.bar.SetTotal(t.bar.Current(), true)
		}
		t.bar.Wait()
		return
	}
	fmt.Fprintln(t.r.w, line+" done")
}

func (t *Task) lineLocked(now time.Time) string {
	el := now.Sub(t.start).Seconds()
	rate := 0.0
	if el > 0 {
		rate = float64(t.done) / el
	}
	s := fmt.Sprintf("%s: %d", t.label, t.done)
	if t.total > 0 {
		s += fmt.Sprintf("/%d (%.0f%%)", t.total, 100*float64(t.done)/float64(t.total))
	}
	s += fmt.Sprintf(" %s, %.0f %s/s, %.0fs elapsed", t.unit, rate, t.unit, el)
	if t.total > 0 && rate > 0 && t.done < t.total {
		s += fmt.Sprintf(", ETA %.0fs", float64(t.total-t.done)/rate)
	}
	if t.status != "" {
		s += ", " + t.status
	}
	return s
}

// Wait flushes the terminal renderer; call once when all tasks are done.
func (r *Reporter) Wait() {
	r.mu.Lock()
	p := r.mpb
	r.mpb = nil
	r.mu.Unlock()
	if p != nil {
		p.Wait()
	}
}
