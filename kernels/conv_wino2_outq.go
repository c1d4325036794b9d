package kernels

// The 2-D plan's whole output side in one pass (wino2OutQFP32AVX2,
// internal/asmgen/wino8/outq2.go): with the fused FP32 requantization
// the plan keeps all 36 product planes of a block and turns each tile's
// products into int8 outputs directly — Aᵀ along x per row η, AT24
// along y per column, ÷576, + k, requantization — instead of wino2OutY
// into 24 T planes and winoOutQ.row over them: fewer vector operations
// (the kernels' bound) and no T planes through L2. Only on AVX2 CPUs
// without AVX-512 (wino2OutQFused), for images of whole tile rows.

// tileRow2D turns one block tile row's 36 product planes (tile tx's
// product (η, ξ) at src[(6η+ξ)·plane + tx·N + c]) into the int8 outputs
// of its first rows ≤ 4 output rows of outW pixels of N channels, row r
// at dst[r·rowStride:]: wino2OutY into T planes followed by row on each
// output row, bit for bit. The vector kernel writes partial tiles and
// tile rows in place (their missing pixels' offsets repeat the last real
// one's, which the kernel stores last); channels past a multiple of 8 run
// the Go loop.
func (q *winoOutQ) tileRow2D(dst []int8, rowStride, rows int, src []int32, plane, tiles, outW, N int) {
	_ = src[35*plane+tiles*N-1]
	_ = dst[(rows-1)*rowStride+outW*N-1]
	cv := N &^ 7
	if cv > 0 {
		full := outW / 4
		if full > 0 {
			wino2OutQVec(q, dst, rowStride, rows, 4, src, plane, full, N, cv)
		}
		if full < tiles {
			wino2OutQVec(q, dst[4*full*N:], rowStride, rows, outW-4*full, src[full*N:], plane, 1, N, cv)
		}
	}
	if cv < N {
		wino2OutQGo(q, dst, rowStride, rows, src, plane, 0, tiles, outW, N, cv)
	}
}

// wino2OutQGo is tileRow2D's plain-Go loop (and the vector kernel's
// reference) for tiles t0..t1−1 and channels c0..N−1: Aᵀ per row η as
// winoOutQGo, then wino2AT24 per column, div576, + corr and
// requant.apply32 (which adds the bias).
func wino2OutQGo(q *winoOutQ, dst []int8, rowStride, rows int, src []int32, plane, t0, t1, outW, N, c0 int) {
	corr := q.corr[:N]
	for tx := t0; tx < t1; tx++ {
		w := min(4, outW-4*tx)
		for c := c0; c < N; c++ {
			z := wino2TileX(src, plane, tx*N+c)
			for i := range w {
				var y [4]int32
				y[0], y[1], y[2], y[3] = wino2AT24(z[0][i], z[1][i], z[2][i], z[3][i], z[4][i], z[5][i])
				for r := range rows {
					dst[r*rowStride+(4*tx+i)*N+c] = int8(q.rq.apply32(div576(y[r])+corr[c], c))
				}
			}
		}
	}
}

// wino2TileX is Aᵀ along x of each of a tile's six product rows η for one
// channel, the products (η, ξ) at src[(6η+ξ)·plane + at].
func wino2TileX(src []int32, plane, at int) (z [6][4]int32) {
	for eta := range z {
		s := src[6*eta*plane+at:]
		m0, m1, m2, m3, m4, m5 := s[0], s[plane], s[2*plane], s[3*plane], s[4*plane], s[5*plane]
		a, b, cc, dd := m1+m2, m1-m2, m3+m4, m3-m4
		z[eta] = [4]int32{m0 + a + cc, b + 2*dd, a + 4*cc, m5 + b + 8*dd}
	}
	return z
}
