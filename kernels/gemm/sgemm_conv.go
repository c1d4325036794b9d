package gemm

import (
	"fmt"
	"slices"
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
	// runs are the maximal stretches of consecutive mapped rows. The
	// fused float driver tiles each on its own, so no tile spends FMAs
	// on the dropped rows between them (a conv's pitch − outW padding
	// pixels per image row: 10% of the work at outW = 20, 20% at 10).
	runs []rowRun
	// mapped lists the mapped rows in order and mappedOff their byte
	// offsets (off[mapped[q]]): the row tables of kernels whose tiles run
	// across dropped rows (f32Kernel.segFP).
	mapped, mappedOff []int
	// elem, when every row is mapped, holds the offsets in elements: the
	// row table of kernels that store every row untested (s8SegTailFn).
	elem []int
}

// rowRun is rows start..end−1 of a RowMap, all mapped.
type rowRun struct{ start, end int }

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
		if o < 0 {
			continue
		}
		rm.mapped = append(rm.mapped, i)
		rm.mappedOff = append(rm.mappedOff, rm.off[i])
		if r := len(rm.runs) - 1; r >= 0 && rm.runs[r].end == i {
			rm.runs[r].end++
		} else {
			rm.runs = append(rm.runs, rowRun{i, i + 1})
		}
	}
	if len(rm.mapped) == len(offsets) {
		rm.elem = offsets[:len(offsets):len(offsets)]
		rm.elem = append([]int(nil), rm.elem...)
	}
	return rm
}

// Len returns the number of rows the map covers.
func (rm *RowMap) Len() int { return len(rm.off) }

// segFusedFn is a fused segmented micro-kernel (f32Kernel.segF): it
// stores clamp(A·B + bias, lo, hi) row i at c + rows[i] bytes (none when
// rows[i] < 0), the columns where mask has a bit.
type segFusedFn func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, rows *int, bias *float32, lo, hi float32, mask uint64)

// segFusedPtrFn is segFusedFn with row i of A at a + arows[i]·lda
// (f32Kernel.segFP).
type segFusedPtrFn func(nseg, kSeg int, a *float32, lda int, arows *int, adj int, b, c *float32, rows *int, bias *float32, lo, hi float32, mask uint64)

// segTail is the scratch of a partial last row tile: its A rows copied
// with their segments side by side, and its row map padded with drops.
type segTail struct {
	a    []float32
	rows [maxMR]int
	// arows is the A row table of a segFP tile (its rows, then a
	// repeat of its last one for each padding row).
	arows [maxMR]int
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
// destination, with no clearing, reading or copying of C. Rows mapped
// nowhere are not computed: tiles either stay within one run of mapped
// rows, or (kernels with a per-row A table, f32Kernel.segFP) take the
// next mapped rows wherever they are. p should come from
// PackF32SegmentedMap(rm), whose tile shape suits rm. The results
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
	if pb.kern.segFP != nil {
		// Tiles over the mapped rows below m only, across the dropped ones.
		q1, _ := slices.BinarySearch(rm.mapped, m)
		if threads <= 1 || q1 <= pb.kern.mr {
			// Direct call: a closure would escape to the heap.
			runSegPtr(pb, 0, q1, a, lda, segStride, bias, lo, hi, c, rm)
			return
		}
		parallelRows(threads, q1, pb.kern.mr, func(q0, q1 int) {
			runSegPtr(pb, q0, q1, a, lda, segStride, bias, lo, hi, c, rm)
		})
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

// runSegRows runs rows r0..r1 through the fused kernel pb.kern.segF and
// its short forms; pb holds k in one block of whole segments. Each run of
// mapped rows is cut into tiles on its own (so dropped rows between runs
// cost nothing), as evenly as the kernels' row step allows: a 20-row run
// on the 14-row family is two 10-row tiles rather than 14 + 6.
func runSegRows(pb *packedB, r0, r1 int, a []float32, lda, segStride int, bias []float32, lo, hi float32, c []float32, rm *RowMap) {
	kern := pb.kern
	nr, n, k := kern.nr, pb.n, pb.k
	t := segTiler{pb: pb, m: r1, a: a, lda: lda, segStride: segStride, c: c, rm: rm, lo: lo, hi: hi}
	defer t.release()
	// Blocks of about mcF32Rows rows keep their A rows in L2 while every
	// B sliver passes over them, as in runF32.
	runs := rm.runs
	ri := 0
	for ri < len(runs) && runs[ri].end <= r0 {
		ri++
	}
	for ri < len(runs) && runs[ri].start < r1 {
		rj, rows := ri, 0
		for rj < len(runs) && runs[rj].start < r1 && rows < mcF32Rows {
			rows += min(runs[rj].end, r1) - max(runs[rj].start, r0)
			rj++
		}
		for js := 0; js*nr < n; js++ {
			j0 := js * nr
			t.b = &pb.data[js*k*nr]
			t.cj, t.bj = &c[j0], &bias[j0]
			t.mask = ^uint64(0) >> (64 - min(nr, n-j0))
			for _, run := range runs[ri:rj] {
				t.run(max(run.start, r0), min(run.end, r1))
			}
		}
		ri = rj
	}
}

// runSegPtr runs mapped rows q0..q1 of rm (the q-th mapped row is row
// rm.mapped[q]) through pb.kern.segFP, mr of them per tile whatever lies
// between them; a short last tile repeats its last row, mapped nowhere.
func runSegPtr(pb *packedB, q0, q1 int, a []float32, lda, segStride int, bias []float32, lo, hi float32, c []float32, rm *RowMap) {
	kern := pb.kern
	mr, nr, n, k, seg := kern.mr, kern.nr, pb.n, pb.k, pb.seg
	nseg, adj := k/seg, 4*(segStride-seg)
	mc := max(mr, mcF32Rows/mr*mr)
	// The short last tile's tables come from the pool: the kernel is
	// called through a func value, so local arrays would escape.
	var last *segTail
	defer func() {
		if last != nil {
			segTailPool.Put(last)
		}
	}()
	for ic := q0; ic < q1; ic += mc {
		qe := min(ic+mc, q1)
		full := ic + (qe-ic)/mr*mr
		if full < qe {
			last = segTailPool.Get().(*segTail)
			h := copy(last.arows[:], rm.mapped[full:qe])
			copy(last.rows[:], rm.mappedOff[full:qe])
			for r := h; r < mr; r++ {
				last.arows[r], last.rows[r] = last.arows[h-1], -1
			}
		}
		for js := 0; js*nr < n; js++ {
			bs := &pb.data[js*k*nr]
			j0 := js * nr
			mask := ^uint64(0) >> (64 - min(nr, n-j0))
			cj, bj := &c[j0], &bias[j0]
			for q := ic; q < full; q += mr {
				kern.segFP(nseg, seg, &a[0], lda, &rm.mapped[q], adj, bs, cj, &rm.mappedOff[q], bj, lo, hi, mask)
			}
			if full < qe {
				kern.segFP(nseg, seg, &a[0], lda, &last.arows[0], adj, bs, cj, &last.rows[0], bj, lo, hi, mask)
			}
		}
	}
}

// segTiler runs the fused tiles of one B sliver over runs of rows.
type segTiler struct {
	pb             *packedB
	m              int // rows past m are not this call's (A may end there)
	a              []float32
	lda, segStride int
	c              []float32
	rm             *RowMap
	lo, hi         float32
	// The sliver: packed B, C and bias at its first column, its mask.
	b, cj, bj *float32
	mask      uint64
	tail      *segTail
}

// run computes rows s..e−1, all mapped, in tiles of at most kern.mr rows.
func (t *segTiler) run(s, e int) {
	kern := t.pb.kern
	step, units, tiles := kern.runTiles(e - s)
	nseg, seg := t.pb.k/t.pb.seg, t.pb.seg
	adj := 4 * (t.segStride - seg)
	for i, ti := s, 0; ti < tiles; ti++ {
		u := units / tiles
		if ti < units%tiles {
			u++
		}
		fn, h := kern.segF, u*step
		if h < kern.mr {
			fn = kern.segFTail[u-1]
		}
		if i+h > e && !t.spare(e, i+h) {
			// The rows past the run are not free to compute over: copy
			// the run's last rows beside zero rows mapped nowhere.
			fn(nseg, seg, t.tailCopy(i, e, h), t.pb.k, 0, t.b, t.cj, &t.tail.rows[0], t.bj, t.lo, t.hi, t.mask)
			return
		}
		fn(nseg, seg, &t.a[i*t.lda], t.lda, adj, t.b, t.cj, &t.rm.off[i], t.bj, t.lo, t.hi, t.mask)
		i += h
	}
}

// runTiles splits a run of L rows for the fused kernels of kern: units
// row steps of step rows in tiles as even as they go (the first
// units%tiles tiles one step taller), each at most mr rows. With no
// short kernels the step is mr itself.
func (kern *f32Kernel) runTiles(L int) (step, units, tiles int) {
	step = kern.mr
	if len(kern.segFTail) > 0 {
		step = kern.tailStep
	}
	units = (L + step - 1) / step
	per := kern.mr / step
	return step, units, (units + per - 1) / per
}

// runCost estimates the time of MulSegmentedRows on kern over rm's runs
// and n columns, in units of one fully used FMA lane: each tile costs its
// rows times its padded columns, over kern.segWeight and over the share
// of the FMA ports its accumulators can keep busy (a k step's FMAs on one
// accumulator are 4 cycles apart, so fewer than 8 of them leave ports
// idle). A segFP kernel's tiles are all full but the last.
func (kern *f32Kernel) runCost(rm *RowMap, n int) float64 {
	nv := kern.nr / 16
	slivers := (n + kern.nr - 1) / kern.nr
	if kern.segFP != nil {
		tiles := (len(rm.mapped) + kern.mr - 1) / kern.mr
		return float64(tiles*kern.mr*kern.nr*slivers) / min(1, float64(kern.mr*nv)/8) / kern.segWeight
	}
	cost := 0.0
	for _, r := range rm.runs {
		step, units, tiles := kern.runTiles(r.end - r.start)
		for ti := 0; ti < tiles; ti++ {
			u := units / tiles
			if ti < units%tiles {
				u++
			}
			h := u * step
			cost += float64(h*kern.nr) / min(1, float64(h*nv)/8)
		}
	}
	return cost * float64(slivers) / kern.segWeight
}

// pickRuns returns the fused kernel that runs rm's rows fastest for n
// columns (runCost), or pickSeg's choice when the set has none.
func (s *f32Set) pickRuns(rm *RowMap, n int) *f32Kernel {
	var best *f32Kernel
	bestCost := 0.0
	for i := range s.kernels {
		k := &s.kernels[i]
		if k.segF == nil {
			continue
		}
		if c := k.runCost(rm, n); best == nil || c < bestCost {
			best, bestCost = k, c
		}
	}
	if best == nil {
		return s.pickSeg(rm.Len(), n)
	}
	return best
}

// PackF32SegmentedMap is PackF32Segmented for MulSegmentedRows calls
// over rm (or a prefix of it): the tile shape is the one estimated to run
// rm's runs of mapped rows fastest, each run being tiled on its own.
func PackF32SegmentedMap(rm *RowMap, b []float32, n, k, ldb, seg int) *PackedF32 {
	if n < 0 || k < 0 || seg <= 0 || k%seg != 0 {
		panic(fmt.Sprintf("gemm: PackF32SegmentedMap: n=%d k=%d seg=%d (k must be a positive multiple of seg)", n, k, seg))
	}
	checkLen("B", len(b), n, k, ldb)
	return &PackedF32{pb: packBF32Seg(defaultF32.pickRuns(rm, n), true, n, 0, k, seg, b, ldb, nil), zeros: make([]float32, n)}
}

// spare reports whether rows e..f−1 may be computed and dropped in
// place: they exist in A (below m) and are mapped nowhere.
func (t *segTiler) spare(e, f int) bool {
	if f > t.m {
		return false
	}
	for _, o := range t.rm.off[e:f] {
		if o >= 0 {
			return false
		}
	}
	return true
}

// tailCopy lays rows i..e−1 of A out with their segments side by side
// (lda = k) in the tail scratch, zero rows after them up to h, and maps
// the zero rows nowhere; it returns the scratch's first element.
func (t *segTiler) tailCopy(i, e, h int) *float32 {
	if t.tail == nil {
		t.tail = segTailPool.Get().(*segTail)
	}
	k, seg := t.pb.k, t.pb.seg
	if cap(t.tail.a) < h*k {
		t.tail.a = make([]float32, t.pb.kern.mr*k)
	}
	buf := t.tail.a[:h*k]
	rows := e - i
	clear(buf[rows*k:])
	for r := 0; r < rows; r++ {
		for q := 0; q < k/seg; q++ {
			off := (i+r)*t.lda + q*t.segStride
			copy(buf[r*k+q*seg:r*k+(q+1)*seg], t.a[off:off+seg])
		}
	}
	copy(t.tail.rows[:rows], t.rm.off[i:e])
	for r := rows; r < h; r++ {
		t.tail.rows[r] = -1
	}
	return &buf[0]
}

// release returns the tail scratch, if a tile took one.
func (t *segTiler) release() {
	if t.tail != nil {
		segTailPool.Put(t.tail)
		t.tail = nil
	}
}
