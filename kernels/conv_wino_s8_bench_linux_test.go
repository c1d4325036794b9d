package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BenchmarkConvInt8Winograd compares pathAuto with the direct
// (segmented) conv and the 1-D and 2-D integer Winograd forms on
// seed-cnn's and mlt_resnet8_i8's 3×3 stride-1 layers (batch 1, thread
// CPU time per image). Run it under the AVX2-only or Skylake-SP GODEBUG
// to see the int16-pair families, where pathAuto picks Winograd.
func BenchmarkConvInt8Winograd(b *testing.B) {
	type shape struct{ hw, cin, cout, batch int }
	for _, s := range []shape{{40, 16, 32, 1}, {20, 32, 64, 1}, {10, 64, 128, 1}, {32, 16, 16, 1}, {16, 32, 32, 1}, {8, 64, 64, 1}, {20, 32, 64, 8}, {10, 64, 128, 8}, {8, 64, 64, 8}} {
		for _, path := range []convPath{pathAuto, pathSegmented, pathWinograd, pathWinograd2D} {
			name := map[convPath]string{pathAuto: "auto", pathSegmented: "seg", pathWinograd: "wino", pathWinograd2D: "wino2"}[path]
			b.Run(fmt.Sprintf("%dx%dx%dx%d/%s", s.batch, s.hw, s.cin, s.cout, name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				c := convCase{batch: s.batch, inH: s.hw, inW: s.hw, inC: s.cin, outC: s.cout, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}
				sc := make([]float32, s.cout)
				for i := range sc {
					sc[i] = 0.001 + 0.01*r.Float32()
				}
				in := qt("in", graph.Int8, []int{s.batch, s.hw, s.hw, s.cin}, []float32{0.05}, []int64{-128})
				out := qt("out", graph.Int8, []int{s.batch, s.hw, s.hw, s.cout}, []float32{0.2}, []int64{-128})
				op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
				ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{s.cout, 3, 3, s.cin}, randI8(r, s.cout*9*s.cin, 101), sc), constI32("b", make([]int32, s.cout), nil)}
				k, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, path)
				if err != nil {
					b.Fatal(err)
				}
				x := []*Buffer{{DType: graph.Int8, I8: randI8(r, s.batch*s.hw*s.hw*s.cin, 256)}}
				y := []*Buffer{{DType: graph.Int8, I8: make([]int8, s.batch*s.hw*s.hw*s.cout)}}
				runKernelCPU(b, k, x, y, s.batch)
			})
		}
	}
}
