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

// oqArgs are the registers both fused kernels set up from their
// arguments and consts before the channel-block loop.
type oqArgs struct {
	dst, src, plane, N, cv, prm, cs, sOff, p3, nb, n3 Register
	shift, inv, zp, lo, hi                            VecVirtual
}

// oqPrologue loads the kernels' arguments and consts: plane in bytes, cv
// in blocks of 2^cvShift channels, p3 = 3·plane, nb = 4·N (bytes per
// source tile and per output tile), n3 = 3·N, and the broadcast
// constants in vectors from vec.
func oqPrologue(cvShift uint8, vec func() VecVirtual) oqArgs {
	var r oqArgs
	r.dst = Load(Param("dst"), GP64())
	r.src = Load(Param("src"), GP64())
	r.plane = Load(Param("plane"), GP64())
	r.N = Load(Param("N"), GP64())
	r.cv = Load(Param("cv"), GP64())
	r.prm = Load(Param("prm"), GP64())
	r.cs = Load(Param("consts"), GP64())
	r.sOff = GP64()
	MOVQ(Mem{Base: r.cs, Disp: oqSOff}, r.sOff)
	SHLQ(U8(2), r.plane) // bytes
	SHRQ(U8(cvShift), r.cv)
	r.p3 = GP64()
	LEAQ(Mem{Base: r.plane, Index: r.plane, Scale: 2}, r.p3)
	r.nb = GP64()
	MOVQ(r.N, r.nb)
	SHLQ(U8(2), r.nb)
	r.n3 = GP64()
	LEAQ(Mem{Base: r.N, Index: r.N, Scale: 2}, r.n3)
	r.shift = XMM()
	r.inv, r.zp, r.lo, r.hi = vec(), vec(), vec(), vec()
	VMOVQ(Mem{Base: r.cs, Disp: oqShift}, r.shift)
	VPBROADCASTD(Mem{Base: r.cs, Disp: oqInv}, r.inv)
	VPBROADCASTD(Mem{Base: r.cs, Disp: oqZP}, r.zp)
	VPBROADCASTD(Mem{Base: r.cs, Disp: oqFLo}, r.lo)
	VPBROADCASTD(Mem{Base: r.cs, Disp: oqFHi}, r.hi)
	return r
}

// oqTileIn loads a tile's products m0..m4 at s (planes plane bytes
// apart, s3 = s + 3·plane) with load and forms m0 and Aᵀ's pair sums
// a = m1+m2, b = m1−m2, cc = m3+m4, dd = m3−m4; m5 is read later from s3.
func oqTileIn(r oqArgs, s Register, vec func() VecVirtual, load func(Mem, VecVirtual)) (s3 Register, m0, a, b, cc, dd VecVirtual) {
	s3 = GP64()
	LEAQ(Mem{Base: s, Index: r.p3, Scale: 1}, s3)
	m0 = vec()
	m1, m2 := vec(), vec()
	load(Mem{Base: s}, m0)
	load(Mem{Base: s, Index: r.plane, Scale: 1}, m1)
	load(Mem{Base: s, Index: r.plane, Scale: 2}, m2)
	a, b, cc, dd = vec(), vec(), vec(), vec()
	VPADDD(m2, m1, a)
	VPSUBD(m2, m1, b)
	load(Mem{Base: s3}, m1)
	load(Mem{Base: s3, Index: r.plane, Scale: 1}, m2)
	VPADDD(m2, m1, cc)
	VPSUBD(m2, m1, dd)
	return
}

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
	r := oqPrologue(3, func() VecVirtual { return YMM() })
	dst, src, N, cv, prm, sOff, plane, nb, n3 := r.dst, r.src, r.N, r.cv, r.prm, r.sOff, r.plane, r.nb, r.n3
	shift, inv, zp, lo, hi := r.shift, r.inv, r.zp, r.lo, r.hi
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
	s3, m0, a, b, cc, dd := oqTileIn(r, s, func() VecVirtual { return YMM() }, func(m Mem, v VecVirtual) { VMOVDQU(m, v) })
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
	r := oqPrologue(4, func() VecVirtual { return ZMM() })
	dst, src, N, cv, prm, sOff, plane, nb, n3 := r.dst, r.src, r.N, r.cv, r.prm, r.sOff, r.plane, r.nb, r.n3
	shift, inv, zp, lo, hi := r.shift, r.inv, r.zp, r.lo, r.hi
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
	s3, m0, a, b, cc, dd := oqTileIn(r, s, func() VecVirtual { return ZMM() }, func(m Mem, v VecVirtual) { VMOVDQU32(m, v) })
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
