package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// s8AVX2SegI16All emits the int16 segmented product kernels of the
// int16-pair family without requantization, one per row count 6..1 (the
// 6-row tile and the partial last row tile of a product): the int32 sums
// of int16 A (row i at a + i·lda bytes, nseg segments of kpSeg int16
// pairs, the next segment adj bytes after the previous one's end) and
// the int16-pair panel b, plus init, stored to the mr×16 tiles at c (row
// stride ldc int32). The exact int8 Winograd convolution
// (gemm.PackedI16.MulSegmented) runs its products here: its transformed
// inputs and filters need int16, and its output transform needs the raw
// sums. The loop is s8AVX2SegmentedFused's.
func s8AVX2SegI16All() {
	for mr := 6; mr >= 1; mr-- {
		s8SegI16(ymmTile(mr, 2), "s8AVX2", "", maddWD, 1)
	}
}

// s8SegI16 emits the int32-storing segmented kernel of tile t (ymm or
// zmm) as family+"SI16x{mr}x{cols}", with the multiply-add step madd
// and isa (when set) noted in its doc; the k loop is segKLoop's, 4 pairs
// a pass. One call runs nsl column slivers (b on through the packed
// panel, c and init on by one tile width each) over each of tiles row
// tiles (a on by mr·lda bytes, c by mr·ldc elements), both at least 1,
// so a whole product costs one call (plus one for its partial last row
// tile, on the kernel of that many rows) instead of one per tile: at
// K = 16 (the first Winograd layers) a tile is only 8 k steps, and the
// per-tile call, its argument set-up and the Go loop around it took a
// third of the product's time.
//
// With chains > 1 (a divisor of the 4-step pass) the k loop runs on that
// many accumulator sets: step u of a pass adds into set u mod chains, the
// remainder steps into set 0, and the sets are summed into set 0 before
// the store. Short row tiles then keep enough independent chains in flight
// to cover a multiply-add with latency (VPDPWSSD); the int32 sums wrap, so
// the result is bit-identical in any order. The name then carries
// "K{chains}" after family.
func s8SegI16(t tile, family, isa string, madd i16MAdd, chains int) {
	if chains > 1 {
		family = fmt.Sprintf("%sK%d", family, chains)
	}
	name := fmt.Sprintf("%sSI16x%dx%d", family, t.mr, t.cols())
	TEXT(name, NOSPLIT, "func(nseg, kpSeg int, a *int16, lda, adj int, b *int16, c *int32, ldc int, init *int32, nsl, tiles int)")
	Pragma("noescape")
	chainNote := ""
	if chains > 1 {
		chainNote = fmt.Sprintf("; k split over %d accumulator sets", chains)
	}
	Doc(fmt.Sprintf("%s stores init plus the int32 product of int16 segmented A (tiles row tiles of %d rows at stride lda bytes, nseg segments of 2·kpSeg int16, adj bytes apart) and nsl slivers of the int16-pair panel b into the %d×%d tiles at c (row stride ldc elements%s%s); nsl, tiles ≥ 1.", name, t.mr, t.mr, t.cols(), isaNote(isa), chainNote))
	// at lays out the chains accumulator sets: set s holds rows
	// mr·s..mr·s+mr−1 of a chains·mr-row tile (set 0 is t's own
	// accumulators), then B and the scratch registers.
	at := t
	at.mr *= chains
	// kpSeg = 4·q + r, computed once: q goes back to kpSeg's slot, r to
	// a local. The arguments that move per sliver or tile (nseg counts
	// down) are restored from locals.
	const unroll = 4
	loc := newTileLoopLocals(unroll, "b", "c", "init", "nsl")
	Label("sliver")
	rows, b := loadARows(t.mr, false)
	ini := Load(Param("init"), GP64())
	at.check(2)
	t.initS32(ini)
	kstep := at.dotKStep(rows.row, b, at.next(0), at.next(1), madd)
	if chains > 1 {
		if unroll%chains != 0 {
			panic(fmt.Sprintf("%s: %d chains do not divide the %d-step pass", name, chains, unroll))
		}
		for i := t.mr; i < at.mr; i++ {
			for v := 0; v < t.nv; v++ {
				VPXOR(at.acc(i, v), at.acc(i, v), at.acc(i, v))
			}
		}
		kstep = func(u int) {
			at.loadB(b, t.width*t.nv*u)
			set := (u % chains) * t.mr
			for i := 0; i < t.mr; i++ {
				VPBROADCASTD(rows.row(i, 4*u), at.next(0))
				for v := 0; v < t.nv; v++ {
					madd(at.bv(v), at.next(0), at.acc(set+i, v), at.next(1))
				}
			}
		}
	}
	segKLoop("kpSeg", func(k Register) { MOVQ(loc.rest, k) }, unroll, kstep, rows.step, b, t.width*t.nv, func() { rows.nextSegment(32) })
	Store(b, Param("b"))
	for i := t.mr; i < at.mr; i++ {
		for v := 0; v < t.nv; v++ {
			VPADDD(at.acc(i, v), t.acc(i%t.mr, v), t.acc(i%t.mr, v))
		}
	}
	c, ldc := loadC()
	t.storeS32Rows(c, ldc)
	// The next sliver of the same rows: b is there already.
	DECQ(mustParam("nsl"))
	JLE(LabelRef("done"))
	ADDQ(U32(t.width*t.nv), mustParam("init"))
	ADDQ(U32(t.width*t.nv), mustParam("c"))
	{
		ns := GP64()
		MOVQ(loc.nsegSave, ns)
		Store(ns, Param("nseg"))
	}
	JMP(LabelRef("sliver"))
	// The next row tile: A and C move on by mr rows, the sliver
	// arguments start over.
	Label("done")
	DECQ(mustParam("tiles"))
	JLE(LabelRef("end"))
	{
		r, l := GP64(), GP64()
		Load(Param("lda"), l)
		IMUL3Q(U8(t.mr), l, l)
		ADDQ(l, mustParam("a"))
		Load(Param("ldc"), l)
		IMUL3Q(U8(4*t.mr), l, l)
		ADDQ(l, loc.saved[1].mem)
		loc.restore(r)
	}
	JMP(LabelRef("sliver"))
	Label("end")
	VZEROUPPER()
	RET()
}

// mustParam is the frame address of the current function's argument
// name, for instructions that update it in memory.
func mustParam(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(fmt.Sprintf("argument %s: %v", name, err))
	}
	return b.Addr
}
