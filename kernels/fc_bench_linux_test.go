package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BenchmarkFCInt8 runs seed-cnn's two int8 dense layers (3200→256 RELU,
// 256→30) at batch 1, 8 and 64 in thread CPU time per image (cpu-ns/op
// is per batch): batch 1 streams the weights (GEMV), batch 64 is a GEMM.
func BenchmarkFCInt8(b *testing.B) {
	for _, s := range []struct{ depth, n int }{{3200, 256}, {256, 30}} {
		for _, batch := range []int{1, 8, 64} {
			b.Run(fmt.Sprintf("%dx%d/b%d", s.depth, s.n, batch), func(b *testing.B) {
				r := rand.New(rand.NewPCG(3, 4))
				in := qt("in", graph.Int8, []int{batch, s.depth}, []float32{0.02}, []int64{-128})
				out := qt("out", graph.Int8, []int{batch, s.n}, []float32{0.1}, []int64{-128})
				bias := make([]int32, s.n)
				for i := range bias {
					bias[i] = int32(r.IntN(2001) - 1000)
				}
				ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{s.n, s.depth}, randI8(r, s.n*s.depth, 255), []float32{0.002}), constI32("b", bias, nil)}
				op := &graph.Op{Kind: graph.OpFullyConnected, Options: &graph.FullyConnectedOptions{Activation: graph.ActRelu}}
				k, err := prepareFullyConnectedRounding(op, ins, []*graph.Tensor{out}, fixedpoint.RuntimeRounding)
				if err != nil {
					b.Fatal(err)
				}
				x := []*Buffer{{DType: graph.Int8, I8: randI8(r, batch*s.depth, 256)}}
				y := []*Buffer{{DType: graph.Int8, I8: make([]int8, batch*s.n)}}
				runKernelCPU(b, k, x, y, batch)
			})
		}
	}
}
