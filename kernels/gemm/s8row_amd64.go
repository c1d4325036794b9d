//go:build !noasm

package gemm

// avx2S8Rows are the few-row AVX2 kernels over int8 weights.
var avx2S8Rows = &s8RowKernels{name: "avx2r", nr: 16, fn: []s8RowFn{s8AVX2Rx1x16, s8AVX2Rx2x16, s8AVX2Rx3x16, s8AVX2Rx4x16}}

// avx512WS8Rows are the same in zmm registers, 64 columns a call, for
// the AVX-512BW int16-pair family (Skylake-SP), where they beat a
// one-row tile over int16 weights at batch 1 (seed-cnn's dense0
// 0.019–0.020 → 0.013–0.014 ms, mlt_ad_fc_i8's dense layers a tie,
// Skylake-SP GODEBUG on Zen 5) with half the weight bytes.
var avx512WS8Rows = &s8RowKernels{name: "avx512bwr", nr: 64, fn: []s8RowFn{s8AVX512WRx1x64, s8AVX512WRx2x64, s8AVX512WRx3x64, s8AVX512WRx4x64}}

// s8RowsFor returns the few-row kernels of an int8 family, nil for the
// u8-quad (VNNI) families, whose own one-row tiles read int8 already.
func s8RowsFor(set *s8Set) *s8RowKernels {
	switch set {
	case avx512WS8Set:
		return avx512WS8Rows
	case avx2S8Set:
		return avx2S8Rows
	case goS8Set:
		return goS8Rows
	}
	return nil
}
