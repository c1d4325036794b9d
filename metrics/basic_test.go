package metrics

import (
	"math"
	"testing"
)

func near(t *testing.T, name string, got, want, tol float64) {
	t.Helper()
	if math.IsNaN(got) || math.Abs(got-want) > tol {
		t.Errorf("%s = %.9g, want %.9g (±%g)", name, got, want, tol)
	}
}

func TestArgmaxTieRuleAndNaN(t *testing.T) {
	nan := float32(math.NaN())
	cases := []struct {
		p    []float32
		want int
	}{
		{[]float32{0.2, 0.5, 0.5}, 1},          // tie: lowest index wins
		{[]float32{0.25, 0.25, 0.25, 0.25}, 0}, // all tied
		{[]float32{nan, 0.1, 0.05}, 1},         // NaN never chosen
		{[]float32{nan, nan}, 0},               // all NaN
		{nil, 0},                               // empty
		{[]float32{0, 0, 1}, 2},                // exact one-hot
	}
	for _, c := range cases {
		if got := Argmax(c.p); got != c.want {
			t.Errorf("Argmax(%v) = %d, want %d", c.p, got, c.want)
		}
	}
}

func TestRankFollowsTieRule(t *testing.T) {
	p := []float32{0.2, 0.5, 0.5, 0.1}
	for c, want := range []int{2, 0, 1, 3} {
		if got := Rank(p, c); got != want {
			t.Errorf("Rank(p,%d) = %d, want %d", c, got, want)
		}
	}
	if got := Rank(p, 9); got != 4 {
		t.Errorf("Rank out of range = %d, want 4", got)
	}
}

func TestTop2(t *testing.T) {
	a, b := Top2([]float32{0.1, 0.6, 0.3})
	near(t, "first", a, 0.6, 1e-7)
	near(t, "second", b, 0.3, 1e-7)
	a, b = Top2([]float32{0.5, 0.5})
	if a != 0.5 || b != 0.5 {
		t.Errorf("Top2 tie = %v %v", a, b)
	}
	a, b = Top2([]float32{1})
	if a != 1 || b != 0 {
		t.Errorf("Top2 single = %v %v", a, b)
	}
}

func TestWilsonHandComputed(t *testing.T) {
	// 8/10: p=0.8, z²=3.841459, den=1.384146; centre 0.716740, half 0.226578.
	iv := Wilson(8, 10, WilsonZ)
	near(t, "lo 8/10", iv.Lo, 0.490162, 2e-6)
	near(t, "hi 8/10", iv.Hi, 0.943318, 2e-6)
	// 0/10: lo exactly 0, hi = 2·(z²/2n)/den = 0.277533.
	iv = Wilson(0, 10, WilsonZ)
	if iv.Lo != 0 {
		t.Errorf("lo 0/10 = %v, want 0", iv.Lo)
	}
	near(t, "hi 0/10", iv.Hi, 0.277533, 2e-6)
	iv = Wilson(10, 10, WilsonZ)
	if iv.Hi != 1 {
		t.Errorf("hi 10/10 = %v, want 1", iv.Hi)
	}
	near(t, "lo 10/10", iv.Lo, 1-0.277533, 2e-6)
	if iv := Wilson(0, 0, WilsonZ); iv.Lo != 0 || iv.Hi != 1 {
		t.Errorf("Wilson(0,0) = %v, want [0,1]", iv)
	}
}

func TestHistBinEdges(t *testing.T) {
	cases := []struct {
		v    float64
		want int
	}{
		{0, 0}, {0.0999, 0}, {0.1, 1}, {0.3, 3}, {0.7, 7}, {0.95, 9}, {1.0, 9},
		{-0.5, 0}, {2, 9}, {math.NaN(), 0},
		// float32(0.7) is 0.69999998807907…, which is below 0.7.
		{float64(float32(0.7)), 6},
		{float64(float32(0.3)), 3}, // 0.30000001192…
	}
	for _, c := range cases {
		if got := HistBin(c.v); got != c.want {
			t.Errorf("HistBin(%v) = %d, want %d", c.v, got, c.want)
		}
	}
	// ECE bins: 1/15 boundaries.
	if got := binOf(1.0/15, ECEBins); got != 1 {
		t.Errorf("binOf(1/15) = %d, want 1", got)
	}
	if got := binOf(1, ECEBins); got != 14 {
		t.Errorf("binOf(1) = %d, want 14", got)
	}
}

func TestNormalizedEntropy(t *testing.T) {
	near(t, "uniform", NormalizedEntropy([]float32{0.25, 0.25, 0.25, 0.25}), 1, 1e-12)
	near(t, "one-hot (0·log0=0)", NormalizedEntropy([]float32{0, 1, 0, 0}), 0, 0)
	near(t, "half", NormalizedEntropy([]float32{0.5, 0.5, 0, 0}), 0.5, 1e-12)
	near(t, "K=1", NormalizedEntropy([]float32{1}), 0, 0)
}

func TestKLAndJS(t *testing.T) {
	p := []float32{0.5, 0.5}
	q := []float32{0.25, 0.75}
	// 0.5 ln 2 + 0.5 ln(2/3) = 0.143841; epsilon shifts it by < 1e-6.
	near(t, "KL", KL(p, q), 0.1438410362, 1e-6)
	near(t, "KL self", KL(p, p), 0, 1e-15)
	// M = (0.375, 0.625): ½[0.5 ln(4/3) + 0.5 ln 0.8] + ½[0.25 ln(2/3) + 0.75 ln 1.2] = 0.0338226.
	near(t, "JS", JS(p, q), 0.0338226, 1e-6)
	near(t, "JS symmetric", JS(q, p), JS(p, q), 1e-15)
	// Disjoint one-hots: JS → ln 2; KL is large but finite thanks to ε
	// (≈ ln(1/ε) = 16.118).
	a := []float32{1, 0}
	b := []float32{0, 1}
	near(t, "JS disjoint", JS(a, b), math.Ln2, 1e-5)
	near(t, "KL disjoint", KL(a, b), math.Log(1/KLEpsilon), 1e-3)
	if !math.IsNaN(KL(a, []float32{1})) {
		t.Error("KL of different lengths should be NaN")
	}
}

func TestMcNemarExact(t *testing.T) {
	near(t, "none", McNemarExact(0, 0), 1, 0)
	// n=6, P[X≤1] = (1+6)/64 → p = 14/64.
	near(t, "1 vs 5", McNemarExact(1, 5), 14.0/64, 1e-12)
	near(t, "5 vs 1", McNemarExact(5, 1), 14.0/64, 1e-12)
	// n=10, all one way: 2/1024.
	near(t, "0 vs 10", McNemarExact(0, 10), 2.0/1024, 1e-12)
	near(t, "balanced", McNemarExact(5, 5), 1, 0)
	// Large n must not overflow: 500 vs 600 → p ≈ 0.0027 (normal approx
	// with continuity: z = 99/sqrt(1100) = 2.985 → 0.00284).
	p := McNemarExact(500, 600)
	if p < 0.001 || p > 0.005 {
		t.Errorf("McNemarExact(500,600) = %g, want ≈0.0028", p)
	}
}
