package kernels

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestConv2DPadColMatchesIm2col runs int8 convs with short window rows
// (fW·inC ≤ 16: 1-channel first layers, 1×1 strided shortcuts) through
// the padded-image im2col and through the general im2col, on random odd
// shapes, strides 1..3, row dilations, SAME and VALID, batches,
// per-channel scales and every rounding: the same bytes. The padded
// im2col matrix itself is checked against the reference im2col too.
func TestConv2DPadColMatchesIm2col(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	took := 0
	const iters = 150
	for iter := 0; iter < iters; iter++ {
		g := randGeom(rng)
		g.fW = 1 + rng.IntN(5)
		g.inC = 1 + rng.IntN(max(1, 16/g.fW))
		if rng.IntN(3) == 0 {
			g.fH, g.dilW = 1+rng.IntN(10), 1
		}
		pad := graph.Padding(rng.IntN(2))
		if pad == graph.PaddingValid {
			g.inH = max(g.inH, (g.fH-1)*g.dilH+1)
			g.inW = max(g.inW, (g.fW-1)*g.dilW+1)
		}
		batch := 1 + rng.IntN(3)
		oh := graph.ConvOutputSize(pad, g.inH, g.fH, g.strideH, g.dilH)
		ow := graph.ConvOutputSize(pad, g.inW, g.fW, g.strideW, g.dilW)
		if oh <= 0 || ow <= 0 {
			continue
		}
		outC := 1 + rng.IntN(40)
		ws := make([]int8, outC*g.fH*g.fW*g.inC)
		for i := range ws {
			ws[i] = int8(rng.IntN(255) - 127)
		}
		sc := make([]float32, outC)
		for i := range sc {
			sc[i] = 0.001 + 0.01*rng.Float32()
		}
		zp := int64(rng.IntN(256) - 128)
		in := qt("in", graph.Int8, []int{batch, g.inH, g.inW, g.inC}, []float32{0.05}, []int64{zp})
		out := qt("out", graph.Int8, []int{batch, oh, ow, outC}, []float32{0.2}, []int64{int64(rng.IntN(256) - 128)})
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: pad, StrideH: g.strideH, StrideW: g.strideW,
			DilationH: g.dilH, DilationW: g.dilW, Activation: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[rng.IntN(3)]}}
		ins := []*graph.Tensor{in, constI8("w", graph.Int8, []int{outC, g.fH, g.fW, g.inC}, ws, sc)}
		x := &Buffer{DType: graph.Int8, I8: make([]int8, batch*g.inH*g.inW*g.inC)}
		for i := range x.I8 {
			x.I8[i] = int8(rng.IntN(256) - 128)
		}
		rnd := roundings[iter%len(roundings)]
		fast, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, rnd, pathAuto)
		if err != nil {
			t.Fatal(err)
		}
		ref, err := prepareConv2DWith(op, ins, []*graph.Tensor{out}, rnd, pathIm2col)
		if err != nil {
			t.Fatal(err)
		}
		cf := fast.(*convInt8)
		if cf.padCol == nil && cf.at == nil {
			continue // the segmented path, or the pointwise form
		}
		// CPUs with the wide table kernels take those instead
		// (conv_at_s8w.go): the same bytes either way.
		took++
		got := &Buffer{DType: graph.Int8, I8: make([]int8, batch*oh*ow*outC)}
		want := &Buffer{DType: graph.Int8, I8: make([]int8, len(got.I8))}
		for rep := 0; rep < 2; rep++ { // the pooled padded image is reused
			if err := fast.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
				t.Fatal(err)
			}
		}
		if err := ref.Run([]*Buffer{x}, []*Buffer{want}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got.I8, want.I8) {
			t.Fatalf("%+v batch %d (%s): padded im2col (or wide table path %v) differs from im2col", *cf.g, batch, rnd, cf.at != nil)
		}
		// The matrix itself, one image, from a random first row (on
		// every CPU, whichever path pathAuto took).
		gg := cf.g
		pc := newPadCol(gg, int8(zp))
		if pc == nil {
			continue
		}
		img := x.I8[:g.inH*g.inW*g.inC]
		a := img
		if !pc.p.direct {
			buf := make([]int8, pc.p.padLen(gg))
			fillPad(buf, int8(zp))
			fillPadded(buf, img, pc.p, gg)
			a = buf
		}
		r0 := rng.IntN(oh * ow)
		rows := oh*ow - r0
		m1, m2 := make([]int8, rows*gg.k()), make([]int8, rows*gg.k())
		pc.im2colPadded(m1, a, gg, r0, rows)
		refIm2col(m2, img, gg, r0, rows, int8(zp))
		if !slices.Equal(m1, m2) {
			t.Fatalf("%+v rows [%d,%d): padded im2col matrix differs from the reference", *gg, r0, r0+rows)
		}
	}
	if took < iters/3 {
		t.Errorf("only %d of %d cases took the padded im2col or the wide table path", took, iters)
	}
}
