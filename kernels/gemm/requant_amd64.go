//go:build !noasm

package gemm

import "golang.org/x/sys/cpu"

// requantRowsFunc is the signature of the block requantization loops.
type requantRowsFunc = func(rows, n int, acc *int32, lda int, params *int32, dst *int8, ldo int, zlh *int32)

// requantRowsAsm returns the AVX-512 block loop for the arithmetic, nil
// when the CPU lacks AVX-512F (all the loop needs, masked tail included).
func requantRowsAsm(single bool) requantRowsFunc {
	switch {
	case !avx512Ok:
		return nil
	case single:
		return requantS8SingleRowsAVX512
	}
	return requantS8RowsAVX512
}

// requantFastAsm returns the AVX-512 loop for the arithmetic with the
// fast parameter layout (see Requant.fastParams), nil when the CPU
// cannot run it; clamp selects the variant that also applies a clamp
// range narrower than int8's. Double rounding reads the products' signs
// with VPMOVQ2M (AVX512DQ); a nil result also keeps the fused double
// kernels, which use it too, from running.
func requantFastAsm(single, clamp bool) requantRowsFunc {
	switch {
	case !avx512Ok:
		return nil
	case single && clamp:
		return requantS8SingleRowsFastClampAVX512
	case single:
		return requantS8SingleRowsFastAVX512
	case !cpu.X86.HasAVX512DQ:
		return nil
	case clamp:
		return requantS8DoubleRowsFastClampAVX512
	}
	return requantS8DoubleRowsFastAVX512
}

// requantFP32Asm returns the AVX-512 loop of XNNPACK's float32
// requantization (NewRequantFP32's layout), nil without AVX-512F. One
// loop serves any clamp range (clamp is unused): the float clamp before
// rounding is needed anyway to keep the conversion in range.
func requantFP32Asm(clamp bool) requantRowsFunc {
	if !avx512Ok {
		return nil
	}
	return requantS8FP32RowsAVX512 // its float clamp is always there
}

// requantDoubleAVX2Asm returns the AVX2 double-rounding block loop (the
// general parameter layout; whole groups of 8 channels), for CPUs with
// AVX2 but not AVX-512; nil without AVX2.
func requantDoubleAVX2Asm() requantRowsFunc {
	if !avx2Ok {
		return nil
	}
	return requantS8DoubleRowsAVX2
}

// requantFP32AVX2Asm is requantDoubleAVX2Asm for NewRequantFP32's
// arithmetic and layout.
func requantFP32AVX2Asm() requantRowsFunc {
	if !avx2Ok {
		return nil
	}
	return requantS8FP32RowsAVX2
}
