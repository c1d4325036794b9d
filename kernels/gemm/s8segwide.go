package gemm

import (
	"fmt"
	"sync"
)

// The fused int8 segmented product over int16 A, for the int16-pair
// kernel family (AVX2). AVX2 has no exact 4-byte dot product, so its k
// step is an int16 pair; a conv widens its padded image to int16 once
// per image (each value is then read fH·fW times per weight sliver)
// instead of sign-extending byte pairs at every use, and the kernel
// requantizes in registers and stores int8 rows in place, as the VNNI
// fused kernels do (s8segrows.go).

// s8SegWideFn is a fused segmented kernel over int16 A: nseg segments
// of kpSeg int16 pairs per row (rows lda bytes apart, segments adj bytes
// after the previous one's end), the int16-pair panel b, accumulators
// starting at init, each row requantized with params (fast layout, or
// NewRequantFP32's) and consts (Requant.consts8) and stored as 16 int8
// at c + rows[i]/4, or nowhere when rows[i] < 0.
type s8SegWideFn func(nseg, kpSeg int, a *int16, lda, adj int, b *int16, c *int8, rows *int, init *int32, params *int32, consts *int32)

// s8SegWidePFn is s8SegWideFn with row i of A at a + arows[i] bytes
// (MulRequantSegmentedWideAt), over nsl whole column slivers (b, c,
// init and params on by one sliver each) for each of tiles row tiles
// (arows and rows on by mr entries each); nsl, tiles ≥ 1.
type s8SegWidePFn func(nseg, kpSeg int, a *int16, arows *int, adj int, b *int16, c *int8, rows *int, init *int32, params *int32, consts *int32, nsl, tiles int)

// s8SegWide are a kernel's fused wide kernels per arithmetic: [0]
// without, [1] with a clamp narrower than int8 (fp32 always clamps);
// the p fields are the same kernels reading A rows through a table.
// pFP32Exact, when set, is pFP32 without the float clamps for products
// PackedS8.fp32Exact accepts.
type s8SegWide struct {
	single, double   [2]s8SegWideFn
	fp32             s8SegWideFn
	pSingle, pDouble [2]s8SegWidePFn
	pFP32            s8SegWidePFn
	pFP32Exact       [2]s8SegWidePFn
}

// PackS8SegmentedWide packs int8 weights like PackS8Segmented for
// MulRequantSegmentedRowsWide, or returns nil when the CPU's int8 kernels
// have no wide fused form (VNNI reads bytes in place instead; plain Go
// has none).
func PackS8SegmentedWide(b []int8, n, k, ldb, seg int) *PackedS8 {
	return packS8SegWideWith(defaultS8, b, n, k, ldb, seg)
}

func packS8SegWideWith(set *s8Set, b []int8, n, k, ldb, seg int) *PackedS8 {
	if n < 0 || k < 0 || seg <= 0 || k%seg != 0 {
		panic(fmt.Sprintf("gemm: PackS8SegmentedWide: n=%d k=%d seg=%d (k must be a positive multiple of seg)", n, k, seg))
	}
	checkLen("B", len(b), n, k, ldb)
	if set.format != fmtI16Pair {
		return nil
	}
	// The tile whose columns n fills best (pick's score; the zmm family
	// has 64-, 32- and 16-column tiles, the AVX2 one a single tile).
	var kern *s8Kernel
	best := -1.0
	for i := range set.kernels {
		k := &set.kernels[i]
		if k.segWide == nil {
			continue
		}
		if score := useful(n, k.nr) * k.weight; score > best {
			kern, best = k, score
		}
	}
	if kern == nil {
		return nil
	}
	nr := kern.nr
	nseg, segP := k/seg, (seg+1)/2
	p := &PackedS8{set: set, kern: kern, n: n, k: k, kq: nseg * segP, seg: seg, segQ: segP, wide: true}
	p.np = (n + nr - 1) / nr * nr
	p.rowSum = make([]int32, p.np)
	p.i16 = make([]int16, p.np*p.kq*2)
	packSegSlivers(p.i16, p.rowSum, b, n, k, ldb, seg, segP, 2, nr, p.kq)
	p.absSum = absRowSums(b, n, k, ldb)
	return p
}

// wideFn returns the fused wide kernel for rq, nil when there is none
// (the parameters are outside the fast layout's range).
func (p *PackedS8) wideFn(rq *Requant) (s8SegWideFn, []int32) {
	w := p.kern.segWide
	if w == nil || rq == nil || rq.wideP == nil {
		return nil, nil
	}
	if rq.fp32 {
		return w.fp32, rq.wideP
	}
	c := 0
	if rq.lo > -128 || rq.hi < 127 {
		c = 1
	}
	if rq.single {
		return w.single[c], rq.wideP
	}
	return w.double[c], rq.wideP
}

// FusesRequantWide reports whether MulRequantSegmentedRowsWide runs p
// with rq in fused kernels; otherwise it computes the same result in
// plain Go (slowly: a caller should then take another path).
func (p *PackedS8) FusesRequantWide(rq *Requant) bool {
	fn, _ := p.wideFn(rq)
	return p.wide && fn != nil && rq.n == p.n && p.k > 0
}

// MulRequantSegmentedRowsWide is MulRequantSegmentedRows with A given as
// int16 (each element an int8 value, sign-extended) instead of u8-offset
// bytes; lda and segStride count int16 elements. p must come from
// PackS8SegmentedWide. The result is bit-identical to
// MulRequantSegmented on the int8 values followed by the row copies.
func (p *PackedS8) MulRequantSegmentedRowsWide(threads, m int, a []int16, lda, segStride int, aOffset int32, rq *Requant, out []int8, rm *RowMap) {
	seg, n := p.seg, p.n
	if !p.wide {
		panic("gemm: MulRequantSegmentedRowsWide: weights not packed with PackS8SegmentedWide")
	}
	if m < 0 || lda < 0 || segStride < seg || m > rm.Len() || rm.n != n {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedRowsWide: m=%d lda=%d segStride=%d seg=%d, map of %d rows×%d for N=%d", m, lda, segStride, seg, rm.Len(), rm.n, n))
	}
	if rq == nil || rq.n != n {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedRowsWide: requant for %d channels, weights have %d", rqN(rq), n))
	}
	nseg := p.k / seg
	if m > 0 && p.k > 0 {
		if need := (m-1)*lda + (nseg-1)*segStride + seg; len(a) < need {
			panic(fmt.Sprintf("gemm: MulRequantSegmentedRowsWide: A has %d elements, need %d", len(a), need))
		}
	}
	if m == 0 || n == 0 || rm.need[m-1] == 0 {
		return
	}
	if len(out) < rm.need[m-1] {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedRowsWide: out has %d elements, the map needs %d", len(out), rm.need[m-1]))
	}
	initp := p.initFor(aOffset)
	defer i32Pool.Put(initp)
	init := *initp
	if !p.FusesRequantWide(rq) {
		p.segRowsWideGo(m, a, func(i int) int { return i * lda }, segStride, init, rq, out, rm)
		return
	}
	// The bias joins the zero-point terms (int32 sums wrap, so this is
	// the reference's acc + bias bit for bit).
	for j := range n {
		init[j] += rq.bias[j]
	}
	if threads <= 1 || m <= p.kern.mr {
		p.runSegRowsWide(0, m, a, lda, segStride, init, rq, out, rm)
		return
	}
	parallelRows(threads, m, p.kern.mr, func(r0, r1 int) {
		p.runSegRowsWide(r0, r1, a, lda, segStride, init, rq, out, rm)
	})
}

// wideTail is the scratch of runSegRowsWide's copied row tiles and
// partial column slivers.
type wideTail struct {
	rows, cols, arows [maxMRS8]int
	a                 []int16
	tile              []int8
}

var wideTailPool = sync.Pool{New: func() any { return new(wideTail) }}

// runSegRowsWide runs rows r0..r1 (r0 a multiple of mr) through the
// fused wide kernel. Row tiles whose reads could leave a (each segment
// is read as whole pairs), and the partial last tile, are copied into a
// scratch first; a partial last column sliver is stored into a scratch
// tile and its w columns copied out (the kernels store 16 per row).
func (p *PackedS8) runSegRowsWide(r0, r1 int, a []int16, lda, segStride int, init []int32, rq *Requant, out []int8, rm *RowMap) {
	kern := p.kern
	mr, nr := kern.mr, kern.nr
	nseg, segP, seg := p.k/p.seg, p.segQ, p.seg
	segE := 2 * segP
	rowLen := nseg * segE
	fn, params := p.wideFn(rq)
	tail := wideTailPool.Get().(*wideTail)
	defer wideTailPool.Put(tail)
	bslv := p.kq * nr * 2
	for is := r0; is < r1; is += mr {
		h := min(mr, r1-is)
		tabS := rm.off[is : is+h]
		tab := &tabS[0]
		var aptr *int16
		ald, adj := 2*lda, 2*(segStride-segE)
		if h == mr && (is+mr-1)*lda+(nseg-1)*segStride+segE <= len(a) {
			aptr = &a[is*lda]
		} else {
			if cap(tail.a) < mr*rowLen {
				tail.a = make([]int16, mr*rowLen)
			}
			scratch := tail.a[:mr*rowLen]
			clear(scratch)
			for r := 0; r < h; r++ {
				for s := 0; s < nseg; s++ {
					off := (is+r)*lda + s*segStride
					copy(scratch[r*rowLen+s*segE:r*rowLen+s*segE+seg], a[off:off+seg])
				}
			}
			aptr, ald, adj = &scratch[0], 2*rowLen, 0
			if h < mr {
				copy(tail.rows[:h], rm.off[is:is+h])
				for r := h; r < mr; r++ {
					tail.rows[r] = -1
				}
				tab = &tail.rows[0]
			}
		}
		for js := 0; js*nr < p.n; js++ {
			j0 := js * nr
			w := min(nr, p.n-j0)
			prm := &params[(j0/16)*112]
			if w == nr {
				fn(nseg, segP, aptr, ald, adj, &p.i16[js*bslv], &out[j0], tab, &init[j0], prm, &rq.consts8[0])
				continue
			}
			if cap(tail.tile) < mr*nr {
				tail.tile = make([]int8, mr*nr)
			}
			for r := 0; r < mr; r++ {
				tail.cols[r] = -1
				if r < h && tabS[r] >= 0 {
					tail.cols[r] = 4 * r * nr
				}
			}
			fn(nseg, segP, aptr, ald, adj, &p.i16[js*bslv], &tail.tile[0], &tail.cols[0], &init[j0], prm, &rq.consts8[0])
			for r := 0; r < h; r++ {
				if o := tabS[r]; o >= 0 {
					copy(out[o/4+j0:o/4+j0+w], tail.tile[r*nr:r*nr+w])
				}
			}
		}
	}
}

// segRowsWideGo is MulRequantSegmentedRowsWide in plain Go, for
// requantizations without a fused kernel: the products from the packed
// panel, then the reference epilogue. init holds the zero-point terms.
// Row i of A starts at a[start(i)].
func (p *PackedS8) segRowsWideGo(m int, a []int16, start func(i int) int, segStride int, init []int32, rq *Requant, out []int8, rm *RowMap) {
	nr := p.kern.nr
	nseg, segP, seg := p.k/p.seg, p.segQ, p.seg
	for i := 0; i < m; i++ {
		o := rm.off[i]
		if o < 0 {
			continue
		}
		dst := out[o/4 : o/4+p.n]
		a0 := start(i)
		for j := range p.n {
			acc := init[j]
			base := (j/nr)*p.kq*nr*2 + (j%nr)*2
			for s := 0; s < nseg; s++ {
				row := a[a0+s*segStride : a0+s*segStride+seg]
				for t, v := range row {
					q := s*segP + t/2
					acc += int32(v) * int32(p.i16[base+q*nr*2+t%2])
				}
			}
			dst[j] = rq.one(acc, j)
		}
	}
}

// wideParams returns the fused AVX2 kernels' copy of fast layout fp
// (Requant.fastParams): the same, except that each group's first 16
// dwords, the bias there (the fused kernels take it from init), hold
// each channel's total shift minus 32, the count of the arithmetic
// dword shift that AVX2 does instead of a 64-bit one.
func wideParams(fp []int32) []int32 {
	w := padWideGroups(fp)
	for g := 0; g < len(fp); g += 112 {
		for l := range 16 {
			if l%2 == 0 {
				w[g+l] = w[g+80+l] - 32 // t
			} else {
				w[g+l] = w[g+96+l-1] // already t − 32
			}
		}
	}
	return w
}

// padWideGroups returns p (groups of 112 int32) copied and zero-padded
// to a multiple of 4 groups: a zmm wide kernel reads the parameters of
// all 64 columns of its sliver, also past n on a partial last one
// (columns the driver then drops). Zero shifts and multipliers are
// harmless there.
func padWideGroups(p []int32) []int32 {
	groups := (len(p)/112 + 3) / 4 * 4
	w := make([]int32, groups*112)
	copy(w, p)
	return w
}

// setConsts8 fills r.consts8 from r.zlh.
func (r *Requant) setConsts8() {
	for i := range 8 {
		r.consts8[i] = r.zlh[0]
		r.consts8[8+i] = r.zlh[1]
		r.consts8[16+i] = r.zlh[2]
		r.consts8[24+i] = r.zlh[3]
		r.consts8[32+i] = r.zlh[4]
	}
}
