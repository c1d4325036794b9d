package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/internal/testshared"
)

// sharedData finds ../shared (see package testshared) or skips the test.
func sharedData(t *testing.T) string { return testshared.Dir(t, "data") }

func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

func TestDataInspectGTSRBMini(t *testing.T) {
	base := filepath.Join(sharedData(t), "gtsrb-mini")
	for split, want := range map[string]string{"train": "43 classes, 602 images", "val": "43 classes, 215 images"} {
		code, out, errOut := run(t, "data", "inspect", "-q", filepath.Join(base, split))
		if code != 0 || lastLine(out) != want {
			t.Fatalf("%s: exit %d, last line %q, want %q (stderr %s)", split, code, lastLine(out), want, errOut)
		}
		if !strings.Contains(out, "Speed limit (20km/h)") || !strings.Contains(out, "image size  width ") {
			t.Errorf("%s: report lacks class names or sizes:\n%s", split, out)
		}
	}
}

func TestGenDataThenInspect(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "gen")
	code, out, errOut := run(t, "gen-data", "-q", "--out", dir, "--per-class", "2", "--recordings", "3", "--size", "32", "--seed", "4", "--preview")
	if code != 0 {
		t.Fatalf("gen-data exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "wrote 180 images") {
		t.Fatalf("gen-data output: %s", out)
	}
	if _, err := os.Stat(filepath.Join(dir, "preview.png")); err != nil {
		t.Fatal(err)
	}
	// A corrupt file is skipped and reported with its path; --strict fails.
	bad := filepath.Join(dir, "rec1", "STOPLINE", "00000.png")
	if err := os.WriteFile(bad, []byte("\x89PNG\r\n\x1a\ntruncated"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run(t, "data", "inspect", "-q", dir)
	if code != 0 || lastLine(out) != "30 classes, 179 images, 1 skipped" || !strings.Contains(out, bad) {
		t.Fatalf("inspect: exit %d last %q stderr %s\n%s", code, lastLine(out), errOut, out)
	}
	if !strings.Contains(out, "verification") {
		t.Errorf("no per-split columns:\n%s", out)
	}
	code, _, errOut = run(t, "data", "inspect", "-q", "--strict", dir)
	if code != 1 || !strings.Contains(errOut, bad) {
		t.Fatalf("--strict: exit %d stderr %s", code, errOut)
	}
	code, out, _ = run(t, "data", "inspect", "-q", "--json", dir)
	var rep struct {
		Images, Skipped int
		Summary         string
		Classes         []struct{ Name string }
	}
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil || rep.Images != 179 || rep.Skipped != 1 || len(rep.Classes) != 30 {
		t.Fatalf("--json: exit %d %+v\n%s", code, rep, out)
	}
}

func TestDataUsage(t *testing.T) {
	for _, args := range [][]string{
		{"gen-data"},
		{"gen-data", "--out", t.TempDir(), "--size", "2"},
		{"data", "inspect"},
		{"data"},
	} {
		if code, _, errOut := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2 (%s)", args, code, errOut)
		}
	}
	if code, _, errOut := run(t, "data", "inspect", filepath.Join(t.TempDir(), "missing")); code != 1 || !strings.Contains(errOut, "qbench: data inspect:") {
		t.Errorf("missing dir: exit %d %s", code, errOut)
	}
}
