package kernels

// Plain-Go stand-ins for the 2-D Winograd transforms (contract in
// conv_wino2_s8.go's plan); the vector forms and their references replace
// this file (conv_wino2_ew.go).

// wino2InY: for i < n, with d_r = src[r·srcStride + i] (r = 0..5),
// dst[η·dstStride + i] = (Bᵀ·d)[η], η = 0..5 (int16, wrapping).
func wino2InY(dst []int16, dstStride int, src []int16, srcStride int, n int) {
	if n <= 0 {
		return
	}
	_ = dst[5*dstStride+n-1]
	_ = src[5*srcStride+n-1]
	for i := range n {
		d0, d1, d2, d3, d4, d5 := src[i], src[srcStride+i], src[2*srcStride+i], src[3*srcStride+i], src[4*srcStride+i], src[5*srcStride+i]
		dst[i] = 4*d0 - 5*d2 + d4
		dst[5*dstStride+i] = 4*d1 - 5*d3 + d5
		t0, t1 := d4-4*d2, d3-4*d1
		dst[dstStride+i] = t0 + t1
		dst[2*dstStride+i] = t0 - t1
		t2, t3 := d4-d2, 2*(d3-d1)
		dst[3*dstStride+i] = t2 + t3
		dst[4*dstStride+i] = t2 - t3
	}
}

// wino2OutY: for i < n, with m_η = src[η·srcStride + i] (η = 0..5),
// dst[r·dstStride + i] = (AT24·m)[r], r = 0..3 (int32, wrapping).
func wino2OutY(dst []int32, dstStride int, src []int32, srcStride int, n int) {
	if n <= 0 {
		return
	}
	_ = dst[3*dstStride+n-1]
	_ = src[5*srcStride+n-1]
	for i := range n {
		m0, m1, m2, m3, m4, m5 := src[i], src[srcStride+i], src[2*srcStride+i], src[3*srcStride+i], src[4*srcStride+i], src[5*srcStride+i]
		a, b, c, d := m1+m2, m1-m2, m3+m4, m3-m4
		dst[i] = 6*m0 + 4*a + c
		dst[dstStride+i] = 4*b + 2*d
		dst[2*dstStride+i] = 4 * (a + c)
		dst[3*dstStride+i] = 4*b + 8*d + 24*m5
	}
}

// wino2OutX is winoOutS8 with the division by 576 instead of 24.
func wino2OutX(dst, src []int32, plane, tiles, outW, N int, corr []int32) {
	_ = src[5*plane+tiles*N-1]
	_ = dst[outW*N-1]
	corr = corr[:N]
	for tx := range tiles {
		w := min(4, outW-4*tx)
		s := src[tx*N:]
		d := dst[4*tx*N : (4*tx+w)*N]
		for c := range N {
			m0, m1, m2, m3, m4, m5 := s[c], s[plane+c], s[2*plane+c], s[3*plane+c], s[4*plane+c], s[5*plane+c]
			a, b, cc, dd := m1+m2, m1-m2, m3+m4, m3-m4
			y := [4]int32{m0 + a + cc, b + 2*dd, a + 4*cc, m5 + b + 8*dd}
			for i := range w {
				d[i*N+c] = (y[i]>>6)*inv9 + corr[c]
			}
		}
	}
}

// inv9 is 9's multiplicative inverse mod 2³² (9·0x38E38E39 = 2³³ + 1).
const inv9 = 0x38E38E39
