//go:build amd64 && !noasm

package kernels

// wino2InYVec runs the AVX2 y input transform on the columns it can (a
// multiple of 16) and returns how many it did; the Go loop does the
// rest. Overlapping rows (a stride below n) stay with the Go loop, whose
// element order defines the result then.
func wino2InYVec(dst []int16, dstStride int, src []int16, srcStride int, n int) int {
	nv := n &^ 15
	if !hasAVX2 || nv == 0 || dstStride < n || srcStride < n {
		return 0
	}
	wino2InYAVX2(&dst[0], dstStride, &src[0], srcStride, nv)
	return nv
}

// wino2OutYVec runs the AVX2 y output transform on the columns it can (a
// multiple of 8) and returns how many it did.
func wino2OutYVec(dst []int32, dstStride int, src []int32, srcStride int, n int) int {
	nv := n &^ 7
	if !hasAVX2 || nv == 0 || dstStride < n || srcStride < n {
		return 0
	}
	wino2OutYAVX2(&dst[0], dstStride, &src[0], srcStride, nv)
	return nv
}

// wino2OutXVec runs the AVX2 x output transform over full tiles on the
// channels it can (a multiple of 8) and returns how many it did.
func wino2OutXVec(dst, src []int32, plane, tiles, N int, corr []int32) int {
	cv := N &^ 7
	if !hasAVX2 || cv == 0 || tiles == 0 {
		return 0
	}
	wino2OutXAVX2(&dst[0], &src[0], plane, tiles, N, cv, &corr[0])
	return cv
}
