package kernels

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestWino2OutQPool checks the pooled one-pass output side
// (winoOutQ.tileRow2DPool: the vector kernel as this CPU and build
// select it, partial tiles and tile rows by zero offsets, the Go loop
// past a multiple of 8 channels) against its Go loop wino2OutQPoolGo on
// random products over all of int32 (both compute in wrapping int32),
// random corrections, every activation, extreme zero points and scales,
// channel counts 1..70, pooled widths 1..11, 1 or 2 pooled rows and
// plane strides above the tile row's; the bytes around the rows must
// stay untouched.
func TestWino2OutQPool(t *testing.T) {
	r := rand.New(rand.NewPCG(611, 612))
	ran := 0
	for iter := range 400 {
		N := 1 + r.IntN(70)
		if iter%4 == 0 {
			N = 8 * (1 + r.IntN(9))
		}
		poutW := 1 + r.IntN(11)
		prows := 1 + iter%2
		tiles := (poutW + 1) / 2
		plane := tiles*N + r.IntN(3)*r.IntN(50)
		rowStride := poutW*N + r.IntN(2)*r.IntN(30)
		rq := winoOutQRequant(t, r, fixedpoint.RuntimeRounding, N, iter)
		corr := randI32(r, N, 1<<20)
		q := newWinoOutQ(rq, corr, true)
		if q == nil {
			if winoOutQVecOK() && N >= 8 && rq.fast != nil && rq.fp32 {
				t.Fatalf("iter %d (N=%d): no fused epilogue", iter, N)
			}
			continue
		}
		src := randI32(r, 35*plane+tiles*N, 0)
		n := (prows-1)*rowStride + poutW*N
		want := make([]int8, n+16)
		for i := range want {
			want[i] = int8(r.Uint32())
		}
		got := append([]int8(nil), want...)
		wino2OutQPoolGo(q, want, rowStride, prows, src, plane, 0, tiles, poutW, N, 0)
		q.tileRow2DPool(got, rowStride, prows, src, plane, tiles, poutW, N)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("iter %d (N=%d poutW=%d prows=%d plane=%d rowStride=%d): byte %d (row %d, byte %d of it) = %d, want %d",
					iter, N, poutW, prows, plane, rowStride, i, i/rowStride, i%rowStride, got[i], want[i])
			}
		}
		ran++
	}
	if winoOutQVecOK() && ran == 0 {
		t.Fatal("no trial ran the pooled kernel")
	}
}

// maxPool2x2I8 is MAX_POOL_2D 2×2 stride 2 VALID without a clamp: the
// plain pool the pooled plans must reproduce.
func maxPool2x2I8(src []int8, batch, h, w, c int) []int8 {
	ph, pw := h/2, w/2
	dst := make([]int8, batch*ph*pw*c)
	for b := range batch {
		for y := range ph {
			for x := range pw {
				for ch := range c {
					at := func(yy, xx int) int8 { return src[((b*h+yy)*w+xx)*c+ch] }
					dst[((b*ph+y)*pw+x)*c+ch] = max(at(2*y, 2*x), at(2*y, 2*x+1), at(2*y+1, 2*x), at(2*y+1, 2*x+1))
				}
			}
		}
	}
	return dst
}

// TestConv2DWinograd2DInt8Pooled runs random 2-D Winograd layers with
// even output sizes (partial tiles and tile rows, odd channel counts,
// batches 1 and 3, edge zero points, RELU/RELU6, seed-cnn's layers) with
// the pooled output side (enablePoolWith, so on any CPU with the
// kernels) and requires the plain 2×2 max pool of the unpooled plan's
// output, which checkPath has checked against im2col and TFLite's
// reference loop. It also checks that the conv kernel pools exactly
// when the CPU runs the one-pass side (setPool2x2) and that k near the
// int32 limits refuses to pool.
func TestConv2DWinograd2DInt8Pooled(t *testing.T) {
	r := rand.New(rand.NewPCG(613, 614))
	seed := []convCase{
		{inH: 40, inW: 40, inC: 16, outC: 32},
		{inH: 20, inW: 20, inC: 32, outC: 64},
		{inH: 10, inW: 10, inC: 64, outC: 128},
	}
	pooled := 0
	for iter := range 60 {
		c := convCase{batch: []int{1, 3}[iter%2], inH: 2 + 2*r.IntN(7), inW: 2 + 2*r.IntN(7), inC: 1 + r.IntN(40), outC: 8 + r.IntN(40),
			fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		if iter%5 == 0 {
			s := seed[(iter/5)%len(seed)]
			c.inH, c.inW, c.inC, c.outC, c.pad = s.inH, s.inW, s.inC, s.outC, graph.PaddingSame
		}
		if c.pad == graph.PaddingValid {
			c.inH += 2
			c.inW += 2
		}
		q := winoS8Trial(r, c, 3*iter+2) // runtime rounding: the FP32 requantization
		q.ws = randI8(r, len(q.ws), 101)
		k := q.checkPath(t, pathWinograd2D)
		p := k.wino2
		if p == nil {
			t.Fatalf("%+v: 2-D Winograd not used", c)
		}
		outH, outW := c.outSize()
		want := make([]int8, c.batch*outH*outW*c.outC)
		p.run(c.batch, q.xs, want)
		want = maxPool2x2I8(want, c.batch, outH, outW, c.outC)

		other := newWinoS8Plan2DWith(p.g, q.ws, q.zpIn, p.rq, c.batch, false)
		if !other.enablePoolWith(true) {
			if p.q != nil && wino2PoolKOK(p.corr, p.rq.biasOr0) {
				t.Fatalf("%+v: the pooled form refused", c)
			}
			continue
		}
		pooled++
		got := make([]int8, len(want))
		other.run(c.batch, q.xs, got)
		if !slices.Equal(got, want) {
			t.Fatalf("%+v act %s zp %d/%d: pooled plan differs from the pool of the plan's output", c, q.act, q.zpIn, q.zpOut)
		}
		if on := k.setPool2x2(); on != wino2OutQFused() {
			t.Fatalf("%+v: setPool2x2 %v on a CPU whose one-pass side is %v", c, on, wino2OutQFused())
		} else if on {
			out := &Buffer{DType: graph.Int8, I8: make([]int8, len(want))}
			if err := k.Run([]*Buffer{{DType: graph.Int8, I8: q.xs}}, []*Buffer{out}); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out.I8, want) {
				t.Fatalf("%+v: the pooled conv kernel differs from the pool of its output", c)
			}
			bad := &Buffer{DType: graph.Int8, I8: make([]int8, len(want)+1)}
			if err := k.Run([]*Buffer{{DType: graph.Int8, I8: q.xs}}, []*Buffer{bad}); err == nil {
				t.Fatalf("%+v: a pooled output buffer of the wrong size ran", c)
			}
		}
	}
	if winoOutQVecOK() && pooled == 0 {
		t.Fatal("no trial ran the pooled plan")
	}
	t.Logf("%d of 60 trials pooled", pooled)
}

// TestWino2PoolKOK checks the int32 headroom rule for k = corr + bias.
func TestWino2PoolKOK(t *testing.T) {
	lim := int32(math.MaxInt32 - (math.MaxInt32/576 + 1))
	for _, tc := range []struct {
		corr, bias int32
		ok         bool
	}{
		{0, 0, true}, {-3 << 20, 1 << 30, true}, {0, lim, true}, {0, -lim, true}, {1, lim, false},
		{0, math.MaxInt32, false}, {0, math.MinInt32, false}, {-1, -lim, false},
	} {
		if got := wino2PoolKOK([]int32{tc.corr}, []int32{tc.bias}); got != tc.ok {
			t.Errorf("corr %d bias %d: %v, want %v", tc.corr, tc.bias, got, tc.ok)
		}
	}
}

// TestConvInt8SetPool2x2 prepares random pooling candidates (3×3 stride
// 1, 16..40 channels, even outputs, seed-cnn's conv1) on pathAuto, which
// may run them directly, and requires setPool2x2 to switch exactly the
// layers wino2PoolCandidate names to the pooled plan, with the plain
// pool of the unpooled conv's output bit for bit.
func TestConvInt8SetPool2x2(t *testing.T) {
	r := rand.New(rand.NewPCG(615, 616))
	on := 0
	for iter := range 24 {
		c := convCase{batch: 1 + iter%2*2, inH: 2 + 2*r.IntN(8), inW: 2 + 2*r.IntN(8), inC: 16 + r.IntN(25), outC: 16 + r.IntN(30),
			fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.PaddingSame}
		if iter%4 == 0 {
			c.inH, c.inW, c.inC, c.outC = 40, 40, 16, 32
		}
		q := winoS8Trial(r, c, 3*iter+2)
		q.ws = randI8(r, len(q.ws), 101)
		plain := q.checkPath(t, pathAuto)
		outH, outW := c.outSize()
		want := make([]int8, c.batch*outH*outW*c.outC)
		x := []*Buffer{{DType: graph.Int8, I8: q.xs}}
		if err := plain.Run(x, []*Buffer{{DType: graph.Int8, I8: want}}); err != nil {
			t.Fatal(err)
		}
		want = maxPool2x2I8(want, c.batch, outH, outW, c.outC)
		k := q.checkPath(t, pathAuto)
		cand := wino2PoolCandidate(k.g, k.rq)
		if got := k.setPool2x2(); got != cand {
			t.Fatalf("%+v: setPool2x2 %v, candidate %v", c, got, cand)
		} else if !got {
			continue
		}
		on++
		out := &Buffer{DType: graph.Int8, I8: make([]int8, len(want))}
		if err := k.Run(x, []*Buffer{out}); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(out.I8, want) {
			t.Fatalf("%+v act %s: the pooled conv differs from the pool of the plain conv", c, q.act)
		}
	}
	t.Logf("%d of 24 layers pooled", on)
}

// TestConvPoolNative requires ConvPoolNative, interp's fusion test, to
// name exactly the convs whose prepared kernel then accepts setPool2x2:
// random int8 layers (3×3 and 1×1, SAME and VALID, even and odd outputs,
// 3..40 channels, every rounding, extreme biases).
func TestConvPoolNative(t *testing.T) {
	r := rand.New(rand.NewPCG(617, 618))
	yes := 0
	for iter := range 80 {
		f := []int{3, 3, 1}[iter%3]
		c := convCase{batch: 1 + iter%2, inH: 4 + r.IntN(17), inW: 4 + r.IntN(17), inC: []int{3, 16, 24, 40}[r.IntN(4)], outC: 8 + r.IntN(40),
			fH: f, fW: f, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		if c.pad == graph.PaddingValid {
			c.inH += f - 1
			c.inW += f - 1
		}
		q := winoS8Trial(r, c, iter)
		if iter%4 != 0 {
			q.rnd = fixedpoint.RuntimeRounding
		}
		q.ws = randI8(r, len(q.ws), 101)
		if iter%7 == 3 {
			q.bias[0] = math.MaxInt32
		}
		outH, outW := c.outSize()
		in := qt("in", graph.Int8, []int{c.batch, c.inH, c.inW, c.inC}, []float32{q.sIn}, []int64{int64(q.zpIn)})
		w := constI8("w", graph.Int8, []int{c.outC, c.fH, c.fW, c.inC}, q.ws, q.wScales)
		mid := qt("mid", graph.Int8, []int{c.batch, outH, outW, c.outC}, []float32{q.sOut}, []int64{int64(q.zpOut)})
		op := &graph.Op{Kind: graph.OpConv2D, Options: &graph.Conv2DOptions{Padding: c.pad, StrideH: 1, StrideW: 1, DilationH: 1, DilationW: 1, Activation: q.act}}
		ins := []*graph.Tensor{in, w, constI32("b", q.bias, nil)}
		k, err := prepareConv2DWith(op, ins, []*graph.Tensor{mid}, q.rnd, pathAuto)
		if err != nil {
			t.Fatal(err)
		}
		ci, ok := k.(*convInt8)
		native := ok && ci.setPool2x2()
		if got := ConvPoolNative(op, ins, mid, q.rnd); got != native {
			t.Fatalf("%+v %s bias0 %d: ConvPoolNative %v, setPool2x2 %v", c, q.rnd, q.bias[0], got, native)
		}
		if native {
			yes++
		}
	}
	if wino2OutQFused() && yes == 0 {
		t.Fatal("no layer pooled natively")
	}
	t.Logf("%d of 80 layers native", yes)
}
