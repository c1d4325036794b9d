package gemm

import (
	"slices"
	"unsafe"
)

// The few-row int8 path of the int16-pair families: a product of at most
// s8RowKernels.max rows (a dense layer at small batch) reads each weight
// once per row block, so its speed is the speed of streaming the
// weights. The int16-pair panels hold them as int16 (twice the bytes)
// and the 6-row tile multiplies padding rows, so PackS8Rows keeps the
// weights int8 instead, in the same pair layout (k2 steps of 16 columns
// × 2 k values), for kernels that sign-extend them on load and multiply
// with the exact int16-pair arithmetic (VPMADDWD + VPADDD on AVX2;
// s8_avx2_row.go in internal/asmgen). The int32 sums are exact and wrap,
// so the results are bit-identical to the tile path's and GemmS8Ref's.

// s8RowFn stores init[j] plus the int16-pair dot products of the packed
// A panel a (k2 steps of h rows × 2 int16) and the int8 panel b (k2
// steps of nr columns × 2 int8) into the h×nr tile at c (row stride ldc
// int32).
type s8RowFn func(k2 int, a *int16, b *int8, c *int32, ldc int, init *int32)

// s8RowKernels are an int16-pair family's few-row kernels: fn[h-1]
// covers h rows by nr columns, for h up to len(fn).
type s8RowKernels struct {
	name string
	nr   int
	fn   []s8RowFn
}

// max is the most rows one kernel call covers (and the most rows of
// PackS8Rows that picks this path).
func (r *s8RowKernels) max() int { return len(r.fn) }

// goS8Rows are the portable family's few-row kernels (goS8Row is also
// the reference the assembly ones are tested against). They stop at two
// rows: the plain-Go loop reads the weights once per row, so from three
// rows on the 4×4 tile is faster (BenchmarkPackedS8Rows/go).
var goS8Rows = &s8RowKernels{name: "go", nr: 16, fn: []s8RowFn{goS8Row(1, 16), goS8Row(2, 16)}}

// goS8Row returns the plain-Go few-row kernel for h rows by nr columns.
func goS8Row(h, nr int) s8RowFn {
	return func(k2 int, a *int16, b *int8, c *int32, ldc int, init *int32) {
		as := unsafe.Slice(a, 2*h*k2)
		bs := unsafe.Slice(b, 2*nr*k2)
		in := unsafe.Slice(init, nr)
		cs := unsafe.Slice(c, (h-1)*ldc+nr)
		// A stack array: Run must not allocate (the tiles are 16 or 64
		// columns wide).
		var accs [64]int32
		acc := accs[:]
		if nr <= len(accs) {
			acc = accs[:nr]
		} else {
			acc = make([]int32, nr)
		}
		for i := 0; i < h; i++ {
			copy(acc, in)
			for q := 0; q < k2; q++ {
				x0, x1 := int32(as[2*(q*h+i)]), int32(as[2*(q*h+i)+1])
				bp := bs[q*2*nr : (q+1)*2*nr]
				for j := range acc {
					acc[j] += x0*int32(bp[2*j]) + x1*int32(bp[2*j+1])
				}
			}
			copy(cs[i*ldc:i*ldc+nr], acc)
		}
	}
}

// packS8RowsWith packs b for set's few-row kernels rk: int8 panels of
// nr-column slivers, k2 = ⌈k/2⌉ steps of nr × 2 values each, zero padded
// past k and n.
func packS8RowsWith(set *s8Set, rk *s8RowKernels, m int, b []int8, n, k, ldb int) *PackedS8 {
	p := &PackedS8{set: set, kern: set.pick(m, n), n: n, k: k, kq: (k + 1) / 2, rk: rk}
	nr := p.rk.nr
	p.np = (n + nr - 1) / nr * nr
	p.rowSum = make([]int32, p.np)
	p.i8 = make([]int8, p.np*p.kq*2)
	slv := p.kq * 2 * nr
	for j := 0; j < n; j++ {
		row := b[j*ldb : j*ldb+k]
		d := p.i8[j/nr*slv+j%nr*2:]
		var sum int32
		for t, v := range row {
			sum += int32(v)
			d[t/2*2*nr+t%2] = v
		}
		p.rowSum[j] = sum
	}
	return p
}

// runRows computes rows r0..r1 of C with the few-row kernels: blocks of
// up to max rows, each widened to an int16-pair panel (zero past k) and
// multiplied by every nr-column sliver; a partial last sliver goes
// through a tile.
func (p *PackedS8) runRows(r0, r1 int, a []int8, lda int, init []int32, c []int32, ldc int) {
	rk, kq := p.rk, p.kq
	hmax, nr := rk.max(), rk.nr
	apan := hmax * kq * 2
	need := apan + 2*hmax*nr
	bufp := s8Pool.Get().(*[]int16)
	if cap(*bufp) < need {
		*bufp = make([]int16, need)
	}
	defer s8Pool.Put(bufp)
	buf := (*bufp)[:need]
	tile := unsafe.Slice((*int32)(unsafe.Pointer(&buf[apan])), hmax*nr)
	slv := kq * 2 * nr
	full := p.k / 2
	for i0 := r0; i0 < r1; i0 += hmax {
		h := min(hmax, r1-i0)
		d := buf[:h*kq*2]
		if h == 1 {
			// One row's pair panel is the row widened (WidenS8's AVX2
			// loop: the scalar pairs below were a fifth of a small dense
			// layer's time).
			WidenS8(d, a[i0*lda:i0*lda+p.k])
			if p.k%2 == 1 {
				d[p.k] = 0
			}
		}
		d32 := unsafe.Slice((*uint32)(unsafe.Pointer(&d[0])), h*kq)
		for i := 0; i < h && h > 1; i++ {
			src := a[(i0+i)*lda : (i0+i)*lda+p.k]
			src = src[:2*full+p.k%2]
			for q := 0; q < full; q++ {
				d32[q*h+i] = uint32(uint16(int16(src[2*q]))) | uint32(uint16(int16(src[2*q+1])))<<16
			}
			if p.k%2 == 1 {
				d32[full*h+i] = uint32(uint16(int16(src[2*full])))
			}
		}
		fn := rk.fn[h-1]
		for js := 0; js*nr < p.n; js++ {
			j0 := js * nr
			w := min(nr, p.n-j0)
			if w == nr {
				fn(kq, &d[0], &p.i8[js*slv], &c[i0*ldc+j0], ldc, &init[j0])
				continue
			}
			fn(kq, &d[0], &p.i8[js*slv], &tile[0], nr, &init[j0])
			for r := 0; r < h; r++ {
				copy(c[(i0+r)*ldc+j0:(i0+r)*ldc+j0+w], tile[r*nr:r*nr+w])
			}
		}
	}
}

// initMemo is PackedS8.initFor's result for one input offset.
type initMemo struct {
	off  int32
	init []int32
}

// initCached returns initFor(aOffset)'s terms, read-only, from the cache
// when the offset matches its last call (concurrent Muls may replace it;
// each gets terms for its own offset).
func (p *PackedS8) initCached(aOffset int32) []int32 {
	if m := p.initC.Load(); m != nil && m.off == aOffset {
		return m.init
	}
	bufp := p.initFor(aOffset)
	init := slices.Clone(*bufp)
	i32Pool.Put(bufp)
	p.initC.Store(&initMemo{off: aOffset, init: init})
	return init
}
