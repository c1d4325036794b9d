package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// winoCase is one random float 3×3 stride-1 convolution.
type winoCase struct {
	batch, h, w, inC, outC int
	pad                    graph.Padding
	act                    graph.Activation
}

func (c winoCase) String() string {
	return fmt.Sprintf("%dx%dx%dx%d→%d %v %v", c.batch, c.h, c.w, c.inC, c.outC, c.pad, c.act)
}

// prepare builds the conv of c on path with weights ws and bias bs.
func (c winoCase) prepare(t *testing.T, ws, bs []float32, path convPath) Kernel {
	t.Helper()
	outH, outW := c.h, c.w
	if c.pad == graph.PaddingValid {
		outH, outW = c.h-2, c.w-2
	}
	in := &graph.Tensor{Name: "in", DType: graph.Float32, Shape: []int{c.batch, c.h, c.w, c.inC}}
	out := &graph.Tensor{Name: "out", DType: graph.Float32, Shape: []int{c.batch, outH, outW, c.outC}}
	op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: 1, StrideW: 1, Activation: c.act}}
	k, err := prepareConv2DWith(op, []*graph.Tensor{in, constF32("w", []int{c.outC, 3, 3, c.inC}, ws), constF32("b", []int{c.outC}, bs)},
		[]*graph.Tensor{out}, fixedpoint.SingleRounding, path)
	if err != nil {
		t.Fatalf("%v: %v", c, err)
	}
	return k
}

// run runs k on xs and returns its output of n values.
func runF32(t *testing.T, k Kernel, xs []float32, n int) []float32 {
	t.Helper()
	y := &Buffer{DType: graph.Float32, F32: make([]float32, n)}
	if err := k.Run([]*Buffer{{DType: graph.Float32, F32: xs}}, []*Buffer{y}); err != nil {
		t.Fatal(err)
	}
	return y.F32
}

func randomWinoCase(r *rand.Rand) winoCase {
	chans := []int{1, 3, 5, 8, 16, 24, 32, 40, 64}
	c := winoCase{
		batch: []int{1, 1, 3}[r.IntN(3)],
		h:     3 + r.IntN(12), w: 6 + r.IntN(20),
		inC: chans[r.IntN(len(chans))], outC: chans[r.IntN(len(chans))] + r.IntN(2)*r.IntN(9),
		pad: graph.PaddingSame, act: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.IntN(3)],
	}
	if r.IntN(3) == 0 {
		c.pad = graph.PaddingValid
	}
	return c
}

// TestWinogradMatchesDirect compares the Winograd path with the im2col
// one on random layers (odd widths, so partial last tiles; channel counts
// the vector transforms cover and ones left to the Go loops; batch 1 and
// 3; every activation): each output within winoTol of the layer's largest
// Σ|x·w| + |b|, the same scale TFLite's float tests use for sums.
func TestWinogradMatchesDirect(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	worst := 0.0
	for iter := 0; iter < 150; iter++ {
		c := randomWinoCase(r)
		xs := make([]float32, c.batch*c.h*c.w*c.inC)
		for i := range xs {
			xs[i] = float32(r.NormFloat64())
		}
		ws := make([]float32, c.outC*9*c.inC)
		for i := range ws {
			ws[i] = float32(r.NormFloat64() / math.Sqrt(float64(9*c.inC)))
		}
		bs := make([]float32, c.outC)
		for i := range bs {
			bs[i] = float32(r.NormFloat64() * 0.1)
		}
		outH, outW := c.h, c.w
		if c.pad == graph.PaddingValid {
			outH, outW = c.h-2, c.w-2
		}
		n := c.batch * outH * outW * c.outC
		wk := c.prepare(t, ws, bs, pathWinograd)
		if wk.(*convFloat).wino == nil {
			if outW >= 4 {
				t.Fatalf("%v: no Winograd plan", c)
			}
			continue
		}
		got := runF32(t, wk, xs, n)
		got2 := runF32(t, wk, xs, n) // the pooled scratch, second use
		ref := runF32(t, c.prepare(t, ws, bs, pathIm2col), xs, n)
		// Scale: the direct conv of |x| and |w| with |b|, no activation.
		abs := func(v []float32) []float32 {
			a := make([]float32, len(v))
			for i, x := range v {
				a[i] = float32(math.Abs(float64(x)))
			}
			return a
		}
		ca := c
		ca.act = graph.ActNone
		scale := 0.0
		for _, v := range runF32(t, ca.prepare(t, abs(ws), abs(bs), pathIm2col), abs(xs), n) {
			scale = max(scale, float64(v))
		}
		for i := range got {
			if got[i] != got2[i] {
				t.Fatalf("%v: output %d differs between runs: %v, %v", c, i, got[i], got2[i])
			}
			d := math.Abs(float64(got[i])-float64(ref[i])) / scale
			worst = max(worst, d)
			if d > winoTol {
				t.Fatalf("%v: output %d = %v, direct %v (|Δ|/scale %.3g > %g)", c, i, got[i], ref[i], d, winoTol)
			}
		}
	}
	t.Logf("largest |winograd − direct| / max Σ|x·w|: %.3g", worst)
}

// TestWinogradTransformsMatchGo checks the vector transforms against the
// Go loops on random data (within a few ulps of the values: the vector
// forms fuse multiply-adds), including the non-finite report.
func TestWinogradTransformsMatchGo(t *testing.T) {
	checkWinoTransforms(t)
	if winoAVX512 {
		// The AVX2 forms on every channel, as on a CPU without AVX-512.
		defer func() { winoAVX512 = true }()
		winoAVX512 = false
		checkWinoTransforms(t)
		t.Run("direct", TestWinogradMatchesDirect)
	}
}

func checkWinoTransforms(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	for _, C := range []int{8, 16, 24, 32, 40, 48, 64, 72} {
		const tiles = 5
		plane := tiles*C + 7
		src := make([]float32, (4*tiles+2)*C)
		for i := range src {
			src[i] = float32(r.NormFloat64())
		}
		got, want := make([]float32, 6*plane), make([]float32, 6*plane)
		winoIn(got, plane, src, tiles, C)
		winoInF32Go(want, plane, src, tiles, C, 0)
		for i := range got {
			if d := math.Abs(float64(got[i] - want[i])); d > 4e-6*(1+math.Abs(float64(want[i]))) {
				t.Fatalf("C %d: input transform %d = %v, Go %v", C, i, got[i], want[i])
			}
		}
		bias := make([]float32, C)
		for i := range bias {
			bias[i] = float32(r.NormFloat64())
		}
		for _, lim := range [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, 6}} {
			og, ow := make([]float32, 4*tiles*C), make([]float32, 4*tiles*C)
			okG := winoOut(og, got, plane, tiles, C, bias, lim[0], lim[1])
			okW := winoOutF32Go(ow, got, plane, tiles, C, bias, lim[0], lim[1], 0)
			if !okG || !okW {
				t.Fatalf("C %d: finite data reported non-finite (%v, %v)", C, okG, okW)
			}
			for i := range og {
				if d := math.Abs(float64(og[i] - ow[i])); d > 4e-6*(1+math.Abs(float64(ow[i]))) {
					t.Fatalf("C %d: output transform %d = %v, Go %v", C, i, og[i], ow[i])
				}
			}
			// One non-finite product in the last channel of the last tile.
			for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1))} {
				m := append([]float32(nil), got...)
				m[3*plane+(tiles-1)*C+C-1] = bad
				if winoOut(og, m, plane, tiles, C, bias, lim[0], lim[1]) {
					t.Fatalf("C %d: %v product not reported", C, bad)
				}
			}
		}
	}
}

// TestWinogradNonFiniteFallsBack checks that NaN and ±Inf inputs give the
// direct path's result exactly (the image is recomputed directly) and
// leave the other images of the batch on Winograd.
func TestWinogradNonFiniteFallsBack(t *testing.T) {
	c := winoCase{batch: 3, h: 9, w: 13, inC: 16, outC: 32, pad: graph.PaddingSame, act: graph.ActRelu}
	r := rand.New(rand.NewPCG(45, 46))
	ws := make([]float32, c.outC*9*c.inC)
	for i := range ws {
		ws[i] = float32(r.NormFloat64())
	}
	bs := make([]float32, c.outC)
	n := c.batch * c.h * c.w * c.outC
	wk := c.prepare(t, ws, bs, pathWinograd)
	// ref is the same kernel without its Winograd plan: the direct path
	// an image falls back to.
	direct := c.prepare(t, ws, bs, pathWinograd).(*convFloat)
	direct.lazyOnce.Do(direct.lazy)
	direct.wino = nil
	ref := Kernel(direct)
	if wk.(*convFloat).w != nil {
		t.Fatal("the direct weights were packed before any image needed them")
	}
	for _, bad := range []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))} {
		xs := make([]float32, c.batch*c.h*c.w*c.inC)
		for i := range xs {
			xs[i] = float32(r.NormFloat64())
		}
		xs[((1*c.h+4)*c.w+5)*c.inC+2] = bad // image 1 only
		got, want := runF32(t, wk, xs, n), runF32(t, ref, xs, n)
		per := c.h * c.w * c.outC
		same := 0
		for i := range got {
			gn, wn := got[i] != got[i], want[i] != want[i]
			if gn != wn || !gn && math.Abs(float64(got[i]-want[i])) > 1e-3 {
				t.Fatalf("input %v: output %d = %v, direct %v", bad, i, got[i], want[i])
			}
			bitEq := math.Float32bits(got[i]) == math.Float32bits(want[i]) || gn && wn
			if i >= per && i < 2*per && !bitEq {
				// The bad image is the direct path's, bit for bit.
				t.Fatalf("input %v: image 1 output %d = %v, direct %v", bad, i, got[i], want[i])
			}
			if (i < per || i >= 2*per) && bitEq {
				same++
			}
		}
		if same == 2*per {
			t.Errorf("input %v: images 0 and 2 equal the direct path bit for bit: Winograd did not run", bad)
		}
	}
}

// TestWinogradAutoChoice pins pathAuto's choice on seed-cnn's layers.
func TestWinogradAutoChoice(t *testing.T) {
	for _, c := range []struct {
		c    winoCase
		want bool
	}{
		{winoCase{1, 40, 40, 16, 32, graph.PaddingSame, graph.ActNone}, true},
		{winoCase{1, 20, 20, 32, 64, graph.PaddingSame, graph.ActNone}, true},
		{winoCase{1, 10, 10, 64, 128, graph.PaddingSame, graph.ActNone}, true},
		{winoCase{1, 80, 80, 3, 16, graph.PaddingSame, graph.ActNone}, false}, // 3 channels: no vector transform
		{winoCase{1, 5, 3, 16, 16, graph.PaddingSame, graph.ActNone}, false},  // under one tile wide
	} {
		ws := make([]float32, c.c.outC*9*c.c.inC)
		// The first layer may take the direct few-channel kernel
		// (conv_first_f32.go), which is not Winograd either.
		k, ok := c.c.prepare(t, ws, make([]float32, c.c.outC), pathAuto).(*convFloat)
		if got := ok && k.wino != nil; got != (c.want && winoVecWidth() != 0) {
			t.Errorf("%v: Winograd %v, want %v", c.c, got, c.want && winoVecWidth() != 0)
		}
	}
}

// TestWinogradSharedScratch runs Winograd layers on a program Scratch
// whose blocks hold another layer's data (NaN bytes): outputs must be
// bit-identical to the layer's own scratch, so the padded image's border
// is cleared wherever it is not written.
func TestWinogradSharedScratch(t *testing.T) {
	r := rand.New(rand.NewPCG(43, 44))
	sc := NewScratch()
	for iter := 0; iter < 40; iter++ {
		c := randomWinoCase(r)
		xs := make([]float32, c.batch*c.h*c.w*c.inC)
		for i := range xs {
			xs[i] = float32(r.NormFloat64())
		}
		ws := make([]float32, c.outC*9*c.inC)
		for i := range ws {
			ws[i] = float32(r.NormFloat64() / math.Sqrt(float64(9*c.inC)))
		}
		bs := make([]float32, c.outC)
		outH, outW := c.h, c.w
		if c.pad == graph.PaddingValid {
			outH, outW = c.h-2, c.w-2
		}
		n := c.batch * outH * outW * c.outC
		own := c.prepare(t, ws, bs, pathWinograd)
		if own.(*convFloat).wino == nil {
			continue
		}
		want := runF32(t, own, xs, n)
		shared := c.prepare(t, ws, bs, pathWinograd)
		shareScratch(shared, sc)
		// Dirty the Scratch's block as another layer would leave it.
		b := sc.get(1 << 20)
		for i := range *b {
			(*b)[i] = 0xff // float32 NaN
		}
		sc.put(b)
		for run := 0; run < 2; run++ {
			got := runF32(t, shared, xs, n)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Fatalf("%v run %d: output %d = %v on the shared Scratch, %v on its own", c, run, i, got[i], want[i])
				}
			}
		}
	}
}
