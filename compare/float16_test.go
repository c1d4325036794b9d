package compare

import (
	"testing"

	"github.com/qbench/qbench/graph"
)

// A float16-quantized model counts as a float model, and its description
// says its weights are float16.
func TestDescribeFloat16Model(t *testing.T) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 2}})
	w16 := g.AddTensor(&graph.Tensor{Name: "w16", DType: graph.Float16, Shape: []int{3, 2}, Data: make([]byte, 12)})
	w := g.AddTensor(&graph.Tensor{Name: "w", DType: graph.Float32, Shape: []int{3, 2}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 3}})
	g.AddOp(graph.OpDequantize, []int{w16}, []int{w}, nil)
	g.AddOp(graph.OpFullyConnected, []int{x, w}, []int{y}, &graph.FullyConnectedOptions{})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	if computesInIntegers(g) {
		t.Fatal("a float16-weight model counted as integer")
	}
	want := "float32 activations, float16 weights (1 tensor, dequantized at load)"
	if got := describeQuantization(g, false); got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}
