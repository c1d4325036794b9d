package kernels

import (
	"maps"
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
		f := buildFirstS8(k.g, q.ws, q.zpIn, k.rq, true)
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

// TestFirstS8KernelsMatchGoTile runs every direct kernel this CPU has
// (the VNNI forms and the int16-pair BW16 form, whichever the dispatch
// would pick) over random first layers, bit for bit against
// convFirstS8Ref on the same tables: with or without the float clamp,
// partial 16-channel groups, rows of under 16 pixels and not multiples
// of 16. The GODEBUG CPU variants drop kernels.
func TestFirstS8KernelsMatchGoTile(t *testing.T) {
	tiles := firstS8Tiles()
	if len(tiles) == 0 {
		t.Skip("no direct first-layer kernel on this CPU/build")
	}
	r := rand.New(rand.NewPCG(63, 64))
	runs := map[string]map[bool]int{}
	for iter := range 400 {
		q := firstS8Trial(r, iter)
		q.rnd = fixedpoint.RuntimeRounding
		k := q.checkPath(t, pathIm2col)
		if !k.rq.fp32 || !firstS8Applies(k.g) {
			continue
		}
		f := buildFirstS8(k.g, q.ws, q.zpIn, k.rq, true)
		want := make([]int8, k.g.outH*k.g.outW*k.g.outC*q.c.batch)
		f.run(k.g, q.c.batch, q.xs, want, convFirstS8Ref)
		for name, tile := range tiles {
			got := make([]int8, len(want))
			f.run(k.g, q.c.batch, q.xs, got, tile)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%s: %+v zp %d/%d noMin %v: output %d is %d, want %d", name, q.c, q.zpIn, q.zpOut, f.noMin, i, got[i], want[i])
			}
			if runs[name] == nil {
				runs[name] = map[bool]int{}
			}
			runs[name][f.noMin]++
		}
	}
	for name := range tiles {
		if runs[name][true] < 10 || runs[name][false] < 10 {
			t.Errorf("%s: only %d cases without the float clamp, %d with", name, runs[name][true], runs[name][false])
		}
	}
}

// firstDiff is the first index where a and b differ, or −1.
func firstDiff(a, b []int8) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
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
	// Each direct kernel the CPU has, whatever the dispatch picks.
	k, err := prepareConv2DWith(&graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}},
		[]*graph.Tensor{qt("in", graph.Int8, []int{8, 80, 80, 3}, []float32{0.02}, []int64{-3}), constI8("w", graph.Int8, []int{16, 3, 3, 3}, ws, []float32{0.003}), constI32("b", bias, nil)},
		[]*graph.Tensor{qt("out", graph.Int8, []int{8, 80, 80, 16}, []float32{0.05}, []int64{-128})}, fixedpoint.RuntimeRounding, pathIm2col)
	if err != nil {
		b.Fatal(err)
	}
	ci := k.(*convInt8)
	f := buildFirstS8(ci.g, ws, -3, ci.rq, true)
	x, y := randI8(r, 8*80*80*3, 256), make([]int8, 8*80*80*16)
	for _, name := range slices.Sorted(maps.Keys(firstS8Tiles())) {
		tile := firstS8Tiles()[name]
		b.Run("tile-"+name, func(b *testing.B) {
			b.SetBytes(8 * 80 * 80 * 16 * 27)
			runCPU(b, func() { f.run(ci.g, 8, x, y, tile) })
		})
	}
}

// TestFirstS8GatherTablesAgree checks, on any machine, that the gather
// without VBMI (convFirstS8BW's offsW, shufW and VPERMD indices) reads
// for every quad, pixel and byte the image byte the VPERMI2B tables
// (offs, idx — convFirstS8Ref's) read, and zero past K.
func TestFirstS8GatherTablesAgree(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	checked := 0
	for range 400 {
		inC, fW, fH := 1+r.IntN(4), 1+r.IntN(7), 1+r.IntN(7)
		g := &convGeom{inH: 1 + r.IntN(20), inW: 1 + r.IntN(40), inC: inC, outC: 1 + r.IntN(40), fH: fH, fW: fW,
			strideH: 1, strideW: 1, dilH: 1, dilW: 1, padT: r.IntN(fH), padL: r.IntN(fW)}
		g.outH, g.outW = g.inH+2*g.padT-fH+1, g.inW+2*g.padL-fW+1
		if g.outH <= 0 || g.outW <= 0 || !firstS8Applies(g) {
			continue
		}
		wv := randI8(r, g.outC*g.k(), 255)
		rq := &requant{scale: make([]float32, g.outC), lo: -128, hi: 127, fp32: true}
		f := buildFirstS8(g, wv, 0, rq, true)
		for q := 0; q < f.nq; q++ {
			for i := 0; i < 16; i++ {
				l, m := i/4, i%4
				for b := 0; b < 4; b++ {
					parts, addr := 0, int64(0)
					for p := range 2 {
						s := f.shufW[128*q+64*p+16*l+4*m+b]
						if s&0x80 != 0 {
							continue
						}
						if s > 15 || f.offsW[2*q+p] < 0 {
							t.Fatalf("%+v quad %d part %d: pattern byte %d, offset %d", g, q, p, s, f.offsW[2*q+p])
						}
						d := int64(f.k[32+4*l+int(s)/4]) // the VPERMD dword lane l holds at s
						parts, addr = parts+1, f.offsW[2*q+p]+4*d+int64(s%4)
					}
					if 4*q+b >= g.k() {
						if parts != 0 {
							t.Fatalf("%+v quad %d byte %d past K is read", g, q, b)
						}
						continue
					}
					ix := f.idx[64*q+4*i+b]
					want := f.offs[2*q+int(ix>>6)] + int64(ix&63)
					if parts != 1 || addr != want {
						t.Fatalf("%+v quad %d pixel %d byte %d: %d parts, address %d, want %d", g, q, i, b, parts, addr, want)
					}
				}
			}
		}
		checked++
	}
	if checked < 100 {
		t.Errorf("only %d geometries checked", checked)
	}
}
