//go:build noasm || !amd64

package gemm

// requantRowsFunc is the signature of the block requantization loops.
type requantRowsFunc = func(rows, n int, acc *int32, lda int, params *int32, dst *int8, ldo int, zlh *int32)

// requantRowsAsm is nil without assembly: requantization runs in Go.
func requantRowsAsm(single bool) requantRowsFunc { return nil }

// requantFastAsm is nil without assembly.
func requantFastAsm(single, clamp bool) requantRowsFunc { return nil }

// requantFP32Asm is nil without assembly.
func requantFP32Asm(clamp bool) requantRowsFunc { return nil }

// requantDoubleAVX2Asm is nil without assembly.
func requantDoubleAVX2Asm() requantRowsFunc { return nil }

// requantFP32AVX2Asm is nil without assembly.
func requantFP32AVX2Asm() requantRowsFunc { return nil }
