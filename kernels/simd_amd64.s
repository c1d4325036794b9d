//go:build !noasm

#include "textflag.h"

// MAX4: Z0 = key⁻¹(clamp(max of the keys of Z0..Z3)); ORs NaN lanes into K6.
// Clobbers Z4..Z7, K1. Keys: x ^ ((x >>s 31) & 0x7FFFFFFF), their own inverse.
#define MAX4 \
	VPANDD Z30, Z0, Z4; \
	VPCMPUD $6, Z31, Z4, K1; \
	KORW K1, K6, K6; \
	VPANDD Z30, Z1, Z4; \
	VPCMPUD $6, Z31, Z4, K1; \
	KORW K1, K6, K6; \
	VPANDD Z30, Z2, Z4; \
	VPCMPUD $6, Z31, Z4, K1; \
	KORW K1, K6, K6; \
	VPANDD Z30, Z3, Z4; \
	VPCMPUD $6, Z31, Z4, K1; \
	KORW K1, K6, K6; \
	VPSRAD $31, Z0, Z4; \
	VPSRAD $31, Z1, Z5; \
	VPSRAD $31, Z2, Z6; \
	VPSRAD $31, Z3, Z7; \
	VPANDD Z30, Z4, Z4; \
	VPANDD Z30, Z5, Z5; \
	VPANDD Z30, Z6, Z6; \
	VPANDD Z30, Z7, Z7; \
	VPXORD Z4, Z0, Z0; \
	VPXORD Z5, Z1, Z1; \
	VPXORD Z6, Z2, Z2; \
	VPXORD Z7, Z3, Z3; \
	VPMAXSD Z1, Z0, Z0; \
	VPMAXSD Z3, Z2, Z2; \
	VPMAXSD Z2, Z0, Z0; \
	VPMAXSD Z28, Z0, Z0; \
	VPMINSD Z29, Z0, Z0; \
	VPSRAD $31, Z0, Z4; \
	VPANDD Z30, Z4, Z4; \
	VPXORD Z4, Z0, Z0


// func max2x2F32AVX512(o, a, b *float32, npix, C int, l, h int32) int
//
// Per pixel p, channel chunk of up to 16 lanes (the last one masked):
//   key(x) = x ^ ((x >>s 31) & 0x7FFFFFFF)  — float order as int32 order
//   out    = key⁻¹(min(max(k(a0), k(a1), k(b0), k(b1), l), h))
// A lane whose |bits| exceed +Inf's is NaN: the pixel is abandoned and its
// index returned so Go redoes it with its own max.
TEXT ·max2x2F32AVX512(SB), NOSPLIT, $0-56
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ npix+24(FP), R8
	MOVQ C+32(FP), R9
	MOVL l+40(FP), AX
	VPBROADCASTD AX, Z28
	MOVL h+44(FP), AX
	VPBROADCASTD AX, Z29
	MOVL $0x7FFFFFFF, AX
	VPBROADCASTD AX, Z30
	MOVL $0x7F800000, AX
	VPBROADCASTD AX, Z31
	// tail mask: low (C mod 16) lanes
	MOVQ R9, CX
	ANDQ $15, CX
	MOVL $1, AX
	SHLL CX, AX
	DECL AX
	KMOVW AX, K7
	MOVQ R9, R11
	SHLQ $2, R11          // R11 = C*4 bytes: offset of the second pixel in a row
	XORQ R10, R10         // pixel index

pixloop:
	CMPQ R10, R8
	JGE  done
	KXORW K6, K6, K6      // NaN lanes seen in this pixel
	XORQ BX, BX           // channel byte offset
	MOVQ R9, CX           // channels left

chunk:
	CMPQ CX, $16
	JLT  tail
	VMOVDQU32 (SI)(BX*1), Z0
	LEAQ (SI)(R11*1), R12
	VMOVDQU32 (R12)(BX*1), Z1
	VMOVDQU32 (DX)(BX*1), Z2
	LEAQ (DX)(R11*1), R12
	VMOVDQU32 (R12)(BX*1), Z3
	MAX4
	VMOVDQU32 Z0, (DI)(BX*1)
	ADDQ $64, BX
	SUBQ $16, CX
	JMP  chunk

tail:
	TESTQ CX, CX
	JZ    pixdone
	VMOVDQU32.Z (SI)(BX*1), K7, Z0
	LEAQ (SI)(R11*1), R12
	VMOVDQU32.Z (R12)(BX*1), K7, Z1
	VMOVDQU32.Z (DX)(BX*1), K7, Z2
	LEAQ (DX)(R11*1), R12
	VMOVDQU32.Z (R12)(BX*1), K7, Z3
	MAX4
	VMOVDQU32 Z0, K7, (DI)(BX*1)

pixdone:
	KORTESTW K6, K6
	JNZ  done
	INCQ R10
	ADDQ R11, DI
	LEAQ (SI)(R11*2), SI
	LEAQ (DX)(R11*2), DX
	JMP  pixloop

done:
	MOVQ R10, ret+48(FP)
	VZEROUPPER
	RET

// func quantizeI8AVX512(xs *float32, ys *int8, n int, scale float32, zp, lo, hi int32) int
//
// Per block of 16: v = x/scale (VDIVPS, correctly rounded like Go's
// float32 division); bail out if any |v| ≥ 2^30 or NaN; t = trunc(v);
// t += sign(v) where |v − t| ≥ ½ (both steps exact in float32 below
// 2^30, and v is an integer from 2^23 up); q = clamp(int(t) + zp, lo, hi),
// stored as its low byte.
TEXT ·quantizeI8AVX512(SB), NOSPLIT, $0-48
	MOVQ xs+0(FP), SI
	MOVQ ys+8(FP), DI
	MOVQ n+16(FP), CX
	MOVL scale+24(FP), AX
	VPBROADCASTD AX, Z20
	MOVL zp+28(FP), AX
	VPBROADCASTD AX, Z21
	MOVL lo+32(FP), AX
	VPBROADCASTD AX, Z22
	MOVL hi+36(FP), AX
	VPBROADCASTD AX, Z23
	MOVL $0x7FFFFFFF, AX
	VPBROADCASTD AX, Z24
	MOVL $0x4E800000, AX  // 2^30
	VPBROADCASTD AX, Z25
	MOVL $0x3F000000, AX  // 0.5
	VPBROADCASTD AX, Z26
	MOVL $0x3F800000, AX  // 1.0
	VPBROADCASTD AX, Z27
	MOVL $0x80000000, AX
	VPBROADCASTD AX, Z28
	XORQ BX, BX           // values done

qloop:
	CMPQ BX, CX
	JGE  qdone
	VMOVUPS (SI)(BX*4), Z0
	VDIVPS Z20, Z0, Z0
	VPANDD Z24, Z0, Z1                 // |v| bits
	VPCMPUD $5, Z25, Z1, K1            // |v| ≥ 2^30, or NaN
	KORTESTW K1, K1
	JNZ  qdone
	VRNDSCALEPS $0x0B, Z0, Z2          // t = trunc(v)
	VSUBPS Z2, Z0, Z3                  // v − t, exact
	VPANDD Z24, Z3, Z3
	VPCMPUD $5, Z26, Z3, K2            // |v − t| ≥ ½
	VPANDD Z28, Z0, Z4
	VPORD Z27, Z4, Z4                  // ±1 with v's sign
	VADDPS Z4, Z2, K2, Z2
	VCVTTPS2DQ Z2, Z2
	VPADDD Z21, Z2, Z2
	VPMAXSD Z22, Z2, Z2
	VPMINSD Z23, Z2, Z2
	VPMOVDB Z2, (DI)(BX*1)
	ADDQ $16, BX
	JMP  qloop

qdone:
	MOVQ BX, ret+40(FP)
	VZEROUPPER
	RET

// Integer 2×2 max-pool, bytes of one pixel Cb = C·(element size).
// VMAX/VMIN are the element-wise signed max/min (VPMAXSB/VPMINSB for int8,
// VPMAXSW/VPMINSW for int16); Z28/Z29 hold the broadcast clamp bounds.
// Masked lanes are loaded as zeros and never stored, so their value does
// not matter.
//
// Cb = 16 or 32: four input pixels (Cb=16: two output pixel pairs of 16
// bytes per 64-byte vector; Cb=32: pairs of 32) take one vertical max of
// 64 bytes per row, then VSHUFI64X2 gathers even pixels and odd pixels
// into two vectors whose max is 64 bytes of output (IMM_E/IMM_O select
// them). Other Cb: per output pixel, 64-byte chunks then a masked tail.
// Arguments arrive in DI (o), SI (a), DX (b), R8 (npix), R9 (cb).
#define MAXPOOL_BODY(VMAX, VMIN) \
	MOVQ R9, CX; \
	ANDQ $63, CX; \
	MOVQ $1, AX; \
	SHLQ CX, AX; \
	DECQ AX; \
	KMOVQ AX, K7; \
	CMPQ R9, $16; \
	JEQ  pair16; \
	CMPQ R9, $32; \
	JEQ  pair32; \
	JMP  pixloop; \
pair16: \
	CMPQ R8, $4; \
	JLT  pixloop; \
	VMOVDQU8 (SI), Z0; \
	VMOVDQU8 64(SI), Z1; \
	VMAX (DX), Z0, Z0; \
	VMAX 64(DX), Z1, Z1; \
	VSHUFI64X2 $0x88, Z1, Z0, Z2; \
	VSHUFI64X2 $0xDD, Z1, Z0, Z3; \
	VMAX Z3, Z2, Z2; \
	VMAX Z28, Z2, Z2; \
	VMIN Z29, Z2, Z2; \
	VMOVDQU8 Z2, (DI); \
	ADDQ $64, DI; \
	ADDQ $128, SI; \
	ADDQ $128, DX; \
	SUBQ $4, R8; \
	JMP  pair16; \
pair32: \
	CMPQ R8, $2; \
	JLT  pixloop; \
	VMOVDQU8 (SI), Z0; \
	VMOVDQU8 64(SI), Z1; \
	VMAX (DX), Z0, Z0; \
	VMAX 64(DX), Z1, Z1; \
	VSHUFI64X2 $0x44, Z1, Z0, Z2; \
	VSHUFI64X2 $0xEE, Z1, Z0, Z3; \
	VMAX Z3, Z2, Z2; \
	VMAX Z28, Z2, Z2; \
	VMIN Z29, Z2, Z2; \
	VMOVDQU8 Z2, (DI); \
	ADDQ $64, DI; \
	ADDQ $128, SI; \
	ADDQ $128, DX; \
	SUBQ $2, R8; \
	JMP  pair32; \
pixloop: \
	TESTQ R8, R8; \
	JLE  done; \
	LEAQ (SI)(R9*1), R10; \
	LEAQ (DX)(R9*1), R11; \
	XORQ BX, BX; \
	MOVQ R9, CX; \
chunk: \
	CMPQ CX, $64; \
	JLT  tail; \
	VMOVDQU8 (SI)(BX*1), Z0; \
	VMOVDQU8 (R10)(BX*1), Z1; \
	VMAX (DX)(BX*1), Z0, Z0; \
	VMAX (R11)(BX*1), Z1, Z1; \
	VMAX Z1, Z0, Z0; \
	VMAX Z28, Z0, Z0; \
	VMIN Z29, Z0, Z0; \
	VMOVDQU8 Z0, (DI)(BX*1); \
	ADDQ $64, BX; \
	SUBQ $64, CX; \
	JMP  chunk; \
tail: \
	TESTQ CX, CX; \
	JZ    pixdone; \
	VMOVDQU8.Z (SI)(BX*1), K7, Z0; \
	VMOVDQU8.Z (R10)(BX*1), K7, Z1; \
	VMOVDQU8.Z (DX)(BX*1), K7, Z2; \
	VMOVDQU8.Z (R11)(BX*1), K7, Z3; \
	VMAX Z1, Z0, Z0; \
	VMAX Z3, Z2, Z2; \
	VMAX Z2, Z0, Z0; \
	VMAX Z28, Z0, Z0; \
	VMIN Z29, Z0, Z0; \
	VMOVDQU8 Z0, K7, (DI)(BX*1); \
pixdone: \
	ADDQ R9, DI; \
	LEAQ (SI)(R9*2), SI; \
	LEAQ (DX)(R9*2), DX; \
	DECQ R8; \
	JMP  pixloop; \
done: \
	VZEROUPPER; \
	RET

// func max2x2I8AVX512(o, a, b *int8, npix, cb int, lo, hi int8)
//
// out = clamp(max(a0, a1, b0, b1), lo, hi) over npix pixels of cb bytes.
TEXT ·max2x2I8AVX512(SB), NOSPLIT, $0-42
	MOVBLSX lo+40(FP), AX
	VPBROADCASTB AX, Z28
	MOVBLSX hi+41(FP), AX
	VPBROADCASTB AX, Z29
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ npix+24(FP), R8
	MOVQ cb+32(FP), R9
	MAXPOOL_BODY(VPMAXSB, VPMINSB)

// func max2x2I16AVX512(o, a, b *int16, npix, cb int, lo, hi int16)
//
// max2x2I8AVX512 for int16 elements; cb is still in bytes (2·C).
TEXT ·max2x2I16AVX512(SB), NOSPLIT, $0-44
	MOVWLSX lo+40(FP), AX
	VPBROADCASTW AX, Z28
	MOVWLSX hi+42(FP), AX
	VPBROADCASTW AX, Z29
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ npix+24(FP), R8
	MOVQ cb+32(FP), R9
	MAXPOOL_BODY(VPMAXSW, VPMINSW)

// func lookup8AVX512(t *[256]uint8, xs, ys *byte, n int)
//
// ys[i] = t[xs[i]] for n bytes, 64 per step: VPERMI2B looks up the low
// 7 bits of each index in the table halves t[0:128] (Z24, Z25) and
// t[128:256] (Z26, Z27); the index's top bit (VPMOVB2M) picks between
// the two. The last n mod 64 bytes are loaded and stored under a mask.
TEXT ·lookup8AVX512(SB), NOSPLIT, $0-32
	MOVQ t+0(FP), AX
	MOVQ xs+8(FP), SI
	MOVQ ys+16(FP), DI
	MOVQ n+24(FP), CX
	VMOVDQU8 (AX), Z24
	VMOVDQU8 64(AX), Z25
	VMOVDQU8 128(AX), Z26
	VMOVDQU8 192(AX), Z27
	XORQ BX, BX

lutloop:
	LEAQ 64(BX), DX
	CMPQ DX, CX
	JGT  luttail
	VMOVDQU8 (SI)(BX*1), Z0
	VPMOVB2M Z0, K1
	VMOVDQA64 Z0, Z1
	VPERMI2B Z25, Z24, Z0
	VPERMI2B Z27, Z26, Z1
	VPBLENDMB Z1, Z0, K1, Z0
	VMOVDQU8 Z0, (DI)(BX*1)
	MOVQ DX, BX
	JMP  lutloop

luttail:
	MOVQ CX, DX
	SUBQ BX, DX
	JZ   lutdone
	MOVQ $-1, AX
	SHLXQ DX, AX, AX
	NOTQ AX
	KMOVQ AX, K2
	VMOVDQU8.Z (SI)(BX*1), K2, Z0
	VPMOVB2M Z0, K1
	VMOVDQA64 Z0, Z1
	VPERMI2B Z25, Z24, Z0
	VPERMI2B Z27, Z26, Z1
	VPBLENDMB Z1, Z0, K1, Z0
	VMOVDQU8 Z0, K2, (DI)(BX*1)

lutdone:
	VZEROUPPER
	RET
