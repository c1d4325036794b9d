package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// sgemmAVX512SegmentedFusedPtr is sgemmAVX512SegmentedFused with its A
// rows anywhere: row i starts at a + arows[i]·lda elements instead of
// a + i·lda. A conv's tiles can then run on from the end of one output
// row to the start of the next without computing the pitch − outW
// padding pixels in between, so every tile is a full mr rows (the last
// one of a call repeats a row and maps the copy nowhere). Each row keeps
// its own base register and one index register walks k for all of them,
// which bounds mr by the general registers: 6 rows of 4 vectors.
func sgemmAVX512SegmentedFusedPtr(mr, nv int) {
	name := fmt.Sprintf("sgemmAVX512SFPx%dx%d", mr, 16*nv)
	TEXT(name, NOSPLIT, "func(nseg, kSeg int, a *float32, lda int, arows *int, adj int, b, c *float32, rows *int, bias *float32, lo, hi float32, mask uint64)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is sgemmAVX512SFx%dx%d with row i of A at a + arows[i]·lda elements.", name, mr, 16*nv))
	t := zmmTile(mr, nv)
	t.check(2)
	if nv < 2 {
		panic("tile does not fit")
	}
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	tab := Load(Param("arows"), GP64())
	SHLQ(U8(2), lda)
	bases := make([]GPVirtual, mr)
	for i := range bases {
		bases[i] = GP64().(GPVirtual)
		MOVQ(Mem{Base: tab, Disp: 8 * i}, bases[i])
		IMULQ(lda, bases[i])
		ADDQ(a, bases[i])
	}
	koff := GP64()
	XORQ(koff, koff)
	b := Load(Param("b"), GP64())
	t.zero()
	// As in sgemmAVX512SegmentedFused: two k steps per pass, each A value
	// broadcast once into a register and used for all nv vectors, the
	// same per-accumulator order (so the same bits).
	row := func(i, disp int) Mem { return Mem{Base: bases[i], Index: koff, Scale: 1, Disp: disp} }
	kLoop2("kSeg", b, 64*nv, func(disp, bOff int) {
		t.kstep(row, b, zmm(31), disp, bOff)
	}, func(bytes int) { ADDQ(U8(bytes), koff) })
	ADDQ(NewParamAddr("adj", 40), koff)
	DECQ(NewParamAddr("nseg", 0))
	JG(LabelRef("segment"))
	segFusedEpilogue(t, 80)
}
