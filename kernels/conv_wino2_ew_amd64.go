//go:build amd64 && !noasm

package kernels

// wino2InYVec runs the vector y input transform on the columns it can (a
// multiple of 16) and returns how many it did; the Go loop does the
// rest. With AVX-512BW zmm registers take 32 columns at a time (CPU time
// per call, Zen 5, medians of 7 alternating runs of go test -bench
// Wino2Transforms: 10×16 columns 20.9 → 15.1 ns, 5×32 22.1 → 15.0,
// 3×64 19.9 → 13.2), then ymm on the whole registers left (every one
// without AVX-512BW). Overlapping rows (a stride below n) stay with the
// Go loop, whose element order defines the result then.
func wino2InYVec(dst []int16, dstStride int, src []int16, srcStride int, n int) int {
	if dstStride < n || srcStride < n {
		return 0
	}
	i := 0
	if hasAVX512BW && n >= 32 {
		i = n &^ 31
		wino2InYAVX512(&dst[0], dstStride, &src[0], srcStride, i)
	}
	if hasAVX2 && n-i >= 16 {
		k := (n - i) &^ 15
		wino2InYAVX2(&dst[i], dstStride, &src[i], srcStride, k)
		i += k
	}
	return i
}

// wino2OutYVec is wino2InYVec for the y output transform: zmm 16 columns
// at a time (as measured there: 10×32 columns 76.4 → 41.2 ns, 5×64
// 77.4 → 42.8, 3×128 99.0 → 47.2), then ymm on the whole registers left.
func wino2OutYVec(dst []int32, dstStride int, src []int32, srcStride int, n int) int {
	if dstStride < n || srcStride < n {
		return 0
	}
	i := 0
	if hasAVX512BW && n >= 16 {
		i = n &^ 15
		wino2OutYAVX512(&dst[0], dstStride, &src[0], srcStride, i)
	}
	if hasAVX2 && n-i >= 8 {
		k := (n - i) &^ 7
		wino2OutYAVX2(&dst[i], dstStride, &src[i], srcStride, k)
		i += k
	}
	return i
}

// wino2OutXVec is winoOutI32Vec's ÷576 form.
func wino2OutXVec(dst, src []int32, plane, tiles, N int, corr []int32) int {
	return winoOutI32Vec(dst, src, plane, tiles, N, corr, true)
}

// winoOutI32TailVec is winoOutI32Vec for a last tile of w < 4 pixels (dst and
// src at that tile), through outTailAVX2.
func winoOutI32TailVec(dst, src []int32, plane, w, N int, corr []int32, by576 bool) int {
	return outTailAVX2(by576, dst, src, plane, w, N, corr)
}

// outTailAVX2 runs an AVX2 x output transform (wino2OutXAVX2 if div576,
// else winoOutS8AVX2) on a last tile of w < 4 pixels: it writes the tile's
// four pixels of up to 64 channels at a time to a stack buffer, and the
// w real ones are copied out — the Go loop took 2.1 µs of 2.4 for a
// 10-pixel row of 128 channels. It returns the channels done (a
// multiple of 8); the Go loop does the rest. (A flag, not a func value:
// calls through a func value would move tmp to the heap.)
func outTailAVX2(div576 bool, dst, src []int32, plane, w, N int, corr []int32) int {
	cv := N &^ 7
	if !hasAVX2 || cv == 0 {
		return 0
	}
	_ = src[5*plane+N-1]
	_ = dst[w*N-1]
	var tmp [4 * 64]int32
	for c := 0; c < cv; c += 64 {
		k := min(64, cv-c)
		// One tile, so N = k is only the buffer's pixel stride.
		if div576 {
			wino2OutXAVX2(&tmp[0], &src[c], plane, 1, k, k, &corr[c])
		} else {
			winoOutS8AVX2(&tmp[0], &src[c], plane, 1, k, k, &corr[c])
		}
		for i := range w {
			copy(dst[i*N+c:i*N+c+k], tmp[i*k:(i+1)*k])
		}
	}
	return cv
}
