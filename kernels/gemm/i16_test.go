package gemm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// i16Sets returns the int16-pair families with a segmented int16
// kernel (the fused one too), plus the portable one (plain-Go loop), so
// the reference runs on every platform and under noasm.
func i16Sets() []*s8Set {
	out := []*s8Set{goS8Set}
	if f := i16FusedSet(); f != nil {
		out = append(out, f)
	}
	for _, s := range s8Sets() {
		if s.format == fmtI16Pair && segI16Kernel(s) != nil {
			out = append(out, s)
		}
	}
	return out
}

// TestPackedI16MulSegmented checks MulSegmented against the naive sum on
// random shapes (odd segments, partial row tiles and column slivers,
// overlapping rows, A ending right after the last segment, C with a
// wider stride whose gaps must stay untouched) and on the operand
// extremes the Winograd convolution produces, where the int32 sums wrap.
func TestPackedI16MulSegmented(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	for _, set := range i16Sets() {
		for trial := range 60 {
			seg := 1 + r.IntN(40)
			nseg := 1 + r.IntN(3)
			n := 1 + r.IntN(50)
			m := 1 + r.IntN(30)
			lda := 1 + r.IntN(2*seg)
			segStride := seg + r.IntN(3*seg)
			ldc := n + r.IntN(3)
			k := nseg * seg
			lo, hi := -1280, 1280
			wlo, whi := -3048, 3048
			if trial%5 == 4 { // wrap-around: full range, products up to 2^30
				lo, hi, wlo, whi = -32768, 32767, -32768, 32767
			}
			alen := (m-1)*lda + (nseg-1)*segStride + seg
			a := make([]int16, alen)
			for i := range a {
				a[i] = int16(lo + r.IntN(hi-lo+1))
			}
			b := make([]int16, n*k)
			for i := range b {
				b[i] = int16(wlo + r.IntN(whi-wlo+1))
			}
			if trial%7 == 6 {
				for i := range a {
					a[i] = int16(hi)
				}
				for i := range b {
					b[i] = int16(wlo)
				}
			}
			if trial%11 == 10 {
				// −32768 pairs: a pair's sum is 2^31, which wraps the same
				// in the reference, in VPMADDWD + VPADDD and in VPDPWSSD
				// (not VPDPWSSDS, which would saturate).
				for i := range a {
					a[i] = -32768
				}
				for i := range b {
					b[i] = -32768
				}
			}
			want := make([]int32, m*ldc)
			for i := range want {
				want[i] = -7
			}
			got := slices.Clone(want)
			for i := range m {
				for j := range n {
					var acc int32
					for s := range nseg {
						for tt := range seg {
							acc += int32(a[i*lda+s*segStride+tt]) * int32(b[j*k+s*seg+tt])
						}
					}
					want[i*ldc+j] = acc
				}
			}
			p := packI16With(set, b, n, k, k, seg)
			p.MulSegmented(m, a, lda, segStride, got, ldc)
			if !slices.Equal(got, want) {
				t.Fatalf("%s trial %d (m=%d n=%d seg=%d nseg=%d lda=%d segStride=%d ldc=%d): %s", set.name, trial, m, n, seg, nseg, lda, segStride, ldc, firstDiff(got, want))
			}
		}
	}
}

// TestI16Fused checks the family choice: the fused kernels whenever this
// CPU has them, never counted as the CPU's own int8 family (I16Native).
func TestI16Fused(t *testing.T) {
	f := i16FusedSet()
	t.Logf("MulSegmented family %s, fused %v", i16Set.name, I16Fused())
	if got, want := I16Fused(), f != nil; got != want {
		t.Fatalf("I16Fused() = %v with fused family %v", got, f != nil)
	}
	if I16Fused() && (i16Set != f || I16Native()) {
		t.Fatalf("i16Set %s, I16Native %v: want %s, false", i16Set.name, I16Native(), f.name)
	}
}

func firstDiff(got, want []int32) string {
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("element %d = %d, want %d", i, got[i], want[i])
		}
	}
	return "equal"
}

// naiveSegI16 is the reference of MulSegmented: C[i][j] for rows i < m
// (row stride ldc) of the plain int32 (wrapping) sums.
func naiveSegI16(m, n, seg, nseg int, a []int16, lda, segStride int, b []int16, c []int32, ldc int) {
	k := nseg * seg
	for i := range m {
		for j := range n {
			var acc int32
			for s := range nseg {
				for t := range seg {
					acc += int32(a[i*lda+s*segStride+t]) * int32(b[j*k+s*seg+t])
				}
			}
			c[i*ldc+j] = acc
		}
	}
}

// TestPackedI16MulSegmentedRows covers every row count 1..20 (whole row
// tiles plus each partial last tile, run on the kernel of its row
// count), widths that are and are not multiples of the tile width,
// several segment counts, odd and even segments, A sized exactly (odd
// segments then end one element short of a whole pair, so the last
// rows are copied) or with slack, and repeated rows (lda 0).
func TestPackedI16MulSegmentedRows(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, set := range i16Sets() {
		trial := 0
		for m := 1; m <= 20; m++ {
			for _, n := range []int{5, 16, 33, 64, 100, 128} {
				trial++
				seg := []int{16, 7, 64, 3, 32, 1}[trial%6]
				nseg := 1 + trial%3
				lda := seg
				switch trial % 4 {
				case 1:
					lda = seg + 1 + r.IntN(seg)
				case 2:
					lda = 1 + r.IntN(seg)
				case 3:
					if trial%8 == 3 {
						lda = 0
					}
				}
				segStride := seg + r.IntN(2*seg)
				if nseg > 1 && trial%5 == 0 {
					segStride = lda * 3 // the 1-D Winograd's overlapping rows
					if segStride < seg {
						segStride = seg
					}
				}
				ldc := n + trial%3
				k := nseg * seg
				alen := (m-1)*lda + (nseg-1)*segStride + seg + trial%2
				a := make([]int16, alen)
				for i := range a {
					a[i] = int16(r.IntN(2561) - 1280)
				}
				b := make([]int16, n*k)
				for i := range b {
					b[i] = int16(r.IntN(6097) - 3048)
				}
				want := make([]int32, m*ldc+3)
				for i := range want {
					want[i] = -7
				}
				got := slices.Clone(want)
				naiveSegI16(m, n, seg, nseg, a, lda, segStride, b, want, ldc)
				p := packI16With(set, b, n, k, k, seg)
				p.MulSegmented(m, a, lda, segStride, got[:m*ldc], ldc)
				if !slices.Equal(got, want) {
					t.Fatalf("%s (m=%d n=%d seg=%d nseg=%d lda=%d segStride=%d ldc=%d alen=%d): %s", set.name, m, n, seg, nseg, lda, segStride, ldc, alen, firstDiff(got, want))
				}
			}
		}
	}
}

// TestSegI16Kernels runs each int16 segmented kernel (every row count,
// several slivers and row tiles per call) against the naive sums, on
// full-range operands and once all −32768, with a guard around C that
// must stay untouched.
func TestSegI16Kernels(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	for _, set := range i16Sets() {
		for i := range set.kernels {
			kern := &set.kernels[i]
			if kern.segI16 == nil {
				continue
			}
			nr := kern.nr
			for h := 1; h <= kern.mr; h++ {
				for trial := range 6 {
					// Whole pairs (the kernel reads A in pairs), 1..20 of
					// them, trials 0..3 covering every remainder of the
					// 4-pair pass (the k-split kernels add those steps
					// apart from the passes).
					seg := 2 * (1 + trial%4 + 4*r.IntN(5))
					nseg := 1 + trial%3
					nsl := 1 + r.IntN(3)
					tiles := 1 + r.IntN(3)
					m, n := h*tiles, nsl*nr
					lda := seg + r.IntN(seg)
					segStride := seg + r.IntN(2*seg)
					ldc := n + r.IntN(5)
					k := nseg * seg
					a := make([]int16, (m-1)*lda+(nseg-1)*segStride+seg)
					for i := range a {
						a[i] = int16(r.IntN(65536) - 32768)
					}
					b := make([]int16, n*k)
					for i := range b {
						b[i] = int16(r.IntN(65535) - 32767)
					}
					if trial == 5 {
						// All −32768: every pair sums to 2^31 (wraps
						// alike in every family, see above).
						for i := range a {
							a[i] = -32768
						}
						for i := range b {
							b[i] = -32768
						}
					}
					const guard = 8
					want := make([]int32, m*ldc+2*guard)
					for i := range want {
						want[i] = -99
					}
					got := slices.Clone(want)
					naiveSegI16(m, n, seg, nseg, a, lda, segStride, b, want[guard:], ldc)
					p := packI16Kern(set, kern, b, n, k, k, seg)
					kern.segI16[h-1](nseg, p.segP, &a[0], 2*lda, 2*(segStride-seg), &p.i16[0], &got[guard], ldc, &p.zeros[0], nsl, tiles)
					if !slices.Equal(got, want) {
						t.Fatalf("%s %s h=%d (nsl=%d tiles=%d seg=%d nseg=%d lda=%d segStride=%d ldc=%d): %s", set.name, kern.name, h, nsl, tiles, seg, nseg, lda, segStride, ldc, firstDiff(got, want))
					}
				}
			}
		}
	}
}
