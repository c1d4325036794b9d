//go:build !noasm

#include "textflag.h"

// The pooling sums: npix pixels, C channels apart from src, added to
// the int32 or float32 accumulators at acc, 16 channels at a time for
// the first cv channels (a multiple of 16). Per block the accumulators
// stay in Z0 while the pixels are added in order, so each channel's sum
// is formed in the scalar loop's order (float sums round alike).

// func sumPixI8AVX512(acc *int32, src *int8 or *uint8, npix, C, cv int) — see pool_sum_amd64.go.
TEXT ·sumPixI8AVX512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ npix+16(FP), R8
	MOVQ C+24(FP), R10
	IMULQ $1, R10
	MOVQ cv+32(FP), CX
	XORQ BX, BX

siblock:
	CMPQ BX, CX
	JGE  sidone
	VMOVUPS (DI)(BX*4), Z0
	MOVQ BX, R9
	IMULQ $1, R9
	ADDQ SI, R9
	MOVQ R8, DX

sipix:
	TESTQ DX, DX
	JZ    sistore
	VPMOVSXBD (R9), Z1
	VPADDD Z1, Z0, Z0
	ADDQ  R10, R9
	DECQ  DX
	JMP   sipix

sistore:
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	JMP  siblock

sidone:
	VZEROUPPER
	RET

// func sumPixU8AVX512(acc *int32, src *int8 or *uint8, npix, C, cv int) — see pool_sum_amd64.go.
TEXT ·sumPixU8AVX512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ npix+16(FP), R8
	MOVQ C+24(FP), R10
	IMULQ $1, R10
	MOVQ cv+32(FP), CX
	XORQ BX, BX

sublock:
	CMPQ BX, CX
	JGE  sudone
	VMOVUPS (DI)(BX*4), Z0
	MOVQ BX, R9
	IMULQ $1, R9
	ADDQ SI, R9
	MOVQ R8, DX

supix:
	TESTQ DX, DX
	JZ    sustore
	VPMOVZXBD (R9), Z1
	VPADDD Z1, Z0, Z0
	ADDQ  R10, R9
	DECQ  DX
	JMP   supix

sustore:
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	JMP  sublock

sudone:
	VZEROUPPER
	RET

// func sumPixF32AVX512(acc *float32, src *float32, npix, C, cv int) — see pool_sum_amd64.go.
TEXT ·sumPixF32AVX512(SB), NOSPLIT, $0-40
	MOVQ acc+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ npix+16(FP), R8
	MOVQ C+24(FP), R10
	IMULQ $4, R10
	MOVQ cv+32(FP), CX
	XORQ BX, BX

sfblock:
	CMPQ BX, CX
	JGE  sfdone
	VMOVUPS (DI)(BX*4), Z0
	MOVQ BX, R9
	IMULQ $4, R9
	ADDQ SI, R9
	MOVQ R8, DX

sfpix:
	TESTQ DX, DX
	JZ    sfstore
	VMOVUPS (R9), Z1
	VADDPS Z1, Z0, Z0
	ADDQ  R10, R9
	DECQ  DX
	JMP   sfpix

sfstore:
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	JMP  sfblock

sfdone:
	VZEROUPPER
	RET
