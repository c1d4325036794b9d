package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// wino2OutQPoolFP32AVX2 emits wino2OutQFP32AVX2 with a 2×2 stride-2 max
// pool on the exact products (kernels/conv_wino2_pool.go): per column
// pair and row pair of a tile the max of the four Y = AT24·m·A values,
// which are 576 times the true sums, then one ÷576, + k and FP32
// requantization per pooled pixel — 4 of the tile's 16, since the
// requantization is monotone (the plan checks the scales and that + k
// cannot wrap). The x transform and AT24 are outq2.go's. Pooled pixel
// (r, i) of a tile goes to dst + 2·tx·N + i·colOff + r·rowOff, stored
// (1, 1), (1, 0), (0, 1), (0, 0) in that order, so a partial tile or tile
// row passes 0 for the missing offset and ends with its real value there.
// k and the scales are memory operands: the pooling's live values leave
// no registers for them.
func wino2OutQPoolFP32AVX2() {
	name := "wino2OutQPoolFP32AVX2"
	TEXT(name, 0, "func(dst *int8, src *int32, plane, tiles, N, cv, colOff, rowOff int, prm, consts *int32)")
	Pragma("noescape")
	Doc(name + " is wino2OutQPoolGo for channels 0..cv-1 (cv a positive multiple of 8) of tiles ≥ 1 tiles, pooled pixel (r, i) of a tile at i·colOff + r·rowOff bytes.")
	z := AllocLocal(24 * 32) // z[η][i] at (4η + i)·32
	zAt := func(eta, i int) Mem { return z.Offset((4*eta + i) * 32) }
	param := func(name string) Mem {
		b, err := Param(name).Resolve()
		if err != nil {
			panic(err)
		}
		return b.Addr
	}
	colOff := Load(Param("colOff"), GP64())
	rowOff := Load(Param("rowOff"), GP64())
	plane := Load(Param("plane"), GP64())
	N := Load(Param("N"), GP64())
	prm := Load(Param("prm"), GP64())
	sp := GP64() // the scales: prm + sOff
	{
		cs := Load(Param("consts"), GP64())
		MOVQ(Mem{Base: cs, Disp: oqSOff}, sp)
		ADDQ(prm, sp)
	}
	SHLQ(U8(2), plane)       // bytes
	SHRQ(U8(3), param("cv")) // channel blocks
	p3 := GP64()
	LEAQ(Mem{Base: plane, Index: plane, Scale: 2}, p3)
	n2 := GP64() // 2·N: bytes of one tile's pooled output row
	LEAQ(Mem{Base: N, Index: N, Scale: 1}, n2)
	inv, hi, lo16, zp16, perm := wino2OutQConsts()
	n := AllocLocal(8) // tiles left

	Label("block")
	s, o := GP64(), GP64()
	MOVQ(param("src"), s)
	MOVQ(param("dst"), o)
	{
		t := GP64()
		MOVQ(param("tiles"), t)
		MOVQ(t, n)
	}
	Label("tile")
	// Rows η: z[η] = Aᵀ·(m[η][0..5]), as wino2OutQFP32AVX2.
	t := GP64()
	MOVQ(s, t)
	wino2RowsX(t, plane, p3, zAt)
	// column returns max(r0, r1) and max(r2, r3) of column i's AT24.
	column := func(i int) (top, bot VecVirtual) {
		a, c := YMM(), YMM()
		VMOVDQU(zAt(1, i), a)
		VPADDD(zAt(2, i), a, a)
		VMOVDQU(zAt(3, i), c)
		VPADDD(zAt(4, i), c, c)
		// r2 = 4·(a + c)
		bot = YMM()
		VPADDD(c, a, bot)
		VPSLLD(U8(2), bot, bot)
		// r0 = z0 + 4a + c
		VPSLLD(U8(2), a, a)
		VPADDD(c, a, a)
		VPADDD(zAt(0, i), a, a)
		top = a
		b, d := YMM(), YMM()
		VMOVDQU(zAt(1, i), b)
		VPSUBD(zAt(2, i), b, b)
		VMOVDQU(zAt(3, i), d)
		VPSUBD(zAt(4, i), d, d)
		// r1 = 2·(2b + d)
		r1 := YMM()
		VPADDD(b, b, r1)
		VPADDD(d, r1, r1)
		VPADDD(r1, r1, r1)
		VPMAXSD(r1, top, top)
		// r3 = 4·(b + 2d + z5)
		VPADDD(d, d, d)
		VPADDD(b, d, d)
		VPADDD(zAt(5, i), d, d)
		VPSLLD(U8(2), d, d)
		VPMAXSD(d, bot, bot)
		return top, bot
	}
	requant := func(y VecVirtual) {
		VPSRAD(U8(6), y, y)
		VPMULLD(inv, y, y)
		VPADDD(Mem{Base: prm}, y, y)
		VCVTDQ2PS(y, y)
		VMULPS(Mem{Base: sp}, y, y)
		VMINPS(y, hi, y) // min(hi − zp, y): y (so lo − zp below) if NaN
		VCVTPS2DQ(y, y)
	}
	// Pooled column 1 (columns 3 and 2), then 0 (1 and 0).
	var top, bot [2]VecVirtual
	for j := 1; j >= 0; j-- {
		t0, b0 := column(2*j + 1)
		t1, b1 := column(2 * j)
		VPMAXSD(t1, t0, t0)
		VPMAXSD(b1, b0, b0)
		requant(t0)
		requant(b0)
		top[j], bot[j] = t0, b0
	}
	// Pooled rows to int16 with saturation, the clamp and the zero point
	// there, then int8 (as wino2OutQFP32AVX2); per 128-bit lane the packs
	// leave dwords (0,0) (0,1) (1,0) (1,1) of 4 channels each, and perm
	// puts each pooled pixel's 8 bytes in one qword.
	VPACKSSDW(top[1], top[0], top[0])
	VPACKSSDW(bot[1], bot[0], bot[0])
	VPMAXSW(lo16, top[0], top[0])
	VPMAXSW(lo16, bot[0], bot[0])
	VPADDW(zp16, top[0], top[0])
	VPADDW(zp16, bot[0], bot[0])
	VPACKSSWB(bot[0], top[0], top[0])
	VPERMD(top[0], perm, top[0])
	VEXTRACTI128(U8(1), top[0], bot[0].AsX())
	LEAQ(Mem{Base: o, Index: colOff, Scale: 1}, t)
	VMOVHPS(bot[0].AsX(), Mem{Base: t, Index: rowOff, Scale: 1})
	VMOVQ(bot[0].AsX(), Mem{Base: o, Index: rowOff, Scale: 1})
	VMOVHPS(top[0].AsX(), Mem{Base: t})
	VMOVQ(top[0].AsX(), Mem{Base: o})
	LEAQ(Mem{Base: s, Index: N, Scale: 4}, s) // one source tile: N int32
	ADDQ(n2, o)                               // one output tile: 2 pooled pixels
	DECQ(n)
	JNE(LabelRef("tile"))
	ADDQ(U8(32), param("src"))
	ADDQ(U8(8), param("dst"))
	ADDQ(U8(32), prm)
	ADDQ(U8(32), sp)
	DECQ(param("cv"))
	JNE(LabelRef("block"))
	VZEROUPPER()
	RET()
}
