package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestFullyConnectedFloatBatchMatchesAlone checks that a float dense
// layer gives each row the same bits whether it runs alone (batch 1) or
// inside a batch of any size: callers such as compare batch images as
// they arrive and promise results independent of that grouping, while
// the kernel's tile shape does depend on the batch (PackF32Rows).
func TestFullyConnectedFloatBatchMatchesAlone(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, sh := range [][2]int{{3200, 256}, {256, 30}, {77, 131}, {1, 5}} {
		depth, n := sh[0], sh[1]
		wv := make([]float32, n*depth)
		for i := range wv {
			wv[i] = float32(r.NormFloat64()) / float32(math.Sqrt(float64(depth)))
		}
		bias := make([]float32, n)
		for i := range bias {
			bias[i] = float32(r.NormFloat64())
		}
		w, b := constF32("w", []int{n, depth}, wv), constF32("b", []int{n}, bias)
		opts := &graph.FullyConnectedOptions{Activation: graph.ActRelu}
		for _, rows := range []int{2, 5, 7, 16, 64} {
			x := make([]float32, rows*depth)
			for i := range x {
				x[i] = float32(r.NormFloat64())
			}
			in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{rows, depth}}
			out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{rows, n}}
			batched := runFC(t, opts, []*graph.Tensor{in, w, b}, out, &Buffer{DType: graph.Float32, F32: x})
			in1 := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, depth}}
			out1 := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, n}}
			for row := 0; row < rows; row++ {
				alone := runFC(t, opts, []*graph.Tensor{in1, w, b}, out1, &Buffer{DType: graph.Float32, F32: x[row*depth : (row+1)*depth]})
				for j, v := range alone.F32 {
					if got := batched.F32[row*n+j]; math.Float32bits(got) != math.Float32bits(v) {
						t.Fatalf("%dx%d, batch %d: row %d column %d = %v in the batch, %v alone", depth, n, rows, row, j, got, v)
					}
				}
			}
		}
	}
}
