package explain

import (
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
	rng := rand.New(rand.NewSource(1))
	tq := &graph.Tensor{Name: "t", Shape: []int{1000}, DType: graph.Int8, Quant: &graph.Quantization{Scale: []float32{0.05}, ZeroPoint: []int64{-128}}}
	f := make([]float32, 1000)
	q := make([]int8, 1000)
	for i := range f {
		f[i] = float32(rng.Float64()*14 - 1)
		v := math.Round(float64(f[i])/0.05) - 128
		q[i] = int8(math.Max(-128, math.Min(127, v)))
	}
	lo, hi := representable(tq)
	var a, b errStats
	ia, ib := newIntStats(), newIntStats()
	lut := dequantTable(tq)
	outA := a.addInt8(f, q, &lut, float32(lo-0.025), float32(hi+0.025), &ia, -128)
	buf := dequantize(&kernels.Buffer{DType: graph.Int8, I8: q}, tq, nil)
	b.add(f, buf)
	ib.addInt(&kernels.Buffer{DType: graph.Int8, I8: q}, -128)
	outB := countOutside(f, lo, hi, 0.025)
	if outA != outB || outA == 0 {
		t.Errorf("outside %d vs %d", outA, outB)
	}
	if math.Abs(a.SumE2-b.SumE2) > 1e-9 || a.MaxAbs != b.MaxAbs || a.Min != b.Min || a.Max != b.Max {
		t.Errorf("fused %+v\nseparate %+v", a, b)
	}
	if ia.Clipped != ib.Clipped || ia.Min != ib.Min || ia.Max != ib.Max || ia.N != ib.N || ia.Clipped == 0 {
		t.Errorf("int stats %+v vs %+v", ia, ib)
	}
}
