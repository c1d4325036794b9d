package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX2 form of the fused int8 segmented conv kernels
// (s8VNNISegmentedFused), for CPUs without AVX-512. AVX2 has no exact
// 4-byte dot product (VPMADDUBSW saturates its int16 pair sums), so the
// k steps are int16 pairs and VPMADDWD + VPADDD:
//
//   - A is the conv's padded image widened to int16 once per image
//     (PackedS8.MulRequantSegmentedRowsWide), so a k step is one
//     VPBROADCASTD load per row (a plain load, no shuffle µop) where the
//     direct kernel s8AVX2Dx6x16 sign-extends each byte pair per use;
//   - B is the int16-pair panel of s8AVX2x6x16 with each segment padded
//     to kpSeg pairs (the pair past an odd segment meets a zero weight);
//   - the accumulators start at init (zero-point and bias terms) and the
//     epilogue requantizes in registers, in the fast parameter layout
//     (Requant.fastParams: single or double rounding) or
//     NewRequantFP32's, and stores 16 int8 per row at c + rows[i]/4.
//
// The requantization is requantFast's with AVX2 instructions. AVX2 has
// no 64-bit arithmetic shift, but t ≥ 32 and nested floors merge, so
// ⌊v/2^t⌋ is the high dword of v shifted arithmetically by t − 32
// (VPSRAVD, per dword): the even products' high dwords move down, one
// blend joins the odd ones', and the per-channel counts t − 32 sit where
// the fast layout keeps the bias, which the fused kernels take from init
// (Requant.wideP). Double rounding's correction (2^31 off where the
// product is negative, see s8_double.go) takes the sign bit with shifts
// instead of VPMOVQ2M. The saturating packs (VPACKSSDW, VPACKSSWB) clamp
// to int8 exactly as VPMOVSDB does.
//
// consts points at 8-lane vectors the Go side builds once per Requant
// (Requant.avx2Consts): the zero point, lo and hi (int32), and the
// float32 bounds lo − zp and hi − zp; AVX2 has no broadcast operands.

// s8AVX2Rounding selects a fused AVX2 kernel's requantization.
type s8AVX2Rounding int

const (
	s8AVX2Single s8AVX2Rounding = iota
	s8AVX2Double
	s8AVX2FP32
)

// s8AVX2SegmentedFused emits the fused kernel of an mr×16 tile. With
// ptr, row i of A starts at a + arows[i] bytes instead of a + i·lda
// (the "P" kernels): a strided conv's tiles then run on from one output
// row into the next, and no tile computes pixels it drops. Each row
// keeps its own base register and one index register walks k and the
// segments for all of them.
func s8AVX2SegmentedFused(mr int, rnd s8AVX2Rounding, clamp, ptr bool) {
	t := ymmTile(mr, 2)
	s8I16SegmentedFused(t, "s8AVX2", "", rnd, clamp, ptr, func(clamp bool) {
		// The B, broadcast and product registers are the temporaries.
		s8AVX2RequantRows(t, rnd, clamp, t.next(0))
	})
}

// s8AVX2SegmentedFusedAll emits the fused AVX2 int8 kernels of the 6x16
// tile in every arithmetic, with and without the activation clamp.
func s8AVX2SegmentedFusedAll() {
	for _, ptr := range []bool{false, true} {
		for _, rnd := range []s8AVX2Rounding{s8AVX2Single, s8AVX2Double} {
			s8AVX2SegmentedFused(6, rnd, false, ptr)
			s8AVX2SegmentedFused(6, rnd, true, ptr)
		}
		s8AVX2SegmentedFused(6, s8AVX2FP32, false, ptr)
	}
	s8AVX2SegmentedFusedExact(false)
	s8AVX2SegmentedFusedExact(true)
	widenS8AVX2()
}

// s8AVX2SegmentedFusedExact emits the "P" kernel s8AVX2SFPX(C)x6x16: the
// fp32 arithmetic without its float clamps, for products whose
// accumulators provably stay small (PackedS8.fp32Exact), with the
// AVX-VNNI fused kernels' epilogue (avxvnniRequantPairs, exact): two
// rows a pack, the clamp a byte max and min per row pair when narrower
// than int8. XNNPACK's float clamp costs two of the six operations a
// vector of the fp32 epilogue, which is a fifth of a tile's vector work
// at K = 27 (seed-cnn's first conv).
func s8AVX2SegmentedFusedExact(clamp bool) {
	t := ymmTile(6, 2)
	kind := "SFPX"
	if clamp {
		kind += "C"
	}
	name := fmt.Sprintf("s8AVX2%sx%dx%d", kind, t.mr, t.cols())
	doc := fmt.Sprintf("%s is s8AVX2SFPFx%dx%d without the float clamps (exact when |acc·scale| < 2^30)", name, t.mr, t.cols())
	if clamp {
		doc += ", clamped to [lo, hi] as bytes"
	}
	s8I16SegmentedFusedTiles(t, name, doc+".", clamp, func(clamp bool) {
		avxvnniRequantPairs(t, s8AVX2FP32, clamp, true, t.next(0))
	})
}

// widenS8AVX2 emits the loop that sign-extends int8 to int16, 32 values
// a pass (VPMOVSXBW): the wide fused convs widen each image once, and a
// scalar loop cost as much as a small layer's products.
func widenS8AVX2() {
	TEXT("widenS8AVX2", NOSPLIT, "func(n int, dst *int16, src *int8)")
	Pragma("noescape")
	Doc("widenS8AVX2 stores the n int8 at src (n a positive multiple of 32) sign-extended into the n int16 at dst.")
	n := Load(Param("n"), GP64())
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	SHRQ(U8(5), n)
	Label("loop")
	VPMOVSXBW(Mem{Base: src}, Y0)
	VPMOVSXBW(Mem{Base: src, Disp: 16}, Y1)
	VMOVDQU(Y0, Mem{Base: dst})
	VMOVDQU(Y1, Mem{Base: dst, Disp: 32})
	ADDQ(U8(32), src)
	ADDQ(U8(64), dst)
	DECQ(n)
	JNE(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// s8AVX2RequantRows is the epilogue of the fused AVX2-register int8
// kernels (this file's and s8_avxvnni.go's): each of the tile's rows,
// two ymm accumulators of 8 int32, requantized in the arithmetic rnd
// (parameters at the params argument in Requant.wideP's layout, vector
// constants at consts), optionally clamped, saturated to 16 int8 and
// stored at c + rows[i]/4, or nowhere when rows[i] < 0. The B registers
// and tmp are the temporaries.
func s8AVX2RequantRows(t tile, rnd s8AVX2Rounding, clamp bool, tmp VecPhysical) {
	const nv = 2
	mr := t.mr
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	prm := Load(Param("params"), GP64())
	cst := Load(Param("consts"), GP64())
	pe, po := t.bv(0), t.bv(1)
	off := GP64()
	mappedRows(mr, tab, off, "skip", func(i int) {
		SARQ(U8(2), off)
		for v := 0; v < nv; v++ {
			s8AVX2RequantVec(t.acc(i, v), 32*v, rnd, clamp, prm, cst, pe, po, tmp)
		}
		// Channels 0-3, 8-11 | 4-7, 12-15 as int16, then bytes in the
		// order 0-3, 8-11, 4-7, 12-15, which one dword shuffle puts right.
		x0, x1 := t.acc(i, 0), t.acc(i, 1)
		VPACKSSDW(x1, x0, x0)
		VEXTRACTI128(U8(1), x0, tmp.AsX())
		VPACKSSWB(tmp.AsX(), x0.AsX(), x0.AsX())
		VPSHUFD(U8(0xD8), x0.AsX(), x0.AsX())
		VMOVDQU(x0.AsX(), Mem{Base: c, Index: off, Scale: 1})
	})
}

// s8AVX2RequantVec requantizes the 8 int32 accumulators x of channel
// group offset g bytes (0 or 32) in the arithmetic rnd, in place:
// parameters at prm (Requant.wideP's layout), vector constants at cst
// (consts8), pe, po and tmp as temporaries; clamp applies [lo, hi]
// (fixed point; the fp32 clamp is always there).
func s8AVX2RequantVec(x VecPhysical, g int, rnd s8AVX2Rounding, clamp bool, prm, cst Register, pe, po, tmp VecPhysical) {
	if rnd == s8AVX2FP32 {
		VCVTDQ2PS(x, x)
		VMULPS(Mem{Base: prm, Disp: 64 + g}, x, x)
		VMAXPS(Mem{Base: cst, Disp: 96}, x, x)
		VMINPS(Mem{Base: cst, Disp: 128}, x, x)
		VCVTPS2DQ(x, x)
		VPADDD(Mem{Base: cst}, x, x)
		return
	}
	VPMULDQ(Mem{Base: prm, Disp: 64 + g}, x, pe)
	VPSRLQ(U8(32), x, po)
	VPMULDQ(Mem{Base: prm, Disp: 128 + g}, po, po)
	if rnd == s8AVX2Double {
		for _, p := range []VecPhysical{pe, po} {
			VPSRLQ(U8(63), p, tmp)
			VPSLLQ(U8(31), tmp, tmp)
			VPSUBQ(tmp, p, p)
		}
	}
	VPADDQ(Mem{Base: prm, Disp: 192 + g}, pe, pe)
	VPADDQ(Mem{Base: prm, Disp: 256 + g}, po, po)
	// ⌊v/2^t⌋ = ⌊⌊v/2^32⌋/2^(t−32)⌋: each product's high dword,
	// shifted arithmetically by t − 32 per dword.
	VPSRLQ(U8(32), pe, pe)
	VPBLENDD(U8(0xAA), po, pe, x)
	VPSRAVD(Mem{Base: prm, Disp: g}, x, x)
	if clamp {
		VPMAXSD(Mem{Base: cst, Disp: 32}, x, x)
		VPMINSD(Mem{Base: cst, Disp: 64}, x, x)
	}
}

// segRowsPrologue declares a segmented fused kernel's frame (A rows at
// stride lda) with doc, and returns how to address row i's A at disp
// bytes on (rowAt), move every row on by bytes (step), end a segment and
// loop (nextSegment), and the panel pointer b. The AVX2 and AVX-512BW
// int16-pair families share it.
func segRowsPrologue(name, doc string, mr int) (rowAt func(i, disp int) Mem, step func(bytes int), nextSegment func(), b Register) {
	TEXT(name, NOSPLIT, "func(nseg, kpSeg int, a *int16, lda, adj int, b *int16, c *int8, rows *int, init *int32, params *int32, consts *int32)")
	Pragma("noescape")
	Doc(doc)
	var rows *rowAddrs
	rows, b = loadARows(mr, false)
	return rows.row, rows.step, func() { rows.nextSegment(32) }, b
}

// tableRows loads the a, arows and b arguments of a "P" kernel and
// returns segRowsPrologue's row addressing for row i of A at a +
// arows[i] bytes: each row keeps its own base register and one index
// register walks k and the segments for all of them.
func tableRows(mr int) (rowAt func(i, disp int) Mem, step func(bytes int), nextSegment func(), b Register) {
	a := Load(Param("a"), GP64())
	tab := Load(Param("arows"), GP64())
	bases := make([]Register, mr)
	for i := range bases {
		bases[i] = GP64()
		MOVQ(Mem{Base: tab, Disp: 8 * i}, bases[i])
		ADDQ(a, bases[i])
	}
	koff := GP64()
	XORQ(koff, koff)
	b = Load(Param("b"), GP64())
	rowAt = func(i, disp int) Mem { return Mem{Base: bases[i], Index: koff, Scale: 1, Disp: disp} }
	step = func(bytes int) { ADDQ(U32(bytes), koff) }
	nextSegment = func() {
		ADDQ(mustParam("adj"), koff)
		DECQ(mustParam("nseg"))
		JG(LabelRef("segment"))
	}
	return rowAt, step, nextSegment, b
}
