//go:build amd64 && !noasm

package kernels

// wino2OutQFused reports whether the 2-D plan runs its output side in
// one pass (tileRow2D's kernel): on AVX2 CPUs without AVX-512, whose
// split path is the ymm one. (AVX-512 CPUs keep wino2OutY and winoOutQ
// in zmm registers; the fused kernel is ymm only, 1.4–1.6× their time.)
func wino2OutQFused() bool { return hasAVX2 && !hasAVX512 }

// wino2OutQVec runs the fused kernel over tiles tiles (w ≤ 4 pixels
// each: w < 4 only with one tile) of rows ≤ 4 rows on channels 0..cv−1
// (cv a positive multiple of 8); the caller has checked dst's and src's
// bounds. The offsets of the pixels past w and the rows past rows repeat
// the last real one's.
func wino2OutQVec(q *winoOutQ, dst []int8, rowStride, rows, w int, src []int32, plane, tiles, N, cv int) {
	var offs [6]int
	for i := 1; i < 4; i++ {
		offs[i-1] = min(i, w-1) * N
		offs[2+i] = min(i, rows-1) * rowStride
	}
	wino2OutQFP32AVX2(&dst[0], &offs[0], &src[0], plane, tiles, N, cv, &q.prm[0], &q.consts[0])
}

// wino2OutQPoolVec runs the pooled kernel over tiles tiles (pw ≤ 2
// pooled pixels each: pw < 2 only with one tile) of prows ≤ 2 pooled
// rows on channels 0..cv−1 (cv a positive multiple of 8); the caller has
// checked dst's and src's bounds. A missing pixel's or row's offset is 0.
func wino2OutQPoolVec(q *winoOutQ, dst []int8, rowStride, prows, pw int, src []int32, plane, tiles, N, cv int) {
	colOff, rowOff := 0, 0
	if pw > 1 {
		colOff = N
	}
	if prows > 1 {
		rowOff = rowStride
	}
	wino2OutQPoolFP32AVX2(&dst[0], &src[0], plane, tiles, N, cv, colOff, rowOff, &q.prm[0], &q.consts[0])
}
