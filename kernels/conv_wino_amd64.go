//go:build amd64 && !noasm

package kernels

// winoInF32AVX512 is winoInF32Go for the first cv channels (a multiple of
// 16), 16 at a time; plane is in elements.
//
//go:noescape
func winoInF32AVX512(dst *float32, plane int, src *float32, tiles, C, cv int)

// winoInF32AVX2 is winoInF32AVX512 8 channels at a time (cv a multiple of 8).
//
//go:noescape
func winoInF32AVX2(dst *float32, plane int, src *float32, tiles, C, cv int)

// winoOutF32AVX512 is winoOutF32Go for the first cv channels (a multiple
// of 16); it returns non-zero when a tile's sums were not all finite.
//
//go:noescape
func winoOutF32AVX512(dst, src *float32, plane, tiles, N, cv int, bias *float32, lo, hi float32) int

// winoOutF32AVX2 is winoOutF32AVX512 8 channels at a time.
//
//go:noescape
func winoOutF32AVX2(dst, src *float32, plane, tiles, N, cv int, bias *float32, lo, hi float32) int

// winoAVX512 selects the AVX-512 transforms (tests turn it off to run the
// AVX2 ones on every channel).
var winoAVX512 = hasAVX512

// winoVecWidth is the channel step of the vector transforms (0: none).
func winoVecWidth() int {
	switch {
	case winoAVX512:
		return 16
	case hasAVX2:
		return 8
	}
	return 0
}

// winoInVec runs the vector input transform on the channels it can and
// returns how many it did (the Go loop does the rest).
func winoInVec(dst []float32, plane int, src []float32, tiles, C int) int {
	cv := 0
	if winoAVX512 {
		cv = C &^ 15
		if cv > 0 {
			winoInF32AVX512(&dst[0], plane, &src[0], tiles, C, cv)
		}
	}
	if hasAVX2 && C-cv >= 8 {
		n := (C - cv) &^ 7
		winoInF32AVX2(&dst[cv], plane, &src[cv], tiles, C, n)
		cv += n
	}
	return cv
}

// winoOutVec is winoInVec for the output transform; bad reports a sum
// that was not finite.
func winoOutVec(dst, src []float32, plane, tiles, N int, bias []float32, lo, hi float32) (cv int, bad bool) {
	if winoAVX512 {
		cv = N &^ 15
		if cv > 0 && winoOutF32AVX512(&dst[0], &src[0], plane, tiles, N, cv, &bias[0], lo, hi) != 0 {
			bad = true
		}
	}
	if hasAVX2 && N-cv >= 8 {
		n := (N - cv) &^ 7
		if winoOutF32AVX2(&dst[cv], &src[cv], plane, tiles, N, n, &bias[cv], lo, hi) != 0 {
			bad = true
		}
		cv += n
	}
	return cv, bad
}
