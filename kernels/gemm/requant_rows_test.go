package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/kernels/fixedpoint"
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
			rq, err := newTestRequant(mode, bias, mult, shift, zp, lo, hi)
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

// TestRequantFastRange drives the fast layout of both roundings at the
// edges of its range (total shifts 32 and 54, zero points ±128, extreme
// accumulators and multipliers, multipliers that make rounding ties at
// both of double rounding's steps, full and narrowed clamps) against the
// reference, and checks that parameters just outside the range take the
// general layout.
func TestRequantFastRange(t *testing.T) {
	for _, mode := range modes {
		testRequantFastRange(t, mode)
	}
}

func testRequantFastRange(t *testing.T, mode fixedpoint.Rounding) {
	r := rand.New(rand.NewPCG(51, 52))
	for _, zp := range []int32{-128, -3, 0, 127, 128} {
		for _, lh := range [][2]int32{{-128, 127}, {-128, 126}, {-127, 127}, {-3, 90}} {
			for _, n := range []int{5, 16, 40} {
				bias, mult, shift := make([]int32, n), make([]int32, n), make([]int, n)
				for j := range n {
					bias[j] = int32(r.IntN(1<<22)) - 1<<21
					mult[j] = []int32{0, 1 << 30, math.MaxInt32, 1<<30 + int32(r.IntN(1<<30)), 1<<30 + 1<<r.IntN(30)}[j%5]
					shift[j] = []int{-1, -23, -8, -1 - r.IntN(23)}[(j/4)%4]
				}
				lo, hi := lh[0], lh[1]
				rq, err := newTestRequant(mode, bias, mult, shift, zp, lo, hi)
				if err != nil {
					t.Fatal(err)
				}
				if mode != fixedpoint.RuntimeRounding && rq.fastParams() == nil {
					t.Fatalf("zp %d n %d: parameters in range but no fast layout", zp, n)
				}
				rows := 9
				acc := make([]int32, rows*n)
				for i := range acc {
					switch i % 6 {
					case 0:
						acc[i] = []int32{math.MinInt32, math.MaxInt32, math.MinInt32 + 1<<21, -1, 0}[r.IntN(5)]
					case 1:
						acc[i] = int32(r.Uint32())
					case 2:
						acc[i] = int32(r.IntN(64)) - 32 - bias[i%n] // x near 0: ties
					default:
						acc[i] = int32(r.IntN(1<<20)) - 1<<19
					}
				}
				got := make([]int8, rows*n)
				rq.rows(rows, got, n, acc, n)
				for i := range rows {
					for j := range n {
						want := refRequant(mode, acc[i*n+j], bias[j], mult[j], shift[j], zp, lo, hi)
						if g := got[i*n+j]; g != want {
							t.Fatalf("%s zp %d clamp [%d, %d] n %d: [%d][%d] acc %d bias %d mult %d shift %d: got %d, want %d",
								mode, zp, lo, hi, n, i, j, acc[i*n+j], bias[j], mult[j], shift[j], g, want)
						}
					}
				}
			}
		}
	}
	for _, c := range []struct {
		shift int
		zp    int32
	}{{0, 0}, {-24, 0}, {-8, 129}, {-8, -129}} {
		rq, err := newTestRequant(mode, nil, []int32{1 << 30}, []int{c.shift}, c.zp, -128, 127)
		if err != nil {
			t.Fatal(err)
		}
		if mode == fixedpoint.RuntimeRounding {
			continue // one layout for every float32 scale
		}
		if rq.fastParams() != nil {
			t.Errorf("%s shift %d zp %d: outside the fast range but given the fast layout", mode, c.shift, c.zp)
		}
	}
}
