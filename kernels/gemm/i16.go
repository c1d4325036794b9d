package gemm

import (
	"fmt"
	"sync"
)

// The int16 segmented product: int16 A and B, int32 C, no zero points
// and no requantization. The int8 kernels of the int16-pair families
// (AVX2, plain Go) multiply int16 pairs (VPMADDWD), so any operand that
// fits int16 runs on them at the int8 rate: the exact integer Winograd
// convolution (package kernels) multiplies its transformed int8 inputs
// (|v| ≤ 1280) by its integer-scaled transformed filters (|u| ≤ 3048)
// here, and finishes the sums itself.

// s8SegI16Fn is an int16 segmented product kernel of h-row tiles: init
// plus the int32 sums of A (h rows lda bytes apart, nseg segments of
// kpSeg int16 pairs, each segment adj bytes after the previous one's
// end) and the int16-pair panel b, stored to the h×nr tile at c (row
// stride ldc elements), for nsl consecutive column slivers (b on through
// the packed panel, c and init on by nr) of each of tiles row tiles (a
// on by h·lda bytes, c by h·ldc elements); nsl, tiles ≥ 1.
type s8SegI16Fn func(nseg, kpSeg int, a *int16, lda, adj int, b *int16, c *int32, ldc int, init *int32, nsl, tiles int)

// PackedI16 holds int16 weights (n rows of k = nseg·seg) packed for
// MulSegmented, each segment padded to whole int16 pairs. It is
// read-only after PackI16Segmented and safe for concurrent use.
type PackedI16 struct {
	set       *s8Set
	kern      *s8Kernel
	n, k      int
	seg, segP int // segment length and its pairs, ⌈seg/2⌉
	kp        int // pairs of a row: (k/seg)·segP
	i16       []int16
	zeros     []int32 // init: the products start at zero
}

// i16Set is the int16-pair kernel family MulSegmented runs on: the fused
// one (i16FusedSet) when the CPU has it, else the first int8 family this
// CPU can run that has a segmented int16 kernel, else the portable one
// (plain Go).
var i16Set = func() *s8Set {
	if f := i16FusedSet(); f != nil {
		return f
	}
	for _, s := range s8Sets() {
		if s.format == fmtI16Pair && segI16Kernel(s) != nil {
			return s
		}
	}
	return goS8Set
}()

// segI16Kernel is s's kernel with a segmented int16 form, nil if none.
func segI16Kernel(s *s8Set) *s8Kernel {
	for i := range s.kernels {
		if s.kernels[i].segI16 != nil {
			return &s.kernels[i]
		}
	}
	return nil
}

// I16Native reports whether the CPU's own int8 kernels (the ones
// MulRequant picks) multiply int16 pairs and MulSegmented runs in vector
// kernels of that family: then an int16 product costs what an int8 one
// does, and halving the multiplies (Winograd) pays. On VNNI CPUs the
// 4-way byte products are faster than any int16 form.
func I16Native() bool {
	return defaultS8.format == fmtI16Pair && defaultS8 == i16Set && segI16Kernel(i16Set) != nil
}

// I16Fused reports whether MulSegmented runs the fused int16 kernels
// (VPDPWSSD on AVX-VNNI CPUs without AVX-512): the same exact sums as
// VPMADDWD + VPADDD in half the vector instructions. I16Native stays
// false there (the int8 kernels are the u8-quad ones), so where
// Winograd pays on such a CPU is the caller's measured choice.
func I16Fused() bool { return i16Set == i16FusedSet() && i16Set != nil }

// PackI16Segmented packs b (n rows of k int16, row stride ldb; k a
// multiple of seg) for MulSegmented.
func PackI16Segmented(b []int16, n, k, ldb, seg int) *PackedI16 {
	return packI16With(i16Set, b, n, k, ldb, seg)
}

func packI16With(set *s8Set, b []int16, n, k, ldb, seg int) *PackedI16 {
	if n < 0 || k < 0 || seg <= 0 || k%seg != 0 {
		panic(fmt.Sprintf("gemm: PackI16Segmented: n=%d k=%d seg=%d (k must be a positive multiple of seg)", n, k, seg))
	}
	checkLen("B", len(b), n, k, ldb)
	kern := segI16Kernel(set)
	if kern == nil {
		kern = &set.kernels[0]
	}
	// The tile n fills best, when the family has several (the zmm one:
	// 64, 32 and 16 columns).
	for i := range set.kernels {
		if k := &set.kernels[i]; k.segI16 != nil && useful(n, k.nr)*k.weight > useful(n, kern.nr)*kern.weight {
			kern = k
		}
	}
	return packI16Kern(set, kern, b, n, k, ldb, seg)
}

// packI16Kern is packI16With for the kernel kern of set (its tile width).
func packI16Kern(set *s8Set, kern *s8Kernel, b []int16, n, k, ldb, seg int) *PackedI16 {
	nr := kern.nr
	segP := (seg + 1) / 2
	p := &PackedI16{set: set, kern: kern, n: n, k: k, seg: seg, segP: segP, kp: k / seg * segP}
	np := (n + nr - 1) / nr * nr
	p.i16 = make([]int16, np*p.kp*2)
	p.zeros = make([]int32, np)
	nseg := k / seg
	for j := range n {
		row := b[j*ldb : j*ldb+k]
		base := (j/nr)*p.kp*nr*2 + (j%nr)*2
		for s := range nseg {
			for t := range seg {
				q := s*segP + t/2
				p.i16[base+q*nr*2+t%2] = row[s*seg+t]
			}
		}
	}
	return p
}

// N returns the number of weight rows (columns of C).
func (p *PackedI16) N() int { return p.n }

// i16Tail is MulSegmented's scratch for copied row tiles and partial
// column slivers (mulSegmentedTail: only odd segments ending at a's end
// and N not a multiple of the tile width need it).
type i16Tail struct {
	a    []int16
	tile []int32
}

var i16TailPool = sync.Pool{New: func() any { return new(i16Tail) }}

// MulSegmented computes C[i][j] = Σ_s Σ_t A[i·lda + s·segStride + t]·
// B[j][s·seg + t] (t < seg) in int32 arithmetic that wraps, for rows
// i < m, into c (row stride ldc ≥ N). Rows of A may overlap. Each sum of
// two adjacent products must fit int32 (always true unless both operands
// of both are −32768).
func (p *PackedI16) MulSegmented(m int, a []int16, lda, segStride int, c []int32, ldc int) {
	seg, n := p.seg, p.n
	nseg := p.k / seg
	if m < 0 || lda < 0 || segStride < seg || ldc < n {
		panic(fmt.Sprintf("gemm: PackedI16.MulSegmented: m=%d lda=%d segStride=%d seg=%d ldc=%d n=%d", m, lda, segStride, seg, ldc, n))
	}
	if m == 0 || n == 0 {
		return
	}
	if need := (m-1)*lda + (nseg-1)*segStride + seg; len(a) < need {
		panic(fmt.Sprintf("gemm: PackedI16.MulSegmented: A has %d elements, need %d", len(a), need))
	}
	checkLen("C", len(c), m, n, ldc)
	if p.k == 0 {
		for i := range m {
			clear(c[i*ldc : i*ldc+n])
		}
		return
	}
	fns := p.kern.segI16
	if fns == nil {
		p.mulSegmentedGo(m, a, lda, segStride, c, ldc)
		return
	}
	mr, nr := p.kern.mr, p.kern.nr
	segE := 2 * p.segP
	adj := 2 * (segStride - segE)
	full := n / nr // whole column slivers
	// Rows whose reads stay inside a: an odd segment's last pair reads
	// one element past it (times a zero weight), which for the last rows
	// may lie past the end of a.
	inside := m
	if lim := len(a) - (nseg-1)*segStride - segE; lim < (m-1)*lda {
		inside = 0
		if lim >= 0 {
			inside = min(m, lim/max(lda, 1)+1)
		}
	}
	// The rows run straight from a: whole row tiles, and the partial
	// last one on the kernel of its row count when it reads inside a;
	// every whole sliver of them in one call per kernel.
	direct := inside / mr * mr
	if inside == m {
		direct = m
	}
	if full > 0 {
		if tiles := direct / mr; tiles > 0 {
			fns[mr-1](nseg, p.segP, &a[0], 2*lda, adj, &p.i16[0], &c[0], ldc, &p.zeros[0], full, tiles)
		}
		if r0 := direct / mr * mr; r0 < direct {
			fns[direct-r0-1](nseg, p.segP, &a[r0*lda], 2*lda, adj, &p.i16[0], &c[r0*ldc], ldc, &p.zeros[0], full, 1)
		}
	}
	if direct == m && full*nr == n {
		return
	}
	p.mulSegmentedTail(m, direct, a, lda, segStride, c, ldc)
}

// mulSegmentedTail is MulSegmented's rare rest: the row tiles from row
// direct on (whose reads would leave a) from a copy with each segment
// padded to whole pairs, and the partial last column sliver of every
// row tile, into a scratch tile whose columns are copied out.
func (p *PackedI16) mulSegmentedTail(m, direct int, a []int16, lda, segStride int, c []int32, ldc int) {
	fns := p.kern.segI16
	mr, nr := p.kern.mr, p.kern.nr
	seg, nseg := p.seg, p.k/p.seg
	segE := 2 * p.segP
	rowLen := nseg * segE
	full := p.n / nr
	bslv := p.kp * nr * 2
	tail := i16TailPool.Get().(*i16Tail)
	defer i16TailPool.Put(tail)
	for is := 0; is < m; is += mr {
		h := min(mr, m-is)
		if is < direct && full*nr == p.n {
			continue
		}
		aptr, ald, adj := &a[is*lda], 2*lda, 2*(segStride-segE)
		if is >= direct {
			if cap(tail.a) < mr*rowLen {
				tail.a = make([]int16, mr*rowLen)
			}
			scratch := tail.a[:h*rowLen]
			clear(scratch)
			for r := range h {
				for s := range nseg {
					off := (is+r)*lda + s*segStride
					copy(scratch[r*rowLen+s*segE:r*rowLen+s*segE+seg], a[off:off+seg])
				}
			}
			aptr, ald, adj = &scratch[0], 2*rowLen, 0
			if full > 0 {
				fns[h-1](nseg, p.segP, aptr, ald, adj, &p.i16[0], &c[is*ldc], ldc, &p.zeros[0], full, 1)
			}
		}
		if full*nr == p.n {
			continue
		}
		j0, w := full*nr, p.n-full*nr
		if cap(tail.tile) < mr*nr {
			tail.tile = make([]int32, mr*nr)
		}
		fns[h-1](nseg, p.segP, aptr, ald, adj, &p.i16[full*bslv], &tail.tile[0], nr, &p.zeros[j0], 1, 1)
		for r := range h {
			copy(c[(is+r)*ldc+j0:(is+r)*ldc+j0+w], tail.tile[r*nr:r*nr+w])
		}
	}
}

// mulSegmentedGo is MulSegmented in plain Go, from the packed panel (the
// portable family has no segmented int16 kernel).
func (p *PackedI16) mulSegmentedGo(m int, a []int16, lda, segStride int, c []int32, ldc int) {
	nr := p.kern.nr
	nseg, seg := p.k/p.seg, p.seg
	for i := range m {
		dst := c[i*ldc : i*ldc+p.n]
		for j := range dst {
			var acc int32
			base := (j/nr)*p.kp*nr*2 + (j%nr)*2
			for s := range nseg {
				row := a[i*lda+s*segStride : i*lda+s*segStride+seg]
				for t, v := range row {
					acc += int32(v) * int32(p.i16[base+(s*p.segP+t/2)*nr*2+t%2])
				}
			}
			dst[j] = acc
		}
	}
}
