package interp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime/debug"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/train"
)

// seedCNNGraphs builds the float seed-cnn (train.SeedCNN, 30 classes,
// fixed seed, untrained weights) and its int8 post-training quantization
// calibrated on a few seeded random samples: the model of the benchmarks.
func seedCNNGraphs(t testing.TB) (float, int8 *graph.Graph) {
	t.Helper()
	m, err := train.New(train.SeedCNN(30), 1)
	if err != nil {
		t.Fatal(err)
	}
	fg := m.Graph()
	qg, err := quantizeOnNoise(fg, rand.New(rand.NewPCG(1, 2)), 80*80*3, 1)
	if err != nil {
		t.Fatal(err)
	}
	return fg, qg
}

// quantizeOnNoise is the int8 post-training quantization of float graph
// g calibrated on four samples of n values drawn from rng, uniform in
// [−amp, amp).
func quantizeOnNoise(g *graph.Graph, rng *rand.Rand, n int, amp float32) (*graph.Graph, error) {
	var xs [][]float32
	for range 4 {
		x := make([]float32, n)
		for j := range x {
			x[j] = rng.Float32()*2*amp - amp
		}
		xs = append(xs, x)
	}
	qg, _, err := quant.Quantize(context.Background(), g, quant.SliceSamples(xs), quant.Options{})
	return qg, err
}

// TestSeedCNNRunIsAllocationFree: Run of the float and int8 seed-cnn, batch
// 1 and 4, both roundings, allocates nothing, and the arena plan (with the
// RESHAPE aliased) never overlaps tensors alive together.
func TestSeedCNNRunIsAllocationFree(t *testing.T) {
	// A GC cycle during the count empties sync.Pools and shows up as
	// allocations that steady-state runs never make.
	defer debug.SetGCPercent(debug.SetGCPercent(-1))
	if testing.Short() {
		t.Skip("builds and quantizes the seed-cnn")
	}
	fg, qg := seedCNNGraphs(t)
	for _, batch := range []int{1, 4} {
		for _, r := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
			for gi, g := range []*graph.Graph{fg, qg} {
				p, err := interp.Compile(g, interp.Options{Batch: batch, Rounding: r})
				if err != nil {
					t.Fatal(err)
				}
				e := p.NewExecutor()
				if err := e.Run(); err != nil {
					t.Fatal(err)
				}
				dt := [2]string{"float32", "int8"}[gi]
				if n := testing.AllocsPerRun(5, func() { _ = e.Run() }); n != 0 {
					t.Errorf("%s batch %d %s rounding: Run allocates %.0f times", dt, batch, r, n)
				}
				checkPlan(t, p, e)
			}
		}
	}
}

// BenchmarkSeedCNNBatch is seed-cnn throughput (img/s) when a whole batch
// runs through the graph at once, one executor: batch 1 against larger
// batches shows what batching buys (the fully connected layers become
// matrix products instead of matrix-vector ones).
func BenchmarkSeedCNNBatch(b *testing.B) {
	fg, qg := seedCNNGraphs(b)
	for gi, g := range []*graph.Graph{fg, qg} {
		for _, batch := range []int{1, 8, 32} {
			p, err := interp.Compile(g, interp.Options{Batch: batch, Rounding: fixedpoint.RuntimeRounding})
			if err != nil {
				b.Fatal(err)
			}
			e := p.NewExecutor()
			rng := rand.New(rand.NewPCG(3, 4))
			x := make([]float32, batch*80*80*3)
			for j := range x {
				x[j] = rng.Float32()*2 - 1
			}
			if err := e.SetInputFloat(0, x); err != nil {
				b.Fatal(err)
			}
			b.Run(fmt.Sprintf("%s/batch%d", [2]string{"float32", "int8"}[gi], batch), func(b *testing.B) {
				defer lockThread()()
				c0, ok := threadCPU()
				for b.Loop() {
					if err := e.Run(); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "img/s")
				// Run is single-threaded, so the thread's CPU time is the
				// work itself, robust to a loaded machine.
				if c1, ok1 := threadCPU(); ok && ok1 {
					cpu := (c1 - c0).Seconds()
					b.ReportMetric(float64(b.N*batch)/cpu, "img/cpu-s")
					b.ReportMetric(cpu*1e6/float64(b.N), "cpu-µs/op")
				}
			})
		}
	}
}
