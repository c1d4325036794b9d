package gemm

import "unsafe"

// f32Kernel is one float32 micro-kernel: it adds alpha·A·B for packed panels
// a (k steps of mr values) and b (k steps of nr values) to the mr×nr tile at
// c (row stride ldc elements).
type f32Kernel struct {
	name   string
	mr, nr int
	// weight ranks kernels when several fit: the relative speed of one
	// useful lane (wide tiles amortise broadcasts better).
	weight float64
	fn     func(k int, a, b, c *float32, ldc int, alpha float32)
	// direct, when set, is the same tile reading A unpacked (row i at
	// a+i·lda): used for op(A) = A so A needs no packing pass.
	direct func(k int, a *float32, lda int, b, c *float32, ldc int, alpha float32)
	// directZ, when set, is direct storing alpha·A·B over the tile (C is
	// neither cleared beforehand nor read): the first k block of Sgemm
	// with beta = 0.
	directZ func(k int, a *float32, lda int, b, c *float32, ldc int, alpha float32)
	// seg, when set, is direct over segmented rows (MulSegmented): nseg
	// segments of kSeg floats, row pointers moving adj bytes in between.
	seg func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, ldc int, alpha float32)
	// segF, when set, is seg with the conv epilogue fused: it stores
	// clamp(A·B + bias, lo, hi) row i at c + rows[i] bytes (none when
	// rows[i] < 0), columns where mask has a bit (MulSegmentedRows).
	segF segFusedFn
	// segFTail[j], when set, is segF for a short tile of (j+1)·tailStep
	// rows: a partial last row tile runs on the smallest that covers it.
	segFTail []segFusedFn
	tailStep int
	// segFP, when set, is segF with row i of A at a + arows[i]·lda: its
	// tiles run across the dropped rows of a RowMap, so every tile is
	// full (MulSegmentedRows then uses it instead of segF).
	segFP segFusedPtrFn
	// segWeight is weight for the fused tiles (pickRuns): their relative
	// speed per useful lane. One-vector tiles load an A broadcast per
	// FMA and top out lower than the wider ones, which reuse it; 6x64
	// (segFP) loads least per FMA (L1 peaks ~200, ~229, ~234 GFLOP/s).
	segWeight float64
	// tn, when set, reads both operands unpacked and k-major: step p of
	// the tile uses mr values at a+p·lda and nr values at b+p·ldb. It runs
	// Sgemm's tA && !tB case (weight gradients; see sgemm_tn.go).
	tn func(k int, a *float32, lda int, b *float32, ldb int, c *float32, ldc int, alpha float32)
	// small, when set, holds direct kernels for a row tile shorter than
	// mr (small[h-1] for h rows, widest first), so the last, partial row
	// tile — all of a product with fewer than mr rows, like a dense layer
	// at batch 1 — neither computes padding rows nor copies A.
	small [][]smallF32
	// smallWeight is weight for the rows that small tiles compute.
	smallWeight float64
}

// smallF32 is a short direct tile: h rows by ns slivers of the owning
// kernel's nr columns (the slivers of one packed k block, bs elements
// apart). add and store match direct and directZ of the full tile
// accumulator for accumulator (same k order, same final FMA or
// multiply), so every output is bit-identical whichever tile computes it.
type smallF32 struct {
	h, ns      int
	add, store func(k int, a *float32, lda int, b *float32, bs int, c *float32, ldc int, alpha float32)
}

// smallFor returns the widest small tile of h rows spanning at most ns
// slivers, nil when the kernel has none.
func (k *f32Kernel) smallFor(h, ns int) *smallF32 {
	if h < 1 || h > len(k.small) {
		return nil
	}
	for i := range k.small[h-1] {
		if s := &k.small[h-1][i]; s.ns <= ns {
			return s
		}
	}
	return nil
}

// f32Set is the family of float32 kernels for one instruction set.
type f32Set struct {
	name    string
	kernels []f32Kernel
}

// pick returns the kernel that wastes the fewest lanes for an m×n
// product (padding rows to mr and columns to nr), weighted by how fast
// each tile shape runs.
func (s *f32Set) pick(m, n int) *f32Kernel {
	return s.pickFor(m, n, false)
}

// pickDirect is pick for a product whose A is row-major (PackedF32, Sgemm
// without tA): the direct path, where a kernel's small tiles compute a
// partial last row tile without padding.
func (s *f32Set) pickDirect(m, n int) *f32Kernel {
	return s.pickFor(m, n, true)
}

func (s *f32Set) pickFor(m, n int, direct bool) *f32Kernel {
	best, bestScore := &s.kernels[0], -1.0
	for i := range s.kernels {
		k := &s.kernels[i]
		rows := useful(m, k.mr) * k.weight
		if direct && k.small != nil && k.direct != nil {
			m := max(m, 1)
			full := m / k.mr * k.mr
			rows = (float64(full)*k.weight + float64(m-full)*k.smallWeight) / float64(m)
		}
		score := rows * useful(n, k.nr)
		if score > bestScore {
			best, bestScore = k, score
		}
	}
	return best
}

// pickSeg is pick for the fused segmented product, whose partial last
// row tile runs on a short kernel of a multiple of tailStep rows.
func (s *f32Set) pickSeg(m, n int) *f32Kernel {
	best, bestScore := &s.kernels[0], -1.0
	for i := range s.kernels {
		k := &s.kernels[i]
		step := k.mr
		if len(k.segFTail) > 0 {
			step = k.tailStep
		}
		score := useful(m, step) * useful(n, k.nr) * k.weight
		if score > bestScore {
			best, bestScore = k, score
		}
	}
	return best
}

// s8Format says how an int8 kernel wants its packed operands.
type s8Format int

const (
	// fmtU8Quad: groups of 4 k-steps; A as bytes a+128 (u8), B as s8.
	// The +128 is compensated with −128·Σ_p B[j][p] per column (VNNI).
	fmtU8Quad s8Format = iota
	// fmtI16Pair: groups of 2 k-steps widened to int16 (AVX2, plain Go).
	fmtI16Pair
)

// group is the number of k-steps a packed group holds.
func (f s8Format) group() int {
	if f == fmtU8Quad {
		return 4
	}
	return 2
}

// s8Kernel is one int8 micro-kernel: it stores init[j] plus the dot
// products of packed panels a and b (kq groups) into the mr×nr tile at c.
// a and b point at bytes (fmtU8Quad) or int16s (fmtI16Pair).
type s8Kernel struct {
	name   string
	mr, nr int
	weight float64
	fn     func(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32)
	// direct, when set, reads A unpacked (row i at a+i·lda, 4·kq bytes
	// each, possibly past k into the stride gap) instead of a packed panel.
	direct func(kq int, a *int8, lda int, b unsafe.Pointer, c *int32, ldc int, init *int32)
	// seg, when set, is direct over segmented rows: nseg segments of
	// kqSeg groups, row pointers moving adj bytes between segments.
	seg func(nseg, kqSeg int, a *int8, lda, adj int, b unsafe.Pointer, c *int32, ldc int, init *int32)
	// segF, when set, is seg with the requantization fused
	// (MulRequantSegmentedRows): [0] without, [1] with the activation
	// clamp. These are the single-rounding kernels; segFusedDouble
	// gives the double-rounding ones of the same tile.
	segF [2]s8SegFusedFn
	// segFT, when set, are the fused kernels of MulRequantSegmentedRows
	// in place of segF: the AVX2 requantization (Requant.wideP and
	// consts8), all nr columns of a mapped row stored, and several row
	// tiles and column slivers per call (runSegRowsTiles).
	segFT *s8SegTiles
	// segTail, when set, are segFT's kernels for PackS8SegmentedTail
	// weights (each segment's whole quads, then a gathered tail quad).
	segTail *s8SegTailTiles
	// segWide, when set, are the fused segmented kernels over int16 A
	// (MulRequantSegmentedRowsWide), for the int16-pair format.
	segWide *s8SegWide
	// segI16, when set, are the segmented products over int16 A storing
	// int32 sums (PackedI16.MulSegmented), for the int16-pair format:
	// segI16[h-1] is the kernel of h-row tiles (h = mr for every whole
	// row tile, fewer for a partial last one).
	segI16 *[6]s8SegI16Fn
}

// s8SegFusedFn is a fused int8 segmented micro-kernel: A holds u8-offset
// bytes (x XOR 0x80), the accumulators start at init, and row i is
// requantized with the fast params (Requant.fastParams) and stored at
// c + rows[i]/4 (none when rows[i] < 0), the columns where mask has a bit.
type s8SegFusedFn func(nseg, kqSeg int, a *int8, lda, adj int, b *int8, c *int8, rows *int, init *int32, params *int32, zlh *int32, mask uint64)

// s8Set is the family of int8 kernels for one instruction set.
type s8Set struct {
	name    string
	format  s8Format
	kernels []s8Kernel
}

// useful is the fraction of x rounded up to a multiple of tile that is
// real work.
func useful(x, tile int) float64 {
	x = max(x, 1)
	return float64(x) / float64((x+tile-1)/tile*tile)
}

// pick is f32Set.pick for int8 kernels.
func (s *s8Set) pick(m, n int) *s8Kernel {
	best, bestScore := &s.kernels[0], -1.0
	for i := range s.kernels {
		k := &s.kernels[i]
		score := useful(m, k.mr) * useful(n, k.nr) * k.weight
		if score > bestScore {
			best, bestScore = k, score
		}
	}
	return best
}

// goF32Set is the portable kernel family: the same packed driver with a
// plain-Go 4×4 micro-kernel, used with -tags noasm and off amd64.
var goF32Set = &f32Set{name: "go", kernels: []f32Kernel{{name: "go4x4", mr: 4, nr: 4, weight: 1, fn: goF32Kernel4x4}}}

// goS8Set is the portable int8 kernel family.
var goS8Set = &s8Set{name: "go", format: fmtI16Pair, kernels: []s8Kernel{{name: "go4x4", mr: 4, nr: 4, weight: 1, fn: goS8Kernel4x4}}}

// goF32Kernel4x4 is the plain-Go micro-kernel: 16 scalar accumulators that
// the compiler keeps in registers.
func goF32Kernel4x4(k int, a, b, c *float32, ldc int, alpha float32) {
	as := unsafe.Slice(a, 4*k)
	bs := unsafe.Slice(b, 4*k)
	var c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		ap := as[4*p : 4*p+4 : 4*p+4]
		bp := bs[4*p : 4*p+4 : 4*p+4]
		a0, a1, a2, a3 := ap[0], ap[1], ap[2], ap[3]
		b0, b1, b2, b3 := bp[0], bp[1], bp[2], bp[3]
		c00 += a0 * b0
		c01 += a0 * b1
		c02 += a0 * b2
		c03 += a0 * b3
		c10 += a1 * b0
		c11 += a1 * b1
		c12 += a1 * b2
		c13 += a1 * b3
		c20 += a2 * b0
		c21 += a2 * b1
		c22 += a2 * b2
		c23 += a2 * b3
		c30 += a3 * b0
		c31 += a3 * b1
		c32 += a3 * b2
		c33 += a3 * b3
	}
	cs := unsafe.Slice(c, 3*ldc+4)
	r := cs[0:4:4]
	r[0] += alpha * c00
	r[1] += alpha * c01
	r[2] += alpha * c02
	r[3] += alpha * c03
	r = cs[ldc : ldc+4 : ldc+4]
	r[0] += alpha * c10
	r[1] += alpha * c11
	r[2] += alpha * c12
	r[3] += alpha * c13
	r = cs[2*ldc : 2*ldc+4 : 2*ldc+4]
	r[0] += alpha * c20
	r[1] += alpha * c21
	r[2] += alpha * c22
	r[3] += alpha * c23
	r = cs[3*ldc : 3*ldc+4 : 3*ldc+4]
	r[0] += alpha * c30
	r[1] += alpha * c31
	r[2] += alpha * c32
	r[3] += alpha * c33
}

// goS8Kernel4x4 is the plain-Go int8 micro-kernel over int16 pairs.
func goS8Kernel4x4(kq int, a, b unsafe.Pointer, c *int32, ldc int, init *int32) {
	as := unsafe.Slice((*int16)(a), 8*kq)
	bs := unsafe.Slice((*int16)(b), 8*kq)
	in := unsafe.Slice(init, 4)
	var acc [4][4]int32
	for i := range acc {
		acc[i] = [4]int32{in[0], in[1], in[2], in[3]}
	}
	for q := 0; q < kq; q++ {
		ap := as[8*q : 8*q+8 : 8*q+8]
		bp := bs[8*q : 8*q+8 : 8*q+8]
		for i := 0; i < 4; i++ {
			x0, x1 := int32(ap[2*i]), int32(ap[2*i+1])
			acc[i][0] += x0*int32(bp[0]) + x1*int32(bp[1])
			acc[i][1] += x0*int32(bp[2]) + x1*int32(bp[3])
			acc[i][2] += x0*int32(bp[4]) + x1*int32(bp[5])
			acc[i][3] += x0*int32(bp[6]) + x1*int32(bp[7])
		}
	}
	cs := unsafe.Slice(c, 3*ldc+4)
	for i := 0; i < 4; i++ {
		copy(cs[i*ldc:i*ldc+4], acc[i][:])
	}
}
