package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
)

// refIm2col is the plain im2col: every tap of every row looked up on its
// own, padding where the tap falls outside the image.
func refIm2col[T float32 | int8](dst, src []T, g *convGeom, r0, rows int, pad T) {
	k := g.k()
	perImage := g.outH * g.outW
	for r := 0; r < rows; r++ {
		p := r0 + r
		b, oy, ox := p/perImage, (p%perImage)/g.outW, p%g.outW
		o := r * k
		for ky := 0; ky < g.fH; ky++ {
			for kx := 0; kx < g.fW; kx++ {
				iy, ix := oy*g.strideH-g.padT+ky*g.dilH, ox*g.strideW-g.padL+kx*g.dilW
				for c := 0; c < g.inC; c++ {
					v := pad
					if iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW {
						v = src[((b*g.inH+iy)*g.inW+ix)*g.inC+c]
					}
					dst[o] = v
					o++
				}
			}
		}
	}
}

// randGeom draws a convolution geometry with odd sizes, strides,
// dilations and SAME or VALID padding.
func randGeom(rng *rand.Rand) *convGeom {
	g := &convGeom{inH: 1 + rng.IntN(9), inW: 1 + rng.IntN(9), inC: 1 + rng.IntN(7),
		fH: 1 + rng.IntN(3), fW: 1 + rng.IntN(3), strideH: 1 + rng.IntN(2), strideW: 1 + rng.IntN(2),
		dilH: 1 + rng.IntN(2), dilW: 1 + rng.IntN(2), outC: 1}
	if rng.IntN(3) == 0 {
		// Windows wider than small images (taps outside on both sides)
		// and runs past 16 values.
		g.fW, g.inC = 4+rng.IntN(7), 1+rng.IntN(20)
	}
	pad := graph.PaddingSame
	if rng.IntN(2) == 0 {
		pad = graph.PaddingValid
		g.inH += (g.fH - 1) * g.dilH
		g.inW += (g.fW - 1) * g.dilW
	}
	g.outH = graph.ConvOutputSize(pad, g.inH, g.fH, g.strideH, g.dilH)
	g.outW = graph.ConvOutputSize(pad, g.inW, g.fW, g.strideW, g.dilW)
	g.padT = graph.ConvPadding(pad, g.inH, g.fH, g.strideH, g.dilH, g.outH)
	g.padL = graph.ConvPadding(pad, g.inW, g.fW, g.strideW, g.dilW, g.outW)
	return g
}

// TestIm2colMatchesReference checks the incremental, run-copying im2col
// against the tap-by-tap one on random geometries, batches and row
// ranges that start and end mid-image.
func TestIm2colMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 5))
	for iter := 0; iter < 400; iter++ {
		g := randGeom(rng)
		batch := 1 + rng.IntN(3)
		src := make([]int8, batch*g.inH*g.inW*g.inC)
		for i := range src {
			src[i] = int8(rng.IntN(256) - 128)
		}
		total := batch * g.outH * g.outW
		r0 := rng.IntN(total)
		rows := 1 + rng.IntN(total-r0)
		got, want := make([]int8, rows*g.k()), make([]int8, rows*g.k())
		im2col(got, src, g, r0, rows, -7)
		refIm2col(want, src, g, r0, rows, -7)
		if !slices.Equal(got, want) {
			t.Fatalf("geometry %+v batch %d rows [%d,%d): im2col differs from the reference", *g, batch, r0, r0+rows)
		}
		srcF := make([]float32, len(src))
		for i, v := range src {
			srcF[i] = float32(v) / 8
		}
		gotF, wantF := make([]float32, rows*g.k()), make([]float32, rows*g.k())
		im2col(gotF, srcF, g, r0, rows, 0)
		refIm2col(wantF, srcF, g, r0, rows, 0)
		if !slices.Equal(gotF, wantF) {
			t.Fatalf("geometry %+v batch %d rows [%d,%d): float im2col differs from the reference", *g, batch, r0, r0+rows)
		}
	}
}

// BenchmarkIm2col is the seed-cnn's first layer's im2col (80×80×3, 3×3
// SAME), the kernel's against the tap-by-tap reference in the same run.
func BenchmarkIm2col(b *testing.B) {
	g := &convGeom{inH: 80, inW: 80, inC: 3, fH: 3, fW: 3, outH: 80, outW: 80, outC: 16, strideH: 1, strideW: 1, dilH: 1, dilW: 1, padT: 1, padL: 1}
	src := make([]int8, 80*80*3)
	rows := chunkRows(6400, 27, 16)
	dst := make([]int8, rows*27)
	for _, v := range []struct {
		name string
		f    func(dst, src []int8, g *convGeom, r0, rows int, pad int8)
	}{{"fast", im2col[int8]}, {"ref", refIm2col[int8]}} {
		b.Run(fmt.Sprintf("int8/80x80x3/%s", v.name), func(b *testing.B) {
			for b.Loop() {
				for r0 := 0; r0 < 6400; r0 += rows {
					v.f(dst, src, g, r0, min(rows, 6400-r0), 0)
				}
			}
		})
	}
	srcF := make([]float32, 80*80*3)
	dstF := make([]float32, rows*27)
	for _, v := range []struct {
		name string
		f    func(dst, src []float32, g *convGeom, r0, rows int, pad float32)
	}{{"fast", im2col[float32]}, {"ref", refIm2col[float32]}} {
		b.Run(fmt.Sprintf("float32/80x80x3/%s", v.name), func(b *testing.B) {
			for b.Loop() {
				for r0 := 0; r0 < 6400; r0 += rows {
					v.f(dstF, srcF, g, r0, min(rows, 6400-r0), 0)
				}
			}
		})
	}
}
