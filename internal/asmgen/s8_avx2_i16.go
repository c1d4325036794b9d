package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
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
func s8AVX2SegI16(mr int) { s8SegI16(ymmTile(mr, 2), "s8AVX2", "", maddWD) }

// s8SegI16 emits the int32-storing segmented kernel of tile t (ymm or
// zmm) as family+"SI16x{mr}x{cols}", with the multiply-add step madd
// and isa (when set) noted in its doc; the k loop is s8I16SegLoop.
func s8SegI16(t tile, family, isa string, madd i16MAdd) {
	name := fmt.Sprintf("%sSI16x%dx%d", family, t.mr, t.cols())
	TEXT(name, NOSPLIT, "func(nseg, kpSeg int, a *int16, lda, adj int, b *int16, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the int32 product of int16 segmented A (%d rows at stride lda bytes, nseg segments of 2·kpSeg int16, adj bytes apart) and the int16-pair panel b into the %d×%d tile at c (row stride ldc elements%s).", name, t.mr, t.mr, t.cols(), isaNote(isa)))
	rows, b := loadARows(t.mr, false)
	ini := Load(Param("init"), GP64())
	t.check(2)
	t.initS32(ini)
	s8I16SegLoop(t, rows.row, rows.step, func() { rows.nextSegment(32) }, b, "lda", madd)
	c, ldc := loadC()
	t.storeS32(c, ldc)
}
