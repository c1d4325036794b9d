//go:build amd64 && !noasm

package kernels

// winoInS8Vec runs the AVX2 input transform on the channels it can (a
// multiple of 16) and returns how many it did; the Go loop does the rest.
func winoInS8Vec(dst []int16, plane int, src []int8, tiles, C int) int {
	cv := C &^ 15
	if !hasAVX2 || cv == 0 || tiles == 0 {
		return 0
	}
	winoInS8AVX2(&dst[0], plane, &src[0], tiles, C, cv)
	return cv
}

// winoOutI32Vec runs the AVX2 output transform (÷576 when by576, else ÷24)
// over full tiles on the channels it can (a multiple of 8) and returns
// how many it did.
func winoOutI32Vec(dst, src []int32, plane, tiles, N int, corr []int32, by576 bool) int {
	cv := N &^ 7
	if !hasAVX2 || cv == 0 || tiles == 0 {
		return 0
	}
	if by576 {
		wino2OutXAVX2(&dst[0], &src[0], plane, tiles, N, cv, &corr[0])
	} else {
		winoOutS8AVX2(&dst[0], &src[0], plane, tiles, N, cv, &corr[0])
	}
	return cv
}
