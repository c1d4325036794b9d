//go:build !noasm

package kernels

// Differential tests of the same-shape ADD SIMD loops, called through
// addXNNVecOn and addF32VecOn with the CPU features forced (so the AVX2
// loops run on an AVX-512 machine too) against addXNNSame's and the
// float Go loop, with guard elements past every output.

import (
	"math"
	"math/rand/v2"
	"testing"
)

// addVecPaths are the feature sets the machine can run.
func addVecPaths(t *testing.T) []struct{ avx512, avx2 bool } {
	var p []struct{ avx512, avx2 bool }
	if hasAVX2 {
		p = append(p, struct{ avx512, avx2 bool }{false, true})
	}
	if hasAVX512 {
		p = append(p, struct{ avx512, avx2 bool }{true, hasAVX2})
	}
	if len(p) == 0 {
		t.Skip("needs AVX2 and FMA or AVX-512")
	}
	return p
}

func TestAddXNNVecPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(61, 62))
	lengths := []int{1, 15, 16, 17, 31, 32, 33, 47, 64, 255, 256, 257, 1023}
	for _, path := range addVecPaths(t) {
		for iter := 0; iter < 600; iter++ {
			n := lengths[r.IntN(len(lengths))]
			a := xnnAdd{ma: r.Int32N(1 << 22), mb: r.Int32N(1 << 22), bias: r.Int32() - 1<<30, shift: uint(r.IntN(34))}
			switch iter % 6 {
			case 0: // multipliers at XNNPACK's extremes: products wrap
				a.ma, a.mb = 1<<23-1, -(1<<23 - 1)
			case 1:
				a.ma, a.mb, a.bias = math.MaxInt32, math.MinInt32, math.MinInt32
			case 2:
				a.ma, a.mb, a.shift = -r.Int32N(1<<20), r.Int32N(1<<20), uint(31+r.IntN(8))
			}
			zo := r.Int32N(256) - 128
			if iter%2 == 0 {
				checkXNNVec[int8](t, r, path.avx512, path.avx2, &a, zo, -128+r.Int32N(2)*128, 127-r.Int32N(2)*100, n)
			} else {
				checkXNNVec[uint8](t, r, path.avx512, path.avx2, &a, zo+128, r.Int32N(2)*100, 255-r.Int32N(2)*55, n)
			}
		}
	}
}

func checkXNNVec[T ~int8 | ~uint8](t *testing.T, r *rand.Rand, avx512, avx2 bool, a *xnnAdd, zo, lo, hi int32, n int) {
	t.Helper()
	x, y := make([]T, n), make([]T, n)
	for i := range x {
		x[i], y[i] = T(r.Uint32()), T(r.Uint32())
	}
	const guard = 16
	z := make([]T, n+guard)
	for i := range z {
		z[i] = 0x5a
	}
	done := addXNNVecOn(avx512, avx2, a, zo, lo, hi, x, y, z[:n])
	if done != n&^15 {
		t.Fatalf("avx512=%v n=%d: did %d values, want %d", avx512, n, done, n&^15)
	}
	for i := range done {
		want := T(min(max((a.bias+int32(x[i])*a.ma+int32(y[i])*a.mb)>>a.shift+zo, lo), hi))
		if z[i] != want {
			t.Fatalf("avx512=%v n=%d %+v zo=%d [%d,%d]: z[%d] = %d, want %d (x %d y %d)",
				avx512, n, *a, zo, lo, hi, i, z[i], want, x[i], y[i])
		}
	}
	for i := done; i < len(z); i++ {
		if z[i] != 0x5a {
			t.Fatalf("avx512=%v n=%d: z[%d] written past the blocks", avx512, n, i)
		}
	}
}

// TestAddF32VecPaths runs the float32 loops (two vectors, and a vector
// with a repeated scalar on either side) against the Go expression.
func TestAddF32VecPaths(t *testing.T) {
	r := rand.New(rand.NewPCG(63, 64))
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	nan := float32(math.NaN())
	clamps := [][2]float32{{-inf, inf}, {0, inf}, {0, 6}, {-1, 1}}
	specials := []float32{0, negZero, nan, inf, -inf, math.MaxFloat32, -math.MaxFloat32, 1, -1, 6, 1e-45}
	for _, path := range addVecPaths(t) {
		block := 8
		if path.avx512 {
			block = 16
		}
		for iter := 0; iter < 400; iter++ {
			n := 1 + r.IntN(100)
			x, y := make([]float32, n), make([]float32, n)
			for _, v := range [][]float32{x, y} {
				for i := range v {
					v[i] = float32(r.NormFloat64() * 4)
					if r.IntN(4) == 0 {
						v[i] = specials[r.IntN(len(specials))]
					}
				}
			}
			cl := clamps[r.IntN(len(clamps))]
			const fill = float32(-777)
			z := make([]float32, n+16)
			// check wants z's first n/block·block values to be want(i), the
			// rest untouched.
			check := func(form string, done int, want func(i int) float32) {
				t.Helper()
				if w := n / block * block; done != w {
					t.Fatalf("%s avx512=%v n=%d: did %d values, want %d", form, path.avx512, n, done, w)
				}
				for i := range done {
					w := want(i)
					// A NaN is any NaN: Go's max returns its own quiet NaN, the
					// SIMD loops keep the sum's (as the AVX-512 loop always has).
					if math.Float32bits(z[i]) != math.Float32bits(w) && !(w != w && z[i] != z[i]) {
						t.Fatalf("%s avx512=%v n=%d clamp %v: z[%d] = %v %#x, want %v %#x (x %v y %v)", form, path.avx512, n, cl, i, z[i], math.Float32bits(z[i]), w, math.Float32bits(w), x[i], y[i])
					}
				}
				for i := done; i < len(z); i++ {
					if z[i] != fill {
						t.Fatalf("%s avx512=%v n=%d: z[%d] written past the blocks", form, path.avx512, n, i)
					}
				}
			}
			reset := func() {
				for i := range z {
					z[i] = fill
				}
			}
			reset()
			check("x+y", addF32VecOn(path.avx512, path.avx2, x, y, z[:n], cl[0], cl[1]), func(i int) float32 { return min(max(x[i]+y[i], cl[0]), cl[1]) })
			// The broadcast rows' forms: y[0] repeated, after or before x.
			s := y[0]
			reset()
			check("x+s", addF32ScalarVecOn(path.avx512, path.avx2, x, s, z[:n], false, cl[0], cl[1]), func(i int) float32 { return min(max(x[i]+s, cl[0]), cl[1]) })
			reset()
			check("s+x", addF32ScalarVecOn(path.avx512, path.avx2, x, s, z[:n], true, cl[0], cl[1]), func(i int) float32 { return min(max(s+x[i], cl[0]), cl[1]) })
		}
	}
}
