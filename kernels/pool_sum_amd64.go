//go:build amd64 && !noasm

package kernels

// sumPixI8AVX512 adds npix int8 pixels (C apart from src) to acc, the
// first cv channels (a multiple of 16); see pool_sum_amd64.s.
//
//go:noescape
func sumPixI8AVX512(acc *int32, src *int8, npix, C, cv int)

// sumPixU8AVX512 is sumPixI8AVX512 for uint8 pixels.
//
//go:noescape
func sumPixU8AVX512(acc *int32, src *uint8, npix, C, cv int)

// sumPixF32AVX512 is sumPixI8AVX512 for float32 pixels and sums.
//
//go:noescape
func sumPixF32AVX512(acc *float32, src *float32, npix, C, cv int)

// poolAVX512 selects the AVX-512 loops; without it float32 sums take the
// AVX2 loop sumPixF32AVX2 (f32_avx2_amd64.s) where the CPU has AVX2 (tests turn it off to run that loop).
var poolAVX512 = hasAVX512

// sumPixelsVec adds the npix consecutive pixels of px (C channels each)
// to acc for the first multiple of 16 channels (8 with AVX2 only, and
// for int16 pixels), each channel in pixel order, and returns how many
// channels it did (0 without AVX2 or for dtypes it has no loop for: the
// Go loop does the rest).
func sumPixelsVec[T float32 | int8 | uint8 | int16, L float32 | int32](acc []L, px []T, npix, C int) int {
	if ai, ok := any(acc).([]int32); ok && (!poolAVX512 || isInt16[T]()) {
		// The integer AVX2 loop (ew_avx2_amd64.s); int16 pixels have
		// no AVX-512 loop and take it on every CPU.
		return sumPixIntAVX2(ai, px, npix, C)
	}
	if !poolAVX512 {
		a, ok := any(acc).([]float32)
		p, ok2 := any(px).([]float32)
		if !hasAVX2 || !ok || !ok2 || C < 8 || npix == 0 {
			return 0
		}
		cv := C &^ 7
		_, _ = a[C-1], p[npix*C-1]
		sumPixF32AVX2(&a[0], &p[0], npix, C, cv)
		return cv
	}
	cv := C &^ 15
	if cv == 0 || npix == 0 {
		return 0
	}
	_, _ = acc[C-1], px[npix*C-1]
	switch a := any(acc).(type) {
	case []int32:
		switch p := any(px).(type) {
		case []int8:
			sumPixI8AVX512(&a[0], &p[0], npix, C, cv)
			return cv
		case []uint8:
			sumPixU8AVX512(&a[0], &p[0], npix, C, cv)
			return cv
		}
	case []float32:
		if p, ok := any(px).([]float32); ok {
			sumPixF32AVX512(&a[0], &p[0], npix, C, cv)
			return cv
		}
	}
	return 0
}

// isInt16 reports whether T is int16.
func isInt16[T float32 | int8 | uint8 | int16]() bool {
	var z T
	_, ok := any(z).(int16)
	return ok
}
