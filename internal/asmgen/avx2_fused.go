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

// avx2SegLoop emits the k loop of an AVX2 tile over nseg segments of
// kSeg steps (kLoop2, as the AVX-512 kernels), moving the row pointers
// adj bytes after each segment. adjOff is adj's frame offset; with
// adjOff < 0 there is one segment of kParam steps (direct).
func avx2SegLoop(t tile, rows *rowAddrs, b Register, kParam string, adjOff int) {
	kLoop2(kParam, b, 32*t.nv, func(disp, bOff int) {
		t.kstep(rows.row, b, t.next(0), disp, bOff)
	}, rows.step)
	if adjOff >= 0 {
		rows.nextSegment(adjOff)
	}
}

// avx2AddStore emits C += alpha·acc over the tile (row stride ldc
// elements), as sgemmAVX2 does.
func avx2AddStore(t tile, alphaOff int) {
	c, ldc := loadC()
	t.storeF32(c, ldc, t.bv(0), t.next(0), alphaOff, false)
}

// sgemmAVX2Direct is sgemmAVX512Direct for AVX2: the tile reads A
// unpacked, row i at a + i·lda elements.
func sgemmAVX2Direct(mr, nv int) {
	t := ymmTile(mr, nv)
	t.check(1)
	name := fmt.Sprintf("sgemmAVX2Dx%dx%d", mr, 8*nv)
	TEXT(name, NOSPLIT, "func(k int, a *float32, lda int, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times A (%d rows of k at stride lda) times the packed panel b (k×%d) to the tile at c.", name, mr, 8*nv))
	rows, b := loadARows(mr, true)
	t.zero()
	avx2SegLoop(t, rows, b, "k", -1)
	avx2AddStore(t, 48)
}

// sgemmAVX2Segmented is sgemmAVX512Segmented for AVX2 (MulSegmented).
func sgemmAVX2Segmented(mr, nv int) {
	t := ymmTile(mr, nv)
	t.check(1)
	name := fmt.Sprintf("sgemmAVX2Sx%dx%d", mr, 8*nv)
	TEXT(name, NOSPLIT, "func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, ldc int, alpha float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s adds alpha times segmented A (%d rows at stride lda, nseg segments of kSeg floats, adj bytes apart) times the packed panel b to the tile at c.", name, mr))
	rows, b := loadARows(mr, true)
	t.zero()
	avx2SegLoop(t, rows, b, "kSeg", 32)
	avx2AddStore(t, 64)
}

// sgemmAVX2SegmentedFused is sgemmAVX512SegmentedFused for AVX2: the
// whole conv tile in one pass (accumulate from zero, + bias, clamp to
// [lo, hi], row i stored at c + rows[i] bytes unless negative), the
// columns mask has a bit for (bit 8·v+j for vector v, lane j); bits is
// the lane-bit table.
func sgemmAVX2SegmentedFused(mr, nv int, bits Mem) {
	t := ymmTile(mr, nv)
	t.check(2) // lo and hi
	name := fmt.Sprintf("sgemmAVX2SFx%dx%d", mr, 8*nv)
	TEXT(name, NOSPLIT, "func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, rows *int, bias *float32, lo, hi float32, mask uint64)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores clamp(segmented A (%d rows at stride lda, nseg segments of kSeg floats, adj bytes apart) times the packed panel b plus bias, lo, hi) row i at c+rows[i] bytes (skipped when negative), columns as mask says.", name, mr))
	// The masked epilogue keeps its lane masks here: with 16 ymm
	// registers there is no room for them beside bias, lo and hi.
	masks := AllocLocal(32 * nv)
	rows, b := loadARows(mr, true)
	t.zero()
	avx2SegLoop(t, rows, b, "kSeg", 32)
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
func avx2FusedEpilogue(t tile, masks, bits Mem, loOff int) {
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	bias := Load(Param("bias"), GP64())
	mask := GP64()
	Load(Param("mask"), mask)
	lo, hi := t.next(0), t.next(1)
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
	mappedRows(t.mr, tab, off, "skip", func(i int) {
		for v := 0; v < t.nv; v++ {
			VADDPS(t.bv(v), t.acc(i, v), t.acc(i, v))
			VMAXPS(t.acc(i, v), lo, t.acc(i, v))
			VMINPS(t.acc(i, v), hi, t.acc(i, v))
			VMOVUPS(t.acc(i, v), Mem{Base: c, Index: off, Scale: 1, Disp: 32 * v})
		}
	})
	VZEROUPPER()
	RET()

	Label("partial")
	// Lane j of vector v is on when bit 8·v+j of mask is.
	m := t.next(0)
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
	mappedRows(t.mr, tab, off, "pskip", func(i int) {
		for v := 0; v < t.nv; v++ {
			VADDPS(t.bv(v), t.acc(i, v), t.acc(i, v))
			VBROADCASTSS(NewParamAddr("lo", loOff), m)
			VMAXPS(t.acc(i, v), m, t.acc(i, v))
			VBROADCASTSS(NewParamAddr("hi", loOff+4), m)
			VMINPS(t.acc(i, v), m, t.acc(i, v))
			VMOVDQU(masks.Offset(32*v), m)
			VMASKMOVPS(t.acc(i, v), m, Mem{Base: c, Index: off, Scale: 1, Disp: 32 * v})
		}
	})
	VZEROUPPER()
	RET()
}
