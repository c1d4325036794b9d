package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// The AVX2 few-row int8 kernels (s8AVX2Rx{h}x16): the exact int16-pair
// arithmetic of s8AVX2 (VPMADDWD of int16 pairs, VPADDD into int32) for
// products of 1 to 4 rows — a dense layer at small batch — with the
// weights kept as int8. The 6×16 tile reads int16 weight panels (twice
// the bytes) and at batch 1 multiplies five padding rows; a dense layer
// there only streams its weights, so halving their bytes and dropping
// the padding rows is the whole gain. b is the int16-pair panel's layout
// with int8 elements (k2 steps of 16 columns × 2 k values, 32 bytes),
// sign-extended to int16 on load with VPMOVSXBW (one per 8 columns); a
// is the A rows already widened and packed as int16 pairs (k2 steps of
// h dwords), so each pair is one VPBROADCASTD from memory. The integer
// sums are exact and wrap like the reference's, so the result is
// bit-identical to s8AVX2's for any order. The accumulation chains are
// VPADDDs (latency 1), so one accumulator pair per row hides the
// latency; the k loop is unrolled four steps to keep the loop overhead
// off the front end.

// s8AVX2RowMax is the most rows one call of the few-row kernels covers.
const s8AVX2RowMax = 4

// s8AVX2RowAll emits the few-row kernels for 1..s8AVX2RowMax rows.
func s8AVX2RowAll() {
	for h := 1; h <= s8AVX2RowMax; h++ {
		s8AVX2Row(h)
	}
}

// s8AVX2Row emits s8AVX2Rx{h}x16.
func s8AVX2Row(h int) {
	const nv, unroll = 2, 4
	name := fmt.Sprintf("s8AVX2Rx%dx16", h)
	TEXT(name, NOSPLIT, "func(k2 int, a *int16, b *int8, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the int16 pair dot products of the packed A panel a (k2×%d×2 int16) and the int8 panel b (k2×16×2, sign-extended on load) into the %d×16 tile at c (row stride ldc int32).", name, h, h))
	k := Load(Param("k2"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	ini := Load(Param("init"), GP64())
	t := ymmTile(h, nv)
	t.check(2)
	av, prod := t.next(0), t.next(1)
	t.initS32(ini)
	step := func(u int) {
		for v := 0; v < nv; v++ {
			VPMOVSXBW(Mem{Base: b, Disp: 32*u + 16*v}, t.bv(v))
		}
		for i := 0; i < h; i++ {
			VPBROADCASTD(Mem{Base: a, Disp: 4 * (u*h + i)}, av)
			for v := 0; v < nv; v++ {
				VPMADDWD(av, t.bv(v), prod)
				VPADDD(prod, t.acc(i, v), t.acc(i, v))
			}
		}
	}
	q := GP64()
	MOVQ(k, q)
	SHRQ(U8(2), q)
	ANDQ(U32(unroll-1), k)
	TESTQ(q, q)
	JE(LabelRef("rest"))
	Label("loop")
	for u := 0; u < unroll; u++ {
		step(u)
	}
	ADDQ(U32(4*h*unroll), a)
	ADDQ(U32(32*unroll), b)
	DECQ(q)
	JNE(LabelRef("loop"))
	Label("rest")
	TESTQ(k, k)
	JE(LabelRef("store"))
	step(0)
	ADDQ(U32(4*h), a)
	ADDQ(U32(32), b)
	DECQ(k)
	JMP(LabelRef("rest"))
	Label("store")
	c, ldc := loadC()
	t.storeS32(c, ldc)
}
