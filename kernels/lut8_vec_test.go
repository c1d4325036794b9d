package kernels

// Differential test of lookup8 (the VPERMI2B loop when the build and CPU
// have it) against a plain indexed loop.

import (
	"math/rand/v2"
	"testing"
)

func TestLookup8MatchesIndexing(t *testing.T) {
	rng := rand.New(rand.NewPCG(41, 42))
	var tab [256]uint8
	for i := range tab {
		tab[i] = uint8(rng.Uint32())
	}
	for _, n := range []int{0, 1, 5, 63, 64, 65, 127, 128, 129, 200, 1000, 25600 + 17} {
		xs := make([]int8, n)
		for i := range xs {
			xs[i] = int8(rng.Uint32())
		}
		if n > 4 {
			xs[0], xs[1], xs[2], xs[3] = -128, -1, 0, 127 // table ends and the halves' seam
		}
		const guard = 80
		got8, gotU := make([]int8, n+guard), make([]uint8, n+guard)
		for i := range got8 {
			got8[i], gotU[i] = 33, 33
		}
		lookup8(&tab, xs, got8[:n])
		lookup8(&tab, xs, gotU[:n])
		for i := range got8 {
			want := uint8(33)
			if i < n {
				want = tab[uint8(xs[i])]
			}
			if uint8(got8[i]) != want || gotU[i] != want {
				t.Fatalf("n=%d: element %d (x=%d): got %d / %d, want %d", n, i, xs[min(i, n-1)], uint8(got8[i]), gotU[i], want)
			}
		}
		// In place, uint8 in: the output may overwrite the input.
		us := make([]uint8, n)
		for i := range us {
			us[i] = uint8(xs[i])
		}
		lookup8(&tab, us, us)
		for i, x := range xs {
			if us[i] != tab[uint8(x)] {
				t.Fatalf("n=%d in place: element %d: got %d, want %d", n, i, us[i], tab[uint8(x)])
			}
		}
	}
}
