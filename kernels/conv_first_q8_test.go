package kernels

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// firstQ8Trial is firstS8Trial reshaped around the AVX-VNNI kernels'
// range: whole 8-channel groups (so half groups too), strides 1 and 2,
// windows up to 5 wide, rows of 6 pixels or a few more or less.
func firstQ8Trial(r *rand.Rand, iter int) int8ConvTrial {
	q := firstS8Trial(r, iter)
	c := &q.c
	if iter%5 != 0 {
		c.outC = 8 * (1 + r.IntN(4))
		c.sH, c.sW = 1+r.IntN(2), 1+r.IntN(2)
		c.inW = 3 + r.IntN(40)
		c.inH = 1 + r.IntN(9)
		if c.pad == graph.PaddingValid {
			c.inH += c.fH - 1
			c.inW += c.fW - 1
		}
	}
	q.xs = randI8(r, c.batch*c.inH*c.inW*c.inC, 256)
	q.ws = randI8(r, c.outC*c.fH*c.fW*c.inC, 255)
	for len(q.bias) < c.outC {
		q.bias = append(q.bias, int32(r.IntN(40000)-20000))
	}
	q.bias = q.bias[:c.outC]
	if len(q.wScales) > 1 {
		for len(q.wScales) < c.outC {
			q.wScales = append(q.wScales, float32(0.0005+r.Float64()*0.01))
		}
		q.wScales = q.wScales[:c.outC]
	}
	return q
}

// q8Conv is q's prepared conv and its kernels' tables in both forms
// (quads, wide), or nil tables when the kernels do not take it.
func q8Conv(t *testing.T, q *int8ConvTrial) (*convInt8, [2]*firstQ8) {
	t.Helper()
	k := q.checkPath(t, pathIm2col)
	if !firstQ8Applies(k.g) || !firstQ8RQ(k.rq) {
		return k, [2]*firstQ8{}
	}
	return k, [2]*firstQ8{buildFirstQ8(k.g, q.ws, q.zpIn, k.rq, false), buildFirstQ8(k.g, q.ws, q.zpIn, k.rq, true)}
}

// TestConv2DFirstQ8MatchesReference drives the AVX-VNNI first-layer
// kernels through prepare (pathFirstQ8, where the CPU has AVX-VNNI)
// over random first layers, bit for bit against the im2col path and
// TFLite's reference loop (checkPath), and their Go form
// (convFirstQ8RowRef) on the same tables against the conv on any
// machine, so the tables are checked where the kernels cannot run.
func TestConv2DFirstQ8MatchesReference(t *testing.T) {
	r := rand.New(rand.NewPCG(81, 82))
	const iters = 300
	took, goRow, half := 0, 0, 0
	for iter := range iters {
		q := firstQ8Trial(r, iter)
		k := q.checkPath(t, pathFirstQ8)
		if k.q8 != nil {
			took++
			if k.g.outC%16 != 0 {
				half++
			}
		}
		_, fs := q8Conv(t, &q)
		if fs[0] == nil {
			if k.q8 != nil {
				t.Fatalf("%+v %s: kernels taken outside their range", q.c, q.rnd)
			}
			continue
		}
		want := make([]int8, k.g.outH*k.g.outW*k.g.outC*q.c.batch)
		if err := k.Run([]*Buffer{{DType: graph.Int8, I8: q.xs}}, []*Buffer{{DType: graph.Int8, I8: want}}); err != nil {
			t.Fatal(err)
		}
		for _, f := range fs {
			got := make([]int8, len(want))
			f.run(k.g, q.c.batch, q.xs, got, convFirstQ8RowRef)
			if i := firstDiff(got, want); i >= 0 {
				t.Fatalf("%+v zp %d/%d act %s wide %v: the Go row differs from the conv at %d: %d, want %d", q.c, q.zpIn, q.zpOut, q.act, f.wide, i, got[i], want[i])
			}
		}
		goRow++
	}
	if goRow < iters/4 {
		t.Errorf("only %d of %d cases checked the Go row", goRow, iters)
	}
	if firstQ8Tiles(false) == nil {
		t.Skip("no AVX-VNNI first-layer kernels on this CPU/build (the Go row and the fallback were checked)")
	}
	if took < iters/4 || half < 10 {
		t.Errorf("only %d of %d cases took the kernels (%d with a half group)", took, iters, half)
	}
}

// TestFirstQ8PooledMatchesPool checks the pooled form, Go and kernel,
// against the 2×2 stride-2 max pool of the unpooled output, on random
// first layers: odd conv sizes (the last row or column dropped) and
// pooled rows not a multiple of 3.
func TestFirstQ8PooledMatchesPool(t *testing.T) {
	r := rand.New(rand.NewPCG(83, 84))
	var tiles [2]map[string]q8RowFn // by form: quads, wide
	for i := range tiles {
		tiles[i] = map[string]q8RowFn{"go": convFirstQ8PoolRef}
		for name, fn := range firstQ8Tiles(i == 1) {
			tiles[i][name] = fn
		}
	}
	runs := map[string]int{}
	sats := map[bool]int{} // cases by f.sat: both epilogues must run
	for iter := range 300 {
		q := firstQ8Trial(r, iter)
		q.rnd = fixedpoint.RuntimeRounding
		k, fs := q8Conv(t, &q)
		if fs[0] == nil || !firstQ8PoolOK(k.g) {
			continue
		}
		g := k.g
		conv := make([]int8, g.outH*g.outW*g.outC*q.c.batch)
		if err := k.Run([]*Buffer{{DType: graph.Int8, I8: q.xs}}, []*Buffer{{DType: graph.Int8, I8: conv}}); err != nil {
			t.Fatal(err)
		}
		ph, pw := g.outH/2, g.outW/2
		want := make([]int8, q.c.batch*ph*pw*g.outC)
		for b := range q.c.batch {
			for y := range ph {
				for x := range pw {
					for c := range g.outC {
						m := int8(-128)
						for _, d := range [4][2]int{{0, 0}, {0, 1}, {1, 0}, {1, 1}} {
							m = max(m, conv[((b*g.outH+2*y+d[0])*g.outW+2*x+d[1])*g.outC+c])
						}
						want[((b*ph+y)*pw+x)*g.outC+c] = m
					}
				}
			}
		}
		for form, f := range fs {
			f.pooled = true
			sats[f.sat]++
			for name, fn := range tiles[form] {
				got := make([]int8, len(want))
				f.run(g, q.c.batch, q.xs, got, fn)
				if i := firstDiff(got, want); i >= 0 {
					t.Fatalf("%s wide %v: %+v zp %d/%d act %s: pooled output %d is %d, want %d", name, f.wide, q.c, q.zpIn, q.zpOut, q.act, i, got[i], want[i])
				}
				runs[fmt.Sprint(name, f.wide)]++
			}
		}
	}
	for form := range tiles {
		for name := range tiles[form] {
			if n := runs[fmt.Sprint(name, form == 1)]; n < 50 {
				t.Errorf("%s wide %v: only %d pooled cases", name, form == 1, n)
			}
		}
	}
	if sats[true] < 10 || sats[false] < 10 {
		t.Errorf("only %d cases without clamps (Sat kernels), %d with", sats[true], sats[false])
	}
}

// TestFirstQ8KernelsMatchGoRow runs the kernels of both forms (quads,
// the pooled int16-pair ones) on random tables and inputs (not only the
// conv's), against the Go form: both store widths, with and without
// clamps, every row length from one block to several with every
// remainder, and the bytes around each output row left untouched.
func TestFirstQ8KernelsMatchGoRow(t *testing.T) {
	if firstQ8Tiles(false) == nil && firstQ8Tiles(true) == nil {
		t.Skip("no first-layer row kernels on this CPU/build")
	}
	r := rand.New(rand.NewPCG(85, 86))
	for iter := range 400 {
		wide := iter%4 >= 2
		tiles := firstQ8Tiles(wide)
		inC, fW, fH := 1+r.IntN(4), 1+r.IntN(4), 1+r.IntN(5)
		if fW*inC > firstQ8MaxRun {
			fW = firstQ8MaxRun / inC
		}
		outW := 6 + r.IntN(30)
		sW, sH := 1+r.IntN(3), 1+r.IntN(3)
		g := &convGeom{inH: 2*sH + fH, inW: (outW-1)*sW + fW, inC: inC, fH: fH, fW: fW, strideH: sH, strideW: sW,
			dilH: 1, dilW: 1, outH: 3, outW: outW, outC: 8 * (1 + r.IntN(4))}
		rq := &requant{fp32: true, outZP: int32(r.IntN(256) - 128), scale: make([]float32, g.outC), bias32: make([]int32, g.outC)}
		rq.lo, rq.hi = int32(-128+r.IntN(20)), int32(127-r.IntN(20))
		sat := iter%2 == 0 // the Sat kernels' range: full clamps, small sums
		if sat {
			rq.lo, rq.hi = -128, 127
		} else if rq.lo == -128 && rq.hi == 127 {
			rq.hi = 126
		}
		for c := range g.outC {
			rq.scale[c] = float32(r.ExpFloat64() * 0.01)
			rq.bias32[c] = int32(r.Uint32())
			if sat {
				rq.bias32[c] = int32(r.IntN(20000) - 10000)
			}
		}
		f := buildFirstQ8(g, randI8(r, g.outC*g.k(), 256), int32(r.IntN(256)-128), rq, wide)
		if f.sat != sat {
			t.Fatalf("%d: sat %v, want %v", iter, f.sat, sat)
		}
		a := randI8(r, f.plan.hp*f.pitchB+16, 256)
		for _, pooled := range []bool{false, true} {
			if wide && !pooled {
				continue // no unpooled int16-pair kernels
			}
			f.pooled = pooled
			n := g.outW
			if pooled {
				n = g.outW / 2
			}
			for gr := range (g.outC + 15) / 16 {
				half := g.outC-16*gr < 16
				want := randI8(r, n*g.outC+32, 256)
				got := slices.Clone(want)
				ref := convFirstQ8RowRef
				if pooled {
					ref = convFirstQ8PoolRef
				}
				ref(f, a, gr, want[16*gr:], n, g.outC, half)
				for name, fn := range tiles {
					fn(f, a, gr, got[16*gr:], n, g.outC, half)
					if i := firstDiff(got, want); i >= 0 {
						t.Fatalf("%s %d: %+v pooled %v wide %v group %d: byte %d is %d, want %d", name, iter, *g, pooled, wide, gr, i, got[i], want[i])
					}
				}
			}
		}
	}
}

// TestConv2DFirstQ8Chosen checks that seed-cnn's first layer, prepared
// on pathAuto, takes the pooled kernels when asked to pool where they are
// available (unpooled, it keeps the segmented path).
func TestConv2DFirstQ8Chosen(t *testing.T) {
	ok, wide := firstQ8Pooled()
	if !ok {
		t.Skip("the pooled first-layer kernels are not taken on this CPU/build (AVX-512, or no AVX2)")
	}
	r := rand.New(rand.NewPCG(3, 4))
	q := firstQ8Trial(r, 0)
	q.c = convCase{batch: 1, inH: 80, inW: 80, inC: 3, outC: 16, fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}
	q.xs = randI8(r, 80*80*3, 256)
	q.ws = randI8(r, 16*27, 255)
	q.wScales = q.wScales[:1]
	q.bias = q.bias[:16]
	q.rnd = fixedpoint.RuntimeRounding
	k := q.checkPath(t, pathAuto)
	if k.q8 != nil {
		t.Fatal("pathAuto took the AVX-VNNI first-layer kernels unpooled")
	}
	if !k.setPool2x2() || k.q8 == nil || !k.q8.pooled || k.q8.wide != wide {
		t.Fatalf("setPool2x2 did not take the pooled first-layer kernels (wide %v)", wide)
	}
}

// BenchmarkConvFirstQ8 compares, on seed-cnn's first layer in thread CPU
// time per image, pathAuto's conv (auto), the kernels' row form forced
// (q8) and pathAuto pooled (autopool: the pooled kernels where
// firstQ8PoolCandidate holds; skipped where the conv cannot pool).
func BenchmarkConvFirstQ8(b *testing.B) {
	r := rand.New(rand.NewPCG(7, 8))
	ws := randI8(r, 16*27, 255)
	sc := make([]float32, 16)
	bias := make([]int32, 16)
	for i := range sc {
		sc[i] = 0.002 + 0.004*r.Float32()
		bias[i] = int32(r.IntN(2000) - 1000)
	}
	const batch = 8
	for _, v := range []struct {
		name   string
		p      convPath
		pooled bool
	}{{"auto", pathAuto, false}, {"q8", pathFirstQ8, false}, {"autopool", pathAuto, true}} {
		b.Run(fmt.Sprintf("%s/b%d", v.name, batch), func(b *testing.B) {
			if v.p == pathFirstQ8 && firstQ8Tiles(false) == nil {
				b.Skip("no AVX-VNNI row kernels on this CPU/build")
			}
			in := qt("in", graph.Int8, []int{batch, 80, 80, 3}, []float32{0.02}, []int64{-1})
			w := constI8("w", graph.Int8, []int{16, 3, 3, 3}, ws, sc)
			out := qt("out", graph.Int8, []int{batch, 80, 80, 16}, []float32{0.05}, []int64{-128})
			op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: graph.PaddingSame, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: graph.ActRelu}}
			k, err := prepareConv2DWith(op, []*graph.Tensor{in, w, constI32("b", bias, nil)}, []*graph.Tensor{out}, fixedpoint.RuntimeRounding, v.p)
			if err != nil {
				b.Fatal(err)
			}
			n := batch * 80 * 80 * 16
			if v.pooled {
				if !k.(*convInt8).setPool2x2() {
					b.Skip("no native pooled conv for this layer on this CPU")
				}
				n /= 4
			}
			x := []*Buffer{{DType: graph.Int8, I8: randI8(r, batch*80*80*3, 256)}}
			y := []*Buffer{{DType: graph.Int8, I8: make([]int8, n)}}
			runKernelCPU(b, k, x, y, batch)
		})
	}
}
