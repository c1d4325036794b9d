package kernels

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

// TestConv2DWideInt8Strided drives the wide fused int8 path (int16
// padded input; the fused path on CPUs without AVX-512) over random odd
// shapes with strides 1 to 3, row dilations, every rounding, edge zero
// points and fused activations, bit for bit against the im2col path and
// TFLite's reference loop (int8ConvTrial.check, which forces the
// segmented plan: per-row calls when strided), and, for pathAuto, against
// the im2col path. pathAuto never takes the per-row wide plan: its last
// tile per output row is partial (BenchmarkConvInt8Paths, AVX2: 3x3
// stride 2 16x16x32→64 20.3-20.4 µs per image against 18.5-18.8 on
// im2col); strided convs take the table path (conv_at_s8w.go) instead,
// 13.3-13.5 µs.
func TestConv2DWideInt8Strided(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	wide := 0
	const iters = 200
	for iter := range iters {
		f := []int{2, 3, 5}[r.IntN(3)]
		c := convCase{batch: 1 + r.IntN(3), inH: 1 + r.IntN(14), inW: 1 + r.IntN(25), inC: 1 + r.IntN(19), outC: 1 + r.IntN(40),
			fH: f, fW: f, sH: 1 + r.IntN(3), sW: 1 + r.IntN(3), dH: 1 + r.IntN(2), dW: 1, pad: graph.Padding(r.IntN(2))}
		if c.pad == graph.PaddingValid {
			c.inH += (f-1)*c.dH + 1
			c.inW += f
		}
		rnd := []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding}[iter%3]
		zpIn := []int32{-128, 127, int32(r.IntN(256) - 128)}[iter%3]
		zpOut := []int32{-128, 127, int32(r.IntN(256) - 128)}[(iter/3)%3]
		sIn, sOut := float32(0.02+r.Float64()), float32(0.05+r.Float64())
		wScales := make([]float32, c.outC)
		for i := range wScales {
			wScales[i] = float32(0.0005 + r.Float64()*0.01)
		}
		bias := make([]int32, c.outC)
		for i := range bias {
			bias[i] = int32(r.IntN(40000) - 20000)
		}
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.IntN(3)]
		q := int8ConvTrial{c: c, rnd: rnd, zpIn: zpIn, zpOut: zpOut, xs: randI8(r, c.batch*c.inH*c.inW*c.inC, 256),
			ws: randI8(r, c.outC*c.fH*c.fW*c.inC, 255), wScales: wScales, bias: bias, sIn: sIn, sOut: sOut, act: act}
		if q.check(t).wide != nil {
			wide++
		}
		// pathAuto against im2col.
		outH, outW := c.outSize()
		in := qt("in", graph.Int8, []int{c.batch, c.inH, c.inW, c.inC}, []float32{sIn}, []int64{int64(zpIn)})
		w := constI8("w", graph.Int8, []int{c.outC, c.fH, c.fW, c.inC}, q.ws, wScales)
		out := qt("out", graph.Int8, []int{c.batch, outH, outW, c.outC}, []float32{sOut}, []int64{int64(zpOut)})
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: c.sH, StrideW: c.sW, DilationH: c.dH, DilationW: c.dW, Activation: act}}
		ins, outs := []*graph.Tensor{in, w, constI32("b", bias, nil)}, []*graph.Tensor{out}
		x := []*Buffer{{DType: graph.Int8, I8: q.xs}}
		var res [2][]int8
		for i, path := range []convPath{pathAuto, pathIm2col} {
			k, err := prepareConv2DWith(op, ins, outs, rnd, path)
			if err != nil {
				t.Fatal(err)
			}
			if ci, ok := k.(*convInt8); ok && path == pathAuto && ci.wide != nil && ci.seg.perRow {
				t.Fatalf("%+v: pathAuto took the per-row wide plan", c)
			}
			res[i] = make([]int8, c.batch*outH*outW*c.outC)
			if err := k.Run(x, []*Buffer{{DType: graph.Int8, I8: res[i]}}); err != nil {
				t.Fatal(err)
			}
		}
		if !slices.Equal(res[0], res[1]) {
			t.Fatalf("%+v %s: pathAuto and im2col differ", c, rnd)
		}
	}
	if gemm.PackS8SegmentedWide(make([]int8, 1), 1, 1, 1, 1) == nil {
		t.Skip("no wide int8 kernels on this CPU (differential checks still ran)")
	}
	if wide < iters*2/3 {
		t.Errorf("only %d of %d cases took the wide path", wide, iters)
	}
}
