// Command lut8bw generates kernels/lut8_bw_amd64.s and its Go declarations
// (kernels/lut8_bw_stubs_amd64.go) with avo: the 256-entry byte table
// lookup of the 8-bit element-wise ops for AVX-512BW CPUs without VBMI
// (Intel Skylake-SP, Cascade Lake), which lack VPERMI2B. Run from
// internal/asmgen:
//
//	go run ./lut8bw -out ../../kernels/lut8_bw_amd64.s -stubs ../../kernels/lut8_bw_stubs_amd64.go -pkg kernels
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	lookup8W()
	Generate()
}

// lookup8W emits ys[i] = t[xs[i]] for n bytes, 64 a step, with the word
// permute VPERMI2W (AVX-512BW), which looks up 64 words held in two
// registers by an index's low 6 bits. The table is rearranged once per
// call into words: word j of half h (h = 0, 1) holds t[128h+j] in its low
// byte and t[128h+64+j] in its high byte, the halves in Z24:Z25 and
// Z26:Z27. The 64 input bytes are taken as 32 words: the even byte of
// each is its own index (its bits 0–5 are the word's), the odd byte's is
// the word shifted right by 8. Per byte, bit 7 picks the half (a word
// blend) and bit 6 the byte of the looked-up word: an even output whose
// bit 6 is set shifts its word right by 8, an odd output whose bit 6 is
// clear shifts its word left by 8, so every wanted byte sits where its
// input did; a byte blend takes even bytes from the even lookup and odd
// bytes from the odd one. On Skylake-SP/Cascade Lake that is 4 VPERMI2W
// (2 port-5 cycles each) and 3 mask tests per 64 bytes, against 16
// VPSHUFB (port 5) for the 16-table shuffle form. The last n mod 64
// bytes are loaded and stored under a mask.
func lookup8W() {
	TEXT("lookup8AVX512W", NOSPLIT, "func(t *[256]uint8, xs, ys *byte, n int)")
	Pragma("noescape")
	Doc("lookup8AVX512W sets ys[i] = t[xs[i]] for n bytes (AVX-512BW, no VBMI).")
	tp := Load(Param("t"), RAX)
	x, y, n := Load(Param("xs"), RSI), Load(Param("ys"), RDI), Load(Param("n"), RCX)
	// Tables: Z24 = words 0..31 of half 0, Z25 = words 32..63, Z26, Z27
	// the same for half 1.
	for q, z := range []VecPhysical{Z24, Z25, Z26, Z27} {
		h, j := q/2, q%2
		VPMOVZXBW(Mem{Base: tp, Disp: 128*h + 32*j}, z)
		VPMOVZXBW(Mem{Base: tp, Disp: 128*h + 64 + 32*j}, Z0)
		VPSLLW(U8(8), Z0, Z0)
		VPORD(Z0, z, z)
	}
	// Bit constants for the mask tests, one word each.
	c := func(v uint32, z VecPhysical) {
		MOVL(U32(v|v<<16), EDX)
		VPBROADCASTD(EDX, z)
	}
	c(0x0080, Z28) // even byte's bit 7
	c(0x0040, Z29) // even byte's bit 6
	c(0x4000, Z30) // odd byte's bit 6
	MOVQ(U64(0xAAAAAAAAAAAAAAAA), RDX)
	KMOVQ(RDX, K7) // odd bytes
	XORQ(RBX, RBX)

	// step looks up the 64 bytes in Z0 into Z0.
	step := func() {
		VPSRLW(U8(8), Z0, Z1)  // odd bytes' indexes
		VPTESTMW(Z28, Z0, K1)  // even: upper half
		VPTESTMW(Z29, Z0, K2)  // even: high byte of the word
		VPTESTNMW(Z30, Z0, K3) // odd: low byte of the word
		VPMOVW2M(Z0, K4)       // odd: upper half
		VMOVDQA64(Z0, Z2)
		VPERMI2W(Z25, Z24, Z2) // even, lower half
		VPERMI2W(Z27, Z26, Z0) // even, upper half
		VMOVDQA64(Z1, Z3)
		VPERMI2W(Z25, Z24, Z3) // odd, lower half
		VPERMI2W(Z27, Z26, Z1) // odd, upper half
		VPBLENDMW(Z0, Z2, K1, Z2)
		VPBLENDMW(Z1, Z3, K4, Z3)
		VPSRLW(U8(8), Z2, K2, Z2)
		VPSLLW(U8(8), Z3, K3, Z3)
		VPBLENDMB(Z3, Z2, K7, Z0)
	}

	Label("lookup8W_loop")
	LEAQ(Mem{Base: RBX, Disp: 64}, RDX)
	CMPQ(RDX, n)
	JGT(LabelRef("lookup8W_tail"))
	VMOVDQU64(Mem{Base: x, Index: RBX, Scale: 1}, Z0)
	step()
	VMOVDQU64(Z0, Mem{Base: y, Index: RBX, Scale: 1})
	MOVQ(RDX, RBX)
	JMP(LabelRef("lookup8W_loop"))

	Label("lookup8W_tail")
	MOVQ(n, RDX)
	SUBQ(RBX, RDX)
	JZ(LabelRef("lookup8W_done"))
	MOVQ(I64(-1), R8)
	SHLXQ(RDX, R8, R8)
	NOTQ(R8)
	KMOVQ(R8, K6)
	VMOVDQU8_Z(Mem{Base: x, Index: RBX, Scale: 1}, K6, Z0)
	step()
	VMOVDQU8(Z0, K6, Mem{Base: y, Index: RBX, Scale: 1})

	Label("lookup8W_done")
	VZEROUPPER()
	RET()
}
