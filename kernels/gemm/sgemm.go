package gemm

import (
	"fmt"
	"sync"
)

// Blocking parameters for float32. A kc-deep slice of one B sliver
// (kc·nr·4 bytes ≤ 64 KiB) stays in L1/L2 while an mc×kc block of A
// (≤ ~256 KiB) stays in L2.
const (
	kcF32     = 256
	mcF32Rows = 240
)

// defaultF32 is the fastest float32 kernel family on this CPU, chosen once.
var defaultF32 = f32Sets()[0]

// f32Pool recycles packing buffers so repeated calls do not allocate.
var f32Pool = sync.Pool{New: func() any { return new([]float32) }}

func getF32(n int) *[]float32 {
	p := f32Pool.Get().(*[]float32)
	if cap(*p) < n {
		*p = make([]float32, n)
	}
	*p = (*p)[:n]
	return p
}

// checkLen panics with a descriptive message when a matrix slice is too
// short: the assembly kernels must never touch memory outside the slices.
func checkLen(name string, have, rows, cols, ld int) {
	if rows == 0 || cols == 0 {
		return
	}
	if ld < cols {
		panic(fmt.Sprintf("gemm: %s: leading dimension %d < %d columns", name, ld, cols))
	}
	if need := (rows-1)*ld + cols; have < need {
		panic(fmt.Sprintf("gemm: %s: slice has %d elements, need %d for %dx%d with stride %d", name, have, need, rows, cols, ld))
	}
}

// checkSgemm validates Sgemm arguments.
func checkSgemm(tA, tB bool, m, n, k int, a []float32, lda int, b []float32, ldb int, c []float32, ldc int) {
	if m < 0 || n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: negative dimension m=%d n=%d k=%d", m, n, k))
	}
	if tA {
		checkLen("A", len(a), k, m, lda)
	} else {
		checkLen("A", len(a), m, k, lda)
	}
	if tB {
		checkLen("B", len(b), n, k, ldb)
	} else {
		checkLen("B", len(b), k, n, ldb)
	}
	checkLen("C", len(c), m, n, ldc)
}

// scaleC applies beta to C before accumulation; beta == 0 overwrites C
// without reading it, so NaNs already in C vanish as documented.
func scaleC(m, n int, beta float32, c []float32, ldc int) {
	if beta == 1 {
		return
	}
	for i := 0; i < m; i++ {
		row := c[i*ldc : i*ldc+n]
		if beta == 0 {
			clear(row)
			continue
		}
		for j := range row {
			row[j] *= beta
		}
	}
}

// packedB is rows k0..k0+k of op(B) packed for one kernel: for each kc
// block, the columns in slivers of nr, each kb×nr (zero padded past n).
type packedB struct {
	n, k, k0 int
	np       int // n rounded up to nr
	// seg > 0 makes every k block end at a multiple of seg (PackF32Segmented).
	seg int
	// wholeSeg: blocks hold whole segments for kern.seg (seg ≤ kcSegMax).
	wholeSeg bool
	kern     *f32Kernel
	data     []float32
}

// kcSegMax bounds a k block of whole segments (wholeSeg packs): up to
// 1152 floats deep, so a 16-wide B sliver stays within L1/L2.
const kcSegMax = 1152

// blockLen is the length of the k block starting at pc: kcF32, cut at the
// end of k and, for segmented packs, at the end of pc's segment; or, when
// the kernel can walk segments itself (wholeSeg), as many whole segments
// as fit in kcSegMax.
func (pb *packedB) blockLen(pc int) int {
	if pb.wholeSeg {
		return min(pb.k-pc, kcSegMax/pb.seg*pb.seg)
	}
	kb := min(kcF32, pb.k-pc)
	if pb.seg > 0 {
		kb = min(kb, pb.seg-pc%pb.seg)
	}
	return kb
}

// aLayout says where k index p of a row of A lives relative to the row's
// start: p itself, or for segmented A (MulSegmented) segment p/seg at
// (p/seg)·segStride plus p%seg.
type aLayout struct{ seg, segStride int }

func (l aLayout) col(p int) int {
	if l.seg <= 0 {
		return p
	}
	return p/l.seg*l.segStride + p%l.seg
}

// packBF32 packs rows k0..k0+k of op(B) (op(B) is K×n) for kern into data
// (allocated when nil or too small).
func packBF32(kern *f32Kernel, tB bool, n, k0, k int, b []float32, ldb int, data []float32) *packedB {
	return packBF32Seg(kern, tB, n, k0, k, 0, b, ldb, data)
}

// packBF32Seg is packBF32 with k blocks aligned to segments of seg (> 0).
func packBF32Seg(kern *f32Kernel, tB bool, n, k0, k, seg int, b []float32, ldb int, data []float32) *packedB {
	pb := new(packedB)
	pb.pack(kern, tB, n, k0, k, seg, b, ldb, data)
	return pb
}

// pack fills pb (so Sgemm can keep its packedB on the stack).
func (pb *packedB) pack(kern *f32Kernel, tB bool, n, k0, k, seg int, b []float32, ldb int, data []float32) {
	nr := kern.nr
	np := (n + nr - 1) / nr * nr
	if cap(data) < k*np {
		data = make([]float32, k*np)
	}
	*pb = packedB{n: n, k: k, k0: k0, np: np, seg: seg, kern: kern, data: data[:k*np],
		wholeSeg: seg > 0 && seg <= kcSegMax && kern.seg != nil && k0 == 0}
	for pc, kb := 0, 0; pc < k; pc += kb {
		kb = pb.blockLen(pc)
		block := pb.data[pc*np : pc*np+kb*np]
		for s := 0; s*nr < n; s++ {
			dst := block[s*kb*nr : (s+1)*kb*nr]
			j0 := s * nr
			w := min(nr, n-j0)
			if w < nr {
				clear(dst)
			}
			if tB {
				// B stored n×k: column j of op(B) is row j of b.
				packTransposed(dst, nr, b, ldb, j0, w, k0+pc, kb)
			} else {
				for p := 0; p < kb; p++ {
					off := (k0+pc+p)*ldb + j0
					copy(dst[p*nr:p*nr+w], b[off:off+w])
				}
			}
		}
	}
}

// packAF32 packs rows i0..i0+mb and k-steps p0..p0+kb of op(A) into
// slivers of mr rows (kb×mr each, zero padded past mb).
func packAF32(dst []float32, mr int, tA bool, a []float32, lda, i0, mb, p0, kb int) {
	for s := 0; s*mr < mb; s++ {
		d := dst[s*kb*mr : (s+1)*kb*mr]
		h := min(mr, mb-s*mr)
		if h < mr {
			clear(d)
		}
		ib := i0 + s*mr
		if tA {
			// A stored k×m: one k-step of mr rows is contiguous.
			for p := 0; p < kb; p++ {
				off := (p0+p)*lda + ib
				copy(d[p*mr:p*mr+h], a[off:off+h])
			}
			continue
		}
		packTransposed(d, mr, a, lda, ib, h, p0, kb)
	}
}

// packTransposed writes rows r0..r0+h of x (row stride ldx), columns
// p0..p0+kb, transposed into d: d[p*w+r] = x[r0+r][p0+p]. Four rows go
// together so each k-step writes 16 contiguous bytes while four source
// rows are read sequentially (one row at a time would scatter every
// write across a different cache line).
func packTransposed(d []float32, w int, x []float32, ldx, r0, h, p0, kb int) {
	r := 0
	for ; r+4 <= h; r += 4 {
		x0 := x[(r0+r)*ldx+p0 : (r0+r)*ldx+p0+kb]
		x1 := x[(r0+r+1)*ldx+p0 : (r0+r+1)*ldx+p0+kb]
		x2 := x[(r0+r+2)*ldx+p0 : (r0+r+2)*ldx+p0+kb]
		x3 := x[(r0+r+3)*ldx+p0 : (r0+r+3)*ldx+p0+kb]
		for p := range x0 {
			o := d[p*w+r : p*w+r+4 : p*w+r+4]
			o[0], o[1], o[2], o[3] = x0[p], x1[p], x2[p], x3[p]
		}
	}
	for ; r < h; r++ {
		src := x[(r0+r)*ldx+p0 : (r0+r)*ldx+p0+kb]
		for p, v := range src {
			d[p*w+r] = v
		}
	}
}

// runF32 computes C[r0:r1] += alpha·op(A)[r0:r1]·B with B already packed.
// epilogueF32 is the per-column work fused into Mul's output pass.
type epilogueF32 struct {
	bias   []float32 // len n (zeros when the caller passed none)
	lo, hi float32
}

// apply finishes row segment c (columns j0..j0+len(c)) of the output.
func (e *epilogueF32) apply(c []float32, j0 int) {
	bias := e.bias[j0 : j0+len(c)]
	j := 0
	if biasClampAsm != nil && len(c) >= 16 {
		g := len(c) / 16
		biasClampAsm(g, &c[0], &bias[0], e.lo, e.hi)
		j = 16 * g
	}
	for ; j < len(c); j++ {
		c[j] = min(max(c[j]+bias[j], e.lo), e.hi)
	}
}

func runF32(pb *packedB, r0, r1 int, alpha float32, tA bool, a []float32, lda int, al aLayout, c []float32, ldc int, ep *epilogueF32) {
	runF32Z(pb, r0, r1, alpha, tA, a, lda, al, c, ldc, ep, false)
}

// runF32Z is runF32; with overwrite, rows r0..r1 of C hold garbage and the
// first k block stores its tiles instead of adding to them (Sgemm with
// beta = 0 saves a clearing pass over C and a read of it). overwrite
// needs a direct kernel with directZ and plain (unsegmented) A.
func runF32Z(pb *packedB, r0, r1 int, alpha float32, tA bool, a []float32, lda int, al aLayout, c []float32, ldc int, ep *epilogueF32, overwrite bool) {
	kern := pb.kern
	mr, nr, n, k := kern.mr, kern.nr, pb.n, pb.k
	// Row-major A goes straight to a direct kernel: packing it would cost
	// as much as the multiply when each A row meets few B slivers.
	direct := !tA && kern.direct != nil
	// segK: blocks of whole segments over segmented A go to kern.seg.
	segK := direct && pb.wholeSeg && al.seg > 0
	mc := max(mr, mcF32Rows/mr*mr)
	asize := min(mc, (r1-r0+mr-1)/mr*mr) * min(k, kcF32)
	if direct {
		asize = mr * min(k, max(kcF32, kcSegMax)) // only the partial last row tile
	}
	bufp := getF32(asize + mr*nr)
	defer f32Pool.Put(bufp)
	// The edge-tile scratch shares the pooled buffer: a local array would
	// escape through the kernel func value and allocate on every call.
	abuf, tile := (*bufp)[:asize], (*bufp)[asize:]
	for ic := r0; ic < r1; ic += mc {
		mb := min(mc, r1-ic)
		// smallTail: the partial last row tile runs on kern.small, straight
		// from A, after the full tiles of each k block.
		smallTail := direct && !segK && kern.small != nil && mb%mr != 0
		tiles := mb
		if smallTail {
			tiles = mb / mr * mr
		}
		for pc, kb := 0, 0; pc < k; pc += kb {
			kb = pb.blockLen(pc)
			// p0 is where this block starts in A's row (its k index for
			// plain A; tA never combines with segments).
			p0 := al.col(pb.k0 + pc)
			if !direct {
				packAF32(abuf, mr, tA, a, lda, ic, mb, p0, kb)
			} else if tail := mb % mr; tail != 0 && !smallTail {
				// The last, partial row tile is copied into a zero-padded
				// mr×kb block so the kernel never reads past A.
				t := abuf[:mr*kb]
				clear(t)
				i0 := ic + mb - tail
				for r := 0; r < tail; r++ {
					if segK {
						// Segments side by side: contiguous rows for kern.seg.
						for q := 0; q < kb; q += al.seg {
							off := (i0+r)*lda + p0 + q/al.seg*al.segStride
							copy(t[r*kb+q:r*kb+q+al.seg], a[off:off+al.seg])
						}
						continue
					}
					copy(t[r*kb:(r+1)*kb], a[(i0+r)*lda+p0:(i0+r)*lda+p0+kb])
				}
			}
			block := pb.data[pc*pb.np : pc*pb.np+kb*pb.np]
			store := overwrite && pc == 0
			for js := 0; js*nr < n; js++ {
				bs := block[js*kb*nr : (js+1)*kb*nr]
				j0 := js * nr
				w := min(nr, n-j0)
				for is := 0; is*mr < tiles; is++ {
					i := ic + is*mr
					h := min(mr, mb-is*mr)
					dst, ldd := &c[min(i*ldc+j0, len(c)-1)], ldc
					t := tile[:mr*nr]
					if w != nr || h != mr {
						// Edge tile: compute into a scratch tile, then
						// add only the valid part so C's bounds hold.
						clear(t)
						dst, ldd = &t[0], nr
					}
					switch {
					case !direct:
						kern.fn(kb, &abuf[is*kb*mr], &bs[0], dst, ldd, alpha)
					case segK && h == mr:
						kern.seg(kb/al.seg, al.seg, &a[i*lda+p0], lda, 4*(al.segStride-al.seg), &bs[0], dst, ldd, alpha)
					case segK:
						kern.seg(kb/al.seg, al.seg, &abuf[0], kb, 0, &bs[0], dst, ldd, alpha)
					case h == mr && store:
						kern.directZ(kb, &a[i*lda+p0], lda, &bs[0], dst, ldd, alpha)
					case h == mr:
						kern.direct(kb, &a[i*lda+p0], lda, &bs[0], dst, ldd, alpha)
					default:
						kern.direct(kb, &abuf[0], kb, &bs[0], dst, ldd, alpha)
					}
					if w != nr || h != mr {
						mergeTile(c, ldc, i, j0, h, w, t, nr, store)
					}
					if ep != nil && pc+kb == k {
						// Last k block: the tile is final and still hot.
						for r := 0; r < h; r++ {
							ep.apply(c[(i+r)*ldc+j0:(i+r)*ldc+j0+w], j0)
						}
					}
				}
			}
			if smallTail {
				i := ic + tiles
				runSmallTail(kern, mb-tiles, kb, alpha, a[i*lda+p0:], lda, block, n, c[i*ldc:], ldc, ep, pc+kb == k, store, tile)
			}
		}
	}
}

// runSmallTail computes one k block (kb deep, its packed slivers in
// block) of the h < mr rows of A at a (row stride lda) into the rows of C
// at c, on kern.small: several full slivers per call, then a last,
// narrower sliver through the scratch tile as runF32Z's edge tiles do.
// last says the block ends the product (ep then finishes the rows).
func runSmallTail(kern *f32Kernel, h, kb int, alpha float32, a []float32, lda int, block []float32, n int, c []float32, ldc int, ep *epilogueF32, last, store bool, tile []float32) {
	nr := kern.nr
	full := n / nr
	for js := 0; js*nr < n; {
		j0 := js * nr
		sk := kern.smallFor(h, max(full-js, 1))
		w := min(sk.ns*nr, n-j0)
		b := &block[js*kb*nr]
		switch {
		case js >= full:
			t := tile[:h*nr]
			clear(t)
			sk.add(kb, &a[0], lda, b, kb*nr, &t[0], nr, alpha)
			mergeTile(c, ldc, 0, j0, h, w, t, nr, store)
		case store:
			sk.store(kb, &a[0], lda, b, kb*nr, &c[j0], ldc, alpha)
		default:
			sk.add(kb, &a[0], lda, b, kb*nr, &c[j0], ldc, alpha)
		}
		if ep != nil && last {
			for r := 0; r < h; r++ {
				ep.apply(c[r*ldc+j0:r*ldc+j0+w], j0)
			}
		}
		js += sk.ns
	}
}

// mergeTile adds (or, with store, copies) the h×w corner of the scratch
// tile t (row stride nr) into C at row i, column j0.
func mergeTile(c []float32, ldc, i, j0, h, w int, t []float32, nr int, store bool) {
	for r := 0; r < h; r++ {
		crow := c[(i+r)*ldc+j0 : (i+r)*ldc+j0+w]
		trow := t[r*nr : r*nr+w]
		if store {
			copy(crow, trow)
			continue
		}
		for j, v := range trow {
			crow[j] += v
		}
	}
}

// sgemmWith is Sgemm on a given kernel family and thread count.
func sgemmWith(set *f32Set, threads int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	checkSgemm(tA, tB, m, n, k, a, lda, b, ldb, c, ldc)
	if m == 0 || n == 0 {
		return
	}
	kern := set.pick(m, n)
	if !tA {
		kern = set.pickDirect(m, n)
	}
	// overwrite: the first k chunk stores C instead of clearing it first.
	overwrite := beta == 0 && k > 0 && alpha != 0 && !tA && kern.directZ != nil
	if !overwrite {
		scaleC(m, n, beta, c, ldc)
	}
	if k == 0 || alpha == 0 {
		return
	}
	if tA && !tB && sgemmTN(set, threads, m, n, k, alpha, a, lda, b, ldb, c, ldc) {
		return
	}
	np := (n + kern.nr - 1) / kern.nr * kern.nr
	// Pack B in chunks of k so the buffer stays bounded (a weight
	// gradient can have a depth of batch×pixels); each chunk is shared by
	// all row workers.
	chunk := max(kcF32, maxPackedB/np/kcF32*kcF32)
	bufp := getF32(min(k, chunk) * np)
	defer f32Pool.Put(bufp)
	var pb packedB
	for k0 := 0; k0 < k; k0 += chunk {
		pb.pack(kern, tB, n, k0, min(chunk, k-k0), 0, b, ldb, *bufp)
		first := overwrite && k0 == 0
		if threads <= 1 || m <= kern.mr {
			runF32Z(&pb, 0, m, alpha, tA, a, lda, aLayout{}, c, ldc, nil, first)
			continue
		}
		shared := pb // only the parallel path moves a copy to the heap
		parallelRows(threads, m, kern.mr, func(r0, r1 int) {
			runF32Z(&shared, r0, r1, alpha, tA, a, lda, aLayout{}, c, ldc, nil, first)
		})
	}
}

// maxPackedB bounds Sgemm's packed-B buffer (float32 elements, 4 MiB).
const maxPackedB = 1 << 20

// parallelRows splits rows [0,m) into up to threads chunks aligned to mr
// and runs fn on each, concurrently when there is enough work.
func parallelRows(threads, m, mr int, fn func(r0, r1 int)) {
	chunks := (m + mr - 1) / mr
	if threads > chunks {
		threads = chunks
	}
	if threads <= 1 {
		fn(0, m)
		return
	}
	per := (chunks + threads - 1) / threads * mr
	var wg sync.WaitGroup
	for r0 := 0; r0 < m; r0 += per {
		r1 := min(m, r0+per)
		wg.Add(1)
		go func() {
			defer wg.Done()
			fn(r0, r1)
		}()
	}
	wg.Wait()
}

// SgemmThreads is Sgemm split over up to threads goroutines (by rows of
// C); B is packed once and shared. threads ≤ 1 runs on the caller's
// goroutine. Results are identical to Sgemm's for any thread count.
func SgemmThreads(threads int, tA, tB bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	sgemmWith(defaultF32, threads, tA, tB, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)
}

// PackedF32 holds a weight matrix packed once for repeated products with
// different activations (the inference case: conv and fully connected
// layers pack at prepare time). It is read-only after PackF32 and safe
// for concurrent Mul calls.
type PackedF32 struct {
	pb    *packedB
	zeros []float32 // the bias when a caller passes none
}

// PackF32 packs B given as n rows of k weights (row stride ldb) — the
// layout of TFLite conv filters and dense weights, i.e. Sgemm's tB=true.
// Mul calls will have many rows (conv); use PackF32Rows when the row
// count is known and small (a dense layer at batch 1).
func PackF32(b []float32, n, k, ldb int) *PackedF32 {
	return PackF32Rows(1<<20, b, n, k, ldb)
}

// PackF32Rows is PackF32 with the expected row count m of later Mul
// calls, which picks the tile shape that wastes the least (any m works).
func PackF32Rows(m int, b []float32, n, k, ldb int) *PackedF32 {
	if n < 0 || k < 0 {
		panic(fmt.Sprintf("gemm: PackF32: negative dimension n=%d k=%d", n, k))
	}
	checkLen("B", len(b), n, k, ldb)
	return &PackedF32{pb: packBF32(defaultF32.pickDirect(m, n), true, n, 0, k, b, ldb, nil), zeros: make([]float32, n)}
}

// N returns the number of weight rows (output columns of Mul).
func (p *PackedF32) N() int { return p.pb.n }

// K returns the depth of the product.
func (p *PackedF32) K() int { return p.pb.k }

// Mul computes C = A·Bᵀ, where A is m×K (row stride lda), B is the packed
// N×K matrix and C is m×N (row stride ldc); C is overwritten.
func (p *PackedF32) Mul(m int, a []float32, lda int, c []float32, ldc int) {
	n, k := p.pb.n, p.pb.k
	if m < 0 {
		panic(fmt.Sprintf("gemm: PackedF32.Mul: negative m=%d", m))
	}
	checkLen("A", len(a), m, k, lda)
	checkLen("C", len(c), m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if k == 0 || p.pb.kern.directZ == nil {
		scaleC(m, n, 0, c, ldc)
		if k == 0 {
			return
		}
		runF32(p.pb, 0, m, 1, false, a, lda, aLayout{}, c, ldc, nil)
		return
	}
	// The first k block stores C, so C is never cleared or read.
	runF32Z(p.pb, 0, m, 1, false, a, lda, aLayout{}, c, ldc, nil, true)
}

// Repack replaces the packed weights with b, which must have the shape
// given at packing (N rows of K, row stride ldb), reusing p's storage:
// training, whose weights change every step, packs each layer once per
// step without allocating. Repack must not run concurrently with any
// use of p.
func (p *PackedF32) Repack(b []float32, ldb int) {
	pb := p.pb
	checkLen("B", len(b), pb.n, pb.k, ldb)
	pb.pack(pb.kern, true, pb.n, 0, pb.k, pb.seg, b, ldb, pb.data)
}

// MulBiasClamp computes C = clamp(A·Bᵀ + bias, lo, hi): Mul with the
// float conv/dense epilogue (bias per output column, then a fused
// activation as a clamp: RELU is [0, +Inf], RELU6 [0, 6], none
// [-Inf, +Inf]) applied to each output tile while it is in cache. bias may
// be nil (zeros). threads ≤ 1 runs on the caller's goroutine.
func (p *PackedF32) MulBiasClamp(threads, m int, a []float32, lda int, bias []float32, lo, hi float32, c []float32, ldc int) {
	if m < 0 {
		panic(fmt.Sprintf("gemm: PackedF32.MulBiasClamp: negative m=%d", m))
	}
	checkLen("A", len(a), m, p.pb.k, lda)
	p.mulEpilogue(threads, m, a, lda, aLayout{}, bias, lo, hi, c, ldc)
}

// PackF32Segmented is PackF32 for MulSegmented: the k weights of each row
// are seen as k/seg segments of seg values (k must be a multiple of seg).
// Mul and MulBiasClamp work on it too.
func PackF32Segmented(b []float32, n, k, ldb, seg int) *PackedF32 {
	return PackF32SegmentedRows(1<<20, b, n, k, ldb, seg)
}

// PackF32SegmentedRows is PackF32Segmented with the row count m of later
// calls, which picks the tile shape that wastes the least (a conv over
// small images makes few rows per call, where a tall tile's last,
// partial tile costs much of the work). Any m works.
func PackF32SegmentedRows(m int, b []float32, n, k, ldb, seg int) *PackedF32 {
	if n < 0 || k < 0 || seg <= 0 || k%seg != 0 {
		panic(fmt.Sprintf("gemm: PackF32Segmented: n=%d k=%d seg=%d (k must be a positive multiple of seg)", n, k, seg))
	}
	checkLen("B", len(b), n, k, ldb)
	return &PackedF32{pb: packBF32Seg(defaultF32.pickSeg(m, n), true, n, 0, k, seg, b, ldb, nil), zeros: make([]float32, n)}
}

// MulSegmented is MulBiasClamp where row i of A is not contiguous: its
// segment s (of k/seg, each seg values) starts at a[i·lda + s·segStride].
// Rows may overlap (lda < k). p must come from PackF32Segmented.
//
// This runs a stride-1 convolution without im2col. Zero-pad the NHWC
// input once (padded width Wp, C channels) and pack the OHWI weights with
// PackF32Segmented(w, Cout, KH·KW·C, KH·KW·C, KW·C) (one segment per
// filter row). Output pixel (y, x) is then row y·Wp + x of A with lda = C
// and segStride = Wp·C. One call with m = (OH−1)·Wp + OW into a scratch of
// row width Wp computes the whole image; copy out the OW valid pixels of
// each row (the Wp−OW others are wasted work). For seed-cnn's layers this
// is 2–4× faster than im2col + Mul (BenchmarkConvSegmented).
func (p *PackedF32) MulSegmented(threads, m int, a []float32, lda, segStride int, bias []float32, lo, hi float32, c []float32, ldc int) {
	seg, k := p.pb.seg, p.pb.k
	if seg <= 0 {
		panic("gemm: PackedF32.MulSegmented: weights not packed with PackF32Segmented")
	}
	if m < 0 || lda < 0 || segStride < seg {
		panic(fmt.Sprintf("gemm: PackedF32.MulSegmented: m=%d lda=%d segStride=%d seg=%d", m, lda, segStride, seg))
	}
	if m > 0 && k > 0 {
		if need := (m-1)*lda + (k/seg-1)*segStride + seg; len(a) < need {
			panic(fmt.Sprintf("gemm: PackedF32.MulSegmented: A has %d elements, need %d", len(a), need))
		}
	}
	p.mulEpilogue(threads, m, a, lda, aLayout{seg: seg, segStride: segStride}, bias, lo, hi, c, ldc)
}

// mulEpilogue is the body of MulBiasClamp and MulSegmented (A's size is
// checked by the caller).
func (p *PackedF32) mulEpilogue(threads, m int, a []float32, lda int, al aLayout, bias []float32, lo, hi float32, c []float32, ldc int) {
	n, k := p.pb.n, p.pb.k
	if bias != nil && len(bias) != n {
		panic(fmt.Sprintf("gemm: PackedF32: %d biases for %d columns", len(bias), n))
	}
	checkLen("C", len(c), m, n, ldc)
	if m == 0 || n == 0 {
		return
	}
	if bias == nil {
		bias = p.zeros
	}
	ep := epilogueF32{bias: bias, lo: lo, hi: hi}
	scaleC(m, n, 0, c, ldc)
	if k == 0 {
		for i := 0; i < m; i++ {
			ep.apply(c[i*ldc:i*ldc+n], 0)
		}
		return
	}
	if threads <= 1 || m <= p.pb.kern.mr {
		runF32(p.pb, 0, m, 1, false, a, lda, al, c, ldc, &ep)
		return
	}
	shared := ep // only the parallel path moves a copy to the heap
	parallelRows(threads, m, p.pb.kern.mr, func(r0, r1 int) {
		runF32(p.pb, r0, r1, 1, false, a, lda, al, c, ldc, &shared)
	})
}
