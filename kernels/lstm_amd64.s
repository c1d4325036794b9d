//go:build !noasm

#include "textflag.h"

// Rows of 8 float32 constants of expF32 (lstm_float_fast.go), one per
// 32-byte row: ln 2 high and low parts, the polynomial's six coefficients.
#define ROW(off, bits) \
	DATA lstmExpK<>+(off+0)(SB)/4, $bits; DATA lstmExpK<>+(off+4)(SB)/4, $bits; \
	DATA lstmExpK<>+(off+8)(SB)/4, $bits; DATA lstmExpK<>+(off+12)(SB)/4, $bits; \
	DATA lstmExpK<>+(off+16)(SB)/4, $bits; DATA lstmExpK<>+(off+20)(SB)/4, $bits; \
	DATA lstmExpK<>+(off+24)(SB)/4, $bits; DATA lstmExpK<>+(off+28)(SB)/4, $bits

ROW(0, 0x3f318000)   // ln2 hi 0.693359375
ROW(32, 0xb95e8083)  // ln2 lo -2.12194440e-4
ROW(64, 0x39506967)  // 1.9875691500e-4
ROW(96, 0x3ab743ce)  // 1.3981999507e-3
ROW(128, 0x3c088908) // 8.3334519073e-3
ROW(160, 0x3d2aa9c1) // 4.1665795894e-2
ROW(192, 0x3e2aaaaa) // 1.6666665459e-1
ROW(224, 0x3f000000) // 5.0000001201e-1 (0.5 in float32)
GLOBL lstmExpK<>(SB), RODATA|NOPTR, $256

// Eight all-ones lanes then eight zero lanes: the mask of the last r
// lanes is the 8 lanes at lstmTailMask<> + 4·(8 − r).
DATA lstmTailMask<>+0(SB)/4, $0xffffffff
DATA lstmTailMask<>+4(SB)/4, $0xffffffff
DATA lstmTailMask<>+8(SB)/4, $0xffffffff
DATA lstmTailMask<>+12(SB)/4, $0xffffffff
DATA lstmTailMask<>+16(SB)/4, $0xffffffff
DATA lstmTailMask<>+20(SB)/4, $0xffffffff
DATA lstmTailMask<>+24(SB)/4, $0xffffffff
DATA lstmTailMask<>+28(SB)/4, $0xffffffff
DATA lstmTailMask<>+32(SB)/8, $0
DATA lstmTailMask<>+40(SB)/8, $0
DATA lstmTailMask<>+48(SB)/8, $0
DATA lstmTailMask<>+56(SB)/8, $0
GLOBL lstmTailMask<>(SB), RODATA|NOPTR, $64

#define BCAST(imm, reg) MOVL imm, AX; MOVQ AX, X0; VPBROADCASTD X0, reg

// EXPACT: Y0 = a + b·k/(1 + expF32(s·Y0)), each operation the scalar Go
// code's (no FMA), so lanes equal lstm_float_fast.go's sigmoid and tanh:
// x = min(max(lo, s·x), hi) with a NaN x kept (VMAXPS returns its second
// source when one is NaN); t = x·log2e + magic; n = t − magic;
// r = x − n·ln2hi − n·ln2lo; p·r·r + r + 1 with p the polynomial in r;
// e = that · 2^n (exponent bits from t); a + b·(k/(1 + e)).
#define EXPACT \
	VMULPS Y6, Y0, Y0; \
	VMAXPS Y0, Y10, Y0; \ // max(lo, x): a NaN x (second source) stays
	VMINPS Y0, Y11, Y0; \
	VMULPS Y12, Y0, Y1; \
	VADDPS Y13, Y1, Y1; \ // t = x·log2e + magic
	VSUBPS Y13, Y1, Y2; \ // n = t − magic
	VMULPS lstmExpK<>+0(SB), Y2, Y3; \
	VSUBPS Y3, Y0, Y3; \
	VMULPS lstmExpK<>+32(SB), Y2, Y4; \
	VSUBPS Y4, Y3, Y3; \ // r = x − n·hi − n·lo
	VMOVUPS lstmExpK<>+64(SB), Y4; \
	VMULPS Y3, Y4, Y4; \
	VADDPS lstmExpK<>+96(SB), Y4, Y4; \
	VMULPS Y3, Y4, Y4; \
	VADDPS lstmExpK<>+128(SB), Y4, Y4; \
	VMULPS Y3, Y4, Y4; \
	VADDPS lstmExpK<>+160(SB), Y4, Y4; \
	VMULPS Y3, Y4, Y4; \
	VADDPS lstmExpK<>+192(SB), Y4, Y4; \
	VMULPS Y3, Y4, Y4; \
	VADDPS lstmExpK<>+224(SB), Y4, Y4; \
	VMULPS Y3, Y4, Y4; \
	VMULPS Y3, Y4, Y4; \
	VADDPS Y3, Y4, Y4; \
	VADDPS Y14, Y4, Y4; \ // p·r·r + r + 1
	VPSUBD Y15, Y1, Y5; \
	VPSLLD $23, Y5, Y5; \ // 2^n
	VMULPS Y5, Y4, Y4; \
	VADDPS Y14, Y4, Y4; \
	VDIVPS Y4, Y7, Y4; \ // k/(1 + e)
	VMULPS Y9, Y4, Y4; \
	VADDPS Y8, Y4, Y0

// func lstmActAVX2(v *float32, n int, s, k, a, b float32)
TEXT ·lstmActAVX2(SB), NOSPLIT, $0-32
	MOVQ v+0(FP), SI
	MOVQ n+8(FP), CX
	VBROADCASTSS s+16(FP), Y6
	VBROADCASTSS k+20(FP), Y7
	VBROADCASTSS a+24(FP), Y8
	VBROADCASTSS b+28(FP), Y9
	BCAST($0xc2ae999a, Y10) // -87.3
	BCAST($0x42b0999a, Y11) // 88.3
	BCAST($0x3fb8aa3b, Y12) // log2 e
	BCAST($0x4b400000, Y13) // 1.5·2^23
	BCAST($0x3f800000, Y14) // 1
	BCAST($0x4b3fff81, Y15) // bits(1.5·2^23) − 127

loop8:
	CMPQ CX, $8
	JLT  tail
	VMOVUPS (SI), Y0
	EXPACT
	VMOVUPS Y0, (SI)
	ADDQ $32, SI
	SUBQ $8, CX
	JMP  loop8

tail:
	TESTQ CX, CX
	JZ    done
	LEAQ lstmTailMask<>(SB), AX
	MOVQ $8, DX
	SUBQ CX, DX
	VMOVUPS (AX)(DX*4), Y2
	VMASKMOVPS (SI), Y2, Y0
	EXPACT
	VMOVUPS (AX)(DX*4), Y2 // the mask again: EXPACT used Y2
	VMASKMOVPS Y0, Y2, (SI)

done:
	VZEROUPPER
	RET
