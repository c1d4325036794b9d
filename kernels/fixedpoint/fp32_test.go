package fixedpoint

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestFP32RequantizeTies: XNNPACK rounds exact ties to even (2.5 → 2,
// 3.5 → 4, −2.5 → −2) where single rounding rounds half up (3, 4, −2) and
// double rounding away from zero (3, 4, −3); clamping happens before the
// zero point is added.
func TestFP32RequantizeTies(t *testing.T) {
	for _, c := range []struct {
		acc, zp, lo, hi, want int32
	}{
		{5, 0, -128, 127, 2}, {7, 0, -128, 127, 4}, {-5, 0, -128, 127, -2}, {-7, 0, -128, 127, -4},
		{5, 10, -128, 127, 12}, {1000, 10, -128, 127, 127}, {-1000, -100, -128, 127, -128},
		{5, 0, 3, 127, 3}, {math.MaxInt32, 0, -128, 127, 127}, {math.MinInt32, 0, -128, 127, -128},
	} {
		if got := FP32Requantize(c.acc, 0.5, c.zp, c.lo, c.hi); got != c.want {
			t.Errorf("FP32Requantize(%d, 0.5, zp %d, [%d, %d]) = %d, want %d", c.acc, c.zp, c.lo, c.hi, got, c.want)
		}
	}
}

// TestFP32RequantizeMatchesFloat64: away from float32 ties the result is
// the exactly rounded product (checked in float64 on random accumulators).
func TestFP32RequantizeMatchesFloat64(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for range 100000 {
		acc := int32(r.IntN(1<<20) - 1<<19)
		scale := FP32Scale(float32(0.01+r.Float64()), float32(0.001+0.01*r.Float64()), float32(0.05+r.Float64()))
		exact := float64(float32(acc)) * float64(scale)
		frac := exact - math.Floor(exact)
		if math.Abs(frac-0.5) < 1e-3 {
			continue
		}
		want := min(max(int32(math.Round(exact)), -128), 127)
		if got := FP32Requantize(acc, scale, 0, -128, 127); got != want {
			t.Fatalf("acc %d scale %g: got %d, want %d", acc, scale, got, want)
		}
	}
}

// TestFP32ScaleIsFloat32: the scale is formed in float32, left to right,
// which can differ in the last bit from rounding the double quotient.
func TestFP32ScaleIsFloat32(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	differ := 0
	for range 10000 {
		a, b, c := float32(r.Float64()), float32(r.Float64()), float32(0.01+r.Float64())
		got := FP32Scale(a, b, c)
		if want := (a * b) / c; got != want {
			t.Fatalf("FP32Scale(%g, %g, %g) = %g, want %g", a, b, c, got, want)
		}
		if got != float32(float64(a)*float64(b)/float64(c)) {
			differ++
		}
	}
	if differ == 0 {
		t.Error("float32 and double scales never differ; the test cannot tell them apart")
	}
}
