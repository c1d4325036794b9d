package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/compare"
	"github.com/qbench/qbench/report"
)

// TestCompareShardsMerge runs compare whole and as 3 shards (by flag, by
// Slurm's and by Kubernetes' variables), merges, and compares the
// report files byte for byte.
func TestCompareShardsMerge(t *testing.T) {
	// report.html shows the date: pin it, as a reproducible rebuild would.
	t.Setenv("SOURCE_DATE_EPOCH", "1700000000")
	data, a, b := writeCompareFixture(t)
	dir := t.TempDir()
	base := []string{"compare", "-q", "--model", a, "--model", b, "--name", "float", "--name", "shifted", "--data", data}
	single := filepath.Join(dir, "single")
	if code, _, stderr := run(t, append(base, "--out", single)...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	parts := filepath.Join(dir, "parts")
	code, stdout, stderr := run(t, append(base, "--out", parts, "--shard", "1/3")...)
	if code != 0 || !strings.Contains(stdout, "wrote shard 1/3 to "+filepath.Join(parts, "shard-0001-of-0003.qbpart")) {
		t.Fatalf("exit %d: %s%s", code, stdout, stderr)
	}
	t.Setenv("SLURM_ARRAY_TASK_ID", "2")
	t.Setenv("SLURM_ARRAY_TASK_MIN", "1")
	t.Setenv("SLURM_ARRAY_TASK_COUNT", "3")
	code, _, stderr = run(t, append(base, "--out", parts)...)
	if code != 0 || !strings.Contains(stderr, "shard 2/3 from SLURM_ARRAY_TASK_ID=2") {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	os.Unsetenv("SLURM_ARRAY_TASK_ID")
	t.Setenv("JOB_COMPLETION_INDEX", "2")
	if code, _, stderr := run(t, append(base, "--out", parts)...); code != 2 || !strings.Contains(stderr, "give --shards N") {
		t.Fatalf("JOB_COMPLETION_INDEX without --shards: exit %d: %s", code, stderr)
	}
	if code, _, stderr := run(t, append(base, "--out", parts, "--shards", "3")...); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	merged := filepath.Join(dir, "merged")
	code, stdout, stderr = run(t, "merge", filepath.Join(parts, "shard-0003-of-0003.qbpart"), filepath.Join(parts, "shard-0001-of-0003.qbpart"),
		filepath.Join(parts, "shard-0002-of-0003.qbpart"), "--out", merged)
	if code != 0 || !strings.Contains(stdout, "merged 3 partials") {
		t.Fatalf("merge exit %d: %s%s", code, stdout, stderr)
	}
	for _, name := range []string{report.FileJSON, report.FilePredictions, compare.OutputsFile, report.FileMarkdown, report.FileHTML} {
		x, err1 := os.ReadFile(filepath.Join(single, name))
		y, err2 := os.ReadFile(filepath.Join(merged, name))
		if err1 != nil || err2 != nil || !bytes.Equal(x, y) {
			t.Errorf("%s: merged differs from the single run (%v, %v)", name, err1, err2)
		}
	}
	code, _, stderr = run(t, "merge", filepath.Join(parts, "shard-0001-of-0003.qbpart"), "--out", merged)
	if code != 1 || !strings.Contains(stderr, "qbench: merge: missing shards 2/3, 3/3 (have 1 of 3)") {
		t.Errorf("missing shards: exit %d: %s", code, stderr)
	}
	// The partials' folder is not a report folder: merging into it is
	// refused and leaves the partials alone.
	if code, _, stderr := run(t, "merge", filepath.Join(parts, "shard-0001-of-0003.qbpart"), filepath.Join(parts, "shard-0002-of-0003.qbpart"),
		filepath.Join(parts, "shard-0003-of-0003.qbpart"), "--out", parts); code != 1 || !strings.Contains(stderr, "report folder") {
		t.Errorf("merge into the partials' folder: exit %d: %s", code, stderr)
	}
	if ps, _ := filepath.Glob(filepath.Join(parts, "*.qbpart")); len(ps) != 3 {
		t.Errorf("partials after a refused merge: %v", ps)
	}
	// --shard none runs everything even inside a job.
	if code, stdout, stderr := run(t, append(base, "--out", filepath.Join(dir, "none"), "--shard", "none")...); code != 0 || !strings.Contains(stdout, "agreement") {
		t.Errorf("--shard none: exit %d: %s", code, stderr)
	}
	for _, args := range [][]string{
		{"--shard", "4/3"}, {"--shard", "1/3", "--shards", "2"}, {"--shard", "1/3", "--json"},
	} {
		if code, _, stderr := run(t, append(append(base, "--out", parts), args...)...); code != 2 {
			t.Errorf("%v: exit %d, want 2: %s", args, code, stderr)
		}
	}
	if code, _, _ := run(t, "merge", "--out", merged); code != 2 {
		t.Errorf("merge without partials: exit %d, want 2", code)
	}
}
