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


// XNN8Y is one block of 8 8-bit values of XNN8 in AVX2 int32 lanes
// (Y9..Y15 hold ma, mb, bias, shift, zo, lo, hi), left in R.
#define XNN8Y(EXT, OFF, R) \
	EXT     OFF(SI)(BX*1), R; \
	EXT     OFF(DX)(BX*1), Y3; \
	VPMULLD Y9, R, R; \
	VPMULLD Y10, Y3, Y3; \
	VPADDD  Y11, R, R; \
	VPADDD  Y3, R, R; \
	VPSRAVD Y12, R, R; \
	VPADDD  Y13, R, R; \
	VPMAXSD Y14, R, R; \
	VPMINSD Y15, R, R

// XNN16Y is XNN8 for AVX2: two XNN8Y blocks packed to 16 bytes. The
// values are already clamped into the 8-bit range, so the saturating
// packs (PACK is VPACKSSWB for int8, VPACKUSWB for uint8) change none;
// VPERMQ undoes the per-lane interleave of VPACKSSDW.
#define XNN16Y(EXT, PACK) \
	XNN8Y(EXT, 0, Y0); \
	XNN8Y(EXT, 8, Y1); \
	VPACKSSDW    Y1, Y0, Y0; \
	VPERMQ       $0xD8, Y0, Y0; \
	VEXTRACTI128 $1, Y0, X1; \
	PACK         X1, X0, X0; \
	VMOVDQU      X0, (DI)(BX*1)

#define XNN8ARGSY \
	MOVQ x+0(FP), SI; \
	MOVQ y+8(FP), DX; \
	MOVQ z+16(FP), DI; \
	MOVQ n+24(FP), CX; \
	MOVL ma+32(FP), AX; \
	VMOVD AX, X9; \
	VPBROADCASTD X9, Y9; \
	MOVL mb+36(FP), AX; \
	VMOVD AX, X10; \
	VPBROADCASTD X10, Y10; \
	MOVL bias+40(FP), AX; \
	VMOVD AX, X11; \
	VPBROADCASTD X11, Y11; \
	MOVL shift+44(FP), AX; \
	VMOVD AX, X12; \
	VPBROADCASTD X12, Y12; \
	MOVL zo+48(FP), AX; \
	VMOVD AX, X13; \
	VPBROADCASTD X13, Y13; \
	MOVL lo+52(FP), AX; \
	VMOVD AX, X14; \
	VPBROADCASTD X14, Y14; \
	MOVL hi+56(FP), AX; \
	VMOVD AX, X15; \
	VPBROADCASTD X15, Y15; \
	XORQ BX, BX

// func addF32AVX2(x, y, z *float32, n int, lo, hi float32)
//
// addF32AVX512 in 8-value AVX2 blocks (n a multiple of 8), with the same
// operand order for VMAXPS and VMINPS; VBLENDVPS puts NaN sums back.
TEXT ·addF32AVX2(SB), NOSPLIT, $0-40
	MOVQ x+0(FP), SI
	MOVQ y+8(FP), DX
	MOVQ z+16(FP), DI
	MOVQ n+24(FP), CX
	VBROADCASTSS lo+32(FP), Y14
	VBROADCASTSS hi+36(FP), Y15
	XORQ BX, BX

fyloop:
	CMPQ      BX, CX
	JGE       fydone
	VMOVUPS   (SI)(BX*4), Y0
	VADDPS    (DX)(BX*4), Y0, Y0
	VCMPPS    $3, Y0, Y0, Y2 // unordered: NaN lanes
	VMAXPS    Y14, Y0, Y1
	VMINPS    Y15, Y1, Y1
	VBLENDVPS Y2, Y0, Y1, Y1
	VMOVUPS   Y1, (DI)(BX*4)
	ADDQ      $8, BX
	JMP       fyloop

fydone:
	VZEROUPPER
	RET

// func addXNNI8AVX2(x, y, z *int8, n int, ma, mb, bias, shift, zo, lo, hi int32)
//
// XNN16Y over n int8 values (n a multiple of 16).
TEXT ·addXNNI8AVX2(SB), NOSPLIT, $0-60
	XNN8ARGSY

xsyloop:
	CMPQ BX, CX
	JGE  xsydone
	XNN16Y(VPMOVSXBD, VPACKSSWB)
	ADDQ $16, BX
	JMP  xsyloop

xsydone:
	VZEROUPPER
	RET

// func addXNNU8AVX2(x, y, z *uint8, n int, ma, mb, bias, shift, zo, lo, hi int32)
//
// XNN16Y over n uint8 values (n a multiple of 16).
TEXT ·addXNNU8AVX2(SB), NOSPLIT, $0-60
	XNN8ARGSY

xuyloop:
	CMPQ BX, CX
	JGE  xuydone
	XNN16Y(VPMOVZXBD, VPACKUSWB)
	ADDQ $16, BX
	JMP  xuyloop

xuydone:
	VZEROUPPER
	RET
