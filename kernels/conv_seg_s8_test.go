package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestConv2DFusedInt8MatchesIm2col drives the fused int8 segmented path
// (requantization in the micro-kernel, row-mapped stores, u8-offset
// padded input) over random odd shapes with both roundings, zero points
// at the edges, per-tensor and per-channel scales (some at the ends of
// the fused shift range, 1 and 23, some just outside it) and fused
// activations, bit for bit against the im2col path and TFLite's
// reference loop. Without AVX-512 (GODEBUG=cpu.avx512f=off) the fused
// path is the wide one (int16 padded input, conv_seg_s8w.go).
func TestConv2DFusedInt8MatchesIm2col(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	fused := map[fixedpoint.Rounding]int{}
	const iters = 300
	for iter := range iters {
		f := []int{1, 3, 5}[r.IntN(3)]
		c := convCase{batch: 1 + r.IntN(3), inH: 1 + r.IntN(12), inW: 1 + r.IntN(23), inC: 1 + r.IntN(19), outC: 1 + r.IntN(70),
			fH: f, fW: f, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		if c.pad == graph.PaddingValid {
			c.inH += f - 1
			c.inW += f - 1
		}
		rnd := []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding}[iter%3]
		zpIn := []int32{-128, 127, int32(r.IntN(256) - 128)}[iter%3]
		zpOut := []int32{-128, 127, int32(r.IntN(256) - 128)}[(iter/3)%3]
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
			// Effective multipliers at the ends of the fused range
			// (right shift 1: [0.25, 0.5); 23: about 2^-23) and, for
			// one channel, just past it (0.6: shift 0, unfused).
			switch (iter / 2) % 7 {
			case 1:
				wScales[i] = float32((0.26 + 0.23*r.Float64()) * float64(sOut) / float64(sIn))
			case 2:
				wScales[i] = float32((1 + 0.9*r.Float64()) / (1 << 23) * float64(sOut) / float64(sIn))
			case 3:
				if i == nScales/2 {
					wScales[i] = float32(0.6 * float64(sOut) / float64(sIn))
				}
			}
		}
		bias := make([]int32, c.outC)
		for i := range bias {
			bias[i] = int32(r.IntN(40000) - 20000)
		}
		act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.IntN(3)]
		q := int8ConvTrial{c: c, rnd: rnd, zpIn: zpIn, zpOut: zpOut, xs: xs, ws: ws, wScales: wScales, bias: bias, sIn: sIn, sOut: sOut, act: act}
		if k := q.check(t); k.fused != nil || k.wide != nil {
			fused[rnd]++
		}
	}
	// Only builds with the fused kernels take the path; there most
	// cases must (1×1 ones are pointwise and stay on the plain GEMM).
	if len(fused) == 0 {
		t.Skip("no fused int8 kernels in this build (differential check still ran)")
	}
	for _, rnd := range []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding} {
		if fused[rnd] < iters/9 {
			t.Errorf("%s: only %d of %d cases took the fused path", rnd, fused[rnd], iters/3)
		}
	}
}

// TestXorCopy checks the word-at-a-time offset copy on odd lengths.
func TestXorCopy(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for n := range 40 {
		src := randI8(r, n, 256)
		dst := make([]int8, n+3)
		xorCopy(dst, src)
		for i := range dst {
			want := int8(0)
			if i < n {
				want = int8(uint8(src[i]) ^ 0x80)
			}
			if dst[i] != want {
				t.Fatalf("n=%d: dst[%d] = %d, want %d", n, i, dst[i], want)
			}
		}
	}
}
