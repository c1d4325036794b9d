package gemm

import (
	"fmt"
	"sync"
)

// RowMap says where each row of a product goes in C: row i to
// c[o : o+n] for o = offsets[i], or nowhere when offsets[i] < 0. A
// stride-1 convolution computed over pitch-wide padded rows
// (MulSegmented) maps pixel x < outW of wide row y to its place in the
// NHWC output and drops the pitch − outW others, so its output needs no
// scratch and no copy-out. A RowMap is read-only after NewRowMap and safe
// for concurrent use.
type RowMap struct {
	n   int
	off []int // byte offsets (4·offsets[i]) for the kernels, or -1
	// need[i] is the length C must have for rows 0..i, so a call checks
	// its bounds in O(1) however many rows it maps.
	need []int
}

// NewRowMap builds the map of len(offsets) rows of n columns each.
func NewRowMap(offsets []int, n int) *RowMap {
	if n < 0 {
		panic(fmt.Sprintf("gemm: NewRowMap: negative n=%d", n))
	}
	rm := &RowMap{n: n, off: make([]int, len(offsets)), need: make([]int, len(offsets))}
	hi := 0
	for i, o := range offsets {
		rm.off[i] = -1
		if o >= 0 {
			rm.off[i] = 4 * o
			hi = max(hi, o+n)
		}
		rm.need[i] = hi
	}
	return rm
}

// Len returns the number of rows the map covers.
func (rm *RowMap) Len() int { return len(rm.off) }

// segFusedFn is a fused segmented micro-kernel (f32Kernel.segF): it
// stores clamp(A·B + bias, lo, hi) row i at c + rows[i] bytes (none when
// rows[i] < 0), the columns where mask has a bit.
type segFusedFn func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, rows *int, bias *float32, lo, hi float32, mask uint64)

// segTail is the scratch of a partial last row tile: its A rows copied
// with their segments side by side, and its row map padded with drops.
type segTail struct {
	a    []float32
	rows [maxMR]int
}

// maxMR bounds the row count of a float32 tile (28 today).
const maxMR = 32

var segTailPool = sync.Pool{New: func() any { return new(segTail) }}

// MulSegmentedRows is MulSegmented storing row i of the result at the
// place rm gives it (dropping the rows it maps nowhere) instead of row i
// of a dense C: C = clamp(A·Bᵀ + bias, lo, hi) on the mapped rows only;
// C elsewhere is not touched. m must not exceed rm.Len() and rm must be
// built for p.N() columns.
//
// With AVX-512 one micro-kernel call does a whole tile: products summed
// in registers, bias and clamp applied there and each row stored to its
// destination, with no clearing, reading or copying of C. The results
// are bit-identical to MulSegmented's into a dense scratch followed by
// the copy (the plain-Go fallback does exactly that), with one
// exception: a product that underflows to −0 plus a bias of −0 stays −0
// here and becomes +0 there; callers that care pass +0 biases.
func (p *PackedF32) MulSegmentedRows(threads, m int, a []float32, lda, segStride int, bias []float32, lo, hi float32, c []float32, rm *RowMap) {
	pb := p.pb
	seg, n, k := pb.seg, pb.n, pb.k
	if seg <= 0 {
		panic("gemm: PackedF32.MulSegmentedRows: weights not packed with PackF32Segmented")
	}
	if m < 0 || lda < 0 || segStride < seg || m > rm.Len() || rm.n != n {
		panic(fmt.Sprintf("gemm: PackedF32.MulSegmentedRows: m=%d lda=%d segStride=%d seg=%d, map of %d rows×%d for N=%d", m, lda, segStride, seg, rm.Len(), rm.n, n))
	}
	if m > 0 && k > 0 {
		if need := (m-1)*lda + (k/seg-1)*segStride + seg; len(a) < need {
			panic(fmt.Sprintf("gemm: PackedF32.MulSegmentedRows: A has %d elements, need %d", len(a), need))
		}
	}
	if bias != nil && len(bias) != n {
		panic(fmt.Sprintf("gemm: PackedF32: %d biases for %d columns", len(bias), n))
	}
	if m == 0 || n == 0 || rm.need[m-1] == 0 {
		return // no row lands anywhere
	}
	if len(c) < rm.need[m-1] {
		panic(fmt.Sprintf("gemm: PackedF32.MulSegmentedRows: C has %d elements, the map needs %d", len(c), rm.need[m-1]))
	}
	if bias == nil {
		bias = p.zeros
	}
	al := aLayout{seg: seg, segStride: segStride}
	// The fused kernel covers k in one block of whole segments; deeper
	// products (or no fused kernel) go through the dense product.
	if pb.kern.segF == nil || !pb.wholeSeg || k == 0 || pb.blockLen(0) != k {
		bufp := getF32(m * n)
		defer f32Pool.Put(bufp)
		tmp := *bufp
		p.mulEpilogue(threads, m, a, lda, al, bias, lo, hi, tmp, n)
		for i, o := range rm.off[:m] {
			if o >= 0 {
				copy(c[o/4:o/4+n], tmp[i*n:(i+1)*n])
			}
		}
		return
	}
	if threads <= 1 || m <= pb.kern.mr {
		runSegRows(pb, 0, m, a, lda, segStride, bias, lo, hi, c, rm)
		return
	}
	parallelRows(threads, m, pb.kern.mr, func(r0, r1 int) {
		runSegRows(pb, r0, r1, a, lda, segStride, bias, lo, hi, c, rm)
	})
}

// runSegRows runs rows r0..r1 (r0 a multiple of mr) through the fused
// kernel pb.kern.segF; pb holds k in one block of whole segments.
func runSegRows(pb *packedB, r0, r1 int, a []float32, lda, segStride int, bias []float32, lo, hi float32, c []float32, rm *RowMap) {
	kern := pb.kern
	mr, nr, n, k, seg := kern.mr, kern.nr, pb.n, pb.k, pb.seg
	nseg, adj := k/seg, 4*(segStride-seg)
	// Row blocks of mc keep their A rows in L2 while every B sliver
	// passes over them, as in runF32.
	mc := max(mr, mcF32Rows/mr*mr)
	var tail *segTail
	for ic := r0; ic < r1; ic += mc {
		mb := min(mc, r1-ic)
		full := mb / mr * mr
		tailFn, tailMR := kern.segF, mr
		if h := mb - full; h > 0 {
			if j := (h - 1) / max(kern.tailStep, 1); j < len(kern.segFTail) {
				tailFn, tailMR = kern.segFTail[j], (j+1)*kern.tailStep
			}
			// The partial last tile runs on the shortest kernel that
			// covers it, over a zero-padded copy of its rows (a kernel
			// reads all of its rows), and drops the padding rows.
			tail = segTailPool.Get().(*segTail)
			if cap(tail.a) < mr*k {
				tail.a = make([]float32, mr*k)
			}
			t := tail.a[:tailMR*k]
			clear(t[h*k:])
			i0 := ic + full
			for r := 0; r < h; r++ {
				for s := 0; s < nseg; s++ {
					off := (i0+r)*lda + s*segStride
					copy(t[r*k+s*seg:r*k+(s+1)*seg], a[off:off+seg])
				}
			}
			copy(tail.rows[:h], rm.off[i0:i0+h])
			for r := h; r < tailMR; r++ {
				tail.rows[r] = -1
			}
		}
		for js := 0; js*nr < n; js++ {
			bs := pb.data[js*k*nr : (js+1)*k*nr]
			j0 := js * nr
			mask := ^uint64(0) >> (64 - min(nr, n-j0))
			cj, bj := &c[j0], &bias[j0]
			for i := ic; i < ic+full; i += mr {
				kern.segF(nseg, seg, &a[i*lda], lda, adj, &bs[0], cj, &rm.off[i], bj, lo, hi, mask)
			}
			if full < mb {
				tailFn(nseg, seg, &tail.a[0], k, 0, &bs[0], cj, &tail.rows[0], bj, lo, hi, mask)
			}
		}
	}
	if tail != nil {
		segTailPool.Put(tail)
	}
}
