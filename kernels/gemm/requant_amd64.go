//go:build !noasm

package gemm

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

// requantFastAsm returns the AVX-512 loop for single rounding with the
// fast parameter layout (see Requant.fastParams); clamp selects the
// variant that also applies a clamp range narrower than int8's.
func requantFastAsm(clamp bool) requantRowsFunc {
	switch {
	case !avx512Ok:
		return nil
	case clamp:
		return requantS8SingleRowsFastClampAVX512
	}
	return requantS8SingleRowsFastAVX512
}
