package fixedpoint

import (
	"math"
	"testing"
)

func q31(raw int32) float64 { return float64(raw) / (1 << 31) }

func TestRescaleAndHalfSum(t *testing.T) {
	if got := Rescale(1<<26, 5, 0); got != math.MaxInt32 { // 1.0 in Q5 saturates in Q0
		t.Errorf("Rescale(1.0 Q5 → Q0) = %d", got)
	}
	if got := Rescale(1<<24, 5, 0); got != 1<<29 { // 0.25
		t.Errorf("Rescale(0.25 Q5 → Q0) = %d", got)
	}
	if got := Rescale(1<<29, 0, 2); got != 1<<27 {
		t.Errorf("Rescale(0.25 Q0 → Q2) = %d", got)
	}
	for _, c := range []struct{ a, b, want int32 }{
		{1, 2, 2}, {-1, -2, -2}, {math.MaxInt32, math.MaxInt32, math.MaxInt32},
		{math.MinInt32, math.MinInt32, math.MinInt32}, {3, -3, 0}, {0, 1, 1}, {0, -1, -1},
	} {
		if got := RoundingHalfSum(c.a, c.b); got != c.want {
			t.Errorf("RoundingHalfSum(%d, %d) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
}

func TestExpOnNegativeValues(t *testing.T) {
	for _, ib := range []int{0, 1, 2, 4, 5, 6, 12} {
		if got := ExpOnNegativeValues(0, ib); got != One0 {
			t.Errorf("exp(0) with %d integer bits = %d", ib, got)
		}
		frac := 31 - ib
		worst := 0.0
		// Walk a ≤ 0 across the whole representable range.
		for k := 1; k <= 40000; k++ {
			a := -int32(int64(k) * int64(math.MaxInt32) / 40000)
			got := q31(ExpOnNegativeValues(a, ib))
			want := math.Exp(float64(a) / math.Pow(2, float64(frac)))
			if ib > 5 && float64(a)/math.Pow(2, float64(frac)) < -32 {
				want = 0
			}
			if d := math.Abs(got - want); d > worst {
				worst = d
			}
		}
		if worst > 3e-7 { // 4th-order Taylor on a 1/8 radius: ≈ (1/8)^5/120
			t.Errorf("exp with %d integer bits: max abs error %g", ib, worst)
		}
	}
	// exp(−1/4) and exp(−1) exactly representable inputs, Q5.26.
	if got := q31(ExpOnNegativeValues(-(1 << 24), 5)); math.Abs(got-math.Exp(-0.25)) > 3e-7 {
		t.Errorf("exp(-1/4) = %g", got)
	}
	if got := q31(ExpOnNegativeValues(-(1 << 26), 5)); math.Abs(got-math.Exp(-1)) > 3e-7 {
		t.Errorf("exp(-1) = %g", got)
	}
	// Below −32 with more than 5 integer bits the result is exactly 0.
	if got := ExpOnNegativeValues(-(33 << 24), 7); got != 0 {
		t.Errorf("exp(-33) Q7 = %d, want 0", got)
	}
}

func TestOneOverOnePlusX(t *testing.T) {
	worst := 0.0
	for k := 0; k <= 100000; k++ {
		a := int32(int64(k) * int64(math.MaxInt32) / 100000)
		got := q31(OneOverOnePlusXForXIn01(a))
		want := 1 / (1 + q31(a))
		if d := math.Abs(got - want); d > worst {
			worst = d
		}
	}
	if worst > 5e-9 {
		t.Errorf("1/(1+x): max abs error %g", worst)
	}
	if got := OneOverOnePlusXForXIn01(0); got < math.MaxInt32-2 {
		t.Errorf("1/(1+0) = %d", got)
	}
}

func TestGetReciprocal(t *testing.T) {
	// x = 1.25 with 12 integer bits: 1/1.25 = 0.8 and no extra bits.
	x := int32(5 << 17) // 1.25 · 2^19
	r, n := GetReciprocal(x, 12)
	if n != 0 || math.Abs(q31(r)-0.8) > 1e-8 {
		t.Errorf("GetReciprocal(1.25) = %g, %d", q31(r), n)
	}
	// x = 10 (Q12.19): 1/10 = 0.625 · 2^-4.
	r, n = GetReciprocal(10<<19, 12)
	if n != 3 || math.Abs(q31(r)/math.Pow(2, float64(n))-0.1) > 1e-9*16 {
		t.Errorf("GetReciprocal(10) = %g · 2^-%d", q31(r), n)
	}
}

func TestLogistic(t *testing.T) {
	if got := Logistic(0, 4); got != 1<<30 {
		t.Errorf("logistic(0) = %d", got)
	}
	worst := 0.0
	for k := -20000; k <= 20000; k++ {
		a := int32(int64(k) * int64(math.MaxInt32) / 20000)
		got := q31(Logistic(a, 4))
		want := 1 / (1 + math.Exp(-float64(a)/(1<<27)))
		if d := math.Abs(got - want); d > worst {
			worst = d
		}
	}
	if worst > 1e-7 {
		t.Errorf("logistic: max abs error %g", worst)
	}
}

func TestLUT16(t *testing.T) {
	expLUT, recipLUT := SoftmaxInt16LUTs()
	// Input 32767 is the top of [−10, 0]: exp(0) = 1 → clamps at 32767.
	if got := expLUT.Lookup(32767); got < 32760 {
		t.Errorf("exp LUT at 0 = %d", got)
	}
	if expLUT[512] != 32767 {
		t.Errorf("exp LUT end point = %d, want 32767", expLUT[512])
	}
	// exp(−10)·32768 ≈ 1.49 → first entry 1 (nudged by the midpoint error).
	if expLUT[0] < 0 || expLUT[0] > 2 {
		t.Errorf("exp LUT[0] = %d", expLUT[0])
	}
	if recipLUT[0] != 32767 || recipLUT[512] != 16384 {
		t.Errorf("1/(1+x) LUT ends = %d, %d; want 32767, 16384", recipLUT[0], recipLUT[512])
	}
	for v := math.MinInt16; v <= math.MaxInt16; v++ {
		x := -10 + 10*float64(v+32768)/65536 // 9-bit index + 7-bit fraction
		if d := math.Abs(float64(expLUT.Lookup(int16(v))) - 32768*math.Exp(x)); d > 3 {
			t.Fatalf("exp LUT(%d) = %d, want ≈ %g", v, expLUT.Lookup(int16(v)), 32768*math.Exp(x))
		}
		y := float64(v+32768) / 65536
		if d := math.Abs(float64(recipLUT.Lookup(int16(v))) - 32768/(1+y)); d > 3 {
			t.Fatalf("1/(1+x) LUT(%d) = %d, want ≈ %g", v, recipLUT.Lookup(int16(v)), 32768/(1+y))
		}
	}
}

// InvSqrtQuantizedMultiplierExp's multiplier · 2^shift is 1/sqrt(x) to
// within the Newton iteration's precision, over the whole int32 range.
func TestInvSqrtQuantizedMultiplierExp(t *testing.T) {
	for _, x := range []int32{2, 3, 4, 7, 100, 12345, 1 << 20, 1<<29 - 1, 1 << 29, 1<<31 - 1} {
		m, sh := InvSqrtQuantizedMultiplierExp(x)
		if sh > 0 || m <= 0 {
			t.Fatalf("x=%d: multiplier %d shift %d", x, m, sh)
		}
		got := float64(m) / (1 << 31) * math.Ldexp(1, sh)
		want := 1 / math.Sqrt(float64(x))
		if math.Abs(got-want) > 5e-6*want { // five Newton steps from 1: about 1e-6
			t.Errorf("x=%d: %g, want %g", x, got, want)
		}
	}
	if m, sh := InvSqrtQuantizedMultiplierExp(0); m != math.MaxInt32 || sh != 0 {
		t.Errorf("x=0: %d %d, want 2^31-1, 0", m, sh)
	}
}
