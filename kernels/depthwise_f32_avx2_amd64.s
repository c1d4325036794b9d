//go:build !noasm

#include "textflag.h"

// AVX2 forms of the float32 depthwise interior loops of depthwise_amd64.s
// (see depthwise_vec.go), for CPUs without AVX-512: the same plan (64-lane
// blocks, and blocks of up to 16 lanes padded to 16), the same arithmetic
// in the same order — per tap one multiply w·x and one add, rounded
// separately; then + bias, max with lo, min with hi, with the operands in
// the AVX-512 loops' order — so every output has the AVX-512 loop's bits.
// A 64-lane pixel keeps 8 ymm accumulators; a 16-lane one 2, reading and
// storing through lane masks (VMASKMOVPS neither reads nor faults on
// masked-off lanes, as the AVX-512 forms' zeroing masked loads).
// Registers: DI acc, R14 accStride, SI src pixel, R8 step, R9 off, R10 off
// end, R11 w, R12 w cursor, R13 init, BX off cursor, AX tap offset, CX
// pixels left, DX ep; Y14 lo, Y15 hi.

#define DWARGS2 \
	MOVQ acc+0(FP), DI; \
	MOVQ accStride+8(FP), R14; \
	MOVQ src+16(FP), SI; \
	MOVQ step+24(FP), R8; \
	MOVQ off+32(FP), R9; \
	MOVQ ntaps+40(FP), R10; \
	LEAQ (R9)(R10*8), R10; \
	MOVQ w+48(FP), R11; \
	MOVQ init+56(FP), R13; \
	MOVQ npix+64(FP), CX

// F2TAP4(o, a0, a1, a2, a3): accumulators a0..a3 += w[o..o+32) · x[o..o+32)
// for the tap at AX (o a byte offset within the 64 lanes).
#define F2TAP4(o, a0, a1, a2, a3) \
	VMOVUPS o(R12), Y8; \
	VMOVUPS o+32(R12), Y9; \
	VMOVUPS o+64(R12), Y10; \
	VMOVUPS o+96(R12), Y11; \
	VMULPS  o(SI)(AX*1), Y8, Y8; \
	VMULPS  o+32(SI)(AX*1), Y9, Y9; \
	VMULPS  o+64(SI)(AX*1), Y10, Y10; \
	VMULPS  o+96(SI)(AX*1), Y11, Y11; \
	VADDPS  Y8, a0, a0; \
	VADDPS  Y9, a1, a1; \
	VADDPS  Y10, a2, a2; \
	VADDPS  Y11, a3, a3

// F2EP(o, a): a = min(max(a + bias[o], lo), hi), stored at acc + o.
#define F2EP(o, a) \
	VADDPS o(DX), a, a; \
	VMAXPS a, Y14, a; \
	VMINPS a, Y15, a; \
	VMOVUPS a, o(DI)

// func dwAccF32x64AVX2(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, ep *float32)
TEXT ·dwAccF32x64AVX2(SB), NOSPLIT, $0-80
	DWARGS2
	MOVQ         ep+72(FP), DX
	VBROADCASTSS 256(DX), Y14
	VBROADCASTSS 260(DX), Y15
	TESTQ        CX, CX
	JZ           f2x64done

f2x64pix:
	VMOVUPS (R13), Y0
	VMOVUPS 32(R13), Y1
	VMOVUPS 64(R13), Y2
	VMOVUPS 96(R13), Y3
	VMOVUPS 128(R13), Y4
	VMOVUPS 160(R13), Y5
	VMOVUPS 192(R13), Y6
	VMOVUPS 224(R13), Y7
	MOVQ    R9, BX
	MOVQ    R11, R12

f2x64tap:
	MOVQ (BX), AX
	F2TAP4(0, Y0, Y1, Y2, Y3)
	F2TAP4(128, Y4, Y5, Y6, Y7)
	ADDQ $256, R12
	ADDQ $8, BX
	CMPQ BX, R10
	JNE  f2x64tap
	F2EP(0, Y0)
	F2EP(32, Y1)
	F2EP(64, Y2)
	F2EP(96, Y3)
	F2EP(128, Y4)
	F2EP(160, Y5)
	F2EP(192, Y6)
	F2EP(224, Y7)
	ADDQ R14, DI
	ADDQ R8, SI
	DECQ CX
	JNZ  f2x64pix

f2x64done:
	VZEROUPPER
	RET

// func dwAccF32x16AVX2(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, mask *int32, ep *float32)
//
// mask holds 16 lanes, all ones where the block has a channel, else 0.
TEXT ·dwAccF32x16AVX2(SB), NOSPLIT, $0-88
	DWARGS2
	MOVQ         mask+72(FP), AX
	VMOVDQU      (AX), Y12
	VMOVDQU      32(AX), Y13
	MOVQ         ep+80(FP), DX
	VBROADCASTSS 64(DX), Y14
	VBROADCASTSS 68(DX), Y15
	TESTQ        CX, CX
	JZ           f2x16done

f2x16pix:
	VMOVUPS (R13), Y0
	VMOVUPS 32(R13), Y1
	MOVQ    R9, BX
	MOVQ    R11, R12

f2x16tap:
	MOVQ       (BX), AX
	VMASKMOVPS (SI)(AX*1), Y12, Y10
	VMASKMOVPS 32(SI)(AX*1), Y13, Y11
	VMOVUPS    (R12), Y8
	VMOVUPS    32(R12), Y9
	VMULPS     Y10, Y8, Y8
	VMULPS     Y11, Y9, Y9
	VADDPS     Y8, Y0, Y0
	VADDPS     Y9, Y1, Y1
	ADDQ       $64, R12
	ADDQ       $8, BX
	CMPQ       BX, R10
	JNE        f2x16tap
	VADDPS     (DX), Y0, Y0
	VADDPS     32(DX), Y1, Y1
	VMAXPS     Y0, Y14, Y0
	VMAXPS     Y1, Y14, Y1
	VMINPS     Y0, Y15, Y0
	VMINPS     Y1, Y15, Y1
	VMASKMOVPS Y0, Y12, (DI)
	VMASKMOVPS Y1, Y13, 32(DI)
	ADDQ       R14, DI
	ADDQ       R8, SI
	DECQ       CX
	JNZ        f2x16pix

f2x16done:
	VZEROUPPER
	RET
