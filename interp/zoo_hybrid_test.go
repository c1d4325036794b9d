package interp_test

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// TestZooHybridMatchesTFLite runs MLPerf Tiny's keyword-spotting DS-CNN
// "float" model, a hybrid one (int8 CONV_2D weights, float activations),
// through qbench and the real TFLite interpreter on random inputs, also cut
// after each hybrid CONV_2D: outputs must agree within 1e-5 of the output
// range (the TFLite runtime runs its hybrid kernels here, whose on-the-fly
// input quantization moves results by about 1e-2 from the dequantized
// float model, so this checks that arithmetic).
func TestZooHybridMatchesTFLite(t *testing.T) {
	g, or := zooOracle(t, "mlt_kws_dscnn_f32.tflite", "runs TFLite several times")
	rng := rand.New(rand.NewPCG(41, 42))
	dir := t.TempDir()
	cuts := []int{len(g.Ops) - 1}
	for i, op := range g.Ops {
		if op.Kind == graph.OpConv2D && (i == 0 || i == 4 || i == 8) {
			cuts = append(cuts, i)
		}
	}
	for _, cut := range cuts {
		c := cutAfter(g, cut)
		p := filepath.Join(dir, "cut.tflite")
		if err := tflite.WriteFile(p, c); err != nil {
			t.Fatal(err)
		}
		prog, err := interp.Compile(c, interp.Options{Rounding: fixedpoint.RuntimeRounding})
		if err != nil {
			t.Fatalf("after op %d (%s): %v", cut, c.Ops[cut].Kind, err)
		}
		in := randomInput(rng, prog.InputTensor(0), 4, -30, 30)
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
		lo, hi := math.Inf(1), math.Inf(-1)
		for i := 0; i+4 <= len(want); i += 4 {
			w := float64(f32At(want, i))
			lo, hi = min(lo, w), max(hi, w)
		}
		exact, worst := 0, 0.0
		for i := 0; i+4 <= len(got); i += 4 {
			a, b := f32At(got, i), f32At(want, i)
			if a == b {
				exact++
			}
			worst = max(worst, math.Abs(float64(a-b)))
		}
		if worst > 1e-5*(hi-lo) {
			t.Errorf("after op %d (%s): differs from TFLite by up to %g (output range %g)", cut, c.Ops[cut].Kind, worst, hi-lo)
		} else {
			t.Logf("after op %d (%s): %d of %d values bit-identical with TFLite, worst difference %g (output range %g)", cut, c.Ops[cut].Kind, exact, len(got)/4, worst, hi-lo)
		}
	}
}

// f32At decodes the little-endian float32 at byte offset i.
func f32At(b []byte, i int) float32 {
	return math.Float32frombits(uint32(b[i]) | uint32(b[i+1])<<8 | uint32(b[i+2])<<16 | uint32(b[i+3])<<24)
}
