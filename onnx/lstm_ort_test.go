package onnx

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// lstmVariant is one one-op float LSTM form.
type lstmVariant struct {
	cifg, peephole, projection, projBias, timeMajor bool
	act                                             graph.Activation
	cellClip, projClip                              float32
}

// lstmGraph builds a one-op float UNIDIRECTIONAL_SEQUENCE_LSTM of variant v
// with seeded random weights (TFLite's operand order).
func lstmGraph(r *rand.Rand, v lstmVariant, batch, steps, nIn, nCell, nOut int) *graph.Graph {
	g := &graph.Graph{}
	param := func(name string, scale float64, shape ...int) int {
		x := make([]float32, graph.NumElements(shape))
		for i := range x {
			x[i] = float32(r.NormFloat64() * scale)
		}
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(x)})
	}
	xs := []int{batch, steps, nIn}
	if v.timeMajor {
		xs = []int{steps, batch, nIn}
	}
	ins := make([]int, 20)
	for i := range ins {
		ins[i] = -1
	}
	ins[0] = g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: xs})
	ws := 1 / math.Sqrt(float64(nIn+nOut))
	for gi := range 4 {
		if gi == 0 && v.cifg {
			continue
		}
		ins[1+gi] = param(fmt.Sprintf("w%d", gi), ws, nCell, nIn)
		ins[5+gi] = param(fmt.Sprintf("r%d", gi), ws, nCell, nOut)
		ins[12+gi] = param(fmt.Sprintf("b%d", gi), 0.5, nCell)
		if v.peephole && gi != 2 {
			ins[9+map[int]int{0: 0, 1: 1, 3: 2}[gi]] = param(fmt.Sprintf("p%d", gi), 0.5, nCell)
		}
	}
	if v.projection {
		ins[16] = param("proj", 1/math.Sqrt(float64(nCell)), nOut, nCell)
		if v.projBias {
			ins[17] = param("projb", 0.2, nOut)
		}
	}
	ins[18] = g.AddTensor(&graph.Tensor{Name: "h", DType: graph.Float32, Shape: []int{batch, nOut}, Variable: true})
	ins[19] = g.AddTensor(&graph.Tensor{Name: "c", DType: graph.Float32, Shape: []int{batch, nCell}, Variable: true})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{xs[0], xs[1], nOut}})
	g.Inputs, g.Outputs = []int{ins[0]}, []int{y}
	g.AddOp(graph.OpUnidirectionalSequenceLSTM, ins, []int{y}, &graph.SequenceLSTMOptions{
		Activation: v.act, CellClip: v.cellClip, ProjClip: v.projClip, TimeMajor: v.timeMajor})
	return g
}

// TestLSTMVariantsInORT runs the unrolled export of every LSTM form the
// exporter takes (CIFG, peepholes, projection with and without bias,
// clips, time-major, cell activations) in ONNX Runtime against qbench's
// kernel, and checks layer normalization is refused.
func TestLSTMVariantsInORT(t *testing.T) {
	ort := findORT(t)
	r := rand.New(rand.NewPCG(5, 6))
	for _, v := range []lstmVariant{
		{act: graph.ActTanh},
		{act: graph.ActTanh, cifg: true, peephole: true},
		{act: graph.ActTanh, peephole: true, projection: true, projBias: true, cellClip: 0.7, projClip: 0.3},
		{act: graph.ActRelu, timeMajor: true, cellClip: 2},
		{act: graph.ActTanh, cifg: true, projection: true, timeMajor: true},
		{act: graph.ActRelu6, peephole: true, projection: true},
	} {
		nOut := 6 // the cell size, unless a projection maps it to 4
		if v.projection {
			nOut = 4
		}
		g := lstmGraph(r, v, 2, 5, 3, 6, nOut)
		for i, d := range runBoth(t, ort, g, Options{}, 0, -2, 2, 1) {
			t.Logf("%+v output %d: %v", v, i, d)
			if d.maxAbs > 1e-5*max(d.span, 1) {
				t.Errorf("%+v output %d: %v", v, i, d)
			}
		}
	}
	g := lstmGraph(r, lstmVariant{act: graph.ActTanh}, 1, 2, 3, 4, 4)
	g.Ops[0].Inputs = append(g.Ops[0].Inputs, -1, g.Ops[0].Inputs[13], -1, -1)
	if _, err := Export(g); err == nil {
		t.Error("layer-norm LSTM: want an error")
	}
	// SIGMOID cells: the TFLite runtime applies no function (qbench
	// follows it), which ONNX cannot state.
	if _, err := Export(lstmGraph(r, lstmVariant{act: graph.ActSigmoid}, 1, 2, 3, 4, 4)); err == nil {
		t.Error("SIGMOID-cell LSTM: want an error")
	}
}
