package kernels

import (
	"math"
	"math/rand/v2"
	"testing"
)

// sumRowsScalar is the definition sumRowsF32 is held to: each column's
// rows added one at a time, in order, from dst's value.
func sumRowsScalar(dst, src []float32, idx []int32, stride int) {
	for c := range dst {
		a := dst[c]
		for _, i := range idx {
			a += src[int(i)*stride+c]
		}
		dst[c] = a
	}
}

func sameF32(a, b float32) bool {
	return math.Float32bits(a) == math.Float32bits(b) || (a != a && b != b)
}

// randRows fills a rows×stride matrix with normal values over many
// magnitudes (so the order of additions shows in the bits), ±0, ±Inf and
// NaN now and then.
func randRows(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	specials := []float32{0, float32(math.Copysign(0, -1)), float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN())}
	for i := range x {
		if rng.IntN(200) == 0 {
			x[i] = specials[rng.IntN(len(specials))]
			continue
		}
		x[i] = float32(rng.NormFloat64() * math.Pow(10, float64(rng.IntN(9)-4)))
	}
	return x
}

// TestSumRowsF32MatchesScalar: the dispatching sum, the Go loop and (with
// AVX2) the ymm loop give the scalar loop's bits on random widths (odd,
// below and above each column block), strides, row lists (repeats
// included) and starting accumulators, and write nothing past dst.
func TestSumRowsF32MatchesScalar(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	forms := []struct {
		name string
		f    func(dst, src []float32, idx []int32, stride int)
	}{
		{"dispatch", sumRowsF32},
		{"go", sumRowsF32Go},
		{"vector+go", func(dst, src []float32, idx []int32, stride int) {
			c := sumRowsVec(dst, src, idx, stride)
			sumRowsF32Go(dst[c:], src[c:], idx, stride)
		}},
	}
	for iter := range 600 {
		w := 1 + rng.IntN(70)
		stride := w + rng.IntN(5)
		rows := 1 + rng.IntN(40)
		n := rng.IntN(300)
		if iter%50 == 0 {
			n = 0
		}
		src := randRows(rng, rows*stride)
		idx := make([]int32, n)
		for r := range idx {
			idx[r] = int32(rng.IntN(rows))
		}
		start := randRows(rng, w)
		if rng.IntN(2) == 0 {
			clear(start)
		}
		want := append([]float32(nil), start...)
		sumRowsScalar(want, src, idx, stride)
		for _, f := range forms {
			got := append(append([]float32(nil), start...), 42, 43)
			f.f(got[:w:w], src, idx, stride)
			for c := range w {
				if !sameF32(got[c], want[c]) {
					t.Fatalf("%s: w %d stride %d n %d column %d: %g (%08x), scalar %g (%08x)",
						f.name, w, stride, n, c, got[c], math.Float32bits(got[c]), want[c], math.Float32bits(want[c]))
				}
			}
			if got[w] != 42 || got[w+1] != 43 {
				t.Fatalf("%s: w %d: wrote past dst", f.name, w)
			}
		}
	}
}

// TestSumRowsVecRefusesRowsOutside: a row list reaching past src (or a
// negative row) leaves every column to the Go loop, which bounds-checks.
func TestSumRowsVecRefusesRowsOutside(t *testing.T) {
	src := make([]float32, 4*16)
	dst := make([]float32, 16)
	for _, idx := range [][]int32{{0, 4}, {-1}, {3, 0, 5}} {
		if c := sumRowsVec(dst, src, idx, 16); c != 0 {
			t.Errorf("rows %v of 4: vector loop took %d columns", idx, c)
		}
	}
	// In range, the vector loop takes all 16 columns or (no AVX2, noasm)
	// none.
	if c := sumRowsVec(dst, src, []int32{3, 0}, 16); c != 0 && c != 16 {
		t.Errorf("rows in range: vector loop took %d columns, want 16 or 0", c)
	}
}
