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
	if mr*nv+nv+2 > 32 || nv < 2 {
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
	acc := func(i, v int) VecPhysical { return zmm(i*nv + v) }
	bv := func(v int) VecPhysical { return zmm(mr*nv + v) }
	for i := 0; i < mr; i++ {
		for v := 0; v < nv; v++ {
			VPXORD(acc(i, v), acc(i, v), acc(i, v))
		}
	}
	// As in sgemmAVX512SegmentedFused: two k steps per pass, each A value
	// broadcast once into a register and used for all nv vectors, the
	// same per-accumulator order (so the same bits).
	tmp := zmm(31)
	kstep := func(disp, bOff int) {
		for v := 0; v < nv; v++ {
			VMOVUPS(Mem{Base: b, Disp: bOff + 64*v}, bv(v))
		}
		for i := 0; i < mr; i++ {
			VBROADCASTSS(Mem{Base: bases[i], Index: koff, Scale: 1, Disp: disp}, tmp)
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
	ADDQ(U8(8), koff)
	ADDQ(U32(128*nv), b)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("single")
	Load(Param("kSeg"), k)
	TESTQ(U32(1), k)
	JE(LabelRef("next"))
	kstep(0, 0)
	ADDQ(U8(4), koff)
	ADDQ(U32(64*nv), b)
	Label("next")
	ADDQ(NewParamAddr("adj", 40), koff)
	DECQ(NewParamAddr("nseg", 0))
	JG(LabelRef("segment"))
	segFusedEpilogue(mr, nv, 80)
}
