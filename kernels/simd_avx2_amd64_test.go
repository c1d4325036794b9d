//go:build !noasm

package kernels

// Differential tests of the AVX2 pool and QUANTIZE loops, called directly
// (on an AVX-512 machine the dispatch never picks them) against the Go
// loops on random odd shapes, with guard elements past every output.

import (
	"math"
	"math/rand/v2"
	"testing"
)

func skipNoAVX2(t *testing.T) {
	if !hasAVX2 {
		t.Skip("needs AVX2 and FMA")
	}
}

// TestMax2x2F32AVX2 checks the float loop: bit-identical to max2x2Float
// on every pixel before the first one holding a NaN, whose index it must
// return, and no pixel after that one (nor past the output) written.
func TestMax2x2F32AVX2(t *testing.T) {
	skipNoAVX2(t)
	r := rand.New(rand.NewPCG(91, 92))
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	clamps := [][2]float32{{-inf, inf}, {0, inf}, {0, 6}, {negZero, 1}, {-1, negZero}}
	specials := []float32{0, negZero, inf, -inf, math.MaxFloat32, -math.SmallestNonzeroFloat32}
	for iter := 0; iter < 400; iter++ {
		C, npix := 1+r.IntN(40), 1+r.IntN(12)
		n := npix * C
		a, b := make([]float32, 2*n), make([]float32, 2*n)
		for _, x := range [][]float32{a, b} {
			for i := range x {
				x[i] = float32(r.NormFloat64())
				if r.IntN(8) == 0 {
					x[i] = specials[r.IntN(len(specials))]
				}
			}
		}
		nanPix := npix
		if iter%3 == 0 {
			// One NaN in a random pixel (either row, either column).
			nanPix = r.IntN(npix)
			c := r.IntN(C)
			src := [][]float32{a, b}[r.IntN(2)]
			src[2*nanPix*C+r.IntN(2)*C+c] = float32(math.NaN())
		}
		cl := clamps[r.IntN(len(clamps))]
		const fill = float32(-777)
		o := make([]float32, n+8)
		for i := range o {
			o[i] = fill
		}
		got := max2x2F32AVX2(&o[0], &a[0], &b[0], npix, C, floatKey(cl[0]), floatKey(cl[1]))
		if got != nanPix {
			t.Fatalf("iter %d C=%d npix=%d: returned %d, want %d", iter, C, npix, got, nanPix)
		}
		want := make([]float32, C)
		for p := 0; p < npix; p++ {
			op := o[p*C : (p+1)*C]
			switch {
			case p < nanPix:
				if !max2x2Float(want, a[2*p*C:2*(p+1)*C], b[2*p*C:2*(p+1)*C], cl[0], cl[1]) {
					t.Fatalf("iter %d: reference saw a NaN in pixel %d", iter, p)
				}
				for c := range op {
					if math.Float32bits(op[c]) != math.Float32bits(want[c]) {
						t.Fatalf("iter %d C=%d pixel %d ch %d: %v, want %v", iter, C, p, c, op[c], want[c])
					}
				}
			case p > nanPix:
				for c := range op {
					if op[c] != fill {
						t.Fatalf("iter %d: pixel %d after the NaN one written", iter, p)
					}
				}
			}
		}
		for i := n; i < len(o); i++ {
			if o[i] != fill {
				t.Fatalf("iter %d C=%d npix=%d: o[%d] past the output written", iter, C, npix, i)
			}
		}
	}
}

// testMax2x2IntAVX2 checks an integer loop against the scalar max and
// clamp, pixels of at least 16 bytes, guard elements untouched.
func testMax2x2IntAVX2[T int8 | int16](t *testing.T, r *rand.Rand, minC int, fn func(o, a, b []T, npix, C int, lo, hi T)) {
	for iter := 0; iter < 300; iter++ {
		C, npix := minC+r.IntN(90), 1+r.IntN(9)
		n := npix * C
		a, b := make([]T, 2*n), make([]T, 2*n)
		for _, x := range [][]T{a, b} {
			for i := range x {
				x[i] = T(r.IntN(1<<16) - 1<<15) // wraps for int8: all values
			}
		}
		lo, hi := T(-128), T(127)
		if r.IntN(2) == 0 {
			lo, hi = T(r.IntN(60)-80), T(r.IntN(60)+10)
		}
		const fill = 99
		o := make([]T, n+40)
		for i := range o {
			o[i] = fill
		}
		fn(o, a, b, npix, C, lo, hi)
		for p := 0; p < npix; p++ {
			for c := 0; c < C; c++ {
				x := max(a[2*p*C+c], a[2*p*C+C+c], b[2*p*C+c], b[2*p*C+C+c])
				if w := min(max(x, lo), hi); o[p*C+c] != w {
					t.Fatalf("iter %d C=%d npix=%d: pixel %d ch %d = %d, want %d", iter, C, npix, p, c, o[p*C+c], w)
				}
			}
		}
		for i := n; i < len(o); i++ {
			if o[i] != fill {
				t.Fatalf("iter %d C=%d npix=%d: o[%d] past the output written", iter, C, npix, i)
			}
		}
	}
}

func TestMax2x2IntAVX2(t *testing.T) {
	skipNoAVX2(t)
	r := rand.New(rand.NewPCG(93, 94))
	testMax2x2IntAVX2(t, r, 16, func(o, a, b []int8, npix, C int, lo, hi int8) {
		max2x2I8AVX2(&o[0], &a[0], &b[0], npix, C, lo, hi)
	})
	testMax2x2IntAVX2(t, r, 8, func(o, a, b []int16, npix, C int, lo, hi int16) {
		max2x2I16AVX2(&o[0], &a[0], &b[0], npix, 2*C, lo, hi)
	})
}

// TestQuantizeI8AVX2 checks the QUANTIZE loop against quantizeSlice: the
// same int8 for every value before the first block of 8 holding a
// quotient the loop declines (NaN, ±∞, |x/s| ≥ 2^30), whose start it must
// return, and nothing written from there on.
func TestQuantizeI8AVX2(t *testing.T) {
	skipNoAVX2(t)
	rng := rand.New(rand.NewPCG(95, 96))
	scales := []float32{0.0078, 1, 0.1, 3e-6, 2.5e4, 1.0 / 3, -0.05}
	for trial := range 400 {
		s, zp, lo, hi, c := randQuantizer(t, rng, scales, trial)
		n := 8 * rng.IntN(12)
		xs := make([]float32, n)
		for i := range xs {
			xs[i] = quantInput(rng, s, trial%3 == 0 && rng.IntN(20) == 0, trial%4 == 0 && rng.IntN(10) == 0)
		}
		stop := n
		for i, x := range xs {
			if g := float64(x / s); !(math.Abs(g) < 1<<30) {
				stop = i &^ 7
				break
			}
		}
		got := make([]int8, n+8)
		for i := range got {
			got[i] = 99
		}
		want := make([]int8, n)
		quantizeSlice(&c, xs, want)
		var done int
		if n > 0 {
			done = quantizeI8AVX2(&xs[0], &got[0], n, c.scale, c.zp, c.lo, c.hi)
		}
		if done != stop {
			t.Fatalf("trial %d (scale %g, n %d): did %d values, want %d", trial, s, n, done, stop)
		}
		for i := range got {
			if i < done && got[i] != want[i] {
				t.Fatalf("trial %d (scale %g, zp %d, [%d, %d]): x[%d] = %g (x/s = %g): got %d, want %d",
					trial, s, zp, lo, hi, i, xs[i], xs[i]/s, got[i], want[i])
			}
			if i >= done && got[i] != 99 {
				t.Fatalf("trial %d: ys[%d] written past the %d values done", trial, i, done)
			}
		}
	}
}
