//go:build amd64 && !noasm

package kernels

import "math"

//go:noescape
func hybridRangeAVX512(x *float32, n int) (lo float32, hi float32, bits uint32)

//go:noescape
func hybridQuantAVX512(xs *float32, ys *int8, n int, inv float32, zp float32, lo int32, hi int32)

//go:noescape
func hybridOutAVX512(dst *float32, acc *int32, rows int, n int, off *int32, sc *float32, bias *float32, lo float32, hi float32)

// hybridRangeVec returns the minimum and maximum of x and reports true
// when the vector loop ran and found every value finite; otherwise the
// caller runs the Go reference (which defines what NaNs and infinities
// do).
func hybridRangeVec(x []float32) (lo, hi float32, ok bool) {
	n := len(x) &^ 15
	if !hasAVX512 || n == 0 {
		return 0, 0, false
	}
	lo, hi, bits := hybridRangeAVX512(&x[0], n)
	if bits >= 0x7F800000 {
		return 0, 0, false
	}
	for _, v := range x[n:] {
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
	if !hasAVX512 || len(x) == 0 {
		return false
	}
	_ = dst[len(x)-1]
	hybridQuantAVX512(&x[0], &dst[0], len(x), inv, zp, lo, hi)
	return true
}

// hybridOutVec is hybridEpilogue's vector loop over rows rows of
// len(sc) outputs; it reports whether it ran.
func hybridOutVec(dst []float32, acc []int32, rows int, off []int32, sc, bias []float32, lo, hi float32) bool {
	n := len(sc)
	if !hasAVX512 || rows == 0 || n == 0 {
		return false
	}
	_, _, _ = dst[rows*n-1], acc[rows*n-1], off[n-1]
	_ = bias[n-1]
	hybridOutAVX512(&dst[0], &acc[0], rows, n, &off[0], &sc[0], &bias[0], lo, hi)
	return true
}
