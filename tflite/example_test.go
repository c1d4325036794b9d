package tflite_test

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/tflite"
)

// Build a one-op graph, write it as .tflite bytes and read it back.
func Example() {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", Shape: []int{1, 4}, DType: graph.Float32})
	y := g.AddTensor(&graph.Tensor{Name: "y", Shape: []int{1, 4}, DType: graph.Float32})
	g.AddOp(graph.OpRelu, []int{x}, []int{y}, nil)
	g.Inputs, g.Outputs = []int{x}, []int{y}

	data, err := tflite.Write(g)
	if err != nil {
		panic(err)
	}
	back, err := tflite.Read(data)
	if err != nil {
		panic(err)
	}
	fmt.Println(string(data[4:8]), back.Description, back.Ops[0].Kind, back.Ops[0].Version)
	// Output: TFL3 qbench RELU 1
}
