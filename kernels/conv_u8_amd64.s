//go:build !noasm

#include "textflag.h"

// func u8RowFixAVX512(acc *int32, n int, a *int8, k int, rows int, base, wz int32, kmask uint64)
//
// The weight zero point's share of a uint8 conv (subRowSums): for each
// of rows rows, S = Σ uint8(a[p] ^ 0x80) over the row's k bytes (VPSADBW
// against zero, 64 bytes per step, the last k mod 64 under kmask with the
// masked-off bytes loaded as zero, so they add 0x80 each, which the
// caller has taken out of base), t = wz·(S + base) mod 2^32, and every
// one of the row's n accumulators loses t (16, 8, 4, then 1 at a time:
// masked stores are slow on some cores, Zen 4 among them).
TEXT ·u8RowFixAVX512(SB), NOSPLIT, $0-56
	MOVQ  acc+0(FP), DI
	MOVQ  n+8(FP), CX
	MOVQ  a+16(FP), SI
	MOVQ  k+24(FP), DX
	MOVQ  rows+32(FP), R8
	MOVL  base+40(FP), R9
	MOVL  wz+44(FP), R10
	KMOVQ kmask+48(FP), K1
	MOVL  $0x80808080, AX
	VPBROADCASTD AX, Z31
	VPXORD Z30, Z30, Z30

fixrow:
	TESTQ R8, R8
	JZ    fixdone
	VPXORQ Z0, Z0, Z0
	MOVQ  SI, R11
	MOVQ  DX, R12

fixsum:
	CMPQ    R12, $64
	JLT     fixsumtail
	VPXORD  (R11), Z31, Z1
	VPSADBW Z30, Z1, Z1
	VPADDQ  Z1, Z0, Z0
	ADDQ    $64, R11
	SUBQ    $64, R12
	JMP     fixsum

fixsumtail:
	TESTQ       R12, R12
	JZ          fixreduce
	VMOVDQU8.Z  (R11), K1, Z1
	VPXORD      Z31, Z1, Z1
	VPSADBW     Z30, Z1, Z1
	VPADDQ      Z1, Z0, Z0

fixreduce:
	VEXTRACTI64X4 $1, Z0, Y1
	VPADDQ        Y1, Y0, Y0
	VEXTRACTI128  $1, Y0, X1
	VPADDQ        X1, X0, X0
	VPSHUFD       $0x4E, X0, X1
	VPADDQ        X1, X0, X0
	VMOVQ         X0, AX
	ADDL          R9, AX
	IMULL         R10, AX
	VPBROADCASTD  AX, Z2
	MOVQ          DI, R11
	MOVQ          CX, R12

fixsub:
	CMPQ      R12, $16
	JLT       fixsubtail
	VMOVDQU32 (R11), Z3
	VPSUBD    Z2, Z3, Z3
	VMOVDQU32 Z3, (R11)
	ADDQ      $64, R11
	SUBQ      $16, R12
	JMP       fixsub

fixsubtail:
	CMPQ      R12, $8
	JLT       fixsub4
	VMOVDQU   (R11), Y3
	VPSUBD    Y2, Y3, Y3
	VMOVDQU   Y3, (R11)
	ADDQ      $32, R11
	SUBQ      $8, R12

fixsub4:
	CMPQ      R12, $4
	JLT       fixsub1
	VMOVDQU   (R11), X3
	VPSUBD    X2, X3, X3
	VMOVDQU   X3, (R11)
	ADDQ      $16, R11
	SUBQ      $4, R12

fixsub1:
	TESTQ R12, R12
	JZ    fixnext
	SUBL  AX, (R11)
	ADDQ  $4, R11
	DECQ  R12
	JMP   fixsub1

fixnext:
	ADDQ DX, SI
	LEAQ (DI)(CX*4), DI
	DECQ R8
	JMP  fixrow

fixdone:
	VZEROUPPER
	RET

// func xor80AVX512(dst, src *byte, n int)
//
// dst[i] = src[i] ^ 0x80 for n bytes (uint8 x to int8 x−128 and back),
// 256 bytes per step, then 64, then the last n mod 64 under a mask.
TEXT ·xor80AVX512(SB), NOSPLIT, $0-24
	MOVQ dst+0(FP), DI
	MOVQ src+8(FP), SI
	MOVQ n+16(FP), CX
	MOVL $0x80808080, AX
	VPBROADCASTD AX, Z31

xor256:
	CMPQ   CX, $256
	JLT    xor64
	VPXORD (SI), Z31, Z0
	VPXORD 64(SI), Z31, Z1
	VPXORD 128(SI), Z31, Z2
	VPXORD 192(SI), Z31, Z3
	VMOVDQU64 Z0, (DI)
	VMOVDQU64 Z1, 64(DI)
	VMOVDQU64 Z2, 128(DI)
	VMOVDQU64 Z3, 192(DI)
	ADDQ   $256, SI
	ADDQ   $256, DI
	SUBQ   $256, CX
	JMP    xor256

xor64:
	CMPQ   CX, $64
	JLT    xortail
	VPXORD (SI), Z31, Z0
	VMOVDQU64 Z0, (DI)
	ADDQ   $64, SI
	ADDQ   $64, DI
	SUBQ   $64, CX
	JMP    xor64

xortail:
	TESTQ CX, CX
	JZ    xordone
	MOVQ  $-1, AX
	SHLQ  CX, AX
	NOTQ  AX
	KMOVQ AX, K1
	VMOVDQU8.Z (SI), K1, Z0
	VPXORD     Z31, Z0, Z0
	VMOVDQU8   Z0, K1, (DI)

xordone:
	VZEROUPPER
	RET
