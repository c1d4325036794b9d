package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
	"github.com/qbench/qbench/kernels/gemm"
)

// winoS8Trial is a random int8 conv trial of geometry c.
func winoS8Trial(r *rand.Rand, c convCase, iter int) int8ConvTrial {
	rnd := []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding}[iter%3]
	zpIn := []int32{-128, 127, int32(r.IntN(256) - 128)}[(iter/3)%3]
	zpOut := []int32{-128, 127, int32(r.IntN(256) - 128)}[(iter/2)%3]
	nScales := c.outC
	if iter%4 == 0 {
		nScales = 1
	}
	wScales := make([]float32, nScales)
	for i := range wScales {
		wScales[i] = float32(0.0005 + r.Float64()*0.01)
	}
	bias := make([]int32, c.outC)
	for i := range bias {
		bias[i] = int32(r.IntN(40000) - 20000)
	}
	return int8ConvTrial{c: c, rnd: rnd, zpIn: zpIn, zpOut: zpOut, xs: randI8(r, c.batch*c.inH*c.inW*c.inC, 256),
		ws: randI8(r, c.outC*c.fH*c.fW*c.inC, 256), wScales: wScales, bias: bias,
		sIn: float32(0.02 + r.Float64()), sOut: float32(0.05 + r.Float64()),
		act: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[(iter/5)%3]}
}

// TestConv2DWinogradInt8 checks the integer Winograd conv bit for bit
// against the im2col path and TFLite's reference loop (checkPath) on
// random 3×3 stride-1 layers: odd channel counts, outW not a multiple of
// 4, SAME and VALID, batches 1 and 3, every rounding, edge zero points,
// per-tensor and per-channel scales, fused RELU and RELU6.
func TestConv2DWinogradInt8(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	for iter := range 60 {
		c := convCase{batch: []int{1, 3}[iter%2], inH: 1 + r.IntN(12), inW: 4 + r.IntN(19), inC: 1 + r.IntN(40), outC: 1 + r.IntN(40),
			fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		if iter%7 == 0 { // seed-cnn's 20×20×32→64
			c.inH, c.inW, c.inC, c.outC, c.pad = 20, 20, 32, 64, graph.PaddingSame
		}
		if c.pad == graph.PaddingValid {
			c.inH += 2
			c.inW += 2
		}
		q := winoS8Trial(r, c, iter)
		if q.checkPath(t, pathWinograd).wino == nil {
			t.Fatalf("%+v: Winograd not used", c)
		}
	}
}

// TestConv2DWinogradInt8Extremes drives the sums to the int32 bound the
// plan admits: inputs all −128 or all 127 against weights all ±127 (and
// −128), with inC at the largest Σ|w| that passes the overflow check,
// where 24·Σ x·w lies just inside int32 and the products wrap on the way;
// one more channel must send the layer back to the direct path.
func TestConv2DWinogradInt8Extremes(t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	inC := winoS8MaxAbsSum / (9 * 127)
	for iter := range 12 {
		c := convCase{batch: 1, inH: 5, inW: 6, inC: inC, outC: 3, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(iter % 2)}
		q := winoS8Trial(r, c, iter)
		xv := []int8{-128, 127}[iter%2]
		for i := range q.xs {
			q.xs[i] = xv
		}
		for i := range q.ws {
			switch (iter / 2) % 3 {
			case 0:
				q.ws[i] = 127
			case 1:
				q.ws[i] = -127
			default:
				q.ws[i] = int8(127 - 254*(i%2))
			}
		}
		q.zpIn = []int32{-128, 127, 0}[iter%3]
		q.bias = make([]int32, c.outC)
		q.sOut = extremeScale(q)
		if q.checkPath(t, pathWinograd).wino == nil {
			t.Fatalf("%+v: Winograd not used at Σ|w| = %d", c, 9*127*inC)
		}
		if iter < 2 {
			// −128 weights: Σ|w| = 128·9·inC passes only for fewer channels.
			c2 := c
			c2.inC = winoS8MaxAbsSum / (9 * 128)
			q2 := winoS8Trial(r, c2, iter)
			for i := range q2.ws {
				q2.ws[i] = -128
			}
			for i := range q2.xs {
				q2.xs[i] = xv
			}
			q2.sOut = extremeScale(q2)
			if q2.checkPath(t, pathWinograd).wino == nil {
				t.Fatalf("%+v: Winograd not used for −128 weights", c2)
			}
			c.inC++
			q = winoS8Trial(r, c, iter)
			for i := range q.ws {
				q.ws[i] = 127
			}
			if q.checkPath(t, pathWinograd).wino != nil {
				t.Fatalf("%+v: Winograd used past the overflow bound", c)
			}
		}
	}
}

// extremeScale is an output scale that maps the largest |Σ w·(x − zp)|
// of q to about 100, so no output saturates and an error shows.
func extremeScale(q int8ConvTrial) float32 {
	var ws float32
	for _, s := range q.wScales {
		ws = max(ws, s)
	}
	return q.sIn * ws * float32(255*128*9*q.c.inC) / 100
}

// TestConv2DWinogradInt8Auto checks pathAuto's choice: seed-cnn's 3×3
// layers take Winograd (1-D or 2-D) exactly when the CPU's int8 family is the
// int16-pair one, and the results stay bit-identical either way.
func TestConv2DWinogradInt8Auto(t *testing.T) {
	r := rand.New(rand.NewPCG(85, 86))
	for iter, c := range []convCase{
		{batch: 1, inH: 40, inW: 40, inC: 16, outC: 32, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame},
		{batch: 2, inH: 10, inW: 10, inC: 64, outC: 128, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame},
	} {
		q := winoS8Trial(r, c, iter+2)
		k := q.checkPath(t, pathAuto)
		got := k.wino != nil || k.wino2 != nil // either form
		if want := gemm.I16Native(); got != want {
			t.Errorf("%+v: Winograd used %v, want %v (int16-pair family %v)", c, got, want, want)
		}
	}
}

// TestDiv24 checks the exact division on multiples of 24 across int32.
func TestDiv24(t *testing.T) {
	r := rand.New(rand.NewPCG(87, 88))
	for range 100000 {
		q := int32(r.Int64N(1<<32/24) - 1<<31/24)
		if got := div24(24 * q); got != q {
			t.Fatalf("div24(%d) = %d, want %d", 24*q, got, q)
		}
	}
	for _, q := range []int32{0, 1, -1, (1<<31 - 1) / 24, -(1 << 31) / 24} {
		if got := div24(24 * q); got != q {
			t.Fatalf("div24(%d) = %d, want %d", 24*q, got, q)
		}
	}
}

// TestWinoS8Transforms checks the vector transforms (where they run)
// against the plain-Go loops on random data: inputs over all of int8,
// products over all of int32 (the output transform wraps), odd channel
// counts and partial last tiles.
func TestWinoS8Transforms(t *testing.T) {
	r := rand.New(rand.NewPCG(89, 90))
	for iter := range 200 {
		C, N := 1+r.IntN(70), 1+r.IntN(70)
		tiles := 1 + r.IntN(6)
		outW := 4*tiles - r.IntN(4)
		plane := tiles*max(C, N) + r.IntN(20)
		src := randI8(r, (4*tiles+2)*C, 256)
		got, want := make([]int16, 6*plane), make([]int16, 6*plane)
		winoInS8(got, plane, src, tiles, C)
		winoInS8Go(want, plane, src, tiles, C, 0)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("iter %d: input transform (C=%d tiles=%d) element %d = %d, want %d", iter, C, tiles, i, got[i], want[i])
			}
		}
		m := make([]int32, 6*plane)
		for i := range m {
			m[i] = int32(r.Uint32())
		}
		corr := make([]int32, N)
		for i := range corr {
			corr[i] = int32(r.Uint32())
		}
		acc, ref := make([]int32, outW*N), make([]int32, outW*N)
		winoOutS8(acc, m, plane, tiles, outW, N, corr)
		winoOutS8Go(ref, m, plane, 0, outW/4, 4, N, corr, 0)
		if outW%4 != 0 {
			winoOutS8Go(ref, m, plane, outW/4, tiles, outW%4, N, corr, 0)
		}
		for i := range acc {
			if acc[i] != ref[i] {
				t.Fatalf("iter %d: output transform (N=%d tiles=%d outW=%d) element %d = %d, want %d", iter, N, tiles, outW, i, acc[i], ref[i])
			}
		}
	}
}
