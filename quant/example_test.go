package quant_test

import (
	"context"
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/quant"
)

// ExampleQuantize calibrates a one-op float graph (RELU) on three samples
// with min/max and prints the chosen int8 parameters of its output.
func ExampleQuantize() {
	g := &graph.Graph{}
	in := g.AddTensor(&graph.Tensor{Name: "x", Shape: []int{1, 4}, DType: graph.Float32})
	out := g.AddTensor(&graph.Tensor{Name: "y", Shape: []int{1, 4}, DType: graph.Float32})
	g.AddOp(graph.OpRelu, []int{in}, []int{out}, nil)
	g.Inputs, g.Outputs = []int{in}, []int{out}

	samples := quant.SliceSamples([][]float32{{-1, 0, 1, 2}, {0.5, 1.5, 2.55, -2}, {0, 0, 0, 0}})
	q, rep, err := quant.Quantize(context.Background(), g, samples, quant.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, t := range rep.Tensors {
		fmt.Printf("%s: observed [%.4g, %.4g] scale %.4f zero point %d\n", t.Name, t.ObservedMin, t.ObservedMax, t.Scale, t.ZeroPoint)
	}
	for _, op := range q.Ops {
		fmt.Print(op.Kind, " ")
	}
	fmt.Println()
	// Output:
	// x: observed [-2, 2.55] scale 0.0178 zero point -16
	// y: observed [0, 2.55] scale 0.0100 zero point -128
	// QUANTIZE RELU DEQUANTIZE
}
