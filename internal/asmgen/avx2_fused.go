package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX2+FMA forms of the segmented float kernels, for CPUs without
// AVX-512: an mr×(8·nv) tile in ymm registers (16 of them, so 6x16:
// 12 accumulators, 2 B vectors, 1 A broadcast). Each accumulator sees
// exactly the FMAs of the AVX-512 kernels in the same k order, so the
// results are bit-identical to theirs.

// avx2LaneBits is the name of the lane-bit table (1, 2, 4, … 128) that
// turns a column mask's byte into a ymm lane mask.
const avx2LaneBits = "avx2LaneBits"

// avx2SegmentedAll emits the AVX2 direct, segmented and fused segmented
// kernels for the 6x16 tile, the fused short tiles of 2 and 4 rows, and
// the lane-bit table their masked epilogue reads.
func avx2SegmentedAll() {
	bits := GLOBL(avx2LaneBits, RODATA|NOPTR)
	for i := 0; i < 8; i++ {
		DATA(4*i, U32(1<<i))
	}
	sgemmAVX2Direct(6, 2)
	sgemmAVX2Segmented(6, 2)
	for mr := 2; mr <= 6; mr += 2 {
		sgemmAVX2SegmentedFused(mr, 2, bits)
	}
}

// avx2Tile is the register layout of an AVX2 tile.
type avx2Tile struct{ mr, nv int }

func (t avx2Tile) acc(i, v int) VecPhysical { return ymm(i*t.nv + v) }
func (t avx2Tile) bv(v int) VecPhysical     { return ymm(t.mr*t.nv + v) }
func (t avx2Tile) tmp() VecPhysical         { return ymm(t.mr*t.nv + t.nv) }

func (t avx2Tile) check() {
	if t.mr*t.nv+t.nv+1 > 16 {
		panic("tile too large")
	}
}

func (t avx2Tile) zero() {
	for i := 0; i < t.mr; i++ {
		for v := 0; v < t.nv; v++ {
			VXORPS(t.acc(i, v), t.acc(i, v), t.acc(i, v))
		}
	}
}

// kstep emits one k step: B's nv vectors at b+bOff, each A value (row i
// at disp) broadcast once and multiplied into its row's accumulators.
func (t avx2Tile) kstep(rows *rowAddrs, b Register, disp, bOff int) {
	for v := 0; v < t.nv; v++ {
		VMOVUPS(Mem{Base: b, Disp: bOff + 32*v}, t.bv(v))
	}
	for i := 0; i < t.mr; i++ {
		VBROADCASTSS(rows.row(i, disp), t.tmp())
		for v := 0; v < t.nv; v++ {
			VFMADD231PS(t.tmp(), t.bv(v), t.acc(i, v))
		}
	}
}

// segLoop emits the k loop over nseg segments of kSeg steps (two steps
// per pass, as the AVX-512 kernels: half the pointer bumps), moving the
// row pointers adj bytes after each segment. adjOff is adj's frame
// offset; with adjOff < 0 there is one segment of kParam steps (direct).
func (t avx2Tile) segLoop(rows *rowAddrs, b Register, kParam string, adjOff int) {
	k := GP64()
	Label("segment")
	Load(Param(kParam), k)
	SHRQ(U8(1), k)
	JE(LabelRef("single"))
	Label("loop")
	t.kstep(rows, b, 0, 0)
	t.kstep(rows, b, 4, 32*t.nv)
	rows.step(8)
	ADDQ(U32(64*t.nv), b)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("single")
	Load(Param(kParam), k)
	TESTQ(U32(1), k)
	JE(LabelRef("next"))
	t.kstep(rows, b, 0, 0)
	rows.step(4)
	ADDQ(U32(32*t.nv), b)
	Label("next")
	if adjOff < 0 {
		return
	}
	for _, base := range rows.bases {
		ADDQ(NewParamAddr("adj", adjOff), base)
	}
	DECQ(NewParamAddr("nseg", 0))
	JG(LabelRef("segment"))
}

// addStore emits C += alpha·acc over the tile (row stride ldc elements),
// as sgemmAVX2 does.
func (t avx2Tile) addStore(alphaOff int) {
	c := Load(Param("c"), GP64())
	ldc := Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	alpha, tmp := t.bv(0), t.tmp()
	VBROADCASTSS(NewParamAddr("alpha", alphaOff), alpha)
	for i := 0; i < t.mr; i++ {
		for v := 0; v < t.nv; v++ {
			VMOVUPS(Mem{Base: c, Disp: 32 * v}, tmp)
			VFMADD231PS(alpha, t.acc(i, v), tmp)
			VMOVUPS(tmp, Mem{Base: c, Disp: 32 * v})
		}
		if i+1 < t.mr {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// sgemmAVX2Direct is sgemmAVX512Direct for AVX2: the tile reads A
// unpacked, row i at a + i·lda elements.
func sgemmAVX2Direct(mr, nv int) {
	t := avx2Tile{mr, nv}
	t.check()
	name := fmt.Sprintf("sgemmAVX2Dx%dx%d", mr, 8*nv)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times A (%d rows of k at stride lda) times the packed panel b (k×%d) to the tile at c.", name, mr, 8*nv))
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	SHLQ(U8(2), lda)
	rows := newRowAddrs(mr, a.(GPVirtual), lda.(GPVirtual))
	t.zero()
	t.segLoop(rows, b, "k", -1)
	t.addStore(48)
}

// sgemmAVX2Segmented is sgemmAVX512Segmented for AVX2 (MulSegmented).
func sgemmAVX2Segmented(mr, nv int) {
	t := avx2Tile{mr, nv}
	t.check()
	name := fmt.Sprintf("sgemmAVX2Sx%dx%d", mr, 8*nv)
	TEXT(name, NOSPLIT, "func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times segmented A (%d rows at stride lda, nseg segments of kSeg floats, adj bytes apart) times the packed panel b to the tile at c.", name, mr))
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	SHLQ(U8(2), lda)
	rows := newRowAddrs(mr, a.(GPVirtual), lda.(GPVirtual))
	t.zero()
	t.segLoop(rows, b, "kSeg", 32)
	t.addStore(64)
}

// sgemmAVX2SegmentedFused is sgemmAVX512SegmentedFused for AVX2: the
// whole conv tile in one pass (accumulate from zero, + bias, clamp to
// [lo, hi], row i stored at c + rows[i] bytes unless negative), the
// columns mask has a bit for (bit 8·v+j for vector v, lane j); bits is
// the lane-bit table.
func sgemmAVX2SegmentedFused(mr, nv int, bits Mem) {
	t := avx2Tile{mr, nv}
	t.check()
	if t.mr*t.nv+t.nv+2 > 16 {
		panic("no room for lo and hi")
	}
	name := fmt.Sprintf("sgemmAVX2SFx%dx%d", mr, 8*nv)
	TEXT(name, NOSPLIT, "func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, rows *int, bias *float32, lo, hi float32, mask uint64)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores clamp(segmented A (%d rows at stride lda, nseg segments of kSeg floats, adj bytes apart) times the packed panel b plus bias, lo, hi) row i at c+rows[i] bytes (skipped when negative), columns as mask says.", name, mr))
	// The masked epilogue keeps its lane masks here: with 16 ymm
	// registers there is no room for them beside bias, lo and hi.
	masks := AllocLocal(32 * nv)
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	SHLQ(U8(2), lda)
	rows := newRowAddrs(mr, a.(GPVirtual), lda.(GPVirtual))
	t.zero()
	t.segLoop(rows, b, "kSeg", 32)
	avx2FusedEpilogue(t, masks, bits, 72)
}

// avx2FusedEpilogue adds bias to the tile's accumulators, clamps them
// to [lo, hi] (lo at frame offset loOff, hi after it) and stores row i at
// c + rows[i] bytes, skipping negative rows. The operations and operand
// order are biasClampAVX512's, so NaN and signed zeros come out as on
// AVX-512. A tile with all its columns stored (every sliver but a
// partial last one) takes plain stores with bias, lo and hi in
// registers; otherwise bias is loaded and rows stored through lane
// masks, which live on the stack, lo and hi being broadcast per use.
func avx2FusedEpilogue(t avx2Tile, masks, bits Mem, loOff int) {
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	bias := Load(Param("bias"), GP64())
	mask := GP64()
	Load(Param("mask"), mask)
	lo, hi := t.tmp(), ymm(t.mr*t.nv+t.nv+1)
	full := GP64()
	MOVQ(mask, full)
	NOTQ(full)
	TESTQ(U32(1<<(8*t.nv)-1), full)
	JNE(LabelRef("partial"))
	for v := 0; v < t.nv; v++ {
		VMOVUPS(Mem{Base: bias, Disp: 32 * v}, t.bv(v))
	}
	VBROADCASTSS(NewParamAddr("lo", loOff), lo)
	VBROADCASTSS(NewParamAddr("hi", loOff+4), hi)
	off := GP64()
	for i := 0; i < t.mr; i++ {
		skip := fmt.Sprintf("skip%d", i)
		MOVQ(Mem{Base: tab, Disp: 8 * i}, off)
		TESTQ(off, off)
		JS(LabelRef(skip))
		for v := 0; v < t.nv; v++ {
			VADDPS(t.bv(v), t.acc(i, v), t.acc(i, v))
			VMAXPS(t.acc(i, v), lo, t.acc(i, v))
			VMINPS(t.acc(i, v), hi, t.acc(i, v))
			VMOVUPS(t.acc(i, v), Mem{Base: c, Index: off, Scale: 1, Disp: 32 * v})
		}
		Label(skip)
	}
	VZEROUPPER()
	RET()

	Label("partial")
	// Lane j of vector v is on when bit 8·v+j of mask is.
	m := t.tmp()
	for v := 0; v < t.nv; v++ {
		if v > 0 {
			SHRQ(U8(8), mask)
		}
		VMOVQ(mask, m.AsX())
		VPBROADCASTD(m.AsX(), m)
		VPAND(bits, m, m)
		VPCMPEQD(bits, m, m)
		VMOVDQU(m, masks.Offset(32*v))
		VMASKMOVPS(Mem{Base: bias, Disp: 32 * v}, m, t.bv(v))
	}
	for i := 0; i < t.mr; i++ {
		skip := fmt.Sprintf("pskip%d", i)
		MOVQ(Mem{Base: tab, Disp: 8 * i}, off)
		TESTQ(off, off)
		JS(LabelRef(skip))
		for v := 0; v < t.nv; v++ {
			VADDPS(t.bv(v), t.acc(i, v), t.acc(i, v))
			VBROADCASTSS(NewParamAddr("lo", loOff), m)
			VMAXPS(t.acc(i, v), m, t.acc(i, v))
			VBROADCASTSS(NewParamAddr("hi", loOff+4), m)
			VMINPS(t.acc(i, v), m, t.acc(i, v))
			VMOVDQU(masks.Offset(32*v), m)
			VMASKMOVPS(t.acc(i, v), m, Mem{Base: c, Index: off, Scale: 1, Disp: 32 * v})
		}
		Label(skip)
	}
	VZEROUPPER()
	RET()
}
