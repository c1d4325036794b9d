package interp_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/quant"
	"github.com/qbench/qbench/tflite"
)

// TestZoo16x8MatchesTFLite quantizes the MLPerf Tiny CIFAR-10 ResNet-8
// float model in 16x8 mode (int16 activations, int8 weights; calibrated on
// noise) with int16 and with float I/O, and runs the result in qbench and
// in the real TFLite interpreter on random inputs, cut after several ops
// (every residual ADD included) so that intermediate tensors are compared
// too: every value must be identical.
func TestZoo16x8MatchesTFLite(t *testing.T) {
	g, or := zooOracle(t, "mlt_resnet8_f32.tflite", "runs TFLite several times")
	rng := rand.New(rand.NewPCG(31, 32))
	n := g.Tensors[g.Inputs[0]].NumElements()
	calib := make([][]float32, 24)
	for i := range calib {
		calib[i] = make([]float32, n)
		for j := range calib[i] {
			calib[i][j] = rng.Float32()
		}
	}
	dir := t.TempDir()
	for _, io := range []graph.DType{graph.Int16, graph.Float32} {
		q, _, err := quant.Quantize(context.Background(), g, quant.SliceSamples(calib), quant.Options{Mode: quant.Mode16x8, IO: io})
		if err != nil {
			t.Fatal(err)
		}
		var cuts []int
		for i, op := range q.Ops {
			if op.Kind == graph.OpAdd || i == 1 || i == len(q.Ops)-1 || op.Kind == graph.OpFullyConnected || op.Kind == graph.OpAveragePool2D {
				cuts = append(cuts, i)
			}
		}
		for _, cut := range cuts {
			c := cutAfter(q, cut)
			name := fmt.Sprintf("io %s, after op %d (%s)", io, cut, c.Ops[cut].Kind)
			p := filepath.Join(dir, "cut.tflite")
			if err := tflite.WriteFile(p, c); err != nil {
				t.Fatal(err)
			}
			prog, err := interp.Compile(c, interp.Options{Rounding: fixedpoint.RuntimeRounding})
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			in := randomInput(rng, prog.InputTensor(0), 3, 0, 1)
			got, err := prog.NewExecutor().RunRaw(in)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			want, err := or.Run(p, in)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			if len(got) != len(want) {
				t.Fatalf("%s: %d output bytes, TFLite %d", name, len(got), len(want))
			}
			out := prog.OutputTensor(0)
			if out.DType == graph.Float32 {
				if bad, worst := compareFloats(got, want); bad > 0 {
					t.Errorf("%s: %d floats differ from TFLite, worst by %g", name, bad, worst)
				}
				continue
			}
			if bad, worst := compareInts(out.DType, got, want); bad > 0 {
				t.Errorf("%s: %d of %d values differ from TFLite, by up to %d", name, bad, len(got)/2, worst)
			} else {
				t.Logf("%s: %d values identical to TFLite", name, len(got)/out.DType.Size())
			}
		}
	}
}
