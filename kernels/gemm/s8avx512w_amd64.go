//go:build !noasm

package gemm

import (
	"strconv"
	"unsafe"

	"golang.org/x/sys/cpu"
)

// avx512WOk reports whether the zmm int16-pair kernels can run: VPMADDWD
// and the byte/word moves on zmm need AVX-512BW, double rounding's
// sign masks (VPMOVQ2M) AVX-512DQ. Intel Skylake-SP/X, the AVX-512 CPUs
// without VNNI, have all three.
var avx512WOk = avx512Ok && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512DQ

// avx512WS8Set is the exact int16-pair family (fmtI16Pair, as avx2S8Set:
// VPMADDWD + VPADDD, no saturation) in zmm registers, for AVX-512 CPUs
// without VNNI, where it replaces the 256-bit AVX2 kernels. Its tiles are
// 6 rows by 64, 32 or 16 columns (internal/asmgen/s8_avx512w.go), each
// with packed, direct, fused wide and int16-A segmented (Winograd's
// products, PackedI16) kernels; pick and the wide packing
// choose the tile that the shape fills best. Products of 1-4 rows run on
// the few-row kernels over int8 weights instead (s8RowsFor).
var avx512WS8Set = &s8Set{name: "avx512bw", format: fmtI16Pair, kernels: []s8Kernel{
	avx512WKernel(64, 1, s8AVX512Wx6x64, s8AVX512WDx6x64, &s8SegWide{
		single: [2]s8SegWideFn{s8AVX512WSFx6x64, s8AVX512WSFCx6x64},
		double: [2]s8SegWideFn{s8AVX512WSFDx6x64, s8AVX512WSFDCx6x64}, fp32: s8AVX512WSFFx6x64,
		pSingle: [2]s8SegWidePFn{s8AVX512WSFPx6x64, s8AVX512WSFPCx6x64},
		pDouble: [2]s8SegWidePFn{s8AVX512WSFPDx6x64, s8AVX512WSFPDCx6x64}, pFP32: s8AVX512WSFPFx6x64}, &[6]s8SegI16Fn{s8AVX512WSI16x1x64, s8AVX512WSI16x2x64, s8AVX512WSI16x3x64, s8AVX512WSI16x4x64, s8AVX512WSI16x5x64, s8AVX512WSI16x6x64}),
	avx512WKernel(32, 0.97, s8AVX512Wx6x32, s8AVX512WDx6x32, &s8SegWide{
		single: [2]s8SegWideFn{s8AVX512WSFx6x32, s8AVX512WSFCx6x32},
		double: [2]s8SegWideFn{s8AVX512WSFDx6x32, s8AVX512WSFDCx6x32}, fp32: s8AVX512WSFFx6x32,
		pSingle: [2]s8SegWidePFn{s8AVX512WSFPx6x32, s8AVX512WSFPCx6x32},
		pDouble: [2]s8SegWidePFn{s8AVX512WSFPDx6x32, s8AVX512WSFPDCx6x32}, pFP32: s8AVX512WSFPFx6x32}, &[6]s8SegI16Fn{s8AVX512WSI16x1x32, s8AVX512WSI16x2x32, s8AVX512WSI16x3x32, s8AVX512WSI16x4x32, s8AVX512WSI16x5x32, s8AVX512WSI16x6x32}),
	avx512WKernel(16, 0.9, s8AVX512Wx6x16, s8AVX512WDx6x16, &s8SegWide{
		single: [2]s8SegWideFn{s8AVX512WSFx6x16, s8AVX512WSFCx6x16},
		double: [2]s8SegWideFn{s8AVX512WSFDx6x16, s8AVX512WSFDCx6x16}, fp32: s8AVX512WSFFx6x16,
		pSingle: [2]s8SegWidePFn{s8AVX512WSFPx6x16, s8AVX512WSFPCx6x16},
		pDouble: [2]s8SegWidePFn{s8AVX512WSFPDx6x16, s8AVX512WSFPDCx6x16}, pFP32: s8AVX512WSFPFx6x16}, &[6]s8SegI16Fn{s8AVX512WSI16x1x16, s8AVX512WSI16x2x16, s8AVX512WSI16x3x16, s8AVX512WSI16x4x16, s8AVX512WSI16x5x16, s8AVX512WSI16x6x16}),
}}

// avx512WKernel wraps one 6×nr tile's kernels as an s8Kernel.
func avx512WKernel(nr int, weight float64,
	fn func(k2 int, a, b *int16, c *int32, ldc int, init *int32),
	direct func(k2 int, a *int8, lda int, b *int16, c *int32, ldc int, init *int32),
	wide *s8SegWide, segI16 *[6]s8SegI16Fn) s8Kernel {
	return s8Kernel{name: "avx512bwx6x" + strconv.Itoa(nr), mr: 6, nr: nr, weight: weight,
		fn: func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
			fn(kq, (*int16)(a), (*int16)(b), c, ldc, init)
		}, direct: func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32) {
			direct(kq, a, lda, (*int16)(b), c, ldc, init)
		}, segWide: wide, segI16: segI16}
}
