package kernels

import (
	"math/rand/v2"
	"testing"
)

// wino2Odd is a column count 1..70 that is not a multiple of 8 (so never
// of 16 either): the vector parts always leave a tail to the Go loops.
func wino2Odd(r *rand.Rand) int {
	for {
		if n := 1 + r.IntN(70); n%8 != 0 {
			return n
		}
	}
}

// randI16 is n int16 values uniform in [−lim, lim] (lim ≤ 32767), or
// over all of int16 when lim is 0.
func randI16(r *rand.Rand, n, lim int) []int16 {
	v := make([]int16, n)
	for i := range v {
		if lim == 0 {
			v[i] = int16(r.Uint32())
		} else {
			v[i] = int16(r.IntN(2*lim+1) - lim)
		}
	}
	return v
}

// randI32 is n int32 values uniform in [−lim, lim], or over all of int32
// when lim is 0.
func randI32(r *rand.Rand, n int, lim int64) []int32 {
	v := make([]int32, n)
	for i := range v {
		if lim == 0 {
			v[i] = int32(r.Uint32())
		} else {
			v[i] = int32(r.Int64N(2*lim+1) - lim)
		}
	}
	return v
}

// wino2Sizes is a trial's column count n (odd every other trial, else a
// multiple of 16 or 32 the vector parts do whole) and row strides ≥ n.
func wino2Sizes(r *rand.Rand, iter int) (n, dstStride, srcStride int) {
	n = wino2Odd(r)
	if iter%2 == 1 {
		n = 16 * (1 + r.IntN(12))
	}
	return n, n + r.IntN(3)*r.IntN(40), n + r.IntN(3)*r.IntN(40)
}

// TestWino2InY checks wino2InY (vector part and Go tail, as this CPU
// and build select them) against wino2InYGo: inputs within the scheme's
// bound (|x-transformed| ≤ 1280) and over all of int16 (wrapping), odd
// and whole-vector column counts, strides above n, slack around the rows
// that must stay untouched, and in place.
func TestWino2InY(t *testing.T) {
	r := rand.New(rand.NewPCG(91, 92))
	for iter := range 400 {
		n, ds, ss := wino2Sizes(r, iter)
		lim := []int{1280, 0}[(iter/2)%2]
		src := randI16(r, 5*ss+n+7, lim)
		got := randI16(r, 5*ds+n+7, 0)
		want := append([]int16(nil), got...)
		wino2InY(got, ds, src, ss, n)
		wino2InYGo(want, ds, src, ss, 0, n)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("iter %d (n=%d strides %d, %d): element %d = %d, want %d", iter, n, ds, ss, i, got[i], want[i])
			}
		}
		if lim != 0 {
			// Inside the bound nothing wraps: |Bᵀ·d| ≤ 10·1280.
			for eta := range 6 {
				for _, v := range want[eta*ds : eta*ds+n] {
					if v > 12800 || v < -12800 {
						t.Fatalf("iter %d: |%d| is past the bound 12800", iter, v)
					}
				}
			}
		}
		inPlace := append([]int16(nil), src...)
		wino2InY(inPlace, ss, inPlace, ss, n)
		ref := append([]int16(nil), src...)
		wino2InYGo(ref, ss, ref, ss, 0, n)
		for i := range inPlace {
			if inPlace[i] != ref[i] {
				t.Fatalf("iter %d in place (n=%d stride %d): element %d = %d, want %d", iter, n, ss, i, inPlace[i], ref[i])
			}
		}
	}
}

// TestWino2OutY is TestWino2InY for wino2OutY: products within the
// scheme's pair-sum bound and over all of int32.
func TestWino2OutY(t *testing.T) {
	r := rand.New(rand.NewPCG(93, 94))
	for iter := range 400 {
		n, ds, ss := wino2Sizes(r, iter)
		lim := []int64{2 * 12800 * 21336, 0}[(iter/2)%2]
		src := randI32(r, 5*ss+n+7, lim)
		got := randI32(r, 3*ds+n+7, 0)
		want := append([]int32(nil), got...)
		wino2OutY(got, ds, src, ss, n)
		wino2OutYGo(want, ds, src, ss, 0, n)
		for i := range got {
			if got[i] != want[i] {
				t.Fatalf("iter %d (n=%d strides %d, %d): element %d = %d, want %d", iter, n, ds, ss, i, got[i], want[i])
			}
		}
		inPlace := append([]int32(nil), src...)
		wino2OutY(inPlace, ss, inPlace, ss, n)
		ref := append([]int32(nil), src...)
		wino2OutYGo(ref, ss, ref, ss, 0, n)
		for i := range inPlace {
			if inPlace[i] != ref[i] {
				t.Fatalf("iter %d in place (n=%d stride %d): element %d = %d, want %d", iter, n, ss, i, inPlace[i], ref[i])
			}
		}
	}
}

// TestWino2OutX checks wino2OutX against wino2OutXGo on products over all
// of int32 (the transform wraps): channel counts N not multiples of 8
// and above 64 (the vector tail's chunk), partial last tiles (outW % 4 ≠
// 0), plane strides with slack.
func TestWino2OutX(t *testing.T) {
	r := rand.New(rand.NewPCG(95, 96))
	for iter := range 300 {
		N := wino2Odd(r)
		switch iter % 4 {
		case 0:
			N = 8 * (1 + r.IntN(8))
		case 1: // more than one 64-channel chunk of the vector tail
			N = 1 + r.IntN(200)
		}
		tiles := 1 + r.IntN(6)
		outW := 4*tiles - r.IntN(4)
		plane := tiles*N + r.IntN(20)
		m := randI32(r, 6*plane, 0)
		corr := randI32(r, N, 0)
		acc := randI32(r, outW*N, 0)
		ref := append([]int32(nil), acc...)
		wino2OutX(acc, m, plane, tiles, outW, N, corr)
		wino2OutXGo(ref, m, plane, 0, outW/4, 4, N, corr, 0)
		if outW%4 != 0 {
			wino2OutXGo(ref, m, plane, outW/4, tiles, outW%4, N, corr, 0)
		}
		for i := range acc {
			if acc[i] != ref[i] {
				t.Fatalf("iter %d (N=%d tiles=%d outW=%d): element %d = %d, want %d", iter, N, tiles, outW, i, acc[i], ref[i])
			}
		}
	}
}

// TestDiv576 checks the exact division on multiples of 576 across int32.
func TestDiv576(t *testing.T) {
	r := rand.New(rand.NewPCG(97, 98))
	const lo, hi = -(1 << 31) / 576, (1<<31 - 1) / 576
	for range 100000 {
		q := int32(lo + r.Int64N(hi-lo+1))
		if got := div576(576 * q); got != q {
			t.Fatalf("div576(%d) = %d, want %d", 576*q, got, q)
		}
	}
	for _, q := range []int32{0, 1, -1, lo, hi} {
		if got := div576(576 * q); got != q {
			t.Fatalf("div576(%d) = %d, want %d", 576*q, got, q)
		}
	}
}

// wino2G7 is D⁻¹·G, D = diag(1/24, 1/6, 1/6, 1/24, 1/24, 1/6) (the 2-D
// scheme's row filter transform; wino2OutY's AT24 carries D), written
// out rather than taken from the plan's winoG7 so a change there shows.
var wino2G7 = [6][3]int32{{6, 0, 0}, {-1, -1, -1}, {-1, 1, -1}, {1, 2, 4}, {1, -2, 4}, {0, 0, 6}}

// TestWino2Chain runs one 4×4 output tile of the 2-D scheme end to end
// with this file's transforms and compares it with the direct 3×3
// correlation Σ w·(x − zp) — the check of the scheme's algebra that does
// not depend on the plan: a random 6×6 patch of C channels → winoInS8 per
// row (x) → wino2InY per column plane (y) → 36 scalar products with
// U = G7·w·G24ᵀ (int16) → wino2OutY (y) → wino2OutX (x, ÷576, + corr).
// Weights run to the plan's bound Σ|w| ≤ 29127 per output channel (up to
// 25 channels of ±128), including all-extreme patches.
func TestWino2Chain(t *testing.T) {
	r := rand.New(rand.NewPCG(99, 100))
	for iter := range 120 {
		C, N := 1+r.IntN(25), 1+r.IntN(40)
		if iter%5 == 0 {
			C, N = 25, 16+r.IntN(3)
		}
		zp := int32(r.IntN(256) - 128)
		x := randI8(r, 36*C, 256)  // [y][x][c]
		w := randI8(r, N*9*C, 256) // [o][ky][kx][c]
		switch iter % 6 {
		case 1: // extremes: every input and weight at an end of int8
			xv, wv := []int8{-128, 127}[r.IntN(2)], []int8{-128, 127}[r.IntN(2)]
			for i := range x {
				x[i] = xv
			}
			for i := range w {
				w[i] = wv
			}
			zp = []int32{-128, 127}[r.IntN(2)]
		case 3: // alternating signs, so the transforms' partial sums peak
			for i := range w {
				w[i] = int8(127 - 255*(i%2))
			}
			for i := range x {
				x[i] = int8(127 - 255*((i/C)%2))
			}
		}
		var sumAbs int
		for o := range N {
			s := 0
			for _, v := range w[o*9*C : (o+1)*9*C] {
				s += max(int(v), -int(v))
			}
			sumAbs = max(sumAbs, s)
		}
		if sumAbs > 29127 {
			t.Fatalf("iter %d: Σ|w| = %d is past the scheme's bound", iter, sumAbs)
		}
		// x-transform: v1[ξ][row][c].
		v1 := make([]int16, 36*C)
		for row := range 6 {
			winoInS8(v1[row*C:], 6*C, x[row*6*C:(row+1)*6*C], 1, C)
		}
		// y-transform: v[ξ][η][c].
		v := make([]int16, 36*C)
		for xi := range 6 {
			wino2InY(v[xi*6*C:], C, v1[xi*6*C:], C, C)
		}
		// Products m[ξ][η][o] = Σ_c v·U, U[η][ξ] = Σ G7[η][ky]·G24[ξ][kx]·w.
		m := make([]int32, 36*N)
		for xi := range 6 {
			for eta := range 6 {
				for o := range N {
					var acc int32
					for c := range C {
						var u int32
						for ky := range 3 {
							for kx := range 3 {
								u += wino2G7[eta][ky] * winoG24[xi][kx] * int32(w[((o*3+ky)*3+kx)*C+c])
							}
						}
						if u != int32(int16(u)) {
							t.Fatalf("iter %d: U = %d does not fit int16", iter, u)
						}
						acc += int32(v[(xi*6+eta)*C+c]) * u
					}
					m[(xi*6+eta)*N+o] = acc
				}
			}
		}
		// y output transform: t[ξ][r][o]; then x per output row r.
		tt := make([]int32, 24*N)
		for xi := range 6 {
			wino2OutY(tt[xi*4*N:], N, m[xi*6*N:], N, N)
		}
		corr := make([]int32, N)
		for o := range N {
			var s int32
			for _, wv := range w[o*9*C : (o+1)*9*C] {
				s += int32(wv)
			}
			corr[o] = -zp * s
		}
		got := make([]int32, 16*N)
		for row := range 4 {
			wino2OutX(got[row*4*N:(row+1)*4*N], tt[row*N:], 4*N, 1, 4, N, corr)
		}
		for row := range 4 {
			for px := range 4 {
				for o := range N {
					var want int32
					for ky := range 3 {
						for kx := range 3 {
							for c := range C {
								want += int32(w[((o*3+ky)*3+kx)*C+c]) * (int32(x[((row+ky)*6+px+kx)*C+c]) - zp)
							}
						}
					}
					if g := got[(row*4+px)*N+o]; g != want {
						t.Fatalf("iter %d (C=%d N=%d zp=%d): output (%d,%d) channel %d = %d, want %d", iter, C, N, zp, row, px, o, g, want)
					}
				}
			}
		}
	}
}
