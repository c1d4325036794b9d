package kernels

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// winoOutQRequant is a random conv requantization of n channels in the
// arithmetic rnd (RuntimeRounding gives the FP32 form): scales over
// 2^−17..2^6 with an all-zero channel now and then, biases small or at
// int32's ends, output zero points at int8's ends or anywhere, and any
// fused activation.
func winoOutQRequant(t testing.TB, r *rand.Rand, rnd fixedpoint.Rounding, n, iter int) *requant {
	scales := make([]float32, n)
	for i := range scales {
		scales[i] = float32(math.Exp(r.Float64()*16 - 12))
	}
	if iter%10 == 0 {
		scales[0] = 0
	}
	bias := make([]int64, n)
	for i := range bias {
		bias[i] = int64(r.IntN(1<<20) - 1<<19)
		if r.IntN(20) == 0 {
			bias[i] = []int64{math.MinInt32, math.MaxInt32}[r.IntN(2)]
		}
	}
	zp := []int64{-128, 127, int64(r.IntN(256) - 128)}[iter%3]
	out := qt("out", graph.Int8, []int{1, n}, []float32{float32(0.01 + r.Float64())}, []int64{zp})
	act := []graph.Activation{graph.ActNone, graph.ActRelu, graph.ActRelu6, graph.ActReluN1To1}[r.IntN(4)]
	rq, err := newRequant(rnd, &graph.Op{Kind: graph.OpConv2D}, float32(0.01+r.Float64()), scales, out, act, bias, n)
	if err != nil {
		t.Fatal(err)
	}
	return rq
}

// TestWinoOutQ checks the fused x output transform and requantization
// (winoOutQ.row: vector kernels, stack-buffered last tile and Go loop,
// as this CPU and build select them) against winoOutQGo, and winoOutQGo
// against the unfused path (winoOutRow, then requant.rowsInt8), on random
// products over all of int32 (the arithmetic wraps), random corrections,
// both divisors, every rounding, channel counts 1..70 (not multiples of
// 8 too), row widths 1..21 (partial last tiles) and plane strides above
// the row's; the bytes around the row must stay untouched.
func TestWinoOutQ(t *testing.T) {
	r := rand.New(rand.NewPCG(301, 302))
	rnds := []fixedpoint.Rounding{fixedpoint.RuntimeRounding, fixedpoint.DoubleRounding, fixedpoint.SingleRounding}
	fused := 0
	for iter := range 600 {
		rnd := rnds[iter%3]
		by576 := (iter/3)%2 == 0
		N := 1 + r.IntN(70)
		if iter%4 == 0 {
			N = 8 * (1 + r.IntN(9))
		}
		outW := 1 + r.IntN(21)
		tiles := (outW + 3) / 4
		plane := tiles*N + r.IntN(3)*r.IntN(50)
		rq := winoOutQRequant(t, r, rnd, N, iter)
		corr := randI32(r, N, 0)
		if iter%5 != 0 {
			corr = randI32(r, N, 1<<20)
		}
		src := randI32(r, 5*plane+tiles*N, 0)
		want := make([]int8, outW*N+16)
		for i := range want {
			want[i] = int8(r.Uint32())
		}
		got := append([]int8(nil), want...)
		unfused := append([]int8(nil), want...)

		ref := &winoOutQ{rq: rq, corr: corr, by576: by576}
		full := outW / 4
		winoOutQGo(ref, want, src, plane, 0, full, 4, N, 0)
		if full < tiles {
			winoOutQGo(ref, want, src, plane, full, tiles, outW-4*full, N, 0)
		}
		acc := make([]int32, outW*N)
		winoOutRow(acc, src, plane, tiles, outW, N, corr, by576)
		rq.rowsInt8(unfused[:outW*N], acc, outW)
		for i := range want {
			if unfused[i] != want[i] {
				t.Fatalf("iter %d (%v N=%d outW=%d by576=%v): unfused byte %d = %d, winoOutQGo %d", iter, rnd, N, outW, by576, i, unfused[i], want[i])
			}
		}

		q := newWinoOutQ(rq, corr, by576)
		if q == nil {
			if winoOutQVecOK() && N >= 8 && rq.fast != nil && rq.fp32 {
				t.Fatalf("iter %d (%v N=%d): no fused epilogue", iter, rnd, N)
			}
			continue
		}
		fused++
		q.row(got[:outW*N], src, plane, tiles, outW, N)
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("iter %d (%v N=%d outW=%d plane=%d by576=%v): byte %d (pixel %d channel %d) = %d, want %d",
					iter, rnd, N, outW, plane, by576, i, i/N, i%N, got[i], want[i])
			}
		}
	}
	if winoOutQVecOK() && fused == 0 {
		t.Fatal("no trial ran the fused kernels")
	}
	t.Logf("%d of 600 trials on the fused kernels", fused)
}
