//go:build !noasm

#include "textflag.h"

// func sumPixF32AVX2(acc *float32, src *float32, npix, C, cv int) — see pool_sum_amd64.go.
//
// sumPixF32AVX512 8 channels at a time (cv a multiple of 8): each
// channel's sum adds the pixels in order, one rounding per add.
TEXT ·sumPixF32AVX2(SB), NOSPLIT, $0-40
	MOVQ  acc+0(FP), DI
	MOVQ  src+8(FP), SI
	MOVQ  npix+16(FP), R8
	MOVQ  C+24(FP), R10
	SHLQ  $2, R10
	MOVQ  cv+32(FP), CX
	XORQ  BX, BX

s2block:
	CMPQ    BX, CX
	JGE     s2done
	VMOVUPS (DI)(BX*4), Y0
	LEAQ    (SI)(BX*4), R9
	MOVQ    R8, DX

s2pix:
	TESTQ  DX, DX
	JZ     s2store
	VADDPS (R9), Y0, Y0
	ADDQ   R10, R9
	DECQ   DX
	JMP    s2pix

s2store:
	VMOVUPS Y0, (DI)(BX*4)
	ADDQ    $8, BX
	JMP     s2block

s2done:
	VZEROUPPER
	RET
