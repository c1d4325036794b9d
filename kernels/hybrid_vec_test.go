package kernels

import (
	"math"
	"math/rand"
	"testing"
)

// hybridVecInput draws n floats of one of several kinds: normal values of
// a random magnitude, exact halves (ties of the rounding), post-ReLU
// values, tiny and subnormal ranges, and a NaN or an infinity somewhere.
func hybridVecInput(r *rand.Rand, n, kind int) []float32 {
	x := make([]float32, n)
	scale := float32(math.Ldexp(1, r.Intn(40)-20))
	for i := range x {
		x[i] = float32(r.NormFloat64()) * scale
	}
	switch kind {
	case 1: // ties: max|x| = 127, so x·(127/max) = x, halves included
		for i := range x {
			x[i] = float32(r.Intn(255)-127) + 0.5*float32(r.Intn(2))
		}
		if n > 0 {
			x[r.Intn(n)] = 127
		}
	case 2: // post-ReLU
		for i := range x {
			x[i] = max(x[i], 0)
		}
	case 3: // subnormal range (the reciprocal scale overflows)
		for i := range x {
			x[i] = float32(r.NormFloat64()) * 1e-40
		}
	case 4: // tiny but normal range
		for i := range x {
			x[i] = float32(r.NormFloat64()) * 1e-36
		}
	case 5: // a NaN or an infinity
		if n > 0 {
			x[r.Intn(n)] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1))}[r.Intn(3)]
		}
	case 6: // all zeros, some negative
		for i := range x {
			x[i] = float32(math.Copysign(0, float64(r.Intn(2)*2-1)))
		}
	case 7: // huge values
		for i := range x {
			x[i] = float32(r.NormFloat64()) * 1e37
		}
	}
	return x
}

// TestHybridQuantizeVecMatchesRef checks hybridSymmetric and
// hybridAsymmetric (vector loops where they apply) against their Go
// references on random lengths, odd ones included, and awkward inputs.
func TestHybridQuantizeVecMatchesRef(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := 0; i < 2000; i++ {
		n := r.Intn(300)
		if i%5 == 0 {
			n = 16 * r.Intn(20)
		}
		kind := i % 8
		x := hybridVecInput(r, n, kind)
		got, want := make([]int8, n), make([]int8, n)
		for j := range got {
			got[j], want[j] = 99, 99
		}
		sg, sw := hybridSymmetric(got, x), hybridSymmetricRef(want, x)
		if math.Float32bits(sg) != math.Float32bits(sw) {
			t.Fatalf("case %d (n %d kind %d): symmetric scale %g, reference %g", i, n, kind, sg, sw)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("case %d (n %d kind %d): symmetric value %d (x %g) = %d, reference %d", i, n, kind, j, x[j], got[j], want[j])
			}
		}
		ag, zg := hybridAsymmetric(got, x)
		aw, zw := hybridAsymmetricRef(want, x)
		if math.Float32bits(ag) != math.Float32bits(aw) || zg != zw {
			t.Fatalf("case %d (n %d kind %d): asymmetric scale %g zp %d, reference %g zp %d", i, n, kind, ag, zg, aw, zw)
		}
		for j := range got {
			if got[j] != want[j] {
				t.Fatalf("case %d (n %d kind %d): asymmetric value %d (x %g) = %d, reference %d", i, n, kind, j, x[j], got[j], want[j])
			}
		}
	}
}

// TestHybridEpilogueVecMatchesRef checks hybridEpilogue's vector loop
// against hybridEpilogueRef on random row counts and widths (odd ones and
// tails shorter than a vector included), extreme accumulators and zero
// point shares (the int32 difference wraps), and every clamp.
func TestHybridEpilogueVecMatchesRef(t *testing.T) {
	r := rand.New(rand.NewSource(6))
	acts := [][2]float32{{float32(math.Inf(-1)), float32(math.Inf(1))}, {0, float32(math.Inf(1))}, {0, 6}, {-1, 1}}
	for i := 0; i < 500; i++ {
		rows, n := 1+r.Intn(9), 1+r.Intn(80)
		acc := make([]int32, rows*n)
		for j := range acc {
			acc[j] = int32(r.Intn(1<<20) - 1<<19)
			if r.Intn(50) == 0 {
				acc[j] = []int32{math.MinInt32, math.MaxInt32, 0}[r.Intn(3)]
			}
		}
		off, sc, bias := make([]int32, n), make([]float32, n), make([]float32, n)
		for j := range sc {
			if i%2 == 1 {
				off[j] = int32(r.Uint32())
			}
			sc[j] = float32(math.Ldexp(r.Float64()+0.5, r.Intn(30)-30))
			bias[j] = float32(r.NormFloat64())
			if r.Intn(20) == 0 {
				bias[j] = 0
			}
		}
		a := acts[r.Intn(len(acts))]
		got, want := make([]float32, rows*n), make([]float32, rows*n)
		hybridEpilogue(got, acc, rows, off, sc, bias, a[0], a[1], epilogueVecSafe(bias, a[0], a[1]))
		hybridEpilogueRef(want, acc, rows, off, sc, bias, a[0], a[1])
		for j := range got {
			if math.Float32bits(got[j]) != math.Float32bits(want[j]) {
				t.Fatalf("case %d (rows %d n %d): output %d = %g, reference %g", i, rows, n, j, got[j], want[j])
			}
		}
	}
	if epilogueVecSafe([]float32{1, float32(math.Copysign(0, -1))}, 0, 6) {
		t.Fatal("a −0 bias must keep the epilogue on the Go loop")
	}
}
