package kernels

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// firstS8Trial is a random int8 conv in or near the direct first-layer
// kernel's range: 1..4 input channels, windows up to 5×5, odd sizes,
// SAME or VALID, zero points at the edges, per-tensor or per-channel
// scales, fused activations, every rounding.
func firstS8Trial(r *rand.Rand, iter int) int8ConvTrial {
	fH, fW := 1+r.IntN(5), 1+r.IntN(5)
	c := convCase{batch: 1 + r.IntN(3), inH: 1 + r.IntN(13), inW: 1 + r.IntN(45), inC: 1 + r.IntN(4), outC: 1 + r.IntN(40),
		fH: fH, fW: fW, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
	if iter%5 == 0 {
		c.inC, c.fH, c.fW, c.outC = 3, 3, 3, 16 // the seed-cnn shape
	}
	if c.pad == graph.PaddingValid {
		c.inH += c.fH - 1
		c.inW += c.fW - 1
	}
	rnd := fixedpoint.RuntimeRounding
	if iter%4 == 3 {
		rnd = []fixedpoint.Rounding{fixedpoint.SingleRounding, fixedpoint.DoubleRounding}[r.IntN(2)]
	}
	zpIn := []int32{-128, 127, int32(r.IntN(256) - 128)}[iter%3]
	zpOut := []int32{-128, 127, int32(r.IntN(256) - 128)}[(iter/3)%3]
	nScales := c.outC
	if iter%4 == 0 {
		nScales = 1
	}
	sIn, sOut := float32(0.02+r.Float64()), float32(0.05+r.Float64())
	wScales := make([]float32, nScales)
	for i := range wScales {
		wScales[i] = float32(0.0005 + r.Float64()*0.01)
		switch iter % 7 {
		case 1:
			// Large multipliers: most outputs saturate at either end.
			wScales[i] = float32((0.3 + 4*r.Float64()) * float64(sOut) / float64(sIn))
		case 4:
			// Up to XNNPACK's limit (256), with huge biases below:
			// scaled accumulators past 2^31, where only the float clamp
			// keeps the conversion in range.
			wScales[i] = float32((1 + 200*r.Float64()) * float64(sOut) / float64(sIn))
		}
	}
	bias := make([]int32, c.outC)
	for i := range bias {
		bias[i] = int32(r.IntN(40000) - 20000)
		if iter%7 == 4 && r.IntN(2) == 0 {
			bias[i] = int32(r.Int64N(1<<32) - 1<<31)
		}
	}
	return int8ConvTrial{c: c, rnd: rnd, zpIn: zpIn, zpOut: zpOut,
		xs: randI8(r, c.batch*c.inH*c.inW*c.inC, 256), ws: randI8(r, c.outC*c.fH*c.fW*c.inC, 255),
		wScales: wScales, bias: bias, sIn: sIn, sOut: sOut,
		act: []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6}[r.IntN(3)]}
}

// TestConv2DFirstS8MatchesReference drives the direct first-layer path
// (the VNNI kernel where the CPU has it) over random shapes, bit for bit
// against the im2col path and TFLite's reference loop (checkPath), and
// the kernel's Go form (convFirstS8Ref) over the same tables on any
// machine, so the tables are checked where the kernel cannot run.
func TestConv2DFirstS8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	const iters = 300
	took, goTile := 0, 0
	clamps := map[bool]int{} // cases by noMin: both kernels must run
	for iter := range iters {
		q := firstS8Trial(r, iter)
		k := q.checkPath(t, pathFirst)
		if k.first != nil {
			took++
			clamps[k.first.noMin]++
		}
		if q.rnd != fixedpoint.RuntimeRounding || !k.rq.fp32 || !firstS8Applies(k.g) {
			if k.first != nil {
				t.Fatalf("%+v %s: direct path taken outside its range", q.c, q.rnd)
			}
			continue
		}
		f := buildFirstS8(k.g, q.ws, q.zpIn, k.rq)
		want := make([]int8, k.g.outH*k.g.outW*k.g.outC*q.c.batch)
		if err := k.Run([]*Buffer{{DType: graph.Int8, I8: q.xs}}, []*Buffer{{DType: graph.Int8, I8: want}}); err != nil {
			t.Fatal(err)
		}
		got := make([]int8, len(want))
		f.run(k.g, q.c.batch, q.xs, got, convFirstS8Ref)
		if !slices.Equal(got, want) {
			t.Fatalf("%+v zp %d/%d act %s: the Go tile differs from the conv", q.c, q.zpIn, q.zpOut, q.act)
		}
		goTile++
	}
	if goTile < iters/4 {
		t.Errorf("only %d of %d cases checked the Go tile", goTile, iters)
	}
	if !firstS8Available() {
		t.Skip("no direct first-layer kernel on this CPU/build (the Go tile and the fallback were checked)")
	}
	if took < iters/4 || clamps[true] < 10 || clamps[false] < 10 {
		t.Errorf("only %d of %d cases took the direct path (%d without the float clamp, %d with)", took, iters, clamps[true], clamps[false])
	}
}

// TestConv2DFirstS8Chosen checks that pathAuto takes the direct kernel
// for seed-cnn's first layer (80×80×3 → 16, 3×3 SAME) where it runs.
func TestConv2DFirstS8Chosen(t *testing.T) {
	if !firstS8Available() {
		t.Skip("no direct first-layer kernel on this CPU/build")
	}
	r := rand.New(rand.NewPCG(3, 4))
	q := firstS8Trial(r, 0)
	q.c = convCase{batch: 1, inH: 80, inW: 80, inC: 3, outC: 16, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}
	q.xs = randI8(r, 80*80*3, 256)
	q.ws = randI8(r, 16*27, 255)
	q.wScales = q.wScales[:1]
	q.bias = q.bias[:16]
	if k := q.checkPath(t, pathAuto); k.first == nil {
		t.Fatal("pathAuto did not take the direct first-layer kernel")
	}
}

func BenchmarkConvFirstS8(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	ws := randI8(r, 16*27, 255)
	bias := make([]int32, 16)
	for _, path := range []struct {
		name string
		p    convPath
	}{{"direct", pathFirst}, {"segmented", pathSegmented}} {
		b.Run(path.name, func(b *testing.B) {
			in := qt("in", graph.Int8, []int{8, 80, 80, 3}, []float32{0.02}, []int64{-3})
			w := constI8("w", graph.Int8, []int{16, 3, 3, 3}, ws, []float32{0.003})
			out := qt("out", graph.Int8, []int{8, 80, 80, 16}, []float32{0.05}, []int64{-128})
			op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
			k, err := prepareConv2DWith(op, []*graph.Tensor{in, w, constI32("b", bias, nil)}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, path.p)
			if err != nil {
				b.Fatal(err)
			}
			x := []*Buffer{{DType: graph.Int8, I8: randI8(r, 8*80*80*3, 256)}}
			y := []*Buffer{{DType: graph.Int8, I8: make([]int8, 8*80*80*16)}}
			b.SetBytes(8 * 80 * 80 * 16 * 27) // multiply-adds, as "bytes"
			runCPU(b, func() {
				if err := k.Run(x, y); err != nil {
					b.Fatal(err)
				}
			})
		})
	}
}
