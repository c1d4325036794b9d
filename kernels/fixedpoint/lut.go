package fixedpoint

import "math"

// LUT16Size is the length of an int16→int16 interpolating lookup table: 512
// segments indexed by the top 9 bits of the input plus one end point for
// the last segment's slope.
const LUT16Size = 513

// LUT16 is an int16→int16 interpolating lookup table (see GenLUT16).
type LUT16 [LUT16Size]int16

// GenLUT16 fills a table approximating f on [inMin, inMax] (mapped onto the
// int16 input range) with outputs in [outMin, outMax] (mapped onto the
// int16 output range), as TFLite Micro's gen_lut<float, int16_t, int16_t>.
// Each entry is the rounded sample at the segment start, nudged by half the
// error that linear interpolation would make at the segment midpoint.
//
// The arithmetic is float32 step by step, as in C++ with float operands:
// the explicit conversions stop Go from fusing multiply-adds, which would
// change the last bits and with them some table entries.
func GenLUT16(f func(float32) float32, inMin, inMax, outMin, outMax float32) *LUT16 {
	const nbSteps = 512
	var lut LUT16
	step := (inMax - inMin) / nbSteps
	halfStep := step / 2
	scaleInv := float32(65536) / (outMax - outMin)
	round := func(x float32) float32 { return float32(math.Round(float64(x))) }
	clamp := func(x float32) int16 {
		if x < math.MinInt16 {
			x = math.MinInt16
		}
		if x > math.MaxInt16 {
			x = math.MaxInt16
		}
		return int16(x)
	}
	for i := 0; i < nbSteps; i++ {
		x := inMin + float32(float32(i)*step)
		val := f(x)
		valMid := f(x + halfStep)
		valNext := f(inMin + float32(float32(i+1)*step))
		sample := round(float32(val * scaleInv))
		midInterp := round((float32(valNext*scaleInv) + sample) / 2)
		mid := round(float32(valMid * scaleInv))
		bias := round((midInterp - mid) / 2)
		lut[i] = clamp(sample - bias)
	}
	lut[nbSteps] = clamp(round(float32(f(inMax) * scaleInv)))
	return &lut
}

// GenLUT16Double is GenLUT16 in double precision, the TFLite runtime's
// gen_lut<double, int16_t, int16_t> (its int16 SOFTMAX tables): the
// samples, midpoints and corrections are computed and rounded in float64,
// which changes a few entries against the float32 tables of TFLite Micro.
func GenLUT16Double(f func(float64) float64, inMin, inMax, outMin, outMax float64) *LUT16 {
	const nbSteps = 512
	var lut LUT16
	step := (inMax - inMin) / nbSteps
	halfStep := step / 2
	scaleInv := 65536 / (outMax - outMin)
	clamp := func(x float64) int16 { return int16(min(max(x, math.MinInt16), math.MaxInt16)) }
	for i := 0; i < nbSteps; i++ {
		x := inMin + float64(i)*step
		val := f(x)
		valMid := f(x + halfStep)
		valNext := f(inMin + float64(i+1)*step)
		sample := math.Round(val * scaleInv)
		midInterp := math.Round((valNext*scaleInv + sample) / 2)
		mid := math.Round(valMid * scaleInv)
		bias := math.Round((midInterp - mid) / 2)
		lut[i] = clamp(sample - bias)
	}
	lut[nbSteps] = clamp(math.Round(f(inMax) * scaleInv))
	return &lut
}

// SoftmaxInt16LUTsDouble returns SoftmaxInt16LUTs' tables as the TFLite
// runtime builds them (GenLUT16Double).
func SoftmaxInt16LUTsDouble() (exp, oneOverOnePlusX *LUT16) {
	return GenLUT16Double(math.Exp, -10, 0, -1, 1), GenLUT16Double(func(x float64) float64 { return 1 / (1 + x) }, 0, 1, -1, 1)
}

// Lookup returns the table value for v, interpolating linearly between the
// two entries around it with the low 7 bits of v, rounded (TFLite's
// LUTLookup for int16).
func (lut *LUT16) Lookup(v int16) int16 {
	index := 256 + int(v>>7)
	offset := int32(v & 0x7f)
	base := int32(lut[index])
	slope := int32(lut[index+1]) - base
	// C++ stores the difference in an int16_t, narrowing it; do the same.
	slope = int32(int16(slope))
	return int16(base + (slope*offset+64)>>7)
}

// ExpLUTFunc is exp over float32 (C's expf) for GenLUT16.
func ExpLUTFunc(x float32) float32 { return float32(math.Exp(float64(x))) }

// OneOverOnePlusXLUTFunc is 1/(1+x) over float32 for GenLUT16.
func OneOverOnePlusXLUTFunc(x float32) float32 { return 1 / (1 + x) }

// SoftmaxInt16LUTs returns the two tables TFLite Micro's int16 softmax
// uses: exp on [−10, 0] and 1/(1+x) on [0, 1], both with outputs on [−1, 1].
func SoftmaxInt16LUTs() (exp, oneOverOnePlusX *LUT16) {
	return GenLUT16(ExpLUTFunc, -10, 0, -1, 1), GenLUT16(OneOverOnePlusXLUTFunc, 0, 1, -1, 1)
}
