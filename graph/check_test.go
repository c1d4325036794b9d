package graph

import (
	"errors"
	"strings"
	"testing"
)

func TestCheckShapes(t *testing.T) {
	build := func(declared []int) *Graph {
		g := &Graph{}
		in := g.AddTensor(&Tensor{Name: "input", Shape: []int{1, 65535, 16, 3}, DType: Float32})
		w := g.AddTensor(&Tensor{Name: "w", Shape: []int{4, 3, 3, 3}, DType: Float32, Data: make([]byte, 4*27*4)})
		c := g.AddTensor(&Tensor{Name: "conv0", Shape: declared, DType: Float32})
		g.AddOp(OpConv2D, []int{in, w, -1}, []int{c}, &Conv2DOptions{StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
		r := g.AddTensor(&Tensor{Name: "relu", Shape: declared, DType: Float32})
		g.AddOp(OpRelu, []int{c}, []int{r}, nil)
		g.Inputs, g.Outputs = []int{in}, []int{r}
		return g
	}
	if err := CheckShapes(build([]int{1, 65535, 16, 4})); err != nil {
		t.Fatalf("consistent graph refused: %v", err)
	}
	g := build([]int{1, 16, 16, 4})
	err := CheckShapes(g)
	if !errors.Is(err, ErrShape) {
		t.Fatalf("err = %v", err)
	}
	for _, want := range []string{`op 0 (CONV_2D) -> tensor "conv0"`, "declared [1 16 16 4]", "give [1 65535 16 4]"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
	if g.Tensors[2].Shape[1] != 16 {
		t.Errorf("CheckShapes modified the graph")
	}
	// An op without a shape rule makes its output uncertain: the op
	// reading it is not judged on the declaration.
	g = build([]int{1, 65535, 16, 4})
	g.Ops[0].Kind = OpWhile // no shape rule: its outputs come from a body
	g.Tensors[2].Shape = []int{7}
	if err := CheckShapes(g); err != nil {
		t.Errorf("op after a rule-less op judged: %v", err)
	}
}

// TestCheckShapesFillsUnsetOutputs: the converter leaves some op outputs
// (TFLite_Detection_PostProcess's) declared as [] for Prepare to size;
// CheckShapes gives them the inferred shape, and the ops after them are
// checked against it. A declared scalar that is really a scalar stays.
func TestCheckShapesFillsUnsetOutputs(t *testing.T) {
	g := &Graph{}
	in := g.AddTensor(&Tensor{Name: "input", Shape: []int{1, 8, 8, 3}, DType: Float32})
	w := g.AddTensor(&Tensor{Name: "w", Shape: []int{4, 3, 3, 3}, DType: Float32, Data: make([]byte, 4*27*4)})
	c := g.AddTensor(&Tensor{Name: "conv0", DType: Float32}) // declared []
	g.AddOp(OpConv2D, []int{in, w, -1}, []int{c}, &Conv2DOptions{StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
	r := g.AddTensor(&Tensor{Name: "relu", Shape: []int{1, 8, 8, 4}, DType: Float32})
	g.AddOp(OpRelu, []int{c}, []int{r}, nil)
	g.Inputs, g.Outputs = []int{in}, []int{r}
	if err := CheckShapes(g); err != nil {
		t.Fatalf("graph with an unset output shape refused: %v", err)
	}
	if got := g.Tensors[c].Shape; !equalShape(got, []int{1, 8, 8, 4}) {
		t.Errorf("unset output shape became %v, want [1 8 8 4] (SAME padding)", got)
	}
	// The op after it is judged on the filled-in shape.
	g.Tensors[c].Shape = nil
	g.Tensors[r].Shape = []int{1, 6, 6, 4}
	if err := CheckShapes(g); !errors.Is(err, ErrShape) || !strings.Contains(err.Error(), `tensor "relu"`) {
		t.Errorf("contradicting declaration after an unset shape: %v", err)
	}
}
