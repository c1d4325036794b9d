//go:build !noasm

#include "textflag.h"

// Interior accumulation of DEPTHWISE_CONV_2D (see depthwise_vec.go): for
// npix output pixels p and one block of channels,
//
//	acc[p][c] = init[c] + Σ_t w[t][c] · x[p·step + off[t] + c]
//
// taps in table order (float: one rounding per product and per sum, as
// the Go loop). Arguments: acc, accStride (bytes), src, step (bytes), off
// (byte offsets, ntaps of them), ntaps, w ([ntaps][width] 4-byte lanes),
// init ([width]), npix, and for the 16-lane forms the lane mask.
// Registers: DI acc, R14 accStride, SI src pixel, R8 step, R9 off, R10 off
// end, R11 w, R12 w cursor, R13 init, BX off cursor, AX tap offset, CX
// pixels left.

#define DWARGS \
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

#define DWNEXT \
	ADDQ $8, BX; \
	CMPQ BX, R10

// func dwAccS8x64AVX512(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)
TEXT ·dwAccS8x64AVX512(SB), NOSPLIT, $0-72
	DWARGS
	TESTQ CX, CX
	JZ    s8x64done

s8x64pix:
	VMOVDQU32 (R13), Z0
	VMOVDQU32 64(R13), Z1
	VMOVDQU32 128(R13), Z2
	VMOVDQU32 192(R13), Z3
	MOVQ      R9, BX
	MOVQ      R11, R12

s8x64tap:
	MOVQ      (BX), AX
	VPMOVSXBD (SI)(AX*1), Z4
	VPMOVSXBD 16(SI)(AX*1), Z5
	VPMOVSXBD 32(SI)(AX*1), Z6
	VPMOVSXBD 48(SI)(AX*1), Z7
	VPMULLD   (R12), Z4, Z4
	VPMULLD   64(R12), Z5, Z5
	VPMULLD   128(R12), Z6, Z6
	VPMULLD   192(R12), Z7, Z7
	VPADDD    Z4, Z0, Z0
	VPADDD    Z5, Z1, Z1
	VPADDD    Z6, Z2, Z2
	VPADDD    Z7, Z3, Z3
	ADDQ      $256, R12
	DWNEXT
	JNE       s8x64tap
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z2, 128(DI)
	VMOVDQU32 Z3, 192(DI)
	ADDQ      R14, DI
	ADDQ      R8, SI
	DECQ      CX
	JNZ       s8x64pix

s8x64done:
	VZEROUPPER
	RET

// func dwAccU8x64AVX512(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)
TEXT ·dwAccU8x64AVX512(SB), NOSPLIT, $0-72
	DWARGS
	TESTQ CX, CX
	JZ    u8x64done

u8x64pix:
	VMOVDQU32 (R13), Z0
	VMOVDQU32 64(R13), Z1
	VMOVDQU32 128(R13), Z2
	VMOVDQU32 192(R13), Z3
	MOVQ      R9, BX
	MOVQ      R11, R12

u8x64tap:
	MOVQ      (BX), AX
	VPMOVZXBD (SI)(AX*1), Z4
	VPMOVZXBD 16(SI)(AX*1), Z5
	VPMOVZXBD 32(SI)(AX*1), Z6
	VPMOVZXBD 48(SI)(AX*1), Z7
	VPMULLD   (R12), Z4, Z4
	VPMULLD   64(R12), Z5, Z5
	VPMULLD   128(R12), Z6, Z6
	VPMULLD   192(R12), Z7, Z7
	VPADDD    Z4, Z0, Z0
	VPADDD    Z5, Z1, Z1
	VPADDD    Z6, Z2, Z2
	VPADDD    Z7, Z3, Z3
	ADDQ      $256, R12
	DWNEXT
	JNE       u8x64tap
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z2, 128(DI)
	VMOVDQU32 Z3, 192(DI)
	ADDQ      R14, DI
	ADDQ      R8, SI
	DECQ      CX
	JNZ       u8x64pix

u8x64done:
	VZEROUPPER
	RET

// The float forms end each pixel with the layer's epilogue, as
// floatEpilogue: + bias[c] (ep[0:width]), then max with lo and min with hi
// (ep[width], ep[width+1]), NaN kept (VMAXPS/VMINPS return their second
// source, the sum, when it is NaN).

// func dwAccF32x64AVX512(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, ep *float32)
TEXT ·dwAccF32x64AVX512(SB), NOSPLIT, $0-80
	DWARGS
	MOVQ         ep+72(FP), AX
	VBROADCASTSS 256(AX), Z8
	VBROADCASTSS 260(AX), Z9
	VMOVUPS      (AX), Z10
	VMOVUPS      64(AX), Z11
	VMOVUPS      128(AX), Z12
	VMOVUPS      192(AX), Z13
	TESTQ CX, CX
	JZ    f32x64done

f32x64pix:
	VMOVUPS (R13), Z0
	VMOVUPS 64(R13), Z1
	VMOVUPS 128(R13), Z2
	VMOVUPS 192(R13), Z3
	MOVQ    R9, BX
	MOVQ    R11, R12

f32x64tap:
	MOVQ    (BX), AX
	VMOVUPS (R12), Z4
	VMOVUPS 64(R12), Z5
	VMOVUPS 128(R12), Z6
	VMOVUPS 192(R12), Z7
	VMULPS  (SI)(AX*1), Z4, Z4
	VMULPS  64(SI)(AX*1), Z5, Z5
	VMULPS  128(SI)(AX*1), Z6, Z6
	VMULPS  192(SI)(AX*1), Z7, Z7
	VADDPS  Z4, Z0, Z0
	VADDPS  Z5, Z1, Z1
	VADDPS  Z6, Z2, Z2
	VADDPS  Z7, Z3, Z3
	ADDQ    $256, R12
	DWNEXT
	JNE     f32x64tap
	VADDPS  Z10, Z0, Z0
	VADDPS  Z11, Z1, Z1
	VADDPS  Z12, Z2, Z2
	VADDPS  Z13, Z3, Z3
	VMAXPS  Z0, Z8, Z0
	VMAXPS  Z1, Z8, Z1
	VMAXPS  Z2, Z8, Z2
	VMAXPS  Z3, Z8, Z3
	VMINPS  Z0, Z9, Z0
	VMINPS  Z1, Z9, Z1
	VMINPS  Z2, Z9, Z2
	VMINPS  Z3, Z9, Z3
	VMOVUPS Z0, (DI)
	VMOVUPS Z1, 64(DI)
	VMOVUPS Z2, 128(DI)
	VMOVUPS Z3, 192(DI)
	ADDQ    R14, DI
	ADDQ    R8, SI
	DECQ    CX
	JNZ     f32x64pix

f32x64done:
	VZEROUPPER
	RET

// The 16-lane forms: lanes outside mask are neither read from src nor
// stored to acc (w and init are padded to 16 lanes).

// func dwAccS8x16AVX512(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int, mask int)
TEXT ·dwAccS8x16AVX512(SB), NOSPLIT, $0-80
	DWARGS
	MOVQ  mask+72(FP), AX
	KMOVW AX, K1
	TESTQ CX, CX
	JZ    s8x16done

s8x16pix:
	VMOVDQU32 (R13), Z0
	MOVQ      R9, BX
	MOVQ      R11, R12

s8x16tap:
	MOVQ        (BX), AX
	VPMOVSXBD.Z (SI)(AX*1), K1, Z4
	VPMULLD     (R12), Z4, Z4
	VPADDD      Z4, Z0, Z0
	ADDQ        $64, R12
	DWNEXT
	JNE         s8x16tap
	VMOVDQU32   Z0, K1, (DI)
	ADDQ        R14, DI
	ADDQ        R8, SI
	DECQ        CX
	JNZ         s8x16pix

s8x16done:
	VZEROUPPER
	RET

// func dwAccU8x16AVX512(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int, mask int)
TEXT ·dwAccU8x16AVX512(SB), NOSPLIT, $0-80
	DWARGS
	MOVQ  mask+72(FP), AX
	KMOVW AX, K1
	TESTQ CX, CX
	JZ    u8x16done

u8x16pix:
	VMOVDQU32 (R13), Z0
	MOVQ      R9, BX
	MOVQ      R11, R12

u8x16tap:
	MOVQ        (BX), AX
	VPMOVZXBD.Z (SI)(AX*1), K1, Z4
	VPMULLD     (R12), Z4, Z4
	VPADDD      Z4, Z0, Z0
	ADDQ        $64, R12
	DWNEXT
	JNE         u8x16tap
	VMOVDQU32   Z0, K1, (DI)
	ADDQ        R14, DI
	ADDQ        R8, SI
	DECQ        CX
	JNZ         u8x16pix

u8x16done:
	VZEROUPPER
	RET

// func dwAccF32x16AVX512(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, mask int, ep *float32)
TEXT ·dwAccF32x16AVX512(SB), NOSPLIT, $0-88
	DWARGS
	MOVQ         mask+72(FP), AX
	KMOVW        AX, K1
	MOVQ         ep+80(FP), AX
	VBROADCASTSS 64(AX), Z8
	VBROADCASTSS 68(AX), Z9
	VMOVUPS      (AX), Z10
	TESTQ CX, CX
	JZ    f32x16done

f32x16pix:
	VMOVUPS (R13), Z0
	MOVQ    R9, BX
	MOVQ    R11, R12

f32x16tap:
	MOVQ      (BX), AX
	VMOVUPS.Z (SI)(AX*1), K1, Z5
	VMOVUPS   (R12), Z4
	VMULPS    Z5, Z4, Z4
	VADDPS    Z4, Z0, Z0
	ADDQ      $64, R12
	DWNEXT
	JNE       f32x16tap
	VADDPS    Z10, Z0, Z0
	VMAXPS    Z0, Z8, Z0
	VMINPS    Z0, Z9, Z0
	VMOVUPS   Z0, K1, (DI)
	ADDQ      R14, DI
	ADDQ      R8, SI
	DECQ      CX
	JNZ       f32x16pix

f32x16done:
	VZEROUPPER
	RET
