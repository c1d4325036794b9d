package gemm

import (
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"unsafe"
)

// mcS8Bytes bounds the packed A block of the int8 driver (whole k, no k
// blocking: int8 depths are at most a few thousand) so it stays in L2.
const mcS8Bytes = 192 << 10

// defaultS8 is the fastest int8 kernel family on this CPU, chosen once.
var defaultS8 = s8Sets()[0]

// s8Pool recycles packed-A buffers (bytes; int16 formats reinterpret them).
var s8Pool = sync.Pool{New: func() any { return new([]int16) }}

// PackedS8 holds int8 weights (n rows of k, one row per output channel)
// packed once for a kernel family, with per-row sums for the zero-point
// compensation. It is read-only after PackS8 and safe for concurrent Mul.
type PackedS8 struct {
	set  *s8Set
	kern *s8Kernel
	n, k int
	kq   int     // k in groups of set.format.group(), rounded up
	np   int     // n rounded up to kern.nr
	u8   []int8  // fmtU8Quad panels: slivers of kq×nr×4
	i16  []int16 // fmtI16Pair panels: slivers of kq×nr×2
	// i8, when set, holds the weights for the few-row kernels rk
	// (s8row.go): int8 slivers of kq×16×2; u8 and i16 are then nil.
	i8 []int8
	rk *s8RowKernels
	// nib, when set, is the one-row nibble kernel (s8nib.go) whose
	// u8-quad panels u8 holds; i16 and i8 are then nil.
	nib    *s8NibKernel
	rowSum []int32 // Σ_p B[j][p] per weight row, zero padded to np
	// seg > 0 marks PackS8Segmented weights; segQ > 0 means the panels
	// hold each segment padded to segQ groups of 4 (for kern.seg).
	seg, segQ int
	// wide marks PackS8SegmentedWide weights: int16-pair panels with
	// each segment padded to segQ pairs, for MulRequantSegmentedRowsWide
	// only.
	wide bool
	// tail, when set, marks PackS8SegmentedTail weights (s8segtail.go):
	// each segment's whole quads, then one tail quad per row.
	tail *segTailPack
	// absSum is Σ_p |B[j][p]| per weight row for segmented u8-quad
	// and wide packs (fp32Exact), nil otherwise.
	absSum []int32
	// exact caches fp32Exact's last answer (concurrent Muls may set it).
	exact atomic.Pointer[exactMemo]
	// initC caches initFor's terms for the last input offset: a layer
	// always passes the same one, and recomputing n products per call
	// was ~8% of a small dense model at batch 1 (mlt_ad_fc_i8).
	initC atomic.Pointer[initMemo]
}

// PackS8 packs b (n rows of k int8 weights, row stride ldb) for Mul.
// Mul calls will have many rows (conv); use PackS8Rows when the row count
// is known and small (a dense layer at batch 1).
func PackS8(b []int8, n, k, ldb int) *PackedS8 {
	return packS8With(defaultS8, 1<<20, b, n, k, ldb)
}

// PackS8Rows is PackS8 with the expected row count m of later Mul calls,
// which picks the tile shape that wastes the least (any m works).
func PackS8Rows(m int, b []int8, n, k, ldb int) *PackedS8 {
	return packS8With(defaultS8, m, b, n, k, ldb)
}

func packS8With(set *s8Set, m int, b []int8, n, k, ldb int) *PackedS8 {
	if n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: PackS8: negative dimension n=%d k=%d", n, k))
	}
	checkLen("B", len(b), n, k, ldb)
	if nk := s8NibFor(set); nk != nil && nibRows(m, k) {
		return packS8NibWith(set, nk, b, n, k, ldb)
	}
	return packS8Tiles(set, m, b, n, k, ldb)
}

// packS8Tiles is packS8With without the nibble kernel: the few-row
// kernels' int8 panels or the tiles' panels.
func packS8Tiles(set *s8Set, m int, b []int8, n, k, ldb int) *PackedS8 {
	if rk := s8RowsFor(set); rk != nil && m <= rk.max() {
		return packS8RowsWith(set, rk, m, b, n, k, ldb)
	}
	kern := set.pick(m, n)
	g := set.format.group()
	nr := kern.nr
	p := &PackedS8{set: set, kern: kern, n: n, k: k, kq: (k + g - 1) / g}
	p.np = (n + nr - 1) / nr * nr
	p.rowSum = make([]int32, p.np)
	size := p.np * p.kq * g
	if set.format == fmtU8Quad {
		p.u8 = make([]int8, size)
	} else {
		p.i16 = make([]int16, size)
	}
	for j := 0; j < n; j++ {
		row := b[j*ldb : j*ldb+k]
		s, c := j/nr, j%nr
		base := s*p.kq*nr*g + c*g
		var sum int32
		for _, v := range row {
			sum += int32(v)
		}
		p.rowSum[j] = sum
		if p.u8 != nil && k > 0 {
			// Whole 4-byte groups move as uint32s.
			src := unsafe.Slice((*byte)(unsafe.Pointer(&row[0])), k)
			dst := unsafe.Slice((*byte)(unsafe.Pointer(&p.u8[0])), len(p.u8))
			full := k / 4
			for q := 0; q < full; q++ {
				off := base + q*nr*4
				binary.LittleEndian.PutUint32(dst[off:off+4:off+4], binary.LittleEndian.Uint32(src[q*4:q*4+4:q*4+4]))
			}
			for t := full * 4; t < k; t++ {
				dst[base+full*nr*4+t-full*4] = src[t]
			}
			continue
		}
		for q := 0; q < p.kq; q++ {
			off := base + q*nr*g
			for t := 0; t < g && q*g+t < k; t++ {
				v := row[q*g+t]
				if p.u8 != nil {
					p.u8[off+t] = v
				} else {
					p.i16[off+t] = int16(v)
				}
			}
		}
	}
	return p
}

// N returns the number of weight rows (output columns of Mul).
func (p *PackedS8) N() int { return p.n }

// K returns the depth of the product.
func (p *PackedS8) K() int { return p.k }

// Mul computes GemmS8 with the packed weights:
// C[i][j] = Σ_p (int32(A[i][p]) + aOffset) · int32(B[j][p]) for A m×K
// (row stride lda) and C m×N (row stride ldc), bit-exact with GemmS8Ref.
func (p *PackedS8) Mul(m int, a []int8, lda int, aOffset int32, c []int32, ldc int) {
	p.mulThreads(1, m, a, lda, aOffset, c, ldc)
}

// MulThreads is Mul split over up to threads goroutines by rows of C.
func (p *PackedS8) MulThreads(threads, m int, a []int8, lda int, aOffset int32, c []int32, ldc int) {
	p.mulThreads(threads, m, a, lda, aOffset, c, ldc)
}

func (p *PackedS8) mulThreads(threads, m int, a []int8, lda int, aOffset int32, c []int32, ldc int) {
	if m < 0 {
		panic(fmt.Sprintf("gemm: PackedS8.Mul: negative m=%d", m))
	}
	checkLen("A", len(a), m, p.k, lda)
	checkLen("C", len(c), m, p.n, ldc)
	if m == 0 || p.n == 0 {
		return
	}
	if p.k == 0 {
		for i := 0; i < m; i++ {
			clear(c[i*ldc : i*ldc+p.n])
		}
		return
	}
	if p.nib != nil {
		// The kernels multiply x+128 (s8nib.go).
		init := p.initCached(aOffset - 128)
		if threads <= 1 || m == 1 {
			p.runNib(0, m, a, lda, init, c, ldc)
			return
		}
		parallelRows(threads, m, 1, func(r0, r1 int) { p.runNib(r0, r1, a, lda, init, c, ldc) })
		return
	}
	init := p.initCached(aOffset)
	if p.i8 != nil {
		if threads <= 1 || m <= p.rk.max() {
			p.runRows(0, m, a, lda, init, c, ldc)
			return
		}
		parallelRows(threads, m, p.rk.max(), func(r0, r1 int) { p.runRows(r0, r1, a, lda, init, c, ldc) })
		return
	}
	if threads <= 1 || m <= p.kern.mr {
		p.runAny(0, m, a, lda, init, c, ldc)
		return
	}
	parallelRows(threads, m, p.kern.mr, func(r0, r1 int) { p.runAny(r0, r1, a, lda, init, c, ldc) })
}

// directI16MaxN is the widest product (columns) that the int16-pair
// direct kernel (AVX2) runs: it sign-extends each A pair once per B
// sliver, which costs less than packing A up to here (AVX2-only
// BenchmarkPackedS8: n=16 28 -> 89-128 GOP/s, n=128 101-118 -> 118-146,
// n=256 a tie) but more at n=512 (141-147 -> 120-134).
const directI16MaxN = 256

// runAny computes rows r0..r1 of C with the direct kernel when there is
// one (and, for int16 pairs, n is small enough), else through packed A
// panels.
func (p *PackedS8) runAny(r0, r1 int, a []int8, lda int, init []int32, c []int32, ldc int) {
	if p.kern.direct != nil && (p.set.format == fmtU8Quad || p.n <= directI16MaxN) {
		p.runDirect(r0, r1, a, lda, init, c, ldc)
		return
	}
	p.run(r0, r1, a, lda, init, c, ldc)
}

// runDirect computes rows r0..r1 of C with a direct kernel that reads A
// in place (no packing pass). Row tiles whose reads could run past A's
// slice (the last rows, when k is not a multiple of the group or the
// tile is partial) are copied into a zero-padded scratch block first.
// Bytes a kernel reads past k meet B's zero padding.
func (p *PackedS8) runDirect(r0, r1 int, a []int8, lda int, init []int32, c []int32, ldc int) {
	kern := p.kern
	mr, nr, kq, g := kern.mr, kern.nr, p.kq, p.set.format.group()
	kb := g * kq
	bufp := s8Pool.Get().(*[]int16)
	// int16 units: an mr×kb byte block, plus one mr×nr int32 tile.
	need := (mr*kb+1)/2 + 2*mr*nr + 2
	if cap(*bufp) < need {
		*bufp = make([]int16, need)
	}
	defer s8Pool.Put(bufp)
	buf := (*bufp)[:need]
	tile := unsafe.Slice((*int32)(unsafe.Pointer(&buf[0])), mr*nr)
	scratch := unsafe.Slice((*int8)(unsafe.Pointer(&buf[2*mr*nr])), mr*kb)
	bslv := kq * nr * g
	for is := r0; is < r1; is += mr {
		h := min(mr, r1-is)
		aptr, ald := (*int8)(nil), lda
		if h == mr && (is+mr-1)*lda+kb <= len(a) {
			aptr = &a[is*lda]
		} else {
			clear(scratch)
			for r := 0; r < h; r++ {
				copy(scratch[r*kb:r*kb+p.k], a[(is+r)*lda:(is+r)*lda+p.k])
			}
			aptr, ald = &scratch[0], kb
		}
		for js := 0; js*nr < p.n; js++ {
			j0 := js * nr
			w := min(nr, p.n-j0)
			var bptr unsafe.Pointer
			if p.u8 != nil {
				bptr = unsafe.Pointer(&p.u8[js*bslv])
			} else {
				bptr = unsafe.Pointer(&p.i16[js*bslv])
			}
			if w == nr && h == mr {
				kern.direct(kq, aptr, ald, bptr, &c[is*ldc+j0], ldc, &init[j0])
				continue
			}
			kern.direct(kq, aptr, ald, bptr, &tile[0], nr, &init[j0])
			for r := 0; r < h; r++ {
				copy(c[(is+r)*ldc+j0:(is+r)*ldc+j0+w], tile[r*nr:r*nr+w])
			}
		}
	}
}

// run computes rows r0..r1 of C.
func (p *PackedS8) run(r0, r1 int, a []int8, lda int, init []int32, c []int32, ldc int) {
	kern := p.kern
	mr, nr, g, kq := kern.mr, kern.nr, p.set.format.group(), p.kq
	rowBytes := kq * g * 2 // int16 elements are 2 bytes; u8 panels use half
	mc := max(mr, mcS8Bytes/max(rowBytes, 1)/mr*mr)
	mc = min(mc, (r1-r0+mr-1)/mr*mr)
	// Buffer in int16 units: enough for mc rows of kq·g int16 values,
	// plus one mr×nr int32 edge tile (2 int16 per int32).
	asize := mc * kq * g
	bufp := s8Pool.Get().(*[]int16)
	if need := asize + 2*mr*nr; cap(*bufp) < need {
		*bufp = make([]int16, need)
	}
	defer s8Pool.Put(bufp)
	buf := (*bufp)[:asize+2*mr*nr]
	abuf16 := buf[:asize]
	tile := unsafe.Slice((*int32)(unsafe.Pointer(&buf[asize])), mr*nr)
	abuf8 := unsafe.Slice((*uint8)(unsafe.Pointer(&abuf16[0])), 2*asize)
	slv := kq * mr * g // elements per packed A sliver
	bslv := kq * nr * g
	for ic := r0; ic < r1; ic += mc {
		mb := min(mc, r1-ic)
		// Pack A: slivers of mr rows, groups of g k-steps.
		for s := 0; s*mr < mb; s++ {
			h := min(mr, mb-s*mr)
			if p.set.format == fmtU8Quad {
				d := abuf8[s*slv : (s+1)*slv]
				clear(d)
				full := p.k / 4
				for r := 0; r < h; r++ {
					src8 := a[(ic+s*mr+r)*lda : (ic+s*mr+r)*lda+p.k]
					src := unsafe.Slice((*byte)(unsafe.Pointer(&src8[0])), len(src8))
					// Move whole 4-byte groups as uint32s, flipping each
					// byte's sign bit (a+128 as u8).
					for q := 0; q < full; q++ {
						v := binary.LittleEndian.Uint32(src[q*4 : q*4+4 : q*4+4])
						binary.LittleEndian.PutUint32(d[q*mr*4+r*4:q*mr*4+r*4+4:q*mr*4+r*4+4], v^0x80808080)
					}
					for pp := full * 4; pp < p.k; pp++ {
						d[full*mr*4+r*4+pp-full*4] = src[pp] ^ 0x80
					}
				}
			} else {
				d := abuf16[s*slv : (s+1)*slv]
				clear(d)
				// Each pair of k-steps is one uint32 store (a
				// sub-slice and a loop per pair made this packing
				// most of an AVX2 conv's time).
				d32 := unsafe.Slice((*uint32)(unsafe.Pointer(&d[0])), len(d)/2)
				full := p.k / 2
				for r := 0; r < h; r++ {
					src := a[(ic+s*mr+r)*lda : (ic+s*mr+r)*lda+p.k]
					src = src[:2*full+p.k%2]
					for q := 0; q < full; q++ {
						d32[q*mr+r] = uint32(uint16(int16(src[2*q]))) | uint32(uint16(int16(src[2*q+1])))<<16
					}
					if p.k%2 == 1 {
						d[full*mr*2+r*2] = int16(src[2*full])
					}
				}
			}
		}
		for js := 0; js*nr < p.n; js++ {
			j0 := js * nr
			w := min(nr, p.n-j0)
			var bptr unsafe.Pointer
			if p.u8 != nil {
				bptr = unsafe.Pointer(&p.u8[js*bslv])
			} else {
				bptr = unsafe.Pointer(&p.i16[js*bslv])
			}
			for is := 0; is*mr < mb; is++ {
				var aptr unsafe.Pointer
				if p.u8 != nil {
					aptr = unsafe.Pointer(&abuf8[is*slv])
				} else {
					aptr = unsafe.Pointer(&abuf16[is*slv])
				}
				i := ic + is*mr
				h := min(mr, mb-is*mr)
				if w == nr && h == mr {
					kern.fn(kq, aptr, bptr, &c[i*ldc+j0], ldc, &init[j0])
					continue
				}
				kern.fn(kq, aptr, bptr, &tile[0], nr, &init[j0])
				for r := 0; r < h; r++ {
					copy(c[(i+r)*ldc+j0:(i+r)*ldc+j0+w], tile[r*nr:r*nr+w])
				}
			}
		}
	}
}

// gemmS8With is GemmS8 on a given kernel family.
func gemmS8With(set *s8Set, threads, m, n, k int, a []int8, lda int, aOffset int32, b []int8, ldb int, c []int32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	checkLen("A", len(a), m, k, lda)
	checkLen("C", len(c), m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	packS8With(set, m, b, n, k, ldb).mulThreads(threads, m, a, lda, aOffset, c, ldc)
}
