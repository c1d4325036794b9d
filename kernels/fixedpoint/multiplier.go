// Package fixedpoint is the integer arithmetic that TFLite's quantized
// kernels are built from: Q31 multipliers with shifts, gemmlowp's
// saturating rounding high multiply and rounding right shift, and the
// fixed-point exp / reciprocal / logistic and int16 lookup tables used by
// SOFTMAX and LOGISTIC.
//
// Every function reproduces TFLite's reference results bit for bit (with
// TFLite's default "double rounding" build, which TFLite Micro also uses),
// because a one-off rounding difference here changes quantized outputs and
// every statistic computed from them. Where C++ relies on two's-complement
// wrap-around (signed overflow that is formally undefined but wraps on every
// supported target), Go's defined wrapping gives the same values.
//
// Fixed-point numbers are passed as raw int32 values; a function that needs
// to know the format takes the number of integer bits explicitly (gemmlowp's
// FixedPoint<int32_t, IntegerBits> template parameter). A raw value r with
// b integer bits represents r / 2^(31-b).
package fixedpoint

import (
	"math"
	"math/bits"
)

// QuantizeMultiplier splits a real multiplier into a Q31 fixed-point
// multiplier in [2^30, 2^31) and a power-of-two exponent, so that
// real ≈ multiplier · 2^(shift−31). It follows TFLite's QuantizeMultiplier:
// frexp, round half away from zero, a mantissa that rounds up to 2^31 is
// halved with the shift incremented, and shifts below −31 flush to (0, 0).
// Zero gives (0, 0). Negative multipliers give a negative Q31 value as in
// TFLite. Non-finite input, which TFLite rejects with a CHECK failure, also
// gives (0, 0); callers validate scales before reaching here.
func QuantizeMultiplier(real float64) (multiplier int32, shift int) {
	if real == 0 || math.IsNaN(real) || math.IsInf(real, 0) {
		return 0, 0
	}
	q, exp := math.Frexp(real)
	qFixed := int64(math.Round(q * (1 << 31)))
	if qFixed == 1<<31 {
		// frexp's mantissa is < 1 but can round up to exactly 1.0. (TFLite
		// leaves −2^31 alone: it fits in int32.)
		qFixed /= 2
		exp++
	}
	if exp < -31 {
		return 0, 0
	}
	return int32(qFixed), exp
}

// QuantizeMultiplierSmallerThanOneExp is QuantizeMultiplier for a real
// multiplier in (0, 1); the returned shift is ≤ 0 (a right shift). ok is
// false when real is outside that range (TFLite aborts there).
func QuantizeMultiplierSmallerThanOneExp(real float64) (multiplier int32, shift int, ok bool) {
	if !(real > 0 && real < 1) {
		return 0, 0, false
	}
	m, s := QuantizeMultiplier(real)
	return m, s, s <= 0
}

// QuantizeMultiplierGreaterThanOne is QuantizeMultiplier for a real
// multiplier > 1; the returned shift is ≥ 0 (a left shift). ok is false
// when real ≤ 1 (TFLite aborts there).
func QuantizeMultiplierGreaterThanOne(real float64) (multiplier int32, shift int, ok bool) {
	if !(real > 1) || math.IsInf(real, 0) {
		return 0, 0, false
	}
	m, s := QuantizeMultiplier(real)
	return m, s, s >= 0
}

// SaturatingRoundingDoublingHighMul returns the high 32 bits of 2·a·b,
// rounded to nearest with ties away from zero; the single overflowing case
// a = b = −2^31 saturates to 2^31−1. It is the product of two Q0.31 numbers
// (ARM's VQRDMULH).
func SaturatingRoundingDoublingHighMul(a, b int32) int32 {
	if a == b && a == math.MinInt32 {
		return math.MaxInt32
	}
	ab := int64(a) * int64(b)
	nudge := int64(1 << 30)
	if ab < 0 {
		nudge = 1 - (1 << 30)
	}
	// Go's integer division truncates toward zero like C++'s, which is
	// what makes the nudge implement round-half-away-from-zero.
	return int32((ab + nudge) / (1 << 31))
}

// RoundingDivideByPOT returns x / 2^exponent rounded to nearest, ties away
// from zero, for exponent in [0, 31] (TFLite's range). Exponents ≤ 0 return
// x; exponents ≥ 32 return 0, the rounded quotient of every int32 except
// −2^31 (which gemmlowp never sees there).
func RoundingDivideByPOT(x int32, exponent int) int32 {
	if exponent <= 0 {
		return x
	}
	if exponent >= 32 {
		return 0
	}
	mask := int32(uint32(1)<<uint(exponent) - 1)
	remainder := x & mask
	threshold := mask >> 1
	if x < 0 {
		threshold++
	}
	r := x >> uint(exponent)
	if remainder > threshold {
		r++
	}
	return r
}

// SaturatingRoundingMultiplyByPOT returns x·2^exponent: a saturating left
// shift for exponent > 0, RoundingDivideByPOT for exponent < 0.
func SaturatingRoundingMultiplyByPOT(x int32, exponent int) int32 {
	switch {
	case exponent == 0:
		return x
	case exponent < 0:
		return RoundingDivideByPOT(x, -exponent)
	}
	if exponent >= 31 {
		// Every non-zero value saturates; keep the shift below the word.
		switch {
		case x > 0:
			return math.MaxInt32
		case x < 0:
			return math.MinInt32
		}
		return 0
	}
	threshold := int32(1)<<uint(31-exponent) - 1
	switch {
	case x > threshold:
		return math.MaxInt32
	case x < -threshold:
		return math.MinInt32
	}
	return x << uint(exponent)
}

// MultiplyByQuantizedMultiplier computes round(x · multiplier · 2^(shift−31))
// as TFLite's int32 version does: a left shift for shift > 0 (wrapping like
// C), SaturatingRoundingDoublingHighMul, then RoundingDivideByPOT for
// shift < 0.
func MultiplyByQuantizedMultiplier(x, multiplier int32, shift int) int32 {
	left, right := 0, 0
	if shift > 0 {
		left = shift
	} else {
		right = -shift
	}
	return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x*(int32(1)<<uint(left)), multiplier), right)
}

// MultiplyByQuantizedMultiplier64 is TFLite's int64-input variant used by
// 16x8 kernels whose accumulators (with int64 bias) exceed int32. It reduces
// the multiplier to 16 bits (rounded, capped at 0x7FFF) and rounds once:
// ((x·m16 + 2^(14−shift)) >> (15−shift)), truncated to int32. TFLite
// assumes |x| < 2^47 and shift in [−31, 7]; outside that range the result
// wraps as the C code would.
func MultiplyByQuantizedMultiplier64(x int64, multiplier int32, shift int) int32 {
	reduced := int64(0x7FFF)
	if multiplier < 0x7FFF0000 {
		reduced = int64((multiplier + (1 << 15)) >> 16)
	}
	t := 15 - shift
	// Keep the shift amounts defined for shifts TFLite never produces.
	if t < 1 {
		t = 1
	} else if t > 63 {
		t = 63
	}
	total := uint(t)
	x = x*reduced + int64(1)<<(total-1)
	return int32(x >> total)
}

// MultiplyByQuantizedMultiplierSmallerThanOneExp is the double-rounding
// product for a right shift: RoundingDivideByPOT(SRDHM(x, m), −leftShift),
// with leftShift ≤ 0.
func MultiplyByQuantizedMultiplierSmallerThanOneExp(x, multiplier int32, leftShift int) int32 {
	return RoundingDivideByPOT(SaturatingRoundingDoublingHighMul(x, multiplier), -leftShift)
}

// MultiplyByQuantizedMultiplierGreaterThanOne is SRDHM(x·2^leftShift, m)
// with leftShift ≥ 0; the shift wraps like C's int32 multiply.
func MultiplyByQuantizedMultiplierGreaterThanOne(x, multiplier int32, leftShift int) int32 {
	return SaturatingRoundingDoublingHighMul(x*(int32(1)<<uint(leftShift)), multiplier)
}

// CountLeadingZeros32 is the number of leading zero bits of x (32 for 0).
func CountLeadingZeros32(x uint32) int { return bits.LeadingZeros32(x) }

// CalculateInputRadius returns the largest input difference (in input
// quantization steps) whose rescaled value still fits the
// Q(inputIntegerBits).(totalSignedBits−inputIntegerBits) format, as TFLite's
// CalculateInputRadius: floor((2^ib − 1) · 2^(tsb−ib) / 2^inputLeftShift).
// TFLite's callers use totalSignedBits = 31.
func CalculateInputRadius(inputIntegerBits, inputLeftShift, totalSignedBits int) int {
	v := float64(int64(1)<<uint(inputIntegerBits)-1) *
		float64(int64(1)<<uint(totalSignedBits-inputIntegerBits)) /
		float64(int64(1)<<uint(inputLeftShift))
	return int(math.Floor(v))
}

// PreprocessSoftmaxScaling computes the multiplier and left shift that turn
// an int8 softmax input difference into a Q(inputIntegerBits) fixed-point
// value scaled by beta, as TFLite's PreprocessSoftmaxScaling:
// min(beta·inputScale·2^(31−inputIntegerBits), 2^31−1) quantized with
// QuantizeMultiplierGreaterThanOne.
func PreprocessSoftmaxScaling(beta, inputScale float64, inputIntegerBits int) (multiplier int32, leftShift int) {
	real := math.Min(beta*inputScale*float64(int64(1)<<uint(31-inputIntegerBits)), float64(int64(1)<<31)-1)
	m, s := QuantizeMultiplier(real)
	return m, s
}
