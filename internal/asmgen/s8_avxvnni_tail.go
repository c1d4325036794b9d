package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The AVX-VNNI fused segmented kernels with a tail quad, for few-channel
// convs whose window rows are not whole k quads. A 3×3 RGB layer reads 9
// bytes per window row; the plain segmented kernels (s8AVXVNNISF*) pad
// each to 3 quads, 36 byte products per output for 27 useful. Here each
// segment runs only its whole quads (2) in place, and the bytes left over
// (one per window row) are gathered, for the tile's 6 rows at once, into
// one more quad per row: 7 quads, 84 VPDPBUSD per 6×16 tile against 108.
// The gather is per row tile: per segment one 16-byte broadcast load of
// the span holding the 6 rows' leftover bytes and one VPSHUFB with a
// pattern from the Go side (segTailPack.pat) that puts row i's bytes in
// dword i (lane i/4), ORed together and kept on the stack, from where the
// tail step broadcasts each row's dword as the segments' steps do.
//
// The shape (segments, whole quads per segment) is fixed when generated,
// so the k steps are unrolled with one base register per segment and
// three rows (no pointer bumps, no loop): on this tile every instruction
// counts (the kernel issues ~4 per cycle with the VPDPBUSDs at about 2).
// For the same reason the epilogue stores every row without a test: the
// row table holds element offsets and maps every row (the Go side sends
// partial tiles and maps with dropped rows through a scratch tile), and
// in the fp32 arithmetic without float clamps the output zero point is
// added to the packed words (VPADDSW, 6 instead of 12 adds; the sum
// saturates only where the int8 pack would anyway).

// s8AVXVNNISegTailFused emits s8AVXVNNIST<nseg><kq>*x6x16: the product
// of u8-offset A rows of nseg segments of kq whole quads (row i of the
// tile at a + i·lda, segment s segStride bytes on) and a tail quad per
// row (segment s's bytes from a + 4·kq + s·segStride on, gathered by the
// 32-byte VPSHUFB pattern s at pat) with nsl 16-column slivers of the
// panel b (per sliver nseg·kq quads, then the tail quad), accumulators
// starting at init, requantized as avxvnniRequantPairs does and stored at
// c + rows[i] (elements, every row) + 16 per sliver, over tiles row tiles
// (tiles ≥ 1).
func s8AVXVNNISegTailFused(nseg, kq int, rnd s8AVX2Rounding, clamp, exact bool) {
	t := avxvnniTile()
	kind := []string{"", "D", "F"}[rnd]
	switch {
	case exact:
		kind = "X" // fp32 without the float clamps, see avxvnniRequantPairs
	case rnd == s8AVX2FP32:
		clamp = false // its float clamp is always there
	}
	if clamp {
		kind += "C"
	}
	name := fmt.Sprintf("s8AVXVNNIST%d%d%sx%dx%d", nseg, kq, kind, t.mr, 8*t.nv)
	TEXT(name, NOSPLIT, "func(a *int8, lda, segStride int, pat *int8, b *int8, c *int8, rows *int, init *int32, params *int32, consts *int32, nsl, tiles int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores the requantized int8 product of u8-offset A (tiles row tiles of %d rows at stride lda, %d segments of %d whole quads segStride bytes apart, and a tail quad per row gathered from each segment's next bytes by the VPSHUFB patterns at pat) and nsl slivers of the packed panel b, accumulators starting at init, 16 columns a sliver, row i at c+rows[i] (AVX-VNNI).", name, t.mr, nseg, kq))
	tq := AllocLocal(32)
	// Slivers outside, row tiles inside: per tile only A and the row
	// table move (a, rows and tiles restart per sliver from these).
	a0, rows0, tiles0, step := AllocLocal(8), AllocLocal(8), AllocLocal(8), AllocLocal(8)
	{
		r := GP64()
		Load(Param("a"), r)
		MOVQ(r, a0)
		Load(Param("rows"), r)
		MOVQ(r, rows0)
		Load(Param("tiles"), r)
		MOVQ(r, tiles0)
		Load(Param("lda"), r)
		IMUL3Q(U8(t.mr), r, r)
		MOVQ(r, step)
	}
	Label("tile")
	{
		// Segment s's rows 0–2 at bs[2s] (+ lda, + 2·lda by the SIB
		// scale), rows 3–5 at bs[2s+1].
		a, lda, ss := GP64(), GP64(), GP64()
		Load(Param("a"), a)
		Load(Param("lda"), lda)
		Load(Param("segStride"), ss)
		bs := []GPVirtual{a}
		for s := 0; s < nseg; s++ {
			if s > 0 {
				r := GP64()
				LEAQ(Mem{Base: bs[2*s-2], Index: ss, Scale: 1}, r)
				bs = append(bs, r)
			}
			r := GP64()
			LEAQ(Mem{Base: bs[2*s], Index: lda, Scale: 2}, r)
			ADDQ(lda, r)
			bs = append(bs, r)
		}
		rowAt := func(s, i, disp int) Mem {
			m := Mem{Base: bs[2*s+i/3], Disp: disp}
			if i%3 > 0 {
				m.Index, m.Scale = lda, uint8(i%3)
			}
			return m
		}
		// The tail quads of the tile's 6 rows (the vector registers are
		// free until the k steps).
		pat := Load(Param("pat"), GP64())
		acc, x := t.next(0), t.next(1)
		for s := 0; s < nseg; s++ {
			dst := x
			if s == 0 {
				dst = acc
			}
			VBROADCASTI128(Mem{Base: bs[2*s], Disp: 4 * kq}, dst)
			VPSHUFB(Mem{Base: pat, Disp: 32 * s}, dst, dst)
			if s > 0 {
				VPOR(x, acc, acc)
			}
		}
		VMOVDQU(acc, tq)
		b := Load(Param("b"), GP64())
		ini := Load(Param("init"), GP64())
		t.check(1)
		ua := t.next(0)
		t.initS32(ini)
		madd := func(b, a, acc, _ VecPhysical) { vpdpbusdVEX(b, a, acc) }
		q := 0
		for s := 0; s < nseg; s++ {
			for u := 0; u < kq; u++ {
				t.dotKStep(func(i, disp int) Mem { return rowAt(s, i, disp-4*s*kq) }, b, ua, nil, madd)(q)
				q++
			}
		}
		t.dotKStep(func(i, disp int) Mem { return tq.Offset(4*i + disp - 4*q) }, b, ua, nil, madd)(q)
		tailRequantPairs(t, rnd, clamp, exact, ua)
	}
	{
		r := GP64()
		MOVQ(step, r)
		ADDQ(r, NewParamAddr("a", 0))
	}
	ADDQ(U8(8*t.mr), NewParamAddr("rows", 48))
	DECQ(NewParamAddr("tiles", 88))
	JNE(LabelRef("tile"))
	// The next sliver: the panel, outputs, init and parameters move on
	// one group, the row tiles start over.
	DECQ(NewParamAddr("nsl", 80))
	JLE(LabelRef("end"))
	{
		r := GP64()
		for _, sv := range []struct {
			name string
			mem  Mem
		}{{"a", a0}, {"rows", rows0}, {"tiles", tiles0}} {
			MOVQ(sv.mem, r)
			Store(r, Param(sv.name))
		}
	}
	ADDQ(U32(32*t.nv*(nseg*kq+1)), NewParamAddr("b", 32))
	ADDQ(U8(16), NewParamAddr("c", 40))
	ADDQ(U8(64), NewParamAddr("init", 56))
	ADDQ(U32(448), NewParamAddr("params", 64))
	JMP(LabelRef("tile"))
	Label("end")
	VZEROUPPER()
	RET()
}

// tailRequantPairs is avxvnniRequantPairs storing every row at c +
// rows[i] (element offsets, no test), and in the exact fp32 arithmetic
// adding the zero point to the packed words with saturation: with r the
// rounded scaled accumulator, sat16(r) + zp saturated to int16 then
// packed to int8 equals sat8(r + zp) (|zp| ≤ 128, so a sum that
// saturates in int16 is far outside int8 either way).
func tailRequantPairs(t tile, rnd s8AVX2Rounding, clamp, exact bool, tmp VecPhysical) {
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	prm := Load(Param("params"), GP64())
	cst := Load(Param("consts"), GP64())
	pe, po := t.bv(0), t.bv(1)
	loB, hiB := t.bv(0), t.bv(1)
	zpW := tmp
	if exact {
		if clamp {
			VPBROADCASTB(Mem{Base: cst, Disp: 32}, loB)
			VPBROADCASTB(Mem{Base: cst, Disp: 64}, hiB)
		}
		VPBROADCASTW(Mem{Base: cst}, zpW)
	}
	off := GP64()
	for i := 0; i < t.mr; i += 2 {
		for r := i; r < i+2; r++ {
			for v := 0; v < t.nv; v++ {
				x := t.acc(r, v)
				if exact {
					VCVTDQ2PS(x, x)
					VMULPS(Mem{Base: prm, Disp: 64 + 32*v}, x, x)
					VCVTPS2DQ(x, x)
					continue
				}
				s8AVX2RequantVec(x, 32*v, rnd, clamp, prm, cst, pe, po, tmp)
			}
		}
		// As in avxvnniRequantPairs: row i in the low half, row i+1 in
		// the high half, channels in order.
		x, y := t.acc(i, 0), t.acc(i+1, 0)
		VPACKSSDW(t.acc(i, 1), x, x)
		VPACKSSDW(t.acc(i+1, 1), y, y)
		if exact {
			VPADDSW(zpW, x, x)
			VPADDSW(zpW, y, y)
		}
		VPACKSSWB(y, x, x)
		VPERMQ(U8(0xD8), x, x)
		VPSHUFD(U8(0xD8), x, x)
		if exact && clamp {
			VPMAXSB(loB, x, x)
			VPMINSB(hiB, x, x)
		}
		MOVQ(Mem{Base: tab, Disp: 8 * i}, off)
		VMOVDQU(x.AsX(), Mem{Base: c, Index: off, Scale: 1})
		MOVQ(Mem{Base: tab, Disp: 8 * (i + 1)}, off)
		VEXTRACTI128(U8(1), x, Mem{Base: c, Index: off, Scale: 1})
	}
}

// s8AVXVNNISegTailAll emits the tail-quad kernels of 3 segments of 2
// whole quads (3×3 windows over 3 channels: 9-byte window rows) in every
// arithmetic of s8AVXVNNIAll's fused ones.
func s8AVXVNNISegTailAll() {
	const nseg, kq = 3, 2
	for _, rnd := range []s8AVX2Rounding{s8AVX2Single, s8AVX2Double} {
		s8AVXVNNISegTailFused(nseg, kq, rnd, false, false)
		s8AVXVNNISegTailFused(nseg, kq, rnd, true, false)
	}
	s8AVXVNNISegTailFused(nseg, kq, s8AVX2FP32, false, false)
	s8AVXVNNISegTailFused(nseg, kq, s8AVX2FP32, false, true)
	s8AVXVNNISegTailFused(nseg, kq, s8AVX2FP32, true, true)
}
