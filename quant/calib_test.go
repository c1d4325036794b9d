package quant

import (
	"math"
	"math/rand"
	"testing"
)

// laplaceWithOutliers returns n Laplace(0, 1) values, two of them replaced
// by outliers at ±50 (at +50 only when oneSided). Two in a million is rare
// enough that clipping them costs less squared error than the coarser
// grid covering them would.
func laplaceWithOutliers(n int, seed int64, oneSided bool) *Histogram {
	rng := rand.New(rand.NewSource(seed))
	v := make([]float32, n)
	for i := range v {
		x := rng.ExpFloat64()
		if !oneSided && rng.Intn(2) == 0 {
			x = -x
		}
		v[i] = float32(x)
	}
	for i := 0; i < 2; i++ {
		v[i] = 50
		if !oneSided && i%2 == 1 {
			v[i] = -50
		}
	}
	h := NewHistogram(0)
	h.Add(v)
	return h
}

func TestMethodsClipOutliers(t *testing.T) {
	for _, oneSided := range []bool{false, true} {
		h := laplaceWithOutliers(1000000, 1, oneSided)
		mm := ChooseRange(h, MinMax, 0, -128, 127, false)
		if mm.Max != 50 || (!oneSided && mm.Min != -50) || (oneSided && mm.Min != 0) {
			t.Fatalf("minmax = %+v", mm)
		}
		errMM := quantError(h, mm, -128, 127, false)
		for _, m := range []Method{Percentile, MSE, KL} {
			r := ChooseRange(h, m, 99.99, -128, 127, false)
			// MSE weighs the outliers' squared error, so it clips less than
			// the distribution-shape methods.
			limit := mm.Max / 2
			if m == MSE {
				limit = mm.Max * 0.75
			}
			if !(r.Max < limit) || r.Max <= 2 {
				t.Errorf("oneSided=%v %s: max %g should be inside (2, %g)", oneSided, m, r.Max, limit)
			}
			if r.Min > 0 || r.Max < 0 {
				t.Errorf("%s: range %+v excludes 0", m, r)
			}
			if e := quantError(h, r, -128, 127, false); m == MSE && e > errMM {
				t.Errorf("%s: error %g worse than min/max %g", m, e, errMM)
			}
			t.Logf("oneSided=%v %-10s range [%.3f, %.3f] mse %.3g (minmax %.3g)", oneSided, m, r.Min, r.Max, quantError(h, r, -128, 127, false), errMM)
		}
	}
}

func TestPercentileOfLaplace(t *testing.T) {
	// For Laplace(0,1), P(|x| > t) = e^{-t}, so the 99.99th percentile of
	// the signed value is ln(1/(2·1e-4)) = 8.517.
	h := laplaceWithOutliers(1000000, 2, false)
	r := ChooseRange(h, Percentile, 99.99, -128, 127, false)
	want := math.Log(1 / 2e-4)
	if math.Abs(r.Max-want) > 0.5 || math.Abs(-r.Min-want) > 0.5 {
		t.Errorf("percentile range %+v, want ±%.3f", r, want)
	}
}

func TestMSEWithoutOutliersKeepsRange(t *testing.T) {
	// Uniform data has no tail worth clipping: MSE keeps (nearly) all of it.
	h := NewHistogram(0)
	v := make([]float32, 100000)
	rng := rand.New(rand.NewSource(4))
	for i := range v {
		v[i] = float32(rng.Float64()*2 - 1)
	}
	h.Add(v)
	r := ChooseRange(h, MSE, 0, -128, 127, false)
	if r.Max < 0.95 || r.Min > -0.95 {
		t.Errorf("mse clipped uniform data to %+v", r)
	}
}

func TestSymmetricRange(t *testing.T) {
	h := laplaceWithOutliers(100000, 5, false)
	for _, m := range []Method{MinMax, Percentile, MSE, KL} {
		r := ChooseRange(h, m, 99.99, -32768, 32767, true)
		if r.Min != -r.Max {
			t.Errorf("%s: symmetric range %+v", m, r)
		}
	}
	// With 65536 levels rounding noise is tiny, so MSE clips almost nothing.
	if r := ChooseRange(h, MSE, 0, -32768, 32767, true); r.Max < 40 {
		t.Errorf("16-bit MSE clipped to %g", r.Max)
	}
}

func TestParseMethod(t *testing.T) {
	for i, n := range methodNames {
		m, err := ParseMethod(n)
		if err != nil || int(m) != i || m.String() != n {
			t.Errorf("ParseMethod(%q) = %v, %v", n, m, err)
		}
	}
	if _, err := ParseMethod("entropy2"); err == nil {
		t.Error("unknown method accepted")
	}
}
