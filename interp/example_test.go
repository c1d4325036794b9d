package interp_test

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels"
)

// A graph is compiled once and run by one Executor per goroutine; integer
// models take and give real values through SetInputFloat and OutputFloat.
func ExampleCompile() {
	g := &graph.Graph{}
	q := &graph.Quantization{Scale: []float32{0.5}, ZeroPoint: []int64{-1}}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Int8, Shape: []int{1, 4}, Quant: q})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Int8, Shape: []int{1, 4}, Quant: q})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(graph.OpRelu, []int{x}, []int{y}, nil)

	prog, err := interp.Compile(g, interp.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	e := prog.NewExecutor()
	e.SetObserver(func(i int, op *graph.Op, outs []*kernels.Buffer) {
		fmt.Printf("op %d %s -> %v\n", i, op.Kind, outs[0].I8)
	})
	if err := e.SetInputFloat(0, []float32{-2, -0.5, 1.5, 3}); err != nil {
		fmt.Println(err)
		return
	}
	if err := e.Run(); err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(e.OutputFloat(0, nil))
	// Output:
	// op 0 RELU -> [-1 -1 2 5]
	// [0 0 1.5 3]
}
