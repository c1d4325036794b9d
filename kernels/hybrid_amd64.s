//go:build !noasm

#include "textflag.h"

// Vector loops of the hybrid (dynamic-range) kernels (hybrid_vec.go): the
// input's range, its quantization to int8, and the float epilogue. Each
// computes exactly what the Go reference computes; the callers check the
// preconditions (finite inputs, finite reciprocal scale) first.

// func hybridRangeAVX512(x *float32, n int) (lo float32, hi float32, bits uint32)
//
// n is a positive multiple of 16. lo and hi are the minimum and maximum
// of x when it holds no NaN; bits is the largest |x| bit pattern (as an
// unsigned integer), ≥ 0x7F800000 exactly when x holds a NaN or an
// infinity, in which case lo and hi mean nothing.
TEXT ·hybridRangeAVX512(SB), NOSPLIT, $0-28
	MOVQ x+0(FP), SI
	MOVQ n+8(FP), CX
	MOVL $0x7FFFFFFF, AX
	VPBROADCASTD AX, Z30
	VMOVUPS (SI), Z0
	VMOVAPS Z0, Z1
	VPANDD Z30, Z0, Z2
	VMOVAPS Z0, Z3
	VMOVAPS Z1, Z4
	VMOVAPS Z2, Z5
	MOVQ $16, BX
	MOVQ CX, DX
	SUBQ $16, DX        // last start of a 32-value pass

rpair:
	CMPQ BX, DX
	JGE  rsingle
	VMOVUPS (SI)(BX*4), Z6
	VMOVUPS 64(SI)(BX*4), Z7
	VMINPS Z6, Z0, Z0
	VMAXPS Z6, Z1, Z1
	VPANDD Z30, Z6, Z6
	VPMAXUD Z6, Z2, Z2
	VMINPS Z7, Z3, Z3
	VMAXPS Z7, Z4, Z4
	VPANDD Z30, Z7, Z7
	VPMAXUD Z7, Z5, Z5
	ADDQ $32, BX
	JMP  rpair

rsingle:
	CMPQ BX, CX
	JGE  rreduce
	VMOVUPS (SI)(BX*4), Z6
	VMINPS Z6, Z0, Z0
	VMAXPS Z6, Z1, Z1
	VPANDD Z30, Z6, Z6
	VPMAXUD Z6, Z2, Z2

rreduce:
	VMINPS Z3, Z0, Z0
	VMAXPS Z4, Z1, Z1
	VPMAXUD Z5, Z2, Z2
	VEXTRACTF64X4 $1, Z0, Y3
	VMINPS Y3, Y0, Y0
	VEXTRACTF128 $1, Y0, X3
	VMINPS X3, X0, X0
	VPSHUFD $0x4E, X0, X3
	VMINPS X3, X0, X0
	VPSHUFD $0xB1, X0, X3
	VMINPS X3, X0, X0
	MOVSS X0, lo+16(FP)
	VEXTRACTF64X4 $1, Z1, Y3
	VMAXPS Y3, Y1, Y1
	VEXTRACTF128 $1, Y1, X3
	VMAXPS X3, X1, X1
	VPSHUFD $0x4E, X1, X3
	VMAXPS X3, X1, X1
	VPSHUFD $0xB1, X1, X3
	VMAXPS X3, X1, X1
	MOVSS X1, hi+20(FP)
	VEXTRACTI64X4 $1, Z2, Y3
	VPMAXUD Y3, Y2, Y2
	VEXTRACTI128 $1, Y2, X3
	VPMAXUD X3, X2, X2
	VPSHUFD $0x4E, X2, X3
	VPMAXUD X3, X2, X2
	VPSHUFD $0xB1, X2, X3
	VPMAXUD X3, X2, X2
	MOVL X2, AX
	MOVL AX, bits+24(FP)
	VZEROUPPER
	RET

// HQUANT16: Z2 = clamp(round½away(zp + x·inv), lo, hi) as int32 for the
// 16 values in Z0. trunc(v) and v − trunc(v) are exact in float32 for
// |v| < 2^23 (the callers guarantee |v| ≤ 512); where |v − t| ≥ ½, t moves
// one away from zero, which is math.Round. Clobbers Z3, Z4, K2.
#define HQUANT16 \
	VMULPS Z20, Z0, Z0; \
	VADDPS Z0, Z21, Z0; \
	VRNDSCALEPS $0x0B, Z0, Z2; \
	VSUBPS Z2, Z0, Z3; \
	VPANDD Z24, Z3, Z3; \
	VPCMPUD $5, Z26, Z3, K2; \
	VPANDD Z28, Z0, Z4; \
	VPORD Z27, Z4, Z4; \
	VADDPS Z4, Z2, K2, Z2; \
	VCVTTPS2DQ Z2, Z2; \
	VPMAXSD Z22, Z2, Z2; \
	VPMINSD Z23, Z2, Z2

// func hybridQuantAVX512(xs *float32, ys *int8, n int, inv float32, zp float32, lo int32, hi int32)
//
// ys[i] = clamp(round½away(zp + xs[i]·inv), lo, hi) for i < n, the last
// n mod 16 values through a mask.
TEXT ·hybridQuantAVX512(SB), NOSPLIT, $0-40
	MOVQ xs+0(FP), SI
	MOVQ ys+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS inv+24(FP), Z20
	VBROADCASTSS zp+28(FP), Z21
	VBROADCASTSS lo+32(FP), Z22 // 32 bits copied as they are
	VBROADCASTSS hi+36(FP), Z23 // 32 bits copied as they are
	MOVL $0x7FFFFFFF, AX
	VPBROADCASTD AX, Z24
	MOVL $0x3F000000, AX  // 0.5
	VPBROADCASTD AX, Z26
	MOVL $0x3F800000, AX  // 1.0
	VPBROADCASTD AX, Z27
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z28
	MOVQ CX, R8
	ANDQ $-16, R8
	XORQ BX, BX

hqloop:
	CMPQ BX, R8
	JGE  hqtail
	VMOVUPS (SI)(BX*4), Z0
	HQUANT16
	VPMOVDB Z2, (DI)(BX*1)
	ADDQ $16, BX
	JMP  hqloop

hqtail:
	CMPQ BX, CX
	JGE  hqdone
	SUBQ BX, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	VMOVUPS.Z (SI)(BX*4), K1, Z0
	HQUANT16
	VPMOVDB Z2, K1, (DI)(BX*1)

hqdone:
	VZEROUPPER
	RET

// func hybridOutAVX512(dst *float32, acc *int32, rows int, n int, off *int32, sc *float32, bias *float32, lo float32, hi float32)
//
// For rows rows of n values (row stride n in dst and acc):
// dst[j] = min(max(float32(acc[j] − off[j])·sc[j] + bias[j], lo), hi),
// the product and the sum rounded separately (no fused multiply-add), as
// the Go reference. VMAXPS and VMINPS return their second source, the
// value, when either is NaN, as Go's max and min return NaN.
TEXT ·hybridOutAVX512(SB), NOSPLIT, $0-64
	MOVQ dst+0(FP), DI
	MOVQ acc+8(FP), SI
	MOVQ rows+16(FP), R8
	MOVQ n+24(FP), R9
	MOVQ off+32(FP), R10
	MOVQ sc+40(FP), R11
	MOVQ bias+48(FP), R12
	VBROADCASTSS lo+56(FP), Z28
	VBROADCASTSS hi+60(FP), Z29
	MOVQ R9, CX
	ANDQ $15, CX
	MOVQ $1, AX
	SHLQ CX, AX
	DECQ AX
	KMOVW AX, K1
	MOVQ R9, R13
	ANDQ $-16, R13

horow:
	TESTQ R8, R8
	JZ    hodone
	XORQ  BX, BX

hocol:
	CMPQ BX, R13
	JGE  hotail
	VMOVDQU32 (SI)(BX*4), Z0
	VPSUBD (R10)(BX*4), Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMULPS (R11)(BX*4), Z0, Z0
	VADDPS (R12)(BX*4), Z0, Z0
	VMAXPS Z0, Z28, Z0
	VMINPS Z0, Z29, Z0
	VMOVUPS Z0, (DI)(BX*4)
	ADDQ $16, BX
	JMP  hocol

hotail:
	CMPQ BX, R9
	JGE  honext
	VMOVDQU32.Z (SI)(BX*4), K1, Z0
	VMOVDQU32.Z (R10)(BX*4), K1, Z1
	VPSUBD Z1, Z0, Z0
	VCVTDQ2PS Z0, Z0
	VMOVUPS.Z (R11)(BX*4), K1, Z1
	VMULPS Z1, Z0, Z0
	VMOVUPS.Z (R12)(BX*4), K1, Z1
	VADDPS Z1, Z0, Z0
	VMAXPS Z0, Z28, Z0
	VMINPS Z0, Z29, Z0
	VMOVUPS Z0, K1, (DI)(BX*4)

honext:
	LEAQ (SI)(R9*4), SI
	LEAQ (DI)(R9*4), DI
	DECQ R8
	JMP  horow

hodone:
	VZEROUPPER
	RET
