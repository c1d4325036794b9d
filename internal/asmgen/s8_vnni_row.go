package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// s8VNNIRow emits the one-row AVX-512 VNNI kernels s8VNNIx1x64 (packed
// A) and s8VNNIDx1x64 (direct: signed A flipped to a+128 in a
// register), for products of one or two rows: a dense layer at batch 1,
// whose weights each meet one A row. The 6×64 tile would multiply five
// padding rows there (six VPDPBUSDs per 64-byte weight vector); this
// one splits k four ways instead, accumulator set u taking the quads u,
// u+4, … (16 independent chains cover VPDPBUSD's latency), and sums the
// sets at the end. Integer sums wrap, so the result is bit-identical
// whatever the order. It is s8AVXVNNIRow in zmm registers, 64 columns
// (the packed panel of the 6×64 tile's nr), for the VNNI family.
func s8VNNIRow(direct bool) {
	const ways, nv = 4, 4
	acc := func(u, v int) VecPhysical { return zmm(nv*u + v) }
	bv := func(v int) VecPhysical { return zmm(nv*ways + v) }
	ua, flip := zmm(nv*ways+nv), zmm(nv*ways+nv+1)
	name, sig := "s8VNNIx1x64", "func(k4 int, a *uint8, b *int8, c *int32, ldc int, init *int32)"
	doc := name + " stores init plus the u8×s8 dot products of the packed row a (k4×4) and panel b (k4×64×4) into the 64 int32 at c (ldc unused)."
	if direct {
		name, sig = "s8VNNIDx1x64", "func(k4 int, a *int8, lda int, b *int8, c *int32, ldc int, init *int32)"
		doc = name + " stores init plus the dot products of the row of 4·k4 signed bytes at a (fed as a+128) and the packed panel b (k4×64×4) into the 64 int32 at c (lda and ldc unused)."
	}
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(doc)
	kq := Load(Param("k4"), GP64())
	a := Load(Param("a"), GP64())
	b := Load(Param("b"), GP64())
	ini := Load(Param("init"), GP64())
	for v := 0; v < nv; v++ {
		VMOVDQU32(Mem{Base: ini, Disp: 64 * v}, acc(0, v))
	}
	for u := 1; u < ways; u++ {
		for v := 0; v < nv; v++ {
			VPXORD(acc(u, v), acc(u, v), acc(u, v))
		}
	}
	if direct {
		tmp := GP32()
		MOVL(U32(0x80808080), tmp)
		VPBROADCASTD(tmp, flip)
	}
	step := func(u int) {
		for v := 0; v < nv; v++ {
			VMOVDQU32(Mem{Base: b, Disp: 256*u + 64*v}, bv(v))
		}
		VPBROADCASTD(Mem{Base: a, Disp: 4 * u}, ua)
		if direct {
			VPXORD(flip, ua, ua)
		}
		for v := 0; v < nv; v++ {
			VPDPBUSD(bv(v), ua, acc(u, v))
		}
	}
	q := GP64()
	MOVQ(kq, q)
	SHRQ(U8(2), q)
	ANDQ(U32(ways-1), kq)
	TESTQ(q, q)
	JE(LabelRef("rest"))
	Label("loop")
	for u := 0; u < ways; u++ {
		step(u)
	}
	ADDQ(U32(4*ways), a)
	ADDQ(U32(256*ways), b)
	DECQ(q)
	JNE(LabelRef("loop"))
	Label("rest")
	TESTQ(kq, kq)
	JE(LabelRef("sum"))
	step(0)
	ADDQ(U32(4), a)
	ADDQ(U32(256), b)
	DECQ(kq)
	JMP(LabelRef("rest"))
	Label("sum")
	for u := 1; u < ways; u++ {
		for v := 0; v < nv; v++ {
			VPADDD(acc(u, v), acc(0, v), acc(0, v))
		}
	}
	c := Load(Param("c"), GP64())
	for v := 0; v < nv; v++ {
		VMOVDQU32(acc(0, v), Mem{Base: c, Disp: 64 * v})
	}
	VZEROUPPER()
	RET()
}
