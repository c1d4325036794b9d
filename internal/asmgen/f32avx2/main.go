// Command f32avx2 generates kernels/f32_avx2_amd64.s and its Go
// declarations (kernels/f32_avx2_stubs_amd64.go) with avo: the AVX2 forms,
// for CPUs without AVX-512, of package kernels' float loops whose AVX-512
// forms are in depthwise_amd64.s (the float depthwise interior),
// hybrid_amd64.s (the hybrid conv's range, quantization and epilogue) and
// pool_sum_amd64.s (average-pool pixel sums). Each does the AVX-512
// loop's operations in the same order and operand order, 8 lanes per ymm,
// so its outputs have the same bits. Run from internal/asmgen:
//
//	go run ./f32avx2 -out ../../kernels/f32_avx2_amd64.s -stubs ../../kernels/f32_avx2_stubs_amd64.go -pkg kernels
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	dwAccF32x64()
	dwAccF32x16()
	hybridRange()
	hybridQuant()
	hybridOut()
	sumPixF32()
	Generate()
}

// ymm returns the i-th physical ymm register.
func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

// dwArgs loads the depthwise loops' common arguments: DI acc, R14
// accStride, SI src, R8 step, R9 off, R10 the end of off, R11 w, R13
// init, CX npix.
func dwArgs() {
	Load(Param("acc"), RDI)
	Load(Param("accStride"), R14)
	Load(Param("src"), RSI)
	Load(Param("step"), R8)
	Load(Param("off"), R9)
	Load(Param("ntaps"), R10)
	LEAQ(Mem{Base: R9, Index: R10, Scale: 8}, R10)
	Load(Param("w"), R11)
	Load(Param("init"), R13)
	Load(Param("npix"), RCX)
}

const dwDoc = " adds, for npix output pixels p, init[c] + Σ_t w[t][c]·x[p·step + off[t] + c] (one rounding per product and per sum, taps in order), then bias, max with lo and min with hi from ep, into acc[p·accStride + c]"

// dwAccF32x64 emits dwAccF32x64AVX512 for AVX2. The 64 lanes run as two
// halves of 32, each over pixel pairs: the pair's accumulators in Y0–Y3
// and Y4–Y7, the tap's 32 weights in Y8–Y11 (loaded once for both
// pixels), products in Y12–Y13, lo in Y14 and hi in Y15 (the bias is read
// from ep in the epilogue); an odd last pixel runs alone. Each lane sees
// the same operations in the same order as on AVX-512.
func dwAccF32x64() {
	TEXT("dwAccF32x64AVX2", NOSPLIT, "func(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, ep *float32)")
	Pragma("noescape")
	Doc("dwAccF32x64AVX2" + dwDoc + " (64 lanes; ep holds 64 biases, lo, hi).")
	dwArgs()
	ep := Load(Param("ep"), RDX)
	VBROADCASTSS(Mem{Base: ep, Disp: 256}, Y14)
	VBROADCASTSS(Mem{Base: ep, Disp: 260}, Y15)
	// R15 is the second pixel's window. The second half reloads the
	// arguments and moves acc, src, w, init and ep on by 128 bytes.
	for h := 0; h < 2; h++ {
		pfx := []string{"h0", "h1"}[h]
		if h == 1 {
			dwArgs()
			ep = Load(Param("ep"), RDX)
			ADDQ(U8(128), RDI)
			ADDQ(U8(128), RSI)
			ADDQ(U8(128), R11)
			ADDQ(U8(128), R13)
			ADDQ(U8(128), RDX)
		}
		Label(pfx + "pair")
		CMPQ(RCX, U8(2))
		JL(LabelRef(pfx + "one"))
		for j := 0; j < 4; j++ {
			VMOVUPS(Mem{Base: R13, Disp: 32 * j}, ymm(j))
			VMOVUPS(ymm(j), ymm(4+j))
		}
		LEAQ(Mem{Base: RSI, Index: R8, Scale: 1}, R15)
		MOVQ(R9, RBX)
		MOVQ(R11, R12)
		Label(pfx + "ptap")
		MOVQ(Mem{Base: RBX}, RAX)
		for j := 0; j < 4; j++ {
			VMOVUPS(Mem{Base: R12, Disp: 32 * j}, ymm(8+j))
		}
		for p, base := range []Register{RSI, R15} {
			for j := 0; j < 4; j++ {
				t := ymm(12 + j%2)
				VMULPS(Mem{Base: base, Index: RAX, Scale: 1, Disp: 32 * j}, ymm(8+j), t)
				VADDPS(t, ymm(4*p+j), ymm(4*p+j))
			}
		}
		ADDQ(U32(256), R12)
		ADDQ(U8(8), RBX)
		CMPQ(RBX, R10)
		JNE(LabelRef(pfx + "ptap"))
		for p := 0; p < 2; p++ {
			for j := 0; j < 4; j++ {
				a := ymm(4*p + j)
				VADDPS(Mem{Base: ep, Disp: 32 * j}, a, a)
				VMAXPS(a, Y14, a)
				VMINPS(a, Y15, a)
				VMOVUPS(a, Mem{Base: RDI, Disp: 32 * j})
			}
			ADDQ(R14, RDI)
		}
		LEAQ(Mem{Base: RSI, Index: R8, Scale: 2}, RSI)
		SUBQ(U8(2), RCX)
		JMP(LabelRef(pfx + "pair"))
		Label(pfx + "one")
		TESTQ(RCX, RCX)
		JZ(LabelRef(pfx + "done"))
		for j := 0; j < 4; j++ {
			VMOVUPS(Mem{Base: R13, Disp: 32 * j}, ymm(j))
		}
		MOVQ(R9, RBX)
		MOVQ(R11, R12)
		Label(pfx + "otap")
		MOVQ(Mem{Base: RBX}, RAX)
		for j := 0; j < 4; j++ {
			VMOVUPS(Mem{Base: R12, Disp: 32 * j}, ymm(8+j))
		}
		for j := 0; j < 4; j++ {
			t := ymm(12 + j%2)
			VMULPS(Mem{Base: RSI, Index: RAX, Scale: 1, Disp: 32 * j}, ymm(8+j), t)
			VADDPS(t, ymm(j), ymm(j))
		}
		ADDQ(U32(256), R12)
		ADDQ(U8(8), RBX)
		CMPQ(RBX, R10)
		JNE(LabelRef(pfx + "otap"))
		for j := 0; j < 4; j++ {
			a := ymm(j)
			VADDPS(Mem{Base: ep, Disp: 32 * j}, a, a)
			VMAXPS(a, Y14, a)
			VMINPS(a, Y15, a)
			VMOVUPS(a, Mem{Base: RDI, Disp: 32 * j})
		}
		Label(pfx + "done")
	}
	VZEROUPPER()
	RET()
}

// dwAccF32x16 emits dwAccF32x16AVX512 for AVX2: 16 lanes in Y0–Y1, read
// and stored through the lane masks Y12–Y13 (VMASKMOVPS neither reads nor
// faults on masked-off lanes, which load as zeros, as the AVX-512 form's
// zeroing masked loads).
func dwAccF32x16() {
	TEXT("dwAccF32x16AVX2", NOSPLIT, "func(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, mask *int32, ep *float32)")
	Pragma("noescape")
	Doc("dwAccF32x16AVX2" + dwDoc + " (16 lanes, those whose mask lane is all ones; ep holds 16 biases, lo, hi).")
	dwArgs()
	m := Load(Param("mask"), RAX)
	VMOVDQU(Mem{Base: m}, Y12)
	VMOVDQU(Mem{Base: m, Disp: 32}, Y13)
	ep := Load(Param("ep"), RDX)
	VBROADCASTSS(Mem{Base: ep, Disp: 64}, Y14)
	VBROADCASTSS(Mem{Base: ep, Disp: 68}, Y15)
	TESTQ(RCX, RCX)
	JZ(LabelRef("f2x16done"))
	Label("f2x16pix")
	VMOVUPS(Mem{Base: R13}, Y0)
	VMOVUPS(Mem{Base: R13, Disp: 32}, Y1)
	MOVQ(R9, RBX)
	MOVQ(R11, R12)
	Label("f2x16tap")
	MOVQ(Mem{Base: RBX}, RAX)
	VMASKMOVPS(Mem{Base: RSI, Index: RAX, Scale: 1}, Y12, Y10)
	VMASKMOVPS(Mem{Base: RSI, Index: RAX, Scale: 1, Disp: 32}, Y13, Y11)
	VMOVUPS(Mem{Base: R12}, Y8)
	VMOVUPS(Mem{Base: R12, Disp: 32}, Y9)
	VMULPS(Y10, Y8, Y8)
	VMULPS(Y11, Y9, Y9)
	VADDPS(Y8, Y0, Y0)
	VADDPS(Y9, Y1, Y1)
	ADDQ(U8(64), R12)
	ADDQ(U8(8), RBX)
	CMPQ(RBX, R10)
	JNE(LabelRef("f2x16tap"))
	VADDPS(Mem{Base: ep}, Y0, Y0)
	VADDPS(Mem{Base: ep, Disp: 32}, Y1, Y1)
	VMAXPS(Y0, Y14, Y0)
	VMAXPS(Y1, Y14, Y1)
	VMINPS(Y0, Y15, Y0)
	VMINPS(Y1, Y15, Y1)
	VMASKMOVPS(Y0, Y12, Mem{Base: RDI})
	VMASKMOVPS(Y1, Y13, Mem{Base: RDI, Disp: 32})
	ADDQ(R14, RDI)
	ADDQ(R8, RSI)
	DECQ(RCX)
	JNZ(LabelRef("f2x16pix"))
	Label("f2x16done")
	VZEROUPPER()
	RET()
}

// broadcast32 fills y with the 32-bit constant v.
func broadcast32(v uint32, y VecPhysical) {
	MOVL(U32(v), EAX)
	VMOVD(EAX, y.AsX())
	VPBROADCASTD(y.AsX(), y)
}

// hybridRange emits hybridRangeAVX512 for AVX2 (n a positive multiple of
// 8): running minima in Y0/Y3, maxima in Y1/Y4 and largest |x| bit
// patterns (unsigned) in Y2/Y5, two vectors per step, then one.
func hybridRange() {
	TEXT("hybridRangeAVX2", NOSPLIT, "func(x *float32, n int) (lo float32, hi float32, bits uint32)")
	Pragma("noescape")
	Doc("hybridRangeAVX2 is hybridRangeAVX512 for AVX2: n is a positive multiple of 8; lo and hi are the minimum and maximum of x when it holds no NaN; bits is the largest |x| bit pattern, ≥ 0x7F800000 exactly when x holds a NaN or an infinity.")
	x := Load(Param("x"), RSI)
	n := Load(Param("n"), RCX)
	broadcast32(0x7FFFFFFF, Y15)
	VMOVUPS(Mem{Base: x}, Y0)
	VMOVAPS(Y0, Y1)
	VPAND(Y15, Y0, Y2)
	VMOVAPS(Y0, Y3)
	VMOVAPS(Y1, Y4)
	VMOVAPS(Y2, Y5)
	MOVQ(U32(8), RBX)
	MOVQ(n, RDX)
	SUBQ(U8(8), RDX) // the last start of a 16-value step
	Label("r2pair")
	CMPQ(RBX, RDX)
	JGE(LabelRef("r2single"))
	VMOVUPS(Mem{Base: x, Index: RBX, Scale: 4}, Y6)
	VMOVUPS(Mem{Base: x, Index: RBX, Scale: 4, Disp: 32}, Y7)
	VMINPS(Y6, Y0, Y0)
	VMAXPS(Y6, Y1, Y1)
	VPAND(Y15, Y6, Y6)
	VPMAXUD(Y6, Y2, Y2)
	VMINPS(Y7, Y3, Y3)
	VMAXPS(Y7, Y4, Y4)
	VPAND(Y15, Y7, Y7)
	VPMAXUD(Y7, Y5, Y5)
	ADDQ(U8(16), RBX)
	JMP(LabelRef("r2pair"))
	Label("r2single")
	CMPQ(RBX, n)
	JGE(LabelRef("r2reduce"))
	VMOVUPS(Mem{Base: x, Index: RBX, Scale: 4}, Y6)
	VMINPS(Y6, Y0, Y0)
	VMAXPS(Y6, Y1, Y1)
	VPAND(Y15, Y6, Y6)
	VPMAXUD(Y6, Y2, Y2)
	Label("r2reduce")
	VMINPS(Y3, Y0, Y0)
	VMAXPS(Y4, Y1, Y1)
	VPMAXUD(Y5, Y2, Y2)
	VEXTRACTF128(U8(1), Y0, X3)
	VMINPS(X3, X0, X0)
	VPSHUFD(U8(0x4E), X0, X3)
	VMINPS(X3, X0, X0)
	VPSHUFD(U8(0xB1), X0, X3)
	VMINPS(X3, X0, X0)
	Store(X0, Return("lo"))
	VEXTRACTF128(U8(1), Y1, X3)
	VMAXPS(X3, X1, X1)
	VPSHUFD(U8(0x4E), X1, X3)
	VMAXPS(X3, X1, X1)
	VPSHUFD(U8(0xB1), X1, X3)
	VMAXPS(X3, X1, X1)
	Store(X1, Return("hi"))
	VEXTRACTI128(U8(1), Y2, X3)
	VPMAXUD(X3, X2, X2)
	VPSHUFD(U8(0x4E), X2, X3)
	VPMAXUD(X3, X2, X2)
	VPSHUFD(U8(0xB1), X2, X3)
	VPMAXUD(X3, X2, X2)
	VMOVD(X2, EAX)
	Store(EAX, Return("bits"))
	VZEROUPPER()
	RET()
}

// hybridQuant emits hybridQuantAVX512 for AVX2 over n a multiple of 8:
// round half away from zero as HQUANT16 does it — trunc(v) and v −
// trunc(v) are exact for |v| < 2^23, and where |v − t| ≥ ½ (an ordered
// compare of finite non-negative values) t moves one away from zero —
// then the clamp, and the packs to bytes (the values are inside [lo, hi]
// ⊂ [−128, 127], so the saturation changes none).
func hybridQuant() {
	TEXT("hybridQuantAVX2", NOSPLIT, "func(xs *float32, ys *int8, n int, inv float32, zp float32, lo int32, hi int32)")
	Pragma("noescape")
	Doc("hybridQuantAVX2 writes ys[i] = clamp(round½away(zp + xs[i]·inv), lo, hi) for i < n, n a multiple of 8 (hybridQuantAVX512 for AVX2).")
	xs := Load(Param("xs"), RSI)
	ys := Load(Param("ys"), RDI)
	n := Load(Param("n"), RCX)
	inv, zp, lo, hi := Y8, Y9, Y10, Y11
	VBROADCASTSS(paramAddr("inv"), inv)
	VBROADCASTSS(paramAddr("zp"), zp)
	VBROADCASTSS(paramAddr("lo"), lo) // 32 bits copied as they are
	VBROADCASTSS(paramAddr("hi"), hi)
	abs, half, sign, one := Y12, Y13, Y14, Y15
	broadcast32(0x7FFFFFFF, abs)
	broadcast32(0x3F000000, half)
	broadcast32(0x80000000, sign)
	broadcast32(0x3F800000, one)
	XORQ(RBX, RBX)
	Label("hq2loop")
	CMPQ(RBX, n)
	JGE(LabelRef("hq2done"))
	VMOVUPS(Mem{Base: xs, Index: RBX, Scale: 4}, Y0)
	VMULPS(inv, Y0, Y0)
	VADDPS(Y0, zp, Y0)
	VROUNDPS(U8(0x0B), Y0, Y2) // toward zero, no precision exception
	VSUBPS(Y2, Y0, Y3)
	VANDPS(abs, Y3, Y3)
	VCMPPS(U8(0x0D), half, Y3, Y3) // |v − t| ≥ ½
	VANDPS(sign, Y0, Y4)
	VORPS(one, Y4, Y4)
	VANDPS(Y3, Y4, Y4)
	VADDPS(Y4, Y2, Y2)
	VCVTTPS2DQ(Y2, Y2)
	VPMAXSD(lo, Y2, Y2)
	VPMINSD(hi, Y2, Y2)
	VEXTRACTI128(U8(1), Y2, X3)
	VPACKSSDW(X3, X2, X2)
	VPACKSSWB(X2, X2, X2)
	MOVQ(X2, Mem{Base: ys, Index: RBX, Scale: 1})
	ADDQ(U8(8), RBX)
	JMP(LabelRef("hq2loop"))
	Label("hq2done")
	VZEROUPPER()
	RET()
}

// hybridOut emits hybridOutAVX512 for AVX2 over the first n &^ 7 columns
// of each row (the caller finishes the others): the int32 difference,
// its conversion, the product and the sum rounded separately, then max
// with lo and min with hi (which return the value when it is NaN).
func hybridOut() {
	TEXT("hybridOutAVX2", NOSPLIT, "func(dst *float32, acc *int32, rows int, n int, off *int32, sc *float32, bias *float32, lo float32, hi float32)")
	Pragma("noescape")
	Doc("hybridOutAVX2 writes dst[j] = min(max(float32(acc[j] − off[j])·sc[j] + bias[j], lo), hi) for the first n &^ 7 columns of rows rows (row stride n in dst and acc).")
	dst := Load(Param("dst"), RDI)
	acc := Load(Param("acc"), RSI)
	rows := Load(Param("rows"), R8)
	n := Load(Param("n"), R9)
	off := Load(Param("off"), R10)
	sc := Load(Param("sc"), R11)
	bias := Load(Param("bias"), R12)
	VBROADCASTSS(paramAddr("lo"), Y14)
	VBROADCASTSS(paramAddr("hi"), Y15)
	MOVQ(n, R13)
	ANDQ(I8(-8), R13)
	Label("ho2row")
	TESTQ(rows, rows)
	JZ(LabelRef("ho2done"))
	XORQ(RBX, RBX)
	Label("ho2col")
	CMPQ(RBX, R13)
	JGE(LabelRef("ho2next"))
	VMOVDQU(Mem{Base: acc, Index: RBX, Scale: 4}, Y0)
	VPSUBD(Mem{Base: off, Index: RBX, Scale: 4}, Y0, Y0)
	VCVTDQ2PS(Y0, Y0)
	VMULPS(Mem{Base: sc, Index: RBX, Scale: 4}, Y0, Y0)
	VADDPS(Mem{Base: bias, Index: RBX, Scale: 4}, Y0, Y0)
	VMAXPS(Y0, Y14, Y0)
	VMINPS(Y0, Y15, Y0)
	VMOVUPS(Y0, Mem{Base: dst, Index: RBX, Scale: 4})
	ADDQ(U8(8), RBX)
	JMP(LabelRef("ho2col"))
	Label("ho2next")
	LEAQ(Mem{Base: acc, Index: n, Scale: 4}, acc)
	LEAQ(Mem{Base: dst, Index: n, Scale: 4}, dst)
	DECQ(rows)
	JMP(LabelRef("ho2row"))
	Label("ho2done")
	VZEROUPPER()
	RET()
}

// sumPixF32 emits sumPixF32AVX512 for AVX2: 8 channels per block, each
// channel's sum adding the pixels in order.
func sumPixF32() {
	TEXT("sumPixF32AVX2", NOSPLIT, "func(acc *float32, src *float32, npix, C, cv int)")
	Pragma("noescape")
	Doc("sumPixF32AVX2 adds npix float32 pixels (C apart from src) to acc, the first cv channels (a multiple of 8), each channel in pixel order.")
	acc := Load(Param("acc"), RDI)
	src := Load(Param("src"), RSI)
	npix := Load(Param("npix"), R8)
	c := Load(Param("C"), R10)
	SHLQ(U8(2), c)
	cv := Load(Param("cv"), RCX)
	XORQ(RBX, RBX)
	Label("s2block")
	CMPQ(RBX, cv)
	JGE(LabelRef("s2done"))
	VMOVUPS(Mem{Base: acc, Index: RBX, Scale: 4}, Y0)
	LEAQ(Mem{Base: src, Index: RBX, Scale: 4}, R9)
	MOVQ(npix, RDX)
	Label("s2pix")
	TESTQ(RDX, RDX)
	JZ(LabelRef("s2store"))
	VADDPS(Mem{Base: R9}, Y0, Y0)
	ADDQ(c, R9)
	DECQ(RDX)
	JMP(LabelRef("s2pix"))
	Label("s2store")
	VMOVUPS(Y0, Mem{Base: acc, Index: RBX, Scale: 4})
	ADDQ(U8(8), RBX)
	JMP(LabelRef("s2block"))
	Label("s2done")
	VZEROUPPER()
	RET()
}

// paramAddr is the frame address of the named parameter.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}
