//go:build !noasm

#include "textflag.h"

// The tap-grouped depthwise loops (see depthwise_grp.go).

// The accumulation loops: for npix pixels p and one block of lanes,
//
//	acc[p][l] = init[l] + Σ_t dot(w[t][l], x[p·step + off[t] + 4l])
//
// where dot is VPDPBUSD's four unsigned-by-signed byte products or
// VPMADDWD's two int16 products. Registers as dwAccS8x64AVX512: DI acc,
// R14 accStride, SI src pixel, R8 step, R9 off, R10 off end, R11 w, R12
// w cursor, R13 init, BX off cursor, AX tap offset, CX pixels left.

#define GRPARGS \
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

#define GRPNEXT \
	ADDQ $8, BX; \
	CMPQ BX, R10

// func dwInterleave4AVX2(dst, s0, s1, s2, s3 *byte, n32 int, xor uint32)
// Per chunk: 32 bytes of each source XOR xor, interleaved byte by byte
// (lane i = s0[i], s1[i], s2[i], s3[i]) into 128 bytes. The unpacks work
// within 128-bit halves, so the four results hold lanes 0–3|16–19,
// 4–7|20–23, 8–11|24–27 and 12–15|28–31; VPERM2I128 puts them in order.
TEXT ·dwInterleave4AVX2(SB), NOSPLIT, $0-52
	MOVQ         dst+0(FP), DI
	MOVQ         s0+8(FP), AX
	MOVQ         s1+16(FP), BX
	MOVQ         s2+24(FP), CX
	MOVQ         s3+32(FP), DX
	MOVQ         n32+40(FP), R8
	MOVL         xor+48(FP), R9
	VMOVD        R9, X15
	VPBROADCASTD X15, Y15
	XORQ         SI, SI
	TESTQ        R8, R8
	JZ           il4done

il4loop:
	VPXOR      (AX)(SI*1), Y15, Y0
	VPXOR      (BX)(SI*1), Y15, Y1
	VPXOR      (CX)(SI*1), Y15, Y2
	VPXOR      (DX)(SI*1), Y15, Y3
	VPUNPCKLBW Y1, Y0, Y4
	VPUNPCKHBW Y1, Y0, Y5
	VPUNPCKLBW Y3, Y2, Y6
	VPUNPCKHBW Y3, Y2, Y7
	VPUNPCKLWD Y6, Y4, Y8
	VPUNPCKHWD Y6, Y4, Y9
	VPUNPCKLWD Y7, Y5, Y10
	VPUNPCKHWD Y7, Y5, Y11
	VPERM2I128 $0x20, Y9, Y8, Y0
	VPERM2I128 $0x20, Y11, Y10, Y1
	VPERM2I128 $0x31, Y9, Y8, Y2
	VPERM2I128 $0x31, Y11, Y10, Y3
	VMOVDQU    Y0, (DI)
	VMOVDQU    Y1, 32(DI)
	VMOVDQU    Y2, 64(DI)
	VMOVDQU    Y3, 96(DI)
	ADDQ       $32, SI
	ADDQ       $128, DI
	DECQ       R8
	JNZ        il4loop

il4done:
	VZEROUPPER
	RET

// func dwInterleave2S8AVX2(dst, s0, s1 *byte, n16 int)
// Per chunk: 16 bytes of each source sign-extended to int16 and
// interleaved (lane i = s0[i], s1[i]) into 64 bytes.
TEXT ·dwInterleave2S8AVX2(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  s0+8(FP), AX
	MOVQ  s1+16(FP), BX
	MOVQ  n16+24(FP), CX
	XORQ  SI, SI
	TESTQ CX, CX
	JZ    il2sdone

il2sloop:
	VPMOVSXBW  (AX)(SI*1), Y0
	VPMOVSXBW  (BX)(SI*1), Y1
	VPUNPCKLWD Y1, Y0, Y2
	VPUNPCKHWD Y1, Y0, Y3
	VPERM2I128 $0x20, Y3, Y2, Y4
	VPERM2I128 $0x31, Y3, Y2, Y5
	VMOVDQU    Y4, (DI)
	VMOVDQU    Y5, 32(DI)
	ADDQ       $16, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        il2sloop

il2sdone:
	VZEROUPPER
	RET

// func dwInterleave2U8AVX2(dst, s0, s1 *byte, n16 int)
TEXT ·dwInterleave2U8AVX2(SB), NOSPLIT, $0-32
	MOVQ  dst+0(FP), DI
	MOVQ  s0+8(FP), AX
	MOVQ  s1+16(FP), BX
	MOVQ  n16+24(FP), CX
	XORQ  SI, SI
	TESTQ CX, CX
	JZ    il2udone

il2uloop:
	VPMOVZXBW  (AX)(SI*1), Y0
	VPMOVZXBW  (BX)(SI*1), Y1
	VPUNPCKLWD Y1, Y0, Y2
	VPUNPCKHWD Y1, Y0, Y3
	VPERM2I128 $0x20, Y3, Y2, Y4
	VPERM2I128 $0x31, Y3, Y2, Y5
	VMOVDQU    Y4, (DI)
	VMOVDQU    Y5, 32(DI)
	ADDQ       $16, SI
	ADDQ       $64, DI
	DECQ       CX
	JNZ        il2uloop

il2udone:
	VZEROUPPER
	RET

// func dwDotX64VNNI(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)
// Two pixels at a time (eight accumulators), so that the VPDPBUSD chains
// of a pixel's few taps overlap; then the odd pixel alone.
TEXT ·dwDotX64VNNI(SB), NOSPLIT, $0-72
	GRPARGS
	CMPQ CX, $2
	JLT  d64one

d64pair:
	VMOVDQU32 (R13), Z0
	VMOVDQU32 64(R13), Z1
	VMOVDQU32 128(R13), Z2
	VMOVDQU32 192(R13), Z3
	VMOVDQA32 Z0, Z8
	VMOVDQA32 Z1, Z9
	VMOVDQA32 Z2, Z10
	VMOVDQA32 Z3, Z11
	MOVQ      R9, BX
	MOVQ      R11, R12

d64pairtap:
	MOVQ      (BX), AX
	ADDQ      SI, AX
	VMOVDQU32 (AX), Z4
	VMOVDQU32 64(AX), Z5
	VMOVDQU32 128(AX), Z6
	VMOVDQU32 192(AX), Z7
	VMOVDQU32 (AX)(R8*1), Z12
	VMOVDQU32 64(AX)(R8*1), Z13
	VMOVDQU32 128(AX)(R8*1), Z14
	VMOVDQU32 192(AX)(R8*1), Z15
	VMOVDQU32 (R12), Z16
	VMOVDQU32 64(R12), Z17
	VMOVDQU32 128(R12), Z18
	VMOVDQU32 192(R12), Z19
	VPDPBUSD  Z16, Z4, Z0
	VPDPBUSD  Z17, Z5, Z1
	VPDPBUSD  Z18, Z6, Z2
	VPDPBUSD  Z19, Z7, Z3
	VPDPBUSD  Z16, Z12, Z8
	VPDPBUSD  Z17, Z13, Z9
	VPDPBUSD  Z18, Z14, Z10
	VPDPBUSD  Z19, Z15, Z11
	ADDQ      $256, R12
	GRPNEXT
	JNE       d64pairtap
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z2, 128(DI)
	VMOVDQU32 Z3, 192(DI)
	ADDQ      R14, DI
	VMOVDQU32 Z8, (DI)
	VMOVDQU32 Z9, 64(DI)
	VMOVDQU32 Z10, 128(DI)
	VMOVDQU32 Z11, 192(DI)
	ADDQ      R14, DI
	LEAQ      (SI)(R8*2), SI
	SUBQ      $2, CX
	CMPQ      CX, $2
	JGE       d64pair

d64one:
	TESTQ     CX, CX
	JZ        d64done
	VMOVDQU32 (R13), Z0
	VMOVDQU32 64(R13), Z1
	VMOVDQU32 128(R13), Z2
	VMOVDQU32 192(R13), Z3
	MOVQ      R9, BX
	MOVQ      R11, R12

d64tap:
	MOVQ      (BX), AX
	VMOVDQU32 (SI)(AX*1), Z4
	VMOVDQU32 64(SI)(AX*1), Z5
	VMOVDQU32 128(SI)(AX*1), Z6
	VMOVDQU32 192(SI)(AX*1), Z7
	VPDPBUSD  (R12), Z4, Z0
	VPDPBUSD  64(R12), Z5, Z1
	VPDPBUSD  128(R12), Z6, Z2
	VPDPBUSD  192(R12), Z7, Z3
	ADDQ      $256, R12
	GRPNEXT
	JNE       d64tap
	VMOVDQU32 Z0, (DI)
	VMOVDQU32 Z1, 64(DI)
	VMOVDQU32 Z2, 128(DI)
	VMOVDQU32 Z3, 192(DI)

d64done:
	VZEROUPPER
	RET

// func dwDotX16VNNI(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)
// Two pixels at a time, so that two VPDPBUSD chains overlap.
TEXT ·dwDotX16VNNI(SB), NOSPLIT, $0-72
	GRPARGS
	VMOVDQU32 (R13), Z8
	CMPQ      CX, $2
	JLT       d16one

d16pair:
	VMOVDQA32 Z8, Z0
	VMOVDQA32 Z8, Z1
	MOVQ      R9, BX
	MOVQ      R11, R12

d16pairtap:
	MOVQ      (BX), AX
	VMOVDQU32 (R12), Z6
	ADDQ      SI, AX
	VMOVDQU32 (AX), Z4
	VMOVDQU32 (AX)(R8*1), Z5
	VPDPBUSD  Z6, Z4, Z0
	VPDPBUSD  Z6, Z5, Z1
	ADDQ      $64, R12
	GRPNEXT
	JNE       d16pairtap
	VMOVDQU32 Z0, (DI)
	ADDQ      R14, DI
	VMOVDQU32 Z1, (DI)
	ADDQ      R14, DI
	LEAQ      (SI)(R8*2), SI
	SUBQ      $2, CX
	CMPQ      CX, $2
	JGE       d16pair

d16one:
	TESTQ CX, CX
	JZ    d16done
	VMOVDQA32 Z8, Z0
	MOVQ      R9, BX
	MOVQ      R11, R12

d16onetap:
	MOVQ      (BX), AX
	VMOVDQU32 (SI)(AX*1), Z4
	VPDPBUSD  (R12), Z4, Z0
	ADDQ      $64, R12
	GRPNEXT
	JNE       d16onetap
	VMOVDQU32 Z0, (DI)

d16done:
	VZEROUPPER
	RET

// func dwMaddX32AVX2(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)
TEXT ·dwMaddX32AVX2(SB), NOSPLIT, $0-72
	GRPARGS
	TESTQ CX, CX
	JZ    m32done

m32pix:
	VMOVDQU (R13), Y0
	VMOVDQU 32(R13), Y1
	VMOVDQU 64(R13), Y2
	VMOVDQU 96(R13), Y3
	MOVQ    R9, BX
	MOVQ    R11, R12

m32tap:
	MOVQ     (BX), AX
	VMOVDQU  (SI)(AX*1), Y4
	VMOVDQU  32(SI)(AX*1), Y5
	VMOVDQU  64(SI)(AX*1), Y6
	VMOVDQU  96(SI)(AX*1), Y7
	VPMADDWD (R12), Y4, Y4
	VPMADDWD 32(R12), Y5, Y5
	VPMADDWD 64(R12), Y6, Y6
	VPMADDWD 96(R12), Y7, Y7
	VPADDD   Y4, Y0, Y0
	VPADDD   Y5, Y1, Y1
	VPADDD   Y6, Y2, Y2
	VPADDD   Y7, Y3, Y3
	ADDQ     $128, R12
	GRPNEXT
	JNE      m32tap
	VMOVDQU  Y0, (DI)
	VMOVDQU  Y1, 32(DI)
	VMOVDQU  Y2, 64(DI)
	VMOVDQU  Y3, 96(DI)
	ADDQ     R14, DI
	ADDQ     R8, SI
	DECQ     CX
	JNZ      m32pix

m32done:
	VZEROUPPER
	RET

// func dwMaddX8AVX2(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)
TEXT ·dwMaddX8AVX2(SB), NOSPLIT, $0-72
	GRPARGS
	TESTQ CX, CX
	JZ    m8done

m8pix:
	VMOVDQU (R13), Y0
	MOVQ    R9, BX
	MOVQ    R11, R12

m8tap:
	MOVQ     (BX), AX
	VMOVDQU  (SI)(AX*1), Y4
	VPMADDWD (R12), Y4, Y4
	VPADDD   Y4, Y0, Y0
	ADDQ     $32, R12
	GRPNEXT
	JNE      m8tap
	VMOVDQU  Y0, (DI)
	ADDQ     R14, DI
	ADDQ     R8, SI
	DECQ     CX
	JNZ      m8pix

m8done:
	VZEROUPPER
	RET
