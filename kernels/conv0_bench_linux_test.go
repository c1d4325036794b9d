package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BenchmarkConv0S8 runs seed-cnn int8's first layer (80×80×3 → 16, 3×3
// SAME, RELU, per-channel scales, runtime rounding) on pathAuto at
// batches 1 and 8, in thread CPU time per image.
func BenchmarkConv0S8(b *testing.B) {
	for _, batch := range []int{1, 8} {
		b.Run(fmt.Sprintf("b%d", batch), func(b *testing.B) {
			r := rand.New(rand.NewPCG(5, 6))
			sc := make([]float32, 16)
			for i := range sc {
				sc[i] = 0.002 + 0.004*r.Float32()
			}
			bias := make([]int32, 16)
			for i := range bias {
				bias[i] = int32(r.IntN(2000) - 1000)
			}
			in := qt("in", graph.Int8, []int{batch, 80, 80, 3}, []float32{0.02}, []int64{-1})
			w := constI8("w", graph.Int8, []int{16, 3, 3, 3}, randI8(r, 16*27, 255), sc)
			out := qt("out", graph.Int8, []int{batch, 80, 80, 16}, []float32{0.05}, []int64{-128})
			op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
			k, err := prepareConv2DWith(op, []*graph.Tensor{in, w, constI32("b", bias, nil)}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, pathAuto)
			if err != nil {
				b.Fatal(err)
			}
			x := []*Buffer{{DType: graph.Int8, I8: randI8(r, batch*80*80*3, 256)}}
			y := []*Buffer{{DType: graph.Int8, I8: make([]int8, batch*80*80*16)}}
			runKernelCPU(b, k, x, y, batch)
		})
	}
}
