//go:build !noasm

#include "textflag.h"

// Hand-written AVX-512 rows of the fused pool+ReLU (see pool_amd64.go):
// 16 channels per step, the window's four inputs in four registers.

// func poolFwdRowAVX512(ow, cb int, r0, r1, bias, y *float32, arg *uint8)
TEXT ·poolFwdRowAVX512(SB), NOSPLIT, $0-56
	MOVQ ow+0(FP), AX
	MOVQ cb+8(FP), BX
	MOVQ r0+16(FP), SI
	MOVQ r1+24(FP), DI
	MOVQ bias+32(FP), R8
	MOVQ y+40(FP), R9
	MOVQ arg+48(FP), R10
	MOVQ BX, R11
	SHLQ $6, R11 // C·4 bytes: one input pixel
	MOVQ BX, R15
	SHLQ $4, R15 // C bytes: one pixel of winners
	VPXORD Z31, Z31, Z31
	MOVL $1, CX
	VPBROADCASTD CX, Z28
	MOVL $2, CX
	VPBROADCASTD CX, Z29
	MOVL $3, CX
	VPBROADCASTD CX, Z30
	TESTQ AX, AX
	JEQ done
	TESTQ BX, BX
	JEQ done

pixel:
	LEAQ (SI)(R11*1), R12
	LEAQ (DI)(R11*1), R13
	XORQ CX, CX
	XORQ R14, R14
	MOVQ BX, DX

block:
	VMOVUPS (SI)(CX*1), Z0
	VMOVUPS (R12)(CX*1), Z1
	VMOVUPS (DI)(CX*1), Z2
	VMOVUPS (R13)(CX*1), Z3
	VMAXPS Z1, Z0, Z4
	VMAXPS Z3, Z2, Z5
	VMAXPS Z5, Z4, Z4
	// Winner: the first input equal to the max (later ones overridden).
	VMOVDQA32 Z30, Z6
	VCMPPS $0, Z4, Z2, K1
	VMOVDQA32 Z29, K1, Z6
	VCMPPS $0, Z4, Z1, K2
	VMOVDQA32 Z28, K2, Z6
	VCMPPS $0, Z4, Z0, K3
	VMOVDQA32 Z31, K3, Z6
	VADDPS (R8)(CX*1), Z4, Z4
	VMAXPS Z31, Z4, Z4
	VMOVUPS Z4, (R9)(CX*1)
	VPMOVDB Z6, (R10)(R14*1)
	ADDQ $64, CX
	ADDQ $16, R14
	DECQ DX
	JNZ block

	LEAQ (SI)(R11*2), SI
	LEAQ (DI)(R11*2), DI
	ADDQ R11, R9
	ADDQ R15, R10
	DECQ AX
	JNZ pixel

done:
	VZEROUPPER
	RET

// func poolBwdRowAVX512(ow, cb int, arg *uint8, y, dy, d0, d1, db *float32)
TEXT ·poolBwdRowAVX512(SB), NOSPLIT, $0-64
	MOVQ ow+0(FP), AX
	MOVQ cb+8(FP), BX
	MOVQ arg+16(FP), R10
	MOVQ y+24(FP), R9
	MOVQ dy+32(FP), R8
	MOVQ d0+40(FP), SI
	MOVQ d1+48(FP), DI
	MOVQ db+56(FP), DX
	MOVQ BX, R11
	SHLQ $6, R11
	VPXORD Z31, Z31, Z31
	MOVL $1, CX
	VPBROADCASTD CX, Z28
	MOVL $2, CX
	VPBROADCASTD CX, Z29
	MOVL $3, CX
	VPBROADCASTD CX, Z30
	TESTQ AX, AX
	JEQ bdone
	TESTQ BX, BX
	JEQ bdone

bpixel:
	LEAQ (SI)(R11*1), R12
	LEAQ (DI)(R11*1), R13
	XORQ CX, CX
	XORQ R14, R14
	MOVQ BX, R15

bblock:
	VPMOVZXBD (R10)(R14*1), Z0
	VMOVUPS (R9)(CX*1), Z1
	VCMPPS $30, Z31, Z1, K1 // y > 0
	VMOVUPS.Z (R8)(CX*1), K1, Z2
	VPCMPEQD Z31, Z0, K2
	VMOVUPS.Z Z2, K2, Z3
	VMOVUPS Z3, (SI)(CX*1)
	VPCMPEQD Z28, Z0, K2
	VMOVUPS.Z Z2, K2, Z3
	VMOVUPS Z3, (R12)(CX*1)
	VPCMPEQD Z29, Z0, K2
	VMOVUPS.Z Z2, K2, Z3
	VMOVUPS Z3, (DI)(CX*1)
	VPCMPEQD Z30, Z0, K2
	VMOVUPS.Z Z2, K2, Z3
	VMOVUPS Z3, (R13)(CX*1)
	VADDPS (DX)(CX*1), Z2, Z4
	VMOVUPS Z4, (DX)(CX*1)
	ADDQ $64, CX
	ADDQ $16, R14
	DECQ R15
	JNZ bblock

	LEAQ (SI)(R11*2), SI
	LEAQ (DI)(R11*2), DI
	ADDQ R11, R9
	ADDQ R11, R8
	ADDQ R14, R10 // R14 ended at C: one pixel of winners
	DECQ AX
	JNZ bpixel

bdone:
	VZEROUPPER
	RET

// func addRowsAVX512(n16 int, dst, src *float32)
// dst[i] += src[i] for 16·n16 floats (col2im's patch-row accumulation).
TEXT ·addRowsAVX512(SB), NOSPLIT, $0-24
	MOVQ n16+0(FP), CX
	MOVQ dst+8(FP), DI
	MOVQ src+16(FP), SI
	TESTQ CX, CX
	JEQ adone

aloop:
	VMOVUPS (SI), Z0
	VADDPS (DI), Z0, Z0
	VMOVUPS Z0, (DI)
	ADDQ $64, SI
	ADDQ $64, DI
	DECQ CX
	JNZ aloop

adone:
	VZEROUPPER
	RET
