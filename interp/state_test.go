package interp_test

import (
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// A state tensor keeps its bytes between runs and survives the arena's
// reuse: y = x + s with s a variable that no op writes stays zero, and an
// op chain around it must not overwrite it.
func TestStateTensorsPersist(t *testing.T) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 4}})
	s := g.AddTensor(&graph.Tensor{Name: "state", DType: graph.Float32, Shape: []int{1, 4}, Variable: true})
	a := g.AddTensor(&graph.Tensor{Name: "a", DType: graph.Float32, Shape: []int{1, 4}})
	b := g.AddTensor(&graph.Tensor{Name: "b", DType: graph.Float32, Shape: []int{1, 4}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 4}})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(graph.OpRelu, []int{x}, []int{a}, nil)
	g.AddOp(graph.OpRelu6, []int{a}, []int{b}, nil)
	g.AddOp(graph.OpAdd, []int{b, s}, []int{y}, &graph.AddOptions{})
	p, err := interp.Compile(g, interp.Options{CarryState: true})
	if err != nil {
		t.Fatal(err)
	}
	if !p.HasState() {
		t.Fatal("HasState false for a graph with a variable")
	}
	e := p.NewExecutor()
	st := e.Tensor(s)
	for i := range st.F32 {
		if st.F32[i] != 0 {
			t.Fatalf("state not zero in a new executor: %v", st.F32)
		}
		st.F32[i] = float32(i + 1) // as a stateful kernel would write it
	}
	for run := 0; run < 2; run++ {
		if err := e.SetInputFloat(0, []float32{1, 2, 3, 4}); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
		got := e.OutputFloat(0, nil)
		want := []float32{2, 4, 6, 8}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("run %d: y = %v, want %v (state lost)", run, got, want)
			}
		}
	}
	e.ResetState()
	if st.F32[3] != 0 {
		t.Errorf("ResetState left %v", st.F32)
	}
}

// Without CarryState every Run starts from zero state.
func TestStateResetsPerRun(t *testing.T) {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 2}})
	s := g.AddTensor(&graph.Tensor{Name: "state", DType: graph.Float32, Shape: []int{1, 2}, Variable: true})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 2}})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(graph.OpAdd, []int{x, s}, []int{y}, &graph.AddOptions{})
	p, err := interp.Compile(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	e := p.NewExecutor()
	e.Tensor(s).F32[0] = 5
	_ = e.SetInputFloat(0, []float32{1, 1})
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	if got := e.OutputFloat(0, nil); got[0] != 1 {
		t.Errorf("y = %v: state was not reset before Run", got)
	}
}
