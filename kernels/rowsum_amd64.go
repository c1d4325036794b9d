//go:build amd64 && !noasm

package kernels

// sumRowsVec adds the first multiple of 8 columns of sumRowsF32's rows
// with the AVX2 loop and returns how many columns it did (0 without AVX2,
// or when some row would lie outside src: the Go loop then reports it).
// The ymm loop serves AVX-512 machines too: a bag of 16-float table rows
// is bound by loading the rows (interleaving two bags to overlap their
// addition chains measured within noise), not by the vector width.
func sumRowsVec(dst, src []float32, idx []int32, stride int) int {
	if !hasAVX2 || len(dst) < 8 || len(idx) == 0 {
		return 0
	}
	lo, hi := rowRange(idx)
	return sumRowsVecIn(dst, src, idx, stride, lo, hi)
}

// sumRowsVecIn is sumRowsVec for a caller that knows the smallest and
// largest row of idx (lo, hi), so the rows need not be scanned again.
func sumRowsVecIn(dst, src []float32, idx []int32, stride int, lo, hi int32) int {
	w := len(dst) &^ 7
	if !hasAVX2 || w == 0 || len(idx) == 0 || lo < 0 || int(hi)*stride+w > len(src) {
		return 0
	}
	sumRowsF32AVX2(&dst[0], w, &src[0], &idx[0], len(idx), stride)
	return w
}
