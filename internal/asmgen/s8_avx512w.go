package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The exact int16-pair int8 kernels in zmm registers, for CPUs with
// AVX-512F/BW/DQ but without VNNI (Intel Skylake-SP/X): the family of
// s8AVX2 and s8AVX2SegmentedFused — A and B widened to int16 pairs along
// k, VPMADDWD + VPADDD into int32 accumulators, exact and wrapping like
// the reference (VPMADDUBSW would saturate) — 512 bits wide. The packing
// (fmtI16Pair) and the init terms are the AVX2 family's, so only the
// column count of a sliver (nr) differs.
//
// Every tile is 6 rows by 16·nv columns (nv = 4, 2, 1): 6·nv
// accumulators, nv B vectors, the A broadcast and the product; 6 rows
// keep the fused "P" kernels' row pointers in registers. BW instructions
// have no embedded broadcast, so each row's A pair is broadcast once
// per k step into a register, as on AVX2.
//
// On Skylake-SP a zmm VPMADDWD + VPADDD issues on two ports (p0, p5)
// against three for ymm, so these kernels run ~1.3× the AVX2 ones per
// cycle there (more on cores with full-width 512-bit units).

// s8WTile returns the zmm tile of nv vectors per row.
func s8WTile(nv int) tile { return zmmTile(6, nv) }

// s8AVX512W emits the packed-panel kernel: C[i][j] = init[j] + Σ_q
// A[q][i]·B[q][j] over int16 pairs (the signature of s8AVX2).
func s8AVX512W(nv int) { s8I16Packed(s8WTile(nv), "s8AVX512W", "AVX-512BW") }

// s8AVX512WDirect is s8AVX512W reading A unpacked (s8AVX2Direct's
// scheme): row i is 2·k2 signed bytes at a + i·lda; each byte pair is
// broadcast to 16 words and sign-extended to 16 int16 pairs.
func s8AVX512WDirect(nv int) { s8I16Direct(s8WTile(nv), "s8AVX512W", "AVX-512BW") }

// s8AVX512WSegmentedFused is s8AVX2SegmentedFused in zmm registers: the
// same signatures, arguments and k loop (4 pairs a pass), over a 6×16·nv
// tile; the epilogue is the VNNI fused kernels' requantization
// (requantFast, requantFP32) on Requant.wideP, whose slots past the
// first 16 dwords are the fast layout's, with the clamp bounds and zero
// point broadcast from consts8, and stores 16·nv int8 per mapped row.
func s8AVX512WSegmentedFused(nv int, rnd s8AVX2Rounding, clamp, ptr bool) {
	t := s8WTile(nv)
	s8I16SegmentedFused(t, "s8AVX512W", "AVX-512BW", rnd, clamp, ptr, func(clamp bool) {
		s8AVX512WRequantRows(t, rnd, clamp)
	})
}

// s8AVX512WRequantRows is the zmm fused kernels' epilogue: each mapped
// row's accumulators requantized in the arithmetic rnd, optionally
// clamped, stored as 16·nv int8 at c + rows[i]/4.
func s8AVX512WRequantRows(t tile, rnd s8AVX2Rounding, clamp bool) {
	mr, nv := t.mr, t.nv
	av, prod := t.next(0), t.next(1)
	// The broadcast and product registers (and a B register for double
	// rounding's constant) are the temporaries.
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	prm := Load(Param("params"), GP64())
	cst := Load(Param("consts"), GP64())
	odd := GP32()
	MOVL(U32(0xAAAA), odd)
	KMOVW(odd, K5)
	pe, po := prod, av
	var dbl *doubleFix
	if rnd == s8AVX2Double {
		dbl = &doubleFix{c: t.bv(0), kE: K6, kO: K7}
		doubleFixConst(dbl.c)
	}
	off := GP64()
	mappedRows(mr, tab, off, "skip", func(i int) {
		SARQ(U8(2), off)
		for v := 0; v < nv; v++ {
			x := t.acc(i, v)
			if rnd == s8AVX2FP32 {
				// consts8: zp at 0, the float bounds at 96 and 128.
				requantFP32(Mem{Base: prm, Disp: 448*v + 64}, x,
					func() { VMAXPS_BCST(Mem{Base: cst, Disp: 96}, x, x) },
					func() { VMINPS_BCST(Mem{Base: cst, Disp: 128}, x, x) },
					func() { VPADDD_BCST(Mem{Base: cst}, x, x) })
			} else {
				requantFast(prm, 448*v, x, pe, po, K5, dbl)
				if clamp {
					VPMAXSD_BCST(Mem{Base: cst, Disp: 32}, x, x)
					VPMINSD_BCST(Mem{Base: cst, Disp: 64}, x, x)
				}
			}
			VPMOVSDB(x, Mem{Base: c, Index: off, Scale: 1, Disp: 16 * v})
		}
	})
}

// s8AVX512WSegI16 is s8AVX2SegI16All in zmm registers: the segmented
// product over int16 A (nseg segments of kpSeg pairs, adj bytes apart)
// and the int16-pair panel b, plus init, stored as int32 to the
// mr×16·nv tiles at c (row stride ldc elements), one kernel per row
// count mr = 6..1: the products of the exact int8 Winograd convolution
// (gemm.PackedI16.MulSegmented).
func s8AVX512WSegI16(nv int) {
	for mr := 6; mr >= 1; mr-- {
		s8SegI16(zmmTile(mr, nv), "s8AVX512W", "AVX-512BW", maddWD, 1)
	}
}

// s8AVX512WAll emits the zmm int16-pair kernels of the three tiles:
// packed, direct, every fused form and the int32-storing segmented one.
func s8AVX512WAll() {
	for _, nv := range []int{4, 2, 1} {
		s8AVX512W(nv)
		s8AVX512WDirect(nv)
		for _, ptr := range []bool{false, true} {
			for _, rnd := range []s8AVX2Rounding{s8AVX2Single, s8AVX2Double} {
				s8AVX512WSegmentedFused(nv, rnd, false, ptr)
				s8AVX512WSegmentedFused(nv, rnd, true, ptr)
			}
			s8AVX512WSegmentedFused(nv, s8AVX2FP32, false, ptr)
		}
		s8AVX512WSegI16(nv)
	}
}
