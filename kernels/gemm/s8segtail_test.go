package gemm

import (
	"math/rand/v2"
	"testing"
)

// TestMulRequantSegmentedRowsTail checks tail-quad packs
// (PackS8SegmentedTail) bit for bit against the reference requantization
// of the plain dot products: random segment counts, leftover bytes and
// whole quads per segment, row distances up to the gather's limit, A
// ending exactly where the last row does (the tiles whose gather would
// read past it run from a copy), partial row tiles, 1–3 column slivers,
// every rounding with narrow clamps and extreme zero points, at 1 and 2
// threads through random row maps; through the kernels of every family
// that has them and through the plain-Go path.
func TestMulRequantSegmentedRowsTail(t *testing.T) {
	var sets []*s8Set
	for _, s := range s8Sets() {
		if s.format == fmtU8Quad {
			sets = append(sets, s)
		}
	}
	if len(sets) == 0 {
		t.Skip("no u8-quad kernel family on this CPU/build")
	}
	r := rand.New(rand.NewPCG(81, 82))
	ran := map[string]int{}
	for it := range 400 {
		set := sets[(it/2)%len(sets)]
		// Half the cases have the shape the kernels are generated for
		// (3 segments of 9 bytes), the others run in Go.
		nseg := 2 + r.IntN(3)
		rem := 1 + r.IntN(4/nseg)
		seg := 4*r.IntN(4) + rem
		if it%2 == 0 {
			nseg, rem, seg = 3, 1, 9
		}
		k := nseg * seg
		lda := 1 + r.IntN((16-rem)/5)
		segStride := seg + r.IntN(40)
		m := 1 + r.IntN(90)
		n := 16 * (1 + r.IntN(3))
		w := randI8(r, n*k)
		if it%7 == 0 {
			for i := range w {
				w[i] = []int8{-128, 127}[i%2]
			}
		}
		mode := modes[it%3]
		bias, mult, shift := make([]int32, n), make([]int32, n), make([]int, n)
		for j := range n {
			bias[j] = int32(r.IntN(1<<20)) - 1<<19
			mult[j] = 1<<30 + int32(r.IntN(1<<30))
			shift[j] = -1 - r.IntN(23)
			if it%13 == 5 && j == n/3 {
				shift[j] = 20 // fp32 accumulators may overflow: float clamps kept
			}
		}
		zp := []int32{-128, 127, 0, int32(r.IntN(256) - 128)}[it%4]
		lo, hi := int32(-128), int32(127)
		if it%3 == 1 {
			lo, hi = zp, 127
		} else if it%3 == 2 {
			lo, hi = max(zp, -128), min(zp+40, 127)
		}
		rq, err := newTestRequant(mode, bias, mult, shift, zp, lo, hi)
		if err != nil {
			t.Fatal(err)
		}
		p := packS8SegTailWith(set, w, n, k, k, seg, lda, rq, true)
		if p == nil {
			t.Fatalf("it %d: no tail pack for nseg=%d seg=%d lda=%d", it, nseg, seg, lda)
		}
		aOff := []int32{128, -127, 0, int32(r.IntN(256) - 128)}[(it/4)%4]
		plain := randI8(r, (m-1)*lda+(nseg-1)*segStride+seg+r.IntN(3))
		flip := make([]int8, len(plain))
		for i, v := range plain {
			flip[i] = v ^ -128
		}
		want := make([]int8, m*n)
		for i := range m {
			for j := range n {
				var acc int32
				for s := range nseg {
					for q := range seg {
						acc += (int32(plain[i*lda+s*segStride+q]) + aOff) * int32(w[j*k+s*seg+q])
					}
				}
				want[i*n+j] = refRequant(mode, acc, bias[j], mult[j], shift[j], zp, lo, hi)
			}
		}
		kern := "go"
		if p.segTailFn(rq) != nil {
			kern = set.name
		}
		ran[kern]++
		checkRowMapped(t, r, m, n, want, func(threads int, got []int8, rm *RowMap) {
			p.MulRequantSegmentedRows(threads, m, flip, lda, segStride, aOff, rq, got, rm)
		}, "it %d (%v %s n=%d seg=%d nseg=%d lda=%d m=%d)", it, mode, kern, n, seg, nseg, lda, m)
		// A map of every row (the kernels' untested stores).
		slots := r.Perm(m)
		offs := make([]int, m)
		for i := range offs {
			offs[i] = slots[i] * n
		}
		got := make([]int8, m*n)
		p.MulRequantSegmentedRows(1, m, flip, lda, segStride, aOff, rq, got, NewRowMap(offs, n))
		for i := range m {
			for j := range n {
				if got[offs[i]+j] != want[i*n+j] {
					t.Fatalf("it %d (%v %s n=%d seg=%d nseg=%d lda=%d m=%d), full map: row %d col %d = %d, want %d", it, mode, kern, n, seg, nseg, lda, m, i, j, got[offs[i]+j], want[i*n+j])
				}
			}
		}
		// The plain-Go path on the same pack, whatever the CPU.
		checkRowMapped(t, r, m, n, want, func(_ int, got []int8, rm *RowMap) {
			initp := p.initFor(aOff)
			defer i32Pool.Put(initp)
			init := *initp
			for j := range n {
				init[j] += rq.bias[j]
			}
			p.segTailGo(m, flip, lda, segStride, init, rq, got, rm.off[:m])
		}, "it %d (%v go n=%d seg=%d nseg=%d lda=%d m=%d)", it, mode, n, seg, nseg, lda, m)
	}
	for _, s := range sets {
		if s.kernels[0].segTail != nil && ran[s.name] < 60 {
			t.Fatalf("%s: only %d cases ran the tail kernels", s.name, ran[s.name])
		}
	}
	t.Logf("cases per path: %v", ran)
}
