//go:build amd64 && !noasm

package kernels

// addF32Vec adds the longest prefix of whole 16-value blocks with the
// AVX-512 loop (8-value blocks with the AVX2 one when AVX-512 is absent)
// and returns its length (0 without either); the Go loop does the rest.
// z, y hold at least len(x) values.
func addF32Vec(x, y, z []float32, lo, hi float32) int {
	return addF32VecOn(hasAVX512, hasAVX2, x, y, z, lo, hi)
}

// addF32VecOn is addF32Vec with the CPU features as arguments, so tests
// can force the AVX2 loop on an AVX-512 machine.
func addF32VecOn(avx512, avx2 bool, x, y, z []float32, lo, hi float32) int {
	switch {
	case avx512 && len(x) >= 16:
		n := len(x) &^ 15
		_, _ = y[n-1], z[n-1]
		addF32AVX512(&x[0], &y[0], &z[0], n, lo, hi)
		return n
	case avx2 && !avx512 && len(x) >= 8:
		n := len(x) &^ 7
		_, _ = y[n-1], z[n-1]
		addF32AVX2(&x[0], &y[0], &z[0], n, lo, hi)
		return n
	}
	return 0
}

// addXNNVec is addF32Vec for XNNPACK's 8-bit ADD (a the multipliers, zo
// the output zero point, lo and hi the clamp).
func addXNNVec[T ~int8 | ~uint8](a *xnnAdd, zo, lo, hi int32, x, y, z []T) int {
	return addXNNVecOn(hasAVX512, hasAVX2, a, zo, lo, hi, x, y, z)
}

// addXNNVecOn is addXNNVec with the CPU features as arguments (see
// addF32VecOn). Both loops take 16-value blocks.
func addXNNVecOn[T ~int8 | ~uint8](avx512, avx2 bool, a *xnnAdd, zo, lo, hi int32, x, y, z []T) int {
	n := len(x) &^ 15
	if !(avx512 || avx2) || n == 0 {
		return 0
	}
	_, _ = y[n-1], z[n-1]
	sh := int32(min(a.shift, 31)) // VPSRAVD fills with the sign past 31, as Go's >> does
	switch xs := any(x).(type) {
	case []int8:
		ys, zs := any(y).([]int8), any(z).([]int8)
		if avx512 {
			addXNNI8AVX512(&xs[0], &ys[0], &zs[0], n, a.ma, a.mb, a.bias, sh, zo, lo, hi)
		} else {
			addXNNI8AVX2(&xs[0], &ys[0], &zs[0], n, a.ma, a.mb, a.bias, sh, zo, lo, hi)
		}
	case []uint8:
		ys, zs := any(y).([]uint8), any(z).([]uint8)
		if avx512 {
			addXNNU8AVX512(&xs[0], &ys[0], &zs[0], n, a.ma, a.mb, a.bias, sh, zo, lo, hi)
		} else {
			addXNNU8AVX2(&xs[0], &ys[0], &zs[0], n, a.ma, a.mb, a.bias, sh, zo, lo, hi)
		}
	default:
		return 0
	}
	return n
}

// addF32ScalarVec is addF32Vec for a row whose other operand repeats one
// value s: z = clamp(v + s), or clamp(s + v) when sFirst (the Go loop's
// operand order). It returns how many values it did.
func addF32ScalarVec(v []float32, s float32, z []float32, sFirst bool, lo, hi float32) int {
	return addF32ScalarVecOn(hasAVX512, hasAVX2, v, s, z, sFirst, lo, hi)
}

// addF32ScalarVecOn is addF32ScalarVec with the CPU features as arguments
// (see addF32VecOn).
func addF32ScalarVecOn(avx512, avx2 bool, v []float32, s float32, z []float32, sFirst bool, lo, hi float32) int {
	var n int
	switch {
	case avx512 && len(v) >= 16:
		n = len(v) &^ 15
	case avx2 && !avx512 && len(v) >= 8:
		n = len(v) &^ 7
	default:
		return 0
	}
	_ = z[n-1]
	switch {
	case avx512 && sFirst:
		addF32SVAVX512(&v[0], s, &z[0], n, lo, hi)
	case avx512:
		addF32VSAVX512(&v[0], s, &z[0], n, lo, hi)
	case sFirst:
		addF32SVAVX2(&v[0], s, &z[0], n, lo, hi)
	default:
		addF32VSAVX2(&v[0], s, &z[0], n, lo, hi)
	}
	return n
}
