//go:build amd64 && !noasm

package kernels

// addF32AVX512 is the float32 same-shape ADD with clamp over n values (n
// a multiple of 16); see add_amd64.s.
//
//go:noescape
func addF32AVX512(x, y, z *float32, n int, lo, hi float32)

// addXNNI8AVX512 is addXNNSame's arithmetic over n int8 values (n a
// multiple of 16).
//
//go:noescape
func addXNNI8AVX512(x, y, z *int8, n int, ma, mb, bias, shift, zo, lo, hi int32)

// addXNNU8AVX512 is addXNNI8AVX512 for uint8.
//
//go:noescape
func addXNNU8AVX512(x, y, z *uint8, n int, ma, mb, bias, shift, zo, lo, hi int32)

// addF32Vec adds the longest prefix of whole 16-value blocks with the
// AVX-512 loop and returns its length (0 without AVX-512); the Go loop
// does the rest. z, y hold at least len(x) values.
func addF32Vec(x, y, z []float32, lo, hi float32) int {
	n := len(x) &^ 15
	if !hasAVX512 || n == 0 {
		return 0
	}
	_, _ = y[n-1], z[n-1]
	addF32AVX512(&x[0], &y[0], &z[0], n, lo, hi)
	return n
}

// addXNNVec is addF32Vec for XNNPACK's 8-bit ADD (a the multipliers, zo
// the output zero point, lo and hi the clamp).
func addXNNVec[T ~int8 | ~uint8](a *xnnAdd, zo, lo, hi int32, x, y, z []T) int {
	n := len(x) &^ 15
	if !hasAVX512 || n == 0 {
		return 0
	}
	_, _ = y[n-1], z[n-1]
	switch xs := any(x).(type) {
	case []int8:
		ys, zs := any(y).([]int8), any(z).([]int8)
		addXNNI8AVX512(&xs[0], &ys[0], &zs[0], n, a.ma, a.mb, a.bias, int32(a.shift), zo, lo, hi)
	case []uint8:
		ys, zs := any(y).([]uint8), any(z).([]uint8)
		addXNNU8AVX512(&xs[0], &ys[0], &zs[0], n, a.ma, a.mb, a.bias, int32(a.shift), zo, lo, hi)
	default:
		return 0
	}
	return n
}
