package kernels

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestMaxPoolMapMatchesPair runs the fused MAX_POOL_2D → element-wise op
// kernel (MaxPoolMapOptions) against the pair run op by op — the pool into
// an intermediate, then the element-wise kernel — on random shapes (odd
// sizes and channel counts, SAME and VALID, 2×2 and 3×3 windows, batches
// above 1) and random quantizations, int8 and uint8, RELU, RELU6,
// RELU_N1_TO_1 and LEAKY_RELU, every rounding; the fast kernels (the
// affine form on AVX2) and the reference ones.
func TestMaxPoolMapMatchesPair(t *testing.T) {
	rng := rand.New(rand.NewPCG(51, 52))
	maps := []*graph.Op{
		{Kind: graph.OpRelu}, {Kind: graph.OpRelu6}, {Kind: graph.OpReluN1To1},
		{Kind: graph.OpLeakyRelu, Options: &graph.LeakyReluOptions{Alpha: 0.2}},
	}
	ran, vec := 0, 0
	for trial := range 240 {
		rnd := roundings[trial%len(roundings)]
		mop := maps[trial/len(roundings)%len(maps)]
		d := graph.Int8
		if trial%7 == 3 {
			d = graph.UInt8
		}
		ref := trial%5 == 4
		pc := poolCase{batch: 1 + rng.IntN(3), h: 1 + rng.IntN(13), w: 1 + rng.IntN(13), c: 1 + rng.IntN(40), f: 2, s: 2, pad: graph.PaddingValid}
		switch trial % 4 {
		case 1:
			pc.pad = graph.PaddingSame
		case 2:
			pc.f, pc.pad = 3, graph.PaddingSame
		case 3:
			// The fused vector loop's widths, SAME's clipped edges too.
			pc.c = []int{16, 32, 64, 48}[rng.IntN(4)]
			if rng.IntN(2) == 1 {
				pc.pad = graph.PaddingSame
			}
		}
		if trial%11 == 0 {
			pc.h, pc.w, pc.c, pc.batch = 80, 80, 16, 2
		}
		oh := graph.ConvOutputSize(pc.pad, pc.h, pc.f, pc.s, 1)
		ow := graph.ConvOutputSize(pc.pad, pc.w, pc.f, pc.s, 1)
		if pc.pad == graph.PaddingValid && (pc.h < pc.f || pc.w < pc.f) {
			pc.h, pc.w = pc.f+pc.h, pc.f+pc.w
			oh = graph.ConvOutputSize(pc.pad, pc.h, pc.f, pc.s, 1)
			ow = graph.ConvOutputSize(pc.pad, pc.w, pc.f, pc.s, 1)
		}
		si, so := randScale(rng), randScale(rng)
		if trial%3 == 0 {
			so = si * 0.47 // seed-cnn-like: wider output scale
		}
		zi, zo := randZP(rng, d), randZP(rng, d)
		in := qtensor("in", d, []int{pc.batch, pc.h, pc.w, pc.c}, si, zi)
		mid := qtensor("mid", d, []int{pc.batch, oh, ow, pc.c}, si, zi)
		out := qtensor("out", d, []int{pc.batch, oh, ow, pc.c}, so, zo)
		popts := graph.Pool2DOptions{Padding: pc.pad, StrideH: pc.s, StrideW: pc.s, FilterH: pc.f, FilterW: pc.f}
		name := fmt.Sprintf("%v %v %v %v ref=%v", pc, d, mop.Kind, rnd, ref)
		o := Options{Rounding: rnd, reference: ref}
		pk, err := PrepareWith(&graph.Op{Kind: graph.OpMaxPool2D, Options: &popts}, []*graph.Tensor{in}, []*graph.Tensor{mid}, o)
		if err != nil {
			t.Fatalf("%s: pool: %v", name, err)
		}
		ak, err := PrepareWith(mop, []*graph.Tensor{mid}, []*graph.Tensor{out}, o)
		if err != nil {
			continue // e.g. a ratio the element-wise op rejects
		}
		fop := &graph.Op{Kind: graph.OpMaxPool2D, Options: &MaxPoolMapOptions{Pool: popts, Map: mop, Mid: mid}}
		fk, err := PrepareWith(fop, []*graph.Tensor{in}, []*graph.Tensor{out}, o)
		if err != nil {
			t.Fatalf("%s: fused: %v", name, err)
		}
		x := allocBuf(in)
		fillInts(rng, x)
		m, want, got := allocBuf(mid), allocBuf(out), allocBuf(out)
		if err := pk.Run([]*Buffer{x}, []*Buffer{m}); err != nil {
			t.Fatal(err)
		}
		if err := ak.Run([]*Buffer{m}, []*Buffer{want}); err != nil {
			t.Fatal(err)
		}
		if err := fk.Run([]*Buffer{x}, []*Buffer{got}); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		for i := range out.NumElements() {
			if g, w := getInt(got, i), getInt(want, i); g != w {
				t.Fatalf("%s: element %d: fused %d, pair %d", name, i, g, w)
			}
		}
		ran++
		if fk.(*poolMap).fused2x2 {
			vec++
		}
	}
	if ran < 200 {
		t.Errorf("only %d of 240 cases ran", ran)
	}
	if useAffine8 && vec < 30 {
		t.Errorf("only %d cases took the fused vector loop", vec)
	}
	t.Logf("%d cases, %d through the fused vector loop", ran, vec)
}

// TestMaxPoolMapFits: what the rewrite may fuse.
func TestMaxPoolMapFits(t *testing.T) {
	s := []int{1, 4, 4, 8}
	i8 := qtensor("m", graph.Int8, s, 0.04, 7)
	o8 := qtensor("y", graph.Int8, s, 0.02, -128)
	for _, c := range []struct {
		op       *graph.Op
		mid, out *graph.Tensor
		ok       bool
	}{
		{&graph.Op{Kind: graph.OpRelu}, i8, o8, true},
		{&graph.Op{Kind: graph.OpRelu6}, qtensor("m", graph.UInt8, s, 0.04, 7), qtensor("y", graph.UInt8, s, 0.02, 0), true},
		{&graph.Op{Kind: graph.OpLeakyRelu, Options: &graph.LeakyReluOptions{Alpha: 0.1}}, i8, o8, true},
		{&graph.Op{Kind: graph.OpLogistic}, i8, qtensor("y", graph.Int8, s, 1.0/256, -128), false},
		{&graph.Op{Kind: graph.OpRelu}, qtensor("m", graph.Int16, s, 0.04, 0), qtensor("y", graph.Int16, s, 0.02, 0), false},
		{&graph.Op{Kind: graph.OpRelu}, i8, qtensor("y", graph.UInt8, s, 0.02, 0), false},
		{&graph.Op{Kind: graph.OpRelu}, qtensor("m", graph.Float32, s, 0, 0), qtensor("y", graph.Float32, s, 0, 0), false},
		{&graph.Op{Kind: graph.OpLeakyRelu}, i8, o8, false}, // no options
	} {
		if err := MaxPoolMapFits(c.op, c.mid, c.out); (err == nil) != c.ok {
			t.Errorf("%v %v→%v: MaxPoolMapFits = %v, want ok %v", c.op.Kind, c.mid.DType, c.out.DType, err, c.ok)
		}
	}
}

// BenchmarkMaxPoolMap runs seed-cnn's four 2×2 pools each followed by a
// rescaling int8 RELU (0.0417/7 → 0.0196/−128), as the pair of kernels
// (pool into an intermediate, then the RELU) and fused
// (MaxPoolMapOptions), in the same run so their ratio is meaningful on a
// noisy machine.
func BenchmarkMaxPoolMap(b *testing.B) {
	for _, l := range [][3]int{{80, 80, 16}, {40, 40, 32}, {20, 20, 64}, {10, 10, 128}} {
		h, w, c := l[0], l[1], l[2]
		in := qtensor("in", graph.Int8, []int{1, h, w, c}, 0.0417, 7)
		mid := qtensor("mid", graph.Int8, []int{1, h / 2, w / 2, c}, 0.0417, 7)
		out := qtensor("out", graph.Int8, []int{1, h / 2, w / 2, c}, 0.0196, -128)
		popts := graph.Pool2DOptions{Padding: graph.PaddingValid, StrideH: 2, StrideW: 2, FilterH: 2, FilterW: 2}
		relu := &graph.Op{Kind: graph.OpRelu}
		pk, err := Prepare(&graph.Op{Kind: graph.OpMaxPool2D, Options: &popts}, []*graph.Tensor{in}, []*graph.Tensor{mid})
		if err != nil {
			b.Fatal(err)
		}
		rk, err := Prepare(relu, []*graph.Tensor{mid}, []*graph.Tensor{out})
		if err != nil {
			b.Fatal(err)
		}
		fk, err := Prepare(&graph.Op{Kind: graph.OpMaxPool2D, Options: &MaxPoolMapOptions{Pool: popts, Map: relu, Mid: mid}},
			[]*graph.Tensor{in}, []*graph.Tensor{out})
		if err != nil {
			b.Fatal(err)
		}
		x, m, y := allocBuf(in), allocBuf(mid), allocBuf(out)
		fillInts(rand.New(rand.NewPCG(1, 2)), x)
		name := fmt.Sprintf("%dx%dx%d", h, w, c)
		b.Run(name+"/pair", func(b *testing.B) {
			for b.Loop() {
				_ = pk.Run([]*Buffer{x}, []*Buffer{m})
				_ = rk.Run([]*Buffer{m}, []*Buffer{y})
			}
		})
		b.Run(name+"/fused", func(b *testing.B) {
			for b.Loop() {
				_ = fk.Run([]*Buffer{x}, []*Buffer{y})
			}
		})
	}
}
