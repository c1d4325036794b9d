package interp_test

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// svdfCompare runs g (already written to path) in qbench with state carried
// across the k samples of in, as TFLite's interpreter does between Invoke
// calls, and in the oracle, and returns how many output values differ
// (floats: by more than 1e-5) and the number compared.
func svdfCompare(t *testing.T, or *oracle.Runner, g *graph.Graph, path string, in []byte) (bad, n int) {
	t.Helper()
	p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding, CarryState: true})
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	got, err := p.NewExecutor().RunRaw(in)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	want, err := or.Run(path, in)
	if err != nil {
		t.Fatalf("%s: oracle: %v", path, err)
	}
	out := p.OutputTensor(0)
	n = len(got) / out.DType.Size()
	if out.DType == graph.Float32 {
		bad, _ = compareFloats(got, want)
		return bad, n
	}
	bad, _ = compareInts(out.DType, got, want)
	return bad, n
}

// TestSVDFZooMatchesTFLite runs TFLite Micro's keyword_scrambled_8bit model
// (seven int8 SVDFs with int8 weights_time and state) on random int16
// inputs, 8 samples with the state carried over, against TFLite.
//
// Its outputs saturate (the softmax gives [0, 1] on every input tried), so
// this checks that the model runs end to end, not the SVDF arithmetic: the
// one-op test below does that.
func TestSVDFZooMatchesTFLite(t *testing.T) {
	dir := sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	path := filepath.Join(dir, "models", "zoo", "tflm_kws_scrambled_i8.tflite")
	if _, err := os.Stat(path); err != nil {
		t.Skipf("%s absent: %v", path, err)
	}
	g, err := tflite.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(14, 1))
	in := randomInput(rng, g.Tensor(g.Inputs[0]), 8, 0, 0)
	if bad, n := svdfCompare(t, or, g, path, in); bad > 0 {
		t.Errorf("%d of %d outputs differ from TFLite", bad, n)
	}
}

// TestSVDFOneOpMatchesTFLite writes one-op SVDF models (float32, and the
// integer form with int16 weights_time and state; random shapes, ranks and
// quantization) and compares them with TFLite over 6 steps of carried state:
// integers must be identical, floats within 1e-5.
func TestSVDFOneOpMatchesTFLite(t *testing.T) {
	sharedDir(t)
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	rng := rand.New(rand.NewPCG(14, 2))
	dir := t.TempDir()
	for i := range 6 {
		for _, dt := range []graph.DType{graph.Float32, graph.Int8} {
			batch, nIn, rank, nUnit, nMem := 1+rng.IntN(2), 3+rng.IntN(20), 1+rng.IntN(2), 2+rng.IntN(9), 2+rng.IntN(7)
			nFilter := nUnit * rank
			sc := func(lo, hi float64) float32 { return float32(lo + (hi-lo)*rng.Float64()) }
			x := qt(dt, []int{batch, nIn}, sc(0.01, 0.1), int64(rng.IntN(200)-100))
			y := qt(dt, []int{batch, nUnit}, sc(0.05, 0.5), int64(rng.IntN(200)-100))
			wf := constOf(dt, []int{nFilter, nIn}, sc(0.002, 0.02), 0, rng)
			wtDT, stDT := dt, dt
			if dt == graph.Int8 {
				wtDT, stDT = graph.Int16, graph.Int16
			}
			wt := constOf(wtDT, []int{nFilter, nMem}, sc(1e-5, 1e-4), 0, rng)
			st := qt(stDT, []int{batch, nFilter * nMem}, sc(1e-3, 1e-2), 0)
			st.Name, st.Variable = "state", true
			var bias *graph.Tensor
			if dt == graph.Float32 {
				bias = constOf(graph.Float32, []int{nUnit}, 0, 0, rng)
			} else {
				v := make([]int32, nUnit)
				for k := range v {
					v[k] = int32(rng.IntN(2001) - 1000)
				}
				bias = i32("bias", v...)
				bias.Quant = &graph.Quantization{Scale: []float32{st.Quant.Scale[0] * wt.Quant.Scale[0]}, ZeroPoint: []int64{0}}
			}
			g := oneOp(graph.OpSVDF, &graph.SVDFOptions{Rank: rank, Activation: graph.ActRelu}, x, y, wf, wt, bias, st)
			name := fmt.Sprintf("svdf%d-%s", i, dt)
			path := filepath.Join(dir, name+".tflite")
			if err := tflite.WriteFile(path, g); err != nil {
				t.Fatalf("%s: write: %v", name, err)
			}
			in := randomInput(rng, x, 6, -3, 3)
			if bad, n := svdfCompare(t, or, g, path, in); bad > 0 {
				t.Errorf("%s (batch %d input %d rank %d units %d memory %d): %d of %d outputs differ from TFLite",
					name, batch, nIn, rank, nUnit, nMem, bad, n)
			}
		}
	}
}
