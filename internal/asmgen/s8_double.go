package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Double rounding in the fast layout. TFLite Micro's requantization is
// y = SaturatingRoundingDoublingHighMul(x, m) = ⌊(x·m + 2^30) / 2^31⌋ (m ≥ 0,
// so it never saturates), then RoundingDivideByPOT(y, e), which rounds
// half away from zero: ⌊(y + 2^(e−1) − [y<0]) / 2^e⌋. Nested floors
// merge (⌊(⌊a/b⌋ + c)/d⌋ = ⌊(a + c·b)/(b·d)⌋), so for e ≥ 1 the whole
// thing is one 64-bit rounding shift by t = 31 + e:
//
//	⌊(x·m + 2^30 + 2^(30+e) + zp·2^t − 2^31·[y<0]) / 2^t⌋
//
// whose rounding term is single rounding's (2^(t−1) + zp·2^t) plus 2^30,
// so the parameter layout is requantFast's. [y<0] may be replaced
// by [x·m < 0]: they differ only for x·m in [−2^30, 0), where y = 0,
// which is no tie for e ≥ 1, so the correction does not change the
// result. The sign is the product's bit 63 (VPMOVQ2M), and the 2^31 is
// subtracted under that mask: two µops per half group over single
// rounding. Magnitudes stay below 2^62 + 2^61 + 2^53 + 2^31 < 2^63.

// doubleFix is double rounding's correction: c holds 2^31 in every
// qword, kE and kO receive the even and odd products' signs.
type doubleFix struct {
	c      VecPhysical
	kE, kO OpmaskPhysical
}

// doubleFixConst loads 2^31 into every qword of c.
func doubleFixConst(c VecPhysical) {
	t := GP64()
	MOVQ(U32(1<<31), t)
	VPBROADCASTQ(t, c)
}

// signs records the signs of the even and odd products (before the
// rounding terms are added).
func (f *doubleFix) signs(pe, po VecPhysical) {
	VPMOVQ2M(pe, f.kE)
	VPMOVQ2M(po, f.kO)
}

// apply subtracts 2^31 from the lanes whose product was negative.
func (f *doubleFix) apply(pe, po VecPhysical) {
	VPSUBQ(f.c, pe, f.kE, pe)
	VPSUBQ(f.c, po, f.kO, po)
}
