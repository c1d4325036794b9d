package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/report"
)

// TestMain lets a test run qbench as a child process (QBENCH_TEST_MAIN=1),
// so it can be killed mid-run.
func TestMain(m *testing.M) {
	if os.Getenv("QBENCH_TEST_MAIN") == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := execute(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

// manyImages writes n 2x2 PNGs into each of the compare fixture's two
// class folders, so a comparison runs long enough to be interrupted.
func manyImages(t *testing.T, data string, n int) {
	t.Helper()
	for c, name := range []string{"0dark", "1bright"} {
		for i := range n {
			img := image.NewRGBA(image.Rect(0, 0, 2, 2))
			v := uint8(i%100 + 120*c)
			for p := range 4 {
				img.Set(p%2, p/2, color.RGBA{v, v, v, 255})
			}
			var buf bytes.Buffer
			_ = png.Encode(&buf, img)
			if err := os.WriteFile(filepath.Join(data, name, fmt.Sprintf("m%05d.png", i)), buf.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// checkReportFolder fails unless dir is absent or one complete report of
// one run: the report files all present, nothing else, and outputs.bin
// sized for the samples and models report.json names. It returns the
// number of samples (0 when absent).
func checkReportFolder(t *testing.T, dir string) int {
	t.Helper()
	es, err := os.ReadDir(dir)
	if os.IsNotExist(err) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	sort.Strings(got)
	want := []string{compare.OutputsFile, report.FilePredictions, report.FileHTML, report.FileJSON, report.FileMarkdown}
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("report folder holds %v, want %v", got, want)
	}
	js, err := os.ReadFile(filepath.Join(dir, report.FileJSON))
	if err != nil {
		t.Fatal(err)
	}
	var r struct {
		Classes []string
		Splits  []struct {
			N, Skipped int
			Models     []struct{ Name string }
		}
	}
	if err := json.Unmarshal(js, &r); err != nil {
		t.Fatalf("report.json: %v", err)
	}
	st, err := os.Stat(filepath.Join(dir, compare.OutputsFile))
	if err != nil {
		t.Fatal(err)
	}
	s := r.Splits[0]
	if want := int64(s.N+s.Skipped) * int64(len(s.Models)) * int64(len(r.Classes)) * 4; st.Size() != want {
		t.Fatalf("outputs.bin has %d bytes, report.json's run (%d samples, %d models) wrote %d: two runs mixed",
			st.Size(), s.N+s.Skipped, len(s.Models), want)
	}
	csv, err := os.ReadFile(filepath.Join(dir, report.FilePredictions))
	if err != nil {
		t.Fatal(err)
	}
	if rows := bytes.Count(csv, []byte("\n")) - 1; rows != s.N*len(s.Models) {
		t.Fatalf("predictions.csv has %d rows, report.json's run %d", rows, s.N*len(s.Models))
	}
	return s.N
}

// A compare run killed (SIGKILL) or interrupted (SIGINT) at any moment
// leaves the previous complete report or, once finished, the new one —
// never the old report.json beside a new, partly written outputs.bin.
func TestCompareInterruptedKeepsOneReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs qbench as child processes")
	}
	data, a, b := writeCompareFixture(t)
	manyImages(t, data, 1500)
	out := filepath.Join(t.TempDir(), "rep")
	// The previous run: two models, 100 samples.
	code, _, stderr := run(t, "compare", "-q", "--model", a, "--model", b, "--data", data, "--out", out, "--samples", "100")
	if code != 0 {
		t.Fatalf("first run: exit %d: %s", code, stderr)
	}
	first := checkReportFolder(t, out)
	if first == 0 || first >= 3012 {
		t.Fatalf("first run has %d samples", first)
	}
	// The interrupted runs: three models over every image.
	old, finished := 0, 0
	for i, delay := range []time.Duration{30, 80, 150, 250, 400, 600, 900, 1300} {
		cmd := exec.Command(os.Args[0], "compare", "-q", "--threads", "1", "--model", a, "--model", b, "--model", a,
			"--name", "x", "--name", "y", "--name", "z", "--data", data, "--out", out)
		cmd.Env = append(os.Environ(), "QBENCH_TEST_MAIN=1")
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		time.Sleep(delay * time.Millisecond)
		sig := syscall.SIGKILL
		if i%2 == 1 {
			sig = syscall.SIGINT
		}
		_ = cmd.Process.Signal(sig)
		_ = cmd.Wait()
		switch n := checkReportFolder(t, out); n {
		case first:
			old++
		case 3012:
			finished++
		default:
			t.Fatalf("after %v at %v: report of %d samples", sig, delay, n)
		}
	}
	t.Logf("%d interruptions left the previous report, %d came after the new one was in place", old, finished)
	if old == 0 {
		t.Errorf("no interruption landed mid-run; the test did not test anything")
	}
}
