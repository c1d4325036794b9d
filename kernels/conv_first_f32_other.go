//go:build !amd64 || noasm

package kernels

// firstF32Width is 0: no vector kernels, so pathAuto keeps the GEMM paths
// (pathFirstF32 runs the Go row loop).
func firstF32Width(outC int) int { return 0 }

// firstF32RowVec is never reached without vector kernels; it returns the
// Go loop.
func firstF32RowVec(step, vw int) firstF32Row { return convFirstF32Go }

// firstF32AVX512 is false: there are no vector kernels.
var firstF32AVX512 = false
