package kernels

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// refDepthwise is the depthwise kernel's former loop: dwPixel with bounds
// checks and the offset add on every tap, then the plain-Go epilogue.
func refDepthwise(d *depthwise, x, y *Buffer, batch int) {
	g := d.g
	o := 0
	acc32 := make([]int32, g.outC)
	accF := make([]float32, g.outC)
	for b := 0; b < batch; b++ {
		img := b * g.inH * g.inW * g.inC
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				iy0, ix0 := oy*g.strideH-g.padT, ox*g.strideW-g.padL
				if x.DType == graph.Float32 {
					dwPixel(accF, x.F32, d.wf, g, img, iy0, ix0, d.mult, 0)
					row := y.F32[o : o+g.outC]
					copy(row, accF)
					floatEpilogue(row, g.outC, d.bf, d.flo, d.fhi)
				} else {
					dwPixel(acc32, x.I8, d.wi, g, img, iy0, ix0, d.mult, d.inOff)
					d.rq.rowInt8Go(y.I8[o:o+g.outC], acc32)
				}
				o += g.outC
			}
		}
	}
}

// dwCase builds a random depthwise layer of dtype dt.
func dwCase(rng *rand.Rand, dt graph.DType, h, w, c, mult, f, stride, dil int, pad graph.Padding, rnd fixedpoint.Rounding) (Kernel, *depthwise, *Buffer, *Buffer, int) {
	batch := 1 + rng.IntN(2)
	oh := graph.ConvOutputSize(pad, h, f, stride, dil)
	ow := graph.ConvOutputSize(pad, w, f, stride, dil)
	oc := c * mult
	op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: pad, StrideH: stride, StrideW: stride,
		DilationH: dil, DilationW: dil, DepthMultiplier: mult, Activation: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[rng.IntN(3)]}}
	var in, wt, bias, out *graph.Tensor
	x := refBuffer(dt, []int{batch, h, w, c}, nil)
	y := refBuffer(dt, []int{batch, oh, ow, oc}, nil)
	if dt == graph.Float32 {
		in = &graph.Tensor{Name: "in", DType: dt, Shape: []int{batch, h, w, c}}
		out = &graph.Tensor{Name: "out", DType: dt, Shape: []int{batch, oh, ow, oc}}
		ws, bs := make([]float32, f*f*oc), make([]float32, oc)
		for i := range ws {
			ws[i] = float32(rng.NormFloat64())
		}
		for i := range bs {
			bs[i] = float32(rng.NormFloat64())
		}
		wt, bias = constF32("w", []int{1, f, f, oc}, ws), constF32("b", []int{oc}, bs)
		for i := range x.F32 {
			x.F32[i] = float32(rng.NormFloat64())
		}
	} else {
		in = qt("in", dt, []int{batch, h, w, c}, []float32{0.05}, []int64{int64(rng.IntN(256) - 128)})
		out = qt("out", dt, []int{batch, oh, ow, oc}, []float32{0.02 + rng.Float32()}, []int64{int64(rng.IntN(256) - 128)})
		ws, sc := make([]int8, f*f*oc), make([]float32, oc)
		for i := range ws {
			ws[i] = int8(rng.IntN(255) - 127)
		}
		for i := range sc {
			sc[i] = 0.001 + rng.Float32()*0.01
		}
		wt = constI8("w", graph.Int8, []int{1, f, f, oc}, ws, sc)
		bs := make([]int32, oc)
		for i := range bs {
			bs[i] = int32(rng.IntN(1<<16) - 1<<15)
		}
		bias = constI32("b", bs, []float32{1})
		for i := range x.I8 {
			x.I8[i] = int8(rng.IntN(256) - 128)
		}
	}
	k, err := prepareDepthwiseConv2DRounding(op, []*graph.Tensor{in, wt, bias}, []*graph.Tensor{out}, rnd)
	if err != nil {
		panic(err)
	}
	var d *depthwise
	switch kk := k.(type) {
	case *depthwiseFloat:
		d = kk.depthwise
	case *depthwiseInt8:
		d = kk.depthwise
	}
	return k, d, x, y, batch
}

// TestDepthwiseFastMatchesReference checks the interior loop (raw inputs,
// pre-loaded offset term, vector epilogue) bit for bit against the former
// per-tap-checked loop on random shapes: odd sizes and channel counts,
// strides, dilations, SAME/VALID, depth multipliers, both roundings.
func TestDepthwiseFastMatchesReference(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	for iter := 0; iter < 300; iter++ {
		f, stride, dil := 1+rng.IntN(3), 1+rng.IntN(2), 1+rng.IntN(2)
		h, w := f+(f-1)*(dil-1)+rng.IntN(7), f+(f-1)*(dil-1)+rng.IntN(7)
		c, mult := 1+rng.IntN(40), 1
		if iter%5 == 0 {
			mult = 2
		}
		pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[rng.IntN(2)]
		for _, dt := range []graph.DType{graph.Float32, graph.Int8} {
			k, d, x, y, batch := dwCase(rng, dt, h, w, c, mult, f, stride, dil, pad, fixedpoint.Rounding(iter%3))
			if err := k.Run([]*Buffer{x}, []*Buffer{y}); err != nil {
				t.Fatal(err)
			}
			want := refBuffer(dt, []int{len(y.F32) + len(y.I8)}, nil)
			refDepthwise(d, x, want, batch)
			for i := range y.I8 {
				if y.I8[i] != want.I8[i] {
					t.Fatalf("iter %d int8 %dx%dx%d f%d s%d d%d m%d %v: out[%d] = %d, want %d", iter, h, w, c, f, stride, dil, mult, pad, i, y.I8[i], want.I8[i])
				}
			}
			for i := range y.F32 {
				if math.Float32bits(y.F32[i]) != math.Float32bits(want.F32[i]) {
					t.Fatalf("iter %d float %dx%dx%d f%d s%d d%d m%d %v: out[%d] = %v, want %v", iter, h, w, c, f, stride, dil, mult, pad, i, y.F32[i], want.F32[i])
				}
			}
		}
	}
}

// BenchmarkDepthwise is a MobileNet-style 3×3 depthwise layer (40×40×64,
// SAME, stride 1): the kernel against its former loop in the same run.
func BenchmarkDepthwise(b *testing.B) {
	for _, dt := range []graph.DType{graph.Float32, graph.Int8} {
		rng := rand.New(rand.NewPCG(1, 1))
		k, d, x, y, _ := dwCase(rng, dt, 40, 40, 64, 1, 3, 1, 1, graph.PaddingSame, fixedpoint.SingleRounding)
		x1 := &Buffer{DType: dt, F32: x.F32, I8: x.I8}
		if dt == graph.Float32 {
			x1.F32 = x.F32[:40*40*64]
		} else {
			x1.I8 = x.I8[:40*40*64]
		}
		y1 := &Buffer{DType: dt}
		if dt == graph.Float32 {
			y1.F32 = y.F32[:40*40*64]
		} else {
			y1.I8 = y.I8[:40*40*64]
		}
		flops := 2 * 9 * 40 * 40 * 64.0
		b.Run(fmt.Sprintf("%v/fast", dt), func(b *testing.B) {
			for b.Loop() {
				_ = k.Run([]*Buffer{x1}, []*Buffer{y1})
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
		b.Run(fmt.Sprintf("%v/ref", dt), func(b *testing.B) {
			for b.Loop() {
				refDepthwise(d, x1, y1, 1)
			}
			b.ReportMetric(flops*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
