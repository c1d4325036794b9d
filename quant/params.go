package quant

import (
	"math"
)

// AsymmetricParams returns the scale and zero point that map [min, max]
// (widened to contain 0) onto the integers [qmin, qmax], as TFLite's
// converter does: scale = (max−min)/(qmax−qmin), and the zero point is taken
// from whichever end gives the smaller rounding error, then clamped and
// rounded ("nudged") so that real 0 is exactly representable. An empty range
// gives scale 1 and zero point qmin.
func AsymmetricParams(min, max float64, qmin, qmax int) (scale float64, zeroPoint int64) {
	min = math.Min(min, 0)
	max = math.Max(max, 0)
	if max-min < 1e-30 || math.IsNaN(max-min) {
		return 1, int64(qmin)
	}
	qminF, qmaxF := float64(qmin), float64(qmax)
	// The scale is what the file stores (float32), so derive the zero point
	// from that rounded value.
	scale = float64(float32((max - min) / (qmaxF - qminF)))
	zpFromMin := qminF - min/scale
	zpFromMax := qmaxF - max/scale
	errMin := math.Abs(qminF) + math.Abs(min/scale)
	errMax := math.Abs(qmaxF) + math.Abs(max/scale)
	zp := zpFromMax
	if errMin < errMax {
		zp = zpFromMin
	}
	switch {
	case zp < qminF:
		zeroPoint = int64(qmin)
	case zp > qmaxF:
		zeroPoint = int64(qmax)
	default:
		zeroPoint = int64(math.Round(zp))
	}
	return scale, zeroPoint
}

// SymmetricParams returns the zero-point-0 scale that maps [−maxAbs, maxAbs]
// onto [−qmax, qmax] (1 when maxAbs is 0), as float32 would store it.
func SymmetricParams(maxAbs float64, qmax int) float64 {
	if !(maxAbs > 0) {
		return 1
	}
	return float64(float32(maxAbs / float64(qmax)))
}

// QuantizeWeights quantizes w symmetrically to int8 in [−127, 127]. When
// perChannel, each index of dimension axis of shape gets its own scale
// max|w|/127; otherwise one scale covers the tensor. It returns the values
// and the scales.
func QuantizeWeights(w []float32, shape []int, axis int, perChannel bool) ([]int8, []float32) {
	channels, inner := 1, len(w)
	if perChannel {
		channels = shape[axis]
		inner = 1
		for _, d := range shape[axis+1:] {
			inner *= d
		}
	}
	maxAbs := make([]float64, channels)
	for i, v := range w {
		c := (i / inner) % channels
		if a := math.Abs(float64(v)); a > maxAbs[c] {
			maxAbs[c] = a
		}
	}
	scales := make([]float32, channels)
	for c := range scales {
		scales[c] = float32(SymmetricParams(maxAbs[c], 127))
	}
	q := make([]int8, len(w))
	for i, v := range w {
		c := (i / inner) % channels
		q[i] = int8(clampRound(float64(v)/float64(scales[c]), -127, 127))
	}
	return q, scales
}

// BiasScales returns s_in·s_w[c] for every output channel, computed in
// float32 as TFLite does; one weight scale is broadcast to n channels.
func BiasScales(inputScale float32, weightScales []float32, n int) []float32 {
	s := make([]float32, n)
	for c := range s {
		ws := weightScales[0]
		if len(weightScales) > 1 {
			ws = weightScales[c]
		}
		s[c] = inputScale * ws
	}
	return s
}

// QuantizeBias rounds b[c]/scale[c] to the nearest integer, saturated to
// [lo, hi] (the int32 or int64 range).
func QuantizeBias(b []float32, scales []float32, lo, hi float64) []int64 {
	q := make([]int64, len(b))
	for c, v := range b {
		s := scales[c]
		if s == 0 {
			continue
		}
		q[c] = int64(clampRound(float64(v)/float64(s), lo, hi))
	}
	return q
}

// clampRound rounds half away from zero (TFLite's std::round) and clamps.
func clampRound(x, lo, hi float64) float64 {
	r := math.Round(x)
	if math.IsNaN(r) {
		return 0
	}
	return math.Max(lo, math.Min(hi, r))
}

// quantizeValue maps a real value to the integer grid of (scale, zp) in [qmin, qmax].
func quantizeValue(x float64, scale float64, zp int64, qmin, qmax int) int64 {
	return int64(clampRound(x/scale+float64(zp), float64(qmin), float64(qmax)))
}
