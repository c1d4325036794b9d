package interp_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/opcases"
	"github.com/qbench/qbench/interp"
)

// flattenGraph is Keras Flatten as converters write it: x [b, 3, 4] →
// RESHAPE(x, PACK(STRIDED_SLICE(SHAPE(x), 0:1, shrink), -1)) → [b, 12].
func flattenGraph(shapeIn bool) *graph.Graph {
	g := &graph.Graph{}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{2, 3, 4}})
	shp := g.AddTensor(&graph.Tensor{Name: "shape", DType: graph.Int32, Shape: []int{3}})
	if shapeIn { // the shape comes in as a graph input: nothing folds
		g.Tensors[shp].Name = "shape_in"
	} else {
		g.AddOp(graph.OpShape, []int{x}, []int{shp}, &graph.ShapeOptions{OutType: graph.Int32})
	}
	n := g.AddTensor(&graph.Tensor{Name: "n", DType: graph.Int32, Shape: []int{}})
	g.AddOp(graph.OpStridedSlice, []int{shp, g.AddTensor(opcases.Ints("b", nil, 0)), g.AddTensor(opcases.Ints("e", nil, 1)),
		g.AddTensor(opcases.Ints("s", nil, 1))}, []int{n}, &graph.StridedSliceOptions{ShrinkAxisMask: 1})
	tgt := g.AddTensor(&graph.Tensor{Name: "target", DType: graph.Int32, Shape: []int{2}})
	g.AddOp(graph.OpPack, []int{n, g.AddTensor(opcases.Ints("m1", []int{}, -1))}, []int{tgt}, &graph.PackOptions{ValuesCount: 2})
	if shapeIn {
		g.Inputs, g.Outputs = []int{shp}, []int{tgt}
		return g
	}
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{2, 12}})
	g.AddOp(graph.OpReshape, []int{x, tgt}, []int{y}, &graph.ReshapeOptions{})
	g.Inputs, g.Outputs = []int{x}, []int{y}
	return g
}

func TestFoldShapeArithmetic(t *testing.T) {
	g := flattenGraph(false)
	f, rep, err := interp.Fold(g)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Ops) != 3 || len(f.Ops) != 1 || f.Ops[0].Kind != graph.OpReshape {
		t.Fatalf("folded %v, left %d ops", rep, len(f.Ops))
	}
	if !strings.Contains(rep.String(), "SHAPE ×1") || !strings.Contains(rep.String(), "PACK ×1") {
		t.Errorf("report %q", rep)
	}
	if tg := f.Tensors[f.Ops[0].Inputs[1]]; !tg.IsConst() || !slices.Equal(tg.Int32s(), []int32{2, -1}) {
		t.Errorf("reshape target %v, want constant [2 -1]", tg)
	}
	if len(g.Ops) != 4 || g.Tensors[f.Ops[0].Inputs[1]].IsConst() {
		t.Error("Fold modified its argument")
	}
	// Compile folds too, and at another batch the shape follows.
	p, err := interp.Compile(g, interp.Options{Batch: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Folded().Ops) != 3 || !slices.Equal(p.OutputTensor(0).Shape, []int{3, 12}) {
		t.Errorf("batch 3: folded %v, output %v", p.Folded(), p.OutputTensor(0).Shape)
	}
	e := p.NewExecutor()
	x := make([]float32, 36)
	for i := range x {
		x[i] = float32(i)
	}
	if err := e.SetInputFloat(0, x); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(e.OutputFloat(0, nil), x) {
		t.Error("flattened values differ")
	}
}

// TestUnfoldableShapeOpsRun: the same ops on a dynamic shape input run as
// kernels, op by op.
func TestUnfoldableShapeOpsRun(t *testing.T) {
	g := flattenGraph(true)
	p, err := interp.Compile(g, interp.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Folded().Ops) != 0 || len(p.Graph().Ops) != 2 {
		t.Fatalf("folded %v", p.Folded())
	}
	e := p.NewExecutor()
	if err := e.SetInputBytes(0, graph.EncodeInt32s([]int32{7, 3, 4})); err != nil {
		t.Fatal(err)
	}
	if err := e.Run(); err != nil {
		t.Fatal(err)
	}
	if got := e.Output(0).I32; !slices.Equal(got, []int32{7, -1}) {
		t.Errorf("got %v, want [7 -1]", got)
	}
}

// TestFoldMultiOutput: SPLIT and UNPACK of constants fold into several
// constants; on an activation they run, their outputs planned apart, and
// an unread output is written harmlessly.
func TestFoldMultiOutput(t *testing.T) {
	for _, constIn := range []bool{true, false} {
		g := &graph.Graph{}
		x := g.AddTensor(&graph.Tensor{Name: "x", DType: graph.Float32, Shape: []int{3, 2}})
		c := g.AddTensor(&graph.Tensor{Name: "c", DType: graph.Float32, Shape: []int{3, 2}, Data: graph.EncodeFloat32s([]float32{1, 2, 3, 4, 5, 6})})
		src := x
		if constIn {
			src = c
		}
		var parts []int
		for i := range 3 {
			parts = append(parts, g.AddTensor(&graph.Tensor{Name: "p" + string(rune('0'+i)), DType: graph.Float32, Shape: []int{2}}))
		}
		g.AddOp(graph.OpUnpack, []int{src}, parts, &graph.UnpackOptions{Num: 3})
		s0 := g.AddTensor(&graph.Tensor{Name: "s0", DType: graph.Float32, Shape: []int{1}})
		s1 := g.AddTensor(&graph.Tensor{Name: "s1", DType: graph.Float32, Shape: []int{1}})
		g.AddOp(graph.OpSplit, []int{g.AddTensor(opcases.Ints("axis", []int{}, 0)), parts[2]}, []int{s0, s1}, &graph.SplitOptions{NumSplits: 2})
		y := g.AddTensor(&graph.Tensor{Name: "y", DType: graph.Float32, Shape: []int{2}})
		g.AddOp(graph.OpConcatenation, []int{s1, s0}, []int{y}, &graph.ConcatenationOptions{})
		g.Inputs, g.Outputs = []int{x}, []int{y, parts[1]}
		p, err := interp.Compile(g, interp.Options{})
		if err != nil {
			t.Fatal(err)
		}
		e := p.NewExecutor()
		if err := e.SetInputFloat(0, []float32{1, 2, 3, 4, 5, 6}); err != nil {
			t.Fatal(err)
		}
		if err := e.Run(); err != nil {
			t.Fatal(err)
		}
		if got := e.OutputFloat(0, nil); !slices.Equal(got, []float32{6, 5}) {
			t.Errorf("const=%v: y = %v, want [6 5]", constIn, got)
		}
		if got := e.OutputFloat(1, nil); !slices.Equal(got, []float32{3, 4}) {
			t.Errorf("const=%v: p1 = %v, want [3 4]", constIn, got)
		}
		if constIn && len(p.Graph().Ops) != 0 {
			t.Errorf("constant UNPACK/SPLIT/CONCATENATION left %d ops", len(p.Graph().Ops))
		}
	}
}
