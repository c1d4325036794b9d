package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// s8VNNISegmentedFused is s8VNNISegmented doing an int8 conv tile's whole
// job in one pass (PackedS8.MulRequantSegmentedRows):
//
//   - A arrives already offset to u8 (each byte XOR 0x80, done once when
//     the conv fills its padded image), so a k step is one broadcast load
//     and nv VPDPBUSDs per row, without the VPXORD that competes with
//     them for the vector ports;
//   - the accumulators start at init (zero-point and bias terms, per
//     column) and walk all nseg segments in the same order as the
//     unfused kernel;
//   - each accumulator is requantized in registers with single rounding
//     (or double rounding, see s8_double.go) in the fast parameter layout of
//     requantFast (bias excluded: it is in init), optionally clamped
//     to [zlh[1], zlh[2]], saturated to int8 and stored as row i at
//     c + rows[i]/4 bytes (rows is a float RowMap's byte table: int8
//     offsets are a quarter of it), or nowhere when rows[i] < 0; mask has
//     one bit per tile column (bit 16·v+j).
//
// No int32 tile is written, no second pass reads it, no copy-out follows.
//
// With fp32 (clamp and double unused) the requantization is XNNPACK's
// float32 one (requantFP32) in NewRequantFP32's layout, which the TFLite
// runtime applies to the int8 layers its default delegate takes; its
// float clamp is always there.
func s8VNNISegmentedFused(mr, nv int, clamp, double, fp32 bool) {
	kind := "SF"
	if double {
		kind = "SFD"
	}
	if fp32 {
		kind, clamp, double = "SFF", false, false
	}
	if clamp {
		kind += "C"
	}
	name := fmt.Sprintf("s8VNNI%sx%dx%d", kind, mr, 16*nv)
	TEXT(name, NOSPLIT, "func(nseg, kqSeg int, a *int8, lda, adj int, b *int8, c *int8, rows *int, init *int32, params *int32, zlh *int32, mask uint64)")
	Pragma("noescape")
	doc := fmt.Sprintf("%s stores the requantized int8 product of u8-offset segmented A (%d rows at stride lda, nseg segments of 4·kqSeg bytes, adj bytes apart) and the packed panel b, accumulators starting at init, row i at c+rows[i]/4 (skipped when negative), columns as mask says.", name, mr)
	if double {
		doc += " Double rounding (TFLite Micro's arithmetic)."
	}
	if fp32 {
		doc += " XNNPACK's float32 requantization (the TFLite runtime's)."
	}
	Doc(doc)
	rows, b := loadARows(mr, false)
	ini := Load(Param("init"), GP64())
	t := zmmTile(mr, nv)
	acc, bv := t.acc, t.bv
	ua := zmm(31)
	// Three k steps per pass (the B registers are reloaded, the row
	// pointers moved once): the pointer bumps are scalar µops that
	// otherwise take vector ports from the VPDPBUSDs. Three divides
	// every segment of a 3-wide filter over 4k channels (3, 12, 24, 48
	// groups on the study's layers). Each accumulator still sees its
	// products in k order.
	const unroll = 3
	t.initS32(ini)
	step := t.dotKStep(rows.row, b, ua, nil, func(b, a, acc, _ VecPhysical) { VPDPBUSD(b, a, acc) })
	// kqSeg = 3·q + r: r goes to lda's argument slot (lda lives in a
	// register from here on), which leaves the registers to the row
	// pointers.
	Store(splitKQ3(), Param("lda"))
	segKLoop("kqSeg", func(k Register) { Load(Param("lda"), k) }, unroll, step, rows.step, b, 64*nv, func() { rows.nextSegment(32) })

	// Epilogue: the B and broadcast registers are the temporaries.
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	prm := Load(Param("params"), GP64())
	zlh := Load(Param("zlh"), GP64())
	loadKMasks(nv, nil)
	odd := GP32()
	MOVL(U32(0xAAAA), odd)
	KMOVW(odd, K5)
	pe, po := zmm(30), ua
	// Double rounding's correction constant: a B register, free by now.
	var dbl *doubleFix
	if double {
		dbl = &doubleFix{c: bv(0), kE: K6, kO: K7}
		doubleFixConst(dbl.c)
	}
	off := GP64()
	mappedRows(mr, tab, off, "skip", func(i int) {
		SARQ(U8(2), off)
		for v := 0; v < nv; v++ {
			// requantRowsFastAVX512's operations, bias already in x.
			x := acc(i, v)
			if fp32 {
				requantFP32(Mem{Base: prm, Disp: 448*v + 64}, x,
					func() { VMAXPS_BCST(Mem{Base: zlh, Disp: 12}, x, x) },
					func() { VMINPS_BCST(Mem{Base: zlh, Disp: 16}, x, x) },
					func() { VPADDD_BCST(Mem{Base: zlh}, x, x) })
				VPMOVDB(x, kreg(v), Mem{Base: c, Index: off, Scale: 1, Disp: 16 * v})
				continue
			}
			requantFast(prm, 448*v, x, pe, po, K5, dbl)
			if clamp {
				VPMAXSD_BCST(Mem{Base: zlh, Disp: 4}, x, x)
				VPMINSD_BCST(Mem{Base: zlh, Disp: 8}, x, x)
			}
			VPMOVSDB(x, kreg(v), Mem{Base: c, Index: off, Scale: 1, Disp: 16 * v})
		}
	})
	VZEROUPPER()
	RET()
}

// s8VNNISegmentedFusedAll emits the fused int8 kernels for the three
// VNNI tile shapes, with and without the activation clamp, in both
// roundings, and the double-rounding fast requantization loops
// (s8_double.go), which share their parameter layout.
func s8VNNISegmentedFusedAll() {
	for _, double := range []bool{false, true} {
		for _, t := range [][2]int{{6, 4}, {14, 2}, {28, 1}} {
			s8VNNISegmentedFused(t[0], t[1], false, double, false)
			s8VNNISegmentedFused(t[0], t[1], true, double, false)
		}
	}
	for _, t := range [][2]int{{6, 4}, {14, 2}, {28, 1}} {
		s8VNNISegmentedFused(t[0], t[1], false, false, true)
	}
	requantRowsFP32AVX512()
	requantRowsFastAVX512(false, true)
	requantRowsFastAVX512(true, true)
}
