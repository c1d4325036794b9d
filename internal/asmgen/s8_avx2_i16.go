package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// s8AVX2SegI16 emits the int16 segmented product kernel of the
// int16-pair family without requantization: the int32 sums of int16 A
// (row i at a + i·lda bytes, nseg segments of kpSeg int16 pairs, the
// next segment adj bytes after the previous one's end) and the
// int16-pair panel b, plus init, stored to the mr×16 tile at c (row
// stride ldc int32). The exact int8 Winograd convolution
// (gemm.PackedI16.MulSegmented) runs its products here: its transformed
// inputs and filters need int16, and its output transform needs the raw
// sums. The loop is s8AVX2SegmentedFused's.
func s8AVX2SegI16(mr int) {
	const nv = 2
	name := fmt.Sprintf("s8AVX2SI16x%dx%d", mr, 8*nv)
	TEXT(name, NOSPLIT, "func(nseg, kpSeg int, a *int16, lda, adj int, b *int16, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the int32 product of int16 segmented A (%d rows at stride lda bytes, nseg segments of 2·kpSeg int16, adj bytes apart) and the int16-pair panel b into the %d×%d tile at c (row stride ldc elements).", name, mr, mr, 8*nv))
	rows, b := loadARows(mr, false)
	ini := Load(Param("init"), GP64())
	t := ymmTile(mr, nv)
	t.check(2)
	av, prod := t.next(0), t.next(1)
	t.initS32(ini)
	kstep := func(u int) {
		for v := 0; v < nv; v++ {
			VMOVDQU(Mem{Base: b, Disp: 32 * (u*nv + v)}, t.bv(v))
		}
		for i := 0; i < mr; i++ {
			VPBROADCASTD(rows.row(i, 4*u), av)
			for v := 0; v < nv; v++ {
				VPMADDWD(t.bv(v), av, prod)
				VPADDD(prod, t.acc(i, v), t.acc(i, v))
			}
		}
	}
	// kpSeg = 4·q + r: q goes back to kpSeg's slot, r to lda's (read by
	// now).
	const unroll = 4
	{
		kp, r := GP64(), GP64()
		Load(Param("kpSeg"), kp)
		MOVQ(kp, r)
		SHRQ(U8(2), kp)
		ANDQ(U8(unroll-1), r)
		Store(kp, Param("kpSeg"))
		Store(r, Param("lda"))
	}
	k := GP64()
	Label("segment")
	Load(Param("kpSeg"), k)
	TESTQ(k, k)
	JE(LabelRef("rest"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		kstep(u)
	}
	rows.step(4 * unroll)
	ADDQ(U32(32*nv*unroll), b)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("rest")
	Load(Param("lda"), k)
	Label("single")
	TESTQ(k, k)
	JE(LabelRef("next"))
	kstep(0)
	rows.step(4)
	ADDQ(U32(32*nv), b)
	DECQ(k)
	JMP(LabelRef("single"))
	Label("next")
	rows.nextSegment(32)
	c, ldc := loadC()
	t.storeS32(c, ldc)
}
