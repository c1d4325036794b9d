//go:build !noasm

package gemm

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// avx512Ok reports whether the AVX-512 float kernels can run (the OS must
// also save zmm state, which x/sys/cpu checks).
var avx512Ok = cpu.X86.HasAVX512F

// vnniOk reports whether VPDPBUSD on zmm registers is available.
var vnniOk = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

// avx2Ok reports whether the AVX2+FMA kernels can run.
var avx2Ok = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// avxVNNIOk reports whether the VEX-encoded VPDPBUSD on ymm registers
// (AVX-VNNI) is available: Intel client cores since Alder Lake have it
// without AVX-512.
var avxVNNIOk = avx2Ok && cpu.X86.HasAVXVNNI

var avx512F32Set = &f32Set{name: "avx512", kernels: []f32Kernel{
	{name: "avx512x6x64", mr: 6, nr: 64, weight: 0.85, fn: sgemmAVX512x6x64, direct: sgemmAVX512Dx6x64, directZ: sgemmAVX512DZx6x64, seg: sgemmAVX512Sx6x64, segF: sgemmAVX512SFx6x64, tailStep: 2, segWeight: 1.05, segFP: sgemmAVX512SFPx6x64,
		segFTail: []segFusedFn{sgemmAVX512SFx2x64, sgemmAVX512SFx4x64}, tn: sgemmAVX512Tx6x64,
		small: [][]smallF32{
			{{1, 4, sgemmAVX512Dx1x256, sgemmAVX512DZx1x256}, {1, 2, sgemmAVX512Dx1x128, sgemmAVX512DZx1x128}, {1, 1, sgemmAVX512Dx1x64, sgemmAVX512DZx1x64}},
			{{2, 2, sgemmAVX512Dx2x128, sgemmAVX512DZx2x128}, {2, 1, sgemmAVX512Dx2x64, sgemmAVX512DZx2x64}},
			{{3, 2, sgemmAVX512Dx3x128, sgemmAVX512DZx3x128}, {3, 1, sgemmAVX512Dx3x64, sgemmAVX512DZx3x64}},
			{{4, 1, sgemmAVX512Dx4x64, sgemmAVX512DZx4x64}},
			{{5, 1, sgemmAVX512Dx5x64, sgemmAVX512DZx5x64}},
		}, smallWeight: 0.7},
	{name: "avx512x14x32", mr: 14, nr: 32, weight: 0.95, fn: sgemmAVX512x14x32, direct: sgemmAVX512Dx14x32, directZ: sgemmAVX512DZx14x32, seg: sgemmAVX512Sx14x32, segF: sgemmAVX512SFx14x32, tailStep: 2, segWeight: 1,
		segFTail: []segFusedFn{sgemmAVX512SFx2x32, sgemmAVX512SFx4x32, sgemmAVX512SFx6x32, sgemmAVX512SFx8x32, sgemmAVX512SFx10x32, sgemmAVX512SFx12x32}, tn: sgemmAVX512Tx14x32},
	{name: "avx512x28x16", mr: 28, nr: 16, weight: 1, fn: sgemmAVX512x28x16, direct: sgemmAVX512Dx28x16, directZ: sgemmAVX512DZx28x16, seg: sgemmAVX512Sx28x16, segF: sgemmAVX512SFx28x16, tailStep: 4, segWeight: 0.87,
		segFTail: []segFusedFn{sgemmAVX512SFx4x16, sgemmAVX512SFx8x16, sgemmAVX512SFx12x16, sgemmAVX512SFx16x16, sgemmAVX512SFx20x16, sgemmAVX512SFx24x16}, tn: sgemmAVX512Tx28x16},
}}

// avx2F32Set is the AVX2+FMA family (CPUs without AVX-512). Its direct
// and segmented kernels let MulSegmented run whole-segment k blocks (one
// accumulation chain per output, as on AVX-512) and MulSegmentedRows
// run the fused conv tiles, 6 rows or a short 2 or 4.
var avx2F32Set = &f32Set{name: "avx2", kernels: []f32Kernel{
	{name: "avx2x6x16", mr: 6, nr: 16, weight: 1, fn: sgemmAVX2x6x16, direct: sgemmAVX2Dx6x16, seg: sgemmAVX2Sx6x16,
		segF: sgemmAVX2SFx6x16, tailStep: 2, segWeight: 1, segFTail: []segFusedFn{sgemmAVX2SFx2x16, sgemmAVX2SFx4x16},
		// Row tails (a dense layer at batch 1 has one row) run on short
		// tiles instead of a zero-padded 6-row one (sgemm_small.go in
		// internal/asmgen).
		small: [][]smallF32{
			{{1, 6, sgemmAVX2Dx1x96, sgemmAVX2DZx1x96}, {1, 4, sgemmAVX2Dx1x64, sgemmAVX2DZx1x64}, {1, 2, sgemmAVX2Dx1x32, sgemmAVX2DZx1x32}, {1, 1, sgemmAVX2Dx1x16, sgemmAVX2DZx1x16}},
			{{2, 2, sgemmAVX2Dx2x32, sgemmAVX2DZx2x32}, {2, 1, sgemmAVX2Dx2x16, sgemmAVX2DZx2x16}},
			{{3, 1, sgemmAVX2Dx3x16, sgemmAVX2DZx3x16}},
			{{4, 1, sgemmAVX2Dx4x16, sgemmAVX2DZx4x16}},
			{{5, 1, sgemmAVX2Dx5x16, sgemmAVX2DZx5x16}},
		}, smallWeight: 0.7},
}}

var vnniS8Set = &s8Set{name: "avx512vnni", format: fmtU8Quad, kernels: []s8Kernel{
	{name: "vnnix6x64", mr: 6, nr: 64, weight: 1, fn: func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNIx6x64(kq, (*uint8)(a), (*int8)(b), c, ldc, init)
	}, direct: func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNIDx6x64(kq, a, lda, (*int8)(b), c, ldc, init)
	}, seg: func(nseg, kqSeg int, a *int8, lda, adj int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNISx6x64(nseg, kqSeg, a, lda, adj, (*int8)(b), c, ldc, init)
	}, segF: [2]s8SegFusedFn{s8VNNISFx6x64, s8VNNISFCx6x64}},
	{name: "vnnix14x32", mr: 14, nr: 32, weight: 0.95, fn: func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNIx14x32(kq, (*uint8)(a), (*int8)(b), c, ldc, init)
	}, direct: func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNIDx14x32(kq, a, lda, (*int8)(b), c, ldc, init)
	}, seg: func(nseg, kqSeg int, a *int8, lda, adj int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNISx14x32(nseg, kqSeg, a, lda, adj, (*int8)(b), c, ldc, init)
	}, segF: [2]s8SegFusedFn{s8VNNISFx14x32, s8VNNISFCx14x32}},
	{name: "vnnix28x16", mr: 28, nr: 16, weight: 0.84, fn: func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNIx28x16(kq, (*uint8)(a), (*int8)(b), c, ldc, init)
	}, direct: func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNIDx28x16(kq, a, lda, (*int8)(b), c, ldc, init)
	}, seg: func(nseg, kqSeg int, a *int8, lda, adj int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNISx28x16(nseg, kqSeg, a, lda, adj, (*int8)(b), c, ldc, init)
	}, segF: [2]s8SegFusedFn{s8VNNISFx28x16, s8VNNISFCx28x16}},
	// One row with k split four ways (gemv16): a dense layer at batch 1
	// streams its weights through it instead of multiplying five
	// padding rows of the 6×64 tile. Its weight keeps it to products of
	// one row (pick): two rows run as fast on the 6×64 tile as in two
	// passes here (BenchmarkPackedS8Rows/avx512vnni: 3200→256 at m=1
	// 5.0–5.7 µs against 11.4–11.8, m=2 10.6–15.9 against 11.4–12.1).
	{name: "vnnix1x64", mr: 1, nr: 64, weight: 0.3, fn: func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNIx1x64(kq, (*uint8)(a), (*int8)(b), c, ldc, init)
	}, direct: func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8VNNIDx1x64(kq, a, lda, (*int8)(b), c, ldc, init)
	}},
}}

// avxvnniS8Set is the u8-quad family in ymm registers (AVX-VNNI, no
// AVX-512): the packing and corrections of vnniS8Set, a 6×16 tile and a
// one-row one.
// Its fused kernels (segFT) requantize with the AVX2 arithmetic
// (Requant.wideP and consts8) and run whole row tiles and slivers per
// call (s8segrows.go).
var avxvnniS8Set = &s8Set{name: "avxvnni", format: fmtU8Quad, kernels: []s8Kernel{
	{name: "avxvnnix6x16", mr: 6, nr: 16, weight: 1, fn: func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8AVXVNNIx6x16(kq, (*uint8)(a), (*int8)(b), c, ldc, init)
	}, direct: func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8AVXVNNIDx6x16(kq, a, lda, (*int8)(b), c, ldc, init)
	}, seg: func(nseg, kqSeg int, a *int8, lda, adj int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8AVXVNNISx6x16(nseg, kqSeg, a, lda, adj, (*int8)(b), c, ldc, init)
	}, segFT: &s8SegTiles{
		single:    [2]s8SegTilesFn{s8AVXVNNISFx6x16, s8AVXVNNISFCx6x16},
		double:    [2]s8SegTilesFn{s8AVXVNNISFDx6x16, s8AVXVNNISFDCx6x16},
		fp32:      s8AVXVNNISFFx6x16,
		fp32Exact: [2]s8SegTilesFn{s8AVXVNNISFXx6x16, s8AVXVNNISFXCx6x16},
	}, segTail: &s8SegTailTiles{nseg: 3, kq: 2, byArith: byArith[s8SegTailFn]{
		single:    [2]s8SegTailFn{s8AVXVNNIST32x6x16, s8AVXVNNIST32Cx6x16},
		double:    [2]s8SegTailFn{s8AVXVNNIST32Dx6x16, s8AVXVNNIST32DCx6x16},
		fp32:      s8AVXVNNIST32Fx6x16,
		fp32Exact: [2]s8SegTailFn{s8AVXVNNIST32Xx6x16, s8AVXVNNIST32XCx6x16},
	}}},
	// One row with k split six ways: a dense layer at batch 1 streams
	// its weights through it instead of multiplying five padding rows
	// of the 6×16 tile. Its weight keeps it to products of one or two
	// rows (pick), never the segmented packs (no seg kernel).
	{name: "avxvnnix1x16", mr: 1, nr: 16, weight: 0.5, fn: func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8AVXVNNIx1x16(kq, (*uint8)(a), (*int8)(b), c, ldc, init)
	}, direct: func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8AVXVNNIDx1x16(kq, a, lda, (*int8)(b), c, ldc, init)
	}},
}}

var avx2S8Set = &s8Set{name: "avx2", format: fmtI16Pair, kernels: []s8Kernel{
	{name: "avx2x6x16", mr: 6, nr: 16, weight: 1, fn: func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8AVX2x6x16(kq, (*int16)(a), (*int16)(b), c, ldc, init)
	}, direct: func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
		s8AVX2Dx6x16(kq, a, lda, (*int16)(b), c, ldc, init)
	}, segWide: &s8SegWide{single: [2]s8SegWideFn{s8AVX2SFx6x16, s8AVX2SFCx6x16},
		double: [2]s8SegWideFn{s8AVX2SFDx6x16, s8AVX2SFDCx6x16}, fp32: s8AVX2SFFx6x16,
		pSingle: [2]s8SegWidePFn{s8AVX2SFPx6x16, s8AVX2SFPCx6x16},
		pDouble: [2]s8SegWidePFn{s8AVX2SFPDx6x16, s8AVX2SFPDCx6x16}, pFP32: s8AVX2SFPFx6x16,
		pFP32Exact: [2]s8SegWidePFn{s8AVX2SFPXx6x16, s8AVX2SFPXCx6x16}},
		segI16: &[6]s8SegI16Fn{s8AVX2SI16x1x16, s8AVX2SI16x2x16, s8AVX2SI16x3x16, s8AVX2SI16x4x16, s8AVX2SI16x5x16, s8AVX2SI16x6x16}},
}}

// f32Sets lists the float32 kernel families this CPU can run, fastest
// first; the portable Go family is always last.
func f32Sets() []*f32Set {
	var s []*f32Set
	if avx512Ok {
		s = append(s, avx512F32Set)
	}
	if avx2Ok {
		s = append(s, avx2F32Set)
	}
	return append(s, goF32Set)
}

// s8Sets lists the int8 kernel families this CPU can run, fastest first.
func s8Sets() []*s8Set {
	var s []*s8Set
	if vnniOk {
		s = append(s, vnniS8Set)
	}
	if avxVNNIOk {
		s = append(s, avxvnniS8Set)
	}
	if avx512WOk {
		s = append(s, avx512WS8Set)
	}
	if avx2Ok {
		s = append(s, avx2S8Set)
	}
	return append(s, goS8Set)
}

// biasClampAsm is the float epilogue loop (AVX-512 or AVX2), nil when
// neither is available.
var biasClampAsm = func() func(groups int, c, bias *float32, lo, hi float32) {
	switch {
	case avx512Ok:
		return biasClampAVX512
	case avx2Ok:
		return biasClampAVX2
	}
	return nil
}()
