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

// MAXPOOL_PAIRS: 2x2 windows over pixels of 16 or 32 bytes, 64 output
// bytes (npix pixels) per pass: the two input rows' maxima are split into
// each window's left and right pixel by VSHUFI64X2 (LOIMM, HIIMM), then
// maxed and clamped; fewer than NPIX pixels left go on to pixloop.
#define MAXPOOL_PAIRS(VMAX, VMIN, LABEL, LOIMM, HIIMM, NPIX) \
LABEL: \
	CMPQ R8, NPIX; \
	JLT  pixloop; \
	VMOVDQU8 (SI), Z0; \
	VMOVDQU8 64(SI), Z1; \
	VMAX (DX), Z0, Z0; \
	VMAX 64(DX), Z1, Z1; \
	VSHUFI64X2 LOIMM, Z1, Z0, Z2; \
	VSHUFI64X2 HIIMM, Z1, Z0, Z3; \
	VMAX Z3, Z2, Z2; \
	VMAX Z28, Z2, Z2; \
	VMIN Z29, Z2, Z2; \
	VMOVDQU8 Z2, (DI); \
	ADDQ $64, DI; \
	ADDQ $128, SI; \
	ADDQ $128, DX; \
	SUBQ NPIX, R8; \
	JMP  LABEL

// Integer 2×2 max-pool, bytes of one pixel Cb = C·(element size).
// VMAX/VMIN are the element-wise signed max/min (VPMAXSB/VPMINSB for int8,
// VPMAXSW/VPMINSW for int16); Z28/Z29 hold the broadcast clamp bounds.
// Masked lanes are loaded as zeros and never stored, so their value does
// not matter.
//
// Cb = 16 or 32: four input pixels (Cb=16: two output pixel pairs of 16
// bytes per 64-byte vector; Cb=32: pairs of 32) take one vertical max of
// 64 bytes per row, then VSHUFI64X2 gathers even pixels and odd pixels
// into two vectors whose max is 64 bytes of output (MAXPOOL_PAIRS; its
// immediates select them). Other Cb: per output pixel, 64-byte chunks then a masked tail.
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
	MAXPOOL_PAIRS(VMAX, VMIN, pair16, $0x88, $0xDD, $4); \
	MAXPOOL_PAIRS(VMAX, VMIN, pair32, $0x44, $0xEE, $2); \
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

// ---- AVX2 forms of the loops above, for CPUs without AVX-512 (ymm, 16
// registers, no opmasks: masked lanes go through VPMASKMOVD or overlap).

// f32LaneIota is 0..7, compared with a lane count to build a tail mask.
DATA f32LaneIota<>+0(SB)/4, $0
DATA f32LaneIota<>+4(SB)/4, $1
DATA f32LaneIota<>+8(SB)/4, $2
DATA f32LaneIota<>+12(SB)/4, $3
DATA f32LaneIota<>+16(SB)/4, $4
DATA f32LaneIota<>+20(SB)/4, $5
DATA f32LaneIota<>+24(SB)/4, $6
DATA f32LaneIota<>+28(SB)/4, $7
GLOBL f32LaneIota<>(SB), RODATA|NOPTR, $32

// MAX4Y is MAX4 on ymm: Y0 = key⁻¹(clamp(max of the keys of Y0..Y3));
// ORs NaN lanes (|bits| > +Inf's, a signed compare as the sign is
// cleared) into Y9. Y12/Y13 hold l, h; Y14 0x7FFFFFFF; Y15 0x7F800000.
// Clobbers Y4..Y7.
#define MAX4Y \
	VPAND Y14, Y0, Y4; \
	VPAND Y14, Y1, Y5; \
	VPAND Y14, Y2, Y6; \
	VPAND Y14, Y3, Y7; \
	VPCMPGTD Y15, Y4, Y4; \
	VPCMPGTD Y15, Y5, Y5; \
	VPCMPGTD Y15, Y6, Y6; \
	VPCMPGTD Y15, Y7, Y7; \
	VPOR Y4, Y9, Y9; \
	VPOR Y5, Y9, Y9; \
	VPOR Y6, Y9, Y9; \
	VPOR Y7, Y9, Y9; \
	VPSRAD $31, Y0, Y4; \
	VPSRAD $31, Y1, Y5; \
	VPSRAD $31, Y2, Y6; \
	VPSRAD $31, Y3, Y7; \
	VPAND Y14, Y4, Y4; \
	VPAND Y14, Y5, Y5; \
	VPAND Y14, Y6, Y6; \
	VPAND Y14, Y7, Y7; \
	VPXOR Y4, Y0, Y0; \
	VPXOR Y5, Y1, Y1; \
	VPXOR Y6, Y2, Y2; \
	VPXOR Y7, Y3, Y3; \
	VPMAXSD Y1, Y0, Y0; \
	VPMAXSD Y3, Y2, Y2; \
	VPMAXSD Y2, Y0, Y0; \
	VPMAXSD Y12, Y0, Y0; \
	VPMINSD Y13, Y0, Y0; \
	VPSRAD $31, Y0, Y4; \
	VPAND Y14, Y4, Y4; \
	VPXOR Y4, Y0, Y0

// func max2x2F32AVX2(o, a, b *float32, npix, C int, l, h int32) int
//
// max2x2F32AVX512 on 8 lanes: chunks of 8 channels, the last C mod 8
// loaded and stored through a VPMASKMOVD lane mask (Y11; masked lanes
// read as zero, which is no NaN). Stops at the first pixel with a NaN.
TEXT ·max2x2F32AVX2(SB), NOSPLIT, $0-56
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ npix+24(FP), R8
	MOVQ C+32(FP), R9
	VBROADCASTSS l+40(FP), Y12   // 32 bits copied as they are
	VBROADCASTSS h+44(FP), Y13   // 32 bits copied as they are
	MOVL $0x7FFFFFFF, AX
	MOVQ AX, X14
	VPBROADCASTD X14, Y14
	MOVL $0x7F800000, AX
	MOVQ AX, X15
	VPBROADCASTD X15, Y15
	MOVQ R9, CX
	ANDQ $7, CX
	MOVQ CX, X11
	VPBROADCASTD X11, Y11
	VPCMPGTD f32LaneIota<>(SB), Y11, Y11   // lane j on when j < C mod 8
	MOVQ R9, R11
	SHLQ $2, R11          // R11 = C*4 bytes: offset of the second pixel in a row
	XORQ R10, R10         // pixel index

ypixloop:
	CMPQ R10, R8
	JGE  ydone
	VPXOR Y9, Y9, Y9      // NaN lanes seen in this pixel
	XORQ BX, BX
	MOVQ R9, CX
	LEAQ (SI)(R11*1), R12
	LEAQ (DX)(R11*1), R13

ychunk:
	CMPQ CX, $8
	JLT  ytail
	VMOVDQU (SI)(BX*1), Y0
	VMOVDQU (R12)(BX*1), Y1
	VMOVDQU (DX)(BX*1), Y2
	VMOVDQU (R13)(BX*1), Y3
	MAX4Y
	VMOVDQU Y0, (DI)(BX*1)
	ADDQ $32, BX
	SUBQ $8, CX
	JMP  ychunk

ytail:
	TESTQ CX, CX
	JZ    ypixdone
	VPMASKMOVD (SI)(BX*1), Y11, Y0
	VPMASKMOVD (R12)(BX*1), Y11, Y1
	VPMASKMOVD (DX)(BX*1), Y11, Y2
	VPMASKMOVD (R13)(BX*1), Y11, Y3
	MAX4Y
	VPMASKMOVD Y0, Y11, (DI)(BX*1)

ypixdone:
	VPTEST Y9, Y9
	JNZ  ydone
	INCQ R10
	ADDQ R11, DI
	LEAQ (SI)(R11*2), SI
	LEAQ (DX)(R11*2), DX
	JMP  ypixloop

ydone:
	MOVQ R10, ret+48(FP)
	VZEROUPPER
	RET

// Integer 2×2 max-pool on ymm, cb ≥ 16 bytes per pixel. Per pixel: 32-byte
// chunks, then the last cb mod 32 bytes by recomputing the pixel's last
// 32 bytes (overlapping ones get the same value; o never aliases a or b),
// or for 16 ≤ cb < 32 its first and last 16 bytes. Y14/Y15 hold the
// broadcast clamp bounds; arguments in DI, SI, DX, R8, R9 as MAXPOOL_BODY.
#define MAXPOOL_Y(VMAX, VMIN, OFF) \
	VMOVDQU (SI)(OFF*1), Y0; \
	VMOVDQU (R10)(OFF*1), Y1; \
	VMAX (DX)(OFF*1), Y0, Y0; \
	VMAX (R11)(OFF*1), Y1, Y1; \
	VMAX Y1, Y0, Y0; \
	VMAX Y14, Y0, Y0; \
	VMIN Y15, Y0, Y0; \
	VMOVDQU Y0, (DI)(OFF*1)

#define MAXPOOL_X(VMAX, VMIN, OFF) \
	VMOVDQU (SI)(OFF*1), X0; \
	VMOVDQU (R10)(OFF*1), X1; \
	VMAX (DX)(OFF*1), X0, X0; \
	VMAX (R11)(OFF*1), X1, X1; \
	VMAX X1, X0, X0; \
	VMAX X14, X0, X0; \
	VMIN X15, X0, X0; \
	VMOVDQU X0, (DI)(OFF*1)

#define MAXPOOL_BODY_AVX2(VMAX, VMIN) \
ipixloop: \
	TESTQ R8, R8; \
	JLE  idone; \
	LEAQ (SI)(R9*1), R10; \
	LEAQ (DX)(R9*1), R11; \
	XORQ BX, BX; \
ichunk: \
	LEAQ 32(BX), CX; \
	CMPQ CX, R9; \
	JGT  itail; \
	MAXPOOL_Y(VMAX, VMIN, BX); \
	MOVQ CX, BX; \
	JMP  ichunk; \
itail: \
	CMPQ BX, R9; \
	JEQ  ipixdone; \
	MOVQ R9, CX; \
	CMPQ R9, $32; \
	JLT  ismall; \
	SUBQ $32, CX; \
	MAXPOOL_Y(VMAX, VMIN, CX); \
	JMP  ipixdone; \
ismall: \
	SUBQ $16, CX; \
	MAXPOOL_X(VMAX, VMIN, BX); \
	MAXPOOL_X(VMAX, VMIN, CX); \
ipixdone: \
	ADDQ R9, DI; \
	LEAQ (SI)(R9*2), SI; \
	LEAQ (DX)(R9*2), DX; \
	DECQ R8; \
	JMP  ipixloop; \
idone: \
	VZEROUPPER; \
	RET

// func max2x2I8AVX2(o, a, b *int8, npix, cb int, lo, hi int8)
//
// max2x2I8AVX512 on ymm; cb must be at least 16.
TEXT ·max2x2I8AVX2(SB), NOSPLIT, $0-42
	VPBROADCASTB lo+40(FP), Y14
	VPBROADCASTB hi+41(FP), Y15
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ npix+24(FP), R8
	MOVQ cb+32(FP), R9
	MAXPOOL_BODY_AVX2(VPMAXSB, VPMINSB)

// func max2x2I16AVX2(o, a, b *int16, npix, cb int, lo, hi int16)
//
// max2x2I8AVX2 for int16 elements; cb is in bytes (2·C), at least 16.
TEXT ·max2x2I16AVX2(SB), NOSPLIT, $0-44
	VPBROADCASTW lo+40(FP), Y14
	VPBROADCASTW hi+42(FP), Y15
	MOVQ o+0(FP), DI
	MOVQ a+8(FP), SI
	MOVQ b+16(FP), DX
	MOVQ npix+24(FP), R8
	MOVQ cb+32(FP), R9
	MAXPOOL_BODY_AVX2(VPMAXSW, VPMINSW)

// func quantizeI8AVX2(xs *float32, ys *int8, n int, scale float32, zp, lo, hi int32) int
//
// quantizeI8AVX512 on blocks of 8 (n a multiple of 8). The bail-out and
// rounding tests compare |bits| as signed int32 (the sign is cleared):
// > 0x4E7FFFFF is ≥ 2^30 or NaN, > 0x3EFFFFFF is ≥ ½. The ±1 is added
// only where it applies (elsewhere +0, which leaves trunc(v) unchanged
// for the conversion). The low byte of each clamped int32 is kept by
// sign-extending it (shift left then arithmetic right by 24) so the
// saturating packs are exact.
TEXT ·quantizeI8AVX2(SB), NOSPLIT, $0-48
	MOVQ xs+0(FP), SI
	MOVQ ys+8(FP), DI
	MOVQ n+16(FP), CX
	VBROADCASTSS scale+24(FP), Y8
	VBROADCASTSS zp+28(FP), Y9   // 32 bits copied as they are
	VBROADCASTSS lo+32(FP), Y10   // 32 bits copied as they are
	VBROADCASTSS hi+36(FP), Y11   // 32 bits copied as they are
	MOVL $0x7FFFFFFF, AX
	MOVQ AX, X12
	VPBROADCASTD X12, Y12
	MOVL $0x4E7FFFFF, AX  // just below 2^30
	MOVQ AX, X13
	VPBROADCASTD X13, Y13
	MOVL $0x3EFFFFFF, AX  // just below 0.5
	MOVQ AX, X14
	VPBROADCASTD X14, Y14
	MOVL $0x3F800000, AX  // 1.0
	MOVQ AX, X15
	VPBROADCASTD X15, Y15
	MOVL $0x80000000, AX
	MOVQ AX, X7
	VPBROADCASTD X7, Y7
	XORQ BX, BX           // values done

yqloop:
	CMPQ BX, CX
	JGE  yqdone
	VMOVUPS (SI)(BX*4), Y0
	VDIVPS Y8, Y0, Y0
	VPAND Y12, Y0, Y1                  // |v| bits
	VPCMPGTD Y13, Y1, Y1               // |v| ≥ 2^30, or NaN
	VPTEST Y1, Y1
	JNZ  yqdone
	VROUNDPS $0x0B, Y0, Y2             // t = trunc(v)
	VSUBPS Y2, Y0, Y3                  // v − t, exact
	VPAND Y12, Y3, Y3
	VPCMPGTD Y14, Y3, Y3               // |v − t| ≥ ½
	VPAND Y7, Y0, Y4
	VPOR Y15, Y4, Y4                   // ±1 with v's sign
	VPAND Y3, Y4, Y4
	VADDPS Y4, Y2, Y2
	VCVTTPS2DQ Y2, Y2
	VPADDD Y9, Y2, Y2
	VPMAXSD Y10, Y2, Y2
	VPMINSD Y11, Y2, Y2
	VPSLLD $24, Y2, Y2
	VPSRAD $24, Y2, Y2
	VPACKSSDW Y2, Y2, Y2
	VPACKSSWB Y2, Y2, Y2
	VEXTRACTI128 $1, Y2, X3
	VPUNPCKLDQ X3, X2, X2
	VMOVQ X2, (DI)(BX*1)
	ADDQ $8, BX
	JMP  yqloop

yqdone:
	MOVQ BX, ret+40(FP)
	VZEROUPPER
	RET

// func quantizeI8XNNAVX512(xs *float32, ys *int8, n int, inv float32, zp, lo, hi int32) int
//
// XNNPACK's float to int8 conversion (fixedpoint.FP32Quantize) per block
// of 16: v = x·inv (VMULPS, round to nearest even like Go's float32
// product); bail out if any |v| ≥ 2^30 or NaN; q = clamp(round half to
// even(v) + zp, lo, hi) (VCVTPS2DQ under Go's default MXCSR; exact, and
// clamping the integer equals clamping v first since the bounds are
// integers), stored as its low byte.
TEXT ·quantizeI8XNNAVX512(SB), NOSPLIT, $0-48
	MOVQ xs+0(FP), SI
	MOVQ ys+8(FP), DI
	MOVQ n+16(FP), CX
	MOVL inv+24(FP), AX
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
	XORQ BX, BX           // values done

qxloop:
	CMPQ BX, CX
	JGE  qxdone
	VMOVUPS (SI)(BX*4), Z0
	VMULPS Z20, Z0, Z0
	VPANDD Z24, Z0, Z1                 // |v| bits
	VPCMPUD $5, Z25, Z1, K1            // |v| ≥ 2^30, or NaN
	KORTESTW K1, K1
	JNZ  qxdone
	VCVTPS2DQ Z0, Z2
	VPADDD Z21, Z2, Z2
	VPMAXSD Z22, Z2, Z2
	VPMINSD Z23, Z2, Z2
	VPMOVDB Z2, (DI)(BX*1)
	ADDQ $16, BX
	JMP  qxloop

qxdone:
	MOVQ BX, ret+40(FP)
	VZEROUPPER
	RET
