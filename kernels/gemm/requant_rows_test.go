package gemm

import (
	"math"
	"math/rand/v2"
	"testing"
)

// TestRequantRowsBlock checks the block requantization (one vector call
// for many rows, masked tail group) against the per-element Go
// arithmetic, with row strides wider than n on both sides and guard
// bytes that must stay untouched.
func TestRequantRowsBlock(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 32))
	for _, mode := range modes {
		for _, n := range []int{1, 3, 15, 16, 17, 30, 32, 47, 64, 128, 129} {
			bias, mult, shift := make([]int32, n), make([]int32, n), make([]int, n)
			for j := range n {
				bias[j] = int32(r.IntN(1<<20)) - 1<<19
				mult[j] = 1<<30 + int32(r.IntN(1<<30))
				if j%9 == 4 {
					mult[j] = math.MaxInt32
				}
				shift[j] = r.IntN(62) - 31
				if j%5 == 0 {
					shift[j] = -7 - r.IntN(6) // typical conv shifts
				}
			}
			lo, hi := int32(-128), int32(127)
			if n%2 == 1 {
				lo, hi = -3, 100
			}
			zp := int32(r.IntN(256) - 128)
			rq, err := NewRequant(mode, bias, mult, shift, zp, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			for _, rows := range []int{1, 2, 7, 33} {
				lda, ldo := n+r.IntN(3), n+r.IntN(3)
				acc := make([]int32, (rows-1)*lda+n)
				for i := range acc {
					if i%3 == 0 {
						acc[i] = int32(r.Uint32())
					} else {
						acc[i] = int32(r.IntN(1<<20)) - 1<<19
					}
				}
				const guard = 70
				got := make([]int8, (rows-1)*ldo+n+guard)
				for i := range got {
					got[i] = 55
				}
				rq.rows(rows, got, ldo, acc, lda)
				for i := range rows {
					for j := range n {
						want := refRequant(mode, acc[i*lda+j], bias[j], mult[j], shift[j], zp, lo, hi)
						if g := got[i*ldo+j]; g != want {
							t.Fatalf("%s n=%d rows=%d lda=%d ldo=%d: [%d][%d] = %d, want %d", mode, n, rows, lda, ldo, i, j, g, want)
						}
					}
					// Bytes between rows (ldo > n) and after the block.
					end := i*ldo + ldo
					if i == rows-1 {
						end = len(got)
					}
					for k := i*ldo + n; k < end; k++ {
						if got[k] != 55 {
							t.Fatalf("%s n=%d rows=%d ldo=%d: byte %d outside the rows overwritten", mode, n, rows, ldo, k)
						}
					}
				}
			}
		}
	}
}
