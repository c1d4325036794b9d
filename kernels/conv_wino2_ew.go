package kernels

// The element-wise transforms of the exact int8 2-D Winograd F(4×4, 3×3)
// (conv_wino2_s8.go; the scheme is conv_wino_s8.go's 1-D one applied to
// rows as well as columns). Columns (x) are transformed by winoInS8 and
// wino2OutX, rows (y) by wino2InY and wino2OutY:
//
//   - filters U = G7·w·G24ᵀ with G = D·G7, D = diag(1/24, 1/6, 1/6, 1/24,
//     1/24, 1/6): G7 is integer with rows' absolute sums ≤ 7, G24 = 24·G is
//     conv_wino_s8.go's winoG24, so |U| ≤ 7·24·128 fits int16;
//   - inputs V = Bᵀ·(winoInS8's x-transformed rows): |V| ≤ 10·1280 fits
//     int16, as does every intermediate of the factoring below;
//   - products M = Σ_c U·V in int32 (wrapping), then rows by
//     AT24 = 24·Aᵀ·D = Aᵀ·diag(1,4,4,1,1,4) and columns by Aᵀ, which
//     gives 576·Σ x·w mod 2³²: the true value whenever it fits int32
//     (the plan checks Σ|w| ≤ 29127 per output channel: 576·128·Σ|w| <
//     2³¹), so the division by 576 = 2⁶·9 is exact (a shift by 6, then a
//     multiply by 9's inverse mod 2³²).
//
// Each transform is a vector part for the bulk (conv_wino2_ew_amd64.go)
// and the plain-Go loop below for the rest and for builds without it;
// both do the same wrapping integer arithmetic, so they agree bit for bit.

// wino2InY transforms n columns of six int16 rows: with d_r =
// src[r·srcStride + i] (r = 0..5), dst[η·dstStride + i] = (Bᵀ·d)[η] for
// η = 0..5 and i < n, wrapping in int16 (inputs inside the scheme's
// bounds never wrap). dst may be src itself (same strides), but rows of
// one slice must not overlap other rows of it.
func wino2InY(dst []int16, dstStride int, src []int16, srcStride int, n int) {
	if n <= 0 {
		return
	}
	_ = dst[5*dstStride+n-1]
	_ = src[5*srcStride+n-1]
	i := wino2InYVec(dst, dstStride, src, srcStride, n)
	if i < n {
		wino2InYGo(dst, dstStride, src, srcStride, i, n)
	}
}

// wino2InYGo is wino2InY's plain-Go loop for columns i0..n−1, with
// winoInS8Go's factoring of Bᵀ.
func wino2InYGo(dst []int16, dstStride int, src []int16, srcStride int, i0, n int) {
	for i := i0; i < n; i++ {
		d0, d1, d2 := src[i], src[srcStride+i], src[2*srcStride+i]
		d3, d4, d5 := src[3*srcStride+i], src[4*srcStride+i], src[5*srcStride+i]
		t0, t1 := d4-4*d2, d3-4*d1
		t2, t3 := d4-d2, 2*(d3-d1)
		dst[i] = 4*d0 - 5*d2 + d4
		dst[dstStride+i] = t0 + t1
		dst[2*dstStride+i] = t0 - t1
		dst[3*dstStride+i] = t2 + t3
		dst[4*dstStride+i] = t2 - t3
		dst[5*dstStride+i] = 4*d1 - 5*d3 + d5
	}
}

// wino2OutY transforms n columns of six int32 product rows into four:
// with m_η = src[η·srcStride + i] (η = 0..5), dst[r·dstStride + i] =
// (AT24·m)[r] for r = 0..3 and i < n, wrapping in int32 (the exactness
// argument is modular). dst may be src itself (same strides), but rows
// of one slice must not overlap other rows of it.
func wino2OutY(dst []int32, dstStride int, src []int32, srcStride int, n int) {
	if n <= 0 {
		return
	}
	_ = dst[3*dstStride+n-1]
	_ = src[5*srcStride+n-1]
	i := wino2OutYVec(dst, dstStride, src, srcStride, n)
	if i < n {
		wino2OutYGo(dst, dstStride, src, srcStride, i, n)
	}
}

// wino2OutYGo is wino2OutY's plain-Go loop for columns i0..n−1:
// AT24 = [[1,4,4,1,1,0],[0,4,−4,2,−2,0],[0,4,4,4,4,0],[0,4,−4,8,−8,4]].
func wino2OutYGo(dst []int32, dstStride int, src []int32, srcStride int, i0, n int) {
	for i := i0; i < n; i++ {
		m0, m1, m2 := src[i], src[srcStride+i], src[2*srcStride+i]
		m3, m4, m5 := src[3*srcStride+i], src[4*srcStride+i], src[5*srcStride+i]
		dst[i], dst[dstStride+i], dst[2*dstStride+i], dst[3*dstStride+i] = wino2AT24(m0, m1, m2, m3, m4, m5)
	}
}

// wino2AT24 is AT24·m for one column m0..m5, wrapping in int32.
func wino2AT24(m0, m1, m2, m3, m4, m5 int32) (r0, r1, r2, r3 int32) {
	a, b, c, d := m1+m2, m1-m2, m3+m4, m3-m4
	return m0 + 4*a + c, 4*b + 2*d, 4*a + 4*c, 4*b + 8*d + 4*m5
}

// wino2OutX is winoOutS8 for the 2-D scheme: it turns one output row's
// y-transformed products (tile tx's column product ξ at src[ξ·plane +
// tx·N + c]) into the accumulators Σ w·(x − zp) of its outW pixels of N
// channels at dst: Aᵀ·t = 576·Σ w·x (mod 2³²), divided exactly by 576,
// plus corr = −zp·Σw.
func wino2OutX(dst, src []int32, plane, tiles, outW, N int, corr []int32) {
	winoOutRow(dst, src, plane, tiles, outW, N, corr, true)
}

// wino2OutXGo is wino2OutX's plain-Go loop for tiles t0..t1−1 (w pixels
// each, w < 4 only for the last) and channels c0..N−1.
func wino2OutXGo(dst, src []int32, plane, t0, t1, w, N int, corr []int32, c0 int) {
	winoOutGo(dst, src, plane, t0, t1, w, N, corr, c0, true)
}

// inv9 is 9's multiplicative inverse mod 2³² (9·0x38E38E39 = 2³³ + 1).
const inv9 = 0x38E38E39

// div576 divides a multiple of 576 = 2⁶·9 by 576 exactly (wrapping int32).
func div576(y int32) int32 { return (y >> 6) * inv9 }
