package fixedpoint

import "math"

// One0 is 1.0 in Q0.31, saturated to the largest raw value (gemmlowp's
// FixedPoint<int32_t, 0>::One()).
const One0 = math.MaxInt32

// Rescale converts a raw fixed-point value with srcIntegerBits integer bits
// to dstIntegerBits, saturating when widening the fraction and rounding when
// narrowing it (gemmlowp's Rescale).
func Rescale(raw int32, srcIntegerBits, dstIntegerBits int) int32 {
	return SaturatingRoundingMultiplyByPOT(raw, srcIntegerBits-dstIntegerBits)
}

// RoundingHalfSum returns (a+b)/2 rounded to nearest, ties away from zero,
// without overflow.
func RoundingHalfSum(a, b int32) int32 {
	sum := int64(a) + int64(b)
	sign := int64(1)
	if sum < 0 {
		sign = -1
	}
	return int32((sum + sign) / 2)
}

// Constants of gemmlowp's exp: exp(−1/8), 1/3 in Q0.31, and exp(−2^k) in
// Q0.31 for the barrel shifter, k = −2 … 4.
const (
	expMinusOneEighth = 1895147668
	oneThird          = 715827883
)

var expBarrel = [...]struct {
	exponent   int
	multiplier int32
}{
	{-2, 1672461947}, {-1, 1302514674}, {0, 790015084}, {1, 290630308},
	{2, 39332535}, {3, 720401}, {4, 242},
}

// ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl returns exp(a) in Q0.31
// for a Q0.31 value a in [−1/4, 0), by a 4th-order Taylor expansion around
// −1/8 (gemmlowp).
func ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(a int32) int32 {
	mul := SaturatingRoundingDoublingHighMul
	x := a + 1<<28 // x = a + 1/8
	x2 := mul(x, x)
	x3 := mul(x2, x)
	x4 := mul(x2, x2)
	x4Over4 := SaturatingRoundingMultiplyByPOT(x4, -2)
	poly := SaturatingRoundingMultiplyByPOT(mul(x4Over4+x3, oneThird)+x2, -1)
	return expMinusOneEighth + mul(expMinusOneEighth, x+poly)
}

// ExpOnNegativeValues returns exp(a) in Q0.31 for a ≤ 0 given as a raw
// value with integerBits integer bits (gemmlowp's exp_on_negative_values):
// the fractional part modulo 1/4 goes through the Taylor expansion, and the
// remaining bits multiply in exp(−2^k) constants. exp(0) is One0.
func ExpOnNegativeValues(a int32, integerBits int) int32 {
	fractionalBits := 31 - integerBits
	oneQuarter := int32(1) << uint(fractionalBits-2)
	mask := oneQuarter - 1
	aModQuarterMinusQuarter := (a & mask) - oneQuarter
	result := ExpOnIntervalBetweenNegativeOneQuarterAnd0Excl(Rescale(aModQuarterMinusQuarter, integerBits, 0))
	remainder := aModQuarterMinusQuarter - a
	for _, b := range expBarrel {
		if integerBits > b.exponent {
			shift := uint(fractionalBits + b.exponent)
			if remainder&(int32(1)<<shift) != 0 {
				result = SaturatingRoundingDoublingHighMul(result, b.multiplier)
			}
		}
	}
	if integerBits > 5 {
		clamp := -(int32(1) << uint(36-integerBits)) // −32.0
		if a < clamp {
			result = 0
		}
	}
	if a == 0 {
		result = One0
	}
	return result
}

// OneOverOnePlusXForXIn01 returns 1/(1+a) in Q0.31 for a Q0.31 value a in
// [0, 1), by three Newton–Raphson steps on the half denominator (gemmlowp).
func OneOverOnePlusXForXIn01(a int32) int32 {
	mul := SaturatingRoundingDoublingHighMul
	halfDenominator := RoundingHalfSum(a, One0) // Q0.31
	const (
		c48Over17    = 1515870810  // 48/17 in Q2.29
		cNeg32Over17 = -1010580540 // −32/17 in Q2.29
		oneQ2        = 1 << 29     // 1.0 in Q2.29
	)
	x := c48Over17 + mul(halfDenominator, cNeg32Over17) // Q2.29
	for i := 0; i < 3; i++ {
		hdx := mul(halfDenominator, x) // Q2.29
		oneMinus := oneQ2 - hdx
		x += Rescale(mul(x, oneMinus), 4, 2)
	}
	// x·1/2 is the same raw value read as Q1.30; rescale it to Q0.31.
	return Rescale(x, 1, 0)
}

// GetReciprocal returns 1/x scaled into Q0.31 for a positive raw value x
// with xIntegerDigits integer bits, plus the number of bits the true
// reciprocal lies above that: 1/x ≈ result · 2^(−numBitsOverUnit)
// (TFLite's GetReciprocal, used by softmax).
func GetReciprocal(x int32, xIntegerDigits int) (reciprocal int32, numBitsOverUnit int) {
	headroomPlusOne := CountLeadingZeros32(uint32(x))
	numBitsOverUnit = xIntegerDigits - headroomPlusOne
	shiftedSumMinusOne := int32(uint32(x)<<uint(headroomPlusOne) - uint32(1)<<31)
	return OneOverOnePlusXForXIn01(shiftedSumMinusOne), numBitsOverUnit
}

// Logistic returns 1/(1+exp(−a)) in Q0.31 for a raw value a with
// integerBits integer bits (gemmlowp's logistic): exact 1/2 at zero and
// 1 − f(|a|) for negative inputs.
func Logistic(a int32, integerBits int) int32 {
	if a == 0 {
		return 1 << 30
	}
	abs := a
	if a < 0 {
		abs = -a
	}
	pos := OneOverOnePlusXForXIn01(ExpOnNegativeValues(-abs, integerBits))
	if a > 0 {
		return pos
	}
	return One0 - pos
}

// InvSqrtQuantizedMultiplierExp returns 1/sqrt(x) as a Q31 multiplier and a
// shift (left-positive, so ≤ 0 here) for x ≥ 0, as TFLite's
// GetInvSqrtQuantizedMultiplierExp with reverse_shift −1 computes it: x
// normalized into [2^27, 2^29) by pairs of bits, five Newton–Raphson steps
// in Q3.28 from a start of 1, times √2/2. x ≤ 1 gives (2^31−1, 0).
func InvSqrtQuantizedMultiplierExp(x int32) (multiplier int32, shift int) {
	if x <= 1 {
		return math.MaxInt32, 0
	}
	shift = 11
	for x >= 1<<29 {
		x /= 4
		shift++
	}
	maxLeftShiftBits := CountLeadingZeros32(uint32(x)) - 1
	leftShiftBitPairs := maxLeftShiftBits/2 - 1
	shift -= leftShiftBitPairs
	x <<= uint(2 * leftShiftBitPairs)
	mul := SaturatingRoundingDoublingHighMul
	in := x >> 1 // Q3.28
	halfIn := SaturatingRoundingMultiplyByPOT(in, -1)
	const halfThree = 1<<28 + 1<<27 // 1.5 in Q3.28
	v := int32(1 << 28)             // 1 in Q3.28
	for range 5 {
		v3 := Rescale(mul(mul(v, v), v), 9, 3)
		v = Rescale(mul(halfThree, v)-mul(halfIn, v3), 6, 3)
	}
	v = mul(v, 1518500250) // · √2/2 (Q0.31): Q3.28
	if shift < 0 {
		v <<= uint(-shift)
		shift = 0
	}
	return v, -shift
}
