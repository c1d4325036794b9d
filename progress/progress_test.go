package progress

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"
)

// fakeClock advances only when told, so the plain-line throttle is tested
// without sleeping.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time { return c.t }

func newPlain(buf *bytes.Buffer, quiet bool) (*Reporter, *fakeClock) {
	r := New(buf, Options{Quiet: quiet, Interval: 5 * time.Second, ForcePlain: true})
	c := &fakeClock{t: time.Unix(1000, 0)}
	r.nowFn = c.now
	return r, c
}

func TestPlainLinesAreThrottled(t *testing.T) {
	var buf bytes.Buffer
	r, clk := newPlain(&buf, false)
	task := r.Start("train", 100, "images")
	for i := 0; i < 100; i++ {
		clk.t = clk.t.Add(200 * time.Millisecond) // 20 s in all
		task.Add(1)
	}
	task.SetStatus("loss 0.5")
	task.Done()
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	// One line per 5 s of work (4) plus the final line: never one per Add.
	if len(lines) != 5 {
		t.Fatalf("got %d lines, want 5:\n%s", len(lines), buf.String())
	}
	if !strings.HasPrefix(lines[0], "train: 25/100 (25%) images, 5 images/s, 5s elapsed, ETA 15s") {
		t.Errorf("first line = %q", lines[0])
	}
	last := lines[len(lines)-1]
	if !strings.Contains(last, "100/100 (100%)") || !strings.Contains(last, "loss 0.5") || !strings.HasSuffix(last, "done") {
		t.Errorf("final line = %q", last)
	}
	task.Done() // idempotent
	if n := strings.Count(buf.String(), "done"); n != 1 {
		t.Errorf("Done printed %d final lines", n)
	}
}

func TestQuietPrintsNothing(t *testing.T) {
	var buf bytes.Buffer
	r, clk := newPlain(&buf, true)
	task := r.Start("x", 0, "items")
	for i := 0; i < 10; i++ {
		clk.t = clk.t.Add(10 * time.Second)
		task.Add(5)
	}
	task.Done()
	r.Wait()
	if buf.Len() != 0 {
		t.Errorf("quiet reporter wrote %q", buf.String())
	}
}

func TestUnknownTotal(t *testing.T) {
	var buf bytes.Buffer
	r, clk := newPlain(&buf, false)
	task := r.Start("scan", 0, "files")
	clk.t = clk.t.Add(6 * time.Second)
	task.Add(12)
	if got := strings.TrimSpace(buf.String()); got != "scan: 12 files, 2 files/s, 6s elapsed" {
		t.Errorf("line = %q", got)
	}
}

func TestBarsNeedColumns(t *testing.T) {
	if barsFit(0, nil) || barsFit(80, errors.New("no size")) || !barsFit(80, nil) {
		t.Error("a terminal reporting 0 columns (or no size) must fall back to plain lines")
	}
}
