package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The pieces every tile kernel repeats: register layout, accumulator
// set-up, the segmented k loop and the stores. Each emits exactly the
// instructions the kernels wrote out before, in the same order.

// tile is the register layout of an mr×nv-vector tile: accumulator
// (i, v) in vector register i·nv+v, the nv B vectors after them, then
// free registers (next). vec is zmm or ymm, width its bytes.
type tile struct {
	mr, nv int
	vec    func(int) VecPhysical
	width  int
}

func zmmTile(mr, nv int) tile { return tile{mr, nv, zmm, 64} }
func ymmTile(mr, nv int) tile { return tile{mr, nv, ymm, 32} }

// cols is the tile's width in int32 columns.
func (t tile) cols() int { return t.nv * t.width / 4 }

func (t tile) acc(i, v int) VecPhysical { return t.vec(i*t.nv + v) }
func (t tile) bv(v int) VecPhysical     { return t.vec(t.mr*t.nv + v) }

// next returns the j-th register after the B vectors.
func (t tile) next(j int) VecPhysical { return t.vec(t.mr*t.nv + t.nv + j) }

// check panics unless the tile, its B vectors and extra more registers
// fit the register file (32 zmm, 16 ymm).
func (t tile) check(extra int) {
	if t.mr*t.nv+t.nv+extra > 16*t.width/32 {
		panic(fmt.Sprintf("%dx%d tile with %d more registers does not fit", t.mr, t.nv, extra))
	}
}

// zero clears the accumulators.
func (t tile) zero() {
	for i := 0; i < t.mr; i++ {
		for v := 0; v < t.nv; v++ {
			if t.width == 64 {
				VPXORD(t.acc(i, v), t.acc(i, v), t.acc(i, v))
			} else {
				VXORPS(t.acc(i, v), t.acc(i, v), t.acc(i, v))
			}
		}
	}
}

// moveS32 copies int32 vectors: aligned register copies or unaligned
// loads and stores, in the tile's width.
func (t tile) moveS32(aligned bool, src, dst Op) {
	switch {
	case t.width == 64 && aligned:
		VMOVDQA32(src, dst)
	case t.width == 64:
		VMOVDQU32(src, dst)
	case aligned:
		VMOVDQA(src, dst)
	default:
		VMOVDQU(src, dst)
	}
}

// initS32 starts every row's int32 accumulators at the nv vectors at ini.
func (t tile) initS32(ini Register) {
	for v := 0; v < t.nv; v++ {
		t.moveS32(false, Mem{Base: ini, Disp: t.width * v}, t.acc(0, v))
	}
	for i := 1; i < t.mr; i++ {
		for v := 0; v < t.nv; v++ {
			t.moveS32(true, t.acc(0, v), t.acc(i, v))
		}
	}
}

// storeS32 stores the int32 accumulators to the tile at c (row stride
// ldc bytes) and ends the kernel.
func (t tile) storeS32(c, ldc Register) {
	for i := 0; i < t.mr; i++ {
		for v := 0; v < t.nv; v++ {
			t.moveS32(false, t.acc(i, v), Mem{Base: c, Disp: t.width * v})
		}
		if i+1 < t.mr {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// storeF32 finishes a float tile at c (row stride ldc bytes) and ends
// the kernel: C + alpha·acc as one FMA, or alpha·acc with overwrite (C
// not read). alpha is the float32 parameter at frame offset alphaOff,
// broadcast into the register alpha; tmp is scratch.
func (t tile) storeF32(c, ldc Register, alpha, tmp VecPhysical, alphaOff int, overwrite bool) {
	VBROADCASTSS(NewParamAddr("alpha", alphaOff), alpha)
	for i := 0; i < t.mr; i++ {
		for v := 0; v < t.nv; v++ {
			dst := Mem{Base: c, Disp: t.width * v}
			if overwrite {
				VMULPS(alpha, t.acc(i, v), tmp)
			} else {
				VMOVUPS(dst, tmp)
				VFMADD231PS(alpha, t.acc(i, v), tmp)
			}
			VMOVUPS(tmp, dst)
		}
		if i+1 < t.mr {
			ADDQ(ldc, c)
		}
	}
	VZEROUPPER()
	RET()
}

// kstep emits one float k step: B's nv vectors at b+bOff, and each A
// value (row i at addr(i, disp)) broadcast once into tmp and multiplied
// into its row's accumulators. A one-vector AVX-512 tile takes A as a
// broadcast memory operand instead (one load per FMA either way).
func (t tile) kstep(addr func(i, disp int) Mem, b Register, tmp VecPhysical, disp, bOff int) {
	for v := 0; v < t.nv; v++ {
		VMOVUPS(Mem{Base: b, Disp: bOff + t.width*v}, t.bv(v))
	}
	for i := 0; i < t.mr; i++ {
		if t.nv == 1 && t.width == 64 {
			VFMADD231PS_BCST(addr(i, disp), t.bv(0), t.acc(i, 0))
			continue
		}
		VBROADCASTSS(addr(i, disp), tmp)
		for v := 0; v < t.nv; v++ {
			VFMADD231PS(tmp, t.bv(v), t.acc(i, v))
		}
	}
}

// kLoop2 emits the k loop over the kParam argument's steps, two per
// pass (half the pointer bumps, which otherwise compete with the FMAs
// for ports; the second step reloads B into the same registers and
// renaming keeps the steps overlapped), then the odd last step. kstep
// emits a step (A at disp bytes past the row pointers, B at b+bOff),
// advance moves the row pointers, B moves bStep bytes a step. Each
// accumulator sees its products in k order. Its labels: segment (top),
// loop, single, next (end).
func kLoop2(kParam string, b Register, bStep int, kstep func(disp, bOff int), advance func(bytes int)) {
	k := GP64()
	Label("segment")
	Load(Param(kParam), k)
	SHRQ(U8(1), k)
	JE(LabelRef("single"))
	Label("loop")
	kstep(0, 0)
	kstep(4, bStep)
	advance(8)
	ADDQ(U32(2*bStep), b)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("single")
	Load(Param(kParam), k)
	TESTQ(U32(1), k)
	JE(LabelRef("next"))
	kstep(0, 0)
	advance(4)
	ADDQ(U32(bStep), b)
	Label("next")
}

// loadARows loads the a, lda and b arguments of a kernel reading A
// unpacked (lda in elements of 4 bytes when float, else in bytes) and
// returns A's row addresses and b.
func loadARows(mr int, float bool) (*rowAddrs, Register) {
	a := Load(Param("a"), GP64())
	lda := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	if float {
		SHLQ(U8(2), lda)
	}
	return newRowAddrs(mr, a.(GPVirtual), lda.(GPVirtual)), b
}

// loadC loads the c and ldc arguments, ldc (elements of 4 bytes) turned
// into bytes.
func loadC() (c, ldc Register) {
	c = Load(Param("c"), GP64())
	ldc = Load(Param("ldc"), GP64())
	SHLQ(U8(2), ldc)
	return c, ldc
}

// nextSegment ends a segment: every row pointer moves on by the adj
// argument (at frame offset adjOff), and the loop goes back to the
// segment label while the nseg argument, counted down, stays positive.
func (r *rowAddrs) nextSegment(adjOff int) {
	for _, base := range r.bases {
		ADDQ(NewParamAddr("adj", adjOff), base)
	}
	DECQ(NewParamAddr("nseg", 0))
	JG(LabelRef("segment"))
}

// loadKMasks loads the mask argument (one bit per tile column, bit
// 16·v+j for vector v, lane j) into the opmasks kreg(v), calling each(v),
// if not nil, right after kreg(v) is set.
func loadKMasks(nv int, each func(v int)) {
	mask := GP64()
	Load(Param("mask"), mask)
	for v := 0; v < nv; v++ {
		if v > 0 {
			SHRQ(U8(16), mask)
		}
		KMOVW(mask.As32(), kreg(v))
		if each != nil {
			each(v)
		}
	}
}

// mappedRows emits body(i) for each of mr rows, with off holding row
// i's entry of the int table at tab and skipped when it is negative (a
// row mapped nowhere). The skip labels are prefix0, prefix1, ….
func mappedRows(mr int, tab, off Register, prefix string, body func(i int)) {
	for i := 0; i < mr; i++ {
		skip := fmt.Sprintf("%s%d", prefix, i)
		MOVQ(Mem{Base: tab, Disp: 8 * i}, off)
		TESTQ(off, off)
		JS(LabelRef(skip))
		body(i)
		Label(skip)
	}
}
