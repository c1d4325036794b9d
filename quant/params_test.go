package quant

import (
	"math"
	"slices"
	"testing"
)

func TestAsymmetricParams(t *testing.T) {
	for _, c := range []struct {
		min, max   float64
		qmin, qmax int
		scale      float64
		zp         int64
	}{
		{0, 2.55, -128, 127, 0.01, -128},
		{-1.28, 1.27, -128, 127, 0.01, 0},
		{-0.5, 2.0, -128, 127, 2.5 / 255, -77},
		{1, 2, -128, 127, 2.0 / 255, -128}, // widened to include 0
		{-2, -1, -128, 127, 2.0 / 255, 127},
		{0, 1, 0, 255, 1.0 / 255, 0},
		{0, 0, -128, 127, 1, -128},
	} {
		s, zp := AsymmetricParams(c.min, c.max, c.qmin, c.qmax)
		if math.Abs(s-c.scale) > 1e-7*c.scale || zp != c.zp {
			t.Errorf("[%g,%g] → scale %g zp %d, want %g %d", c.min, c.max, s, zp, c.scale, c.zp)
		}
	}
}

func TestQuantizeWeightsPerChannel(t *testing.T) {
	w := []float32{1, -0.5, 0.25, 0.1}
	q, s := QuantizeWeights(w, []int{2, 2}, 0, true)
	// Channel 0: scale 1/127, -0.5·127 = -63.5 rounds away from zero.
	// Channel 1: scale 0.25/127, 0.1/0.25·127 = 50.8 → 51.
	if !slices.Equal(q, []int8{127, -64, 127, 51}) {
		t.Errorf("q = %v", q)
	}
	if s[0] != float32(1.0/127) || s[1] != float32(0.25/127) {
		t.Errorf("scales = %v", s)
	}
	q, s = QuantizeWeights(w, []int{2, 2}, 0, false)
	if len(s) != 1 || !slices.Equal(q, []int8{127, -64, 32, 13}) {
		t.Errorf("per-tensor q = %v scales %v", q, s)
	}
	// Depthwise layout [1,1,2,2], axis 3: channel = i mod 2.
	q, s = QuantizeWeights([]float32{1, 0.5, -0.5, 0.25}, []int{1, 1, 2, 2}, 3, true)
	if !slices.Equal(q, []int8{127, 127, -64, 64}) || s[1] != float32(0.5/127) {
		t.Errorf("depthwise q = %v scales %v", q, s)
	}
	// An all-zero channel gets scale 1 instead of dividing by zero.
	_, s = QuantizeWeights([]float32{0, 0, 1, 1}, []int{2, 2}, 0, true)
	if s[0] != 1 {
		t.Errorf("zero channel scale = %g", s[0])
	}
}

func TestBiasQuantization(t *testing.T) {
	bs := BiasScales(0.5, []float32{0.01, 0.02}, 2)
	if bs[0] != float32(0.5)*float32(0.01) || bs[1] != float32(0.5)*float32(0.02) {
		t.Fatalf("bias scales = %v", bs)
	}
	q := QuantizeBias([]float32{1.0, -0.0149}, bs, math.MinInt32, math.MaxInt32)
	if !slices.Equal(q, []int64{200, -1}) {
		t.Errorf("bias q = %v, want [200 -1]", q)
	}
	q = QuantizeBias([]float32{1e12}, []float32{1e-3}, math.MinInt32, math.MaxInt32)
	if q[0] != math.MaxInt32 {
		t.Errorf("bias not saturated: %d", q[0])
	}
}
