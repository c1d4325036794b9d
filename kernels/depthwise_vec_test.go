package kernels

import (
	"fmt"
	rand1 "math/rand"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// dwVecCase is a random DEPTHWISE_CONV_2D layer for the vector-interior
// tests: odd sizes, 1 to 150 channels (64-lane blocks and masked tails),
// windows 1 to 5 (not always square), strides 1 to 3, dilations 1 and 2,
// depth multipliers 1 to 3, SAME and VALID, with and without bias,
// per-channel and per-tensor weights (per-tensor without bias takes the
// builtin kernel's double rounding in RuntimeRounding).
type dwVecCase struct {
	op         *graph.Op
	ins        []*graph.Tensor
	out        *graph.Tensor
	x          *Buffer
	batch      int
	desc       string
	inC, outC  int
	outH, outW int
}

func newDwVecCase(rng *rand.Rand, dt graph.DType) dwVecCase {
	return newDwVecCaseWide(rng, dt, 12)
}

// newDwVecCaseWide is newDwVecCase with up to extraW−1 columns beyond
// the window.
func newDwVecCaseWide(rng *rand.Rand, dt graph.DType, extraW int) dwVecCase {
	fH, fW := 1+rng.IntN(5), 1+rng.IntN(5)
	if rng.IntN(2) == 0 {
		fW = fH
	}
	stride, dil := 1+rng.IntN(3), 1+rng.IntN(2)
	if rng.IntN(3) == 0 {
		dil = 1
	}
	h := fH + (fH-1)*(dil-1) + rng.IntN(9)
	w := fW + (fW-1)*(dil-1) + rng.IntN(extraW)
	c := []int{1 + rng.IntN(20), 1 + rng.IntN(70), 60 + rng.IntN(90), 64, 16, 8}[rng.IntN(6)]
	mult := 1
	if rng.IntN(4) == 0 {
		mult = 2 + rng.IntN(2)
		c = 1 + c/4
	}
	pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[rng.IntN(2)]
	batch := 1 + rng.IntN(2)
	oh, ow := graph.ConvOutputSize(pad, h, fH, stride, dil), graph.ConvOutputSize(pad, w, fW, stride, dil)
	oc := c * mult
	act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}[rng.IntN(4)]
	op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: pad, StrideH: stride, StrideW: stride,
		DilationH: dil, DilationW: dil, DepthMultiplier: mult, Activation: act}}
	inShape, outShape, wShape := []int{batch, h, w, c}, []int{batch, oh, ow, oc}, []int{1, fH, fW, oc}
	tc := dwVecCase{op: op, batch: batch, inC: c, outC: oc, outH: oh, outW: ow,
		desc: fmt.Sprintf("%v %dx%dx%d f%dx%d s%d d%d m%d %v %v", dt, h, w, c, fH, fW, stride, dil, mult, pad, act)}
	tc.fillDwTensors(rng, dt, inShape, outShape, wShape, -127)
	return tc
}

// fillDwTensors gives tc random tensors of dtype dt for a depthwise layer
// of those shapes (weights [1 fH fW outC]): the input, output and weights
// with their quantization, a bias two times in three, and the input data.
// int8 weights are drawn from wMin..127 (−127 for the symmetric range
// TFLite's converter writes, −128 to cover the full int8 range); int8
// weight scales are per channel or, one time in three, per tensor.
func (tc *dwVecCase) fillDwTensors(rng *rand.Rand, dt graph.DType, inShape, outShape, wShape []int, wMin int) {
	taps, oc := wShape[1]*wShape[2], wShape[3]
	x := refBuffer(dt, inShape, nil)
	var in, wt, bias *graph.Tensor
	switch dt {
	case graph.Float32:
		in, tc.out = &graph.Tensor{Name: "in", DType: dt, Shape: inShape}, &graph.Tensor{Name: "out", DType: dt, Shape: outShape}
		ws, bs := make([]float32, taps*oc), make([]float32, oc)
		for i := range ws {
			ws[i] = float32(rng.NormFloat64())
		}
		for i := range bs {
			bs[i] = float32(rng.NormFloat64())
		}
		wt = constF32("w", wShape, ws)
		if rng.IntN(3) > 0 {
			bias = constF32("b", []int{oc}, bs)
		}
		for i := range x.F32 {
			x.F32[i] = float32(rng.NormFloat64())
		}
	case graph.Int8:
		in = qt("in", dt, inShape, []float32{0.05}, []int64{int64(rng.IntN(256) - 128)})
		tc.out = qt("out", dt, outShape, []float32{0.02 + rng.Float32()*float32(taps)/9}, []int64{int64(rng.IntN(256) - 128)})
		ws := make([]int8, taps*oc)
		for i := range ws {
			ws[i] = int8(rng.IntN(128-wMin) + wMin)
		}
		sc := make([]float32, oc)
		if rng.IntN(3) == 0 {
			sc = sc[:1]
		}
		for i := range sc {
			sc[i] = 0.001 + rng.Float32()*0.01
		}
		wt = constI8("w", graph.Int8, wShape, ws, sc)
		bs := make([]int32, oc)
		for i := range bs {
			bs[i] = int32(rng.IntN(1<<16) - 1<<15)
		}
		if rng.IntN(3) > 0 {
			bias = constI32("b", bs, []float32{1})
		}
		for i := range x.I8 {
			x.I8[i] = int8(rng.IntN(256) - 128)
		}
	case graph.UInt8:
		sIn, sW, sOut := randU8Scales(toV1(rng), taps)
		in = qt("in", dt, inShape, []float32{sIn}, []int64{randU8ZP(toV1(rng))})
		tc.out = qt("out", dt, outShape, []float32{sOut}, []int64{randU8ZP(toV1(rng))})
		wt = u8Const("w", wShape, sW, randU8ZP(toV1(rng)), toV1(rng))
		if rng.IntN(3) > 0 {
			bias = u8Bias(oc, sIn*sW, toV1(rng))
		}
		for i := range x.U8 {
			x.U8[i] = uint8(rng.IntN(256))
		}
	}
	tc.ins = []*graph.Tensor{in, wt}
	if bias != nil {
		tc.ins = append(tc.ins, bias)
	}
	tc.x = x
}

// toV1 derives a math/rand generator (the uint8 test helpers' kind) from rng.
func toV1(rng *rand.Rand) *rand1.Rand { return rand1.New(rand1.NewSource(int64(rng.Uint64()))) }

// TestDepthwiseVecMatchesReference runs each random layer through the
// kernel (vector interior where the CPU has it) and through the plain
// loops (ref: the per-pixel Go loops; uint8's reference kernel) and wants
// the same bits, in every rounding mode.
func TestDepthwiseVecMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	iters := 400
	if testing.Short() {
		iters = 100
	}
	for iter := 0; iter < iters; iter++ {
		dt := []graph.DType{graph.Float32, graph.Int8, graph.UInt8}[iter%3]
		tc := newDwVecCase(rng, dt)
		rnd := []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding}[rng.IntN(3)]
		fast, err := prepareDepthwiseConv2DWith(tc.op, tc.ins, []*graph.Tensor{tc.out}, rnd, false)
		if err != nil {
			t.Fatalf("iter %d %s: %v", iter, tc.desc, err)
		}
		ref, err := prepareDepthwiseConv2DWith(tc.op, tc.ins, []*graph.Tensor{tc.out}, rnd, true)
		if err != nil {
			t.Fatalf("iter %d %s: %v", iter, tc.desc, err)
		}
		shape := []int{tc.batch, tc.outH, tc.outW, tc.outC}
		got, want := refBuffer(dt, shape, nil), refBuffer(dt, shape, nil)
		if err := fast.Run([]*Buffer{tc.x}, []*Buffer{got}); err != nil {
			t.Fatal(err)
		}
		if err := ref.Run([]*Buffer{tc.x}, []*Buffer{want}); err != nil {
			t.Fatal(err)
		}
		for i := range got.F32 {
			// Equal values: a padded tap adds w·0, so −0 may become +0.
			if got.F32[i] != want.F32[i] {
				t.Fatalf("iter %d %s: out[%d] = %v, want %v", iter, tc.desc, i, got.F32[i], want.F32[i])
			}
		}
		for i := range got.I8 {
			if got.I8[i] != want.I8[i] {
				t.Fatalf("iter %d %s %v: out[%d] = %d, want %d", iter, tc.desc, rnd, i, got.I8[i], want.I8[i])
			}
		}
		for i := range got.U8 {
			if got.U8[i] != want.U8[i] {
				t.Fatalf("iter %d %s %v: out[%d] = %d, want %d", iter, tc.desc, rnd, i, got.U8[i], want.U8[i])
			}
		}
	}
}

// TestDepthwiseVecPlan checks where the vector plan applies: only with
// the assembly, only when some output pixel is interior.
func TestDepthwiseVecPlan(t *testing.T) {
	g := &convGeom{inH: 5, inW: 5, inC: 8, fH: 3, fW: 3, outH: 5, outW: 5, outC: 8, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padT: 1, padL: 1}
	w := make([]float32, 9*8)
	v := newDwVec(dwF32, g, 1, nil, nil, w, 0, nil, -1, 1)
	if !dwVecF32Available() {
		if v != nil {
			t.Fatal("a vector plan without the assembly")
		}
		t.Skip("no vector loops on this CPU or build (plain loops only)")
	}
	// SAME 3×3 on 5×5: one pixel of padding all round.
	if v == nil || !v.copy || v.pH != 7 || v.pW != 7 || len(v.blocks) != 1 || v.blocks[0].n != 8 || v.off[8] != (2*7+2)*8*4 {
		t.Fatalf("plan %+v", v)
	}
	g.outH, g.outW, g.padT, g.padL = 3, 3, 0, 0 // VALID: the input in place
	if v := newDwVec(dwF32, g, 1, nil, nil, w, 0, nil, -1, 1); v == nil || v.copy || v.pH != 5 || v.pW != 5 {
		t.Fatalf("plan %+v for a VALID layer", v)
	}
}

// BenchmarkDepthwiseVec compares the kernel with the plain loops on the
// depthwise layers of the zoo's MobileNet and DS-CNN models.
func BenchmarkDepthwiseVec(b *testing.B) {
	layers := []struct {
		name       string
		h, w, c, s int
	}{{"vww-48x48x8-s1", 48, 48, 8, 1}, {"vww-48x48x16-s2", 48, 48, 16, 2}, {"kws-25x5x64-s1", 25, 5, 64, 1}, {"mnv1-8x8x128-s1", 8, 8, 128, 1}}
	for _, l := range layers {
		for _, dt := range []graph.DType{graph.Float32, graph.Int8, graph.UInt8} {
			var in, wt, out *graph.Tensor
			oh, ow := (l.h+l.s-1)/l.s, (l.w+l.s-1)/l.s
			rng := rand.New(rand.NewPCG(1, 2))
			switch dt {
			case graph.Float32:
				in, out = &graph.Tensor{Name: "in", DType: dt, Shape: []int{1, l.h, l.w, l.c}}, &graph.Tensor{Name: "out", DType: dt, Shape: []int{1, oh, ow, l.c}}
				wt = constF32("w", []int{1, 3, 3, l.c}, make([]float32, 9*l.c))
			case graph.Int8:
				in, out = qt("in", dt, []int{1, l.h, l.w, l.c}, []float32{0.05}, []int64{-3}), qt("out", dt, []int{1, oh, ow, l.c}, []float32{0.1}, []int64{5})
				wt = constI8("w", graph.Int8, []int{1, 3, 3, l.c}, make([]int8, 9*l.c), []float32{0.01})
			case graph.UInt8:
				in, out = qt("in", dt, []int{1, l.h, l.w, l.c}, []float32{0.05}, []int64{128}), qt("out", dt, []int{1, oh, ow, l.c}, []float32{0.1}, []int64{7})
				wt = u8Const("w", []int{1, 3, 3, l.c}, 0.01, 120, toV1(rng))
			}
			op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: graph.PaddingSame, StrideH: l.s, StrideW: l.s, DepthMultiplier: 1, Activation: graph.ActRelu6}}
			x, y := refBuffer(dt, in.Shape, nil), refBuffer(dt, out.Shape, nil)
			for _, ref := range []bool{false, true} {
				k, err := prepareDepthwiseConv2DWith(op, []*graph.Tensor{in, wt}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, ref)
				if err != nil {
					b.Fatal(err)
				}
				name := "vec"
				if ref {
					name = "go"
				}
				b.Run(fmt.Sprintf("%s/%v/%s", l.name, dt, name), func(b *testing.B) {
					for b.Loop() {
						_ = k.Run([]*Buffer{x}, []*Buffer{y})
					}
					b.ReportMetric(2*9*float64(oh*ow*l.c)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GOP/s")
				})
			}
		}
	}
}
