package kernels

// Differential test of the int8 float→int QUANTIZE loop (vector loop when
// the build and CPU have it) against AffineQuantize element by element.

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/kernels/fixedpoint"
)

// quantInput draws x for scale s: mostly ordinary values, plus exact ties
// (k+½)·s, their float neighbours, signed zeros, huge values and, when
// special, infinities and NaNs. Without wild, no huge values either, so
// most blocks of 16 stay on the vector loop.
func quantInput(rng *rand.Rand, s float32, special, wild bool) float32 {
	k := float32(rng.IntN(600) - 300)
	r := rng.IntN(10)
	if !wild && r >= 4 && r <= 6 {
		r = 9
	}
	switch r {
	case 0, 1:
		return (k + 0.5) * s
	case 2:
		return math.Nextafter32((k+0.5)*s, float32(rng.IntN(2)*2-1)*math.MaxFloat32)
	case 3:
		return float32(math.Copysign(0, float64(rng.IntN(2)*2-1)))
	case 4:
		return float32(rng.NormFloat64() * 1e12)
	case 5:
		if special {
			return []float32{float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()), math.MaxFloat32}[rng.IntN(4)]
		}
	case 6:
		// Quotients around 2^22..2^31 (exact integers, the 2^30 bail-out).
		return float32(rng.NormFloat64()*math.Exp2(float64(22+rng.IntN(10)))) * s
	}
	return float32(rng.NormFloat64()*200) * s
}

// randQuantizer draws the quantization of one trial: the fixed scales
// first (twice over), then random ones; a random zero point; and now and
// then a clamp range narrower than int8.
func randQuantizer(t *testing.T, rng *rand.Rand, scales []float32, trial int) (s float32, zp, lo, hi int32, c quantizer) {
	t.Helper()
	s = scales[trial%len(scales)]
	if trial >= 2*len(scales) {
		s = randScale(rng)
	}
	zp = int32(rng.IntN(256) - 128)
	lo, hi = int32(-128), int32(127)
	if rng.IntN(4) == 0 {
		lo, hi = int32(rng.IntN(100)-120), int32(rng.IntN(100)+20)
	}
	c, ok := newQuantizer(s, zp, lo, hi)
	if !ok {
		t.Fatalf("newQuantizer(%g, %d, %d, %d) declined", s, zp, lo, hi)
	}
	return s, zp, lo, hi, c
}

func TestQuantizeInt8MatchesAffineQuantize(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	scales := []float32{0.0078, 1, 0.1, 3e-6, 2.5e4, 1.0 / 3, -0.05, 0, float32(math.Inf(1)), 1e-40}
	for trial := range 400 {
		s, zp, lo, hi, c := randQuantizer(t, rng, scales, trial)
		n := rng.IntN(100)
		if trial%7 == 0 {
			n = 16 * rng.IntN(6) // whole vectors only, no tail
		}
		xs := make([]float32, n)
		special := trial%3 == 0
		for i := range xs {
			xs[i] = quantInput(rng, s, special && rng.IntN(10) == 0, trial%2 == 0)
		}
		got := make([]int8, n)
		for i := range got {
			got[i] = 99
		}
		quantizeInt8(&c, xs, got)
		for i, x := range xs {
			if w := int8(AffineQuantize(x, s, zp, lo, hi)); got[i] != w {
				t.Fatalf("trial %d (scale %g, zp %d, [%d, %d], n %d): x[%d] = %g (x/s = %g): got %d, want %d",
					trial, s, zp, lo, hi, n, i, x, x/s, got[i], w)
			}
		}
	}
}

func TestQuantizeInt8HandValues(t *testing.T) {
	// 0.5 scale: x/s = 2x. Ties round away from zero; the sub-tie just
	// below 0.5 (0.49999997) stays 0, which adding 0.5 in float32 would
	// get wrong; 2^30 and beyond, ∞ and NaN take the scalar path.
	below := math.Nextafter32(0.5, 0)
	in := []float32{0.25, -0.25, 0.75, -0.75, below / 2, -below / 2, 0, float32(math.Copysign(0, -1)),
		1.25, -1.25, 63.75, -64.25, 1 << 29, float32(math.Inf(-1)), float32(math.NaN()), 10,
		// second vector, all ordinary, then a tail of 3
		0.25, 0.74, 1.24, -1.26, 5, -5, 6.25, -6.25, 0.1, -0.1, 2, 3, 4, 5, 6, 7,
		0.25, -0.25, 100}
	want := []int8{1, -1, 2, -2, 0, 0, 0, 0,
		3, -3, 127, -128, 127, -128, 0, 20,
		1, 1, 2, -3, 10, -10, 13, -13, 0, 0, 4, 6, 8, 10, 12, 14,
		1, -1, 127}
	c, _ := newQuantizer(0.5, 0, -128, 127)
	got := make([]int8, len(in))
	quantizeInt8(&c, in, got)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("x = %g: got %d, want %d", in[i], got[i], want[i])
		}
	}
	if hasAVX512 {
		// The vector loop takes the second block only after the first
		// (holding ∞, NaN) is declined — from the start it declines.
		if n := quantizeI8Vec(&c, in, got); n != 0 {
			t.Errorf("vector loop took %d values past a block with ∞ and NaN", n)
		}
		if n := quantizeI8Vec(&c, in[16:], got[16:]); n != 16 {
			t.Errorf("vector loop took %d values of an ordinary block and a tail of 3, want 16", n)
		}
	}
}

// TestQuantizeXNNMatchesGo checks the runtime arithmetic's float to int8
// QUANTIZE (the vector loop plus its Go blocks and tail) against
// fixedpoint.FP32Quantize on odd lengths, exact ties, values that clamp,
// NaN, infinities and huge values, with extreme zero points and a narrow
// clamp range.
func TestQuantizeXNNMatchesGo(t *testing.T) {
	r := rand.New(rand.NewPCG(41, 42))
	for iter := range 300 {
		n := r.IntN(100)
		scale := float32(0.001 + r.Float64())
		if iter%3 == 0 {
			scale = []float32{0.25, 0.5, 0.0625, 1}[r.IntN(4)] // ties exact
		}
		inv := 1 / scale
		zp := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}[iter%4]
		lo, hi := int32(-128), int32(127)
		if iter%5 == 0 {
			lo, hi = -20, 30
		}
		xs := make([]float32, n)
		for i := range xs {
			switch r.IntN(12) {
			case 0:
				xs[i] = []float32{float32(math.NaN()), float32(math.Inf(1)), float32(math.Inf(-1)), 3e9, -3e9}[r.IntN(5)]
			case 1, 2, 3:
				xs[i] = (float32(r.IntN(300)-150) + 0.5) * scale
			default:
				xs[i] = float32(r.NormFloat64()*100) * scale
			}
		}
		got := make([]int8, n)
		quantizeXNN(inv, zp, lo, hi, xs, got, false)
		for i, x := range xs {
			if want := int8(fixedpoint.FP32Quantize(x, inv, zp, lo, hi)); got[i] != want {
				t.Fatalf("iter %d n %d: x[%d] = %g (scale %g zp %d [%d, %d]): got %d, want %d", iter, n, i, x, scale, zp, lo, hi, got[i], want)
			}
		}
	}
}
