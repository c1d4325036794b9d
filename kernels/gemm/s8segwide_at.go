package gemm

import "fmt"

// The fused wide product with A rows anywhere. A strided conv's output
// pixels read windows strideW·inC apart within an output row but
// strideH·pitch·inC apart across rows, so the constant-stride kernels
// of MulRequantSegmentedRowsWide either compute the rows between output
// rows or run one call per output row, whose last tile is partial (a
// third of the work wasted at outW = 8). The "P" kernels take each row's
// start from a table instead, so a call covers a whole image with full
// tiles only.

// ARows lists where each row of an int16 A starts, for
// MulRequantSegmentedWideAt.
type ARows struct {
	off []int // byte offsets (2·element offsets) for the kernels
	// hi[i] is the largest element offset of rows 0..i, so a call checks
	// its bounds in O(1).
	hi []int
}

// NewARows builds the table of rows starting at the given element
// offsets (each ≥ 0).
func NewARows(offsets []int) *ARows {
	t := &ARows{off: make([]int, len(offsets)), hi: make([]int, len(offsets))}
	hi := 0
	for i, o := range offsets {
		if o < 0 {
			panic(fmt.Sprintf("gemm: NewARows: row %d at negative offset %d", i, o))
		}
		hi = max(hi, o)
		t.off[i], t.hi[i] = 2*o, hi
	}
	return t
}

// Len is the number of rows in the table.
func (t *ARows) Len() int { return len(t.off) }

// wideAtFn is wideFn for the table-reading kernels.
func (p *PackedS8) wideAtFn(rq *Requant) (s8SegWidePFn, []int32) {
	w := p.kern.segWide
	if w == nil || rq == nil || rq.wideP == nil {
		return nil, nil
	}
	c := 0
	if rq.lo > -128 || rq.hi < 127 {
		c = 1
	}
	if rq.fp32 {
		if w.pFP32Exact[c] != nil && p.fp32Exact(rq) {
			return w.pFP32Exact[c], rq.wideP
		}
		return w.pFP32, rq.wideP
	}
	if rq.single {
		return w.pSingle[c], rq.wideP
	}
	return w.pDouble[c], rq.wideP
}

// FusesRequantWideAt reports whether MulRequantSegmentedWideAt runs p
// with rq in fused kernels; otherwise it computes the same result in
// plain Go (slowly: a caller should then take another path).
func (p *PackedS8) FusesRequantWideAt(rq *Requant) bool {
	fn, _ := p.wideAtFn(rq)
	return p.wide && fn != nil && rq.n == p.n && p.k > 0
}

// WideAtNeed is the length A must have for MulRequantSegmentedWideAt
// over rows whose largest start offset is hi: the kernels read each
// segment as whole int16 pairs, one element past an odd segment.
func (p *PackedS8) WideAtNeed(hi, segStride int) int {
	if p.k == 0 {
		return hi
	}
	return hi + (p.k/p.seg-1)*segStride + 2*p.segQ
}

// MulRequantSegmentedWideAt is MulRequantSegmentedRowsWide with row i of
// A starting at element rt's offset i of a instead of i·lda; m must not
// exceed rt.Len() or rm.Len(), and a must hold WideAtNeed(the rows'
// largest offset, segStride) elements. The result is bit-identical to
// MulRequantSegmented on the rows gathered and the int8 values.
func (p *PackedS8) MulRequantSegmentedWideAt(threads, m int, a []int16, rt *ARows, segStride int, aOffset int32, rq *Requant, out []int8, rm *RowMap) {
	seg, n := p.seg, p.n
	if !p.wide {
		panic("gemm: MulRequantSegmentedWideAt: weights not packed with PackS8SegmentedWide")
	}
	if m < 0 || segStride < seg || m > rm.Len() || m > rt.Len() || rm.n != n {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedWideAt: m=%d segStride=%d seg=%d, %d A rows, map of %d rows×%d for N=%d", m, segStride, seg, rt.Len(), rm.Len(), rm.n, n))
	}
	if rq == nil || rq.n != n {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedWideAt: requant for %d channels, weights have %d", rqN(rq), n))
	}
	if m == 0 || n == 0 || rm.need[m-1] == 0 {
		return
	}
	if need := p.WideAtNeed(rt.hi[m-1], segStride); len(a) < need {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedWideAt: A has %d elements, need %d", len(a), need))
	}
	if len(out) < rm.need[m-1] {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedWideAt: out has %d elements, the map needs %d", len(out), rm.need[m-1]))
	}
	initp := p.initFor(aOffset)
	defer i32Pool.Put(initp)
	init := *initp
	if p.k == 0 || !p.FusesRequantWideAt(rq) {
		p.segRowsWideGo(m, a, func(i int) int { return rt.off[i] / 2 }, segStride, init, rq, out, rm)
		return
	}
	for j := range n {
		init[j] += rq.bias[j]
	}
	if threads <= 1 || m <= p.kern.mr {
		p.runSegWideAt(0, m, a, rt, segStride, init, rq, out, rm)
		return
	}
	parallelRows(threads, m, p.kern.mr, func(r0, r1 int) {
		p.runSegWideAt(r0, r1, a, rt, segStride, init, rq, out, rm)
	})
}

// runSegWideAt runs rows r0..r1 (r0 a multiple of mr) through the table
// kernels: the whole row tiles, all their whole column slivers, in one
// call (the kernels loop over both); the partial last tile repeats its
// last row (mapped nowhere), so its reads stay where the checked rows'
// do; a partial last column sliver is stored into a scratch tile a row
// tile at a time and its w columns copied out.
func (p *PackedS8) runSegWideAt(r0, r1 int, a []int16, rt *ARows, segStride int, init []int32, rq *Requant, out []int8, rm *RowMap) {
	kern := p.kern
	mr, nr := kern.mr, kern.nr
	nseg, segP := p.k/p.seg, p.segQ
	adj := 2 * (segStride - 2*segP)
	fn, params := p.wideAtFn(rq)
	full := p.n / nr
	tiles := (r1 - r0) / mr
	if tiles > 0 && full > 0 {
		fn(nseg, segP, &a[0], &rt.off[r0], adj, &p.i16[0], &out[0], &rm.off[r0], &init[0], &params[0], &rq.consts8[0], full, tiles)
	}
	start := r0 + tiles*mr // the partial last tile
	if full*nr < p.n {
		start = r0 // every tile's partial sliver
	}
	if start >= r1 {
		return
	}
	// The kernels are called through a func value, so whatever they are
	// handed escapes: the row tables live in a pooled scratch.
	tail := wideTailPool.Get().(*wideTail)
	defer wideTailPool.Put(tail)
	bslv := p.kq * nr * 2
	for is := start; is < r1; is += mr {
		h := min(mr, r1-is)
		tabS := rm.off[is : is+h]
		atab := &rt.off[is]
		if h < mr {
			copy(tail.arows[:h], rt.off[is:is+h])
			copy(tail.rows[:h], tabS)
			for r := h; r < mr; r++ {
				tail.arows[r], tail.rows[r] = rt.off[is+h-1], -1
			}
			atab = &tail.arows[0]
			if full > 0 {
				fn(nseg, segP, &a[0], atab, adj, &p.i16[0], &out[0], &tail.rows[0], &init[0], &params[0], &rq.consts8[0], full, 1)
			}
		}
		if full*nr == p.n {
			continue
		}
		j0, w := full*nr, p.n-full*nr
		if cap(tail.tile) < mr*nr {
			tail.tile = make([]int8, mr*nr)
		}
		for r := 0; r < mr; r++ {
			tail.cols[r] = -1
			if r < h && tabS[r] >= 0 {
				tail.cols[r] = 4 * r * nr
			}
		}
		fn(nseg, segP, &a[0], atab, adj, &p.i16[full*bslv], &tail.tile[0], &tail.cols[0], &init[j0], &params[(j0/16)*112], &rq.consts8[0], 1, 1)
		for r := 0; r < h; r++ {
			if o := tabS[r]; o >= 0 {
				copy(out[o/4+j0:o/4+j0+w], tail.tile[r*nr:r*nr+w])
			}
		}
	}
}
