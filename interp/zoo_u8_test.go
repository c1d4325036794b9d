package interp_test

import (
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// TestZooUint8MatchesTFLite runs the Coral uint8 MobileNetV1 (old-style
// asymmetric quantization: weight zero points, uint8 activations) through
// qbench and the real TFLite interpreter on random inputs. Its softmax
// output is mostly zeros on noise, so the model is also cut after earlier
// ops (the same graph with an intermediate tensor as its output): every
// value must be identical.
func TestZooUint8MatchesTFLite(t *testing.T) {
	g, or := zooOracle(t, "coral_mnv1_025_128_u8.tflite", "runs a MobileNet in TFLite")
	rng := rand.New(rand.NewPCG(21, 22))
	dir := t.TempDir()
	last := len(g.Ops) - 1
	for _, cut := range []int{2, 13, 26, last - 2, last} {
		c := cutAfter(g, cut)
		p := filepath.Join(dir, "cut.tflite")
		if err := tflite.WriteFile(p, c); err != nil {
			t.Fatal(err)
		}
		prog, err := interp.Compile(c, interp.Options{Rounding: fixedpoint.RuntimeRounding})
		if err != nil {
			t.Fatalf("after op %d (%s): %v", cut, c.Ops[cut].Kind, err)
		}
		in := randomInput(rng, prog.InputTensor(0), 3, 0, 0)
		got, err := prog.NewExecutor().RunRaw(in)
		if err != nil {
			t.Fatalf("after op %d: %v", cut, err)
		}
		want, err := or.Run(p, in)
		if err != nil {
			t.Fatalf("after op %d: %v", cut, err)
		}
		if len(got) != len(want) {
			t.Fatalf("after op %d: %d output bytes, TFLite %d", cut, len(got), len(want))
		}
		bad, worst := compareInts(prog.OutputTensor(0).DType, got, want)
		if bad > 0 {
			t.Errorf("after op %d (%s): %d of %d values differ from TFLite, by up to %d", cut, c.Ops[cut].Kind, bad, len(got), worst)
		} else {
			t.Logf("after op %d (%s): %d values identical to TFLite", cut, c.Ops[cut].Kind, len(got))
		}
	}
}

// zooOracle finds a zoo model, the TFLite oracle and reads the model, or
// skips: without ../shared or the oracle, and with -short (why says what
// the test runs).
func zooOracle(t *testing.T, file, why string) (*graph.Graph, *oracle.Runner) {
	t.Helper()
	path := filepath.Join(sharedDir(t), "models", "zoo", file)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip(why + "; skipped with -short")
	}
	g, err := tflite.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return g, or
}

// cutAfter returns a copy of g whose outputs are op cut's outputs, so an
// intermediate tensor can be compared with TFLite's.
func cutAfter(g *graph.Graph, cut int) *graph.Graph {
	c := g.Clone()
	c.Outputs = append([]int(nil), c.Ops[cut].Outputs...)
	return c
}
