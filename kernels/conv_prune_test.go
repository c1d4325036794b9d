package kernels

import (
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestLiveTapRangeMatchesBruteForce checks liveTapRange against trying
// every output position for every tap.
func TestLiveTapRangeMatchesBruteForce(t *testing.T) {
	r := rand.New(rand.NewSource(161))
	for range 3000 {
		in, out, f := 1+r.Intn(6), 1+r.Intn(6), 1+r.Intn(6)
		stride, dil, pad := 1+r.Intn(4), 1+r.Intn(4), r.Intn(8)
		lo, hi := f, 0
		for k := range f {
			for o := range out {
				if at := o*stride - pad + k*dil; at >= 0 && at < in {
					lo, hi = min(lo, k), k+1
					break
				}
			}
		}
		glo, ghi := liveTapRange(in, out, f, stride, dil, pad)
		if (hi <= lo) != (ghi <= glo) || (hi > lo && (glo != lo || ghi != hi)) {
			t.Fatalf("in %d out %d f %d stride %d dil %d pad %d: [%d,%d), want [%d,%d)", in, out, f, stride, dil, pad, glo, ghi, lo, hi)
		}
	}
}

// pruneCase is a random CONV_2D over a small image with a wide, dilated
// window, so that many of its taps only ever read padding.
type pruneCase struct {
	convCase
	outH, outW int
}

func randPruneCase(r *rand.Rand) (pruneCase, bool) {
	c := convCase{batch: 1 + r.Intn(3), inH: 1 + r.Intn(4), inW: 1 + r.Intn(4), inC: 1 + r.Intn(9), outC: 1 + r.Intn(20),
		fH: 1 + r.Intn(5), fW: 1 + r.Intn(5), sH: 1 + r.Intn(3), sW: 1 + r.Intn(3), dH: 1 + r.Intn(3), dW: 1 + r.Intn(3),
		pad: graph.Padding(r.Intn(2))}
	if r.Intn(3) == 0 {
		c.sH, c.sW = 1, 1
	}
	outH, outW := c.outSize()
	return pruneCase{c, outH, outW}, outH > 0 && outW > 0
}

func (c pruneCase) op(act graph.Activation) *graph.Op {
	return &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: c.sH, StrideW: c.sW,
		DilationH: c.dH, DilationW: c.dW, Activation: act}}
}

func (c pruneCase) String() string {
	return fmt.Sprintf("batch %d in %d×%d×%d filter %d×%d×%d stride %d×%d dilation %d×%d %s",
		c.batch, c.inH, c.inW, c.inC, c.outC, c.fH, c.fW, c.sH, c.sW, c.dH, c.dW, c.pad)
}

// pruned reports whether the pathAuto kernel k runs with fewer taps than
// c's filter has.
func (c pruneCase) pruned(t *testing.T, k Kernel) bool {
	var g *convGeom
	switch k := k.(type) {
	case *convFloat:
		g = k.g
	case *convInt8:
		g = k.g
	case *convU8:
		g = k.g
	default:
		t.Fatalf("%v: unexpected kernel %T", c, k)
	}
	return g.fH*g.fW < c.fH*c.fW
}

// TestConv2DPrunedMatchesUnpruned compares CONV_2D with dead taps dropped
// (pathAuto) against the unpruned im2col kernel (float32, int8 in every
// rounding) and the plain reference loop (uint8), on random small images
// under wide dilated windows, at several batch sizes: integers bit-exact,
// float within 1e-5 of the largest output.
func TestConv2DPrunedMatchesUnpruned(t *testing.T) {
	r := rand.New(rand.NewSource(162))
	prunedCases := map[graph.DType]int{}
	for iter := 0; iter < 600; iter++ {
		c, ok := randPruneCase(r)
		if !ok {
			continue
		}
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.Intn(3)]
		inShape := []int{c.batch, c.inH, c.inW, c.inC}
		outShape := []int{c.batch, c.outH, c.outW, c.outC}
		wShape := []int{c.outC, c.fH, c.fW, c.inC}
		nIn, nOut, nW := graph.NumElements(inShape), graph.NumElements(outShape), graph.NumElements(wShape)
		switch iter % 3 {
		case 0:
			xs, ws, bs := make([]float32, nIn), make([]float32, nW), make([]float32, c.outC)
			for i := range xs {
				xs[i] = float32(r.NormFloat64())
			}
			for i := range ws {
				ws[i] = float32(r.NormFloat64())
			}
			for i := range bs {
				bs[i] = float32(r.NormFloat64())
			}
			ins := []*graph.Tensor{{Name: "in", DType: graph.Float32, Shape: inShape}, constF32("w", wShape, ws), constF32("b", []int{c.outC}, bs)}
			outs := []*graph.Tensor{{Name: "out", DType: graph.Float32, Shape: outShape}}
			var ys [2][]float32
			for j, path := range []convPath{pathAuto, pathIm2col} {
				k, err := prepareConv2DWith(c.op(act), ins, outs, fixedpoint.RuntimeRounding, path)
				if err != nil {
					t.Fatalf("%v: %v", c, err)
				}
				if path == pathAuto && c.pruned(t, k) {
					prunedCases[graph.Float32]++
				}
				ys[j] = make([]float32, nOut)
				if err := k.Run([]*Buffer{{DType: graph.Float32, F32: xs}}, []*Buffer{{DType: graph.Float32, F32: ys[j]}}); err != nil {
					t.Fatalf("%v: %v", c, err)
				}
			}
			scale := 1.0
			for _, v := range ys[1] {
				scale = max(scale, math.Abs(float64(v)))
			}
			for i := range ys[1] {
				if d := math.Abs(float64(ys[0][i] - ys[1][i])); d > 1e-5*scale {
					t.Fatalf("%v %s: output %d = %v, unpruned %v", c, act, i, ys[0][i], ys[1][i])
				}
			}
		case 1:
			zpIn := int64(r.Intn(256) - 128)
			xs, ws := make([]int8, nIn), make([]int8, nW)
			for i := range xs {
				xs[i] = int8(r.Intn(256) - 128)
			}
			for i := range ws {
				ws[i] = int8(r.Intn(255) - 127)
			}
			wScales := make([]float32, c.outC)
			bias := make([]int32, c.outC)
			for i := range wScales {
				wScales[i] = float32(0.001 + r.Float64()*0.02)
				bias[i] = int32(r.Intn(20000) - 10000)
			}
			ins := []*graph.Tensor{qt("in", graph.Int8, inShape, []float32{float32(0.02 + r.Float64())}, []int64{zpIn}),
				constI8("w", graph.Int8, wShape, ws, wScales), constI32("b", bias, nil)}
			outs := []*graph.Tensor{qt("out", graph.Int8, outShape, []float32{float32(0.05 + r.Float64())}, []int64{int64(r.Intn(200) - 100)})}
			for _, rnd := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
				var ys [2][]int8
				for j, path := range []convPath{pathAuto, pathIm2col} {
					k, err := prepareConv2DWith(c.op(act), ins, outs, rnd, path)
					if err != nil {
						t.Fatalf("%v: %v", c, err)
					}
					if path == pathAuto && rnd == fixedpoint.RuntimeRounding && c.pruned(t, k) {
						prunedCases[graph.Int8]++
					}
					ys[j] = make([]int8, nOut)
					if err := k.Run([]*Buffer{{DType: graph.Int8, I8: xs}}, []*Buffer{{DType: graph.Int8, I8: ys[j]}}); err != nil {
						t.Fatalf("%v: %v", c, err)
					}
				}
				for i := range ys[1] {
					if ys[0][i] != ys[1][i] {
						t.Fatalf("%v %s %s: output %d = %d, unpruned %d", c, act, rnd, i, ys[0][i], ys[1][i])
					}
				}
			}
		case 2:
			sIn, sW, sOut := randU8Scales(r, c.fH*c.fW*c.inC)
			in := qt("in", graph.UInt8, inShape, []float32{sIn}, []int64{randU8ZP(r)})
			out := qt("out", graph.UInt8, outShape, []float32{sOut}, []int64{randU8ZP(r)})
			ins := []*graph.Tensor{in, u8Const("w", wShape, sW, randU8ZP(r), r), u8Bias(c.outC, sIn*sW, r)}
			x := &Buffer{DType: graph.UInt8, U8: make([]uint8, nIn)}
			for i := range x.U8 {
				x.U8[i] = uint8(r.Intn(256))
			}
			for _, rnd := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding} {
				var ys [2][]uint8
				for j, path := range []convPath{pathAuto, pathReference} {
					k, err := prepareConv2DWith(c.op(act), ins, []*graph.Tensor{out}, rnd, path)
					if err != nil {
						t.Fatalf("%v: %v", c, err)
					}
					if path == pathAuto && rnd == fixedpoint.RuntimeRounding && c.pruned(t, k) {
						prunedCases[graph.UInt8]++
					}
					ys[j] = make([]uint8, nOut)
					if err := k.Run([]*Buffer{x}, []*Buffer{{DType: graph.UInt8, U8: ys[j]}}); err != nil {
						t.Fatalf("%v: %v", c, err)
					}
				}
				for i := range ys[1] {
					if ys[0][i] != ys[1][i] {
						t.Fatalf("%v %s %s: output %d = %d, reference %d", c, act, rnd, i, ys[0][i], ys[1][i])
					}
				}
			}
		}
	}
	for _, d := range []graph.DType{graph.Float32, graph.Int8, graph.UInt8} {
		if prunedCases[d] < 50 {
			t.Errorf("%s: only %d of the random cases had dead taps pruned", d, prunedCases[d])
		}
	}
}

// TestConv2DDeadTapsBecomePointwise checks the case that motivated
// pruning: a 3×3 filter with dilation 2, SAME, over 1×1 images (the zoo's
// tfls_dilated_conv) keeps only its centre tap, so the kernel runs as a
// 1×1 pointwise product, and its output is the centre tap's.
func TestConv2DDeadTapsBecomePointwise(t *testing.T) {
	const batch, cin, cout = 5, 3, 16
	r := rand.New(rand.NewSource(163))
	xs, ws := make([]float32, batch*cin), make([]float32, cout*9*cin)
	for i := range xs {
		xs[i] = float32(r.NormFloat64())
	}
	for i := range ws {
		ws[i] = float32(r.NormFloat64())
	}
	// A dead tap's weight may even be infinite: TFLite's reference kernel
	// never multiplies it.
	ws[0] = float32(math.Inf(1))
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 2, DilationW: 2}}
	k, err := prepareConv2DWith(op, []*graph.Tensor{{Name: "in", DType: graph.Float32, Shape: []int{batch, 1, 1, cin}}, constF32("w", []int{cout, 3, 3, cin}, ws)},
		[]*graph.Tensor{{Name: "out", DType: graph.Float32, Shape: []int{batch, 1, 1, cout}}}, fixedpoint.RuntimeRounding, pathAuto)
	if err != nil {
		t.Fatal(err)
	}
	if g := k.(*convFloat).g; !g.pointwise() {
		t.Fatalf("geometry %+v, want the pointwise 1×1 form", *g)
	}
	y := make([]float32, batch*cout)
	if err := k.Run([]*Buffer{{DType: graph.Float32, F32: xs}}, []*Buffer{{DType: graph.Float32, F32: y}}); err != nil {
		t.Fatal(err)
	}
	for b := range batch {
		for o := range cout {
			var want float32
			for c := range cin {
				want += xs[b*cin+c] * ws[(o*9+4)*cin+c]
			}
			if got := y[b*cout+o]; math.Abs(float64(got-want)) > 1e-5*(1+math.Abs(float64(want))) {
				t.Fatalf("image %d channel %d: %v, want %v", b, o, got, want)
			}
		}
	}
}
