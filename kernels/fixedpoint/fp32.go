package fixedpoint

import "math"

// This file holds XNNPACK's 8-bit requantization, which the TFLite runtime
// uses for the ops its default delegate takes (RuntimeRounding). XNNPACK
// (src/operators/convolution-nhwc.c, fully-connected-nc.c,
// global-average-pooling-nwc.c and the fp32 "magic" micro-kernels)
// converts the int32 accumulator to float32, multiplies it by a float32
// scale, clamps, rounds half to even and adds the output zero point. The
// result differs from the Q31 multipliers' only where the product is
// within float32 precision of a .5 tie (about 1 value in 10^5 on real
// models), but there it differs by one step.

// FP32Scale is XNNPACK's requantization scale of a conv or fully connected
// layer, input_scale * kernel_scale / output_scale evaluated left to right
// in float32 (C float arithmetic), not in double as TFLite's Q31 multiplier
// is.
func FP32Scale(sIn, sW, sOut float32) float32 {
	p := float32(sIn * sW) // the conversion forbids fusing (Go spec)
	return p / sOut
}

// FP32Requantize is XNNPACK's fp32 requantization of one accumulator (bias
// included, wrapped in int32 as XNNPACK's accumulators are):
// clamp(roundHalfEven(float32(acc)·scale), lo−zp, hi−zp) + zp. XNNPACK's
// micro-kernels compute the rounding by adding 1.5·2^23 (exact round half
// to even for |x| < 2^22) and clamp before or after it; every variant gives
// this value, since lo−zp and hi−zp are integers.
func FP32Requantize(acc int32, scale float32, zp, lo, hi int32) int32 {
	x := float32(float32(acc) * scale)
	x = max(x, float32(lo-zp))
	x = min(x, float32(hi-zp))
	return int32(math.RoundToEven(float64(x))) + zp
}

// FP32Quantize is XNNPACK's float32 to 8-bit conversion (its QUANTIZE):
// roundHalfEven(x · invScale) + zp, clamped to [lo, hi], with invScale the
// float32 1/scale XNNPACK precomputes, where TFLite's builtin kernel
// divides by the scale and rounds half away from zero. NaN gives hi (its
// bit pattern beats the magic-bias bound in XNNPACK's integer clamp).
func FP32Quantize(x, invScale float32, zp, lo, hi int32) int32 {
	v := float32(x * invScale)
	if v != v {
		return hi
	}
	v = max(v, float32(lo-zp))
	v = min(v, float32(hi-zp))
	return int32(math.RoundToEven(float64(v))) + zp
}
