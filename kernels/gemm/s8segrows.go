package gemm

import (
	"fmt"
	"math"
	"sync"
)

// FusesRequant reports whether MulRequantSegmentedRows runs p with rq
// in the fused micro-kernels (requantization in registers, int8 rows
// stored in place). Otherwise it still works, through a slower
// un-offset copy and MulRequantSegmented; a caller that has the plain
// input at hand should then call MulRequantSegmented itself.
func (p *PackedS8) FusesRequant(rq *Requant) bool {
	if p.segQ == 0 || rq == nil || rq.n != p.n || p.k == 0 {
		return false
	}
	if p.kern.segFT != nil {
		return rq.wideP != nil
	}
	return p.kern.segFused(rq)[0] != nil && rq.fast
}

// segFused returns the fused kernels for rq's arithmetic.
func (k *s8Kernel) segFused(rq *Requant) [2]s8SegFusedFn {
	if rq.fp32 {
		return segFusedFP32(k.name)
	}
	if rq.single {
		return k.segF
	}
	return segFusedDouble(k.name)
}

// MulRequantSegmentedRows is MulRequantSegmented storing row i of the
// int8 result at out[o : o+N] for the offset o that rm gives it (rows it
// maps nowhere are dropped; out elsewhere is not touched), with A given
// offset to u8: every byte of a is the input byte XOR 0x80 (x + 128 as
// an unsigned byte). A stride-1 int8 convolution fills its padded image
// that way once, so the micro-kernels need no per-use sign flip, and
// maps each padded row's valid pixels to the NHWC output. rm is a
// RowMap for p.N() columns built with element offsets (its float byte
// table is shared); m must not exceed rm.Len(). The result is
// bit-identical to MulRequantSegmented on the un-offset input followed
// by the row copies.
func (p *PackedS8) MulRequantSegmentedRows(threads, m int, a []int8, lda, segStride int, aOffset int32, rq *Requant, out []int8, rm *RowMap) {
	seg, n := p.seg, p.n
	if seg <= 0 || p.wide {
		panic("gemm: MulRequantSegmentedRows: weights not packed with PackS8Segmented")
	}
	if m < 0 || lda < 0 || segStride < seg || m > rm.Len() || rm.n != n {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedRows: m=%d lda=%d segStride=%d seg=%d, map of %d rows×%d for N=%d", m, lda, segStride, seg, rm.Len(), rm.n, n))
	}
	if rq == nil || rq.n != n {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedRows: requant for %d channels, weights have %d", rqN(rq), n))
	}
	nseg := p.k / seg
	need := 0
	if m > 0 && p.k > 0 {
		// A tail pack's rows hold seg bytes a segment too.
		need = (m-1)*lda + (nseg-1)*segStride + seg
		if len(a) < need {
			panic(fmt.Sprintf("gemm: MulRequantSegmentedRows: A has %d elements, need %d", len(a), need))
		}
	}
	if m == 0 || n == 0 || rm.need[m-1] == 0 {
		return
	}
	if len(out) < rm.need[m-1] {
		panic(fmt.Sprintf("gemm: MulRequantSegmentedRows: out has %d elements, the map needs %d", len(out), rm.need[m-1]))
	}
	if p.tail == nil && !p.FusesRequant(rq) {
		p.segRowsUnfused(threads, m, a[:need], lda, segStride, aOffset, rq, out, rm)
		return
	}
	initp := p.initFor(aOffset)
	defer i32Pool.Put(initp)
	init := *initp
	// The bias joins the zero-point terms: int32 sums wrap, so adding it
	// first gives the reference's acc + bias bit for bit.
	for j := range n {
		init[j] += rq.bias[j]
	}
	if p.tail != nil {
		// One thread, rows in order: a conv's map may send a dropped
		// row to where a later row lands (segRowMapFull), which then
		// has the last word.
		var elem []int
		if rm.elem != nil {
			elem = rm.elem[:m]
		}
		p.mulSegTailRows(m, a, lda, segStride, init, rq, out, rm.off[:m], elem)
		return
	}
	if threads <= 1 || m <= p.kern.mr {
		p.runSegRowsS8(0, m, a, lda, segStride, init, rq, out, rm)
		return
	}
	parallelRows(threads, m, p.kern.mr, func(r0, r1 int) {
		p.runSegRowsS8(r0, r1, a, lda, segStride, init, rq, out, rm)
	})
}

// segRowsUnfused is MulRequantSegmentedRows without a fused kernel: the
// input un-offset into a copy, MulRequantSegmented into a dense block,
// then the mapped rows copied out.
func (p *PackedS8) segRowsUnfused(threads, m int, a []int8, lda, segStride int, aOffset int32, rq *Requant, out []int8, rm *RowMap) {
	n := p.n
	plain := make([]int8, len(a))
	for i, v := range a {
		plain[i] = v ^ -128
	}
	tmp := make([]int8, m*n)
	p.MulRequantSegmented(threads, m, plain, lda, segStride, aOffset, rq, tmp, n)
	for i, o := range rm.off[:m] {
		if o >= 0 {
			copy(out[o/4:o/4+n], tmp[i*n:(i+1)*n])
		}
	}
}

// runSegRowsS8 runs rows r0..r1 (r0 a multiple of mr) through the fused
// kernel. Row tiles whose reads could leave a (each segment is read as
// segQ whole groups), and the partial last tile, are copied into a
// scratch first; the partial tile's missing rows map nowhere.
func (p *PackedS8) runSegRowsS8(r0, r1 int, a []int8, lda, segStride int, init []int32, rq *Requant, out []int8, rm *RowMap) {
	kern := p.kern
	mr, nr := kern.mr, kern.nr
	nseg, segQ, seg := p.k/p.seg, p.segQ, p.seg
	segB := 4 * segQ
	rowLen := nseg * segB
	if kern.segFT != nil {
		p.runSegRowsTiles(r0, r1, a, lda, segStride, init, rq, out, rm)
		return
	}
	fns := kern.segFused(rq)
	fn := fns[0]
	if rq.lo > -128 || rq.hi < 127 {
		fn = fns[1]
	}
	// The kernels are called through a func value, so whatever they are
	// handed escapes: the tail's row table and A copy live in a pooled
	// scratch, not on the stack.
	var tail *s8SegTail
	bslv := p.kq * nr * 4
	for is := r0; is < r1; is += mr {
		h := min(mr, r1-is)
		tab := &rm.off[is]
		var aptr *int8
		ald, adj := lda, segStride-segB
		if h == mr && (is+mr-1)*lda+(nseg-1)*segStride+segB <= len(a) {
			aptr = &a[is*lda]
		} else {
			if tail == nil {
				tail = s8SegTailPool.Get().(*s8SegTail)
			}
			if cap(tail.a) < mr*rowLen {
				tail.a = make([]int8, mr*rowLen)
			}
			scratch := tail.a[:mr*rowLen]
			gatherSegRows(scratch, a, is, h, lda, nseg, segStride, seg, segB)
			aptr, ald, adj = &scratch[0], rowLen, 0
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
			mask := ^uint64(0) >> (64 - w)
			fn(nseg, segQ, aptr, ald, adj, &p.u8[js*bslv], &out[j0], tab, &init[j0], &rq.params[(j0/16)*112], &rq.zlh[0], mask)
		}
	}
	if tail != nil {
		s8SegTailPool.Put(tail)
	}
}

// fp32Exact reports whether every accumulator of p with rq's bias, whatever
// the int8 input and its zero point, scaled by rq's fp32 scale stays below
// 2^30 in magnitude: |acc + bias| ≤ |bias| + 255·Σ|w| (the input minus its
// zero point is within ±255). The float clamps of XNNPACK's
// requantization then only clamp to the output range, which the kernels
// without them (s8SegTiles.fp32Exact, s8SegWide.pFP32Exact) do after
// rounding.
// The answer for the last rq asked is kept (a conv asks per chunk of
// rows, always with the same rq).
func (p *PackedS8) fp32Exact(rq *Requant) bool {
	if !rq.fp32 || p.absSum == nil || len(rq.scale) != p.n {
		return false
	}
	if m := p.exact.Load(); m != nil && m.rq == rq {
		return m.ok
	}
	ok := true
	for j, a := range p.absSum {
		b := math.Abs(float64(rq.bias[j])) + 255*float64(a)
		if b*float64(rq.scale[j]) >= 1<<30 {
			ok = false
			break
		}
	}
	p.exact.Store(&exactMemo{rq: rq, ok: ok})
	return ok
}

// exactMemo is PackedS8.fp32Exact's answer for one Requant.
type exactMemo struct {
	rq *Requant
	ok bool
}

// maxMRS8 bounds the row count of an int8 tile (28 today).
const maxMRS8 = 32

// s8SegTail is the scratch of runSegRowsS8's and runSegRowsTiles'
// copied row tiles, and of the latter's partial column slivers.
type s8SegTail struct {
	rows, cols [maxMRS8]int
	a          []int8
	tile       []int8
}

// s8SegTilesFn is a fused segmented kernel of s8SegFusedFn's arithmetic
// with the AVX2 requantization: params is Requant.wideP's group of the
// first column, consts Requant.consts8; it runs nsl 16-column slivers
// (b on through the panel, init, c and params a group on each) over each
// of tiles row tiles (a mr·lda bytes and rows mr entries on each), and
// stores all 16 columns of every mapped row.
type s8SegTilesFn func(nseg, kqSeg int, a *int8, lda, adj int, b *int8, c *int8, rows *int, init *int32, params *int32, consts *int32, nsl, tiles int)

// byArith holds one kernel per arithmetic: [0] without, [1] with a
// clamp narrower than int8; fp32 always clamps, fp32Exact is fp32 for
// products PackedS8.fp32Exact accepts.
type byArith[F any] struct {
	single, double, fp32Exact [2]F
	fp32                      F
}

// pick returns the kernel of k for p's products requantized by rq.
func (k *byArith[F]) pick(p *PackedS8, rq *Requant) F {
	c := 0
	if rq.lo > -128 || rq.hi < 127 {
		c = 1
	}
	switch {
	case rq.fp32 && p.fp32Exact(rq):
		return k.fp32Exact[c]
	case rq.fp32:
		return k.fp32
	case rq.single:
		return k.single[c]
	}
	return k.double[c]
}

// s8SegTiles are a kernel's s8SegTilesFn per arithmetic.
type s8SegTiles = byArith[s8SegTilesFn]

// tilesFn returns p's segFT kernel for rq.
func (p *PackedS8) tilesFn(rq *Requant) s8SegTilesFn { return p.kern.segFT.pick(p, rq) }

// runSegRowsTiles is runSegRowsS8 for segFT kernels: the whole row tiles
// whose reads stay inside a (a prefix of r0..r1), all their whole column
// slivers in one call; then the rest, a tile at a time from a gathered
// copy, and a partial last sliver, a tile at a time into a scratch tile
// whose w columns are copied out.
func (p *PackedS8) runSegRowsTiles(r0, r1 int, a []int8, lda, segStride int, init []int32, rq *Requant, out []int8, rm *RowMap) {
	mr, nr := p.kern.mr, p.kern.nr
	nseg, segQ, seg := p.k/p.seg, p.segQ, p.seg
	segB := 4 * segQ
	rowLen := nseg * segB
	fn := p.tilesFn(rq)
	full := p.n / nr
	adj := segStride - segB
	tiles := (r1 - r0) / mr
	if lim := len(a) - (nseg-1)*segStride - segB; lda > 0 {
		// Row tile t reads up to row r0+(t+1)·mr−1: keep those inside a.
		tiles = min(tiles, max(0, ((lim+lda)/lda-r0)/mr))
	} else if lim < 0 {
		tiles = 0
	}
	if tiles > 0 && full > 0 {
		fn(nseg, segQ, &a[r0*lda], lda, adj, &p.u8[0], &out[0], &rm.off[r0], &init[0], &rq.wideP[0], &rq.consts8[0], full, tiles)
	}
	start := r0 + tiles*mr // the gathered tiles
	if full*nr < p.n {
		start = r0 // every tile's partial sliver
	}
	if start >= r1 {
		return
	}
	// The kernels are called through a func value, so whatever they are
	// handed escapes: the row tables and A copies live in a pooled
	// scratch, not on the stack.
	tail := s8SegTailPool.Get().(*s8SegTail)
	defer s8SegTailPool.Put(tail)
	for is := start; is < r1; is += mr {
		h := min(mr, r1-is)
		tabS := rm.off[is : is+h]
		aptr, ald, tadj, tab := &a[0], lda, adj, &tabS[0]
		if is < r0+tiles*mr {
			aptr = &a[is*lda]
		} else {
			if cap(tail.a) < mr*rowLen {
				tail.a = make([]int8, mr*rowLen)
			}
			scratch := tail.a[:mr*rowLen]
			gatherSegRows(scratch, a, is, h, lda, nseg, segStride, seg, segB)
			aptr, ald, tadj = &scratch[0], rowLen, 0
			if h < mr {
				copy(tail.rows[:h], tabS)
				for r := h; r < mr; r++ {
					tail.rows[r] = -1
				}
				tab = &tail.rows[0]
			}
			if full > 0 {
				fn(nseg, segQ, aptr, ald, tadj, &p.u8[0], &out[0], tab, &init[0], &rq.wideP[0], &rq.consts8[0], full, 1)
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
		fn(nseg, segQ, aptr, ald, tadj, &p.u8[full*p.kq*nr*4], &tail.tile[0], &tail.cols[0], &init[j0], &rq.wideP[(j0/16)*112], &rq.consts8[0], 1, 1)
		for r, o := range tabS {
			if o >= 0 {
				copy(out[o/4+j0:o/4+j0+w], tail.tile[r*nr:r*nr+w])
			}
		}
	}
}

var s8SegTailPool = sync.Pool{New: func() any { return new(s8SegTail) }}
