package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The int16-pair int8 kernels (A and B widened to int16 pairs along k,
// VPMADDWD + VPADDD into int32 accumulators: exact and wrapping like the
// reference) come in ymm registers for AVX2 (s8AVX2…, 6×16) and in zmm
// registers for AVX-512BW CPUs without VNNI (s8AVX512W…, 6×16·nv). Their
// loops differ only in register width, so each form has one generator
// here, given the tile (ymmTile or zmmTile), the kernel family's name
// prefix and the instruction set its doc names (empty for AVX2): B's
// vectors lie t.width bytes apart and move with the tile's int32 move
// (VMOVDQU or VMOVDQU32), a tile is t.cols() columns wide.

// i16MAdd emits one multiply-add step of the int16-pair kernels: acc +=
// the dot products of the int16 pairs of b and a, per dword, wrapping;
// prod is a scratch register the step may use.
type i16MAdd func(b, a, acc, prod VecPhysical)

// maddWD is the AVX2 / AVX-512BW step: VPMADDWD into prod, then VPADDD.
func maddWD(b, a, acc, prod VecPhysical) {
	VPMADDWD(b, a, prod)
	VPADDD(prod, acc, acc)
}

// isaNote is the "; isa" that ends a kernel doc's parenthesis, empty
// without an instruction set.
func isaNote(isa string) string {
	if isa == "" {
		return ""
	}
	return "; " + isa
}

// isaParen is the " (isa)" that ends a kernel doc's sentence, empty
// without an instruction set.
func isaParen(isa string) string {
	if isa == "" {
		return ""
	}
	return " (" + isa + ")"
}

// s8I16Packed emits the packed-panel kernel family+"x{mr}x{cols}":
// C[i][j] = init[j] + Σ_q A[q][i]·B[q][j] over int16 pairs, a holding k2
// steps of mr pairs and b k2 steps of t.cols() pairs.
func s8I16Packed(t tile, family, isa string) {
	name := fmt.Sprintf("%sx%dx%d", family, t.mr, t.cols())
	TEXT(name, NOSPLIT, "func(k2 int, a *int16, b *int16, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the int16 pair dot products of packed panels a (k2×%d×2) and b (k2×%d×2) into the %d×%d tile at c%s.", name, t.mr, t.cols(), t.mr, t.cols(), isaParen(isa)))
	k, a, b, c, ldc, ini := loadPacked("k2")
	t.check(2)
	av, prod := t.next(0), t.next(1)
	t.initS32(ini)
	kLoop1(k, func() {
		t.loadB(b, 0)
		for i := 0; i < t.mr; i++ {
			VPBROADCASTD(Mem{Base: a, Disp: 4 * i}, av)
			for v := 0; v < t.nv; v++ {
				VPMADDWD(av, t.bv(v), prod)
				VPADDD(prod, t.acc(i, v), t.acc(i, v))
			}
		}
		ADDQ(U32(4*t.mr), a)
		ADDQ(U32(t.width*t.nv), b)
	})
	t.storeS32(c, ldc)
}

// s8I16Direct emits s8I16Packed's kernel reading A unpacked, as
// family+"Dx{mr}x{cols}": row i is 2·k2 signed bytes at a + i·lda, and
// each byte pair is broadcast to every 16-bit lane of the half-width
// register and sign-extended into the int16 pairs of the full one.
func s8I16Direct(t tile, family, isa string) {
	name := fmt.Sprintf("%sDx%dx%d", family, t.mr, t.cols())
	TEXT(name, NOSPLIT, "func(k2 int, a *int8, lda int, b *int16, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the int16 pair dot products of A (%d rows of 2·k2 signed bytes at stride lda) and the packed panel b (k2×%d×2) into the tile at c%s.", name, t.mr, t.cols(), isaParen(isa)))
	k := Load(Param("k2"), GP64())
	rows, b := loadARows(t.mr, false)
	ini := Load(Param("init"), GP64())
	t.check(2)
	av, prod := t.next(0), t.next(1)
	half := av.AsX()
	if t.width == 64 {
		half = av.AsY()
	}
	t.initS32(ini)
	kLoop1(k, func() {
		t.loadB(b, 0)
		for i := 0; i < t.mr; i++ {
			VPBROADCASTW(rows.row(i, 0), half)
			VPMOVSXBW(half, av)
			for v := 0; v < t.nv; v++ {
				VPMADDWD(av, t.bv(v), prod)
				VPADDD(prod, t.acc(i, v), t.acc(i, v))
			}
		}
		rows.step(2)
		ADDQ(U32(t.width*t.nv), b)
	})
	c, ldc := loadC()
	t.storeS32(c, ldc)
}

// s8I16SegLoop emits the k loop of the segmented int16-pair kernels: 4
// pairs a pass, then the rest one by one, per segment. rowAt addresses
// row i's A disp bytes on, step moves the rows on, nextSegment ends a
// segment and loops, b walks the panel; the argument slot rem (read by
// now) keeps the k remainder; madd is the multiply-add step. The A
// broadcast and product are t.next(0) and t.next(1).
func s8I16SegLoop(t tile, rowAt func(i, disp int) Mem, step func(bytes int), nextSegment func(), b Register, rem string, madd i16MAdd) {
	kstep := t.dotKStep(rowAt, b, t.next(0), t.next(1), madd)
	// kpSeg = 4·q + r, computed once; q goes back to kpSeg's slot and r
	// to rem's.
	const unroll = 4
	{
		kp, r := GP64(), GP64()
		Load(Param("kpSeg"), kp)
		MOVQ(kp, r)
		SHRQ(U8(2), kp)
		ANDQ(U8(unroll-1), r)
		Store(kp, Param("kpSeg"))
		Store(r, Param(rem))
	}
	segKLoop("kpSeg", func(k Register) { Load(Param(rem), k) }, unroll, kstep, step, b, t.width*t.nv, nextSegment)
}

// s8I16SegmentedFused emits the fused segmented kernel of tile t in the
// arithmetic rnd (s8AVX2SegmentedFused's frame, arguments and k loop):
// the name is family, the kind (SF, SFD, SFF; P for ptr, C for clamp)
// and the tile's shape; with ptr, row i of A starts at a + arows[i]
// bytes and the kernel loops over slivers and row tiles
// (s8I16SegmentedFusedTiles). The accumulators start at init and run the
// k loop, then epilogue requantizes and stores them (without ending the
// kernel), the A broadcast and product registers (t.next(0), t.next(1))
// free; clamp reaches it false for fp32, whose float clamp is always
// there.
func s8I16SegmentedFused(t tile, family, isa string, rnd s8AVX2Rounding, clamp, ptr bool, epilogue func(clamp bool)) {
	kind := []string{"SF", "SFD", "SFF"}[rnd]
	if ptr {
		kind = "SFP" + kind[2:]
	}
	if rnd == s8AVX2FP32 {
		clamp = false
	}
	if clamp {
		kind += "C"
	}
	name := fmt.Sprintf("%s%sx%dx%d", family, kind, t.mr, t.cols())
	if ptr {
		doc := fmt.Sprintf("%s is %s%sx%dx%d with row i of A at a + arows[i] bytes, over nsl slivers of the panel (%d columns each; b, c, init and params on by one sliver each) for each of tiles row tiles (arows and rows on by %d entries each); nsl, tiles ≥ 1.", name, family, kind[:2]+kind[3:], t.mr, t.cols(), t.cols(), t.mr)
		s8I16SegmentedFusedTiles(t, name, doc, clamp, epilogue)
		return
	}
	doc := fmt.Sprintf("%s stores the requantized int8 product of int16 segmented A (%d rows at stride lda bytes, nseg segments of 2·kpSeg int16, adj bytes apart) and the int16-pair panel b, accumulators starting at init, row i at c+rows[i]/4 (skipped when negative)%s.", name, t.mr, isaParen(isa))
	rowAt, step, nextSegment, b := segRowsPrologue(name, doc, t.mr)
	// The slot of the fourth argument (lda, read by now) keeps the k
	// remainder.
	ini := Load(Param("init"), GP64())
	t.check(2)
	t.initS32(ini)
	s8I16SegLoop(t, rowAt, step, nextSegment, b, "lda", maddWD)
	epilogue(clamp)
	VZEROUPPER()
	RET()
}

// s8I16SegmentedFusedTiles emits the body of the "P" fused kernels: one
// call runs nsl column slivers over each of tiles row tiles, row i of a
// tile's A at a + arows[i] bytes, as the AVX-VNNI fused kernels do
// (s8AVXVNNISegmentedFused). A 3-channel first conv (K = 27) has 15
// pair steps a tile: one call per tile, its argument set-up, row table
// copies and the Go loop around it cost about a sixth of the conv.
func s8I16SegmentedFusedTiles(t tile, name, doc string, clamp bool, epilogue func(clamp bool)) {
	TEXT(name, NOSPLIT, "func(nseg, kpSeg int, a *int16, arows *int, adj int, b *int16, c *int8, rows *int, init *int32, params *int32, consts *int32, nsl, tiles int)")
	Pragma("noescape")
	Doc(doc)
	// kpSeg = 4·q + r, computed once: q goes back to kpSeg's slot, r to
	// a local. The arguments that move per sliver (nseg counts down)
	// are restored from locals for the next row tile.
	const unroll = 4
	loc := newTileLoopLocals(unroll, "b", "c", "init", "params", "nsl")
	Label("sliver")
	rowAt, step, nextSegment, b := tableRows(t.mr)
	ini := Load(Param("init"), GP64())
	t.check(2)
	t.initS32(ini)
	kstep := t.dotKStep(rowAt, b, t.next(0), t.next(1), maddWD)
	segKLoop("kpSeg", func(k Register) { MOVQ(loc.rest, k) }, unroll, kstep, step, b, t.width*t.nv, nextSegment)
	Store(b, Param("b"))
	epilogue(clamp)
	// The next sliver of the same rows: b is there already; c, init and
	// params move on by one sliver (16·nv int8, int32 and parameter
	// groups of 112 int32).
	DECQ(mustParam("nsl"))
	JLE(LabelRef("done"))
	ADDQ(U32(t.cols()), mustParam("c"))
	ADDQ(U32(4*t.cols()), mustParam("init"))
	ADDQ(U32(448*t.cols()/16), mustParam("params"))
	{
		ns := GP64()
		MOVQ(loc.nsegSave, ns)
		Store(ns, Param("nseg"))
	}
	JMP(LabelRef("sliver"))
	// The next row tile: both row tables move on by mr entries, the
	// sliver arguments start over.
	Label("done")
	DECQ(mustParam("tiles"))
	JLE(LabelRef("end"))
	{
		r := GP64()
		ADDQ(U32(8*t.mr), mustParam("arows"))
		ADDQ(U32(8*t.mr), mustParam("rows"))
		loc.restore(r)
	}
	JMP(LabelRef("sliver"))
	Label("end")
	VZEROUPPER()
	RET()
}

// tileLoopLocals are the locals of a kernel that loops over slivers and
// row tiles itself: nseg (counted down per sliver), the remainder of
// kpSeg = unroll·q + r, and the arguments that move per sliver or tile,
// restored for the next row tile.
type tileLoopLocals struct {
	nsegSave, rest Mem
	saved          []tileLoopArg
}

// tileLoopArg is one argument kept in a local.
type tileLoopArg struct {
	name string
	mem  Mem
}

// newTileLoopLocals allocates the locals (nseg, rest, then names in
// order) and emits the prologue: kpSeg's quotient back to its slot, the
// remainder to rest, nseg and the named arguments copied.
func newTileLoopLocals(unroll int, names ...string) tileLoopLocals {
	l := tileLoopLocals{nsegSave: AllocLocal(8), rest: AllocLocal(8)}
	for _, n := range names {
		l.saved = append(l.saved, tileLoopArg{n, AllocLocal(8)})
	}
	kp, r := GP64(), GP64()
	Load(Param("kpSeg"), kp)
	MOVQ(kp, r)
	SHRQ(U8(2), kp)
	ANDQ(U8(unroll-1), r)
	Store(kp, Param("kpSeg"))
	MOVQ(r, l.rest)
	ns := Load(Param("nseg"), GP64())
	MOVQ(ns, l.nsegSave)
	for _, sv := range l.saved {
		x := Load(Param(sv.name), GP64())
		MOVQ(x, sv.mem)
	}
	return l
}

// restore puts the saved arguments and nseg back in their slots (through
// r) for the next row tile.
func (l tileLoopLocals) restore(r Register) {
	for _, sv := range l.saved {
		MOVQ(sv.mem, r)
		Store(r, Param(sv.name))
	}
	MOVQ(l.nsegSave, r)
	Store(r, Param("nseg"))
}
