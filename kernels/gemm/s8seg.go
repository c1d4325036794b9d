package gemm

import (
	"fmt"
	"math"
	"unsafe"
)

// PackS8Segmented packs int8 weights (n rows of k = nseg·seg, row stride
// ldb) for MulRequantSegmented, the int8 counterpart of PackF32Segmented.
func PackS8Segmented(b []int8, n, k, ldb, seg int) *PackedS8 {
	return packS8SegWith(defaultS8, b, n, k, ldb, seg)
}

func packS8SegWith(set *s8Set, b []int8, n, k, ldb, seg int) *PackedS8 {
	if n < 0 || k < 0 || seg <= 0 || k%seg != 0 {
		panic(fmt.Sprintf("gemm: PackS8Segmented: n=%d k=%d seg=%d (k must be a positive multiple of seg)", n, k, seg))
	}
	checkLen("B", len(b), n, k, ldb)
	kern := set.pick(1<<20, n)
	if kern.seg == nil || set.format != fmtU8Quad {
		// No segmented kernel: plain panels; MulRequantSegmented gathers
		// the rows first.
		p := packS8With(set, 1<<20, b, n, k, ldb)
		p.seg = seg
		return p
	}
	nr := kern.nr
	nseg, segQ := k/seg, (seg+3)/4
	p := &PackedS8{set: set, kern: kern, n: n, k: k, kq: nseg * segQ, seg: seg, segQ: segQ}
	p.np = (n + nr - 1) / nr * nr
	p.rowSum = make([]int32, p.np)
	p.u8 = make([]int8, p.np*p.kq*4)
	packSegSlivers(p.u8, p.rowSum, b, n, k, ldb, seg, segQ, 4, nr, p.kq)
	p.absSum = absRowSums(b, n, k, ldb)
	return p
}

// absRowSums returns Σ_p |B[j][p]| for each of the n weight rows (k
// values, ldb apart), saturated to int32: PackedS8.fp32Exact's bound.
func absRowSums(b []int8, n, k, ldb int) []int32 {
	out := make([]int32, n)
	for j := range n {
		var s int64
		for _, v := range b[j*ldb : j*ldb+k] {
			s += int64(max(int32(v), -int32(v)))
		}
		out[j] = int32(min(s, math.MaxInt32))
	}
	return out
}

// MulRequantSegmented is MulRequant where row i of A is made of k/seg
// segments of seg bytes, segment s starting at a[i·lda + s·segStride]
// (rows may overlap). It runs an int8 stride-1 convolution without
// im2col, exactly like PackedF32.MulSegmented: pad the NHWC input with its
// zero point, pack OHWI weights with PackS8Segmented(w, Cout, KH·KW·C,
// KH·KW·C, KW·C), use lda = C and segStride = Wp·C, and keep the OW valid
// pixels of each Wp-wide output row. p must come from PackS8Segmented.
func (p *PackedS8) MulRequantSegmented(threads, m int, a []int8, lda, segStride int, aOffset int32, rq *Requant, out []int8, ldo int) {
	seg := p.seg
	if seg <= 0 || p.wide || p.tail != nil {
		panic("gemm: MulRequantSegmented: weights not packed with PackS8Segmented")
	}
	if m < 0 || lda < 0 || segStride < seg {
		panic(fmt.Sprintf("gemm: MulRequantSegmented: m=%d lda=%d segStride=%d seg=%d", m, lda, segStride, seg))
	}
	nseg := p.k / seg
	if m > 0 && p.k > 0 {
		if need := (m-1)*lda + (nseg-1)*segStride + seg; len(a) < need {
			panic(fmt.Sprintf("gemm: MulRequantSegmented: A has %d elements, need %d", len(a), need))
		}
	}
	initp := p.initFor(aOffset)
	defer i32Pool.Put(initp)
	init := *initp
	if threads <= 1 {
		p.requantRange(0, m, rq, out, ldo, func(i0, rows int, acc []int32) {
			p.segChunk(i0, rows, a, lda, segStride, aOffset, init, acc)
		})
		return
	}
	p.requantChunks(threads, m, rq, out, ldo, func(i0, rows int, acc []int32) {
		p.segChunk(i0, rows, a, lda, segStride, aOffset, init, acc)
	})
}

// segChunk computes the accumulators of rows [i0, i0+rows) of a
// segmented product into acc (row stride n).
func (p *PackedS8) segChunk(i0, rows int, a []int8, lda, segStride int, aOffset int32, init, acc []int32) {
	if p.k == 0 {
		clear(acc[:rows*p.n]) // an empty sum; the kernels need a segment
		return
	}
	if p.segQ > 0 {
		p.runSeg(i0, rows, a, lda, segStride, init, acc, p.n)
		return
	}
	// Gather the rows into contiguous ones for the plain kernels.
	seg, nseg := p.seg, p.k/p.seg
	bufp := s8Pool.Get().(*[]int16)
	defer s8Pool.Put(bufp)
	if need := (rows*p.k + 1) / 2; cap(*bufp) < need {
		*bufp = make([]int16, need)
	}
	buf := unsafe.Slice((*int8)(unsafe.Pointer(unsafe.SliceData(*bufp))), rows*p.k)
	for r := 0; r < rows; r++ {
		for s := 0; s < nseg; s++ {
			off := (i0+r)*lda + s*segStride
			copy(buf[r*p.k+s*seg:r*p.k+(s+1)*seg], a[off:off+seg])
		}
	}
	p.mulThreads(1, rows, buf, p.k, aOffset, acc, p.n)
}

// initFor returns (pooled; Put it back) the accumulator start per column
// for input offset aOffset: the zero-point term aOffset·Σ_p B[j][p], and
// for u8 panels, where A is fed as a+128, −128·Σ_p B[j][p] as well.
// int32 arithmetic wraps exactly as the reference's does.
func (p *PackedS8) initFor(aOffset int32) *[]int32 {
	bufp := i32Pool.Get().(*[]int32)
	if cap(*bufp) < p.np {
		*bufp = make([]int32, p.np)
	}
	*bufp = (*bufp)[:p.np]
	init := *bufp
	off := aOffset
	if p.set.format == fmtU8Quad {
		off -= 128
	}
	for j, s := range p.rowSum {
		init[j] = off * s
	}
	return bufp
}

// runSeg computes rows i0..i0+rows of C (into c, row 0 = i0) with the
// segmented kernel. Each segment is read as segQ groups of 4 bytes, so up
// to 3 bytes past a segment (weights there are zero); row tiles whose
// reads could leave A's slice, and the partial last tile, are copied into
// a zero-padded scratch first.
func (p *PackedS8) runSeg(i0, rows int, a []int8, lda, segStride int, init, c []int32, ldc int) {
	kern := p.kern
	mr, nr := kern.mr, kern.nr
	nseg, segQ, seg := p.k/p.seg, p.segQ, p.seg
	segB := 4 * segQ
	rowLen := nseg * segB
	// One pooled buffer (int16 units): the int32 edge tile, then the
	// row scratch.
	bufp := s8Pool.Get().(*[]int16)
	defer s8Pool.Put(bufp)
	need := 2*mr*nr + (mr*rowLen+1)/2
	if cap(*bufp) < need {
		*bufp = make([]int16, need)
	}
	buf := (*bufp)[:need]
	tile := unsafe.Slice((*int32)(unsafe.Pointer(&buf[0])), mr*nr)
	scratch := unsafe.Slice((*int8)(unsafe.Pointer(&buf[2*mr*nr])), mr*rowLen)
	bslv := p.kq * nr * 4
	for is := 0; is < rows; is += mr {
		h := min(mr, rows-is)
		gi := i0 + is
		var aptr *int8
		ald, adj := lda, segStride-segB
		if h == mr && (gi+mr-1)*lda+(nseg-1)*segStride+segB <= len(a) {
			aptr = &a[gi*lda]
		} else {
			gatherSegRows(scratch, a, gi, h, lda, nseg, segStride, seg, segB)
			aptr, ald, adj = &scratch[0], rowLen, 0
		}
		for js := 0; js*nr < p.n; js++ {
			j0 := js * nr
			w := min(nr, p.n-j0)
			bptr := unsafe.Pointer(&p.u8[js*bslv])
			if w == nr && h == mr {
				kern.seg(nseg, segQ, aptr, ald, adj, bptr, &c[is*ldc+j0], ldc, &init[j0])
				continue
			}
			kern.seg(nseg, segQ, aptr, ald, adj, bptr, &tile[0], nr, &init[j0])
			for r := 0; r < h; r++ {
				copy(c[(is+r)*ldc+j0:(is+r)*ldc+j0+w], tile[r*nr:r*nr+w])
			}
		}
	}
}

// gatherSegRows copies the nseg segments of seg bytes (segStride apart)
// of the h A rows from r0 on (lda apart) into scratch, each segment
// padded to segB bytes and each row to nseg·segB, for a row tile whose
// reads would leave a. The bytes past each segment meet zero weights:
// any value works, but clearing keeps the scratch deterministic.
func gatherSegRows(scratch, a []int8, r0, h, lda, nseg, segStride, seg, segB int) {
	clear(scratch)
	rowLen := nseg * segB
	for r := 0; r < h; r++ {
		for s := 0; s < nseg; s++ {
			off := (r0+r)*lda + s*segStride
			copy(scratch[r*rowLen+s*segB:r*rowLen+s*segB+seg], a[off:off+seg])
		}
	}
}

// packSegSlivers stores the n weight rows of b (k = nseg·seg values each,
// ldb apart) in the segmented kernels' sliver layout, shared by the u8-quad
// (g = 4, int8) and int16-pair (g = 2, int16) families: nr rows a sliver,
// kq groups of g values a row, each segment of seg values starting a fresh
// group (segG groups a segment, zero-padded), so that a micro-kernel step
// reads one group of every row of the sliver; rowSum gets each row's sum.
func packSegSlivers[T int8 | int16](dst []T, rowSum []int32, b []int8, n, k, ldb, seg, segG, g, nr, kq int) {
	nseg := k / seg
	for j := 0; j < n; j++ {
		row := b[j*ldb : j*ldb+k]
		var sum int32
		for _, v := range row {
			sum += int32(v)
		}
		rowSum[j] = sum
		base := (j/nr)*kq*nr*g + (j%nr)*g
		for s := 0; s < nseg; s++ {
			for t := 0; t < seg; t++ {
				q := s*segG + t/g
				dst[base+q*nr*g+t%g] = T(row[s*seg+t])
			}
		}
	}
}
