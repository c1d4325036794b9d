package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// BenchmarkConvInt8Paths runs int8 3x3 convs of mlt_resnet8_i8's and
// mlt_vww96_i8's shapes (batch 8) on pathAuto, the im2col path and the
// forced segmented one ("seg": per-row calls when strided), in thread
// CPU time per image (cpu-ns/op is per batch).
func BenchmarkConvInt8Paths(b *testing.B) {
	type shape struct{ hw, cin, cout, f, stride int }
	for _, s := range []shape{{32, 16, 16, 3, 1}, {32, 16, 32, 3, 2}, {16, 32, 64, 3, 2}, {96, 3, 8, 3, 2}, {8, 64, 64, 3, 1}} {
		for _, path := range []convPath{pathAuto, pathIm2col, pathSegmented} {
			name := map[convPath]string{pathAuto: "auto", pathIm2col: "im2col", pathSegmented: "seg"}[path]
			b.Run(fmt.Sprintf("%dx%dx%d-f%ds%d/%s", s.hw, s.cin, s.cout, s.f, s.stride, name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 2))
				const batch = 8
				c := convCase{batch: batch, inH: s.hw, inW: s.hw, inC: s.cin, outC: s.cout, fH: s.f, fW: s.f, sH: s.stride, sW: s.stride, dH: 1, dW: 1, pad: graph.PaddingSame}
				outH, outW := c.outSize()
				sc := make([]float32, s.cout)
				for i := range sc {
					sc[i] = 0.001 + 0.01*r.Float32()
				}
				in := qt("in", graph.Int8, []int{batch, s.hw, s.hw, s.cin}, []float32{0.05}, []int64{-128})
				out := qt("out", graph.Int8, []int{batch, outH, outW, s.cout}, []float32{0.2}, []int64{-128})
				op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: s.stride, StrideW: s.stride, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
				ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{s.cout, s.f, s.f, s.cin}, randI8(r, s.cout*s.f*s.f*s.cin, 255), sc), constI32("b", make([]int32, s.cout), nil)}
				k, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, path)
				if err != nil {
					b.Fatal(err)
				}
				x := []*Buffer{{DType: graph.Int8, I8: randI8(r, batch*s.hw*s.hw*s.cin, 256)}}
				y := []*Buffer{{DType: graph.Int8, I8: make([]int8, batch*outH*outW*s.cout)}}
				runKernelCPU(b, k, x, y, batch)
			})
		}
	}
}
