//go:build !noasm

#include "textflag.h"

// AVX2 forms of the hybrid kernels' vector loops (hybrid_amd64.s), for
// CPUs without AVX-512: the same operations in the same operand order, 8
// values per step; the callers (hybrid_amd64.go) run whole vectors here
// and the last n mod 8 values through the Go references' arithmetic.

// func hybridRangeAVX2(x *float32, n int) (lo float32, hi float32, bits uint32)
//
// n is a positive multiple of 8; results as hybridRangeAVX512's.
TEXT ·hybridRangeAVX2(SB), NOSPLIT, $0-28
	MOVQ         x+0(FP), SI
	MOVQ         n+8(FP), CX
	MOVL         $0x7FFFFFFF, AX
	MOVL         AX, X15
	VPBROADCASTD X15, Y15
	VMOVUPS      (SI), Y0
	VMOVAPS      Y0, Y1
	VPAND        Y15, Y0, Y2
	VMOVAPS      Y0, Y3
	VMOVAPS      Y1, Y4
	VMOVAPS      Y2, Y5
	MOVQ         $8, BX
	MOVQ         CX, DX
	SUBQ         $8, DX                // last start of a 16-value pass

r2pair:
	CMPQ    BX, DX
	JGE     r2single
	VMOVUPS (SI)(BX*4), Y6
	VMOVUPS 32(SI)(BX*4), Y7
	VMINPS  Y6, Y0, Y0
	VMAXPS  Y6, Y1, Y1
	VPAND   Y15, Y6, Y6
	VPMAXUD Y6, Y2, Y2
	VMINPS  Y7, Y3, Y3
	VMAXPS  Y7, Y4, Y4
	VPAND   Y15, Y7, Y7
	VPMAXUD Y7, Y5, Y5
	ADDQ    $16, BX
	JMP     r2pair

r2single:
	CMPQ    BX, CX
	JGE     r2reduce
	VMOVUPS (SI)(BX*4), Y6
	VMINPS  Y6, Y0, Y0
	VMAXPS  Y6, Y1, Y1
	VPAND   Y15, Y6, Y6
	VPMAXUD Y6, Y2, Y2

r2reduce:
	VMINPS       Y3, Y0, Y0
	VMAXPS       Y4, Y1, Y1
	VPMAXUD      Y5, Y2, Y2
	VEXTRACTF128 $1, Y0, X3
	VMINPS       X3, X0, X0
	VPSHUFD      $0x4E, X0, X3
	VMINPS       X3, X0, X0
	VPSHUFD      $0xB1, X0, X3
	VMINPS       X3, X0, X0
	MOVSS        X0, lo+16(FP)
	VEXTRACTF128 $1, Y1, X3
	VMAXPS       X3, X1, X1
	VPSHUFD      $0x4E, X1, X3
	VMAXPS       X3, X1, X1
	VPSHUFD      $0xB1, X1, X3
	VMAXPS       X3, X1, X1
	MOVSS        X1, hi+20(FP)
	VEXTRACTI128 $1, Y2, X3
	VPMAXUD      X3, X2, X2
	VPSHUFD      $0x4E, X2, X3
	VPMAXUD      X3, X2, X2
	VPSHUFD      $0xB1, X2, X3
	VPMAXUD      X3, X2, X2
	MOVL         X2, AX
	MOVL         AX, bits+24(FP)
	VZEROUPPER
	RET

// HQUANT8: Y2 = clamp(round½away(zp + x·inv), lo, hi) as int32 for the 8
// values in Y0, as HQUANT16: trunc(v) and v − trunc(v) are exact for
// |v| < 2^23; where |v − t| ≥ ½ (an ordered compare: both are finite and
// non-negative), t moves one away from zero. Clobbers Y3, Y4.
#define HQUANT8 \
	VMULPS     Y8, Y0, Y0; \
	VADDPS     Y0, Y9, Y0; \
	VROUNDPS   $0x0B, Y0, Y2; \
	VSUBPS     Y2, Y0, Y3; \
	VANDPS     Y12, Y3, Y3; \
	VCMPPS     $0x0D, Y13, Y3, Y3; \
	VANDPS     Y14, Y0, Y4; \
	VORPS      Y15, Y4, Y4; \
	VANDPS     Y3, Y4, Y4; \
	VADDPS     Y4, Y2, Y2; \
	VCVTTPS2DQ Y2, Y2; \
	VPMAXSD    Y10, Y2, Y2; \
	VPMINSD    Y11, Y2, Y2

// func hybridQuantAVX2(xs *float32, ys *int8, n int, inv float32, zp float32, lo int32, hi int32)
//
// ys[i] = clamp(round½away(zp + xs[i]·inv), lo, hi) for i < n, n a
// multiple of 8; lo and hi lie within [−128, 127], so the saturating
// packs keep every value.
TEXT ·hybridQuantAVX2(SB), NOSPLIT, $0-40
	MOVQ         xs+0(FP), SI
	MOVQ         ys+8(FP), DI
	MOVQ         n+16(FP), CX
	VBROADCASTSS inv+24(FP), Y8
	VBROADCASTSS zp+28(FP), Y9
	VBROADCASTSS lo+32(FP), Y10 // 32 bits copied as they are
	VBROADCASTSS hi+36(FP), Y11 // 32 bits copied as they are
	MOVL         $0x7FFFFFFF, AX
	MOVL         AX, X12
	VPBROADCASTD X12, Y12
	MOVL         $0x3F000000, AX  // 0.5
	MOVL         AX, X13
	VPBROADCASTD X13, Y13
	MOVL         $0x80000000, AX
	MOVL         AX, X14
	VPBROADCASTD X14, Y14
	MOVL         $0x3F800000, AX  // 1.0
	MOVL         AX, X15
	VPBROADCASTD X15, Y15
	XORQ         BX, BX

hq2loop:
	CMPQ         BX, CX
	JGE          hq2done
	VMOVUPS      (SI)(BX*4), Y0
	HQUANT8
	VEXTRACTI128 $1, Y2, X3
	VPACKSSDW    X3, X2, X2
	VPACKSSWB    X2, X2, X2
	MOVQ         X2, (DI)(BX*1)
	ADDQ         $8, BX
	JMP          hq2loop

hq2done:
	VZEROUPPER
	RET

// func hybridOutAVX2(dst *float32, acc *int32, rows int, n int, off *int32, sc *float32, bias *float32, lo float32, hi float32)
//
// hybridOutAVX512 for the first n &^ 7 columns of each row (row stride n
// in dst and acc); the caller finishes the others.
TEXT ·hybridOutAVX2(SB), NOSPLIT, $0-64
	MOVQ         dst+0(FP), DI
	MOVQ         acc+8(FP), SI
	MOVQ         rows+16(FP), R8
	MOVQ         n+24(FP), R9
	MOVQ         off+32(FP), R10
	MOVQ         sc+40(FP), R11
	MOVQ         bias+48(FP), R12
	VBROADCASTSS lo+56(FP), Y14
	VBROADCASTSS hi+60(FP), Y15
	MOVQ         R9, R13
	ANDQ         $-8, R13

ho2row:
	TESTQ R8, R8
	JZ    ho2done
	XORQ  BX, BX

ho2col:
	CMPQ      BX, R13
	JGE       ho2next
	VMOVDQU   (SI)(BX*4), Y0
	VPSUBD    (R10)(BX*4), Y0, Y0
	VCVTDQ2PS Y0, Y0
	VMULPS    (R11)(BX*4), Y0, Y0
	VADDPS    (R12)(BX*4), Y0, Y0
	VMAXPS    Y0, Y14, Y0
	VMINPS    Y0, Y15, Y0
	VMOVUPS   Y0, (DI)(BX*4)
	ADDQ      $8, BX
	JMP       ho2col

ho2next:
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	DECQ R8
	JMP  ho2row

ho2done:
	VZEROUPPER
	RET
