package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The u8-quad int8 kernels (VPDPBUSD: unsigned A bytes times signed B
// bytes, four a dword, wrapping) come in zmm registers for AVX-512 VNNI
// (s8VNNI…, 6×64, 14×32, 28×16) and in ymm registers for AVX-VNNI
// (s8AVXVNNI…, 6×16). Their packed, direct and segmented loops differ
// only in register width and encoding, so each has one generator here,
// given the tile, the family's name prefix and the instruction set its
// doc names (empty for AVX-512 VNNI). A zmm tile keeps the A broadcast
// in zmm31 and the flip constant in zmm30, past every tile's registers;
// a ymm tile, which needs all 16, in the two after its B vectors.

// quadRegs returns the A broadcast and the sign-flip registers of the
// tile t.
func quadRegs(t tile) (ua, flip VecPhysical) {
	if t.width == 64 {
		return zmm(31), zmm(30)
	}
	return t.next(0), t.next(1)
}

// quadDot emits acc += the dot products of u8's unsigned byte quads with
// s8's signed ones, per dword (VPDPBUSD; its VEX form in ymm, which Go's
// assembler does not know).
func quadDot(t tile, s8, u8, acc VecPhysical) {
	if t.width == 64 {
		VPDPBUSD(s8, u8, acc)
	} else {
		vpdpbusdVEX(s8, u8, acc)
	}
}

// quadXor emits dst = x XOR y in the tile's width (VPXORD, VPXOR).
func quadXor(t tile, x, y, dst VecPhysical) {
	if t.width == 64 {
		VPXORD(x, y, dst)
	} else {
		VPXOR(x, y, dst)
	}
}

// quadFlipConst broadcasts the sign-flip bytes 0x80 into flip (AVX2
// broadcasts from an xmm register, AVX-512 from a general one).
func quadFlipConst(t tile, flip VecPhysical) {
	tmp := GP32()
	MOVL(U32(0x80808080), tmp)
	if t.width == 64 {
		VPBROADCASTD(tmp, flip)
		return
	}
	VMOVD(tmp, flip.AsX())
	VPBROADCASTD(flip.AsX(), flip)
}

// s8QuadPacked emits family+"x{mr}x{cols}": C[i][j] = init[j] + Σ_q
// Σ_{t<4} A[q][i][t]·B[q][j][t], a holding k4 groups of mr×4 unsigned
// bytes, b k4 groups of cols×4 signed bytes, init cols int32s.
func s8QuadPacked(t tile, family, isa string) {
	name := fmt.Sprintf("%sx%dx%d", family, t.mr, t.cols())
	TEXT(name, NOSPLIT, "func(k4 int, a *uint8, b *int8, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the u8×s8 dot products of packed panels a (k4×%d×4) and b (k4×%d×4) into the %d×%d tile at c%s.", name, t.mr, t.cols(), t.mr, t.cols(), isaParen(isa)))
	k, a, b, c, ldc, ini := loadPacked("k4")
	t.check(2)
	// VPDPBUSD treats its middle operand as unsigned and the first as
	// signed, so the broadcast A bytes (a+128) must sit in a register: the
	// embedded-broadcast memory form would read them as signed.
	ua, _ := quadRegs(t)
	t.initS32(ini)
	kLoop1(k, func() {
		t.loadB(b, 0)
		for i := 0; i < t.mr; i++ {
			VPBROADCASTD(Mem{Base: a, Disp: 4 * i}, ua)
			for v := 0; v < t.nv; v++ {
				quadDot(t, t.bv(v), ua, t.acc(i, v))
			}
		}
		ADDQ(U32(4*t.mr), a)
		ADDQ(U32(t.width*t.nv), b)
	})
	t.storeS32(c, ldc)
}

// quadFlipStep emits one k step of a signed-A u8-quad tile: B's nv
// vectors, then per row its 4 A bytes broadcast into ua, flipped to
// a+128 and multiplied into the row's accumulators; A and B move on.
func quadFlipStep(t tile, rows *rowAddrs, b Register, ua, flip VecPhysical) {
	t.loadB(b, 0)
	for i := 0; i < t.mr; i++ {
		VPBROADCASTD(rows.row(i, 0), ua)
		quadXor(t, flip, ua, ua)
		for v := 0; v < t.nv; v++ {
			quadDot(t, t.bv(v), ua, t.acc(i, v))
		}
	}
	rows.step(4)
	ADDQ(U32(t.width*t.nv), b)
}

// s8QuadDirect emits s8QuadPacked's kernel reading A unpacked as signed
// bytes, as family+"Dx{mr}x{cols}": row i at a + i·lda, each broadcast
// quad flipped to a+128 (u8) in a register (quadFlipStep).
func s8QuadDirect(t tile, family, isa string) {
	name := fmt.Sprintf("%sDx%dx%d", family, t.mr, t.cols())
	TEXT(name, NOSPLIT, "func(k4 int, a *int8, lda int, b *int8, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the dot products of A (%d rows of 4·k4 signed bytes at stride lda, fed as a+128) and the packed panel b into the tile at c%s.", name, t.mr, isaParen(isa)))
	k := Load(Param("k4"), GP64())
	rows, b := loadARows(t.mr, false)
	ini := Load(Param("init"), GP64())
	t.check(2)
	ua, flip := quadRegs(t)
	t.initS32(ini)
	quadFlipConst(t, flip)
	kLoop1(k, func() {
		quadFlipStep(t, rows, b, ua, flip)
	})
	c, ldc := loadC()
	t.storeS32(c, ldc)
}

// s8QuadSegmented emits s8QuadDirect's kernel over segmented A rows, as
// family+"Sx{mr}x{cols}": nseg segments of kqSeg quads, every row
// pointer moving on by adj bytes after each; the segment and quad
// counters live in the argument slots, which leaves the registers to the
// row pointers.
func s8QuadSegmented(t tile, family, isa string) {
	name := fmt.Sprintf("%sSx%dx%d", family, t.mr, t.cols())
	TEXT(name, NOSPLIT, "func(nseg, kqSeg int, a *int8, lda, adj int, b *int8, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the dot products of segmented A (%d rows at stride lda, nseg segments of 4·kqSeg bytes, adj bytes apart) and the packed panel b into the tile at c%s.", name, t.mr, isaParen(isa)))
	rows, b := loadARows(t.mr, false)
	ini := Load(Param("init"), GP64())
	t.check(2)
	ua, flip := quadRegs(t)
	t.initS32(ini)
	quadFlipConst(t, flip)
	k := GP64()
	Label("segment")
	Load(Param("kqSeg"), k)
	TESTQ(k, k)
	JE(LabelRef("next"))
	Label("loop")
	quadFlipStep(t, rows, b, ua, flip)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("next")
	rows.nextSegment(32)
	c, ldc := loadC()
	t.storeS32(c, ldc)
}
