package bench

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/qbench/qbench/internal/testshared"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/tflite"
)

// reluGraph is input [1,4,4,3] float → RELU → output.
func reluGraph() *graph.Graph {
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "in", Shape: []int{1, 4, 4, 3}, DType: graph.Float32})
	out := g.AddTensor(&graph.Tensor{Name: "out", Shape: []int{1, 4, 4, 3}, DType: graph.Float32})
	g.AddOp(graph.OpRelu, []int{in}, []int{out}, nil)
	g.Inputs, g.Outputs = []int{in}, []int{out}
	return g
}

func TestPercentile(t *testing.T) {
	x := []float64{1, 2, 3, 4}
	for _, c := range []struct{ p, want float64 }{{0, 1}, {50, 2.5}, {90, 3.7}, {100, 4}, {99, 3.97}} {
		if got := Percentile(x, c.p); math.Abs(got-c.want) > 1e-12 {
			t.Errorf("Percentile(%v, %v) = %v, want %v", x, c.p, got, c.want)
		}
	}
	if got := Percentile([]float64{7}, 90); got != 7 {
		t.Errorf("single value: %v", got)
	}
	if !math.IsNaN(Percentile(nil, 50)) {
		t.Error("empty: want NaN")
	}
}

func TestRun(t *testing.T) {
	r, err := Run(context.Background(), "relu", reluGraph(), Options{Threads: 2, Batch: 3, Duration: 30 * time.Millisecond, Seed: 1})
	if err != nil {
		t.Fatal(err)
	}
	if r.Runs < 2 || r.ImagesPerSecond <= 0 || r.Threads != 2 || r.Batch != 3 || r.Model != "relu" {
		t.Fatalf("result %+v", r)
	}
	if !(r.Latency.P50 <= r.Latency.P90 && r.Latency.P90 <= r.Latency.P99) || r.Latency.P50 <= 0 {
		t.Fatalf("latency not ordered/positive: %+v", r.Latency)
	}
	// Throughput and latency agree: with 2 executors, images/s cannot
	// exceed 2·batch/min-latency by much.
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	if r.CompileMS <= 0 || r.FirstInferenceMS <= 0 || r.LoadMS != 0 {
		t.Errorf("compile %g ms, first inference %g ms, load %g ms (Run loads nothing)", r.CompileMS, r.FirstInferenceMS, r.LoadMS)
	}
	for _, key := range []string{`"model":"relu"`, `"threads":2`, `"batch":3`, `"images_per_second":`, `"latency_ms":{"p50":`, `"compile_ms":`, `"first_inference_ms":`} {
		if !strings.Contains(string(b), key) {
			t.Errorf("JSON %s lacks %s", b, key)
		}
	}
}

func TestRunMaxRuns(t *testing.T) {
	r, err := Run(context.Background(), "relu", reluGraph(), Options{Threads: 1, Batch: 1, Duration: time.Minute, MaxRuns: 5})
	if err != nil {
		t.Fatal(err)
	}
	if r.Runs != 5 {
		t.Fatalf("runs = %d, want 5", r.Runs)
	}
}

func TestRunErrors(t *testing.T) {
	g := reluGraph()
	for _, o := range []Options{{Threads: 0, Batch: 1, Duration: time.Second}, {Threads: 1, Batch: 0, Duration: time.Second}, {Threads: 1, Batch: 1}} {
		if _, err := Run(context.Background(), "m", g, o); err == nil {
			t.Errorf("Run(%+v) succeeded, want error", o)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Run(ctx, "m", g, Options{Threads: 1, Batch: 1, Duration: time.Second}); err == nil {
		t.Error("cancelled: want error")
	}
}

// sharedDir finds ../shared (see package testshared) or skips the test.
func sharedDir(t *testing.T) string { return testshared.Dir(t) }

func TestRunRealModel(t *testing.T) {
	for _, name := range []string{"hello_world_float.tflite", "hello_world_int8.tflite"} {
		path := filepath.Join(sharedDir(t), "reference/tflite-micro/models/hello_world", name)
		g, err := tflite.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		r, err := Run(context.Background(), path, g, Options{Threads: 1, Batch: 4, Duration: 20 * time.Millisecond})
		if errors.Is(err, kernels.ErrUnsupported) {
			t.Skipf("%s: kernel not available yet: %v", name, err)
		}
		if err != nil {
			t.Fatal(err)
		}
		if r.Runs == 0 || r.ImagesPerSecond <= 0 {
			t.Fatalf("%s: %+v", name, r)
		}
	}
}

// RunFile times loading and reports the peak memory of this model alone.
func TestRunFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "relu.tflite")
	if err := tflite.WriteFile(path, reluGraph()); err != nil {
		t.Fatal(err)
	}
	r, err := RunFile(context.Background(), path, Options{Threads: 1, Batch: 1, Duration: 10 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if r.LoadMS <= 0 || r.CompileMS <= 0 || r.FirstInferenceMS <= 0 {
		t.Errorf("load %g, compile %g, first %g ms", r.LoadMS, r.CompileMS, r.FirstInferenceMS)
	}
	if _, ok := PeakMemory(); ok && r.PeakMemoryMB <= 0 {
		t.Errorf("peak memory %g MiB on a kernel that reports VmHWM", r.PeakMemoryMB)
	}
	if _, err := RunFile(context.Background(), filepath.Join(t.TempDir(), "missing.tflite"), Options{Threads: 1, Batch: 1, Duration: time.Millisecond}); err == nil || !strings.Contains(err.Error(), "missing.tflite") {
		t.Errorf("missing file: %v", err)
	}
}

func TestParseVmHWM(t *testing.T) {
	for _, c := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"Name:\tqbench\nVmPeak:\t  9000 kB\nVmHWM:\t    1234 kB\nVmRSS:\t 1000 kB\n", 1234 << 10, true},
		{"Name:\tqbench\n", 0, false},
		{"VmHWM:\t 12 MB\n", 0, false},
		{"VmHWM:\t x kB\n", 0, false},
	} {
		got, ok := parseVmHWM(strings.NewReader(c.in))
		if got != c.want || ok != c.ok {
			t.Errorf("parseVmHWM(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

func TestCPUModel(t *testing.T) {
	if CPUModel() == "" {
		t.Fatal("empty CPU model")
	}
}

func TestRunOpProfile(t *testing.T) {
	g := reluGraph()
	// A second op so the profile has two rows.
	out2 := g.AddTensor(&graph.Tensor{Name: "out2", Shape: []int{1, 4, 4, 3}, DType: graph.Float32})
	g.AddOp(graph.OpRelu, []int{g.Outputs[0]}, []int{out2}, nil)
	g.Outputs = []int{out2}
	r, err := Run(context.Background(), "relu2", g, Options{Threads: 1, Batch: 2, Duration: 10 * time.Millisecond, OpRuns: 20})
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Ops) != 2 || r.Ops[0].Kind != "RELU" || r.Ops[1].Output != "out2" {
		t.Fatalf("ops %+v", r.Ops)
	}
	share := r.Ops[0].Share + r.Ops[1].Share
	if math.Abs(share-1) > 1e-9 || r.Ops[0].MS < 0 {
		t.Fatalf("shares sum to %v: %+v", share, r.Ops)
	}
}
