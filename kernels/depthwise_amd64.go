//go:build amd64 && !noasm

package kernels

import "unsafe"

//go:noescape
func dwAccS8x64AVX512(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)

//go:noescape
func dwAccU8x64AVX512(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)

//go:noescape
func dwAccF32x64AVX512(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, ep *float32)

//go:noescape
func dwAccS8x16AVX512(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int, mask int)

//go:noescape
func dwAccU8x16AVX512(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int, mask int)

//go:noescape
func dwAccF32x16AVX512(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, mask int, ep *float32)

//go:noescape
func dwAccF32x64AVX2(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, ep *float32)

//go:noescape
func dwAccF32x16AVX2(acc *float32, accStride int, src *float32, step int, off *int, ntaps int, w *float32, init *float32, npix int, mask *int32, ep *float32)

// dwVecAvailable reports whether the depthwise interior loops can run.
func dwVecAvailable() bool { return hasAVX512 }

// dwF32AVX512 selects the AVX-512 float loops; without it (and with
// AVX2) the float plan runs on dwAccF32x*AVX2 (depthwise_f32_avx2_amd64.s),
// which give the same bits. Tests turn it off to run the AVX2 forms.
var dwF32AVX512 = hasAVX512

// dwVecF32Available reports whether the float interior loops can run:
// with AVX-512 or AVX2 (the integer kinds need AVX-512).
func dwVecF32Available() bool { return hasAVX512 || hasAVX2 }

// accI32 runs the integer interior loops of npix pixels: acc (row stride
// v.c) gets pixel p's accumulators at acc[p·v.c:], reading the pixel's
// window at src[base + p·step …] (bytes of int8 when v.kind is dwS8,
// uint8 when dwU8). The caller (dwVec.rowI32) has checked the bounds.
func (v *dwVec) accI32(acc []int32, src []byte, base, step, npix int) {
	for _, b := range v.blocks {
		a, s := &acc[b.c0], (*byte)(unsafe.Add(unsafe.Pointer(&src[0]), base+b.c0))
		w, in := &v.wI[b.w], &v.initI[b.init]
		switch {
		case b.n == 64 && v.kind == dwS8:
			dwAccS8x64AVX512(a, 4*v.c, s, step, &v.off[0], len(v.off), w, in, npix)
		case b.n == 64:
			dwAccU8x64AVX512(a, 4*v.c, s, step, &v.off[0], len(v.off), w, in, npix)
		case v.kind == dwS8:
			dwAccS8x16AVX512(a, 4*v.c, s, step, &v.off[0], len(v.off), w, in, npix, 1<<b.n-1)
		default:
			dwAccU8x16AVX512(a, 4*v.c, s, step, &v.off[0], len(v.off), w, in, npix, 1<<b.n-1)
		}
	}
}

// accF32 is accI32 for float32 (base and step in elements), with the
// layer's bias and clamp applied.
func (v *dwVec) accF32(acc []float32, src []float32, base, step, npix int) {
	for _, b := range v.blocks {
		a, s := &acc[b.c0], (*float32)(unsafe.Add(unsafe.Pointer(&src[0]), 4*(base+b.c0)))
		w, in, ep := &v.wF[b.w], &v.initF[b.init], &v.epF[b.ep]
		switch {
		case !dwF32AVX512 && b.n == 64:
			dwAccF32x64AVX2(a, 4*v.c, s, 4*step, &v.off[0], len(v.off), w, in, npix, ep)
			continue
		case !dwF32AVX512:
			dwAccF32x16AVX2(a, 4*v.c, s, 4*step, &v.off[0], len(v.off), w, in, npix, &dwLaneMasks[16-b.n], ep)
			continue
		}
		if b.n == 64 {
			dwAccF32x64AVX512(a, 4*v.c, s, 4*step, &v.off[0], len(v.off), w, in, npix, ep)
		} else {
			dwAccF32x16AVX512(a, 4*v.c, s, 4*step, &v.off[0], len(v.off), w, in, npix, 1<<b.n-1, ep)
		}
	}
}

// dwLaneMasks[16−n:] is the lane mask of an n-lane block (1 ≤ n ≤ 16):
// n lanes of all ones, then zeros.
var dwLaneMasks = [32]int32{
	-1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
}

// accPacked runs groups of v.packP pixels as 64-lane pixels (see
// dwVec.packP): group q's accumulators at acc[q·64:], its windows at
// src[base + q·64 …]. The caller (dwVec.rowI32) has checked the bounds.
func (v *dwVec) accPacked(acc []int32, src []byte, base, groups int) {
	s := (*byte)(unsafe.Add(unsafe.Pointer(&src[0]), base))
	if v.kind == dwS8 {
		dwAccS8x64AVX512(&acc[0], 4*64, s, 64, &v.off[0], len(v.off), &v.packW[0], &v.packInit[0], groups)
		return
	}
	dwAccU8x64AVX512(&acc[0], 4*64, s, 64, &v.off[0], len(v.off), &v.packW[0], &v.packInit[0], groups)
}
