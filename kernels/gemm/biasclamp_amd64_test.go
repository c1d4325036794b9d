//go:build !noasm

package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestBiasClampAsmMatchesGo checks the AVX-512 and AVX2 float epilogue
// loops against epilogueF32's Go loop on random values with NaN, ±Inf and
// ±0 mixed in, for no clamp, RELU and RELU6: equal values (a zero's sign
// may differ: the asm returns x when x and a bound are equal) and NaN
// where Go has NaN.
func TestBiasClampAsmMatchesGo(t *testing.T) {
	type impl struct {
		name string
		ok   bool
		fn   func(groups int, c, bias *float32, lo, hi float32)
	}
	rng := rand.New(rand.NewPCG(31, 32))
	special := []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 0, float32(math.Copysign(0, -1)), 6, -6}
	val := func() float32 {
		if rng.IntN(5) == 0 {
			return special[rng.IntN(len(special))]
		}
		return float32(rng.NormFloat64() * 5)
	}
	ran := 0
	for _, im := range []impl{{"AVX-512", avx512Ok, biasClampAVX512}, {"AVX2", avx2Ok, biasClampAVX2}} {
		if !im.ok {
			continue
		}
		ran++
		for _, r := range [][2]float32{{-math.MaxFloat32, math.MaxFloat32}, {0, math.MaxFloat32}, {0, 6}, {-1, 1}} {
			for groups := range 5 {
				n := 16 * groups
				c, bias := make([]float32, n+16), make([]float32, n+16)
				for i := range c {
					c[i], bias[i] = val(), val()
				}
				want := append([]float32(nil), c...)
				for j := range n {
					want[j] = min(max(want[j]+bias[j], r[0]), r[1])
				}
				got := append([]float32(nil), c...)
				if groups > 0 {
					im.fn(groups, &got[0], &bias[0], r[0], r[1])
				}
				for j := range got {
					w, g := want[j], got[j]
					if (w != w) != (g != g) || (w == w && w != g) {
						t.Fatalf("%s, clamp %v, %d groups: element %d = %v, Go %v (c %v, bias %v)", im.name, r, groups, j, g, w, c[j], bias[j])
					}
				}
			}
		}
	}
	if ran == 0 {
		t.Skip("no AVX-512 or AVX2 on this CPU")
	}
}
