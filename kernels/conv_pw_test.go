package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestConv2DPointwiseInt8 drives the int8 1×1 paths (the fused pointwise
// kernels where the build has them, VNNI's or the wide AVX2 ones, the
// one-product MulRequant path otherwise) over random odd shapes, batches 1, 3 and 64, every rounding,
// zero points at the edges, per-tensor and per-channel scales (some
// outside the fused shift range) and fused activations, bit for bit
// against TFLite's reference loop and the per-chunk im2col path. Pixel
// counts straddle the pointwise chunk so calls end on partial tiles.
func TestConv2DPointwiseInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(71, 72))
	fused := map[fixedpoint.Rounding]int{}
	const iters = 150
	for iter := range iters {
		c := convCase{batch: []int{1, 3, 64}[iter%3], inH: 1 + r.IntN(9), inW: 1 + r.IntN(13), inC: 1 + r.IntN(70), outC: 1 + r.IntN(140),
			fH: 1, fW: 1, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		switch iter % 5 {
		case 1: // strww's and kws's shapes
			c.inH, c.inW, c.inC, c.outC = 28, 1, 40, 128
		case 2:
			c.inH, c.inW, c.inC, c.outC = 25, 5, 64, 64
		case 3: // a one-pixel image, a chunk of exactly its unit
			c.inH, c.inW, c.inC, c.outC = 1, 1, 128, 32
		}
		if c.batch == 64 && c.inH*c.inW*c.inC*c.outC > 200000 {
			c.batch = 5
		}
		rnd := []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding}[(iter/3)%3]
		zpIn := []int32{-128, 127, int32(r.IntN(256) - 128)}[iter%3]
		zpOut := []int32{-128, 127, int32(r.IntN(256) - 128)}[(iter/4)%3]
		xs := randI8(r, c.batch*c.inH*c.inW*c.inC, 256)
		ws := randI8(r, c.outC*c.inC, 255)
		nScales := c.outC
		if iter%4 == 0 {
			nScales = 1
		}
		sIn, sOut := float32(0.02+r.Float64()), float32(0.05+r.Float64())
		wScales := make([]float32, nScales)
		for i := range wScales {
			wScales[i] = float32(0.0005 + r.Float64()*0.01)
			if (iter/2)%7 == 3 && i == nScales/2 {
				wScales[i] = float32(0.6 * float64(sOut) / float64(sIn)) // outside the fused range
			}
		}
		bias := make([]int32, c.outC)
		for i := range bias {
			bias[i] = int32(r.IntN(40000) - 20000)
		}
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.IntN(3)]
		q := int8ConvTrial{c: c, rnd: rnd, zpIn: zpIn, zpOut: zpOut, xs: xs, ws: ws, wScales: wScales, bias: bias, sIn: sIn, sOut: sOut, act: act}
		if k := q.check(t); k.pw != nil || k.pww != nil {
			fused[rnd]++
		}
	}
	if len(fused) == 0 {
		t.Skip("no fused int8 kernels in this build (differential check still ran)")
	}
	for _, rnd := range []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding} {
		if fused[rnd] < iters/6 {
			t.Errorf("%s: only %d of %d cases took the fused pointwise path", rnd, fused[rnd], iters/3)
		}
	}
}

// BenchmarkConv2DPointwiseInt8 runs the 1×1 convs of mlt_strww and
// mlt_kws_dscnn_i8 at batch 64 on the fused pointwise path ("fused") and
// on the unfused one-product path ("gemm"), RuntimeRounding.
func BenchmarkConv2DPointwiseInt8(b *testing.B) {
	for _, s := range []struct {
		name               string
		px, inC, outC, bat int
	}{{"strww28x40x128", 28, 40, 128, 64}, {"strww24x128x128", 24, 128, 128, 64}, {"kws125x64x64", 125, 64, 64, 64}} {
		r := rand.New(rand.NewPCG(1, 2))
		in := qt("in", graph.Int8, []int{s.bat, s.px, 1, s.inC}, []float32{0.02}, []int64{-3})
		ws := make([]float32, s.outC)
		bias := make([]int32, s.outC)
		for i := range ws {
			ws[i] = float32(0.001 + 0.002*r.Float64())
			bias[i] = int32(r.IntN(4000) - 2000)
		}
		w := constI8("w", graph.Int8, []int{s.outC, 1, 1, s.inC}, randI8(r, s.outC*s.inC, 255), ws)
		out := qt("out", graph.Int8, []int{s.bat, s.px, 1, s.outC}, []float32{0.05}, []int64{-128})
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingValid, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
		ins, outs := []*graph.Tensor{in, w, constI32("b", bias, nil)}, []*graph.Tensor{out}
		x := []*Buffer{{DType: graph.Int8, I8: randI8(r, s.bat*s.px*s.inC, 256)}}
		y := []*Buffer{{DType: graph.Int8, I8: make([]int8, s.bat*s.px*s.outC)}}
		for _, p := range []struct {
			name string
			path convPath
		}{{"fused", pathAuto}, {"gemm", pathIm2col}} {
			k, err := prepareConv2DWith(op, ins, outs, fixedpoint.RuntimeRounding, p.path)
			if err != nil {
				b.Fatal(err)
			}
			b.Run(s.name+"/"+p.name, func(b *testing.B) {
				for b.Loop() {
					if err := k.Run(x, y); err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(s.bat*s.px*s.inC*s.outC)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}

// TestConv2DPadColFusedInt8 drives the padded im2col through the fused
// kernels (strided layers with short window rows: a keyword model's
// 10×4 stride-2 first layer, 1×1 stride-2 shortcuts, 3×3×3 stems) over
// random odd shapes, batches 1, 3 and 64 (chunks then span images),
// every rounding, edge zero points and fused activations, bit for bit
// against the im2col path and TFLite's reference loop.
func TestConv2DPadColFusedInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(73, 74))
	fused := map[fixedpoint.Rounding]int{}
	const iters = 120
	for iter := range iters {
		c := convCase{batch: []int{1, 3, 64}[iter%3], inH: 1 + r.IntN(14), inW: 1 + r.IntN(11), inC: 1 + r.IntN(4), outC: 1 + r.IntN(80),
			fH: 1 + r.IntN(4), fW: 1 + r.IntN(4), sH: 1 + r.IntN(2), sW: 2, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		switch iter % 4 {
		case 1: // mlt_kws_dscnn_i8's first layer
			c.inH, c.inW, c.inC, c.outC, c.fH, c.fW, c.sH, c.pad = 49, 10, 1, 64, 10, 4, 2, graph.PaddingSame
		case 2: // a 1×1 stride-2 shortcut
			c.inC, c.fH, c.fW, c.sH = 16, 1, 1, 2
		}
		if c.pad == graph.PaddingValid {
			c.inH += c.fH - 1
			c.inW += c.fW - 1
		}
		if c.batch == 64 && c.inH*c.inW*c.outC > 20000 {
			c.batch = 9
		}
		rnd := []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding}[(iter/3)%3]
		zpIn := []int32{-128, 127, int32(r.IntN(256) - 128)}[iter%3]
		zpOut := []int32{-128, 127, int32(r.IntN(256) - 128)}[(iter/4)%3]
		xs := randI8(r, c.batch*c.inH*c.inW*c.inC, 256)
		ws := randI8(r, c.outC*c.fH*c.fW*c.inC, 255)
		nScales := c.outC
		if iter%4 == 0 {
			nScales = 1
		}
		sIn, sOut := float32(0.02+r.Float64()), float32(0.05+r.Float64())
		wScales := make([]float32, nScales)
		for i := range wScales {
			wScales[i] = float32(0.0005 + r.Float64()*0.01)
		}
		bias := make([]int32, c.outC)
		for i := range bias {
			bias[i] = int32(r.IntN(40000) - 20000)
		}
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.IntN(3)]
		q := int8ConvTrial{c: c, rnd: rnd, zpIn: zpIn, zpOut: zpOut, xs: xs, ws: ws, wScales: wScales, bias: bias, sIn: sIn, sOut: sOut, act: act}
		// CPUs with the wide table kernels take those (conv_at_s8w.go).
		if k := q.checkPath(t, pathAuto); k.pw != nil && k.padCol != nil || k.at != nil {
			fused[rnd]++
		}
	}
	if len(fused) == 0 {
		t.Skip("no fused int8 kernels in this build (differential check still ran)")
	}
	for _, rnd := range []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding} {
		if fused[rnd] < iters/6 {
			t.Errorf("%s: only %d of %d cases took the fused padded im2col", rnd, fused[rnd], iters/3)
		}
	}
}
