package gemm

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
)

// i16Sets returns the int16-pair families with a segmented int16
// kernel, plus the portable one (plain-Go loop), so the reference runs
// on every platform and under noasm.
func i16Sets() []*s8Set {
	out := []*s8Set{goS8Set}
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
			if trial%5 == 4 { // wrap-around: products near ±2^30
				lo, hi, wlo, whi = -32767, 32767, -32767, 32767
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

func firstDiff(got, want []int32) string {
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("element %d = %d, want %d", i, got[i], want[i])
		}
	}
	return "equal"
}
