//go:build amd64 && !noasm

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasAVX512 gates the AVX-512 loops; it is fixed at start-up (cpu feature
// detection, including the OS saving the zmm state), so it is not mutable
// state in any meaningful sense.
var hasAVX512 = cpu.X86.HasAVX512F

// hasVBMI gates the byte-permute table lookup (VPERMI2B).
var hasVBMI = hasAVX512BW && cpu.X86.HasAVX512VBMI

// hasAVX2 gates the ymm forms of the pool and QUANTIZE loops, used when
// the AVX-512 ones are not (the brief's AVX2+FMA level, as package gemm).
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA

// hasAVX512BW gates the byte and word loops (VPMAXSB, masked byte moves).
var hasAVX512BW = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW

// max2x2F32AVX512 is max2x2Float over npix pixels of C channels on
// order-preserving integer keys (l, h: the clamp bounds' keys). It stops
// at the first pixel holding a NaN, which it may have partly written, and
// returns the number of pixels completed before it.
//
//go:noescape
func max2x2F32AVX512(o, a, b *float32, npix, C int, l, h int32) int

// max2x2I8AVX512 writes clamp(max) of 2×2 windows for npix output pixels
// of cb bytes (C int8 channels): o gets npix·cb bytes, a and b (the two
// input rows) 2·npix·cb each.
//
//go:noescape
func max2x2I8AVX512(o, a, b *int8, npix, cb int, lo, hi int8)

// max2x2I16AVX512 is max2x2I8AVX512 for int16 channels (cb = 2·C).
//
//go:noescape
func max2x2I16AVX512(o, a, b *int16, npix, cb int, lo, hi int16)

// lookup8AVX512 sets ys[i] = t[xs[i]] for n bytes.
//
//go:noescape
func lookup8AVX512(t *[256]uint8, xs, ys *byte, n int)

// quantizeI8XNNAVX512 is fixedpoint.FP32Quantize on whole blocks of 16
// values (n a multiple of 16); it stops before the first block with a NaN
// or a product of magnitude 2^30 or more, which the Go loop handles.
//
//go:noescape
func quantizeI8XNNAVX512(xs *float32, ys *int8, n int, inv float32, zp, lo, hi int32) int

// quantizeXNNVec is quantizeI8Vec for XNNPACK's conversion
// (fixedpoint.FP32Quantize with invScale inv): the longest prefix, a
// multiple of 16 values, the AVX-512 loop accepts.
func quantizeXNNVec(inv float32, zp, lo, hi int32, xs []float32, ys []int8) int {
	// The wide loops take zp, lo and hi as int16 and int8 (int8 outputs
	// have them in range; anything else stays on the 16-value loop).
	wide := zp >= -128 && zp <= 127 && lo >= -128 && hi <= 127 && lo <= hi
	if !hasAVX512 {
		if !wide {
			return 0
		}
		// quantizeI8XNN32AVX2 (generated, quantize_xnn_amd64.s).
		n := len(xs) &^ 31
		if !hasAVX2 || n == 0 {
			return 0
		}
		_ = ys[n-1]
		return quantizeI8XNN32AVX2(&xs[0], &ys[0], n, inv, int16(zp), int8(lo), int8(hi))
	}
	// 64 values a step (generated), then the 16-value loop on the rest.
	done := 0
	if n := len(xs) &^ 63; n > 0 && hasAVX512BW && wide {
		_ = ys[n-1]
		if done = quantizeI8XNN64AVX512(&xs[0], &ys[0], n, inv, int16(zp), int8(lo), int8(hi)); done < n {
			return done
		}
	}
	n := (len(xs) - done) &^ 15
	if n == 0 {
		return done
	}
	_ = ys[done+n-1]
	return done + quantizeI8XNNAVX512(&xs[done], &ys[done], n, inv, zp, lo, hi)
}

// quantizeI8AVX512 quantizes whole blocks of 16 values of xs into ys (n
// values, n a multiple of 16) and returns how many it did: it stops before
// the first block whose quotient x/scale is NaN, infinite or of magnitude
// 2^30 or more, which the Go loop handles.
//
//go:noescape
func quantizeI8AVX512(xs *float32, ys *int8, n int, scale float32, zp, lo, hi int32) int

// max2x2F32AVX2 is max2x2F32AVX512 on ymm registers.
//
//go:noescape
func max2x2F32AVX2(o, a, b *float32, npix, C int, l, h int32) int

// max2x2I8AVX2 is max2x2I8AVX512 on ymm registers; cb must be ≥ 16.
//
//go:noescape
func max2x2I8AVX2(o, a, b *int8, npix, cb int, lo, hi int8)

// max2x2I16AVX2 is max2x2I16AVX512 on ymm registers; cb must be ≥ 16.
//
//go:noescape
func max2x2I16AVX2(o, a, b *int16, npix, cb int, lo, hi int16)

// quantizeI8AVX2 is quantizeI8AVX512 on blocks of 8 values (n a
// multiple of 8).
//
//go:noescape
func quantizeI8AVX2(xs *float32, ys *int8, n int, scale float32, zp, lo, hi int32) int

// max2x2F32Vec runs the vector loop when available; see max2x2F32AVX512.
func max2x2F32Vec(o, a, b []float32, C, npix int, l, h int32) int {
	if !(hasAVX512 || hasAVX2) || npix == 0 || C == 0 {
		return 0
	}
	_, _, _ = o[npix*C-1], a[2*npix*C-1], b[2*npix*C-1]
	if !hasAVX512 {
		return max2x2F32AVX2(&o[0], &a[0], &b[0], npix, C, l, h)
	}
	return max2x2F32AVX512(&o[0], &a[0], &b[0], npix, C, l, h)
}

// max2x2IntVec runs the integer vector loop over all npix pixels of C
// channels when available and reports whether it did.
func max2x2IntVec[T int8 | int16](o, a, b []T, C, npix int, lo, hi T) bool {
	if !hasAVX512BW {
		return max2x2IntAVX2(o, a, b, C, npix, lo, hi)
	}
	if npix == 0 || C == 0 {
		return true
	}
	_, _, _ = o[npix*C-1], a[2*npix*C-1], b[2*npix*C-1]
	switch o := any(o).(type) {
	case []int8:
		a, b := any(a).([]int8), any(b).([]int8)
		max2x2I8AVX512(&o[0], &a[0], &b[0], npix, C, int8(lo), int8(hi))
	case []int16:
		a, b := any(a).([]int16), any(b).([]int16)
		max2x2I16AVX512(&o[0], &a[0], &b[0], npix, 2*C, int16(lo), int16(hi))
	}
	return true
}

// max2x2IntAVX2 is max2x2IntVec's AVX2 form: pixels of fewer than 16
// bytes (which the ymm loop cannot cover without byte masks) stay on the
// Go loop.
func max2x2IntAVX2[T int8 | int16](o, a, b []T, C, npix int, lo, hi T) bool {
	cb := C * int(unsafe.Sizeof(lo))
	if !hasAVX2 || cb < 16 {
		return false
	}
	if npix == 0 {
		return true
	}
	_, _, _ = o[npix*C-1], a[2*npix*C-1], b[2*npix*C-1]
	switch o := any(o).(type) {
	case []int8:
		a, b := any(a).([]int8), any(b).([]int8)
		max2x2I8AVX2(&o[0], &a[0], &b[0], npix, cb, int8(lo), int8(hi))
	case []int16:
		a, b := any(a).([]int16), any(b).([]int16)
		max2x2I16AVX2(&o[0], &a[0], &b[0], npix, cb, int16(lo), int16(hi))
	}
	return true
}

// quantizeI8Vec quantizes the longest prefix of xs the vector loop
// accepts (a multiple of 16 values with AVX-512, of 8 with AVX2) and
// returns its length.
func quantizeI8Vec(c *quantizer, xs []float32, ys []int8) int {
	if hasAVX512 {
		n := len(xs) &^ 15
		if n == 0 {
			return 0
		}
		_ = ys[n-1]
		return quantizeI8AVX512(&xs[0], &ys[0], n, c.scale, c.zp, c.lo, c.hi)
	}
	n := len(xs) &^ 7
	if !hasAVX2 || n == 0 {
		return 0
	}
	_ = ys[n-1]
	return quantizeI8AVX2(&xs[0], &ys[0], n, c.scale, c.zp, c.lo, c.hi)
}

// hasLUT8W gates lookup8AVX512W, the byte lookup by word permutes for
// AVX-512BW CPUs without VBMI (its tail mask uses BMI2's SHLX).
var hasLUT8W = hasAVX512BW && cpu.X86.HasBMI2

// lookup8Vec maps all of xs through t into ys (the same length) with the
// vector loop when available — VPERMI2B with VBMI, else VPERMI2W with
// AVX-512BW — and reports whether it did.
func lookup8Vec[X, Y ~int8 | ~uint8](t *[256]uint8, xs []X, ys []Y) bool {
	if !hasVBMI && !hasLUT8W {
		return false
	}
	if len(xs) == 0 {
		return true
	}
	_ = ys[len(xs)-1]
	// X and Y are one byte each: the loops read and write raw bytes.
	x, y := (*byte)(unsafe.Pointer(&xs[0])), (*byte)(unsafe.Pointer(&ys[0]))
	if hasVBMI {
		lookup8AVX512(t, x, y, len(xs))
	} else {
		lookup8AVX512W(t, x, y, len(xs))
	}
	return true
}
