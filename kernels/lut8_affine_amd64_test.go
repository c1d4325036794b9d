//go:build amd64 && !noasm

package kernels

import (
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/graph"
)

// TestAffine8AVX2MatchesTable runs the affine form's AVX2 loops (whatever
// useAffine8 says on this CPU) against the table they replace: RELU, RELU6
// and QUANTIZE tables of random quantizations between every pair of 8-bit
// dtypes, every input byte and random ones, odd lengths, in place too,
// and nothing written past the multiple of 32 the loop reports.
func TestAffine8AVX2MatchesTable(t *testing.T) {
	if !hasAVX2 {
		t.Skip("needs AVX2")
	}
	rng := rand.New(rand.NewPCG(43, 44))
	kinds := []graph.OpKind{graph.OpRelu, graph.OpRelu6, graph.OpQuantize}
	ran := 0
	for trial := range 600 {
		kind := kinds[trial%len(kinds)]
		rnd := roundings[trial/len(kinds)%len(roundings)]
		din, dout := graph.Int8, graph.Int8
		if rng.IntN(2) == 1 {
			din = graph.UInt8
		}
		dout = din
		if kind == graph.OpQuantize && rng.IntN(2) == 1 {
			dout = graph.Int8 + graph.UInt8 - din
		}
		si, so := randScale(rng), randScale(rng)
		s := []int{1, 4}
		tab := lut8Of(t, &graph.Op{Kind: kind}, qtensor("x", din, s, si, randZP(rng, din)), qtensor("y", dout, s, so, randZP(rng, dout)), rnd)
		if tab == nil {
			continue
		}
		a := fitAffine8(tab, din, dout)
		if !a.ok {
			continue
		}
		ran++
		n := 1 + rng.IntN(700)
		xs := make([]uint8, n)
		for i := range xs {
			xs[i] = uint8(i)
			if i >= 256 {
				xs[i] = uint8(rng.IntN(256))
			}
		}
		ys := make([]uint8, n+32)
		for i := range ys {
			ys[i] = 0x5a
		}
		done := affine8AVX2Vec(&a, xs, ys[:n])
		if done != n&^31 {
			t.Fatalf("n %d: the loop did %d values, want %d", n, done, n&^31)
		}
		for i := range done {
			if ys[i] != tab[xs[i]] {
				t.Fatalf("%v %v→%v (%v) %+v: element %d: table[%d] = %d, loop %d", kind, din, dout, rnd, a, i, xs[i], tab[xs[i]], ys[i])
			}
		}
		for i := done; i < len(ys); i++ {
			if ys[i] != 0x5a {
				t.Fatalf("n %d: element %d written past the %d the loop reported", n, i, done)
			}
		}
		// In place, through mapLUT8 (the loop or lookup8, then the tail).
		l := &lut8{t: *tab, aff: a}
		in := append([]uint8(nil), xs...)
		mapLUT8(l, in, in)
		for i, x := range xs {
			if in[i] != tab[x] {
				t.Fatalf("in place, n %d: element %d: table[%d] = %d, got %d", n, i, x, tab[x], in[i])
			}
		}
	}
	if ran < 300 {
		t.Errorf("only %d of 600 tables had an affine form", ran)
	}
}
