package gemm

import "math"

// Segmented weights with a tail quad (PackS8SegmentedTail): a stride-1
// conv whose window rows are not whole k quads (a 3×3 RGB layer's are 9
// bytes) pads each to whole quads in the plain segmented layout, 36 byte
// products per output for 27 useful. Here each segment keeps only its
// whole quads (seg/4 of them, read in place), and the rem = seg mod 4
// bytes left over in every segment share one more quad per row, which
// the kernels gather per row tile with one VPSHUFB per segment (see
// internal/asmgen/s8_avxvnni_tail.go): 7 quads for 27 bytes.

// s8SegTailFn is a fused segmented kernel with a tail quad for one shape
// (s8SegTailTiles.nseg segments of kq whole quads): s8SegTilesFn's
// arithmetic over tiles row tiles and nsl slivers, with the segments
// segStride bytes apart, pat per segment the 32-byte VPSHUFB pattern
// that gathers the tile's tail quads from the bytes after the segment's
// whole quads, and row i stored at c + rows[i] (elements; every row).
type s8SegTailFn func(a *int8, lda, segStride int, pat *int8, b *int8, c *int8, rows *int, init *int32, params *int32, consts *int32, nsl, tiles int)

// s8SegTailTiles are a kernel's s8SegTailFn per arithmetic, as
// s8SegTiles, for weights of nseg segments of kq whole quads.
type s8SegTailTiles struct {
	nseg, kq int
	byArith[s8SegTailFn]
}

// segTailPack is what a tail-quad pack adds to PackedS8: rem bytes of
// each segment in the tail quad, and the kernels' gather patterns for A
// rows lda bytes apart.
type segTailPack struct {
	rem, lda int
	pat      []int8
}

// PackS8SegmentedTail packs b (n rows of k int8 weights, row stride ldb;
// k = nseg·seg) like PackS8Segmented for MulRequantSegmentedRows with A
// rows lda bytes apart and rq's requantization, with each segment's last
// seg mod 4 bytes moved to one shared tail quad. MulRequantSegmentedRows
// runs such weights on one thread with rows stored in order, so rows a
// map sends to the same place leave the last one's values there. It returns nil where
// that layout does not apply or has no kernel on this CPU: seg a multiple
// of 4, more leftover bytes than a quad holds, fewer than two segments,
// output channels not a multiple of the kernel's 16, A rows too far apart
// for the gather (lda > 2 when rem > 1, lda > 3), or an rq the fused
// kernels do not take.
func PackS8SegmentedTail(b []int8, n, k, ldb, seg, lda int, rq *Requant) *PackedS8 {
	return packS8SegTailWith(defaultS8, b, n, k, ldb, seg, lda, rq, false)
}

// packS8SegTailWith is PackS8SegmentedTail on set; force builds the pack
// without checking for kernels (tests of the plain-Go path).
func packS8SegTailWith(set *s8Set, b []int8, n, k, ldb, seg, lda int, rq *Requant, force bool) *PackedS8 {
	if n <= 0 || seg <= 0 || k%seg != 0 || lda <= 0 || rq == nil || rq.n != n {
		return nil
	}
	nseg, rem := k/seg, seg%4
	// The gather reads 16 bytes from each segment's leftover: the tile's
	// six rows' bytes must lie in them (5·lda + rem ≤ 16).
	if rem == 0 || nseg < 2 || nseg*rem > 4 || 5*lda+rem > 16 || set.format != fmtU8Quad {
		return nil
	}
	kern := set.pick(1<<20, n)
	segQ := seg / 4
	if st := kern.segTail; !force && (st == nil || st.nseg != nseg || st.kq != segQ || rq.wideP == nil || n%kern.nr != 0) {
		return nil
	}
	checkLen("B", len(b), n, k, ldb)
	nr := kern.nr
	p := &PackedS8{set: set, kern: kern, n: n, k: k, kq: nseg*segQ + 1, seg: seg, segQ: segQ}
	p.np = (n + nr - 1) / nr * nr
	p.rowSum = make([]int32, p.np)
	p.u8 = make([]int8, p.np*p.kq*4)
	p.absSum = make([]int32, n)
	for j := range n {
		row := b[j*ldb : j*ldb+k]
		var sum, abs int64
		for _, v := range row {
			sum += int64(v)
			abs += int64(max(int32(v), -int32(v)))
		}
		p.rowSum[j] = int32(sum)
		p.absSum[j] = int32(min(abs, math.MaxInt32))
		base := (j/nr)*p.kq*nr*4 + (j%nr)*4
		for s := 0; s < nseg; s++ {
			for t := 0; t < seg; t++ {
				q, u := s*segQ+t/4, t%4
				if t >= 4*segQ {
					q, u = nseg*segQ, s*rem+t-4*segQ
				}
				p.u8[base+q*nr*4+u] = row[s*seg+t]
			}
		}
	}
	// Pattern s, lane l, dword j (row i = 4l+j < 6): bytes s·rem..s·rem+
	// rem−1 of row i's tail quad are bytes i·lda.. of the 16 loaded
	// from the row tile's segment s leftover; the rest zero.
	tp := &segTailPack{rem: rem, lda: lda, pat: make([]int8, 32*nseg)}
	for i := range tp.pat {
		tp.pat[i] = -128
	}
	for s := 0; s < nseg; s++ {
		for i := 0; i < 6; i++ {
			for t := 0; t < rem; t++ {
				tp.pat[32*s+16*(i/4)+4*(i%4)+s*rem+t] = int8(i*lda + t)
			}
		}
	}
	p.tail = tp
	return p
}

// segTailFn returns p's tail kernel for rq, or nil.
func (p *PackedS8) segTailFn(rq *Requant) s8SegTailFn {
	t := p.kern.segTail
	if t == nil || t.nseg != p.k/p.seg || t.kq != p.segQ || rq.wideP == nil || p.n%p.kern.nr != 0 {
		return nil
	}
	return t.pick(p, rq)
}

// mulSegTailRows is MulRequantSegmentedRows for a tail-quad pack (the
// caller has checked the arguments) with offs the rows' byte offsets and
// elem, when every row is mapped, their element offsets: every whole row
// tile whose reads, the gather's 16 bytes per segment included, stay
// inside a in one kernel call; the other tiles, and every tile of a map
// with dropped rows, one at a time through a copy of its rows and a
// scratch tile; in plain Go when there is no kernel for p, rq and lda.
func (p *PackedS8) mulSegTailRows(m int, a []int8, lda, segStride int, init []int32, rq *Requant, out []int8, offs, elem []int) {
	mr, n := p.kern.mr, p.n
	nseg, seg, segB := p.k/p.seg, p.seg, 4*p.segQ
	fn := p.segTailFn(rq)
	if fn == nil || lda != p.tail.lda {
		p.segTailGo(m, a, lda, segStride, init, rq, out, offs)
		return
	}
	// Tile t (rows mr·t..) reads up to (nseg−1)·segStride + reach bytes
	// past its first row.
	reach := max((mr-1)*lda+seg, segB+16)
	tiles := 0
	if lim := len(a) - (nseg-1)*segStride - reach; lim >= 0 && elem != nil {
		tiles = min(m/mr, lim/(mr*lda)+1)
	}
	nsl := n / p.kern.nr
	if tiles > 0 {
		fn(&a[0], lda, segStride, &p.tail.pat[0], &p.u8[0], &out[0], &elem[0], &init[0], &rq.wideP[0], &rq.consts8[0], nsl, tiles)
	}
	if tiles*mr == m {
		return
	}
	// The rest, a tile at a time: its rows copied into a zeroed scratch
	// laid out as a (rows lda apart, segments segStride apart, room for
	// the gather's reads), so the kernel's reads and patterns are
	// unchanged, and its result stored to a scratch tile (row r at r·n)
	// whose mapped rows are copied out.
	tail := s8SegTailPool.Get().(*s8SegTail)
	defer s8SegTailPool.Put(tail)
	need := (nseg-1)*segStride + reach
	if cap(tail.a) < need {
		tail.a = make([]int8, need)
	}
	if cap(tail.tile) < mr*n {
		tail.tile = make([]int8, mr*n)
	}
	cp, tile := tail.a[:need], tail.tile[:mr*n]
	for r := 0; r < mr; r++ {
		tail.rows[r] = r * n
	}
	for is := tiles * mr; is < m; is += mr {
		h := min(mr, m-is)
		clear(cp)
		for r := 0; r < h; r++ {
			for s := 0; s < nseg; s++ {
				o, src := r*lda+s*segStride, (is+r)*lda+s*segStride
				copy(cp[o:o+seg], a[src:src+seg])
			}
		}
		fn(&cp[0], lda, segStride, &p.tail.pat[0], &p.u8[0], &tile[0], &tail.rows[0], &init[0], &rq.wideP[0], &rq.consts8[0], nsl, 1)
		for r, o := range offs[is : is+h] {
			if o >= 0 {
				copy(out[o/4:o/4+n], tile[r*n:(r+1)*n])
			}
		}
	}
}

// segTailGo is the tail-quad product of rows 0..m in plain Go, from
// the packed panels: each mapped row's accumulators, init plus the
// products of its quads (the segments' whole quads, then the tail quad),
// requantized by rq.
func (p *PackedS8) segTailGo(m int, a []int8, lda, segStride int, init []int32, rq *Requant, out []int8, offs []int) {
	nr, kq := p.kern.nr, p.kq
	nseg, segQ, rem := p.k/p.seg, p.segQ, p.tail.rem
	quad := make([]uint8, 4*kq)
	for i := 0; i < m; i++ {
		o := offs[i]
		if o < 0 {
			continue
		}
		clear(quad)
		for s := 0; s < nseg; s++ {
			row := a[i*lda+s*segStride:]
			for t := 0; t < 4*segQ; t++ {
				quad[4*s*segQ+t] = uint8(row[t])
			}
			for t := 0; t < rem; t++ {
				quad[4*nseg*segQ+s*rem+t] = uint8(row[4*segQ+t])
			}
		}
		for j := 0; j < p.n; j++ {
			acc := init[j] - rq.bias[j] // init holds the bias; one adds it
			panel := p.u8[(j/nr)*kq*nr*4+(j%nr)*4:]
			for q := 0; q < kq; q++ {
				for t := 0; t < 4; t++ {
					acc += int32(quad[4*q+t]) * int32(panel[q*nr*4+t])
				}
			}
			out[o/4+j] = rq.one(acc, j)
		}
	}
}

// TailQuad reports whether p was packed by PackS8SegmentedTail.
func (p *PackedS8) TailQuad() bool { return p.tail != nil }
