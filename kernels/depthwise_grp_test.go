package kernels

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// dwGrpCase is a random integer DEPTHWISE_CONV_2D layer for the
// tap-grouped loops: windows 1–16 rows by 1–3 columns (the tall 1-D
// windows of audio models among them), often a one-pixel-wide image, or
// square 3×3, 5×5 and 7×7 ones,
// strides and dilations 1–2 on each axis, SAME and VALID, depth
// multipliers 1 and 2, odd channel counts up to 150.
func dwGrpCase(rng *rand.Rand, dt graph.DType, batch int) dwVecCase {
	fH, fW := 1+rng.IntN(16), 1+rng.IntN(3)
	sH, sW, dH, dW := 1+rng.IntN(2), 1+rng.IntN(2), 1+rng.IntN(2), 1+rng.IntN(2)
	if rng.IntN(2) == 0 {
		dH, dW = 1, 1
	}
	h := fH + (fH-1)*(dH-1) + rng.IntN(12)
	w := fW + (fW-1)*(dW-1) + rng.IntN(9)
	if rng.IntN(3) == 0 {
		fW, w = 1, 1
	} else if rng.IntN(3) == 0 {
		// Square 2-D windows, 3×3 to 7×7, dilations included.
		f := []int{3, 5, 7}[rng.IntN(3)]
		fH, fW = f, f
		h, w = f+(f-1)*(dH-1)+rng.IntN(9), f+(f-1)*(dW-1)+rng.IntN(9)
	}
	c := []int{1 + rng.IntN(20), 1 + rng.IntN(150), 40, 128, 64, 8, 16, 32}[rng.IntN(8)]
	mult := 1
	if rng.IntN(4) == 0 {
		mult, c = 2, 1+c/2
	}
	pad := []graph.Padding{graph.PaddingSame, graph.PaddingValid}[rng.IntN(2)]
	oh, ow := graph.ConvOutputSize(pad, h, fH, sH, dH), graph.ConvOutputSize(pad, w, fW, sW, dW)
	oc := c * mult
	act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[rng.IntN(3)]
	op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: pad, StrideH: sH, StrideW: sW,
		DilationH: dH, DilationW: dW, DepthMultiplier: mult, Activation: act}}
	inShape, outShape, wShape := []int{batch, h, w, c}, []int{batch, oh, ow, oc}, []int{1, fH, fW, oc}
	tc := dwVecCase{op: op, batch: batch, inC: c, outC: oc, outH: oh, outW: ow,
		desc: fmt.Sprintf("%v b%d %dx%dx%d f%dx%d s%dx%d d%dx%d m%d %v %v", dt, batch, h, w, c, fH, fW, sH, sW, dH, dW, mult, pad, act)}
	tc.fillDwTensors(rng, dt, inShape, outShape, wShape, -128) // −128 too: the full int8 range
	return tc
}

// TestDepthwiseGrpMatchesReference runs random layers through each
// tap-grouped loop this CPU has (VNNI's 4-tap, AVX2's 2-tap) and through
// the plain loops, int8 and uint8, every rounding, batches 1, 3 and 64,
// fused requantization or not, and wants the same bytes.
func TestDepthwiseGrpMatchesReference(t *testing.T) {
	vnni, pairs := dwGrpRunnable()
	if !vnni && !pairs {
		t.Skip("no tap-grouped depthwise loops on this CPU or build (plain loops only)")
	}
	forms := map[string][2]bool{}
	if vnni {
		forms["vnni"] = [2]bool{true, false}
	}
	if pairs {
		forms["avx2"] = [2]bool{false, true}
	}
	rng := rand.New(rand.NewPCG(81, 82))
	iters := 300
	if testing.Short() {
		iters = 80
	}
	ran, fused := 0, map[string]int{}
	for iter := 0; iter < iters; iter++ {
		dt := []graph.DType{graph.Int8, graph.UInt8}[iter%2]
		batch := []int{1, 3, 1, 64}[rng.IntN(4)]
		tc := dwGrpCase(rng, dt, batch)
		rnd := []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.SingleRounding, fixedpoint.RuntimeRounding}[rng.IntN(3)]
		ref, err := prepareDepthwiseConv2DWith(tc.op, tc.ins, []*graph.Tensor{tc.out}, rnd, true)
		if err != nil {
			t.Fatalf("iter %d %s: %v", iter, tc.desc, err)
		}
		shape := []int{tc.batch, tc.outH, tc.outW, tc.outC}
		want := refBuffer(dt, shape, nil)
		if err := ref.Run([]*Buffer{tc.x}, []*Buffer{want}); err != nil {
			t.Fatal(err)
		}
		for name, f := range forms {
			k, err := prepareDepthwiseConv2DWith(tc.op, tc.ins, []*graph.Tensor{tc.out}, rnd, false)
			if err != nil {
				t.Fatalf("iter %d %s: %v", iter, tc.desc, err)
			}
			var d *depthwise
			kind := dwS8
			switch k := k.(type) {
			case *depthwiseInt8:
				d = k.depthwise
			case depthwiseU8:
				d, kind = k.depthwise, dwU8
			default:
				t.Fatalf("kernel %T", k)
			}
			nl := []int{0, 1, 2, 4}[rng.IntN(4)]
			d.grp = newDwGrpForms(kind, d.g, d.mult, d.w32, d.zpTerm, byte(-d.inOff), f[0], f[1], nl)
			if d.grp == nil {
				continue // uint8 weights outside VNNI's signed bytes
			}
			if f[0] != d.grp.vnni {
				t.Fatalf("iter %d %s: asked for vnni=%v, got %v", iter, tc.desc, f[0], d.grp.vnni)
			}
			if nl > 0 && d.grp.nl != min(nl, d.grp.P) {
				t.Fatalf("iter %d %s: asked for %d layouts, got %d", iter, tc.desc, nl, d.grp.nl)
			}
			ran++
			// The fused requantization runs wherever it can unless
			// noFuse asks for the two-pass form.
			d.grp.noFuse = rng.IntN(4) == 0
			got := refBuffer(dt, shape, nil)
			if err := k.Run([]*Buffer{tc.x}, []*Buffer{got}); err != nil {
				t.Fatal(err)
			}
			if d.grp.q != nil {
				fused[name]++
			}
			for i := range got.I8 {
				if got.I8[i] != want.I8[i] {
					t.Fatalf("iter %d %s nl=%d %s %v: out[%d] = %d, want %d", iter, name, d.grp.nl, tc.desc, rnd, i, got.I8[i], want.I8[i])
				}
			}
			for i := range got.U8 {
				if got.U8[i] != want.U8[i] {
					t.Fatalf("iter %d %s nl=%d %s %v: out[%d] = %d, want %d", iter, name, d.grp.nl, tc.desc, rnd, i, got.U8[i], want.U8[i])
				}
			}
		}
	}
	if ran < iters/2 {
		t.Fatalf("only %d tap-grouped runs", ran)
	}
	for name := range forms {
		if fused[name] < iters/20 {
			t.Fatalf("%s: only %d runs with the fused requantization", name, fused[name])
		}
	}
}

// BenchmarkDepthwiseGrp compares the tap-grouped loops (with the fused
// requantization, and -2pass without) with dwVec's (AVX-512 VPMULLD) and
// the plain loops on the depthwise layers of the
// zoo's streaming wake-word (tall 1-D windows on a one-pixel-wide
// image) and DS-CNN keyword models, batch 64.
func BenchmarkDepthwiseGrp(b *testing.B) {
	layers := []struct {
		name               string
		h, w, c, fH, fW, s int
		pad                graph.Padding
	}{
		{"strww-30x1x40-f3x1", 30, 1, 40, 3, 1, 1, graph.PaddingValid},
		{"strww-28x1x128-f5x1", 28, 1, 128, 5, 1, 1, graph.PaddingValid},
		{"strww-24x1x128-f10x1", 24, 1, 128, 10, 1, 1, graph.PaddingValid},
		{"strww-15x1x128-f15x1", 15, 1, 128, 15, 1, 1, graph.PaddingValid},
		{"kws-25x5x64-f3x3", 25, 5, 64, 3, 3, 1, graph.PaddingSame},
		{"vww-48x48x8-f3x3", 48, 48, 8, 3, 3, 1, graph.PaddingSame},
		{"vww-48x48x16-f3x3-s2", 48, 48, 16, 3, 3, 2, graph.PaddingSame},
		{"vww-12x12x64-f3x3-s2", 12, 12, 64, 3, 3, 2, graph.PaddingSame},
		{"vww-6x6x128-f3x3", 6, 6, 128, 3, 3, 1, graph.PaddingSame},
		{"vww-6x6x128-f3x3-s2", 6, 6, 128, 3, 3, 2, graph.PaddingSame},
		{"vww-3x3x256-f3x3", 3, 3, 256, 3, 3, 1, graph.PaddingSame},
	}
	const batch = 64
	for _, l := range layers {
		oh, ow := graph.ConvOutputSize(l.pad, l.h, l.fH, l.s, 1), graph.ConvOutputSize(l.pad, l.w, l.fW, l.s, 1)
		in := qt("in", graph.Int8, []int{batch, l.h, l.w, l.c}, []float32{0.05}, []int64{-3})
		out := qt("out", graph.Int8, []int{batch, oh, ow, l.c}, []float32{0.1}, []int64{5})
		ws := make([]int8, l.fH*l.fW*l.c)
		for i := range ws {
			ws[i] = int8(i*7 - 50)
		}
		// Per-channel scales and a bias, as the zoo's layers have (the
		// runtime rounding then takes XNNPACK's float requantization).
		sc, bs := make([]float32, l.c), make([]int32, l.c)
		for i := range sc {
			sc[i], bs[i] = 0.005+0.0001*float32(i), int32(i*37-500)
		}
		wt := constI8("w", graph.Int8, []int{1, l.fH, l.fW, l.c}, ws, sc)
		bias := constI32("b", bs, []float32{1})
		op := &graph.Op{Kind: graph.OpDepthwiseConv2D, Options: &graph.DepthwiseConv2DOptions{Padding: l.pad, StrideH: l.s, StrideW: l.s, DepthMultiplier: 1, Activation: graph.ActRelu}}
		x, y := refBuffer(graph.Int8, in.Shape, nil), refBuffer(graph.Int8, out.Shape, nil)
		macs := float64(batch * oh * ow * l.c * l.fH * l.fW)
		for _, form := range []string{"vnni", "vnni-2pass", "avx2", "avx2-2pass", "vpmulld", "go"} {
			k, err := prepareDepthwiseConv2DWith(op, []*graph.Tensor{in, wt, bias}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, form == "go")
			if err != nil {
				b.Fatal(err)
			}
			d := k.(*depthwiseInt8).depthwise
			switch form {
			case "vnni", "avx2", "vnni-2pass", "avx2-2pass":
				vnni, pairs := dwGrpRunnable()
				f := strings.TrimSuffix(form, "-2pass")
				if d.grp = newDwGrpForms(dwS8, d.g, d.mult, d.w32, d.zpTerm, byte(-d.inOff), f == "vnni" && vnni, f == "avx2" && pairs, 0); d.grp == nil {
					continue
				}
				d.grp.noFuse = f != form // the separate requantization pass
			case "vpmulld":
				if d.grp, d.vec = nil, newDwVec(dwS8, d.g, d.mult, d.w32, d.zpTerm, nil, byte(-d.inOff), nil, 0, 0); d.vec == nil {
					continue
				}
			}
			b.Run(l.name+"/"+form, func(b *testing.B) {
				runCPU(b, func() { _ = k.Run([]*Buffer{x}, []*Buffer{y}) })
				b.ReportMetric(macs*float64(b.N)/b.Elapsed().Seconds()/1e9, "GMAC/s")
			})
		}
	}
}
