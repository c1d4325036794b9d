//go:build !noasm

#include "textflag.h"

// func u8RowFixAVX512(acc *int32, n int, a *int8, k int, rows int, base, wz int32, kmask uint64, nmask uint16)
//
// The weight zero point's share of a uint8 conv (subRowSums): for each
// of rows rows, S = Σ uint8(a[p] ^ 0x80) over the row's k bytes (VPSADBW
// against zero, 64 bytes per step, the last k mod 64 under kmask with the
// masked-off bytes loaded as zero, so they add 0x80 each, which the
// caller has taken out of base), t = wz·(S + base) mod 2^32, and every
// one of the row's n accumulators loses t (the last n mod 16 under nmask).
TEXT ·u8RowFixAVX512(SB), NOSPLIT, $0-58
	MOVQ  acc+0(FP), DI
	MOVQ  n+8(FP), CX
	MOVQ  a+16(FP), SI
	MOVQ  k+24(FP), DX
	MOVQ  rows+32(FP), R8
	MOVL  base+40(FP), R9
	MOVL  wz+44(FP), R10
	KMOVQ kmask+48(FP), K1
	KMOVW nmask+56(FP), K2
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
	TESTQ       R12, R12
	JZ          fixnext
	VMOVDQU32.Z (R11), K2, Z3
	VPSUBD      Z2, Z3, Z3
	VMOVDQU32   Z3, K2, (R11)

fixnext:
	ADDQ DX, SI
	LEAQ (DI)(CX*4), DI
	DECQ R8
	JMP  fixrow

fixdone:
	VZEROUPPER
	RET
