package quant

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand"
	"path/filepath"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// floatSVDF is a one-op float SVDF with random weights.
func floatSVDF(rng *rand.Rand, batch, nIn, rank, nUnit, nMem int, bias bool, a graph.Activation) *graph.Graph {
	g := &graph.Graph{}
	nFilter := rank * nUnit
	x := g.AddTensor(act("x", batch, nIn))
	wf := g.AddTensor(randConst(rng, "wf", []int{nFilter, nIn}, 1/math.Sqrt(float64(nIn))))
	wt := g.AddTensor(randConst(rng, "wt", []int{nFilter, nMem}, 0.6))
	b := -1
	if bias {
		b = g.AddTensor(randConst(rng, "bias", []int{nUnit}, 0.3))
	}
	st := g.AddTensor(&graph.Tensor{Name: "state", DType: graph.Float32, Shape: []int{batch, nFilter * nMem}, Variable: true})
	y := g.AddTensor(act("y", batch, nUnit))
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(graph.OpSVDF, []int{x, wf, wt, b, st}, []int{y}, &graph.SVDFOptions{Rank: rank, Activation: a})
	return g
}

// TestQuantizeSVDFMatchesTFLite quantizes one-op float SVDFs (rank 1 and
// 2, batch 1 and 2, with and without bias) the converter's way, checks the
// recipe (int8 weights_feature, 10-bit weights_time in int16, int16
// symmetric state, int32 bias at s_time·s_state), runs each in the TFLite
// oracle and in qbench over 6 samples of carried state (identical
// outputs), and compares with the float model (within 5% of its output
// range). A non-RELU SVDF stays float, with a note.
func TestQuantizeSVDFMatchesTFLite(t *testing.T) {
	rng := rand.New(rand.NewSource(5))
	for i, c := range []struct {
		batch, nIn, rank, nUnit, nMem int
		bias                          bool
	}{{1, 12, 1, 4, 5, true}, {2, 7, 2, 3, 4, false}, {1, 20, 2, 6, 8, true}} {
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			g := floatSVDF(rng, c.batch, c.nIn, c.rank, c.nUnit, c.nMem, c.bias, graph.ActRelu)
			q, rep, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 40, int64(i))), Options{IO: graph.Int8})
			if err != nil {
				t.Fatal(err)
			}
			if len(rep.FloatOps) != 0 || len(q.Ops) != 1 || q.Ops[0].Kind != graph.OpSVDF {
				t.Fatalf("not an integer SVDF: %v", rep.FloatOps)
			}
			op := q.Ops[0]
			wf, wt, st := q.Tensors[op.Inputs[1]], q.Tensors[op.Inputs[2]], q.Tensors[op.Inputs[4]]
			if wf.DType != graph.Int8 || wt.DType != graph.Int16 || st.DType != graph.Int16 || !st.Variable {
				t.Errorf("weights_feature %s, weights_time %s, state %s variable=%v", wf.DType, wt.DType, st.DType, st.Variable)
			}
			lo, hi := int16(0), int16(0)
			for _, v := range wt.Int16s() {
				lo, hi = min(lo, v), max(hi, v)
			}
			if max(-lo, hi) != 512 {
				t.Errorf("weights_time in [%d, %d], want 10 bits reaching ±512", lo, hi)
			}
			if c.bias {
				b := q.Tensors[op.Inputs[3]]
				if b.DType != graph.Int32 || b.Quant.Scale[0] != float32(float64(wt.Quant.Scale[0])*float64(st.Quant.Scale[0])) {
					t.Errorf("bias %s scale %g, want int32 at s_time·s_state", b.DType, b.Quant.Scale[0])
				}
			}
			if testing.Short() {
				return // the oracle runs below take node once per case
			}
			r, err := oracle.Find()
			if err != nil {
				t.Skip(err)
			}
			path := filepath.Join(t.TempDir(), "q.tflite")
			if err := tflite.WriteFile(path, q); err != nil {
				t.Fatal(err)
			}
			back, err := tflite.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			samples := randomSamples(g, 6, int64(100+i))
			raw := rawInputs(back, samples)
			p, err := interp.Compile(back, interp.Options{Rounding: fixedpoint.RuntimeRounding, CarryState: true})
			if err != nil {
				t.Fatal(err)
			}
			mine, err := p.NewExecutor().RunRaw(raw)
			if err != nil {
				t.Fatal(err)
			}
			theirs, err := r.Run(path, raw)
			if err != nil {
				t.Fatalf("the oracle refuses the quantized SVDF: %v", err)
			}
			if !bytes.Equal(mine, theirs) {
				t.Errorf("outputs differ from the oracle\nqbench %v\noracle %v", mine, theirs)
			}
			fp, err := interp.Compile(g, interp.Options{CarryState: true})
			if err != nil {
				t.Fatal(err)
			}
			fe := fp.NewExecutor()
			yq := back.Tensors[back.Outputs[0]].Quant
			n := back.Tensors[back.Outputs[0]].NumElements()
			worst, top := 0.0, 0.0
			for k, x := range samples {
				if err := fe.SetInputFloat(0, x); err != nil {
					t.Fatal(err)
				}
				if err := fe.Run(); err != nil {
					t.Fatal(err)
				}
				for j, w := range fe.OutputFloat(0, nil) {
					got := float64(yq.Scale[0]) * float64(int64(int8(theirs[k*n+j]))-yq.ZeroPoint[0])
					worst, top = math.Max(worst, math.Abs(got-float64(w))), math.Max(top, float64(w))
				}
			}
			if worst > 0.05*top {
				t.Errorf("integer SVDF is %.3g from the float one (outputs up to %.3g)", worst, top)
			}
			t.Logf("%d outputs identical with the oracle; largest |int8 − float| %.3g of outputs up to %.3g", len(theirs), worst, top)
		})
	}
	g := floatSVDF(rng, 1, 6, 1, 3, 4, true, graph.ActNone)
	_, rep, err := Quantize(context.Background(), g, SliceSamples(randomSamples(g, 8, 1)), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.FloatOps) != 1 || !strings.Contains(rep.FloatOps[0], "RELU only") {
		t.Errorf("a non-RELU SVDF: float ops %q", rep.FloatOps)
	}
}
