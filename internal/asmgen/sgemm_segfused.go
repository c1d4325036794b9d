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
	rows, b := loadARows(mr, true)
	t := zmmTile(mr, nv)
	t.check(2)
	t.zero()
	// Two k steps per pass (kLoop2). A tile of one column vector (nv =
	// 1) takes each A value as a broadcast memory operand: one load per
	// FMA either way. Wider tiles broadcast each A value once into a
	// register and reuse it across their nv vectors, so a k step loads
	// mr + nv times for mr·nv FMAs instead of (mr + 1)·nv: with two load
	// ports that is what keeps the FMA ports busy.
	tmp := zmm(31)
	if mr*nv+nv+1 > 31 && nv > 1 {
		panic("tile too large for a broadcast register")
	}
	kLoop2("kSeg", b, 64*nv, func(disp, bOff int) {
		t.kstep(rows.row, b, tmp, disp, bOff)
	}, rows.step)
	rows.nextSegment(32)
	segFusedEpilogue(t, 72)
}

// segFusedEpilogue adds bias to the mr×nv accumulators of a fused
// segmented tile (zmm i·nv+v), clamps them to [lo, hi] and stores row i
// at c + rows[i] bytes, skipping negative rows, the columns mask holds.
// The B registers (zmm mr·nv …) are free by now and take the bias; lo
// and hi are the float32 parameters at frame offsets loOff and loOff+4.
func segFusedEpilogue(t tile, loOff int) {
	lo, hi := t.next(0), t.next(1)
	c := Load(Param("c"), GP64())
	tab := Load(Param("rows"), GP64())
	bias := Load(Param("bias"), GP64())
	loadKMasks(t.nv, func(v int) {
		VMOVUPS_Z(Mem{Base: bias, Disp: 64 * v}, kreg(v), t.bv(v))
	})
	VBROADCASTSS(NewParamAddr("lo", loOff), lo)
	VBROADCASTSS(NewParamAddr("hi", loOff+4), hi)
	off := GP64()
	mappedRows(t.mr, tab, off, "skip", func(i int) {
		for v := 0; v < t.nv; v++ {
			// Same operations and operand order as biasClampAVX512, so
			// the result is bit-identical to the unfused path.
			acc := t.acc(i, v)
			VADDPS(t.bv(v), acc, acc)
			VMAXPS(acc, lo, acc)
			VMINPS(acc, hi, acc)
			VMOVUPS(acc, kreg(v), Mem{Base: c, Index: off, Scale: 1, Disp: 64 * v})
		}
	})
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
