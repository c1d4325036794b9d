package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// smallShapes are the row-tail tiles of the 6x64 direct kernel: h rows
// (1..5) by ns slivers of 64 columns. A dense layer at batch 1 has one
// row, and on the 6-row kernel five of its six rows were zero padding
// (24 FMAs and 6 broadcasts per k-step for 4 useful FMAs). Each shape
// keeps at least 16 independent accumulators so the FMA latency (4
// cycles, 2 ports) stays hidden although a row of one sliver has only
// four: a short tile spans several slivers instead, which also puts more
// B streams in flight. (Software prefetch of the B streams, 1–4 KiB
// ahead, measured no gain: the hardware streamers keep up.)
var smallShapes = [][2]int{{1, 4}, {1, 2}, {1, 1}, {2, 2}, {2, 1}, {3, 2}, {3, 1}, {4, 1}, {5, 1}}

// sgemmAVX512SmallAll emits the add and store forms of every small shape.
func sgemmAVX512SmallAll() {
	for _, s := range smallShapes {
		sgemmAVX512Small(s[0], s[1], false)
		sgemmAVX512Small(s[0], s[1], true)
	}
}

// sgemmAVX512Small emits the direct kernel for an h×(64·ns) tile whose B
// slivers lie bs elements apart (one packed k block holds its slivers
// side by side). Every accumulator runs the same chain as in
// sgemmAVX512Dx6x64 (zero, then one FMA per k-step in k order) and is
// finished the same way — C + alpha·acc as one FMA, or alpha·acc stored
// (store) as in sgemmAVX512DZx6x64 — so a row's results do not depend on
// which tile computes it.
func sgemmAVX512Small(h, ns int, store bool) {
	kind, verb := "D", "adds alpha times"
	if store {
		kind, verb = "DZ", "stores alpha times"
	}
	name := fmt.Sprintf("sgemmAVX512%sx%dx%d", kind, h, 64*ns)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, bs int, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s %s A (%d rows of k at stride lda) times %d packed 64-column panels (k×64 each, bs elements apart, from b) into the %d×%d tile at c.", name, verb, h, ns, h, 64*ns))
	const nv = 4
	if h*nv*ns+h+nv > 32 {
		panic("tile does not fit")
	}
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	bs := Load(Param("bs"), GP64())
	SHLQ(U8(2), lda)
	SHLQ(U8(2), bs)
	rows := newRowAddrs(h, a.(GPVirtual), lda.(GPVirtual))
	slivers := newRowAddrs(ns, b.(GPVirtual), bs.(GPVirtual))
	// As one tile, the accumulators are h rows of ns·nv vectors (sliver
	// s, vector v at column vector s·nv+v); the A broadcasts and B
	// vectors follow them.
	t := zmmTile(h, ns*nv)
	acc := func(i, s, v int) VecPhysical { return t.acc(i, s*nv+v) }
	av := func(i int) VecPhysical { return zmm(h*nv*ns + i) }
	bv := func(v int) VecPhysical { return zmm(h*nv*ns + h + v) }
	t.zero()
	TESTQ(k, k)
	JE(LabelRef("store"))
	Label("loop")
	// One broadcast per row and step; a single row takes B straight from
	// memory (each B vector meets one FMA), several rows share B in
	// registers.
	for i := 0; i < h; i++ {
		VBROADCASTSS(rows.row(i, 0), av(i))
	}
	for s := 0; s < ns; s++ {
		for v := 0; v < nv; v++ {
			if h == 1 {
				VFMADD231PS(slivers.row(s, 64*v), av(0), acc(0, s, v))
				continue
			}
			VMOVUPS(slivers.row(s, 64*v), bv(v))
			for i := 0; i < h; i++ {
				VFMADD231PS(bv(v), av(i), acc(i, s, v))
			}
		}
	}
	rows.step(4)
	slivers.step(64 * nv)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("store")
	c, ldc := loadC()
	t.storeF32(c, ldc, bv(0), bv(1), 56, store)
}

// smallShapesAVX2 are the row-tail tiles of the AVX2 6x16 direct kernel:
// h rows (1..5) by ns slivers of 16 columns, within 16 ymm registers
// (h·2·ns accumulators, the 2·ns B vectors of a step when h > 1, one A
// broadcast). Eight or more accumulators hide the FMA latency where the
// width allows.
var smallShapesAVX2 = [][2]int{{1, 6}, {1, 4}, {1, 2}, {1, 1}, {2, 2}, {2, 1}, {3, 1}, {4, 1}, {5, 1}}

// sgemmAVX2SmallAll emits the add and store forms of every AVX2 small
// shape.
func sgemmAVX2SmallAll() {
	for _, s := range smallShapesAVX2 {
		sgemmAVX2Small(s[0], s[1], false)
		sgemmAVX2Small(s[0], s[1], true)
	}
}

// sgemmAVX2Small is sgemmAVX512Small for the AVX2 6x16 kernel: every
// accumulator runs sgemmAVX2Dx6x16's chain (zero, one FMA per k-step in
// k order, then C + alpha·acc as one FMA, or alpha·acc stored), so a
// row's results do not depend on which tile computes it.
func sgemmAVX2Small(h, ns int, store bool) {
	kind, verb := "D", "adds alpha times"
	if store {
		kind, verb = "DZ", "stores alpha times"
	}
	name := fmt.Sprintf("sgemmAVX2%sx%dx%d", kind, h, 16*ns)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b *float32, bs int, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s %s A (%d rows of k at stride lda) times %d packed 16-column panels (k×16 each, bs elements apart, from b) into the %d×%d tile at c.", name, verb, h, ns, h, 16*ns))
	const nv = 2
	nb := nv * ns
	if h == 1 {
		nb = 0
	}
	if h*nv*ns+nb+1 > 16 {
		panic("tile does not fit")
	}
	k := Load(Param("k"), GP64())
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	bs := Load(Param("bs"), GP64())
	SHLQ(U8(2), lda)
	SHLQ(U8(2), bs)
	rows := newRowAddrs(h, a.(GPVirtual), lda.(GPVirtual))
	slivers := newRowAddrs(ns, b.(GPVirtual), bs.(GPVirtual))
	t := ymmTile(h, ns*nv)
	acc := func(i, s, v int) VecPhysical { return t.acc(i, s*nv+v) }
	bv := func(s, v int) VecPhysical { return ymm(h*nv*ns + s*nv + v) }
	av := ymm(h*nv*ns + nb)
	t.zero()
	TESTQ(k, k)
	JE(LabelRef("store"))
	Label("loop")
	// One broadcast per row and step; a single row takes B straight from
	// memory, several rows load the step's B vectors once.
	if h > 1 {
		for s := 0; s < ns; s++ {
			for v := 0; v < nv; v++ {
				VMOVUPS(slivers.row(s, 32*v), bv(s, v))
			}
		}
	}
	for i := 0; i < h; i++ {
		VBROADCASTSS(rows.row(i, 0), av)
		for s := 0; s < ns; s++ {
			for v := 0; v < nv; v++ {
				if h == 1 {
					VFMADD231PS(slivers.row(s, 32*v), av, acc(0, s, v))
					continue
				}
				VFMADD231PS(bv(s, v), av, acc(i, s, v))
			}
		}
	}
	rows.step(4)
	slivers.step(32 * nv)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("store")
	c, ldc := loadC()
	t.storeF32(c, ldc, t.bv(0), t.bv(1), 56, store)
}
