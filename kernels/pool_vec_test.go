package kernels

// Differential test of the float 2×2 max-pool row (vector loop when the
// build and CPU have it) against the per-pixel Go arithmetic it replaces.

import (
	"math"
	"math/rand/v2"
	"testing"
)

// goMax2x2Row is the pure-Go float row: keys per pixel, Go's max on a
// pixel holding a NaN.
func goMax2x2Row(o, a, b []float32, C int, lo, hi float32) {
	for p := 0; p < len(o); p += C {
		op, ap, bp := o[p:p+C], a[2*p:2*p+2*C], b[2*p:2*p+2*C]
		if !max2x2Float(op, ap, bp, lo, hi) {
			max2x2Generic(op, ap, bp, lo, hi)
		}
	}
}

// specialFloat draws a float32 that stresses max: signed zeros, equal
// values, infinities, extremes, NaNs (with payloads and signs) when nanOK.
func specialFloat(rng *rand.Rand, nanOK bool) float32 {
	switch rng.IntN(12) {
	case 0:
		return float32(math.Copysign(0, -1))
	case 1:
		return 0
	case 2:
		return float32(math.Inf(1 - 2*rng.IntN(2)))
	case 3:
		return float32(1 - 2*rng.IntN(2))
	case 4:
		return math.MaxFloat32 * float32(1-2*rng.IntN(2))
	case 5:
		return math.Float32frombits(uint32(rng.IntN(4))) // denormals
	case 6:
		if nanOK {
			return math.Float32frombits(0x7FC00000 | rng.Uint32()&0x803FFFFF)
		}
	}
	return float32(rng.NormFloat64() * 4)
}

func TestMax2x2RowFloatMatchesGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	bounds := [][2]float32{
		{-math.MaxFloat32, math.MaxFloat32}, {0, 6}, {0, math.MaxFloat32},
		{float32(math.Copysign(0, -1)), 0}, {-1, 1}, {3, -3}, // lo > hi: clamp gives hi
	}
	for C := 1; C <= 70; C++ {
		for trial := range 6 {
			npix := 1 + rng.IntN(9)
			a, b := make([]float32, 2*npix*C), make([]float32, 2*npix*C)
			// Trials 0–2 are NaN-free (the vector loop runs throughout);
			// the others put NaNs in some pixels, so it stops and resumes.
			nanOK := trial >= 3
			for i := range a {
				a[i], b[i] = specialFloat(rng, nanOK && rng.IntN(8) == 0), specialFloat(rng, nanOK && rng.IntN(8) == 0)
			}
			bd := bounds[rng.IntN(len(bounds))]
			got, want := make([]float32, npix*C), make([]float32, npix*C)
			for i := range got {
				got[i], want[i] = 7, 7
			}
			max2x2Row(got, a, b, C, bd[0], bd[1])
			goMax2x2Row(want, a, b, C, bd[0], bd[1])
			for i := range want {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					p, c := i/C, i%C
					t.Fatalf("C=%d npix=%d bounds %v: pixel %d channel %d: got %g (%#x), want %g (%#x); inputs %g %g %g %g",
						C, npix, bd, p, c, got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]),
						a[2*p*C+c], a[2*p*C+C+c], b[2*p*C+c], b[2*p*C+C+c])
				}
			}
		}
	}
}

func TestMax2x2RowFloatHandValues(t *testing.T) {
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	// 20 channels: one full vector of 16 and a masked tail of 4.
	const C = 20
	a, b := make([]float32, 2*C), make([]float32, 2*C)
	for c := range C {
		a[c], a[C+c], b[c], b[C+c] = -5, -4, -3, float32(c)-10
	}
	a[0], a[C], b[0], b[C] = negZero, negZero, negZero, 0 // max(−0, +0) is +0
	a[1], a[C+1], b[1], b[C+1] = negZero, negZero, negZero, negZero
	a[17], a[C+17], b[17], b[C+17] = 1, 100, 2, 3 // tail lane: 100, clamped to 6
	o := make([]float32, C)
	max2x2Row(o, a, b, C, negZero, 6)
	if math.Float32bits(o[0]) != 0 {
		t.Errorf("channel 0 = %g (bits %#x), want +0", o[0], math.Float32bits(o[0]))
	}
	if math.Float32bits(o[1]) != math.Float32bits(negZero) {
		t.Errorf("channel 1 = %g (bits %#x), want −0 (all −0, lo −0)", o[1], math.Float32bits(o[1]))
	}
	if o[17] != 6 || math.Float32bits(o[2]) != math.Float32bits(negZero) {
		t.Errorf("channels 2, 17 = %g, %g; want −0 (−3 clamped to lo −0), 6", o[2], o[17])
	}
	// A NaN in the tail of the pixel propagates there only.
	b[C+19] = nan
	max2x2Row(o, a, b, C, -100, 100)
	if o[19] == o[19] || o[18] != 8 || o[3] != -3 {
		t.Errorf("NaN pixel: channels 3, 18, 19 = %g, %g, %g; want -3, 8, NaN", o[3], o[18], o[19])
	}
}

// TestMax2x2F32VecStops checks the vector loop's contract directly: all
// pixels done on NaN-free input, a stop at the first pixel with a NaN.
func TestMax2x2F32VecStops(t *testing.T) {
	if !hasAVX512 {
		t.Skip("no AVX-512 loop in this build or on this CPU")
	}
	const C, npix = 35, 5
	a, b, o := make([]float32, 2*npix*C), make([]float32, 2*npix*C), make([]float32, npix*C)
	l, h := floatKey(-math.MaxFloat32), floatKey(math.MaxFloat32)
	if n := max2x2F32Vec(o, a, b, C, npix, l, h); n != npix {
		t.Fatalf("NaN-free: %d pixels done, want %d", n, npix)
	}
	b[2*3*C+C+34] = float32(math.NaN()) // pixel 3, last tail lane
	if n := max2x2F32Vec(o, a, b, C, npix, l, h); n != 3 {
		t.Fatalf("NaN in pixel 3: %d pixels done, want 3", n)
	}
}
