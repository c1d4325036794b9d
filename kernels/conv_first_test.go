package kernels

import (
	"fmt"
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// firstLayerU8 is a uint8 first layer: an h×w RGB image, a 3×3 stride-2
// SAME conv to cout channels, ReLU6.
func firstLayerU8(r *rand.Rand, h, w, cout int) u8Case {
	sIn, sW, sOut := randU8Scales(r, 27)
	in := qt("in", graph.UInt8, []int{1, h, w, 3}, []float32{sIn}, []int64{randU8ZP(r)})
	oh, ow := graph.ConvOutputSize(graph.PaddingSame, h, 3, 2, 1), graph.ConvOutputSize(graph.PaddingSame, w, 3, 2, 1)
	out := qt("out", graph.UInt8, []int{1, oh, ow, cout}, []float32{sOut}, []int64{randU8ZP(r)})
	wt := u8Const("w", []int{cout, 3, 3, 3}, sW, randU8ZP(r), r)
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideW: 2, StrideH: 2, DilationW: 1, DilationH: 1, Activation: graph.ActRelu6}}
	return u8Case{name: fmt.Sprintf("first_u8_%dx%dx%d", h, w, cout), op: op, ins: []*graph.Tensor{in, wt, u8Bias(cout, sIn*sW, r)}, out: out}
}

func BenchmarkConvFirstU8(b *testing.B) {
	r := rand.New(rand.NewSource(5))
	c := firstLayerU8(r, 128, 128, 8)
	k, err := prepareU8Kernel(c, fixedpoint.RuntimeRounding, false)
	if err != nil {
		b.Fatal(err)
	}
	x := randU8Buffer(r, c.ins[0], 1)
	y := refBuffer(graph.UInt8, c.out.Shape, nil)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
			b.Fatal(err)
		}
	}
}

// TestIm2colNarrowMatchesReference checks the first-layer im2col against
// the tap-by-tap reference on narrow windows (8 to 16 bytes per window
// row): random sizes, strides, paddings, vertical dilation, batches and
// row ranges that start and end mid-row.
func TestIm2colNarrowMatchesReference(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	tried := 0
	for tried < 500 {
		cin, fw := 1+r.Intn(8), 1+r.Intn(5)
		if fw*cin < narrowRunMin || fw*cin > narrowRunMax {
			continue
		}
		tried++
		g := &convGeom{inC: cin, fH: 1 + r.Intn(4), fW: fw, strideH: 1 + r.Intn(3), strideW: 1 + r.Intn(3), dilH: 1 + r.Intn(2), dilW: 1, outC: 1}
		g.inH, g.inW = 1+r.Intn(12), 1+r.Intn(12)
		pad := graph.PaddingSame
		if r.Intn(3) == 0 {
			pad = graph.PaddingValid
			g.inH += (g.fH - 1) * g.dilH
			g.inW += g.fW - 1
		}
		g.outH = graph.ConvOutputSize(pad, g.inH, g.fH, g.strideH, g.dilH)
		g.outW = graph.ConvOutputSize(pad, g.inW, g.fW, g.strideW, g.dilW)
		g.padT = graph.ConvPadding(pad, g.inH, g.fH, g.strideH, g.dilH, g.outH)
		g.padL = graph.ConvPadding(pad, g.inW, g.fW, g.strideW, g.dilW, g.outW)
		if !narrowIm2col(g) {
			t.Fatalf("geometry %+v not narrow", *g)
		}
		batch := 1 + r.Intn(3)
		src := make([]int8, batch*g.inH*g.inW*g.inC)
		for i := range src {
			src[i] = int8(r.Intn(256))
		}
		total := batch * g.outH * g.outW
		r0 := r.Intn(total)
		rows := 1 + r.Intn(total-r0)
		padv := int8(r.Intn(256))
		got, want := make([]int8, rows*g.k()), make([]int8, rows*g.k())
		im2col(got, src, g, r0, rows, padv)
		refIm2col(want, src, g, r0, rows, padv)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("geometry %+v batch %d rows [%d,%d): value %d = %d, reference %d", *g, batch, r0, r0+rows, i, got[i], want[i])
			}
		}
	}
}

// BenchmarkIm2colNarrow is the uint8 MobileNet's first layer's im2col
// (128×128×3, 3×3 stride 2 SAME): the narrow path against the generic
// loop in the same run.
func BenchmarkIm2colNarrow(b *testing.B) {
	g := &convGeom{inH: 128, inW: 128, inC: 3, fH: 3, fW: 3, outH: 64, outW: 64, outC: 8, strideH: 2, strideW: 2, dilH: 1, dilW: 1, padT: 0, padL: 0}
	src := make([]int8, 128*128*3)
	dst := make([]int8, 64*64*27)
	for _, v := range []struct {
		name string
		f    func(dst, src []int8, g *convGeom, r0, rows int, pad int8)
	}{{"narrow", im2colNarrow}, {"generic", im2colGeneric[int8]}} {
		b.Run(v.name, func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				v.f(dst, src, g, 0, 64*64, 0)
			}
		})
	}
}
