package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

// TestConv2DWideInt8At drives pathAuto's int8 convs over random odd
// shapes with strides 1 to 3, row dilations, 1×1 to 5×5 windows, SAME
// and VALID, batches 1, 3 and 64, every rounding, edge zero points,
// per-tensor and per-channel scales and fused activations, plus the zoo
// models' strided layers (mlt_vww96_i8's 96×96×3 stem, mlt_resnet8_i8's
// 3×3 and 1×1 stride-2 convs), bit for bit against the im2col path and
// TFLite's reference loop. On CPUs with the wide table kernels (AVX2
// without AVX-512) most of them take conv_at_s8w.go.
func TestConv2DWideInt8At(t *testing.T) {
	r := rand.New(rand.NewPCG(93, 94))
	at := 0
	const iters = 150
	for iter := range iters {
		f := 1 + r.IntN(5)
		c := convCase{batch: []int{1, 3, 64}[iter%3], inH: 1 + r.IntN(12), inW: 1 + r.IntN(17), inC: 1 + r.IntN(21), outC: 1 + r.IntN(40),
			fH: f, fW: 1 + r.IntN(5), sH: 1 + r.IntN(3), sW: 1 + r.IntN(3), dH: 1 + r.IntN(2), dW: 1, pad: graph.Padding(r.IntN(2))}
		switch iter % 6 {
		case 1: // mlt_vww96_i8's stem
			c.inH, c.inW, c.inC, c.outC, c.fH, c.fW, c.sH, c.sW, c.dH, c.pad = 96, 96, 3, 8, 3, 3, 2, 2, 1, graph.PaddingSame
		case 2: // mlt_resnet8_i8's stride-2 3×3 convs
			c.inH, c.inW, c.inC, c.outC, c.fH, c.fW, c.sH, c.sW, c.dH, c.pad = 16, 16, 32, 64, 3, 3, 2, 2, 1, graph.PaddingSame
		case 3: // and its 1×1 stride-2 shortcuts
			c.inH, c.inW, c.inC, c.outC, c.fH, c.fW, c.sH, c.sW, c.dH, c.pad = 32, 32, 16, 32, 1, 1, 2, 2, 1, graph.PaddingSame
		}
		if c.pad == graph.PaddingValid {
			c.inH += (c.fH-1)*c.dH + 1
			c.inW += c.fW
		}
		if c.batch == 64 && c.inH*c.inW*c.outC > 4000 {
			c.batch = 2
		}
		rnd := []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding}[(iter/2)%3]
		zpIn := []int32{-128, 127, int32(r.IntN(256) - 128)}[iter%3]
		zpOut := []int32{-128, 127, int32(r.IntN(256) - 128)}[(iter/5)%3]
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
		q := int8ConvTrial{c: c, rnd: rnd, zpIn: zpIn, zpOut: zpOut, xs: randI8(r, c.batch*c.inH*c.inW*c.inC, 256),
			ws: randI8(r, c.outC*c.fH*c.fW*c.inC, 255), wScales: wScales, bias: bias, sIn: sIn, sOut: sOut, act: act}
		if q.checkPath(t, pathAuto).at != nil {
			at++
		}
	}
	if gemm.PackS8SegmentedWide(make([]int8, 1), 1, 1, 1, 1) == nil {
		t.Skip("no wide int8 kernels on this CPU (differential checks still ran)")
	}
	if at < iters/2 {
		t.Errorf("only %d of %d cases took the wide table path", at, iters)
	}
}
