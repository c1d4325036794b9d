package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
	"github.com/qbench/qbench/internal/asmgen/vex"
)

// The AVX-VNNI int8 kernels: the u8-quad family of the AVX-512 VNNI
// kernels (s8VNNI and friends) in ymm registers, for CPUs with AVX-VNNI
// but without AVX-512 (Intel client cores since Alder Lake, E-core Xeons
// such as Sierra Forest). The packing is the same (A as bytes XOR
// 0x80, read as u8; B as s8 quads), and so are the zero-point and
// −128·ΣB corrections in init; only the tile is 256 bits wide: 6 rows
// by 16 columns, 12 accumulators, 2 B vectors and the A broadcast (the
// direct and segmented kernels also hold the 0x80 flip constant: all 16
// ymm registers). 16 columns is the requantization's parameter group, so
// the fused kernels read Requant.wideP per sliver as the AVX2 ones do. A
// one-row tile (s8AVXVNNIRow) serves dense layers at batch 1.
//
// Go's assembler knows only the EVEX (AVX512_VNNI + AVX512VL) encoding
// of VPDPBUSD, which faults on a CPU without AVX-512; vpdpbusdVEX emits
// the VEX form as raw bytes (package vex).

// vpdpbusdVEX is vex.DPBUSD: acc += u8's unsigned byte quads · s8's
// signed ones, per dword, wrapping.
func vpdpbusdVEX(s8, u8, acc VecPhysical) { vex.DPBUSD(s8, u8, acc) }

// avxvnniTile is the 6×16 tile: 6 rows of two ymm accumulators.
func avxvnniTile() tile { return ymmTile(6, 2) }

// s8AVXVNNI is s8VNNI in ymm registers: C[i][j] = init[j] + Σ_q Σ_{t<4}
// A[q][i][t]·B[q][j][t] for packed panels of u8 A and s8 B quads.
func s8AVXVNNI() { s8QuadPacked(avxvnniTile(), "s8AVXVNNI", "AVX-VNNI") }

// s8AVXVNNIDirect is s8VNNIDirect in ymm registers: A unpacked as
// signed bytes, row i at a + i·lda, each quad flipped to u8 in a
// register.
func s8AVXVNNIDirect() { s8QuadDirect(avxvnniTile(), "s8AVXVNNI", "AVX-VNNI") }

// s8AVXVNNISegmented is s8VNNISegmented in ymm registers: s8AVXVNNIDirect
// over nseg segments of kqSeg quads, row pointers moving adj bytes
// between segments.
func s8AVXVNNISegmented() { s8QuadSegmented(avxvnniTile(), "s8AVXVNNI", "AVX-VNNI") }

// s8AVXVNNISegmentedFused is s8VNNISegmentedFused in ymm registers: A
// already offset to u8, the accumulators starting at init, three k steps
// per pass, and avxvnniRequantPairs: requantization in registers in the
// arithmetic rnd with Requant.wideP's parameters and Requant.consts8's
// vectors, 16 int8 stored per mapped row. The last argument (the s8SegFusedFn signature's
// mask) is nsl, the number of 16-column slivers to run over the same A
// rows: after each, b has reached the next sliver's panel, and init, c
// and params move on by one group (16 int32, 16 bytes, 112 int32), so a
// row tile costs one call rather than one per sliver.
func s8AVXVNNISegmentedFused(rnd s8AVX2Rounding, clamp, exact bool) {
	t := avxvnniTile()
	kind := []string{"SF", "SFD", "SFF"}[rnd]
	switch {
	case exact:
		kind = "SFX" // fp32 without the float clamps, see avxvnniRequantPairs
	case rnd == s8AVX2FP32:
		clamp = false // its float clamp is always there
	}
	if clamp {
		kind += "C"
	}
	name := fmt.Sprintf("s8AVXVNNI%sx%dx%d", kind, t.mr, 8*t.nv)
	TEXT(name, NOSPLIT, "func(nseg, kqSeg int, a *int8, lda, adj int, b *int8, c *int8, rows *int, init *int32, params *int32, consts *int32, nsl, tiles int)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores the requantized int8 product of u8-offset segmented A (tiles row tiles of %d rows at stride lda, nseg segments of 4·kqSeg bytes, adj bytes apart) and nsl slivers of the packed panel b, accumulators starting at init, 16 columns a sliver, row i at c+rows[i]/4 (skipped when negative) (AVX-VNNI).", name, t.mr))
	// kqSeg = 3·q + r as in s8VNNISegmentedFused: q back to kqSeg's
	// slot, r to a local (lda's slot is read again per sliver); the
	// arguments that move per sliver or tile (nseg counts down) are
	// restored from locals.
	const unroll = 3
	nsegSave, rest := AllocLocal(8), AllocLocal(8)
	saved := []struct {
		name string
		off  int
		mem  Mem
	}{{"b", 40, AllocLocal(8)}, {"c", 48, AllocLocal(8)}, {"init", 64, AllocLocal(8)}, {"params", 72, AllocLocal(8)}, {"nsl", 88, AllocLocal(8)}}
	for _, sv := range saved {
		r := GP64()
		MOVQ(NewParamAddr(sv.name, sv.off), r)
		MOVQ(r, sv.mem)
	}
	MOVQ(splitKQ3(), rest)
	{
		ns := Load(Param("nseg"), GP64())
		MOVQ(ns, nsegSave)
	}
	Label("sliver")
	rows, b := loadARows(t.mr, false)
	ini := Load(Param("init"), GP64())
	t.check(1)
	ua := t.next(0)
	t.initS32(ini)
	step := t.dotKStep(rows.row, b, ua, nil, func(b, a, acc, _ VecPhysical) { vpdpbusdVEX(b, a, acc) })
	segKLoop("kqSeg", func(k Register) { MOVQ(rest, k) }, unroll, step, rows.step, b, 32*t.nv, func() { rows.nextSegment(32) })
	Store(b, Param("b"))
	avxvnniRequantPairs(t, rnd, clamp, exact, ua)
	DECQ(NewParamAddr("nsl", 88))
	JLE(LabelRef("done"))
	ADDQ(U8(64), NewParamAddr("init", 64))
	ADDQ(U8(16), NewParamAddr("c", 48))
	ADDQ(U32(448), NewParamAddr("params", 72))
	{
		ns := GP64()
		MOVQ(nsegSave, ns)
		Store(ns, Param("nseg"))
	}
	JMP(LabelRef("sliver"))
	// The next row tile: A and the row table move on by mr rows, the
	// sliver arguments start over.
	Label("done")
	DECQ(NewParamAddr("tiles", 96))
	JLE(LabelRef("end"))
	{
		r, l := GP64(), GP64()
		Load(Param("lda"), l)
		IMUL3Q(U8(t.mr), l, l)
		ADDQ(l, NewParamAddr("a", 16))
		ADDQ(U8(8*t.mr), NewParamAddr("rows", 56))
		for _, sv := range saved {
			MOVQ(sv.mem, r)
			MOVQ(r, NewParamAddr(sv.name, sv.off))
		}
		MOVQ(nsegSave, r)
		Store(r, Param("nseg"))
	}
	JMP(LabelRef("sliver"))
	Label("end")
	VZEROUPPER()
	RET()
}

// avxvnniRequantPairs is the fused kernels' epilogue (s8AVX2RequantRows'
// arithmetic, s8AVX2RequantVec) two rows at a time: the four vectors of
// rows i and i+1 requantized, one byte pack of both rows (two dword
// packs, a word pack, a qword and a dword shuffle put row i's 16 bytes in
// the low half and row i+1's in the high half), then each row stored
// where the table maps it, or not at all. Rows mapped nowhere are
// requantized anyway (their bytes are never stored).
//
// exact is XNNPACK's fp32 requantization without its float clamps, for
// products whose accumulators provably stay small (|acc·scale| < 2^30,
// checked on the Go side, PackedS8.fp32Exact): rounding first and
// clamping the int8 result to [lo, hi] is the same as clamping to
// [lo − zp, hi − zp] before rounding (round is monotonic and the bounds
// are integers), and the saturating packs already clamp to int8, so only
// a clamp narrower than int8 costs a byte max and min per row pair.
func avxvnniRequantPairs(t tile, rnd s8AVX2Rounding, clamp, exact bool, tmp VecPhysical) {
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	prm := Load(Param("params"), GP64())
	cst := Load(Param("consts"), GP64())
	pe, po := t.bv(0), t.bv(1)
	loB, hiB := t.bv(0), t.bv(1)
	if exact && clamp {
		VPBROADCASTB(Mem{Base: cst, Disp: 32}, loB)
		VPBROADCASTB(Mem{Base: cst, Disp: 64}, hiB)
	}
	off := GP64()
	store := func(i int, high bool, x VecPhysical) {
		skip := fmt.Sprintf("skip%d", i)
		MOVQ(Mem{Base: tab, Disp: 8 * i}, off)
		TESTQ(off, off)
		JS(LabelRef(skip))
		SARQ(U8(2), off)
		if high {
			VEXTRACTI128(U8(1), x, Mem{Base: c, Index: off, Scale: 1})
		} else {
			VMOVDQU(x.AsX(), Mem{Base: c, Index: off, Scale: 1})
		}
		Label(skip)
	}
	for i := 0; i < t.mr; i += 2 {
		for r := i; r < i+2; r++ {
			for v := 0; v < t.nv; v++ {
				x := t.acc(r, v)
				if exact {
					VCVTDQ2PS(x, x)
					VMULPS(Mem{Base: prm, Disp: 64 + 32*v}, x, x)
					VCVTPS2DQ(x, x)
					VPADDD(Mem{Base: cst}, x, x)
					continue
				}
				s8AVX2RequantVec(x, 32*v, rnd, clamp, prm, cst, pe, po, tmp)
			}
		}
		// Words: row i's channels 0-3, 8-11 | 4-7, 12-15, and row
		// i+1's; bytes: qwords i{0-3,8-11}, i+1{…}, i{4-7,12-15},
		// i+1{…}; VPERMQ 0xD8 makes each half one row, VPSHUFD 0xD8
		// puts its dwords in channel order.
		x, y := t.acc(i, 0), t.acc(i+1, 0)
		VPACKSSDW(t.acc(i, 1), x, x)
		VPACKSSDW(t.acc(i+1, 1), y, y)
		VPACKSSWB(y, x, x)
		VPERMQ(U8(0xD8), x, x)
		VPSHUFD(U8(0xD8), x, x)
		if exact && clamp {
			VPMAXSB(loB, x, x)
			VPMINSB(hiB, x, x)
		}
		store(i, false, x)
		store(i+1, true, x)
	}
}

// s8AVXVNNIAll emits the AVX-VNNI family: packed, direct, segmented and
// the fused segmented kernels of the 6×16 tile in every arithmetic, and
// the one-row kernels.
func s8AVXVNNIAll() {
	s8AVXVNNI()
	s8AVXVNNIDirect()
	s8AVXVNNIRow(false)
	s8AVXVNNIRow(true)
	s8AVXVNNISegmented()
	for _, rnd := range []s8AVX2Rounding{s8AVX2Single, s8AVX2Double} {
		s8AVXVNNISegmentedFused(rnd, false, false)
		s8AVXVNNISegmentedFused(rnd, true, false)
	}
	s8AVXVNNISegmentedFused(s8AVX2FP32, false, false)
	s8AVXVNNISegmentedFused(s8AVX2FP32, false, true)
	s8AVXVNNISegmentedFused(s8AVX2FP32, true, true)
}

// s8AVXVNNIRow emits the one-row AVX-VNNI kernels (packed, or direct with
// signed A flipped in a register), for products of one or two rows: a
// dense layer at batch 1, whose weights each meet one A row. The 6×16
// tile would multiply five padding rows there, 12 VPDPBUSDs per 64 bytes
// of weights; this tile splits k six ways instead (s8QuadRow: 12
// independent chains, the VPDPBUSD latency covered).
func s8AVXVNNIRow(direct bool) { s8QuadRow(ymmTile(6, 2), direct, "s8AVXVNNI", "AVX-VNNI") }
