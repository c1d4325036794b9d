package interp_test

import (
	"testing"
	"unsafe"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/interp"
)

// aliasGraph: x[1,6] → RELU a → RESHAPE b[2,3] → RESHAPE b2[6] →
// LEAKY_RELU c → LEAKY_RELU d → ADD(b2, d) → y, plus RESHAPE of the graph
// input x → xr[3,2] as a second output. The aliased pair a/b/b2 stays alive
// until the ADD, long after a's last direct reader, so c and d must not be
// placed over it.
func aliasGraph() *graph.Graph {
	g := &graph.Graph{}
	f := func(name string, shape ...int) int {
		return g.AddTensor(&graph.Tensor{Name: name, DType: graph.Float32, Shape: shape})
	}
	shape := func(v ...int32) int {
		return g.AddTensor(&graph.Tensor{Name: "shape", DType: graph.Int32, Shape: []int{len(v)}, Data: graph.EncodeInt32s(v)})
	}
	x, a, b, b2, c, d, y, xr := f("x", 1, 6), f("a", 1, 6), f("b", 2, 3), f("b2", 6), f("c", 6), f("d", 6), f("y", 6), f("xr", 3, 2)
	g.Inputs, g.Outputs = []int{x}, []int{y, xr}
	g.AddOp(graph.OpRelu, []int{x}, []int{a}, nil)
	g.AddOp(graph.OpReshape, []int{a, shape(2, 3)}, []int{b}, nil)
	g.AddOp(graph.OpReshape, []int{b, shape(6)}, []int{b2}, nil)
	g.AddOp(graph.OpLeakyRelu, []int{b2}, []int{c}, &graph.LeakyReluOptions{Alpha: 0.5})
	g.AddOp(graph.OpLeakyRelu, []int{c}, []int{d}, &graph.LeakyReluOptions{Alpha: 0.5})
	g.AddOp(graph.OpAdd, []int{b2, d}, []int{y}, &graph.AddOptions{})
	g.AddOp(graph.OpReshape, []int{x, shape(3, 2)}, []int{xr}, nil)
	return g
}

func TestReshapeAliasesItsInput(t *testing.T) {
	x := []float32{-2, -1, 0, 1, 2, 3}
	// relu(x) + leaky(leaky(relu(x))) = 2·relu(x)
	want := []float32{0, 0, 0, 2, 4, 6}
	for _, keep := range []bool{false, true} {
		p, err := interp.Compile(aliasGraph(), interp.Options{KeepAll: keep})
		if err != nil {
			t.Fatal(err)
		}
		e := p.NewExecutor()
		for run := range 2 {
			if err := e.SetInputFloat(0, x); err != nil {
				t.Fatal(err)
			}
			if err := e.Run(); err != nil {
				t.Fatal(err)
			}
			y, xr := e.OutputFloat(0, nil), e.OutputFloat(1, nil)
			for i := range want {
				if y[i] != want[i] || xr[i] != x[i] {
					t.Fatalf("keepAll %v run %d: y %v xr %v, want %v and %v", keep, run, y, xr, want, x)
				}
			}
		}
		// a, b and b2 are one buffer; the input's reshape is the input.
		g := p.Graph()
		same := func(i, j int) bool { return &e.Tensor(i).F32[0] == &e.Tensor(j).F32[0] }
		a, b, b2, xr := g.Ops[0].Outputs[0], g.Ops[1].Outputs[0], g.Ops[2].Outputs[0], g.Ops[6].Outputs[0]
		if !same(a, b) || !same(a, b2) || !same(g.Inputs[0], xr) {
			t.Errorf("keepAll %v: RESHAPE outputs do not alias their inputs", keep)
		}
		for _, op := range g.Ops[3:5] {
			if same(op.Outputs[0], a) {
				t.Errorf("keepAll %v: %s output placed over the live reshaped tensor", keep, op.Kind)
			}
		}
	}
}

// checkPlan fails when two tensors alive at the same time share arena
// bytes, except a RESHAPE's input and output placed at the same address
// (an alias), which count as one tensor alive over both lifetimes.
func checkPlan(t *testing.T, p *interp.Program, e *interp.Executor) {
	t.Helper()
	g := p.Graph()
	n, end := len(g.Tensors), len(g.Ops)
	mem := func(ti int) (lo, hi uintptr) {
		b := e.Tensor(ti)
		switch {
		case b == nil || g.Tensors[ti].IsConst():
		case len(b.F32) > 0:
			lo = uintptr(unsafe.Pointer(&b.F32[0]))
			hi = lo + 4*uintptr(len(b.F32))
		case len(b.I8) > 0:
			lo = uintptr(unsafe.Pointer(&b.I8[0]))
			hi = lo + uintptr(len(b.I8))
		}
		return lo, hi
	}
	root := make([]int, n)
	for i := range root {
		root[i] = i
	}
	for _, op := range g.Ops {
		if op.Kind == graph.OpReshape {
			in, out := op.Inputs[0], op.Outputs[0]
			if a, _ := mem(in); a != 0 {
				if b, _ := mem(out); a == b {
					root[out] = root[in]
				}
			}
		}
	}
	first, last := make([]int, n), make([]int, n)
	for i := range first {
		first[i], last[i] = end+1, -2
	}
	live := func(ti, at int) {
		r := root[ti]
		first[r], last[r] = min(first[r], at), max(last[r], at)
	}
	for _, ti := range g.Inputs {
		live(ti, -1)
		live(ti, end)
	}
	for oi, op := range g.Ops {
		for _, ti := range append(append([]int{}, op.Inputs...), op.Outputs...) {
			if ti >= 0 {
				live(ti, oi)
			}
		}
	}
	for _, ti := range g.Outputs {
		live(ti, end)
	}
	for a := range n {
		for b := range n {
			ra, rb := root[a], root[b]
			if ra == rb || last[ra] < first[rb] || last[rb] < first[ra] {
				continue
			}
			alo, ahi := mem(a)
			blo, bhi := mem(b)
			if alo != 0 && blo != 0 && alo < bhi && blo < ahi {
				t.Fatalf("tensors %q (ops %d..%d) and %q (ops %d..%d) are alive together and overlap",
					g.Tensors[a].Name, first[ra], last[ra], g.Tensors[b].Name, first[rb], last[rb])
			}
		}
	}
}

func TestPlansNeverOverlapLiveTensors(t *testing.T) {
	graphs := map[string]*graph.Graph{
		"alias": aliasGraph(), "float chain": floatChain(), "int8": int8Graph(),
		"study float32": studyCNN(graph.Float32, 1), "study int8": studyCNN(graph.Int8, 1),
	}
	for name, g := range graphs {
		p, err := interp.Compile(g, interp.Options{})
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		t.Run(name, func(t *testing.T) { checkPlan(t, p, p.NewExecutor()) })
	}
}
