//go:build !noasm

package gemm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// avx2Fallback is the AVX2 float kernel as it was before it had direct,
// segmented and fused forms: MulSegmentedRows then packs A per
// segment-sized k block, runs MulSegmented's dense product and copies
// the rows out (the path the fused AVX2 tiles replace).
func avx2Fallback() *f32Kernel {
	return &f32Kernel{name: "avx2x6x16/fallback", mr: 6, nr: 16, weight: 1, fn: sgemmAVX2x6x16}
}

// fusedCase is one random row-mapped segmented product.
type fusedCase struct {
	seg, nseg, n, m, lda, segStride, ldc, threads int
	a, w, bias                                    []float32
	lo, hi                                        float32
	offs                                          []int
}

func newFusedCase(r *rand.Rand, special bool) fusedCase {
	inf := float32(math.Inf(1))
	negZero := float32(math.Copysign(0, -1))
	clamps := [][2]float32{{-inf, inf}, {0, inf}, {0, 6}, {-1, 1}, {negZero, 6}}
	c := fusedCase{seg: 1 + r.IntN(40), nseg: 1 + r.IntN(5), n: 1 + r.IntN(70), m: 1 + r.IntN(60), threads: 1 + r.IntN(3)}
	c.lda = 1 + r.IntN(c.seg+3)
	c.segStride = c.seg + r.IntN(20)
	k := c.seg * c.nseg
	c.a = randF32(r, (c.m-1)*c.lda+(c.nseg-1)*c.segStride+c.seg)
	c.w = randF32(r, c.n*k)
	if r.IntN(4) > 0 {
		c.bias = randF32(r, c.n)
	}
	if special {
		// NaN, infinities and zeros of both signs: the fused kernels
		// must agree on them bit for bit (NaN clamps to lo on both).
		for _, v := range []float32{float32(math.NaN()), inf, -inf, 0, negZero} {
			c.a[r.IntN(len(c.a))] = v
			c.w[r.IntN(len(c.w))] = v
		}
	}
	cl := clamps[r.IntN(len(clamps))]
	c.lo, c.hi = cl[0], cl[1]
	c.ldc = c.n + r.IntN(5)
	c.offs = randRowOffsets(r, c.m, c.ldc)
	return c
}

// guard surrounds C so a store past either end shows.
const guard = 64

// run computes the case on kern into a filled C with guard elements
// either side and returns all of it.
func (c *fusedCase) run(kern *f32Kernel) []float32 {
	k := c.seg * c.nseg
	p := &PackedF32{pb: packBF32Seg(kern, true, c.n, 0, k, c.seg, c.w, k, nil), zeros: make([]float32, c.n)}
	buf := make([]float32, guard+(c.m+3)*c.ldc+guard)
	for i := range buf {
		buf[i] = -12345
	}
	cs := buf[guard : len(buf)-guard]
	p.MulSegmentedRows(c.threads, c.m, c.a, c.lda, c.segStride, c.bias, c.lo, c.hi, cs, NewRowMap(c.offs, c.n))
	return buf
}

// TestAVX2FusedMatchesAVX512 checks the AVX2 fused segmented kernels
// against the AVX-512 ones on random odd shapes (partial column slivers,
// short row tiles, dropped rows, NaN and signed zeros): bit-identical, and
// no element outside the mapped rows' columns written.
func TestAVX2FusedMatchesAVX512(t *testing.T) {
	if !avx2Ok || !avx512Ok {
		t.Skip("needs AVX2 and AVX-512")
	}
	r := rand.New(rand.NewPCG(81, 82))
	avx2 := &avx2F32Set.kernels[0]
	for iter := 0; iter < 150; iter++ {
		c := newFusedCase(r, iter%3 == 0)
		got := c.run(avx2)
		for ki := range avx512F32Set.kernels {
			kern := avx512F32Set.kernels[ki]
			for _, fp := range []bool{false, true} {
				if fp {
					kern.segFP = nil // per-run tiles of the segF kernels
				}
				want := c.run(&kern)
				if !slices.EqualFunc(got, want, func(x, y float32) bool { return math.Float32bits(x) == math.Float32bits(y) }) {
					for i := range got {
						if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
							t.Fatalf("iter %d vs %s (no segFP %v) seg=%d nseg=%d n=%d m=%d: C[%d] = %v, AVX-512 %v",
								iter, kern.name, fp, c.seg, c.nseg, c.n, c.m, i-guard, got[i], want[i])
						}
					}
				}
			}
		}
	}
}

// TestAVX2FusedMatchesFallback checks the fused AVX2 path against the
// path it replaces and a float64 loop on finite inputs. The fallback
// adds each segment's partial sums into C separately, so it agrees only
// to rounding: within 1e-6·k·Σ|terms|.
func TestAVX2FusedMatchesFallback(t *testing.T) {
	if !avx2Ok {
		t.Skip("needs AVX2")
	}
	r := rand.New(rand.NewPCG(83, 84))
	for iter := 0; iter < 80; iter++ {
		c := newFusedCase(r, false)
		got := c.run(&avx2F32Set.kernels[0])
		old := c.run(avx2Fallback())
		k := c.seg * c.nseg
		mapped := make([]bool, len(got))
		for i := 0; i < c.m; i++ {
			o := c.offs[i]
			if o < 0 {
				continue
			}
			for j := 0; j < c.n; j++ {
				mapped[guard+o+j] = true
				s, mag := 0.0, 0.0
				if c.bias != nil {
					s = float64(c.bias[j])
				}
				for q := 0; q < k; q++ {
					x := float64(c.a[i*c.lda+q/c.seg*c.segStride+q%c.seg]) * float64(c.w[j*k+q])
					s += x
					mag += math.Abs(x)
				}
				ref := min(max(s, float64(c.lo)), float64(c.hi))
				tol := 1e-6 * float64(k) * (mag + 1)
				g, f := float64(got[guard+o+j]), float64(old[guard+o+j])
				if math.Abs(g-ref) > tol || math.Abs(f-ref) > tol {
					t.Fatalf("iter %d n=%d m=%d k=%d: row %d col %d fused %v fallback %v reference %v", iter, c.n, c.m, k, i, j, g, f, ref)
				}
			}
		}
		for i, v := range got {
			if !mapped[i] && (v != -12345 || old[i] != -12345) {
				t.Fatalf("iter %d: C[%d] written (%v, fallback %v) outside the mapped rows", iter, i-guard, v, old[i])
			}
		}
	}
}

// BenchmarkConvAVX2Fused runs seed-cnn's float conv shapes through
// MulSegmentedRows on the AVX2 kernel (forced by packing for it, as an
// AVX2-only CPU would) in three forms: fused (the new tiles), segmented
// (the new whole-segment MulSegmented plus copy, fused kernels removed)
// and fallback (the packed kernel alone: the path before).
func BenchmarkConvAVX2Fused(b *testing.B) {
	if !avx2Ok {
		b.Skip("needs AVX2")
	}
	seg := avx2F32Set.kernels[0]
	seg.segF, seg.segFTail = nil, nil
	kerns := []*f32Kernel{&avx2F32Set.kernels[0], &seg, avx2Fallback()}
	names := []string{"fused", "segmented", "fallback"}
	for _, s := range convShapes {
		hw, cin, cout := s[0], s[1], s[2]
		for ki, kern := range kerns {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", hw, cin, cout, names[ki]), func(b *testing.B) {
				benchConvSegRows(b, kern, hw, cin, cout)
			})
		}
	}
}

// BenchmarkSgemmAVX2Direct compares Sgemm (A row-major, B transposed: a
// dense or im2col layer) on the AVX2 kernel reading A unpacked (direct,
// new) with the packed-A form it used before.
func BenchmarkSgemmAVX2Direct(b *testing.B) {
	if !avx2Ok {
		b.Skip("needs AVX2")
	}
	sets := []*f32Set{avx2F32Set, {name: "packed", kernels: []f32Kernel{*avx2Fallback()}}}
	for _, s := range benchShapes {
		m, n, k := s[0], s[1], s[2]
		for _, set := range sets {
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, set.name), func(b *testing.B) {
				r := rand.New(rand.NewPCG(1, 1))
				a, w, c := randF32(r, m*k), randF32(r, n*k), make([]float32, m*n)
				for b.Loop() {
					sgemmWith(set, 1, false, true, m, n, k, 1, a, k, w, k, 0, c, n)
				}
				reportOps(b, m, n, k, "GFLOP/s")
			})
		}
	}
}
