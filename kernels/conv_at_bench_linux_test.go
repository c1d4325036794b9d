package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BenchmarkConvInt8Conv0 runs seed-cnn's first conv (80×80×3 → 16, 3×3
// SAME, stride 1, RELU, runtime rounding) on pathAuto at batch 1 and 8,
// in thread CPU time per image: on AVX2 without AVX-512 it is the
// table-addressed wide path (conv_at_s8w.go).
func BenchmarkConvInt8Conv0(b *testing.B) {
	const hw, cin, cout = 80, 3, 16
	for _, batch := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch%d", batch), func(b *testing.B) {
			r := rand.New(rand.NewPCG(1, 2))
			sc := make([]float32, cout)
			for i := range sc {
				sc[i] = 0.001 + 0.01*r.Float32()
			}
			in := qt("in", graph.Int8, []int{batch, hw, hw, cin}, []float32{0.05}, []int64{-128})
			out := qt("out", graph.Int8, []int{batch, hw, hw, cout}, []float32{0.2}, []int64{-128})
			op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
			ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{cout, 3, 3, cin}, randI8(r, cout*9*cin, 255), sc), constI32("b", make([]int32, cout), nil)}
			k, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, pathAuto)
			if err != nil {
				b.Fatal(err)
			}
			if c, ok := k.(*convInt8); !ok || c.at == nil {
				b.Log("not the table-addressed wide path")
			}
			x := []*Buffer{{DType: graph.Int8, I8: randI8(r, batch*hw*hw*cin, 256)}}
			y := []*Buffer{{DType: graph.Int8, I8: make([]int8, batch*hw*hw*cout)}}
			runKernelCPU(b, k, x, y, batch)
		})
	}
}
