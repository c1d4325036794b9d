package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// requantRowsAVX2 emits the AVX2 form of a block requantization loop for
// CPUs without AVX-512: requantS8RowsAVX512's double rounding (fp32 =
// false; the general parameter layout, 384 bytes per group of 16
// channels) or requantS8FP32RowsAVX512's float32 arithmetic (fp32 = true;
// NewRequantFP32's layout, 448 bytes per group), 8 channels per step. n
// must be a multiple of 8 (the Go caller does the last n mod 8 channels of
// each row). AVX2 has no 64-bit arithmetic shift: the products' result
// bits 31..62 are taken with logical shifts instead (VPSRLQ by 31 puts
// them in the even dwords, VPSLLQ by 1 in the odd ones), which is exact
// because the rounded high product fits in int32.
func requantRowsAVX2(fp32 bool) {
	name, doc, stride := "requantS8DoubleRowsAVX2", " is requantS8RowsAVX512 for AVX2, n a multiple of 8.", 384
	if fp32 {
		name, doc, stride = "requantS8FP32RowsAVX2", " is requantS8FP32RowsAVX512 for AVX2, n a multiple of 8.", 448
	}
	TEXT(name, NOSPLIT, "func(rows, n int, acc *int32, lda int, params *int32, dst *int8, ldo int, zlh *int32)")
	Pragma("noescape")
	Doc(name + doc)
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	prm := Load(Param("params"), GP64())
	dst := Load(Param("dst"), GP64())
	ldo := Load(Param("ldo"), GP64())
	zlh := Load(Param("zlh"), GP64())
	round, zp, lo, hi := Y10, Y12, Y13, Y14
	VPBROADCASTD(Mem{Base: zlh}, zp)
	if fp32 {
		VPBROADCASTD(Mem{Base: zlh, Disp: 12}, lo)
		VPBROADCASTD(Mem{Base: zlh, Disp: 16}, hi)
	} else {
		VPBROADCASTD(Mem{Base: zlh, Disp: 4}, lo)
		VPBROADCASTD(Mem{Base: zlh, Disp: 8}, hi)
		tmp := GP64()
		MOVQ(U32(1<<30), tmp)
		VMOVQ(tmp, round.AsX())
		VPBROADCASTQ(round.AsX(), round)
	}
	half := GP64()
	MOVQ(n, half)
	ANDQ(U8(8), half)
	groups := n
	SHRQ(U8(4), groups)
	TESTQ(rows, rows)
	JE(LabelRef("done"))
	a, p, d, g := GP64(), GP64(), GP64(), GP64()
	chunk := func(ad, h, dd int) {
		x := Y0
		VMOVDQU(Mem{Base: a, Disp: ad}, x)
		VPADDD(Mem{Base: p, Disp: h}, x, x)
		if fp32 {
			VCVTDQ2PS(x, x)
			VMULPS(Mem{Base: p, Disp: 64 + h}, x, x)
			VMAXPS(lo, x, x)
			VMINPS(hi, x, x)
			VCVTPS2DQ(x, x)
			VPADDD(zp, x, x)
		} else {
			m, pe, po, t, rem, dd2 := Y1, Y2, Y3, Y4, Y5, Y6
			VPSLLVD(Mem{Base: p, Disp: 128 + h}, x, x)
			VMOVDQU(Mem{Base: p, Disp: 64 + h}, m)
			VPMULDQ(m, x, pe)
			VPSRLQ(U8(32), x, po)
			VPSRLQ(U8(32), m, t)
			VPMULDQ(t, po, po)
			VPADDQ(round, pe, pe)
			VPADDQ(round, po, po)
			VPSRLQ(U8(31), pe, pe)
			VPSLLQ(U8(1), po, po)
			VPBLENDD(U8(0xAA), po, pe, x)
			// RoundingDivideByPOT: x >> right, plus one where
			// x&mask > mask>>1 + (x < 0).
			VPAND(Mem{Base: p, Disp: 256 + h}, x, rem)
			VPSRLD(U8(31), x, dd2)
			VPADDD(Mem{Base: p, Disp: 320 + h}, dd2, dd2)
			VPSUBD(rem, dd2, dd2)
			VPSRAD(U8(31), dd2, dd2)
			VPSRAVD(Mem{Base: p, Disp: 192 + h}, x, x)
			VPSUBD(dd2, x, x)
			VPADDD(zp, x, x)
			VPMAXSD(lo, x, x)
			VPMINSD(hi, x, x)
		}
		// Already inside int8: the saturating packs are exact.
		VEXTRACTI128(U8(1), x, X1)
		VPACKSSDW(X1, x.AsX(), X0)
		VPACKSSWB(X0, X0, X0)
		VMOVQ(X0, Mem{Base: d, Disp: dd})
	}
	Label("row")
	MOVQ(acc, a)
	MOVQ(prm, p)
	MOVQ(dst, d)
	MOVQ(groups, g)
	TESTQ(g, g)
	JE(LabelRef("half"))
	Label("group")
	chunk(0, 0, 0)
	chunk(32, 32, 8)
	ADDQ(U32(64), a)
	ADDQ(U32(stride), p)
	ADDQ(U32(16), d)
	DECQ(g)
	JNE(LabelRef("group"))
	Label("half")
	TESTQ(half, half)
	JE(LabelRef("next"))
	chunk(0, 0, 0)
	Label("next")
	ADDQ(lda, acc)
	ADDQ(ldo, dst)
	DECQ(rows)
	JNE(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}
