//go:build !noasm

package gemm

// widenAsm reports whether widenS8AVX2 can run.
var widenAsm = avx2Ok
