package interp_test

import (
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// Check reports every op Compile would refuse, not only the first, grouped
// by what is missing.
func TestCheckListsEveryProblem(t *testing.T) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{2}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{2}})
	z := g.AddTensor(&graph.Tensor{Name: "z", DType: graph.Float32, Shape: []int{2}})
	w := g.AddTensor(&graph.Tensor{Name: "w", DType: graph.Float32, Shape: []int{2}})
	g.Inputs, g.Outputs = []int{x}, []int{w}
	g.AddOp(graph.OpUnknown, []int{x}, []int{y}, nil).Code = "MY_OP"
	g.AddOp(graph.OpRelu, []int{y}, []int{z}, nil)
	g.AddOp(graph.OpUnknown, []int{z}, []int{w}, nil).Code = "MY_OP"
	probs, err := interp.Check(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 2 || probs[0].Index != 0 || probs[1].Index != 2 || probs[0].Op != "MY_OP" {
		t.Fatalf("problems %+v", probs)
	}
	m := interp.Missing(probs)
	if len(m) != 1 || m[0].Key != "MY_OP" || m[0].Count != 2 {
		t.Errorf("missing %+v", m)
	}
	if _, err := interp.Compile(g, interp.Options{}); err == nil {
		t.Error("Compile accepted a graph Check refuses")
	}
}
