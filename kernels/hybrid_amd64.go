//go:build amd64 && !noasm

package kernels

import "math"

//go:noescape
func hybridRangeAVX512(x *float32, n int) (lo float32, hi float32, bits uint32)

//go:noescape
func hybridQuantAVX512(xs *float32, ys *int8, n int, inv float32, zp float32, lo int32, hi int32)

//go:noescape
func hybridOutAVX512(dst *float32, acc *int32, rows int, n int, off *int32, sc *float32, bias *float32, lo float32, hi float32)

// hybridAVX512 selects the AVX-512 loops; without it the AVX2 ones
// (f32_avx2_amd64.s) run where the CPU has AVX2. Tests turn it off to
// run the AVX2 loops on an AVX-512 machine.
var hybridAVX512 = hasAVX512

// hybridRangeVec returns the minimum and maximum of x and reports true
// when the vector loop ran and found every value finite; otherwise the
// caller runs the Go reference (which defines what NaNs and infinities
// do).
func hybridRangeVec(x []float32) (lo, hi float32, ok bool) {
	var bits uint32
	switch n := len(x); {
	case hybridAVX512 && n >= 16:
		n &^= 15
		lo, hi, bits = hybridRangeAVX512(&x[0], n)
		x = x[n:]
	case !hybridAVX512 && hasAVX2 && n >= 8:
		n &^= 7
		lo, hi, bits = hybridRangeAVX2(&x[0], n)
		x = x[n:]
	default:
		return 0, 0, false
	}
	if bits >= 0x7F800000 {
		return 0, 0, false
	}
	for _, v := range x {
		if v != v || v > math.MaxFloat32 || v < -math.MaxFloat32 {
			return 0, 0, false
		}
		lo, hi = min(lo, v), max(hi, v)
	}
	return lo, hi, true
}

// hybridQuantVec writes clamp(round½away(zp + x·inv), lo, hi) of every x
// into dst and reports whether it ran; the caller guarantees
// |zp + x·inv| ≤ 512 for every x.
func hybridQuantVec(dst []int8, x []float32, inv, zp float32, lo, hi int32) bool {
	if len(x) == 0 {
		return false
	}
	_ = dst[len(x)-1]
	if hybridAVX512 {
		hybridQuantAVX512(&x[0], &dst[0], len(x), inv, zp, lo, hi)
		return true
	}
	if !hasAVX2 {
		return false
	}
	n := len(x) &^ 7
	if n > 0 {
		hybridQuantAVX2(&x[0], &dst[0], n, inv, zp, lo, hi)
	}
	for i, v := range x[n:] {
		// The loop's arithmetic: the product rounded, then the sum.
		q := roundHalfAway32(zp + float32(v*inv))
		dst[n+i] = int8(min(max(q, float32(lo)), float32(hi)))
	}
	return true
}

// hybridOutVec is hybridEpilogue's vector loop over rows rows of
// len(sc) outputs; it reports whether it ran.
func hybridOutVec(dst []float32, acc []int32, rows int, off []int32, sc, bias []float32, lo, hi float32) bool {
	n := len(sc)
	if rows == 0 || n == 0 {
		return false
	}
	_, _, _ = dst[rows*n-1], acc[rows*n-1], off[n-1]
	_ = bias[n-1]
	if hybridAVX512 {
		hybridOutAVX512(&dst[0], &acc[0], rows, n, &off[0], &sc[0], &bias[0], lo, hi)
		return true
	}
	if !hasAVX2 || n < 8 {
		return false
	}
	hybridOutAVX2(&dst[0], &acc[0], rows, n, &off[0], &sc[0], &bias[0], lo, hi)
	if n8 := n &^ 7; n8 < n {
		// The last n mod 8 columns of each row: hybridEpilogueRef's loop.
		for i := 0; i < rows; i++ {
			d, a := dst[i*n:(i+1)*n], acc[i*n:(i+1)*n]
			for j := n8; j < n; j++ {
				v := float32(float32(a[j]-off[j])*sc[j]) + bias[j]
				d[j] = min(max(v, lo), hi)
			}
		}
	}
	return true
}
