package interp_test

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/internal/opcases"
	"github.com/qbench/qbench/internal/oracle"
	"github.com/qbench/qbench/interp"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/tflite"
)

// computedSizeNet resizes x [1,4,5,2] twice to 8x10: once with a constant
// size, once with the size computed from x's shape (SHAPE → STRIDED_SLICE
// → MUL by 2), as Keras upsampling layers with dynamic shapes compile. The
// computed one is dynamic in TFLite, so its XNNPACK delegate leaves it to
// the builtin kernel; qbench folds the size at load and must still pick
// the builtin arithmetic.
func computedSizeNet(dt graph.DType, o graph.ResizeOptions, computed bool) *graph.Graph {
	g := &graph.Graph{}
	var q *graph.Quantization
	switch dt {
	case graph.Int8:
		q = &graph.Quantization{Scale: []float32{0.05}, ZeroPoint: []int64{-3}}
	case graph.UInt8:
		q = &graph.Quantization{Scale: []float32{0.05}, ZeroPoint: []int64{130}}
	}
	x := g.AddTensor(&graph.Tensor{Name: "x", DType: dt, Shape: []int{1, 4, 5, 2}, Quant: q})
	shp := g.AddTensor(&graph.Tensor{Name: "shape", DType: graph.Int32, Shape: []int{4}})
	g.AddOp(graph.OpShape, []int{x}, []int{shp}, &graph.ShapeOptions{OutType: graph.Int32})
	hw := g.AddTensor(&graph.Tensor{Name: "hw", DType: graph.Int32, Shape: []int{2}})
	g.AddOp(graph.OpStridedSlice, []int{shp, g.AddTensor(opcases.Ints("b", nil, 1)), g.AddTensor(opcases.Ints("e", nil, 3)),
		g.AddTensor(opcases.Ints("s", nil, 1))}, []int{hw}, &graph.StridedSliceOptions{})
	size := g.AddTensor(&graph.Tensor{Name: "size", DType: graph.Int32, Shape: []int{2}})
	g.AddOp(graph.OpMul, []int{hw, g.AddTensor(opcases.Ints("two", nil, 2, 2))}, []int{size}, &graph.ArithOptions{})
	if !computed {
		g = &graph.Graph{}
		x = g.AddTensor(&graph.Tensor{Name: "x", DType: dt, Shape: []int{1, 4, 5, 2}, Quant: q})
		size = g.AddTensor(opcases.Ints("size_const", nil, 8, 10))
	}
	y := g.AddTensor(&graph.Tensor{Name: "y", DType: dt, Shape: []int{1, 8, 10, 2}, Quant: q.Clone()})
	g.AddOp(graph.OpResizeBilinear, []int{x, size}, []int{y}, &o)
	g.Inputs, g.Outputs = []int{x}, []int{y}
	return g
}

// TestResizeComputedSizeMatchesTFLite: both resizes, constant and computed
// size, are bit-identical with the oracle (runtime rounding) in float32,
// int8 and uint8 and every option set; for 8-bit types the two differ
// from each other (the delegate's 11-bit weights against the builtin
// kernel), so the test also shows which arithmetic each one needs.
func TestResizeComputedSizeMatchesTFLite(t *testing.T) {
	or, err := oracle.Find()
	if err != nil {
		t.Skip(err)
	}
	if testing.Short() {
		t.Skip("runs node; skipped with -short")
	}
	or = freshOutputs(t, or)
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(9, 9))
	n, agree := 0, 0
	for _, dt := range []graph.DType{graph.Float32, graph.Int8, graph.UInt8} {
		for _, o := range []graph.ResizeOptions{{}, {AlignCorners: true}, {HalfPixelCenters: true}} {
			in := opcases.RandomData(rng, dt, 40)
			for _, computed := range []bool{false, true} {
				n++
				g := computedSizeNet(dt, o, computed)
				path := filepath.Join(dir, fmt.Sprintf("rz-%s-%v-%v-%v.tflite", dt, o.AlignCorners, o.HalfPixelCenters, computed))
				if err := tflite.WriteFile(path, g); err != nil {
					t.Fatal(err)
				}
				want, err := oracleOutputs(or, path, in)
				if err != nil {
					t.Fatalf("%s %+v: %v", dt, o, err)
				}
				p, err := interp.Compile(g, interp.Options{Rounding: fixedpoint.RuntimeRounding})
				if err != nil {
					t.Fatal(err)
				}
				e := p.NewExecutor()
				if err := e.SetInputBytes(0, in); err != nil {
					t.Fatal(err)
				}
				if err := e.Run(); err != nil {
					t.Fatal(err)
				}
				got := e.AppendOutputBytes(0, nil)
				if !bytes.Equal(got, want[0]) {
					t.Errorf("%s %+v computed size %v: qbench differs from TFLite: qbench %v oracle %v", dt, o, computed, got[:16], want[0][:16])
					continue
				}
				agree++
			}
		}
	}
	t.Logf("%d of %d resizes (constant and computed sizes) identical with TFLite", agree, n)
}
