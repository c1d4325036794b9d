package kernels

// Differential test of the integer 2×2 max-pool row (the AVX-512 loop
// when the build and CPU have it) against max2x2Generic, Go's max per
// pixel.

import (
	"math"
	"math/rand/v2"
	"testing"
)

func testMax2x2RowInt[T int8 | int16](t *testing.T, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 7))
	tmin, tmax := int64(math.MinInt8), int64(math.MaxInt8)
	var z T
	if any(z) == any(int16(0)) {
		tmin, tmax = math.MinInt16, math.MaxInt16
	}
	draw := func() T {
		switch rng.IntN(6) {
		case 0:
			return T(tmin)
		case 1:
			return T(tmax)
		case 2:
			return T(rng.IntN(5) - 2)
		}
		return T(tmin + rng.Int64N(tmax-tmin+1))
	}
	for C := 1; C <= 130; C++ {
		for trial := range 4 {
			// Up to 13 pixels: the 4- and 2-pixel vector steps of C=16
			// and C=32 (int8) or C=8 and C=16 (int16) leave every tail.
			npix := 1 + rng.IntN(13)
			lo, hi := T(tmin), T(tmax)
			switch trial {
			case 1:
				lo, hi = draw(), draw()
				if lo > hi {
					lo, hi = hi, lo
				}
			case 2:
				lo = 0
			case 3:
				lo, hi = draw(), draw() // lo > hi possible: min(·, hi) wins
			}
			n := npix * C
			a, b := make([]T, 2*n+3), make([]T, 2*n+3)
			for i := range a {
				a[i], b[i] = draw(), draw()
			}
			// Guards after o catch stores past the last pixel.
			got, want := make([]T, n+70), make([]T, n+70)
			for i := range got {
				got[i], want[i] = 99, 99
			}
			max2x2Row(got[:n], a[:2*n], b[:2*n], C, lo, hi)
			for p := 0; p < n; p += C {
				max2x2Generic(want[p:p+C], a[2*p:2*p+2*C], b[2*p:2*p+2*C], lo, hi)
			}
			for i := range want {
				if got[i] != want[i] {
					p, c := i/C, i%C
					t.Fatalf("%T C=%d npix=%d clamp [%d, %d]: element %d (pixel %d channel %d): got %d, want %d",
						z, C, npix, lo, hi, i, p, c, got[i], want[i])
				}
			}
		}
	}
}

func TestMax2x2RowIntMatchesGo(t *testing.T) {
	testMax2x2RowInt[int8](t, 1)
	testMax2x2RowInt[int16](t, 2)
}
