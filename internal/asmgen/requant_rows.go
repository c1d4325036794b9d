package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// requantRowsAVX512 emits the int8 requantization of a whole block of
// accumulator rows in one call: rows rows of n int32 values (row stride
// lda elements) to int8 (row stride ldo), with the per-channel params of
// requantAVX512 (single = false) or requantSingleAVX512 (single = true),
// restarted at every row. The last n mod 16 channels of a row run as one
// masked group, so no channel is left to Go. A conv layer with 16 or 32
// output channels has only one or two groups per row; one call per block
// instead of one per row removes the call, set-up and VZEROUPPER that
// otherwise cost more than the arithmetic.
func requantRowsAVX512(single bool) {
	name, doc := "requantS8RowsAVX512", "double"
	if single {
		name, doc = "requantS8SingleRowsAVX512", "single"
	}
	TEXT(name, NOSPLIT, "func(rows, n int, acc *int32, lda int, params *int32, dst *int8, ldo int, zlh *int32)")
	Pragma("noescape")
	Doc(name + " requantizes rows×n int32 accumulators (row stride lda) to int8 (row stride ldo) with " + doc + " rounding and per-channel params (see requant.go).")
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	prm := Load(Param("params"), GP64())
	dst := Load(Param("dst"), GP64())
	ldo := Load(Param("ldo"), GP64())
	zlh := Load(Param("zlh"), GP64())
	round, low, zp, lo, hi := Z10, Z11, Z12, Z13, Z14
	tmp := GP64()
	MOVQ(U32(1<<30), tmp)
	VPBROADCASTQ(tmp, round)
	MOVL(U32(0xffffffff), tmp.As32())
	VPBROADCASTQ(tmp, low)
	VPBROADCASTD(Mem{Base: zlh}, zp)
	VPBROADCASTD(Mem{Base: zlh, Disp: 4}, lo)
	VPBROADCASTD(Mem{Base: zlh, Disp: 8}, hi)
	// K1: the low n mod 16 lanes, for the tail group.
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
	requantGroup(single, a, p, d, nil, round, low, zp, lo, hi)
	ADDQ(U32(64), a)
	ADDQ(U32(384), p)
	ADDQ(U32(16), d)
	DECQ(g)
	JNE(LabelRef("group"))
	Label("tail")
	TESTQ(tail, tail)
	JE(LabelRef("next"))
	requantGroup(single, a, p, d, K1, round, low, zp, lo, hi)
	Label("next")
	ADDQ(lda, acc)
	ADDQ(ldo, dst)
	DECQ(rows)
	JNE(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// requantGroup emits one group of 16 channels: accumulators at a, params
// at p, int8 results to d; with a mask k, only its lanes are read and
// written (the padded params are always readable).
func requantGroup(single bool, a, p, d Register, k Op, round, low, zp, lo, hi VecPhysical) {
	x, m, pe, po, t := Z0, Z1, Z2, Z3, Z4
	rem, dd := Z5, Z6
	if k != nil {
		VMOVDQU32_Z(Mem{Base: a}, k, x)
	} else {
		VMOVDQU32(Mem{Base: a}, x)
	}
	VPADDD(Mem{Base: p, Disp: 0}, x, x)
	if single {
		// (x·mult + 2^(total−1)) >> total in int64 lanes, even and odd
		// channels apart.
		VMOVDQU32(Mem{Base: p, Disp: 64}, m)
		VPMULDQ(m, x, pe)
		VPSRLQ(U8(32), x, po)
		VPSRLQ(U8(32), m, t)
		VPMULDQ(t, po, po)
		VPADDQ(Mem{Base: p, Disp: 256}, pe, pe)
		VPADDQ(Mem{Base: p, Disp: 320}, po, po)
		VPSRAVQ(Mem{Base: p, Disp: 128}, pe, pe)
		VPSRAVQ(Mem{Base: p, Disp: 192}, po, po)
		VPSLLQ(U8(32), po, po)
		VPANDQ(low, pe, pe)
		VPORQ(po, pe, x)
	} else {
		// SaturatingRoundingDoublingHighMul then RoundingDivideByPOT, as
		// requantAVX512.
		VPSLLVD(Mem{Base: p, Disp: 128}, x, x)
		VMOVDQU32(Mem{Base: p, Disp: 64}, m)
		VPMULDQ(m, x, pe)
		VPSRLQ(U8(32), x, po)
		VPSRLQ(U8(32), m, t)
		VPMULDQ(t, po, po)
		VPADDQ(round, pe, pe)
		VPADDQ(round, po, po)
		VPSRAQ(U8(31), pe, pe)
		VPSRAQ(U8(31), po, po)
		VPSLLQ(U8(32), po, po)
		VPANDQ(low, pe, pe)
		VPORQ(po, pe, x)
		VPANDD(Mem{Base: p, Disp: 256}, x, rem)
		VPSRLD(U8(31), x, dd)
		VPADDD(Mem{Base: p, Disp: 320}, dd, dd)
		VPSUBD(rem, dd, dd)
		VPSRAD(U8(31), dd, dd)
		VPSRAVD(Mem{Base: p, Disp: 192}, x, x)
		VPSUBD(dd, x, x)
	}
	VPADDD(zp, x, x)
	VPMAXSD(lo, x, x)
	VPMINSD(hi, x, x)
	if k != nil {
		VPMOVDB(x, k, Mem{Base: d})
	} else {
		VPMOVDB(x, Mem{Base: d})
	}
}

// requantRowsFastAVX512 is requantRowsAVX512(true) for the usual
// layers, whose every channel has a total shift t = 31 − shift in
// [32, 54] and whose zero point is at most 128 in magnitude (see
// Requant.fastParams): the zero point rides in the 64-bit rounding term
// (zp·2^t; exact, no overflow in that range), the odd channels shift by
// t − 32 so their result lands in the high dword and one masked blend
// joins them with the even ones, and VPMOVSDB's saturation is the
// [−128, 127] clamp. With clamp, a fused activation's narrower range is
// applied first. Six of the seventeen vector µops per group go.
func requantRowsFastAVX512(clamp bool) {
	name := "requantS8SingleRowsFastAVX512"
	if clamp {
		name = "requantS8SingleRowsFastClampAVX512"
	}
	TEXT(name, NOSPLIT, "func(rows, n int, acc *int32, lda int, params *int32, dst *int8, ldo int, zlh *int32)")
	Pragma("noescape")
	Doc(name + " is requantS8SingleRowsAVX512 for parameters in the fast range, with the fast parameter layout (see requant.go).")
	rows := Load(Param("rows"), GP64())
	n := Load(Param("n"), GP64())
	acc := Load(Param("acc"), GP64())
	lda := Load(Param("lda"), GP64())
	SHLQ(U8(2), lda)
	prm := Load(Param("params"), GP64())
	dst := Load(Param("dst"), GP64())
	ldo := Load(Param("ldo"), GP64())
	zlh := Load(Param("zlh"), GP64())
	lo, hi := Z13, Z14
	VPBROADCASTD(Mem{Base: zlh, Disp: 4}, lo)
	VPBROADCASTD(Mem{Base: zlh, Disp: 8}, hi)
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
	requantGroupFast(clamp, a, p, d, nil, lo, hi)
	ADDQ(U32(64), a)
	ADDQ(U32(448), p)
	ADDQ(U32(16), d)
	DECQ(g)
	JNE(LabelRef("group"))
	Label("tail")
	TESTQ(tail, tail)
	JE(LabelRef("next"))
	requantGroupFast(clamp, a, p, d, K1, lo, hi)
	Label("next")
	ADDQ(lda, acc)
	ADDQ(ldo, dst)
	DECQ(rows)
	JNE(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// requantGroupFast emits one group of requantRowsFastAVX512. Params per
// group: bias, mult (16 dwords each), the odd channels' mults moved to
// the even dwords, then as 8 qwords each: the even and odd channels'
// rounding terms 2^(t−1) + zp·2^t, the even channels' t and the odd
// channels' t − 32.
func requantGroupFast(clamp bool, a, p, d Register, k Op, lo, hi VecPhysical) {
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
	VPADDQ(Mem{Base: p, Disp: 192}, pe, pe)
	VPADDQ(Mem{Base: p, Disp: 256}, po, po)
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
