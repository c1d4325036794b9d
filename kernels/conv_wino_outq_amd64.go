//go:build amd64 && !noasm

package kernels

import "unsafe"

// winoOutQVecOK reports whether the fused epilogue's kernels run (ymm
// ones on every AVX2 CPU).
func winoOutQVecOK() bool { return hasAVX2 }

// winoOutQVec runs q's vector kernels over full tiles on channels
// 0..cv−1 (cv a positive multiple of 8: newWinoOutQ demands N ≥ 8).
func winoOutQVec(q *winoOutQ, dst []int8, src []int32, plane, tiles, N, cv int) {
	_ = src[5*plane+tiles*N-1]
	_ = dst[4*tiles*N-1]
	q.kern(&dst[0], &src[0], plane, tiles, N, 0, cv)
}

// winoOutQTailVec is winoOutQVec for a last tile of w < 4 pixels (dst and
// src at that tile), as outTailAVX2: the tile's four pixels of up to 64
// channels at a time go to a stack buffer, and the w real ones are
// copied out.
func winoOutQTailVec(q *winoOutQ, dst []int8, src []int32, plane, w, N, cv int) {
	_ = src[5*plane+N-1]
	_ = dst[w*N-1]
	var tmp [4 * 64]int8
	for c := 0; c < cv; c += 64 {
		k := min(64, cv-c)
		// One tile, so N = k is only the buffer's pixel stride.
		q.kern(&tmp[0], &src[c], plane, 1, k, c, k)
		for i := range w {
			copy(dst[i*N+c:i*N+c+k], tmp[i*k:(i+1)*k])
		}
	}
}

// kern runs q's vector kernels on channels c..c+cnt−1 (c and cnt
// multiples of 8) of tiles full tiles, dst and src at channel c (the
// caller has checked their bounds), pixel stride N: with AVX-512 whole
// zmm registers first (Skylake-SP runs the 2-D and 1-D plans), the ymm
// kernel on the rest.
func (q *winoOutQ) kern(dst *int8, src *int32, plane, tiles, N, c, cnt int) {
	if hasAVX512 && cnt >= 16 {
		k := cnt &^ 15
		winoOutQFP32AVX512(dst, src, plane, tiles, N, k, &q.prm[c], &q.consts[0])
		if k == cnt {
			return
		}
		dst, src = (*int8)(unsafe.Add(unsafe.Pointer(dst), k)), (*int32)(unsafe.Add(unsafe.Pointer(src), 4*k))
		c, cnt = c+k, cnt-k
	}
	winoOutQFP32AVX2(dst, src, plane, tiles, N, cnt, &q.prm[c], &q.consts[0])
}
