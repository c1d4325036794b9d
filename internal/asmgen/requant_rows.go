package main

import (
	"fmt"

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
	r := requantRowsText(name, " requantizes rows×n int32 accumulators (row stride lda) to int8 (row stride ldo) with "+doc+" rounding and per-channel params (see requant.go).")
	round, low, zp, lo, hi, tmp := requantConsts(r.zlh, true)
	r.loop(tmp, 384, func(a, p, d Register, k Op) {
		requantGroup(single, a, p, d, k, round, low, zp, lo, hi)
	})
}

// requantRowsArgs holds the arguments of a requant rows kernel, lda
// already in bytes.
type requantRowsArgs struct{ rows, n, acc, lda, prm, dst, ldo, zlh Register }

// requantRowsText starts the requant rows kernel name (all share one
// signature) and loads its arguments.
func requantRowsText(name, doc string) requantRowsArgs {
	TEXT(name, NOSPLIT, "func(rows, n int, acc *int32, lda int, params *int32, dst *int8, ldo int, zlh *int32)")
	Pragma("noescape")
	Doc(name + doc)
	var r requantRowsArgs
	r.rows = Load(Param("rows"), GP64())
	r.n = Load(Param("n"), GP64())
	r.acc = Load(Param("acc"), GP64())
	r.lda = Load(Param("lda"), GP64())
	SHLQ(U8(2), r.lda)
	r.prm = Load(Param("params"), GP64())
	r.dst = Load(Param("dst"), GP64())
	r.ldo = Load(Param("ldo"), GP64())
	r.zlh = Load(Param("zlh"), GP64())
	return r
}

// requantConsts broadcasts the constants of requantGroup: the 2^30
// rounding term (withRound), the low-dword mask, and zlh's zero point
// and clamp bounds. It returns them and the scratch register it used.
func requantConsts(zlh Register, withRound bool) (round, low, zp, lo, hi VecPhysical, tmp GPVirtual) {
	round, low, zp, lo, hi = Z10, Z11, Z12, Z13, Z14
	tmp = GP64()
	if withRound {
		MOVQ(U32(1<<30), tmp)
		VPBROADCASTQ(tmp, round)
	}
	MOVL(U32(0xffffffff), tmp.As32())
	VPBROADCASTQ(tmp, low)
	VPBROADCASTD(Mem{Base: zlh}, zp)
	VPBROADCASTD(Mem{Base: zlh, Disp: 4}, lo)
	VPBROADCASTD(Mem{Base: zlh, Disp: 8}, hi)
	return
}

// loop emits the rest of a requant rows kernel: K1 gets the low n mod 16
// lanes (tmp is scratch), then every row runs its full groups of 16
// channels and one group masked by K1 for the tail. group emits one
// group: accumulators at a, params at p (pStride bytes per group), int8
// results to d, with k the mask or nil.
func (r requantRowsArgs) loop(tmp GPVirtual, pStride int, group func(a, p, d Register, k Op)) {
	tail := GP64()
	MOVQ(r.n, tail)
	ANDQ(U8(15), tail)
	MOVQ(tail, RCX)
	MOVL(U32(1), tmp.As32())
	SHLL(CL, tmp.As32())
	DECL(tmp.As32())
	KMOVW(tmp.As32(), K1)
	full := r.n
	SHRQ(U8(4), full)
	TESTQ(r.rows, r.rows)
	JE(LabelRef("done"))
	a, p, d, g := GP64(), GP64(), GP64(), GP64()
	Label("row")
	MOVQ(r.acc, a)
	MOVQ(r.prm, p)
	MOVQ(r.dst, d)
	MOVQ(full, g)
	TESTQ(g, g)
	JE(LabelRef("tail"))
	Label("group")
	group(a, p, d, nil)
	ADDQ(U32(64), a)
	ADDQ(U32(pStride), p)
	ADDQ(U32(16), d)
	DECQ(g)
	JNE(LabelRef("group"))
	Label("tail")
	TESTQ(tail, tail)
	JE(LabelRef("next"))
	group(a, p, d, K1)
	Label("next")
	ADDQ(r.lda, r.acc)
	ADDQ(r.ldo, r.dst)
	DECQ(r.rows)
	JNE(LabelRef("row"))
	Label("done")
	VZEROUPPER()
	RET()
}

// requantGroup emits one group of 16 channels: accumulators at a, params
// at p, int8 results to d; with a mask k, only its lanes are read and
// written (the padded params are always readable).
//
// Without single it is TFLite's per-channel requantization (double
// rounding):
//
//	x = (acc + bias) << left                      (wrapping, as C)
//	x = (x·mult + 2^30) >> 31                     (SaturatingRoundingDoublingHighMul;
//	                                               the floor form equals C's truncating
//	                                               division with its sign-dependent nudge)
//	x = (x >> right) + (x&mask > thr + (x<0))     (RoundingDivideByPOT)
//	out = int8(clamp(x + zp, lo, hi))
//
// with params per group of 16 channels: 16 each of bias, mult, left,
// right, mask = 2^right − 1 and thr = mask >> 1 (zp, lo, hi come from
// requantConsts). With single it is TFLite's single-rounding
// MultiplyByQuantizedMultiplier: x = acc + bias, then
// (x·mult + 2^(total−1)) >> total with total = 31 − shift, in 64 bits;
// params per group: bias, mult (16 int32 each), then the shift counts and
// rounding terms as 8 int64 for the even channels and 8 for the odd ones.
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
//
// With double, it is requantS8RowsAVX512's double rounding in the same
// layout (see s8_double.go), two more µops per half group.
func requantRowsFastAVX512(clamp, double bool) {
	rounding, doc := "Single", " is requantS8SingleRowsAVX512"
	if double {
		rounding, doc = "Double", " is requantS8RowsAVX512"
	}
	clampName := ""
	if clamp {
		clampName = "Clamp"
	}
	name := fmt.Sprintf("requantS8%sRowsFast%sAVX512", rounding, clampName)
	r := requantRowsText(name, doc+" for parameters in the fast range, with the fast parameter layout (see requant.go).")
	lo, hi := Z13, Z14
	VPBROADCASTD(Mem{Base: r.zlh, Disp: 4}, lo)
	VPBROADCASTD(Mem{Base: r.zlh, Disp: 8}, hi)
	var dbl *doubleFix
	if double {
		dbl = &doubleFix{c: Z15, kE: K3, kO: K4}
		doubleFixConst(dbl.c)
	}
	tmp := GP64()
	MOVL(U32(0xAAAA), tmp.As32())
	KMOVW(tmp.As32(), K2) // odd lanes
	r.loop(tmp, 448, func(a, p, d Register, k Op) {
		x := Z0
		if k != nil {
			VMOVDQU32_Z(Mem{Base: a}, k, x)
		} else {
			VMOVDQU32(Mem{Base: a}, x)
		}
		VPADDD(Mem{Base: p}, x, x)
		requantFast(p, 0, x, Z2, Z3, K2, dbl)
		if clamp {
			VPMAXSD(lo, x, x)
			VPMINSD(hi, x, x)
		}
		if k != nil {
			VPMOVSDB(x, k, Mem{Base: d})
		} else {
			VPMOVSDB(x, Mem{Base: d})
		}
	})
}

// requantFast emits the fast layout's requantization of the 16 int32
// values in x (bias included), in place, with the group's params at
// p + g. Params per group: bias, mult (16 dwords each), the odd
// channels' mults moved to the even dwords, then as 8 qwords each: the
// even and odd channels' rounding terms 2^(t−1) + zp·2^t, the even
// channels' t and the odd channels' t − 32. pe and po are scratch, odd
// holds the odd lanes; dbl, when not nil, adds double rounding's
// correction.
func requantFast(p Register, g int, x, pe, po VecPhysical, odd OpmaskPhysical, dbl *doubleFix) {
	VPMULDQ(Mem{Base: p, Disp: g + 64}, x, pe)
	VPSRLQ(U8(32), x, po)
	VPMULDQ(Mem{Base: p, Disp: g + 128}, po, po)
	if dbl != nil {
		dbl.signs(pe, po)
	}
	VPADDQ(Mem{Base: p, Disp: g + 192}, pe, pe)
	VPADDQ(Mem{Base: p, Disp: g + 256}, po, po)
	if dbl != nil {
		dbl.apply(pe, po)
	}
	VPSRAVQ(Mem{Base: p, Disp: g + 320}, pe, pe)
	VPSRAVQ(Mem{Base: p, Disp: g + 384}, po, po)
	VPBLENDMD(po, pe, odd, x)
}

// requantRowsFP32AVX512 emits XNNPACK's float32 requantization (the
// TFLite runtime's for the int8 layers its default delegate takes) of a
// whole block of accumulator rows, in the layout of gemm's
// NewRequantFP32: per group of 16 channels (448 bytes, the fast layout's
// stride) the bias and the float32 scales; zlh holds the zero point, the
// clamp bounds and the float32 bounds lo − zp and hi − zp. See
// requantFP32 for the arithmetic.
func requantRowsFP32AVX512() {
	name := "requantS8FP32RowsAVX512"
	r := requantRowsText(name, " requantizes rows×n int32 accumulators (row stride lda) to int8 (row stride ldo) with XNNPACK's float32 arithmetic and per-channel scales (see NewRequantFP32).")
	zp, flo, fhi := Z12, Z13, Z14
	VPBROADCASTD(Mem{Base: r.zlh}, zp)
	VPBROADCASTD(Mem{Base: r.zlh, Disp: 12}, flo)
	VPBROADCASTD(Mem{Base: r.zlh, Disp: 16}, fhi)
	tmp := GP64()
	r.loop(tmp, 448, func(a, p, d Register, k Op) {
		x := Z0
		if k != nil {
			VMOVDQU32_Z(Mem{Base: a}, k, x)
		} else {
			VMOVDQU32(Mem{Base: a}, x)
		}
		VPADDD(Mem{Base: p}, x, x)
		requantFP32(Mem{Base: p, Disp: 64}, x, func() { VMAXPS(flo, x, x) }, func() { VMINPS(fhi, x, x) }, func() { VPADDD(zp, x, x) })
		if k != nil {
			VPMOVDB(x, k, Mem{Base: d})
		} else {
			VPMOVDB(x, Mem{Base: d})
		}
	})
}

// requantFP32 emits XNNPACK's fp32 requantization of the 16 int32 values
// in x (bias included), in place, with the scales at scale:
//
//	x = float32(x) · scale                 (VCVTDQ2PS, VMULPS: both round to nearest even)
//	x = min(max(x, lo − zp), hi − zp)       (integers, so clamping before rounding equals after)
//	x = roundHalfEven(x) + zp              (VCVTPS2DQ under Go's default MXCSR)
//
// The float clamp also keeps VCVTPS2DQ in range (it gives 2^31 for
// anything outside int32). lo, hi and zp emit the clamps and the zero
// point's addition (registers or broadcast loads, as the caller has).
func requantFP32(scale Op, x VecPhysical, lo, hi, zp func()) {
	VCVTDQ2PS(x, x)
	VMULPS(scale, x, x)
	lo()
	hi()
	VCVTPS2DQ(x, x)
	zp()
}
