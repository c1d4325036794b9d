//go:build noasm || !amd64

package gemm

// widenAsm is false without assembly.
const widenAsm = false

func widenS8AVX2(n int, dst *int16, src *int8) { panic("gemm: widenS8AVX2 without assembly") }
