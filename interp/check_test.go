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

// Check takes Compile's steps: a graph Compile refuses (declared shapes that
// contradict the inputs, an activation above the memory budget) is never
// reported runnable, and one Compile runs only after folding is.
func TestCheckAgreesWithCompile(t *testing.T) {
	wrongShape := func() *graph.Graph {
		g := &graph.Graph{}
		x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 4}})
		y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 5}})
		g.Inputs, g.Outputs = []int{x}, []int{y}
		g.AddOp(graph.OpRelu, []int{x}, []int{y}, nil)
		return g
	}
	big := func() *graph.Graph {
		g := &graph.Graph{}
		x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 4096}})
		y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 4096}})
		g.Inputs, g.Outputs = []int{x}, []int{y}
		g.AddOp(graph.OpRelu, []int{x}, []int{y}, nil)
		return g
	}
	for _, c := range []struct {
		name string
		g    *graph.Graph
		opts interp.Options
	}{
		{"declared shape contradicts input", wrongShape(), interp.Options{}},
		{"arena budget", big(), interp.Options{MaxArenaBytes: 1024}},
		{"fits the budget", big(), interp.Options{}},
		{"keras flatten, folded", flattenGraph(false), interp.Options{}},
		{"keras flatten at batch 3", flattenGraph(false), interp.Options{Batch: 3}},
		{"negative batch", flattenGraph(false), interp.Options{Batch: -1}},
	} {
		probs, checkErr := interp.Check(c.g, c.opts)
		_, compileErr := interp.Compile(c.g, c.opts)
		runnable := checkErr == nil && len(probs) == 0
		if runnable != (compileErr == nil) {
			t.Errorf("%s: Check says runnable=%v (%v, %+v), Compile error %v", c.name, runnable, checkErr, probs, compileErr)
		}
	}
	// Problem indices are the stored graph's even when ops before them fold.
	g := flattenGraph(false)
	z := g.AddTensor(&graph.Tensor{Name: "z", DType: graph.Float32, Shape: []int{2, 12}})
	g.AddOp(graph.OpUnknown, []int{g.Outputs[0]}, []int{z}, nil).Code = "MY_OP"
	g.Outputs = []int{z}
	probs, err := interp.Check(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(probs) != 1 || probs[0].Index != 4 || probs[0].Op != "MY_OP" {
		t.Errorf("problems %+v, want MY_OP at op 4", probs)
	}
}
