package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// kreg returns the opmask register for column vector v of a tile (K0
// means "no mask" in an EVEX encoding, so the tile uses K1..K4).
func kreg(v int) OpmaskPhysical { return []OpmaskPhysical{K1, K2, K3, K4}[v] }

// sgemmAVX512SegmentedFused is sgemmAVX512Segmented doing a float conv
// tile's whole job in one pass: the accumulators start at zero and walk
// all nseg segments in the same k order, then bias (per column) is added,
// the sum is clamped to [lo, hi] exactly as biasClampAVX512 does, and
// each row i goes to c + rows[i] bytes, or nowhere when rows[i] < 0
// (the garbage pixels of a padded conv row, rows past the last one).
// C is never cleared nor read, and no per-row Go call or copy-out
// follows. mask has one bit per tile column (bit 16·v+j for vector v,
// lane j): columns past N are neither read from bias nor stored.
func sgemmAVX512SegmentedFused(mr, nv int) {
	name := fmt.Sprintf("sgemmAVX512SFx%dx%d", mr, 16*nv)
	TEXT(name, NOSPLIT, "func(nseg, kSeg int, a *float32, lda, adj int, b, c *float32, rows *int, bias *float32, lo, hi float32, mask uint64)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores clamp(segmented A (%d rows at stride lda, nseg segments of kSeg floats, adj bytes apart) times the packed panel b plus bias, lo, hi) row i at c+rows[i] bytes (skipped when negative), columns as mask says.", name, mr))
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	SHLQ(U8(2), lda)
	rows := newRowAddrs(mr, a.(GPVirtual), lda.(GPVirtual))
	acc := func(i, v int) VecPhysical { return zmm(i*nv + v) }
	bv := func(v int) VecPhysical { return zmm(mr*nv + v) }
	if mr*nv+nv+2 > 32 {
		panic("tile too large")
	}
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VPXORD(acc(i, v), acc(i, v), acc(i, v))
		}
	}
	// The k loop runs two steps per pass: half the pointer bumps, which
	// otherwise compete with the FMAs for ports. The second step reloads
	// B into the same registers (renaming keeps the steps overlapped).
	// Each accumulator still sees its products in k order.
	//
	// A tile of one column vector (nv = 1) takes each A value as a
	// broadcast memory operand: one load per FMA either way. Wider tiles
	// broadcast each A value once into a register and reuse it across
	// their nv vectors, so a k step loads mr + nv times for mr·nv FMAs
	// instead of (mr + 1)·nv: with two load ports that is what keeps the
	// FMA ports busy.
	tmp := zmm(31)
	if mr*nv+nv+1 > 31 && nv > 1 {
		panic("tile too large for a broadcast register")
	}
	kstep := func(disp, bOff int) {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: b, Disp: bOff + 64*v}, bv(v))
		}
		for i := 0; i < mr; i++ {
			if nv == 1 {
				VFMADD231PS_BCST(rows.row(i, disp), bv(0), acc(i, 0))
				continue
			}
			VBROADCASTSS(rows.row(i, disp), tmp)
			for v := 0; v < nv; v++ {
				VFMADD231PS(tmp, bv(v), acc(i, v))
			}
		}
	}
	k := GP64()
	Label("segment")
	Load(Param("kSeg"), k)
	SHRQ(U8(1), k)
	JE(LabelRef("single"))
	Label("loop")
	kstep(0, 0)
	kstep(4, 64*nv)
	rows.step(8)
	ADDQ(U32(128*nv), b)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("single")
	Load(Param("kSeg"), k)
	TESTQ(U32(1), k)
	JE(LabelRef("next"))
	kstep(0, 0)
	rows.step(4)
	ADDQ(U32(64*nv), b)
	Label("next")
	for _, base := range rows.bases {
		ADDQ(NewParamAddr("adj", 32), base)
	}
	DECQ(NewParamAddr("nseg", 0))
	JG(LabelRef("segment"))

	segFusedEpilogue(mr, nv, 72)
}

// segFusedEpilogue adds bias to the mr×nv accumulators of a fused
// segmented tile (zmm i·nv+v), clamps them to [lo, hi] and stores row i
// at c + rows[i] bytes, skipping negative rows, the columns mask holds.
// The B registers (zmm mr·nv …) are free by now and take the bias; lo
// and hi are the float32 parameters at frame offsets loOff and loOff+4.
func segFusedEpilogue(mr, nv, loOff int) {
	acc := func(i, v int) VecPhysical { return zmm(i*nv + v) }
	bv := func(v int) VecPhysical { return zmm(mr*nv + v) }
	lo, hi := zmm(mr*nv+nv), zmm(mr*nv+nv+1)
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	bias := Load(Param("bias"), GP64())
	mask := GP64()
	Load(Param("mask"), mask)
	for v := 0; v < nv; v++ {
		if v > 0 {
			SHRQ(U8(16), mask)
		}
		KMOVW(mask.As32(), kreg(v))
		VMOVUPS_Z(Mem{Base: bias, Disp: 64 * v}, kreg(v), bv(v))
	}
	VBROADCASTSS(NewParamAddr("lo", loOff), lo)
	VBROADCASTSS(NewParamAddr("hi", loOff+4), hi)
	off := GP64()
	for i := 0; i < mr; i++ {
		skip := fmt.Sprintf("skip%d", i)
		MOVQ(Mem{Base: tab, Disp: 8 * i}, off)
		TESTQ(off, off)
		JS(LabelRef(skip))
		for v := 0; v < nv; v++ {
			// Same operations and operand order as biasClampAVX512, so
			// the result is bit-identical to the unfused path.
			VADDPS(bv(v), acc(i, v), acc(i, v))
			VMAXPS(acc(i, v), lo, acc(i, v))
			VMINPS(acc(i, v), hi, acc(i, v))
			VMOVUPS(acc(i, v), kreg(v), Mem{Base: c, Index: off, Scale: 1, Disp: 64 * v})
		}
		Label(skip)
	}
	VZEROUPPER()
	RET()
}

// sgemmAVX512SegmentedFusedTails emits the fused kernel for the short
// row tiles of each shape: mr = step, 2·step, … below the full tile, so
// a partial last tile (a small image's last few rows) computes at most
// step − 1 rows for nothing instead of up to mr − 1.
func sgemmAVX512SegmentedFusedTails() {
	for _, t := range [][3]int{{28, 1, 4}, {14, 2, 2}, {6, 4, 2}} {
		for mr := t[2]; mr < t[0]; mr += t[2] {
			sgemmAVX512SegmentedFused(mr, t[1])
		}
	}
}
