package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
)

// s8VNNIRow emits the one-row AVX-512 VNNI kernels s8VNNIx1x64 (packed
// A) and s8VNNIDx1x64 (direct: signed A flipped to a+128 in a
// register), for products of one or two rows: a dense layer at batch 1,
// whose weights each meet one A row. The 6×64 tile would multiply five
// padding rows there (six VPDPBUSDs per 64-byte weight vector); this
// one splits k four ways instead (s8QuadRow; 16 independent chains
// cover VPDPBUSD's latency). It is s8AVXVNNIRow in zmm registers, 64
// columns (the packed panel of the 6×64 tile's nr), for the VNNI family.
func s8VNNIRow(direct bool) { s8QuadRow(zmmTile(4, 4), direct, "s8VNNI", "") }

// s8QuadRow emits a one-row u8-quad kernel (VPDPBUSD; AVX-512 VNNI in
// zmm, AVX-VNNI's VEX form in ymm) that splits k t.mr ways: accumulator
// set u (t's row u, t.nv vectors) takes the quads u, u+t.mr, …, so
// t.mr·t.nv independent chains cover VPDPBUSD's latency, and the sets
// are summed at the end. Integer sums wrap, so the result is
// bit-identical whatever the order. With direct, A is signed and each
// quad is flipped to a+128 in a register. The kernel is
// family+"x1x{cols}" (+"D" before the x when direct), isa (when set)
// noted in its doc. t.mr is 4 or 6 (the k split below divides by it).
func s8QuadRow(t tile, direct bool, family, isa string) {
	isaN := ""
	if isa != "" {
		isaN = isa + "; "
	}
	name := fmt.Sprintf("%sx1x%d", family, t.cols())
	sig := "func(k4 int, a *uint8, b *int8, c *int32, ldc int, init *int32)"
	doc := fmt.Sprintf("%s stores init plus the u8×s8 dot products of the packed row a (k4×4) and panel b (k4×%d×4) into the %d int32 at c (%sldc unused).", name, t.cols(), t.cols(), isaN)
	if direct {
		name = fmt.Sprintf("%sDx1x%d", family, t.cols())
		sig = "func(k4 int, a *int8, lda int, b *int8, c *int32, ldc int, init *int32)"
		doc = fmt.Sprintf("%s stores init plus the dot products of the row of 4·k4 signed bytes at a (fed as a+128) and the packed panel b (k4×%d×4) into the %d int32 at c (%slda and ldc unused).", name, t.cols(), t.cols(), isaN)
	}
	ways, nv := t.mr, t.nv
	t.check(2)
	ua, flip := t.next(0), t.next(1)
	bStep := t.width * nv // panel bytes a k step
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	kq := Load(Param("k4"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	ini := Load(Param("init"), GP64())
	for v := 0; v < nv; v++ {
		t.moveS32(false, Mem{Base: ini, Disp: t.width * v}, t.acc(0, v))
	}
	for u := 1; u < ways; u++ {
		for v := 0; v < nv; v++ {
			quadXor(t, t.acc(u, v), t.acc(u, v), t.acc(u, v))
		}
	}
	if direct {
		quadFlipConst(t, flip)
	}
	step := func(u int) {
		t.loadB(b, bStep*u)
		VPBROADCASTD(Mem{Base: a, Disp: 4 * u}, ua)
		if direct {
			quadXor(t, flip, ua, ua)
		}
		for v := 0; v < nv; v++ {
			quadDot(t, t.bv(v), ua, t.acc(u, v))
		}
	}
	// k4 = ways·q + r.
	q := GP64()
	switch ways {
	case 4:
		MOVQ(kq, q)
		SHRQ(U8(2), q)
		ANDQ(U32(ways-1), kq)
	case 6:
		// q = k4·0xAAAAAAAB >> 34 for any k4 below 2^32.
		tq := GP64()
		MOVL(U32(0xAAAAAAAB), tq.As32())
		MOVQ(kq, q)
		IMULQ(tq, q)
		SHRQ(U8(34), q)
		LEAQ(Mem{Base: q, Index: q, Scale: 2}, tq)
		ADDQ(tq, tq)
		SUBQ(tq, kq)
	default:
		panic("s8QuadRow: k splits 4 or 6 ways")
	}
	TESTQ(q, q)
	JE(LabelRef("rest"))
	Label("loop")
	for u := 0; u < ways; u++ {
		step(u)
	}
	ADDQ(U32(4*ways), a)
	ADDQ(U32(bStep*ways), b)
	DECQ(q)
	JNE(LabelRef("loop"))
	Label("rest")
	TESTQ(kq, kq)
	JE(LabelRef("sum"))
	step(0)
	ADDQ(U32(4), a)
	ADDQ(U32(bStep), b)
	DECQ(kq)
	JMP(LabelRef("rest"))
	Label("sum")
	for u := 1; u < ways; u++ {
		for v := 0; v < nv; v++ {
			VPADDD(t.acc(u, v), t.acc(0, v), t.acc(0, v))
		}
	}
	c := Load(Param("c"), GP64())
	for v := 0; v < nv; v++ {
		t.moveS32(false, t.acc(0, v), Mem{Base: c, Disp: t.width * v})
	}
	VZEROUPPER()
	RET()
}
