package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The x output transforms with the requantization fused in
// (kernels/conv_wino_outq.go): winoOutAVX2's Aᵀ and exact division, then
// the int8 epilogue in registers, so the int32 accumulators are never
// stored and reloaded by a separate requantization pass. The
// requantization is XNNPACK's float32 arithmetic (gemm.NewRequantFP32,
// the instructions of requantS8FP32RowsAVX2 and requantS8FP32RowsAVX512),
// the TFLite runtime's for these layers; the divisor (24 or 576) is a
// run-time argument. (A ymm form of TFLite's double rounding was built
// and bit-exact, but no faster than the unfused path: 0.99–1.09× its
// time per tile row under the AVX2-only GODEBUG.)
//
// Parameters (int32): k = corr + bias per channel (the zero-point
// correction and the bias merged: both are added in wrapping int32 before
// anything else), then the scales' bits, consts' sOff bytes after the k
// of the same channel (so the ymm and zmm kernels share one layout).
// consts holds the divisor's shift (a qword), its odd part's inverse mod
// 2³², the output zero point, lo, hi, float32 lo − zp and hi − zp, and
// sOff (a qword).

// Offsets in winoOutQ's consts (bytes).
const (
	oqShift = 0
	oqInv   = 8
	oqZP    = 12
	oqFLo   = 24
	oqFHi   = 28
	oqSOff  = 32
)

// winoOutQFP32AVX2 emits the ymm kernel: for channel blocks of 8 below cv
// and full tiles tx < tiles, the products m0..m5 at src + ξ·plane + tx·N
// (int32 elements), y = Aᵀ·m divided exactly by the divisor, plus k,
// requantized and stored as int8 to the 4 pixels at dst + (4·tx + i)·N
// (bytes).
func winoOutQFP32AVX2() {
	name := "winoOutQFP32AVX2"
	TEXT(name, NOSPLIT, "func(dst *int8, src *int32, plane, tiles, N, cv int, prm, consts *int32)")
	Pragma("noescape")
	Doc(name + " is winoOutQGo for channels 0..cv-1 (cv a positive multiple of 8) of tiles ≥ 1 full tiles.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	plane := Load(Param("plane"), GP64())
	N := Load(Param("N"), GP64())
	cv := Load(Param("cv"), GP64())
	prm := Load(Param("prm"), GP64())
	cs := Load(Param("consts"), GP64())
	sOff := GP64()
	MOVQ(Mem{Base: cs, Disp: oqSOff}, sOff)
	SHLQ(U8(2), plane) // bytes
	SHRQ(U8(3), cv)
	p3 := GP64()
	LEAQ(Mem{Base: plane, Index: plane, Scale: 2}, p3)
	nb := GP64() // bytes per source tile: 4·N
	MOVQ(N, nb)
	SHLQ(U8(2), nb)
	n3 := GP64() // output pixel 3: 3·N bytes
	LEAQ(Mem{Base: N, Index: N, Scale: 2}, n3)

	shift, inv, zp, lo, hi := XMM(), YMM(), YMM(), YMM(), YMM()
	VMOVQ(Mem{Base: cs, Disp: oqShift}, shift)
	VPBROADCASTD(Mem{Base: cs, Disp: oqInv}, inv)
	VPBROADCASTD(Mem{Base: cs, Disp: oqZP}, zp)
	VPBROADCASTD(Mem{Base: cs, Disp: oqFLo}, lo)
	VPBROADCASTD(Mem{Base: cs, Disp: oqFHi}, hi)
	// perm gathers the packed bytes pixel by pixel (see store).
	perm := YMM()
	{
		g := GP64()
		MOVQ(U64(0x0703060205010400), g)
		VMOVQ(g, perm.AsX())
		VPMOVZXBD(perm.AsX(), perm)
	}

	Label("block")
	k := YMM()
	VMOVDQU(Mem{Base: prm}, k)
	scale := YMM()
	VMOVDQU(Mem{Base: prm, Index: sOff, Scale: 1}, scale)
	s, o := GP64(), GP64()
	MOVQ(src, s)
	MOVQ(dst, o)
	n := GP64()
	Load(Param("tiles"), n)
	Label("tile")
	s3 := GP64()
	LEAQ(Mem{Base: s, Index: p3, Scale: 1}, s3)
	m0, m1, m2 := YMM(), YMM(), YMM()
	VMOVDQU(Mem{Base: s}, m0)
	VMOVDQU(Mem{Base: s, Index: plane, Scale: 1}, m1)
	VMOVDQU(Mem{Base: s, Index: plane, Scale: 2}, m2)
	a, b, cc, dd := YMM(), YMM(), YMM(), YMM()
	VPADDD(m2, m1, a)
	VPSUBD(m2, m1, b)
	VMOVDQU(Mem{Base: s3}, m1)
	VMOVDQU(Mem{Base: s3, Index: plane, Scale: 1}, m2)
	VPADDD(m2, m1, cc)
	VPSUBD(m2, m1, dd)
	// epilogue divides y exactly, adds k and requantizes it in place.
	epilogue := func(y VecVirtual) {
		VPSRAD(shift, y, y)
		VPMULLD(inv, y, y)
		VPADDD(k, y, y)
		VCVTDQ2PS(y, y)
		VMULPS(scale, y, y)
		VMAXPS(lo, y, y)
		VMINPS(hi, y, y)
		VCVTPS2DQ(y, y)
		VPADDD(zp, y, y)
	}
	y0, y1, y2, y3 := YMM(), YMM(), YMM(), YMM()
	// y0 = m0 + a + cc
	VPADDD(a, m0, y0)
	VPADDD(cc, y0, y0)
	epilogue(y0)
	// y2 = a + 4·cc
	VPSLLD(U8(2), cc, y2)
	VPADDD(a, y2, y2)
	epilogue(y2)
	// y1 = b + 2·dd
	VPSLLD(U8(1), dd, y1)
	VPADDD(b, y1, y1)
	epilogue(y1)
	// y3 = m5 + b + 8·dd
	VPSLLD(U8(3), dd, y3)
	VPADDD(b, y3, y3)
	VPADDD(Mem{Base: s3, Index: plane, Scale: 2}, y3, y3) // m5
	epilogue(y3)
	// Every value is inside int8 now, so the saturating packs are exact.
	// Per 128-bit lane the packs leave dwords y0 y1 y2 y3 (4 channels
	// each): perm puts each pixel's 8 bytes in one qword.
	VPACKSSDW(y1, y0, y0)
	VPACKSSDW(y3, y2, y2)
	VPACKSSWB(y2, y0, y0)
	VPERMD(y0, perm, y0)
	VMOVQ(y0.AsX(), Mem{Base: o})
	VPEXTRQ(U8(1), y0.AsX(), Mem{Base: o, Index: N, Scale: 1})
	VEXTRACTI128(U8(1), y0, y1.AsX())
	VMOVQ(y1.AsX(), Mem{Base: o, Index: N, Scale: 2})
	VPEXTRQ(U8(1), y1.AsX(), Mem{Base: o, Index: n3, Scale: 1})
	ADDQ(nb, s) // 4·N bytes: one source tile and one output tile
	ADDQ(nb, o)
	DECQ(n)
	JNE(LabelRef("tile"))
	ADDQ(U8(32), src)
	ADDQ(U8(8), dst)
	ADDQ(U8(32), prm)
	DECQ(cv)
	JNE(LabelRef("block"))
	VZEROUPPER()
	RET()
}

// winoOutQFP32AVX512 emits winoOutQFP32AVX2 in zmm registers, 16
// channels per block (cv a positive multiple of 16): the int32 results
// go to int8 with VPMOVDB (exact: they are inside int8 already), one
// 16-byte store per pixel.
func winoOutQFP32AVX512() {
	name := "winoOutQFP32AVX512"
	TEXT(name, NOSPLIT, "func(dst *int8, src *int32, plane, tiles, N, cv int, prm, consts *int32)")
	Pragma("noescape")
	Doc(name + " is winoOutQGo for channels 0..cv-1 (cv a positive multiple of 16) of tiles ≥ 1 full tiles.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	plane := Load(Param("plane"), GP64())
	N := Load(Param("N"), GP64())
	cv := Load(Param("cv"), GP64())
	prm := Load(Param("prm"), GP64())
	cs := Load(Param("consts"), GP64())
	sOff := GP64()
	MOVQ(Mem{Base: cs, Disp: oqSOff}, sOff)
	SHLQ(U8(2), plane) // bytes
	SHRQ(U8(4), cv)
	p3 := GP64()
	LEAQ(Mem{Base: plane, Index: plane, Scale: 2}, p3)
	nb := GP64() // bytes per source tile and per output tile: 4·N
	MOVQ(N, nb)
	SHLQ(U8(2), nb)
	n3 := GP64()
	LEAQ(Mem{Base: N, Index: N, Scale: 2}, n3)
	shift, inv, zp, lo, hi := XMM(), ZMM(), ZMM(), ZMM(), ZMM()
	VMOVQ(Mem{Base: cs, Disp: oqShift}, shift)
	VPBROADCASTD(Mem{Base: cs, Disp: oqInv}, inv)
	VPBROADCASTD(Mem{Base: cs, Disp: oqZP}, zp)
	VPBROADCASTD(Mem{Base: cs, Disp: oqFLo}, lo)
	VPBROADCASTD(Mem{Base: cs, Disp: oqFHi}, hi)
	Label("block")
	k, scale := ZMM(), ZMM()
	VMOVDQU32(Mem{Base: prm}, k)
	VMOVDQU32(Mem{Base: prm, Index: sOff, Scale: 1}, scale)
	s, o := GP64(), GP64()
	MOVQ(src, s)
	MOVQ(dst, o)
	n := GP64()
	Load(Param("tiles"), n)
	Label("tile")
	s3 := GP64()
	LEAQ(Mem{Base: s, Index: p3, Scale: 1}, s3)
	m0, m1, m2 := ZMM(), ZMM(), ZMM()
	VMOVDQU32(Mem{Base: s}, m0)
	VMOVDQU32(Mem{Base: s, Index: plane, Scale: 1}, m1)
	VMOVDQU32(Mem{Base: s, Index: plane, Scale: 2}, m2)
	a, b, cc, dd := ZMM(), ZMM(), ZMM(), ZMM()
	VPADDD(m2, m1, a)
	VPSUBD(m2, m1, b)
	VMOVDQU32(Mem{Base: s3}, m1)
	VMOVDQU32(Mem{Base: s3, Index: plane, Scale: 1}, m2)
	VPADDD(m2, m1, cc)
	VPSUBD(m2, m1, dd)
	epilogue := func(y VecVirtual, d Mem) {
		VPSRAD(shift, y, y)
		VPMULLD(inv, y, y)
		VPADDD(k, y, y)
		VCVTDQ2PS(y, y)
		VMULPS(scale, y, y)
		VMAXPS(lo, y, y)
		VMINPS(hi, y, y)
		VCVTPS2DQ(y, y)
		VPADDD(zp, y, y)
		VPMOVDB(y, d)
	}
	y := ZMM()
	// y0 = m0 + a + cc
	VPADDD(a, m0, y)
	VPADDD(cc, y, y)
	epilogue(y, Mem{Base: o})
	// y2 = a + 4·cc
	VPSLLD(U8(2), cc, y)
	VPADDD(a, y, y)
	epilogue(y, Mem{Base: o, Index: N, Scale: 2})
	// y1 = b + 2·dd
	VPSLLD(U8(1), dd, y)
	VPADDD(b, y, y)
	epilogue(y, Mem{Base: o, Index: N, Scale: 1})
	// y3 = m5 + b + 8·dd
	VPSLLD(U8(3), dd, y)
	VPADDD(b, y, y)
	VPADDD(Mem{Base: s3, Index: plane, Scale: 2}, y, y) // m5
	epilogue(y, Mem{Base: o, Index: n3, Scale: 1})
	ADDQ(nb, s)
	ADDQ(nb, o)
	DECQ(n)
	JNE(LabelRef("tile"))
	ADDQ(U8(64), src)
	ADDQ(U8(16), dst)
	ADDQ(U8(64), prm)
	DECQ(cv)
	JNE(LabelRef("block"))
	VZEROUPPER()
	RET()
}
