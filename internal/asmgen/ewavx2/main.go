// Command ewavx2 generates kernels/ew_avx2_amd64.s and its Go declarations
// (kernels/ew_avx2_stubs_amd64.go) with avo: AVX2 forms of element-wise
// and pooling loops that had only an AVX-512 form or plain Go — the 8-bit
// clamp (RELU, RELU6 and RELU_N1_TO_1 whose rescale is the identity), the
// 256-entry byte table lookup of the 8-bit element-wise ops (AVX-512 VBMI
// has VPERMI2B for it; AVX2 only 16-entry VPSHUFB), the integer
// average-pool pixel sums (int8, uint8, int16), the general int16 ADD
// of 16x8 models, the sign-bit flip of u8-offset int8 inputs, the affine form
// of an 8-bit table (kernels.affine8) and the int8 2×2 max pool fused with
// it. Every loop is integer arithmetic that gives the Go loop's results
// exactly. Run from internal/asmgen:
//
//	go run ./ewavx2 -out ../../kernels/ew_avx2_amd64.s -stubs ../../kernels/ew_avx2_stubs_amd64.go -pkg kernels
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	clamp8(true)
	clamp8(false)
	sumPix("I8", "int8", 1, func(m Mem, y VecPhysical) { VPMOVSXBD(m, y) })
	sumPix("U8", "uint8", 1, func(m Mem, y VecPhysical) { VPMOVZXBD(m, y) })
	sumPix("I16", "int16", 2, func(m Mem, y VecPhysical) { VPMOVSXWD(m, y) })
	add16()
	lookup8()
	affine8(true)
	affine8(false)
	max2x2Affine8()
	xor80()
	max2x2Pix16(true)
	max2x2Pix16(false)
	Generate()
}

// clamp8 emits y[i] = min(max(x[i], lo), hi) over n bytes (n a multiple of
// 32), signed (int8) or unsigned (uint8) compares.
func clamp8(signed bool) {
	name, typ := "clampU8AVX2", "uint8"
	if signed {
		name, typ = "clampI8AVX2", "int8"
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x, y *%s, n int, lo, hi %s)", typ, typ))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets y[i] = min(max(x[i], lo), hi) for n %s values (n a multiple of 32).", name, typ))
	x, y, n := Load(Param("x"), RSI), Load(Param("y"), RDI), Load(Param("n"), RCX)
	VPBROADCASTB(paramAddr("lo"), Y14)
	VPBROADCASTB(paramAddr("hi"), Y15)
	XORQ(RBX, RBX)
	loop, done := name+"_loop", name+"_done"
	Label(loop)
	CMPQ(RBX, n)
	JGE(LabelRef(done))
	VMOVDQU(Mem{Base: x, Index: RBX, Scale: 1}, Y0)
	if signed {
		VPMAXSB(Y14, Y0, Y0)
		VPMINSB(Y15, Y0, Y0)
	} else {
		VPMAXUB(Y14, Y0, Y0)
		VPMINUB(Y15, Y0, Y0)
	}
	VMOVDQU(Y0, Mem{Base: y, Index: RBX, Scale: 1})
	ADDQ(U8(32), RBX)
	JMP(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// sumPix emits the average pool's pixel sums: npix pixels C channels apart
// from src added to the int32 accumulators at acc, 8 channels at a time
// for the first cv channels (a multiple of 8), each channel's pixels in
// order (integer sums: exact in any order, kept the same anyway).
func sumPix(suffix, typ string, size int, widen func(Mem, VecPhysical)) {
	name := "sumPix" + suffix + "AVX2"
	TEXT(name, NOSPLIT, fmt.Sprintf("func(acc *int32, src *%s, npix, C, cv int)", typ))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds npix %s pixels (C apart from src) to acc, the first cv channels (a multiple of 8).", name, typ))
	acc := Load(Param("acc"), RDI)
	src := Load(Param("src"), RSI)
	npix := Load(Param("npix"), R8)
	c := Load(Param("C"), R10)
	if size == 2 {
		SHLQ(U8(1), c)
	}
	cv := Load(Param("cv"), RCX)
	XORQ(RBX, RBX)
	block, pix, store, done := name+"_block", name+"_pix", name+"_store", name+"_done"
	Label(block)
	CMPQ(RBX, cv)
	JGE(LabelRef(done))
	VMOVDQU(Mem{Base: acc, Index: RBX, Scale: 4}, Y0)
	LEAQ(Mem{Base: src, Index: RBX, Scale: uint8(size)}, R9)
	MOVQ(npix, RDX)
	Label(pix)
	TESTQ(RDX, RDX)
	JZ(LabelRef(store))
	widen(Mem{Base: R9}, Y1)
	VPADDD(Y1, Y0, Y0)
	ADDQ(c, R9)
	DECQ(RDX)
	JMP(LabelRef(pix))
	Label(store)
	VMOVDQU(Y0, Mem{Base: acc, Index: RBX, Scale: 4})
	ADDQ(U8(8), RBX)
	JMP(LabelRef(block))
	Label(done)
	VZEROUPPER()
	RET()
}

// The constant rows of add16AVX2's table p (kernels.add16Consts): each
// row is 8 int32 lanes; the count rows hold the shift in lane 0.
const (
	cML1   = iota // input 1 multiplier, low 16 bits
	cMH1          // input 1 multiplier >> 16
	cMask1        // 2^e1 − 1
	cHalf1        // (2^e1 − 1) >> 1
	cE1           // e1 (count)
	cML2
	cMH2
	cMask2
	cHalf2
	cE2
	cMO    // output multiplier (low dword of each qword is what VPMULDQ reads)
	cMaskO // 2^eo − 1
	cHalfO
	cEO
	cOff // output zero point
	cLo
	cHi
	c15 // 2^15 in every lane
	c30 // 2^30 in every qword
)

// add16 emits the general int16 ADD over n values (n a multiple of 16):
// z = clamp(rescaleOut(rescale1(x) + rescale2(y)) + off), each rescale
// MultiplyByQuantizedMultiplierSmallerThanOneExp exactly:
//   - an input's SRDHM(x·2^15, m) is ⌊(x·m + 2^15) / 2^16⌋ (the nudged
//     division rounds ties up), which with m = mh·2^16 + ml is
//     x·mh + ((x·ml + 2^15) >> 16), both products within int32;
//   - the output's SRDHM(s, m) takes 64-bit products (VPMULDQ on the even
//     and odd lanes), + 2^30, bits 31..62;
//   - RoundingDivideByPOT(h, e) is (h >> e) + (h & mask > mask>>1 + (h < 0)).
func add16() {
	TEXT("add16AVX2", NOSPLIT, "func(x, y, z *int16, n int, p *[19][8]int32)")
	Pragma("noescape")
	Doc("add16AVX2 is the general int16 ADD (add16Fast) over n values (n a multiple of 16) with the constants p (add16Consts).")
	x, y, z := Load(Param("x"), RSI), Load(Param("y"), RDX), Load(Param("z"), RDI)
	n, p := Load(Param("n"), RCX), Load(Param("p"), R8)
	row := func(i int) Mem { return Mem{Base: p, Disp: 32 * i} }
	// rdbp rounds h right by the row's exponent in place; t1, t2 scratch.
	rdbp := func(h, t1, t2 VecPhysical, mask, half, e int) {
		VPAND(row(mask), h, t1)   // remainder
		VPSRLD(U8(31), h, t2)     // 1 below zero
		VPADDD(row(half), t2, t2) // threshold = half + (h < 0)
		VPCMPGTD(t2, t1, t1)      // remainder > threshold: −1
		VPSRAD(row(e).Offset(0), h, h)
		VPSUBD(t1, h, h)
	}
	in := func(src Register, off int, v, t, u VecPhysical, ml, mh, mask, half, e int) {
		VPMOVSXWD(Mem{Base: src, Index: RBX, Scale: 2, Disp: off}, v)
		VPMULLD(row(ml), v, t)
		VPADDD(row(c15), t, t)
		VPSRAD(U8(16), t, t)
		VPMULLD(row(mh), v, u)
		VPADDD(u, t, v)
		rdbp(v, t, u, mask, half, e)
	}
	out := func(s, t, u VecPhysical) {
		VPMULDQ(row(cMO), s, t) // even lanes
		VPADDQ(row(c30), t, t)
		VPSRLQ(U8(31), t, t)
		VPSRLQ(U8(32), s, u) // odd lanes
		VPMULDQ(row(cMO), u, u)
		VPADDQ(row(c30), u, u)
		VPSLLQ(U8(1), u, u)
		VPBLENDD(U8(0xAA), u, t, s)
		rdbp(s, t, u, cMaskO, cHalfO, cEO)
		VPADDD(row(cOff), s, s)
		VPMAXSD(row(cLo), s, s)
		VPMINSD(row(cHi), s, s)
	}
	XORQ(RBX, RBX)
	Label("add16_loop")
	CMPQ(RBX, n)
	JGE(LabelRef("add16_done"))
	for h, r := range [][5]VecPhysical{{Y0, Y1, Y2, Y3, Y4}, {Y5, Y6, Y7, Y8, Y9}} {
		in(x, 16*h, r[0], r[1], r[2], cML1, cMH1, cMask1, cHalf1, cE1)
		in(y, 16*h, r[3], r[1], r[2], cML2, cMH2, cMask2, cHalf2, cE2)
		VPADDD(r[3], r[0], r[0])
		out(r[0], r[1], r[2])
	}
	VPACKSSDW(Y5, Y0, Y0) // per 128-bit lane: 4 of the low half, 4 of the high
	VPERMQ(U8(0xD8), Y0, Y0)
	VMOVDQU(Y0, Mem{Base: z, Index: RBX, Scale: 2})
	ADDQ(U8(16), RBX)
	JMP(LabelRef("add16_loop"))
	Label("add16_done")
	VZEROUPPER()
	RET()
}

// lookup8 emits ys[i] = t[xs[i]] over n bytes (n a multiple of 32) from
// 16 VPSHUFB tables p[k] (kernels.lut8Shuffles: each 16 bytes, twice), p[16]
// holding 16 in every byte. With v_0 = x, v_k = v_{k−1} − 16 for k ≤ 8
// (wrapping) and v_k = v_{k−1} − 16 saturating (signed) above, VPSHUFB
// gives p[k][x & 15] where v_k's top bit is clear and 0 elsewhere; for
// x < 128 that is k ≤ x >> 4, for x ≥ 128 it is j+1 ≤ k ≤ 8+j with
// j = (x − 128) >> 4, so the XOR of all 16 is t[x] when p[0] = T0,
// p[k] = T_k ^ T_{k−1} (k ≤ 7), p[8] = T8 ^ T7 ^ T0 and
// p[k] = T_k ^ T_{k−1} ^ p[k−8] (k ≥ 9), T_k the table's k-th 16 bytes.
func lookup8() {
	TEXT("lookup8AVX2", NOSPLIT, "func(p *[17][32]byte, xs, ys *byte, n int)")
	Pragma("noescape")
	Doc("lookup8AVX2 sets ys[i] = t[xs[i]] for n bytes (n a multiple of 32), t given as its VPSHUFB tables p (lut8Shuffles).")
	p := Load(Param("p"), R8)
	x, y, n := Load(Param("xs"), RSI), Load(Param("ys"), RDI), Load(Param("n"), RCX)
	row := func(k int) Mem { return Mem{Base: p, Disp: 32 * k} }
	const inRegs = 11 // p[0..10] in Y2..Y12, the rest read each step
	for k := range inRegs {
		VMOVDQU(row(k), ymm(2+k))
	}
	VMOVDQU(row(16), Y15)
	XORQ(RBX, RBX)
	Label("lookup8_loop")
	CMPQ(RBX, n)
	JGE(LabelRef("lookup8_done"))
	VMOVDQU(Mem{Base: x, Index: RBX, Scale: 1}, Y0)
	VPSHUFB(Y0, Y2, Y1)
	for k := 1; k < 16; k++ {
		if k <= 8 {
			VPSUBB(Y15, Y0, Y0)
		} else {
			VPSUBSB(Y15, Y0, Y0)
		}
		tab := Y13
		if k < inRegs {
			tab = ymm(2 + k)
		} else {
			VMOVDQU(row(k), Y13)
		}
		VPSHUFB(Y0, tab, Y14)
		VPXOR(Y14, Y1, Y1)
	}
	VMOVDQU(Y1, Mem{Base: y, Index: RBX, Scale: 1})
	ADDQ(U8(32), RBX)
	JMP(LabelRef("lookup8_loop"))
	Label("lookup8_done")
	VZEROUPPER()
	RET()
}

// affine8 emits the byte map of kernels.affine8 (see its doc) over n bytes
// (n a multiple of 32), for int8 output (signed: VPACKSSWB and signed
// min/max) or uint8 (VPACKUSWB, unsigned): XOR the input with xor (0x80
// makes uint8 input int8), VPUNPCK{L,H}BW with c as the low byte gives the
// int16 words 256·s + c, then VPMULHRSW by m, VPADDSW b, VPSRAW sh, and
// the saturating pack, whose in-lane order undoes the unpacks' (the low
// unpack's 8 words of each lane come first), then the clamp. 64 bytes a
// step while they last, then 32.
func affine8(signed bool) {
	name := "affine8U8AVX2"
	pack, vmax, vmin := VPACKUSWB, VPMAXUB, VPMINUB
	if signed {
		name = "affine8I8AVX2"
		pack, vmax, vmin = VPACKSSWB, VPMAXSB, VPMINSB
	}
	TEXT(name, NOSPLIT, "func(xs, ys *byte, n int, c, xor uint8, m, b int16, sh uint64, lo, hi uint8)")
	Pragma("noescape")
	out := "uint8"
	if signed {
		out = "int8"
	}
	Doc(fmt.Sprintf("%s maps n bytes (n a multiple of 32) to %s through the affine form of kernels.affine8 with these parameters.", name, out))
	x, y, n := Load(Param("xs"), RSI), Load(Param("ys"), RDI), Load(Param("n"), RCX)
	VPBROADCASTB(paramAddr("c"), Y8)
	VPBROADCASTB(paramAddr("xor"), Y9)
	VPBROADCASTW(paramAddr("m"), Y10)
	VPBROADCASTW(paramAddr("b"), Y11)
	VMOVQ(paramAddr("sh"), X12)
	VPBROADCASTB(paramAddr("lo"), Y13)
	VPBROADCASTB(paramAddr("hi"), Y14)
	// block maps the 32 bytes at off through registers r0, r1.
	block := func(off int, r0, r1 VecPhysical) {
		VPXOR(Mem{Base: x, Index: RBX, Scale: 1, Disp: off}, Y9, r0)
		VPUNPCKHBW(r0, Y8, r1)
		VPUNPCKLBW(r0, Y8, r0)
		VPMULHRSW(Y10, r0, r0)
		VPMULHRSW(Y10, r1, r1)
		VPADDSW(Y11, r0, r0)
		VPADDSW(Y11, r1, r1)
		VPSRAW(X12, r0, r0)
		VPSRAW(X12, r1, r1)
		pack(r1, r0, r0)
		vmax(Y13, r0, r0)
		vmin(Y14, r0, r0)
		VMOVDQU(r0, Mem{Base: y, Index: RBX, Scale: 1, Disp: off})
	}
	XORQ(RBX, RBX)
	loop2, one, done := name+"_loop2", name+"_one", name+"_done"
	Label(loop2)
	LEAQ(Mem{Base: RBX, Disp: 64}, RDX)
	CMPQ(RDX, n)
	JG(LabelRef(one))
	block(0, Y0, Y1)
	block(32, Y2, Y3)
	MOVQ(RDX, RBX)
	JMP(LabelRef(loop2))
	Label(one)
	CMPQ(RBX, n)
	JGE(LabelRef(done))
	block(0, Y0, Y1)
	Label(done)
	VZEROUPPER()
	RET()
}

// affineRegs broadcasts kernels.affine8's parameters (frame arguments c,
// m, bias, sh, lo, hi) into Y8, Y10, Y11, X12, Y13, Y14.
func affineRegs() {
	VPBROADCASTB(paramAddr("c"), Y8)
	VPBROADCASTW(paramAddr("m"), Y10)
	VPBROADCASTW(paramAddr("bias"), Y11)
	VMOVQ(paramAddr("sh"), X12)
	VPBROADCASTB(paramAddr("lo"), Y13)
	VPBROADCASTB(paramAddr("hi"), Y14)
}

// affineInReg maps the 32 int8 values in r0 in place through the affine
// form whose parameters affineRegs loaded (int8 in and out), r1 a temporary.
func affineInReg(r0, r1 VecPhysical) {
	VPUNPCKHBW(r0, Y8, r1)
	VPUNPCKLBW(r0, Y8, r0)
	VPMULHRSW(Y10, r0, r0)
	VPMULHRSW(Y10, r1, r1)
	VPADDSW(Y11, r0, r0)
	VPADDSW(Y11, r1, r1)
	VPSRAW(X12, r0, r0)
	VPSRAW(X12, r1, r1)
	VPACKSSWB(r1, r0, r0)
	VPMAXSB(Y13, r0, r0)
	VPMINSB(Y14, r0, r0)
}

// max2x2Affine8 emits the int8 2×2 max pool whose output goes through an
// affine form (kernels.affine8, int8 in and out) before it is stored: the
// pool → rescaling RELU pair in one pass. Pixels of C = 16 channels go two
// output pixels a step as in max2x2Pix16 (npix even); C a multiple of 32
// one output pixel a step, 32 channels at a time. a and b are the window's
// two input rows (2·npix·C bytes each), o gets npix·C.
func max2x2Affine8() {
	name := "max2x2Affine8AVX2"
	TEXT(name, NOSPLIT, "func(o, a, b *int8, npix, C int, c uint8, m, bias int16, sh uint64, lo, hi uint8)")
	Pragma("noescape")
	Doc(name + " writes the affine form (kernels.affine8, int8) of the 2×2 window maxima for npix output pixels of C int8 channels (C = 16 with npix even, or a multiple of 32): o gets npix·C bytes, a and b (the two input rows) 2·npix·C each.")
	o, a, b := Load(Param("o"), RDI), Load(Param("a"), RSI), Load(Param("b"), RDX)
	n, C := Load(Param("npix"), RCX), Load(Param("C"), R8)
	affineRegs()
	pairs, wide, wideBlk, done := name+"_pairs", name+"_wide", name+"_blk", name+"_done"
	CMPQ(C, U8(16))
	JNE(LabelRef(wide))
	SHRQ(U8(1), n) // pairs of output pixels
	Label(pairs)
	TESTQ(n, n)
	JZ(LabelRef(done))
	VMOVDQU(Mem{Base: a}, Y0)
	VMOVDQU(Mem{Base: a, Disp: 32}, Y1)
	VPMAXSB(Mem{Base: b}, Y0, Y0)
	VPMAXSB(Mem{Base: b, Disp: 32}, Y1, Y1)
	VPERM2I128(U8(0x20), Y1, Y0, Y2) // first input pixel of both outputs
	VPERM2I128(U8(0x31), Y1, Y0, Y3) // second
	VPMAXSB(Y3, Y2, Y2)
	affineInReg(Y2, Y4)
	VMOVDQU(Y2, Mem{Base: o})
	ADDQ(U8(64), a)
	ADDQ(U8(64), b)
	ADDQ(U8(32), o)
	DECQ(n)
	JMP(LabelRef(pairs))
	// C a multiple of 32: per output pixel, blocks of 32 channels; the
	// window's second pixel is C bytes after the first.
	Label(wide)
	TESTQ(n, n)
	JZ(LabelRef(done))
	XORQ(RBX, RBX)
	LEAQ(Mem{Base: a, Index: C, Scale: 1}, R9)  // a's second pixel
	LEAQ(Mem{Base: b, Index: C, Scale: 1}, R10) // b's
	Label(wideBlk)
	VMOVDQU(Mem{Base: a, Index: RBX, Scale: 1}, Y0)
	VMOVDQU(Mem{Base: b, Index: RBX, Scale: 1}, Y1)
	VPMAXSB(Mem{Base: R9, Index: RBX, Scale: 1}, Y0, Y0)
	VPMAXSB(Mem{Base: R10, Index: RBX, Scale: 1}, Y1, Y1)
	VPMAXSB(Y1, Y0, Y0)
	affineInReg(Y0, Y2)
	VMOVDQU(Y0, Mem{Base: o, Index: RBX, Scale: 1})
	ADDQ(U8(32), RBX)
	CMPQ(RBX, C)
	JL(LabelRef(wideBlk))
	ADDQ(C, o)
	LEAQ(Mem{Base: a, Index: C, Scale: 2}, a)
	LEAQ(Mem{Base: b, Index: C, Scale: 2}, b)
	DECQ(n)
	JMP(LabelRef(wide))
	Label(done)
	VZEROUPPER()
	RET()
}

// max2x2Pix16 emits the 2×2 max pool with clamp for pixels of 16 bytes
// (int8 C=16 or int16 C=8), two output pixels a step: a and b are the
// window rows (4 input pixels, 64 bytes, each), the rows' maximum is taken
// in two ymm registers, VPERM2I128 pairs each output's two input pixels
// across registers, one more max and the clamp give 32 output bytes. The
// general AVX2 loop (simd_amd64.s) spends two xmm passes per such pixel.
func max2x2Pix16(i8 bool) {
	name, typ := "max2x2Pix16I16AVX2", "int16"
	vmax, vmin, bcast := VPMAXSW, VPMINSW, VPBROADCASTW
	if i8 {
		name, typ = "max2x2Pix16I8AVX2", "int8"
		vmax, vmin, bcast = VPMAXSB, VPMINSB, VPBROADCASTB
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(o, a, b *%s, npair int, lo, hi %s)", typ, typ))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s writes min(max(the 2×2 window's maximum, lo), hi) for 2·npair output pixels of 16 bytes (%s): o gets 32·npair bytes, a and b (the two input rows) 64·npair each.", name, typ))
	o, a, b, n := Load(Param("o"), RDI), Load(Param("a"), RSI), Load(Param("b"), RDX), Load(Param("npair"), RCX)
	bcast(paramAddr("lo"), Y14)
	bcast(paramAddr("hi"), Y15)
	loop, done := name+"_loop", name+"_done"
	Label(loop)
	TESTQ(n, n)
	JZ(LabelRef(done))
	VMOVDQU(Mem{Base: a}, Y0)
	VMOVDQU(Mem{Base: a, Disp: 32}, Y1)
	vmax(Mem{Base: b}, Y0, Y0)
	vmax(Mem{Base: b, Disp: 32}, Y1, Y1)
	VPERM2I128(U8(0x20), Y1, Y0, Y2) // first input pixel of both outputs
	VPERM2I128(U8(0x31), Y1, Y0, Y3) // second
	vmax(Y3, Y2, Y2)
	vmax(Y14, Y2, Y2)
	vmin(Y15, Y2, Y2)
	VMOVDQU(Y2, Mem{Base: o})
	ADDQ(U8(64), a)
	ADDQ(U8(64), b)
	ADDQ(U8(32), o)
	DECQ(n)
	JMP(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// ymm returns the i-th physical ymm register.
func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

// paramAddr is the frame address of the named parameter.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// xor80 emits dst[i] = src[i] XOR 0x80 over n bytes (n a multiple of 32):
// int8 x to the u8 x+128 the VNNI kernels read, and uint8 to int8 and
// back (kernels.xor80Vec; AVX-512 has its own loop).
func xor80() {
	TEXT("xor80AVX2", NOSPLIT, "func(dst, src *byte, n int)")
	Pragma("noescape")
	Doc("xor80AVX2 sets dst[i] = src[i] ^ 0x80 for n bytes (n a multiple of 32).")
	dst, src, n := Load(Param("dst"), RDI), Load(Param("src"), RSI), Load(Param("n"), RCX)
	MOVL(U32(0x80808080), EAX)
	VMOVD(EAX, X15)
	VPBROADCASTD(X15, Y15)
	XORQ(RBX, RBX)
	Label("xor80_loop2")
	LEAQ(Mem{Base: RBX, Disp: 64}, RDX)
	CMPQ(RDX, n)
	JG(LabelRef("xor80_one"))
	VPXOR(Mem{Base: src, Index: RBX, Scale: 1}, Y15, Y0)
	VPXOR(Mem{Base: src, Index: RBX, Scale: 1, Disp: 32}, Y15, Y1)
	VMOVDQU(Y0, Mem{Base: dst, Index: RBX, Scale: 1})
	VMOVDQU(Y1, Mem{Base: dst, Index: RBX, Scale: 1, Disp: 32})
	MOVQ(RDX, RBX)
	JMP(LabelRef("xor80_loop2"))
	Label("xor80_one")
	CMPQ(RBX, n)
	JGE(LabelRef("xor80_done"))
	VPXOR(Mem{Base: src, Index: RBX, Scale: 1}, Y15, Y0)
	VMOVDQU(Y0, Mem{Base: dst, Index: RBX, Scale: 1})
	Label("xor80_done")
	VZEROUPPER()
	RET()
}
