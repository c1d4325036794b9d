package fixedpoint

import (
	"math"
	"math/rand"
	"testing"
)

func TestSingleRounding(t *testing.T) {
	// m = 2^30 (0.5), shift −1: x/4 rounded half up once.
	for _, c := range []struct{ x, want int32 }{
		{1, 0},   // 0.25 → 0 (double rounding gives 1)
		{2, 1},   // 0.5 → 1
		{-2, 0},  // −0.5 → 0 (half up)
		{-3, -1}, // −0.75 → −1
		{6, 2},   // 1.5 → 2
		{100, 25},
	} {
		if got := MultiplyByQuantizedMultiplierSingleRounding(c.x, 1<<30, -1); got != c.want {
			t.Errorf("single(%d·0.5/2) = %d, want %d", c.x, got, c.want)
		}
	}
	if got := MultiplyByQuantizedMultiplier(1, 1<<30, -1); got != 1 {
		t.Errorf("double(1·0.5/2) = %d, want 1", got)
	}
	// Against exact arithmetic: floor(x·m/2^(31−s) + 1/2).
	r := rand.New(rand.NewSource(20))
	for i := 0; i < 100000; i++ {
		m, s := SingleRounding.QuantizeMultiplier(math.Exp(r.Float64()*16 - 14))
		x := int32(r.Intn(1<<24) - 1<<23)
		exact := float64(x) * float64(m) / math.Pow(2, float64(31-s))
		if got := SingleRounding.MultiplyByQuantizedMultiplier(x, m, s); float64(got) != math.Floor(exact+0.5) {
			t.Fatalf("single(%d, %d, %d) = %d, exact %g", x, m, s, got, exact)
		}
		if s <= 0 && SingleRounding.MultiplyByQuantizedMultiplierSmallerThanOneExp(x, m, s) != SingleRounding.MultiplyByQuantizedMultiplier(x, m, s) {
			t.Fatal("SmallerThanOneExp differs from the plain product in single rounding")
		}
		if DoubleRounding.MultiplyByQuantizedMultiplier(x, m, s) != MultiplyByQuantizedMultiplier(x, m, s) {
			t.Fatal("DoubleRounding method differs from the package function")
		}
	}
	if m, s := SingleRounding.QuantizeMultiplier(1 << 40); m != math.MaxInt32 || s != 30 {
		t.Errorf("single QuantizeMultiplier(2^40) = %d, %d; want saturation at (2^31-1, 30)", m, s)
	}
	if m, s := DoubleRounding.QuantizeMultiplier(1 << 40); m != 1<<30 || s != 41 {
		t.Errorf("double QuantizeMultiplier(2^40) = %d, %d", m, s)
	}
	// The cap 2^30 − 1 is (2^31 − 2)·2^(30−31): multiplier 2^31 − 2, shift 30.
	if m, s := SingleRounding.PreprocessSoftmaxScaling(1e9, 1, 5); m != math.MaxInt32-1 || s != 30 {
		t.Errorf("single PreprocessSoftmaxScaling cap = %d, %d", m, s)
	}
	for _, c := range []struct {
		s  string
		r  Rounding
		ok bool
	}{{"double", DoubleRounding, true}, {"SINGLE", SingleRounding, true}, {"Runtime", RuntimeRounding, true}, {"x", DoubleRounding, false}} {
		if r, ok := ParseRounding(c.s); r != c.r || ok != c.ok {
			t.Errorf("ParseRounding(%q) = %v %v", c.s, r, ok)
		}
	}
}
