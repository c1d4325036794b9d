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

// s8AVX2RowAll emits the few-row kernels for 1..s8AVX2RowMax rows: the
// AVX2 ones (16 columns) and the AVX-512BW ones (s8AVX512WRx{h}x64, the
// same loop in zmm registers over 64 columns, 128 weight bytes a step),
// and the one-row AVX-512 VNNI kernels (s8VNNIRow), which serve the
// same dense layers on the u8-quad family.
func s8AVX2RowAll() {
	for h := 1; h <= s8AVX2RowMax; h++ {
		s8AVX2Row(h, false)
	}
	for h := 1; h <= s8AVX2RowMax; h++ {
		s8AVX2Row(h, true)
	}
	s8VNNIRow(false)
	s8VNNIRow(true)
}

// s8AVX2Row emits s8AVX2Rx{h}x16, or with zmm s8AVX512WRx{h}x64.
func s8AVX2Row(h int, zmm bool) {
	const unroll = 4
	nv, t, name := 2, ymmTile(h, 2), fmt.Sprintf("s8AVX2Rx%dx16", h)
	if zmm {
		nv, t, name = 4, zmmTile(h, 4), fmt.Sprintf("s8AVX512WRx%dx64", h)
	}
	nr := 8 * nv // columns: each vector holds 8 (ymm) or 16 (zmm)
	if zmm {
		nr = 16 * nv
	}
	vb := nr * 2 / nv // weight bytes one VPMOVSXBW reads
	TEXT(name, NOSPLIT, "func(k2 int, a *int16, b *int8, c *int32, ldc int, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the int16 pair dot products of the packed A panel a (k2×%d×2 int16) and the int8 panel b (k2×%d×2, sign-extended on load) into the %d×%d tile at c (row stride ldc int32).", name, h, nr, h, nr))
	k := Load(Param("k2"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	ini := Load(Param("init"), GP64())
	t.check(2)
	av, prod := t.next(0), t.next(1)
	t.initS32(ini)
	step := func(u int) {
		for v := 0; v < nv; v++ {
			VPMOVSXBW(Mem{Base: b, Disp: 2*nr*u + vb*v}, t.bv(v))
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
	ADDQ(U32(2*nr*unroll), b)
	DECQ(q)
	JNE(LabelRef("loop"))
	Label("rest")
	TESTQ(k, k)
	JE(LabelRef("store"))
	step(0)
	ADDQ(U32(4*h), a)
	ADDQ(U32(2*nr), b)
	DECQ(k)
	JMP(LabelRef("rest"))
	Label("store")
	c, ldc := loadC()
	t.storeS32(c, ldc)
}
