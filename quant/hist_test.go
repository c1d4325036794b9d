package quant

import (
	"math"
	"math/rand"
	"slices"
	"testing"
)

func TestHistogramGrowsAndKeepsExtremes(t *testing.T) {
	h := NewHistogram(8)
	h.Add([]float32{-1, 0.5, 3})
	if h.R != 4 {
		t.Fatalf("R = %g, want 4 (smallest power of two above 3)", h.R)
	}
	if h.Min != -1 || h.Max != 3 || h.Count != 3 {
		t.Fatalf("min/max/count = %g/%g/%d", h.Min, h.Max, h.Count)
	}
	// 16 bins over [-4,4): width 0.5; -1 → bin 6, 0.5 → bin 9, 3 → bin 14.
	want := make([]int64, 16)
	want[6], want[9], want[14] = 1, 1, 1
	if !slices.Equal(h.Bins, want) {
		t.Fatalf("bins = %v, want %v", h.Bins, want)
	}
}

func TestHistogramOrderIndependent(t *testing.T) {
	rng := rand.New(rand.NewSource(3))
	vals := make([]float32, 5000)
	for i := range vals {
		vals[i] = float32(rng.NormFloat64() * math.Pow(2, float64(i%7)))
	}
	a := NewHistogram(64)
	for i := 0; i < len(vals); i += 100 {
		a.Add(vals[i : i+100])
	}
	b := NewHistogram(64)
	rev := slices.Clone(vals)
	slices.Reverse(rev)
	b.Add(rev)
	if !slices.Equal(a.Bins, b.Bins) || a.R != b.R || a.Min != b.Min || a.Max != b.Max {
		t.Fatal("histogram depends on the order values arrive in")
	}
	c, d := NewHistogram(64), NewHistogram(64)
	c.Add(vals[:10])
	d.Add(vals[10:])
	c.Merge(d)
	if !slices.Equal(a.Bins, c.Bins) || c.Count != a.Count {
		t.Fatal("merged histogram differs from a single pass")
	}
}

func TestHistogramNaNAndEmpty(t *testing.T) {
	h := NewHistogram(4)
	if h.Percentile(50) != 0 || h.FractionOutside(0, 1) != 0 {
		t.Fatal("empty histogram should report zeros")
	}
	h.Add([]float32{float32(math.NaN()), float32(math.Inf(1)), 2})
	if h.Count != 1 || h.NaNs != 2 || h.Max != 2 {
		t.Fatalf("count=%d nans=%d max=%g", h.Count, h.NaNs, h.Max)
	}
}

func TestHistogramPercentileAndOutside(t *testing.T) {
	h := NewHistogram(1024)
	v := make([]float32, 1000)
	for i := range v {
		v[i] = float32(i) / 1000 // uniform in [0, 1)
	}
	h.Add(v)
	if p := h.Percentile(90); math.Abs(p-0.9) > 0.005 {
		t.Errorf("90th percentile = %g, want 0.9", p)
	}
	if f := h.FractionOutside(0.1, 0.9); math.Abs(f-0.2) > 0.005 {
		t.Errorf("fraction outside [0.1,0.9] = %g, want 0.2", f)
	}
	if f := h.FractionOutside(-1, 2); f != 0 {
		t.Errorf("fraction outside a covering range = %g", f)
	}
	if m := h.Mean(); math.Abs(m-0.4995) > 0.002 {
		t.Errorf("mean = %g", m)
	}
}
