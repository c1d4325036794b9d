package explain

import (
	"errors"
	"math"
	"math/rand"
	"testing"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

func TestErrStatsHand(t *testing.T) {
	var s errStats
	s.add([]float32{1, 2, -2}, []float32{1, 1.5, -3})
	// errors 0, 0.5, 1: Σe² = 1.25, Σf² = 9, Σd² = 12.25, Σfd = 10.
	if s.SumE2 != 1.25 || s.SumF2 != 9 || s.SumD2 != 12.25 || s.SumFD != 10 || s.MaxAbs != 1 || s.SumAbs != 1.5 {
		t.Fatalf("%+v", s)
	}
	if d := s.sqnr() - 10*math.Log10(9/1.25); math.Abs(d) > 1e-12 {
		t.Errorf("sqnr off by %g", d)
	}
	if c := s.cosine(); math.Abs(c-10/math.Sqrt(9*12.25)) > 1e-12 {
		t.Errorf("cosine %g", c)
	}
	if s.Min != -2 || s.Max != 2 {
		t.Errorf("min/max %g %g", s.Min, s.Max)
	}
	var z errStats
	z.add([]float32{1, 2}, []float32{1, 2})
	if z.sqnr() != maxSQNR || z.cosine() != 1 {
		t.Errorf("exact copy: sqnr %g cosine %g", z.sqnr(), z.cosine())
	}
}

// TestAddInt8MatchesSeparatePasses: the fused int8 pass gives the same
// statistics as dequantize + add + addInt + countOutside.
func TestAddInt8MatchesSeparatePasses(t *testing.T) {
	for _, c := range []struct {
		n  int
		zp int64
	}{{1000, -128}, {999, -128}, {1, -128}, {2, 0}, {777, 0}, {500, 127}} {
		rng := rand.New(rand.NewSource(int64(c.n)))
		tq := &graph.Tensor{Name: "t", Shape: []int{c.n}, DType: graph.Int8, Quant: &graph.Quantization{Scale: []float32{0.05}, ZeroPoint: []int64{c.zp}}}
		f := make([]float32, c.n)
		q := make([]int8, c.n)
		for i := range f {
			// Values beyond both ends of the range, so clipping, both limits
			// and the outside count are exercised.
			f[i] = float32(rng.Float64()*30 - 15)
			v := math.Round(float64(f[i])/0.05) + float64(c.zp)
			q[i] = int8(math.Max(-128, math.Min(127, v)))
		}
		lo, hi := representable(tq)
		var a, b errStats
		ia, ib := newIntStats(), newIntStats()
		lut := dequantTable(tq)
		outA := a.addInt8(f, q, &lut, float32(lo-0.025), float32(hi+0.025), &ia, c.zp)
		buf := dequantize(&kernels.Buffer{DType: graph.Int8, I8: q}, tq, nil)
		b.add(f, buf)
		ib.addInt(&kernels.Buffer{DType: graph.Int8, I8: q}, c.zp)
		outB := countOutside(f, lo, hi, 0.025)
		if outA != outB || (c.n > 100 && outA == 0) {
			t.Errorf("n=%d zp=%d: outside %d vs %d", c.n, c.zp, outA, outB)
		}
		if math.Abs(a.SumE2-b.SumE2) > 1e-9*b.SumE2 || math.Abs(a.SumD2-b.SumD2) > 1e-9*b.SumD2 ||
			math.Abs(a.SumFD-b.SumFD) > 1e-9*math.Abs(b.SumFD) || math.Abs(a.SumAbs-b.SumAbs) > 1e-9*b.SumAbs ||
			a.MaxAbs != b.MaxAbs || a.Min != b.Min || a.Max != b.Max || a.N != b.N {
			t.Errorf("n=%d zp=%d:\nfused %+v\nseparate %+v", c.n, c.zp, a, b)
		}
		if ia.Clipped != ib.Clipped || ia.Min != ib.Min || ia.Max != ib.Max || ia.N != ib.N || (c.n > 100 && ia.Clipped == 0) {
			t.Errorf("n=%d zp=%d: int stats %+v vs %+v", c.n, c.zp, ia, ib)
		}
	}
}

// TestRangeStats: hand-counted values, every tail length of the unrolled
// loop, and the half-step tolerance at both limits.
func TestRangeStats(t *testing.T) {
	v := []float32{-1.2, 0, 0.5, 1.04, 1.06, -1.06, 2, -0.3, 0.7}
	// Range [-1, 1] with half step 0.05: outside are -1.2, 1.06, -1.06, 2.
	wantOut := []int64{1, 1, 1, 1, 2, 3, 4, 4, 4}
	wantSum := 0.0
	for n := 1; n <= len(v); n++ {
		wantSum += float64(v[n-1])
		out, sum, mn, mx := rangeStats(v[:n], -1, 1, 0.05)
		if out != wantOut[n-1] || math.Abs(sum-wantSum) > 1e-6 {
			t.Errorf("n=%d: outside %d sum %g, want %d %g", n, out, sum, wantOut[n-1], wantSum)
		}
		wmn, wmx := v[0], v[0]
		for _, x := range v[:n] {
			wmn, wmx = min(wmn, x), max(wmx, x)
		}
		if mn != wmn || mx != wmx {
			t.Errorf("n=%d: min %g max %g, want %g %g", n, mn, mx, wmn, wmx)
		}
	}
	if out, sum, _, _ := rangeStats(nil, -1, 1, 0); out != 0 || sum != 0 {
		t.Error("empty input")
	}
}

// TestFakeQuantRounding: half away from zero on both signs, clamping at
// the int8 limits, and the zero point.
func TestFakeQuantRounding(t *testing.T) {
	tq := &graph.Tensor{DType: graph.Int8, Quant: &graph.Quantization{Scale: []float32{0.5}, ZeroPoint: []int64{3}}}
	f := []float32{0.25, -0.25, 0.75, -0.75, 0.1, -0.1, 0, 1000, -1000}
	// x/0.5 = 0.5, -0.5, 1.5, -1.5, 0.2, -0.2, 0 → 1, -1, 2, -2, 0, 0, 0;
	// +3, clamp to [-128, 127], -3, ×0.5.
	want := []float32{0.5, -0.5, 1, -1, 0, 0, 0, 62, -65.5}
	var s errStats
	got := s.addFakeQuant(f, tq, nil)
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("fake quant of %g = %g, want %g", f[i], got[i], want[i])
		}
	}
}

// TestSmallestPrefix: the calls made and the answer for a threshold at
// every position, none, and errors.
func TestSmallestPrefix(t *testing.T) {
	for kmax := 0; kmax <= 9; kmax++ {
		for thr := 1; thr <= kmax+1; thr++ {
			var calls []int
			k, err := smallestPrefix(kmax, func(k int) (bool, error) {
				calls = append(calls, k)
				return k >= thr, nil
			})
			want := thr
			if thr > kmax {
				want = 0
			}
			if err != nil || k != want {
				t.Errorf("kmax %d threshold %d: got %d (%v), want %d", kmax, thr, k, err, want)
			}
			seen := map[int]bool{}
			for _, c := range calls {
				if seen[c] || c < 1 || c > kmax {
					t.Errorf("kmax %d threshold %d: calls %v", kmax, thr, calls)
				}
				seen[c] = true
			}
			// 1, kmax, then bisection: at most 2 + ceil(log2(kmax)) calls.
			if kmax >= 1 && len(calls) > 2+int(math.Ceil(math.Log2(float64(kmax)))) {
				t.Errorf("kmax %d threshold %d: %d calls %v", kmax, thr, len(calls), calls)
			}
			if thr > kmax && kmax > 1 && len(calls) != 2 {
				t.Errorf("kmax %d, never met: calls %v, want just 1 and kmax", kmax, calls)
			}
		}
	}
	boom := errors.New("boom")
	if _, err := smallestPrefix(8, func(k int) (bool, error) {
		if k == 4 {
			return false, boom
		}
		return k >= 6, nil
	}); !errors.Is(err, boom) {
		t.Errorf("error %v", err)
	}
}
