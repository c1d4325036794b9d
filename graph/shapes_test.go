package graph

import (
	"errors"
	"reflect"
	"testing"
)

func act(g *Graph, name string, dt DType, shape ...int) int {
	return g.AddTensor(&Tensor{Name: name, DType: dt, Shape: shape})
}

func constI32(g *Graph, name string, v ...int32) int {
	return g.AddTensor(&Tensor{Name: name, DType: Int32, Shape: []int{len(v)}, Data: EncodeInt32s(v)})
}

// cnn: conv 3x3 SAME stride 1 → maxpool 2x2/2 → pad → mean(1,2) keep →
// reshape [-1, 8] → FC 8→5 → concat with itself on axis 1 → ADD broadcast.
func cnn() *Graph {
	g := &Graph{}
	x := act(g, "x", Float32, 1, 10, 10, 3)
	w := g.AddTensor(&Tensor{Name: "w", DType: Float32, Shape: []int{8, 3, 3, 3}, Data: make([]byte, 8*27*4)})
	c := act(g, "conv", Float32, 1, 10, 10, 8)
	p := act(g, "pool", Float32, 1, 5, 5, 8)
	pd := act(g, "pad", Float32, 1, 7, 7, 8)
	m := act(g, "mean", Float32, 1, 1, 1, 8)
	r := act(g, "flat", Float32, 1, 8)
	fw := g.AddTensor(&Tensor{Name: "fw", DType: Float32, Shape: []int{5, 8}, Data: make([]byte, 5*8*4)})
	f := act(g, "fc", Float32, 1, 5)
	cc := act(g, "cat", Float32, 1, 10)
	b := g.AddTensor(&Tensor{Name: "b", DType: Float32, Shape: []int{10}, Data: make([]byte, 40)})
	y := act(g, "y", Float32, 1, 10)
	g.Inputs, g.Outputs = []int{x}, []int{y}
	g.AddOp(OpConv2D, []int{x, w, -1}, []int{c}, &Conv2DOptions{Padding: PaddingSame, StrideW: 1, StrideH: 1, DilationW: 1, DilationH: 1})
	g.AddOp(OpMaxPool2D, []int{c}, []int{p}, &Pool2DOptions{Padding: PaddingValid, StrideW: 2, StrideH: 2, FilterW: 2, FilterH: 2})
	g.AddOp(OpPad, []int{p, constI32(g, "paddings", 0, 0, 1, 1, 1, 1, 0, 0)}, []int{pd}, nil)
	g.AddOp(OpMean, []int{pd, constI32(g, "axes", 1, -2)}, []int{m}, &ReducerOptions{KeepDims: true})
	g.AddOp(OpReshape, []int{m, constI32(g, "shape", -1, 8)}, []int{r}, nil)
	g.AddOp(OpFullyConnected, []int{r, fw, -1}, []int{f}, &FullyConnectedOptions{})
	g.AddOp(OpConcatenation, []int{f, f}, []int{cc}, &ConcatenationOptions{Axis: -1})
	g.AddOp(OpAdd, []int{cc, b}, []int{y}, &AddOptions{})
	return g
}

func TestInferShapesKeepsConsistentShapes(t *testing.T) {
	g := cnn()
	want := g.Clone()
	if err := InferShapes(g, nil); err != nil {
		t.Fatal(err)
	}
	for i := range g.Tensors {
		if !reflect.DeepEqual(g.Tensors[i].Shape, want.Tensors[i].Shape) {
			t.Errorf("tensor %q: %v, want %v", g.Tensors[i].Name, g.Tensors[i].Shape, want.Tensors[i].Shape)
		}
	}
}

func TestInferShapesBatch(t *testing.T) {
	g := cnn()
	if err := InferShapes(g, [][]int{{4, 10, 10, 3}}); err != nil {
		t.Fatal(err)
	}
	want := map[string][]int{
		"conv": {4, 10, 10, 8}, "pool": {4, 5, 5, 8}, "pad": {4, 7, 7, 8}, "mean": {4, 1, 1, 8},
		"flat": {4, 8}, "fc": {4, 5}, "cat": {4, 10}, "y": {4, 10},
	}
	for _, tn := range g.Tensors {
		if w, ok := want[tn.Name]; ok && !reflect.DeepEqual(tn.Shape, w) {
			t.Errorf("%s: %v, want %v", tn.Name, tn.Shape, w)
		}
	}
}

func TestInferShapesErrors(t *testing.T) {
	g := cnn()
	if err := InferShapes(g, [][]int{{4, 10, 10}}); !errors.Is(err, ErrShape) {
		t.Errorf("rank change: %v", err)
	}
	if err := InferShapes(cnn(), [][]int{{1, 10, 10, 3}, {1}}); !errors.Is(err, ErrShape) {
		t.Errorf("too many input shapes: %v", err)
	}
	g = cnn()
	g.Tensors[0].Shape = []int{1, 10, 10, 3}
	// FC weights that do not divide the input.
	g.Tensors[7].Shape = []int{5, 3}
	g.Tensors[7].Data = make([]byte, 60)
	if err := InferShapes(g, nil); !errors.Is(err, ErrShape) {
		t.Errorf("FC depth mismatch: %v", err)
	}
}

func TestBroadcastShapes(t *testing.T) {
	cases := []struct{ a, b, want []int }{
		{[]int{2, 1, 3}, []int{4, 1}, []int{2, 4, 3}},
		{[]int{}, []int{5}, []int{5}},
		{[]int{1}, []int{2, 3}, []int{2, 3}},
	}
	for _, c := range cases {
		got, err := BroadcastShapes(c.a, c.b)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v, %v: %v %v, want %v", c.a, c.b, got, err, c.want)
		}
	}
	if _, err := BroadcastShapes([]int{2}, []int{3}); err == nil {
		t.Error("[2] and [3] broadcast")
	}
}

func TestResolveReshape(t *testing.T) {
	cases := []struct{ from, target, want []int }{
		{[]int{2, 3, 4}, []int{-1, 4}, []int{6, 4}},
		{[]int{1, 6}, []int{2, 3}, []int{2, 3}},
		{[]int{1}, []int{}, []int{}},
		{[]int{5, 8}, []int{1, 2, 4}, []int{5, 2, 4}}, // saved for batch 1, run with 5
	}
	for _, c := range cases {
		got, err := ResolveReshape(c.from, c.target)
		if err != nil || !reflect.DeepEqual(got, c.want) {
			t.Errorf("%v → %v: %v %v, want %v", c.from, c.target, got, err, c.want)
		}
	}
	for _, bad := range [][]int{{-1, -1}, {7}, {-2, 3}, {0, -1}} {
		if _, err := ResolveReshape([]int{2, 3}, bad); err == nil {
			t.Errorf("reshape [2 3] → %v accepted", bad)
		}
	}
}
