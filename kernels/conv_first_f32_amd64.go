//go:build amd64 && !noasm

package kernels

// firstF32AVX512 gates the AVX-512 row kernels (tests turn it off to check
// the fallback choice).
var firstF32AVX512 = hasAVX512

// firstF32Width is the channel block of the vector kernels for outC
// output channels: 16 (one zmm), 0 when none applies.
func firstF32Width(outC int) int {
	if firstF32AVX512 && outC%16 == 0 {
		return 16
	}
	return 0
}

// firstF32Kernels are the generated row kernels by pixel step
// (strideW·inC floats).
var firstF32Kernels = map[int]func(dst *float32, ldd int, src *float32, offs *int, taps int, w, bias *float32, n int, lo, hi float32){
	1: convFirstF32AVX512S1,
	2: convFirstF32AVX512S2,
	3: convFirstF32AVX512S3,
	4: convFirstF32AVX512S4,
	6: convFirstF32AVX512S6,
	8: convFirstF32AVX512S8,
}

// firstF32RowVec returns the vector row loop for pixel step step and
// width vw (16); the Go loop when no kernel has that step.
func firstF32RowVec(step, vw int) firstF32Row {
	f, ok := firstF32Kernels[step]
	if !ok || vw != 16 {
		return convFirstF32Go
	}
	return func(k *convFirstF32, dst []float32, src []float32, cb, n int) {
		if n == 0 {
			return
		}
		g := k.g
		// The last pixel's window and outputs are in range.
		_ = src[(n-1)*step+k.offs[len(k.offs)-1]]
		_ = dst[(n-1)*g.outC+k.vw-1]
		w := k.w[cb*k.taps*k.vw : (cb+1)*k.taps*k.vw]
		f(&dst[0], 4*g.outC, &src[0], &k.offsB[0], k.taps, &w[0], &k.bias[cb*k.vw], n, k.lo, k.hi)
	}
}
