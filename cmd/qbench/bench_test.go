package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// writeReluModel writes a one-op float model for command tests.
func writeReluModel(t *testing.T) string {
	t.Helper()
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "in", Shape: []int{1, 4, 4, 3}, DType: graph.Float32})
	out := g.AddTensor(&graph.Tensor{Name: "out", Shape: []int{1, 4, 4, 3}, DType: graph.Float32})
	g.AddOp(graph.OpRelu, []int{in}, []int{out}, nil)
	g.Inputs, g.Outputs = []int{in}, []int{out}
	path := filepath.Join(t.TempDir(), "relu.tflite")
	if err := tflite.WriteFile(path, g); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBenchJSON(t *testing.T) {
	path := writeReluModel(t)
	code, out, errOut := run(t, "bench", path, path, "--seconds", "0.05", "--threads", "2", "--batch", "3", "--json", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 2 {
		t.Fatalf("want 2 JSON lines, got %q", out)
	}
	for _, l := range lines {
		var r struct {
			Model   string             `json:"model"`
			Threads int                `json:"threads"`
			Batch   int                `json:"batch"`
			IPS     float64            `json:"images_per_second"`
			Lat     map[string]float64 `json:"latency_ms"`
			Load    float64            `json:"load_ms"`
			Compile float64            `json:"compile_ms"`
			First   float64            `json:"first_inference_ms"`
		}
		if err := json.Unmarshal([]byte(l), &r); err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if r.Model != path || r.Threads != 2 || r.Batch != 3 || r.IPS <= 0 || r.Lat["p50"] <= 0 || r.Lat["p99"] < r.Lat["p90"] ||
			r.Load <= 0 || r.Compile <= 0 || r.First <= 0 {
			t.Fatalf("bad result %+v", r)
		}
	}
}

func TestBenchText(t *testing.T) {
	path := writeReluModel(t)
	code, out, errOut := run(t, "bench", path, "--seconds", "0.05", "--threads", "1", "-q")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, "cpu: ") || !strings.Contains(out, "threads 1") || !strings.Contains(out, path) ||
		!strings.Contains(out, "compile ms") || !strings.Contains(out, "first ms") || !strings.Contains(out, "peak MiB") {
		t.Fatalf("output %q", out)
	}
	code, out, errOut = run(t, "bench", path, "--seconds", "0.02", "--threads", "1", "--ops", "-q")
	if code != 0 || !strings.Contains(out, "op   0 RELU") {
		t.Fatalf("--ops: exit %d, output %q, stderr %q", code, out, errOut)
	}
}

func TestBenchUsage(t *testing.T) {
	for _, args := range [][]string{{"bench"}, {"bench", "m.tflite", "--batch", "0"}, {"bench", "m.tflite", "--seconds", "0"}} {
		if code, _, _ := run(t, args...); code != 2 {
			t.Errorf("%v: exit %d, want 2", args, code)
		}
	}
	if code, _, errOut := run(t, "bench", filepath.Join(t.TempDir(), "missing.tflite"), "-q"); code != 1 || !strings.Contains(errOut, "qbench: bench: read ") {
		t.Errorf("missing file: exit %d, stderr %q", code, errOut)
	}
}
