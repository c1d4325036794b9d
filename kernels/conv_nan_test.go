package kernels

import (
	"math"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestFloatNaNPropagates checks that a NaN input reaches every output that
// depends on it, through each float conv path and the dense layer, with
// and without a fused activation: TFLite's clamp is
// min(max(x, lo), hi) with std::max/std::min, which keep a NaN, and an
// x86 MAXPS/MINPS with its operands the wrong way round would silently
// turn it into lo or hi instead.
func TestFloatNaNPropagates(t *testing.T) {
	const h, w, cin, cout = 9, 11, 5, 37
	nan := float32(math.NaN())
	for _, path := range []convPath{pathAuto, pathIm2col, pathSegmented} {
		for _, act := range []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6} {
			xs := make([]float32, h*w*cin)
			for i := range xs {
				xs[i] = float32(i%7) - 3
			}
			// One NaN in the middle: with a 3×3 SAME filter it reaches the
			// 3×3 block of outputs around pixel (4, 5), every channel.
			xs[(4*w+5)*cin+2] = nan
			ws := make([]float32, cout*3*3*cin)
			for i := range ws {
				ws[i] = float32(i%5) - 2
			}
			bias := make([]float32, cout)
			in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{1, h, w, cin}}
			out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{1, h, w, cout}}
			op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, Activation: act}}
			k, err := prepareConv2DWith(op, []*graph.Tensor{in, constF32("w", []int{cout, 3, 3, cin}, ws), constF32("b", []int{cout}, bias)},
				[]*graph.Tensor{out}, fixedpoint.SingleRounding, path)
			if err != nil {
				t.Fatal(err)
			}
			y := &Buffer{DType: graph.Float32, F32: make([]float32, h*w*cout)}
			if err := k.Run([]*Buffer{{DType: graph.Float32, F32: xs}}, []*Buffer{y}); err != nil {
				t.Fatal(err)
			}
			for oy := 0; oy < h; oy++ {
				for ox := 0; ox < w; ox++ {
					hit := oy >= 3 && oy <= 5 && ox >= 4 && ox <= 6
					for c := 0; c < cout; c++ {
						v := y.F32[(oy*w+ox)*cout+c]
						if isNaN := v != v; isNaN != hit {
							t.Fatalf("path %d act %s: output (%d,%d,%d) = %v, want NaN: %v", path, act, oy, ox, c, v, hit)
						}
					}
				}
			}
		}
	}
	// The dense layer's epilogue (bias + clamp after the GEMM).
	const depth, n = 19, 33
	wv := make([]float32, n*depth)
	for i := range wv {
		wv[i] = float32(i%3) - 1
	}
	for _, act := range []graph.Activation{graph.ActNone, graph.ActRelu} {
		in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{2, depth}}
		out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{2, n}}
		op := &graph.Op{Kind: graph.OpFullyConnected, Options: &graph.FullyConnectedOptions{Activation: act}}
		k, err := prepareFullyConnected(op, []*graph.Tensor{in, constF32("w", []int{n, depth}, wv), constF32("b", []int{n}, make([]float32, n))}, []*graph.Tensor{out})
		if err != nil {
			t.Fatal(err)
		}
		xs := make([]float32, 2*depth)
		xs[depth+4] = nan // row 1 only
		y := &Buffer{DType: graph.Float32, F32: make([]float32, 2*n)}
		if err := k.Run([]*Buffer{{DType: graph.Float32, F32: xs}}, []*Buffer{y}); err != nil {
			t.Fatal(err)
		}
		for i, v := range y.F32 {
			if isNaN := v != v; isNaN != (i >= n) {
				t.Fatalf("dense act %s: output %d = %v, want NaN: %v", act, i, v, i >= n)
			}
		}
	}
}
