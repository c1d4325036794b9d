package gemm

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/qbench/qbench/kernels/fixedpoint"
)

// withAVX2Loop returns a copy of rq that runs the AVX2 block loop of its
// arithmetic (with the general parameter layout for double rounding), as
// NewRequant and NewRequantFP32 choose it on CPUs without AVX-512, or nil
// when there is none (no AVX2, noasm, single rounding).
func withAVX2Loop(rq *Requant) *Requant {
	c := *rq
	c.fast, c.asm8 = false, true
	switch {
	case rq.fp32:
		c.asm = requantFP32AVX2Asm()
	case rq.single:
		return nil
	default:
		c.asm = requantDoubleAVX2Asm()
		c.params = rq.stdParams()
	}
	if c.asm == nil {
		return nil
	}
	return &c
}

// TestRequantRowsAVX2: the AVX2 loops (double rounding and XNNPACK's
// float32) with the Go tail of each row's last n mod 8 channels give the
// reference's bytes, with extreme accumulators and multipliers, every
// shift in range, narrowed clamps, row strides wider than n on both sides
// and guard bytes that must stay untouched.
func TestRequantRowsAVX2(t *testing.T) {
	r := rand.New(rand.NewPCG(31, 33))
	for _, mode := range []fixedpoint.Rounding{fixedpoint.DoubleRounding, fixedpoint.RuntimeRounding} {
		for _, n := range []int{1, 7, 8, 9, 15, 16, 17, 24, 31, 32, 47, 64, 129} {
			bias, mult, shift := make([]int32, n), make([]int32, n), make([]int, n)
			for j := range n {
				bias[j] = int32(r.IntN(1<<20)) - 1<<19
				mult[j] = 1<<30 + int32(r.IntN(1<<30))
				switch j % 9 {
				case 4:
					mult[j] = math.MaxInt32
				case 7:
					mult[j] = 0
				}
				shift[j] = r.IntN(62) - 31
				if j%5 == 0 {
					shift[j] = -7 - r.IntN(6)
				}
			}
			lo, hi := int32(-128), int32(127)
			if n%2 == 1 {
				lo, hi = -3, 100
			}
			zp := int32(r.IntN(256) - 128)
			base, err := newTestRequant(mode, bias, mult, shift, zp, lo, hi)
			if err != nil {
				t.Fatal(err)
			}
			rq := withAVX2Loop(base)
			if rq == nil {
				t.Skip("no AVX2 requantization loop on this build or CPU")
			}
			for _, rows := range []int{1, 2, 5, 33} {
				lda, ldo := n+r.IntN(3), n+r.IntN(3)
				acc := make([]int32, (rows-1)*lda+n)
				for i := range acc {
					switch i % 4 {
					case 0:
						acc[i] = int32(r.Uint32())
					case 1:
						acc[i] = []int32{math.MinInt32, math.MaxInt32, 0, -1}[r.IntN(4)]
					default:
						acc[i] = int32(r.IntN(1<<20)) - 1<<19
					}
				}
				const guard = 40
				got := make([]int8, (rows-1)*ldo+n+guard)
				for i := range got {
					got[i] = 55
				}
				rq.rows(rows, got, ldo, acc, lda)
				for i := range rows {
					for j := range n {
						want := refRequant(mode, acc[i*lda+j], bias[j], mult[j], shift[j], zp, lo, hi)
						if g := got[i*ldo+j]; g != want {
							t.Fatalf("%s n=%d rows=%d: [%d][%d] acc %d mult %d shift %d: %d, want %d", mode, n, rows, i, j, acc[i*lda+j], mult[j], shift[j], g, want)
						}
					}
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
