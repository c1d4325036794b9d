package kernels

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TestWino2OutQ checks the 2-D plan's one-pass output side
// (winoOutQ.tileRow2D: vector kernel in place, stack-buffered partial
// tiles and tile rows, Go loop past a multiple of 8 channels, as this
// CPU and build select them) and its Go loop wino2OutQGo against the
// split path — wino2OutYGo into T planes, then per output row the
// unfused winoOutRow and requant.rowsInt8, and the fused winoOutQ.row
// where there is one — on random products over all of int32 (the
// arithmetic wraps), random corrections, every rounding and activation,
// extreme zero points and scales (winoOutQRequant), channel counts 1..70
// (multiples of 8 too), widths 1..21 (partial last tiles), 1..4 rows
// (partial tile rows) and plane strides above the tile row's; the bytes
// around the rows must stay untouched.
func TestWino2OutQ(t *testing.T) {
	r := rand.New(rand.NewPCG(303, 304))
	rnds := []fixedpoint.Rounding{fixedpoint.RuntimeRounding, fixedpoint.DoubleRounding, fixedpoint.SingleRounding}
	fused := 0
	for iter := range 600 {
		rnd := rnds[iter%3]
		N := 1 + r.IntN(70)
		if iter%4 == 0 {
			N = 8 * (1 + r.IntN(9))
		}
		outW := 1 + r.IntN(21)
		rows := 4
		if iter%3 == 1 {
			rows = 1 + r.IntN(4)
		}
		tiles := (outW + 3) / 4
		plane := tiles*N + r.IntN(3)*r.IntN(50)
		rowStride := outW*N + r.IntN(2)*r.IntN(30)
		rq := winoOutQRequant(t, r, rnd, N, iter)
		corr := randI32(r, N, 0)
		if iter%5 != 0 {
			corr = randI32(r, N, 1<<20)
		}
		src := randI32(r, 35*plane+tiles*N, 0)
		n := (rows-1)*rowStride + outW*N
		want := make([]int8, n+16)
		for i := range want {
			want[i] = int8(r.Uint32())
		}
		got := append([]int8(nil), want...)
		goRef := append([]int8(nil), want...)

		// The split path: T[r][ξ] = AT24 along y, then each output row.
		tt := make([]int32, 24*plane)
		for xi := range 6 {
			wino2OutYGo(tt[xi*plane:], 6*plane, src[xi*plane:], 6*plane, 0, tiles*N)
		}
		acc := make([]int32, outW*N)
		for rr := range rows {
			winoOutRow(acc, tt[6*rr*plane:], plane, tiles, outW, N, corr, true)
			rq.rowsInt8(want[rr*rowStride:rr*rowStride+outW*N], acc, outW)
		}

		ref := &winoOutQ{rq: rq, corr: corr, by576: true}
		wino2OutQGo(ref, goRef, rowStride, rows, src, plane, 0, tiles, outW, N, 0)
		for i := range want {
			if goRef[i] != want[i] {
				t.Fatalf("iter %d (%v N=%d outW=%d rows=%d): wino2OutQGo byte %d = %d, split path %d", iter, rnd, N, outW, rows, i, goRef[i], want[i])
			}
		}

		q := newWinoOutQ(rq, corr, true)
		if q == nil {
			if winoOutQVecOK() && N >= 8 && rq.fast != nil && rq.fp32 {
				t.Fatalf("iter %d (%v N=%d): no fused epilogue", iter, rnd, N)
			}
			continue
		}
		if rows == 4 {
			// The fused x transform on the same T planes agrees too.
			split := append([]int8(nil), got...)
			for rr := range 4 {
				q.row(split[rr*rowStride:rr*rowStride+outW*N], tt[6*rr*plane:], plane, tiles, outW, N)
			}
			if !slices.Equal(split, want) {
				t.Fatalf("iter %d (%v N=%d outW=%d): winoOutQ.row on T planes differs from the unfused rows", iter, rnd, N, outW)
			}
		}
		fused++
		q.tileRow2D(got, rowStride, rows, src, plane, tiles, outW, N)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("iter %d (%v N=%d outW=%d rows=%d plane=%d rowStride=%d): byte %d (row %d, byte %d of it) = %d, want %d",
					iter, rnd, N, outW, rows, plane, rowStride, i, i/rowStride, i%rowStride, got[i], want[i])
			}
		}
	}
	if winoOutQVecOK() && fused == 0 {
		t.Fatal("no trial ran the one-pass kernel")
	}
	t.Logf("%d of 600 trials on the one-pass kernel", fused)
}

// TestConv2DWinograd2DInt8OnePass runs random 2-D Winograd layers (as
// TestConv2DWinograd2DInt8: partial tiles both ways, odd channel counts,
// batches 1 and 3, every rounding, edge zero points, RELU/RELU6, and
// seed-cnn's layers over several blocks) with the plan's output side in
// one pass and split, whichever this CPU does not pick, and requires the
// same bytes; checkPath has checked the CPU's pick against im2col and
// TFLite's reference loop.
func TestConv2DWinograd2DInt8OnePass(t *testing.T) {
	r := rand.New(rand.NewPCG(187, 188))
	seed := []convCase{
		{inH: 40, inW: 40, inC: 16, outC: 32},
		{inH: 20, inW: 20, inC: 32, outC: 64},
		{inH: 10, inW: 10, inC: 64, outC: 128},
	}
	onePass := 0
	for iter := range 60 {
		c := convCase{batch: []int{1, 3}[iter%2], inH: 1 + r.IntN(13), inW: 1 + r.IntN(13), inC: 1 + r.IntN(40), outC: 8 + r.IntN(40),
			fH: 3, fW: 3, sH: 1, sW: 1, dH: 1, dW: 1, pad: graph.Padding(r.IntN(2))}
		if iter%5 == 0 {
			s := seed[(iter/5)%len(seed)]
			c.inH, c.inW, c.inC, c.outC, c.pad = s.inH, s.inW, s.inC, s.outC, graph.PaddingSame
		}
		if c.pad == graph.PaddingValid {
			c.inH += 2
			c.inW += 2
		}
		q := winoS8Trial(r, c, iter)
		q.ws = randI8(r, len(q.ws), 101)
		k := q.checkPath(t, pathWinograd2D)
		p := k.wino2
		if p == nil {
			t.Fatalf("%+v: 2-D Winograd not used", c)
		}
		if p.q == nil {
			continue // no fused requantization: only the split path
		}
		other := newWinoS8Plan2DWith(p.g, q.ws, q.zpIn, p.rq, c.batch, !p.fused)
		if other.fused == p.fused {
			t.Fatalf("%+v: one-pass form %v both ways", c, p.fused)
		}
		onePass++
		outH, outW := c.outSize()
		a := make([]int8, c.batch*outH*outW*c.outC)
		b := make([]int8, len(a))
		p.run(c.batch, q.xs, a)
		other.run(c.batch, q.xs, b)
		if !slices.Equal(a, b) {
			t.Fatalf("%+v %s act %s zp %d/%d: one-pass and split output sides differ", c, q.rnd, q.act, q.zpIn, q.zpOut)
		}
	}
	if winoOutQVecOK() && onePass == 0 {
		t.Fatal("no trial compared the two forms")
	}
}
