//go:build !noasm

#include "textflag.h"

// Rows of 8 float32 constants of expF32 (lstm_float_fast.go), one per
// 32-byte row: ln 2 high and low parts, the polynomial's six coefficients,
// then the sign bit (negation).
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
ROW(256, 0x80000000) // sign bit
GLOBL lstmExpK<>(SB), RODATA|NOPTR, $288

// Eight all-ones lanes then eight zero lanes: the mask of the first r
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

// EXP1P: Y4 = 1 + expF32(Y0) with FMA (the Go code's operations, with
// x·log2e + magic, the two steps of r and each step of the polynomial
// fused, so within a few ulp of it, not equal): x = min(max(lo, x), hi)
// with a NaN x kept (VMAXPS returns its second source when one is NaN);
// t = x·log2e + magic; n = t − magic; r = x − n·ln2hi − n·ln2lo;
// p·r·r + r + 1 with p the polynomial in r; e = that · 2^n (exponent bits
// from t). Uses Y1–Y5; constants in Y10–Y15 (lo, hi, log2e, magic, 1,
// bits(magic) − 127).
#define EXP1P \
	VMAXPS Y0, Y10, Y0; \
	VMINPS Y0, Y11, Y0; \
	VMOVAPS Y13, Y1; \
	VFMADD231PS Y12, Y0, Y1; \
	VSUBPS Y13, Y1, Y2; \
	VMOVAPS Y0, Y3; \
	VFNMADD231PS lstmExpK<>+0(SB), Y2, Y3; \
	VFNMADD231PS lstmExpK<>+32(SB), Y2, Y3; \
	VMOVUPS lstmExpK<>+64(SB), Y4; \
	VFMADD213PS lstmExpK<>+96(SB), Y3, Y4; \
	VFMADD213PS lstmExpK<>+128(SB), Y3, Y4; \
	VFMADD213PS lstmExpK<>+160(SB), Y3, Y4; \
	VFMADD213PS lstmExpK<>+192(SB), Y3, Y4; \
	VFMADD213PS lstmExpK<>+224(SB), Y3, Y4; \
	VMULPS Y3, Y4, Y4; \
	VFMADD213PS Y3, Y3, Y4; \
	VADDPS Y14, Y4, Y4; \
	VPSUBD Y15, Y1, Y5; \
	VPSLLD $23, Y5, Y5; \
	VMULPS Y5, Y4, Y4; \
	VADDPS Y14, Y4, Y4

// SIGMOID: dst = 1/(1 + expF32(−Y0)) (sigmoidFast).
#define SIGMOID(dst) \
	VXORPS lstmExpK<>+256(SB), Y0, Y0; \
	EXP1P; \
	VDIVPS Y4, Y14, dst

// TANH: Y0 = 1 − 2/(1 + expF32(2·Y0)) (tanhFast).
#define TANH \
	VADDPS Y0, Y0, Y0; \
	EXP1P; \
	VADDPS Y14, Y14, Y5; \
	VDIVPS Y4, Y5, Y4; \
	VSUBPS Y4, Y14, Y0

// GATE(field): Y0 = (xp + bias) + pre at the gate whose byte offset is at
// field(DI), cell group SI.
#define GATE(field) \
	MOVQ field(DI), AX; \
	ADDQ SI, AX; \
	VMOVUPS (R8)(AX*1), Y0; \
	VADDPS (R12)(AX*1), Y0, Y0; \
	VADDPS (R9)(AX*1), Y0, Y0

// PEEP(field): Y0 += c·peep when the peephole pointer at field(DI) is set.
#define PEEP(field, label) \
	MOVQ field(DI), AX; \
	TESTQ AX, AX; \
	JZ label; \
	VMULPS (AX)(SI*1), Y9, Y1; \
	VADDPS Y1, Y0, Y0; \
label:

// func lstmRowsAVX2(a *lstmRowsArgs)
TEXT ·lstmRowsAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	BCAST($0xc2ae999a, Y10) // -87.3
	BCAST($0x42b0999a, Y11) // 88.3
	BCAST($0x3fb8aa3b, Y12) // log2 e
	BCAST($0x4b400000, Y13) // 1.5·2^23
	BCAST($0x3f800000, Y14) // 1
	BCAST($0x4b3fff81, Y15) // bits(1.5·2^23) − 127
	MOVQ 0(DI), R8   // xp row
	MOVQ 8(DI), R9   // pre row
	MOVQ 16(DI), R12 // bias
	MOVQ 24(DI), R10 // c row
	MOVQ 32(DI), R11 // out row
	MOVQ 96(DI), CX  // rows left

row:
	TESTQ CX, CX
	JZ    done
	XORQ  SI, SI      // byte offset of the cell group
	MOVQ  104(DI), BX // cells left in the row

group:
	VMOVUPS (R10)(SI*1), Y9 // c

	// f = σ((xp + bias) + pre + c·peepF)
	GATE(120)
	PEEP(48, nopf)
	SIGMOID(Y7)

	// i = 1 − f (CIFG) or σ((xp + bias) + pre + c·peepI)
	CMPQ 144(DI), $0
	JEQ  gatei
	VSUBPS Y7, Y14, Y6
	JMP  gateg

gatei:
	GATE(112)
	PEEP(40, nopi)
	SIGMOID(Y6)

gateg:
	// g = tanh((xp + bias) + pre)
	GATE(128)
	TANH
	VMOVAPS Y0, Y8

	// c = min(max(c·f + g·i, −clip), clip)
	VMULPS Y7, Y9, Y9
	VMULPS Y6, Y8, Y1
	VADDPS Y1, Y9, Y9
	VBROADCASTSS 152(DI), Y2
	VXORPS lstmExpK<>+256(SB), Y2, Y1
	VMAXPS Y9, Y1, Y9
	VMINPS Y9, Y2, Y9
	VMOVUPS Y9, (R10)(SI*1)

	// o = σ((xp + bias) + pre + c·peepO); out = tanh(c)·o
	GATE(136)
	PEEP(56, nopo)
	SIGMOID(Y6)
	VMOVAPS Y9, Y0
	TANH
	VMULPS Y6, Y0, Y0

	CMPQ BX, $8
	JLT  tail
	VMOVUPS Y0, (R11)(SI*1)
	ADDQ    $32, SI
	SUBQ    $8, BX
	JNZ     group
	JMP     nextrow

tail:
	LEAQ       lstmTailMask<>(SB), AX
	MOVQ       $8, DX
	SUBQ       BX, DX
	VMOVUPS    (AX)(DX*4), Y1
	VMASKMOVPS Y0, Y1, (R11)(SI*1)

nextrow:
	ADDQ 64(DI), R8
	ADDQ 72(DI), R9
	ADDQ 80(DI), R10
	ADDQ 88(DI), R11
	DECQ CX
	JMP  row

done:
	VZEROUPPER
	RET

// func lstmGatesAVX2(a *lstmRowsArgs)
TEXT ·lstmGatesAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	BCAST($0xc2ae999a, Y10) // -87.3
	BCAST($0x42b0999a, Y11) // 88.3
	BCAST($0x3fb8aa3b, Y12) // log2 e
	BCAST($0x4b400000, Y13) // 1.5·2^23
	BCAST($0x3f800000, Y14) // 1
	BCAST($0x4b3fff81, Y15) // bits(1.5·2^23) − 127
	MOVQ 0(DI), R8    // xp row
	MOVQ 8(DI), R9    // pre row
	MOVQ 16(DI), R12  // bias
	MOVQ 160(DI), R11 // act row
	MOVQ 176(DI), R13 // column parameters: s, k, b, a rows
	MOVQ 184(DI), DX  // their stride
	MOVQ 72(DI), BX   // row width in bytes
	MOVQ 96(DI), CX   // rows left

grow:
	TESTQ CX, CX
	JZ    gdone
	XORQ  SI, SI

ggroup:
	VMOVUPS (R8)(SI*1), Y0
	VADDPS  (R12)(SI*1), Y0, Y0
	VADDPS  (R9)(SI*1), Y0, Y0
	LEAQ    (R13)(SI*1), AX
	VMULPS  (AX), Y0, Y0        // s·v
	EXP1P
	VMOVUPS (AX)(DX*1), Y5
	VDIVPS  Y4, Y5, Y4          // k/(1 + e)
	LEAQ    (AX)(DX*2), AX
	VMULPS  (AX), Y4, Y4        // b·that
	VADDPS  (AX)(DX*1), Y4, Y0  // a + b·that
	VMOVUPS Y0, (R11)(SI*1)
	ADDQ    $32, SI
	CMPQ    SI, BX
	JLT     ggroup
	ADDQ    64(DI), R8
	ADDQ    BX, R9
	ADDQ    168(DI), R11
	DECQ    CX
	JMP     grow

gdone:
	VZEROUPPER
	RET

// AGATE(field, dst): dst = the activated gate at the byte offset at
// field(DI), cell group SI.
#define AGATE(field, dst) \
	MOVQ    field(DI), AX; \
	ADDQ    SI, AX; \
	VMOVUPS (R13)(AX*1), dst

// func lstmCellsAVX2(a *lstmRowsArgs)
TEXT ·lstmCellsAVX2(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	BCAST($0xc2ae999a, Y10) // -87.3
	BCAST($0x42b0999a, Y11) // 88.3
	BCAST($0x3fb8aa3b, Y12) // log2 e
	BCAST($0x4b400000, Y13) // 1.5·2^23
	BCAST($0x3f800000, Y14) // 1
	BCAST($0x4b3fff81, Y15) // bits(1.5·2^23) − 127
	MOVQ 24(DI), R10  // c row
	MOVQ 32(DI), R11  // out row
	MOVQ 160(DI), R13 // act row
	MOVQ 96(DI), CX   // rows left

crow:
	TESTQ CX, CX
	JZ    cdone
	XORQ  SI, SI
	MOVQ  104(DI), BX // cells left in the row

cgroup:
	VMOVUPS (R10)(SI*1), Y9 // c
	AGATE(120, Y7)          // f
	CMPQ 144(DI), $0
	JEQ  cgatei
	VSUBPS Y7, Y14, Y6 // i = 1 − f
	JMP  cgateg

cgatei:
	AGATE(112, Y6)

cgateg:
	AGATE(128, Y8)

	// c = min(max(c·f + g·i, −clip), clip)
	VMULPS Y7, Y9, Y9
	VMULPS Y6, Y8, Y1
	VADDPS Y1, Y9, Y9
	VBROADCASTSS 152(DI), Y2
	VXORPS lstmExpK<>+256(SB), Y2, Y1
	VMAXPS Y9, Y1, Y9
	VMINPS Y9, Y2, Y9
	VMOVUPS Y9, (R10)(SI*1)

	// out = tanh(c)·o
	AGATE(136, Y6)
	VMOVAPS Y9, Y0
	TANH
	VMULPS Y6, Y0, Y0

	CMPQ BX, $8
	JLT  ctail
	VMOVUPS Y0, (R11)(SI*1)
	ADDQ    $32, SI
	SUBQ    $8, BX
	JNZ     cgroup
	JMP     cnextrow

ctail:
	LEAQ       lstmTailMask<>(SB), AX
	MOVQ       $8, DX
	SUBQ       BX, DX
	VMOVUPS    (AX)(DX*4), Y1
	VMASKMOVPS Y0, Y1, (R11)(SI*1)

cnextrow:
	ADDQ 80(DI), R10
	ADDQ 88(DI), R11
	ADDQ 168(DI), R13
	DECQ CX
	JMP  crow

cdone:
	VZEROUPPER
	RET

#define ZBCAST(imm, reg) MOVL imm, AX; VPBROADCASTD AX, reg

// EXP1PZ is EXP1P on sixteen lanes: Z4 = 1 + expF32(Z0), the same
// operations; constants in Z10–Z15 as Y10–Y15 and the exp's in Z16–Z23.
#define EXP1PZ \
	VMAXPS Z0, Z10, Z0; \
	VMINPS Z0, Z11, Z0; \
	VMOVAPS Z13, Z1; \
	VFMADD231PS Z12, Z0, Z1; \
	VSUBPS Z13, Z1, Z2; \
	VMOVAPS Z0, Z3; \
	VFNMADD231PS Z16, Z2, Z3; \
	VFNMADD231PS Z17, Z2, Z3; \
	VMOVAPS Z18, Z4; \
	VFMADD213PS Z19, Z3, Z4; \
	VFMADD213PS Z20, Z3, Z4; \
	VFMADD213PS Z21, Z3, Z4; \
	VFMADD213PS Z22, Z3, Z4; \
	VFMADD213PS Z23, Z3, Z4; \
	VMULPS Z3, Z4, Z4; \
	VFMADD213PS Z3, Z3, Z4; \
	VADDPS Z14, Z4, Z4; \
	VPSUBD Z15, Z1, Z5; \
	VPSLLD $23, Z5, Z5; \
	VMULPS Z5, Z4, Z4; \
	VADDPS Z14, Z4, Z4

// func lstmGatesAVX512(a *lstmRowsArgs)
TEXT ·lstmGatesAVX512(SB), NOSPLIT, $0-8
	MOVQ a+0(FP), DI
	ZBCAST($0xc2ae999a, Z10) // -87.3
	ZBCAST($0x42b0999a, Z11) // 88.3
	ZBCAST($0x3fb8aa3b, Z12) // log2 e
	ZBCAST($0x4b400000, Z13) // 1.5·2^23
	ZBCAST($0x3f800000, Z14) // 1
	ZBCAST($0x4b3fff81, Z15) // bits(1.5·2^23) − 127
	VBROADCASTSS lstmExpK<>+0(SB), Z16
	VBROADCASTSS lstmExpK<>+32(SB), Z17
	VBROADCASTSS lstmExpK<>+64(SB), Z18
	VBROADCASTSS lstmExpK<>+96(SB), Z19
	VBROADCASTSS lstmExpK<>+128(SB), Z20
	VBROADCASTSS lstmExpK<>+160(SB), Z21
	VBROADCASTSS lstmExpK<>+192(SB), Z22
	VBROADCASTSS lstmExpK<>+224(SB), Z23
	MOVQ 0(DI), R8    // xp row
	MOVQ 8(DI), R9    // pre row
	MOVQ 16(DI), R12  // bias
	MOVQ 160(DI), R11 // act row
	MOVQ 176(DI), R13 // column parameters: s, k, b, a rows
	MOVQ 184(DI), DX  // their stride
	MOVQ 72(DI), BX   // row width in bytes
	MOVQ 96(DI), CX   // rows left

zrow:
	TESTQ CX, CX
	JZ    zdone
	XORQ  SI, SI

zgroup:
	VMOVUPS (R8)(SI*1), Z0
	VADDPS  (R12)(SI*1), Z0, Z0
	VADDPS  (R9)(SI*1), Z0, Z0
	LEAQ    (R13)(SI*1), AX
	VMULPS  (AX), Z0, Z0        // s·v
	EXP1PZ
	VMOVUPS (AX)(DX*1), Z5
	VDIVPS  Z4, Z5, Z4          // k/(1 + e)
	LEAQ    (AX)(DX*2), AX
	VMULPS  (AX), Z4, Z4        // b·that
	VADDPS  (AX)(DX*1), Z4, Z0  // a + b·that
	VMOVUPS Z0, (R11)(SI*1)
	ADDQ    $64, SI
	CMPQ    SI, BX
	JLT     zgroup
	ADDQ    64(DI), R8
	ADDQ    BX, R9
	ADDQ    168(DI), R11
	DECQ    CX
	JMP     zrow

zdone:
	VZEROUPPER
	RET
