package fixedpoint

// 16-bit gemmlowp fixed point (FixedPoint<int16_t, IntegerBits>): the
// logistic and tanh TFLite's integer LSTM applies to its int16 gates
// (tensor_utils::ApplySigmoid / ApplyTanh). The algorithms are the 32-bit
// ones in gemmlowp.go evaluated in int16: products are the 16-bit
// SaturatingRoundingDoublingHighMul, plain sums wrap as int16 arithmetic
// does in C, the one sum gemmlowp saturates in 16 bits (the exp polynomial)
// saturates, and every constant is the 32-bit one rounded by 16 bits
// (gemmlowp's RescaleConstantInitializer).

// One16 is 1.0 in Q0.15, saturated to the largest raw value.
const One16 = 1<<15 - 1

// SaturatingRoundingDoublingHighMul16 is the int16 VQRDMULH: round(a·b/2^15),
// saturating the single overflow case (−1·−1).
func SaturatingRoundingDoublingHighMul16(a, b int16) int16 {
	if a == b && a == -1<<15 {
		return One16
	}
	ab := int32(a) * int32(b)
	nudge := int32(1 << 14)
	if ab < 0 {
		nudge = 1 - 1<<14
	}
	return int16((ab + nudge) / (1 << 15))
}

// RoundingDivideByPOT16 is the int16 rounding arithmetic right shift, ties
// away from zero.
func RoundingDivideByPOT16(x int16, exponent int) int16 {
	mask := int16(int32(1)<<uint(exponent) - 1)
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

// SaturatingRoundingMultiplyByPOT16 multiplies by 2^exponent: a saturating
// left shift or a rounding right shift.
func SaturatingRoundingMultiplyByPOT16(x int16, exponent int) int16 {
	switch {
	case exponent > 0:
		threshold := int16(int32(1)<<uint(15-exponent) - 1)
		if x > threshold {
			return One16
		}
		if x < -threshold {
			return -1 << 15
		}
		return x << uint(exponent)
	case exponent < 0:
		return RoundingDivideByPOT16(x, -exponent)
	}
	return x
}

func rescale16(x int16, src, dst int) int16 { return SaturatingRoundingMultiplyByPOT16(x, src-dst) }

// constant16 is gemmlowp's RescaleConstantInitializer for int16.
func constant16(c int32) int16 { return int16(RoundingDivideByPOT(c, 16)) }

func roundingHalfSum16(a, b int16) int16 {
	sum := int32(a) + int32(b)
	sign := int32(1)
	if sum < 0 {
		sign = -1
	}
	return int16((sum + sign) / 2)
}

func saturatingAdd16(a, b int16) int16 {
	return int16(min(max(int32(a)+int32(b), -1<<15), 1<<15-1))
}

func expOnIntervalBetweenNegativeOneQuarterAnd0Excl16(a int16) int16 {
	mul := SaturatingRoundingDoublingHighMul16
	c := constant16(expMinusOneEighth)
	x := a + 1<<12 // a + 1/8 in Q0.15
	x2 := mul(x, x)
	x3 := mul(x2, x)
	x4 := mul(x2, x2)
	x4Over4 := SaturatingRoundingMultiplyByPOT16(x4, -2)
	poly := SaturatingRoundingMultiplyByPOT16(mul(x4Over4+x3, constant16(oneThird))+x2, -1)
	return saturatingAdd16(c, mul(c, x+poly))
}

// ExpOnNegativeValues16 returns exp(a) in Q0.15 for a ≤ 0 given as a raw
// int16 with integerBits integer bits.
func ExpOnNegativeValues16(a int16, integerBits int) int16 {
	fractionalBits := 15 - integerBits
	oneQuarter := int16(1) << uint(fractionalBits-2)
	mask := oneQuarter - 1
	amq := (a & mask) - oneQuarter
	result := expOnIntervalBetweenNegativeOneQuarterAnd0Excl16(rescale16(amq, integerBits, 0))
	remainder := amq - a
	for _, b := range expBarrel {
		if integerBits > b.exponent {
			shift := uint(fractionalBits + b.exponent)
			if remainder&int16(int32(1)<<shift) != 0 {
				result = SaturatingRoundingDoublingHighMul16(result, constant16(b.multiplier))
			}
		}
	}
	if integerBits > 5 {
		if a < constant16(-(int32(1) << uint(36-integerBits))) { // −32.0
			result = 0
		}
	}
	if a == 0 {
		result = One16
	}
	return result
}

// newtonOneOverOnePlusX16 runs gemmlowp's three Newton–Raphson steps for
// 1/(1+a) on the half denominator; the result is in Q2.13.
func newtonOneOverOnePlusX16(a int16) int16 {
	mul := SaturatingRoundingDoublingHighMul16
	half := roundingHalfSum16(a, One16)
	x := constant16(1515870810) + mul(half, constant16(-1010580540)) // 48/17 − 32/17·half, Q2.13
	for range 3 {
		oneMinus := int16(1<<13) - mul(half, x)
		x += rescale16(mul(x, oneMinus), 4, 2)
	}
	return x
}

// oneOverOnePlusX16 returns 1/(1+a) in Q0.15 for a Q0.15 value a in [0, 1).
func oneOverOnePlusX16(a int16) int16 { return rescale16(newtonOneOverOnePlusX16(a), 1, 0) }

// oneMinusXOverOnePlusX16 returns (1−a)/(1+a) in Q0.15 for a in [0, 1).
func oneMinusXOverOnePlusX16(a int16) int16 {
	return rescale16(newtonOneOverOnePlusX16(a)-1<<13, 2, 0)
}

// Logistic16 returns 1/(1+exp(−a)) in Q0.15 for a raw int16 a with
// integerBits integer bits (gemmlowp::logistic on FixedPoint<int16_t>).
func Logistic16(a int16, integerBits int) int16 {
	if a == 0 {
		return constant16(1 << 30)
	}
	abs := a
	if a <= 0 {
		abs = -a
	}
	pos := oneOverOnePlusX16(ExpOnNegativeValues16(-abs, integerBits))
	if a > 0 {
		return pos
	}
	return One16 - pos
}

// Tanh16 returns tanh(a) in Q0.15 for a raw int16 a with integerBits
// integer bits (gemmlowp::tanh on FixedPoint<int16_t>).
func Tanh16(a int16, integerBits int) int16 {
	if a == 0 {
		return 0
	}
	n := a
	if a >= 0 {
		n = -a
	}
	// exp(2n): the raw value read with one more integer bit is 2n.
	t := oneMinusXOverOnePlusX16(ExpOnNegativeValues16(n, integerBits+1))
	if a < 0 {
		return -t
	}
	return t
}
