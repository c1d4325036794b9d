package quant

import (
	"testing"

	"github.com/qbench/qbench/graph"
)

func TestDequantizeHybrid(t *testing.T) {
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, 3}})
	w := g.AddTensor(&graph.Tensor{Name: "w", DType: graph.Int8, Shape: []int{2, 3}, Data: graph.EncodeInt8s([]int8{1, -2, 3, 4, 5, -6}),
		Quant: &graph.Quantization{Scale: []float32{0.5, 0.25}, ZeroPoint: []int64{0, 0}, Axis: 0}})
	out := g.AddTensor(&graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, 2}})
	g.AddOp(graph.OpFullyConnected, []int{in, w}, []int{out}, &graph.FullyConnectedOptions{})
	g.Inputs, g.Outputs = []int{in}, []int{out}
	if got := HybridWeights(g); len(got) != 1 || got[0] != w {
		t.Fatalf("HybridWeights = %v, want [%d]", got, w)
	}
	d, n := DequantizeHybrid(g)
	if n != 1 || g.Tensors[w].DType != graph.Int8 {
		t.Fatalf("replaced %d tensors; original changed: %v", n, g.Tensors[w].DType)
	}
	want := []float32{0.5, -1, 1.5, 1, 1.25, -1.5}
	for i, v := range d.Tensors[w].Float32s() {
		if v != want[i] {
			t.Errorf("weight %d = %g, want %g", i, v, want[i])
		}
	}
	if d2, n2 := DequantizeHybrid(d); n2 != 0 || d2 != d {
		t.Errorf("a float graph was changed (%d)", n2)
	}
}
