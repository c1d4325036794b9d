package interp_test

import (
	"context"
	"math/rand/v2"
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
func seedCNNGraphs(t *testing.T) (float, int8 *graph.Graph) {
	t.Helper()
	m, err := train.New(train.SeedCNN(30), 1)
	if err != nil {
		t.Fatal(err)
	}
	fg := m.Graph()
	rng := rand.New(rand.NewPCG(1, 2))
	var xs [][]float32
	for range 4 {
		x := make([]float32, 80*80*3)
		for j := range x {
			x[j] = rng.Float32()*2 - 1
		}
		xs = append(xs, x)
	}
	qg, _, err := quant.Quantize(context.Background(), fg, quant.SliceSamples(xs), quant.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return fg, qg
}

// TestSeedCNNRunIsAllocationFree: Run of the float and int8 seed-cnn, batch
// 1 and 4, both roundings, allocates nothing, and the arena plan (with the
// RESHAPE aliased) never overlaps tensors alive together.
func TestSeedCNNRunIsAllocationFree(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and quantizes the seed-cnn")
	}
	fg, qg := seedCNNGraphs(t)
	for _, batch := range []int{1, 4} {
		for _, r := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding} {
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
