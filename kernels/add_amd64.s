//go:build !noasm

#include "textflag.h"

// XNN8 is one block of 16 8-bit values of XNNPACK's ADD:
// z = clamp((bias + x·ma + y·mb) >>s shift + zo, lo, hi) in int32 lanes
// (products and sums wrap as Go's int32 do), stored as the low bytes.
// EXT is VPMOVSXBD (int8) or VPMOVZXBD (uint8).
#define XNN8(EXT) \
	EXT     (SI)(BX*1), Z0; \
	EXT     (DX)(BX*1), Z1; \
	VPMULLD Z24, Z0, Z0; \
	VPMULLD Z25, Z1, Z1; \
	VPADDD  Z26, Z0, Z0; \
	VPADDD  Z1, Z0, Z0; \
	VPSRAVD Z27, Z0, Z0; \
	VPADDD  Z28, Z0, Z0; \
	VPMAXSD Z29, Z0, Z0; \
	VPMINSD Z30, Z0, Z0; \
	VPMOVDB Z0, (DI)(BX*1)

#define XNN8ARGS \
	MOVQ x+0(FP), SI; \
	MOVQ y+8(FP), DX; \
	MOVQ z+16(FP), DI; \
	MOVQ n+24(FP), CX; \
	MOVL ma+32(FP), AX; \
	VPBROADCASTD AX, Z24; \
	MOVL mb+36(FP), AX; \
	VPBROADCASTD AX, Z25; \
	MOVL bias+40(FP), AX; \
	VPBROADCASTD AX, Z26; \
	MOVL shift+44(FP), AX; \
	VPBROADCASTD AX, Z27; \
	MOVL zo+48(FP), AX; \
	VPBROADCASTD AX, Z28; \
	MOVL lo+52(FP), AX; \
	VPBROADCASTD AX, Z29; \
	MOVL hi+56(FP), AX; \
	VPBROADCASTD AX, Z30; \
	XORQ BX, BX

// func addF32AVX512(x, y, z *float32, n int, lo, hi float32)
//
// z[i] = min(max(x[i]+y[i], lo), hi) for n values (n a multiple of 16),
// bit for bit as Go computes it: VMAXPS and VMINPS return their second
// source on equal zeros, which is lo or hi as Go's max and min do (lo
// is never −0, hi never +0); a NaN sum, which they would replace by the
// bound, is put back through the unordered mask.
TEXT ·addF32AVX512(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ z+16(FP), DI
	MOVQ n+24(FP), CX
	VBROADCASTSS lo+32(FP), Z30
	VBROADCASTSS hi+36(FP), Z31
	XORQ BX, BX

faloop:
	CMPQ BX, CX
	JGE  fadone
	VMOVUPS (SI)(BX*4), Z0
	VADDPS  (DX)(BX*4), Z0, Z0
	VCMPPS  $3, Z0, Z0, K1 // unordered: NaN lanes
	VMAXPS  Z30, Z0, Z1
	VMINPS  Z31, Z1, Z1
	VMOVAPS Z0, K1, Z1
	VMOVUPS Z1, (DI)(BX*4)
	ADDQ    $16, BX
	JMP     faloop

fadone:
	VZEROUPPER
	RET

// func addXNNI8AVX512(x, y, z *int8, n int, ma, mb, bias, shift, zo, lo, hi int32)
//
// XNN8 over n int8 values (n a multiple of 16).
TEXT ·addXNNI8AVX512(SB), NOSPLIT, $0-60
	XNN8ARGS

xsloop:
	CMPQ BX, CX
	JGE  xsdone
	XNN8(VPMOVSXBD)
	ADDQ $16, BX
	JMP  xsloop

xsdone:
	VZEROUPPER
	RET

// func addXNNU8AVX512(x, y, z *uint8, n int, ma, mb, bias, shift, zo, lo, hi int32)
//
// XNN8 over n uint8 values (n a multiple of 16).
TEXT ·addXNNU8AVX512(SB), NOSPLIT, $0-60
	XNN8ARGS

xuloop:
	CMPQ BX, CX
	JGE  xudone
	XNN8(VPMOVZXBD)
	ADDQ $16, BX
	JMP  xuloop

xudone:
	VZEROUPPER
	RET

