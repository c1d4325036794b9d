package opcases

import (
	"github.com/qbench/qbench/graph"
)

// Control-flow models: a main graph whose WHILE, IF or CALL_ONCE op runs
// other subgraphs (graph.Graph.Subgraphs, index i = Subgraphs[i-1]). Each
// has one float32 input, so the oracle can run it.

func floats(name string, shape []int, v ...float32) *graph.Tensor {
	return &graph.Tensor{Name: name, DType: graph.Float32, Shape: shape, Data: graph.EncodeFloat32s(v)}
}

// CounterLoop is for (i = 0; i < n; i++) v = v·c + d over x [1, 3]: a WHILE
// whose cond (subgraph 1) is LESS(i, n) and whose body (subgraph 2) adds 1
// to i and applies MUL and ADD to v. Outputs: the final v, then i.
func CounterLoop(n int) *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 3}})
	i0 := g.AddTensor(Ints("i0", []int{1}, 0))
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 3}})
	iOut := g.AddTensor(&graph.Tensor{Name: "i_out", DType: graph.Int32, Shape: []int{1}})
	g.AddOp(graph.OpWhile, []int{i0, x}, []int{iOut, y}, &graph.SubgraphOptions{Cond: 1, Body: 2, Then: -1, Else: -1, Init: -1})
	g.Inputs, g.Outputs = []int{x}, []int{y, iOut}

	cond := &graph.Graph{Name: "cond"}
	ci := cond.AddTensor(&graph.Tensor{Name: "i", DType: graph.Int32, Shape: []int{1}})
	cv := cond.AddTensor(&graph.Tensor{Name: "v", DType: graph.Float32, Shape: []int{1, 3}})
	cn := cond.AddTensor(Ints("n", []int{1}, n))
	cc := cond.AddTensor(&graph.Tensor{Name: "go_on", DType: graph.Bool, Shape: []int{1}})
	cond.AddOp(graph.OpLess, []int{ci, cn}, []int{cc}, nil)
	cond.Inputs, cond.Outputs = []int{ci, cv}, []int{cc}

	body := &graph.Graph{Name: "body"}
	bi := body.AddTensor(&graph.Tensor{Name: "i", DType: graph.Int32, Shape: []int{1}})
	bv := body.AddTensor(&graph.Tensor{Name: "v", DType: graph.Float32, Shape: []int{1, 3}})
	one := body.AddTensor(Ints("one", []int{1}, 1))
	c := body.AddTensor(floats("c", []int{3}, 1.5, -0.75, 0.5))
	d := body.AddTensor(floats("d", []int{1}, 0.25))
	bi2 := body.AddTensor(&graph.Tensor{Name: "i_next", DType: graph.Int32, Shape: []int{1}})
	bm := body.AddTensor(&graph.Tensor{Name: "vc", DType: graph.Float32, Shape: []int{1, 3}})
	bv2 := body.AddTensor(&graph.Tensor{Name: "v_next", DType: graph.Float32, Shape: []int{1, 3}})
	body.AddOp(graph.OpAdd, []int{bi, one}, []int{bi2}, &graph.AddOptions{})
	body.AddOp(graph.OpMul, []int{bv, c}, []int{bm}, &graph.ArithOptions{})
	body.AddOp(graph.OpAdd, []int{bm, d}, []int{bv2}, &graph.AddOptions{})
	body.Inputs, body.Outputs = []int{bi, bv}, []int{bi2, bv2}
	g.Subgraphs = []*graph.Graph{cond, body}
	return g
}

// IfBranches is y = IF(SUM(x) > 0, then: x·3, else: RELU(x) − 1) over
// x [1, 4]; then is subgraph 1, else subgraph 2.
func IfBranches() *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 4}})
	s := g.AddTensor(&graph.Tensor{Name: "sum", DType: graph.Float32, Shape: []int{1}})
	zero := g.AddTensor(floats("zero", []int{1}, 0))
	c := g.AddTensor(&graph.Tensor{Name: "positive", DType: graph.Bool, Shape: []int{1}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 4}})
	g.AddOp(graph.OpSum, []int{x, g.AddTensor(Ints("axis", []int{1}, 1))}, []int{s}, &graph.ReducerOptions{})
	g.AddOp(graph.OpGreater, []int{s, zero}, []int{c}, nil)
	g.AddOp(graph.OpIf, []int{c, x}, []int{y}, &graph.SubgraphOptions{Then: 1, Else: 2, Cond: -1, Body: -1, Init: -1})
	g.Inputs, g.Outputs = []int{x}, []int{y}

	then := &graph.Graph{Name: "then"}
	tx := then.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 4}})
	ty := then.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 4}})
	then.AddOp(graph.OpMul, []int{tx, then.AddTensor(floats("three", []int{1}, 3))}, []int{ty}, &graph.ArithOptions{})
	then.Inputs, then.Outputs = []int{tx}, []int{ty}

	els := &graph.Graph{Name: "else"}
	ex := els.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 4}})
	er := els.AddTensor(&graph.Tensor{Name: "r", DType: graph.Float32, Shape: []int{1, 4}})
	ey := els.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 4}})
	els.AddOp(graph.OpRelu, []int{ex}, []int{er}, nil)
	els.AddOp(graph.OpAdd, []int{er, els.AddTensor(floats("minus_one", []int{1}, -1))}, []int{ey}, &graph.AddOptions{})
	els.Inputs, els.Outputs = []int{ex}, []int{ey}
	g.Subgraphs = []*graph.Graph{then, els}
	return g
}

// CallOnce is y = RELU(x) over x [1, 5] after a CALL_ONCE of subgraph 1, an
// init subgraph without inputs or outputs whose one op computes a constant
// it does not keep (what remains of an initializer without resource
// variables).
func CallOnce() *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{1, 5}})
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{1, 5}})
	g.AddOp(graph.OpCallOnce, nil, nil, &graph.SubgraphOptions{Init: 1, Cond: -1, Body: -1, Then: -1, Else: -1})
	g.AddOp(graph.OpRelu, []int{x}, []int{y}, nil)
	g.Inputs, g.Outputs = []int{x}, []int{y}
	init := &graph.Graph{Name: "init"}
	init.Inputs, init.Outputs = []int{}, []int{}
	g.Subgraphs = []*graph.Graph{init}
	return g
}
