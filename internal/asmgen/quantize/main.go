// Command quantize generates package kernels' wide float32 → int8 loops
// for XNNPACK's QUANTIZE arithmetic (fixedpoint.FP32Quantize; the TFLite
// runtime's delegate quantizes a model's float input this way) in
// kernels/quantize_xnn_amd64.s and their Go declarations
// (kernels/quantize_xnn_decl_amd64.go) with avo. Run from
// internal/asmgen:
//
//	go run ./quantize -out ../../kernels/quantize_xnn_amd64.s -stubs ../../kernels/quantize_xnn_decl_amd64.go -pkg kernels
//
// The hand-written quantizeI8XNNAVX512 stores 16 values per step with
// VPMOVDB; these loops convert four vectors per step and narrow them with
// saturating packs (one 64-byte store with AVX-512, 32 bytes with AVX2),
// the only form of the loop an AVX2 machine has.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	quantizeXNNAVX512()
	quantizeXNNAVX2()
	Generate()
}

// The arithmetic, per value: v = x·inv (VMULPS rounds to nearest even as
// Go's float32 product does); a block with any |v| ≥ 2^30 or NaN is left
// to the Go loop (the function returns the values done before it);
// otherwise q = clamp(roundHalfEven(v) + zp, lo, hi) (VCVTPS2DQ under
// Go's default MXCSR). Here the int32 r = round(v) is narrowed with
// saturating packs to int16, zp added with int16 saturation, packed to
// int8 with saturation and then clamped to [lo, hi]: with |zp| ≤ 128 and
// [lo, hi] inside int8, a value saturated on the way is beyond int8 and
// ends at the bound the exact r + zp would reach, and any other is exact.

const doc = "XNNPACK's float32 → int8 quantization (fixedpoint.FP32Quantize with the float32 1/scale inv)"

// quantizeXNNAVX512 emits quantizeI8XNN64AVX512: 64 values per step (n
// a multiple of 64).
func quantizeXNNAVX512() {
	TEXT("quantizeI8XNN64AVX512", NOSPLIT, "func(xs *float32, ys *int8, n int, inv float32, zp int16, lo, hi int8) int")
	Pragma("noescape")
	Doc("quantizeI8XNN64AVX512 is "+doc+" on blocks of 64 values (n a multiple of 64);",
		"it stops before the first block with a NaN or a product of magnitude 2^30 or more and returns the values done.")
	xs := Load(Param("xs"), GP64())
	ys := Load(Param("ys"), GP64())
	n := Load(Param("n"), GP64())
	inv, zp, lo, hi, abs, lim, perm := Z20, Z21, Z22, Z23, Z24, Z25, Z26
	VBROADCASTSS(NewParamAddr("inv", 24), inv)
	VPBROADCASTW(NewParamAddr("zp", 28), zp)
	VPBROADCASTB(NewParamAddr("lo", 30), lo)
	VPBROADCASTB(NewParamAddr("hi", 31), hi)
	t := GP32()
	MOVL(U32(0x7fffffff), t)
	VPBROADCASTD(t, abs)
	MOVL(U32(0x4e800000), t) // 2^30: unsigned ≥ is ≥ 2^30 or NaN
	VPBROADCASTD(t, lim)
	// The in-lane packs leave dword 4L+i of the result holding values
	// 16i+4L .. 16i+4L+3 (vector i, lane L): VPERMD puts them in order.
	VMOVDQU64(permTable("qxnnPerm16", 16), perm)
	done := GP64()
	XORQ(done, done)
	Label("loop")
	CMPQ(done, n)
	JGE(LabelRef("out"))
	v := []VecPhysical{Z0, Z1, Z2, Z3}
	a := []VecPhysical{Z4, Z5, Z6, Z7}
	ks := []OpmaskPhysical{K1, K2, K3, K4}
	for i := range v {
		VMULPS(Mem{Base: xs, Index: done, Scale: 4, Disp: 64 * i}, inv, v[i])
		VPANDD(abs, v[i], a[i])
		VPCMPUD(U8(5), lim, a[i], ks[i]) // |v| ≥ 2^30, or NaN
	}
	KORW(K2, K1, K1)
	KORW(K4, K3, K3)
	KORTESTW(K3, K1)
	JNZ(LabelRef("out"))
	for i := range v {
		VCVTPS2DQ(v[i], v[i])
	}
	VPACKSSDW(v[1], v[0], v[0])
	VPACKSSDW(v[3], v[2], v[2])
	VPADDSW(zp, v[0], v[0])
	VPADDSW(zp, v[2], v[2])
	VPACKSSWB(v[2], v[0], v[0])
	VPMAXSB(lo, v[0], v[0])
	VPMINSB(hi, v[0], v[0])
	VPERMD(v[0], perm, v[0])
	VMOVDQU64(v[0], Mem{Base: ys, Index: done, Scale: 1})
	ADDQ(U8(64), done)
	JMP(LabelRef("loop"))
	Label("out")
	Store(done, ReturnIndex(0))
	VZEROUPPER()
	RET()
}

// permTable emits and returns the VPERMD indices that undo the in-lane
// order the packs leave when four vectors of n int32 (16 in a zmm, 8 in a
// ymm) are narrowed to the bytes of one.
func permTable(name string, n int) Mem {
	lanes := n / 4
	m := GLOBL(name, RODATA|NOPTR)
	for d := 0; d < n; d++ {
		// Output dword d = (lanes)·i + L holds vector i, lane L, which
		// the packs put at dword 4L + i.
		i, l := d/lanes, d%lanes
		DATA(4*d, U32(uint32(4*l+i)))
	}
	return m
}

// quantizeXNNAVX2 emits quantizeI8XNN32AVX2: 32 values per step (n a
// multiple of 32), the same arithmetic on ymm registers.
func quantizeXNNAVX2() {
	TEXT("quantizeI8XNN32AVX2", NOSPLIT, "func(xs *float32, ys *int8, n int, inv float32, zp int16, lo, hi int8) int")
	Pragma("noescape")
	Doc("quantizeI8XNN32AVX2 is "+doc+" on blocks of 32 values (n a multiple of 32);",
		"it stops before the first block with a NaN or a product of magnitude 2^30 or more and returns the values done.")
	xs := Load(Param("xs"), GP64())
	ys := Load(Param("ys"), GP64())
	n := Load(Param("n"), GP64())
	inv, zp, lo, hi, abs, lim, perm := Y8, Y9, Y10, Y11, Y12, Y13, Y14
	VBROADCASTSS(NewParamAddr("inv", 24), inv)
	VPBROADCASTW(NewParamAddr("zp", 28), zp)
	VPBROADCASTB(NewParamAddr("lo", 30), lo)
	VPBROADCASTB(NewParamAddr("hi", 31), hi)
	t := GP32()
	MOVL(U32(0x7fffffff), t)
	MOVD(t, X12)
	VPBROADCASTD(X12, abs)
	MOVL(U32(0x4e7fffff), t) // just below 2^30: signed > is ≥ 2^30 or NaN
	MOVD(t, X13)
	VPBROADCASTD(X13, lim)
	VMOVDQU(permTable("qxnnPerm8", 8), perm)
	done := GP64()
	XORQ(done, done)
	Label("loop")
	CMPQ(done, n)
	JGE(LabelRef("out"))
	v := []VecPhysical{Y0, Y1, Y2, Y3}
	a := []VecPhysical{Y4, Y5, Y6, Y7}
	for i := range v {
		VMULPS(Mem{Base: xs, Index: done, Scale: 4, Disp: 32 * i}, inv, v[i])
		VPAND(abs, v[i], a[i])
		VPCMPGTD(lim, a[i], a[i])
	}
	VPOR(a[1], a[0], a[0])
	VPOR(a[3], a[2], a[2])
	VPOR(a[2], a[0], a[0])
	VPTEST(a[0], a[0])
	JNZ(LabelRef("out"))
	for i := range v {
		VCVTPS2DQ(v[i], v[i])
	}
	VPACKSSDW(v[1], v[0], v[0])
	VPACKSSDW(v[3], v[2], v[2])
	VPADDSW(zp, v[0], v[0])
	VPADDSW(zp, v[2], v[2])
	VPACKSSWB(v[2], v[0], v[0])
	VPMAXSB(lo, v[0], v[0])
	VPMINSB(hi, v[0], v[0])
	VPERMD(v[0], perm, v[0])
	VMOVDQU(v[0], Mem{Base: ys, Index: done, Scale: 1})
	ADDQ(U8(32), done)
	JMP(LabelRef("loop"))
	Label("out")
	Store(done, ReturnIndex(0))
	VZEROUPPER()
	RET()
}
