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

// loadB loads the tile's nv B vectors from b + disp bytes (an integer
// panel: int32 moves).
func (t tile) loadB(b Register, disp int) {
	for v := 0; v < t.nv; v++ {
		t.moveS32(false, Mem{Base: b, Disp: disp + t.width*v}, t.bv(v))
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
	t.storeS32Rows(c, ldc)
	VZEROUPPER()
	RET()
}

// storeS32Rows stores the int32 accumulators to the tile at c (row
// stride ldc bytes), leaving c at the last row.
func (t tile) storeS32Rows(c, ldc Register) {
	for i := 0; i < t.mr; i++ {
		for v := 0; v < t.nv; v++ {
			t.moveS32(false, t.acc(i, v), Mem{Base: c, Disp: t.width * v})
		}
		if i+1 < t.mr {
			ADDQ(ldc, c)
		}
	}
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

// kLoop1 emits the plain k loop of a tile kernel: body once per step
// for the k steps counted down in the register k (none when k is 0).
// Its labels: loop, store (end).
func kLoop1(k Register, body func()) {
	TESTQ(k, k)
	JE(LabelRef("store"))
	Label("loop")
	body()
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("store")
}

// bcstKStep emits one float k step of a zmm tile with A as
// embedded-broadcast memory operands: B's nv vectors at b, then each of
// row i's FMAs reading its A value at addr(i).
func (t tile) bcstKStep(addr func(i int) Mem, b Register) {
	for v := 0; v < t.nv; v++ {
		VMOVUPS(Mem{Base: b, Disp: t.width * v}, t.bv(v))
	}
	for i := 0; i < t.mr; i++ {
		for v := 0; v < t.nv; v++ {
			VFMADD231PS_BCST(addr(i), t.bv(v), t.acc(i, v))
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

// segKLoop emits the unrolled k loop of the segmented integer kernels,
// per segment: the kParam argument's count of passes of unroll k steps
// (kstep(u) emits step u of a pass, A at 4·u bytes past the rows), the
// row pointers moved once a pass (the pointer bumps are scalar µops that
// would otherwise take ports from the multiply-adds), then the remainder
// (loaded into k by rest) one step at a time, then nextSegment. B moves
// bStep bytes a step. Each accumulator sees its products in k order. Its
// labels: segment (top), loop, rest, single, next (end).
func segKLoop(kParam string, rest func(k Register), unroll int, kstep func(u int), step func(bytes int), b Register, bStep int, nextSegment func()) {
	k := GP64()
	Label("segment")
	Load(Param(kParam), k)
	TESTQ(k, k)
	JE(LabelRef("rest"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		kstep(u)
	}
	step(4 * unroll)
	ADDQ(U32(bStep*unroll), b)
	DECQ(k)
	JNE(LabelRef("loop"))
	Label("rest")
	rest(k)
	Label("single")
	TESTQ(k, k)
	JE(LabelRef("next"))
	kstep(0)
	step(4)
	ADDQ(U32(bStep), b)
	DECQ(k)
	JMP(LabelRef("single"))
	Label("next")
	nextSegment()
}

// dotKStep returns segKLoop's k step u over the integer tile t: B's nv
// vectors of step u into t.bv, then per row its A dword at rowAt(i, 4·u)
// broadcast into a and multiplied into the row's accumulators by madd
// (acc += the dot products of b's and a's lanes; prod is its scratch).
func (t tile) dotKStep(rowAt func(i, disp int) Mem, b Register, a, prod VecPhysical, madd func(b, a, acc, prod VecPhysical)) func(u int) {
	return func(u int) {
		t.loadB(b, t.width*t.nv*u)
		for i := 0; i < t.mr; i++ {
			VPBROADCASTD(rowAt(i, 4*u), a)
			for v := 0; v < t.nv; v++ {
				madd(t.bv(v), a, t.acc(i, v), prod)
			}
		}
	}
}

// splitKQ3 splits the kqSeg argument for segKLoop's three-step passes:
// kqSeg = 3·q + r, computed once per call; q goes back to kqSeg's slot
// and r is returned in a register for the caller to keep.
func splitKQ3() (r GPVirtual) {
	kq, q, t := GP64(), GP64(), GP64()
	Load(Param("kqSeg"), kq)
	// q = kqSeg·0xAAAAAAAB >> 33 is kqSeg/3 for any kqSeg below 2^32.
	MOVL(U32(0xAAAAAAAB), t.As32())
	MOVQ(kq, q)
	IMULQ(t, q)
	SHRQ(U8(33), q)
	Store(q, Param("kqSeg"))
	LEAQ(Mem{Base: q, Index: q, Scale: 2}, t)
	SUBQ(t, kq)
	return kq
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

// loadPacked loads the arguments of a packed-panel integer kernel (the k
// count kParam, a, b, c, ldc and init), ldc (elements of 4 bytes) turned
// into bytes.
func loadPacked(kParam string) (k, a, b, c, ldc, ini Register) {
	k = Load(Param(kParam), GP64())
	a = Load(Param("a"), GP64())
	b = Load(Param("b"), GP64())
	c = Load(Param("c"), GP64())
	ldc = Load(Param("ldc"), GP64())
	ini = Load(Param("init"), GP64())
	SHLQ(U8(2), ldc)
	return k, a, b, c, ldc, ini
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
