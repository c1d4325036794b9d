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
// so the parameter layout is requantGroupFast's. [y<0] may be replaced
// by [x·m < 0]: they differ only for x·m in [−2^30, 0), where y = 0,
// which is no tie for e ≥ 1, so the correction does not change the
// result. The sign is the product's bit 63 (VPMOVQ2M), and the 2^31 is
// subtracted under that mask: two µops per half group over single
// rounding. Magnitudes stay below 2^62 + 2^61 + 2^53 + 2^31 < 2^63.

// doubleFixConst loads 2^31 into every qword of c.
func doubleFixConst(c VecPhysical) {
	t := GP64()
	MOVQ(U32(1<<31), t)
	VPBROADCASTQ(t, c)
}

// doubleFixSigns records the signs of the even and odd products in kE
// and kO (before the rounding terms are added).
func doubleFixSigns(pe, po VecPhysical, kE, kO OpmaskPhysical) {
	VPMOVQ2M(pe, kE)
	VPMOVQ2M(po, kO)
}

// doubleFixApply subtracts c = 2^31 from the lanes whose product was
// negative.
func doubleFixApply(pe, po, c VecPhysical, kE, kO OpmaskPhysical) {
	VPSUBQ(c, pe, kE, pe)
	VPSUBQ(c, po, kO, po)
}

// requantRowsFastDoubleAVX512 is requantRowsFastAVX512 in double rounding
// (the arithmetic above), for Requant.fastParams' double-rounding layout.
func requantRowsFastDoubleAVX512(clamp bool) {
	name := "requantS8DoubleRowsFastAVX512"
	if clamp {
		name = "requantS8DoubleRowsFastClampAVX512"
	}
	TEXT(name, NOSPLIT, "func(rows, n int, acc *int32, lda int, params *int32, dst *int8, ldo int, zlh *int32)")
	Pragma("noescape")
	Doc(name + " is requantS8RowsAVX512 for parameters in the fast range, with the fast parameter layout (see requant.go).")
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	prm := Load(Param("params"), GP64())
	dst := Load(Param("dst"), GP64())
	ldo := Load(Param("ldo"), GP64())
	zlh := Load(Param("zlh"), GP64())
	lo, hi, fix := Z13, Z14, Z15
	VPBROADCASTD(Mem{Base: zlh, Disp: 4}, lo)
	VPBROADCASTD(Mem{Base: zlh, Disp: 8}, hi)
	doubleFixConst(fix)
	tmp := GP64()
	MOVL(U32(0xAAAA), tmp.As32())
	KMOVW(tmp.As32(), K2) // odd lanes
	tail := GP64()
	MOVQ(n, tail)
	ANDQ(U8(15), tail)
	MOVQ(tail, RCX)
	MOVL(U32(1), tmp.As32())
	SHLL(CL, tmp.As32())
	DECL(tmp.As32())
	KMOVW(tmp.As32(), K1)
	full := n
	SHRQ(U8(4), full)
	TESTQ(rows, rows)
	JE(LabelRef("done"))
	a, p, d, g := GP64(), GP64(), GP64(), GP64()
	Label("row")
	MOVQ(acc, a)
	MOVQ(prm, p)
	MOVQ(dst, d)
	MOVQ(full, g)
	TESTQ(g, g)
	JE(LabelRef("tail"))
	Label("group")
	requantGroupFastDouble(clamp, a, p, d, nil, lo, hi, fix)
	ADDQ(U32(64), a)
	ADDQ(U32(448), p)
	ADDQ(U32(16), d)
	DECQ(g)
	JNE(LabelRef("group"))
	Label("tail")
	TESTQ(tail, tail)
	JE(LabelRef("next"))
	requantGroupFastDouble(clamp, a, p, d, K1, lo, hi, fix)
	Label("next")
	ADDQ(lda, acc)
	ADDQ(ldo, dst)
	DECQ(rows)
	JNE(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// requantGroupFastDouble is requantGroupFast with the double-rounding
// correction (K3, K4 hold the product signs).
func requantGroupFastDouble(clamp bool, a, p, d Register, k Op, lo, hi, fix VecPhysical) {
	x, pe, po := Z0, Z2, Z3
	if k != nil {
		VMOVDQU32_Z(Mem{Base: a}, k, x)
	} else {
		VMOVDQU32(Mem{Base: a}, x)
	}
	VPADDD(Mem{Base: p}, x, x)
	VPMULDQ(Mem{Base: p, Disp: 64}, x, pe)
	VPSRLQ(U8(32), x, po)
	VPMULDQ(Mem{Base: p, Disp: 128}, po, po)
	doubleFixSigns(pe, po, K3, K4)
	VPADDQ(Mem{Base: p, Disp: 192}, pe, pe)
	VPADDQ(Mem{Base: p, Disp: 256}, po, po)
	doubleFixApply(pe, po, fix, K3, K4)
	VPSRAVQ(Mem{Base: p, Disp: 320}, pe, pe)
	VPSRAVQ(Mem{Base: p, Disp: 384}, po, po)
	VPBLENDMD(po, pe, K2, x)
	if clamp {
		VPMAXSD(lo, x, x)
		VPMINSD(hi, x, x)
	}
	if k != nil {
		VPMOVSDB(x, k, Mem{Base: d})
	} else {
		VPMOVSDB(x, Mem{Base: d})
	}
}
