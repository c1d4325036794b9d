package shard

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSlurmArray runs the comparison as a real Slurm job array: it builds
// qbench, runs compare once whole, submits a 4-task array of compare
// (each task takes its shard from SLURM_ARRAY_TASK_ID, no --shard flag),
// merges the partials and compares the report files byte for byte. It
// needs a cluster: run it under .ci/slurm-cluster.sh, which exports
// SLURM_CONF (.ci/run does).
func TestSlurmArray(t *testing.T) {
	if os.Getenv("SLURM_CONF") == "" {
		t.Skip("no Slurm test cluster (SLURM_CONF unset): run sudo bash .ci/slurm-cluster.sh go test -run Slurm ./shard")
	}
	if _, err := exec.LookPath("sbatch"); err != nil {
		t.Skip("sbatch not on PATH")
	}
	f := getFixture(t)
	// Jobs run as root on this node and read and write under dir.
	dir, err := os.MkdirTemp(fixDir, "slurm-")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "qbench")
	if out, err := exec.Command("go", "build", "-o", bin, "github.com/qbench/qbench/cmd/qbench").CombinedOutput(); err != nil {
		t.Fatalf("build qbench: %v\n%s", err, out)
	}
	args := []string{"compare", "--quiet", "--threads", "1", "--data", f.root, "--split", "train", "--split", "verification"}
	for i, m := range f.models {
		args = append(args, "--model", m, "--name", []string{"float", "int8", "int8-bgr"}[i])
	}
	single := filepath.Join(dir, "single")
	start := time.Now()
	if out, err := exec.Command(bin, append(args, "--out", single, "--threads", "2")...).CombinedOutput(); err != nil {
		t.Fatalf("single run: %v\n%s", err, out)
	}
	t.Logf("single run (files, 2 threads): %v", time.Since(start).Round(time.Millisecond))

	parts, logs := filepath.Join(dir, "parts"), filepath.Join(dir, "logs")
	if err := os.MkdirAll(logs, 0o755); err != nil {
		t.Fatal(err)
	}
	var script strings.Builder
	fmt.Fprintf(&script, "%s", shellQuote(bin))
	for _, a := range append(args, "--out", parts) {
		fmt.Fprintf(&script, " %s", shellQuote(a))
	}
	start = time.Now()
	if err := sbatchWait(t, "--array=1-4", "--cpus-per-task=1", "-o", filepath.Join(logs, "%A_%a.log"), "--wrap", script.String()); err != nil {
		for _, l := range globLogs(logs) {
			t.Log(l)
		}
		t.Fatal(err)
	}
	t.Logf("4-task array: %v", time.Since(start).Round(time.Millisecond))
	paths, err := filepath.Glob(filepath.Join(parts, "*"+Ext))
	if err != nil || len(paths) != 4 {
		t.Fatalf("partials %v (%v); task logs:\n%s", paths, err, strings.Join(globLogs(logs), "\n"))
	}
	merged := filepath.Join(dir, "merged")
	if out, err := exec.Command(bin, append([]string{"merge", "--quiet", "--out", merged}, paths...)...).CombinedOutput(); err != nil {
		t.Fatalf("merge: %v\n%s", err, out)
	}
	sameFiles(t, single, merged)
}

// sbatchWait submits and waits for the job; it gives up when the node
// drains (a failed launch would make --wait hang) or after 10 minutes.
func sbatchWait(t *testing.T, args ...string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sbatch", append([]string{"--wait", "--quiet"}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return err
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	tick := time.NewTicker(2 * time.Second)
	defer tick.Stop()
	for {
		select {
		case err := <-done:
			if err != nil {
				return fmt.Errorf("sbatch: %v: %s", err, out.String())
			}
			return nil
		case <-tick.C:
			st, _ := exec.Command("sinfo", "-h", "-n", "localhost", "-o", "%t").Output()
			s := strings.TrimSpace(string(st))
			if strings.HasPrefix(s, "drain") || strings.HasPrefix(s, "drng") || strings.HasPrefix(s, "down") {
				cancel()
				<-done
				reason, _ := exec.Command("sinfo", "-R").CombinedOutput()
				return fmt.Errorf("the node is %s: %s", s, reason)
			}
		}
	}
}

func globLogs(dir string) []string {
	var ls []string
	ps, _ := filepath.Glob(filepath.Join(dir, "*.log"))
	for _, p := range ps {
		b, _ := os.ReadFile(p)
		ls = append(ls, filepath.Base(p)+": "+string(b))
	}
	return ls
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
