package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The 2-D plan's whole output side in one pass
// (kernels/conv_wino2_outq.go): from a tile's 36 int32 products, the x
// transform Aᵀ along each of the six rows η (into a 768-byte stack
// scratch, L1), then per output column AT24 along y, the exact ÷576, + k
// and the FP32 requantization, and int8 stores. The split path
// (wino2OutY into 24 T planes, then winoOutQFP32AVX2 per output row)
// does the same loads and stores, through L2 for the T planes, and ~8%
// more vector operations (316 against 290 per tile and 8 channels); the
// kernels are bound by those operations on Zen 5 (turning shifts into
// adds changed nothing). The requantization's clamp to lo − zp and the
// zero point's addition run on int16 after the first pack (one VPMAXSW
// and one VPADDW per 16 values instead of a VMAXPS and a VPADDD per 8):
// the float VMINPS against hi − zp comes first, so VCVTPS2DQ's
// out-of-range value 0x80000000 only ever stands for a value below
// lo − zp (a NaN too, as VMAXPS lo left it lo − zp in winoOutQFP32AVX2),
// which the saturating pack and VPMAXSW take to lo − zp; since lo − zp
// and hi − zp are integers, clamping before or after the rounding gives
// the same value (fixedpoint.FP32Requantize).

// Offset in winoOutQ's consts (bytes) of lo − zp (int32; its low word
// is the int16 the kernel broadcasts).
const oqLoZP = 40

// wino2OutQFP32AVX2 emits the fused kernel: for channel blocks of 8
// below cv and tiles tx < tiles, the products m[η][ξ] at src +
// (6η+ξ)·plane + tx·N (int32 elements), Y = AT24·m·A divided exactly by
// 576, plus k, requantized and stored as int8 to pixel (r, i) of the
// tile at dst + 4·tx·N + offs[i−1] + offs[2+r] (bytes; offset 0 for i or
// r = 0). Pixels are stored last column first and last row first, so a
// partial tile or tile row whose offsets repeat the last real pixel's
// (clamped) ends with that pixel's own value there: the kernel needs no
// stack buffer for them.
func wino2OutQFP32AVX2() {
	name := "wino2OutQFP32AVX2"
	// Not NOSPLIT: the 768-byte scratch is close to the nosplit limit.
	TEXT(name, 0, "func(dst *int8, offs *int, src *int32, plane, tiles, N, cv int, prm, consts *int32)")
	Pragma("noescape")
	Doc(name + " is wino2OutQGo for channels 0..cv-1 (cv a positive multiple of 8) of tiles ≥ 1 tiles, pixel (r, i) of a tile at offs[i-1] + offs[2+r] bytes.")
	z := AllocLocal(24 * 32) // z[η][i] at (4η + i)·32
	zAt := func(eta, i int) Mem { return z.Offset((4*eta + i) * 32) }
	colOff := AllocLocal(3 * 8)
	param := func(name string) Mem {
		b, err := Param(name).Resolve()
		if err != nil {
			panic(err)
		}
		return b.Addr
	}
	// src, dst, tiles and cv stay in their argument slots (the channel
	// block loop moves src and dst on there): 16 general registers do not
	// hold them beside the row offsets.
	rowOff := [4]Register{nil, GP64(), GP64(), GP64()}
	{
		o := Load(Param("offs"), GP64())
		t := GP64()
		for i := range 3 {
			MOVQ(Mem{Base: o, Disp: 8 * i}, t)
			MOVQ(t, colOff.Offset(8*i))
			MOVQ(Mem{Base: o, Disp: 8 * (3 + i)}, rowOff[1+i])
		}
	}
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
	inv, hi, lo16, zp16, perm := wino2OutQConsts()
	n := AllocLocal(8) // tiles left

	Label("block")
	k, scale := YMM(), YMM()
	VMOVDQU(Mem{Base: prm}, k)
	VMOVDQU(Mem{Base: sp}, scale)
	s, o := GP64(), GP64()
	MOVQ(param("src"), s)
	MOVQ(param("dst"), o)
	{
		t := GP64()
		MOVQ(param("tiles"), t)
		MOVQ(t, n)
	}
	Label("tile")
	// Rows η: z[η] = Aᵀ·(m[η][0..5]), as winoOutQFP32AVX2's x transform.
	t := GP64()
	MOVQ(s, t)
	wino2RowsX(t, plane, p3, zAt)
	// Columns i, last first: AT24 along y, then the requantization.
	requant := func(y VecVirtual) {
		VPSRAD(U8(6), y, y)
		VPMULLD(inv, y, y)
		VPADDD(k, y, y)
		VCVTDQ2PS(y, y)
		VMULPS(scale, y, y)
		VMINPS(y, hi, y) // min(hi − zp, y): y (so lo − zp below) if NaN
		VCVTPS2DQ(y, y)
	}
	for i := 3; i >= 0; i-- {
		a, b, c, d := YMM(), YMM(), YMM(), YMM()
		VMOVDQU(zAt(1, i), b)
		VPADDD(zAt(2, i), b, a)
		VPSUBD(zAt(2, i), b, b)
		VMOVDQU(zAt(3, i), d)
		VPADDD(zAt(4, i), d, c)
		VPSUBD(zAt(4, i), d, d)
		// r2 = 4·(a + c)
		r2 := YMM()
		VPADDD(c, a, r2)
		VPSLLD(U8(2), r2, r2)
		requant(r2)
		// r0 = z0 + 4a + c
		VPSLLD(U8(2), a, a)
		VPADDD(c, a, a)
		VPADDD(zAt(0, i), a, a)
		requant(a)
		// r1 = 2·(2b + d)
		r1 := YMM()
		VPADDD(b, b, r1)
		VPADDD(d, r1, r1)
		VPADDD(r1, r1, r1)
		requant(r1)
		// r3 = 4·(b + 2d + z5)
		VPADDD(d, d, d)
		VPADDD(b, d, d)
		VPADDD(zAt(5, i), d, d)
		VPSLLD(U8(2), d, d)
		requant(d)
		// Rows r0..r3 (values ≤ hi − zp) to int16 with saturation, the
		// clamp and the zero point there, then int8 (exact: inside
		// [lo, hi]); per 128-bit lane the packs leave dwords r0 r1 r2
		// r3 (4 channels each), and perm puts each row's 8 bytes in one
		// qword.
		VPACKSSDW(r1, a, a)
		VPACKSSDW(d, r2, r2)
		VPMAXSW(lo16, a, a)
		VPMAXSW(lo16, r2, r2)
		VPADDW(zp16, a, a)
		VPADDW(zp16, r2, r2)
		VPACKSSWB(r2, a, a)
		VPERMD(a, perm, a)
		base := o
		if i > 0 {
			MOVQ(colOff.Offset(8*(i-1)), t)
			ADDQ(o, t)
			base = t
		}
		VEXTRACTI128(U8(1), a, r1.AsX())
		VMOVHPS(r1.AsX(), Mem{Base: base, Index: rowOff[3], Scale: 1})
		VMOVQ(r1.AsX(), Mem{Base: base, Index: rowOff[2], Scale: 1})
		VMOVHPS(a.AsX(), Mem{Base: base, Index: rowOff[1], Scale: 1})
		VMOVQ(a.AsX(), Mem{Base: base})
	}
	LEAQ(Mem{Base: s, Index: N, Scale: 4}, s) // one source tile: N int32
	LEAQ(Mem{Base: o, Index: N, Scale: 4}, o) // one output tile: 4 pixels
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

// wino2RowsX emits the x transform of a tile's six product rows: z[η] =
// Aᵀ·(m[η][0..5]) from t + (6η+ξ)·plane bytes (t moves on; p3 is
// 3·plane) into zAt(η, i), as winoOutQFP32AVX2's x transform.
func wino2RowsX(t, plane, p3 Register, zAt func(eta, i int) Mem) {
	for eta := range 6 {
		m0, m1, m2 := YMM(), YMM(), YMM()
		VMOVDQU(Mem{Base: t}, m0)
		VMOVDQU(Mem{Base: t, Index: plane, Scale: 1}, m1)
		VMOVDQU(Mem{Base: t, Index: plane, Scale: 2}, m2)
		a, b, cc, dd := YMM(), YMM(), YMM(), YMM()
		VPADDD(m2, m1, a)
		VPSUBD(m2, m1, b)
		VMOVDQU(Mem{Base: t, Index: p3, Scale: 1}, m1)
		VMOVDQU(Mem{Base: t, Index: plane, Scale: 4}, m2)
		VPADDD(m2, m1, cc)
		VPSUBD(m2, m1, dd)
		ADDQ(p3, t) // now at m[η][3]; m[η][5] is 2·plane on
		// z0 = m0 + a + cc
		VPADDD(a, m0, m0)
		VPADDD(cc, m0, m0)
		VMOVDQU(m0, zAt(eta, 0))
		// z2 = a + 4·cc
		VPSLLD(U8(2), cc, cc)
		VPADDD(a, cc, cc)
		VMOVDQU(cc, zAt(eta, 2))
		// z1 = b + 2·dd
		VPADDD(dd, dd, a)
		VPADDD(b, a, a)
		VMOVDQU(a, zAt(eta, 1))
		// z3 = m5 + b + 8·dd
		VPSLLD(U8(3), dd, dd)
		VPADDD(b, dd, dd)
		VPADDD(Mem{Base: t, Index: plane, Scale: 2}, dd, dd)
		VMOVDQU(dd, zAt(eta, 3))
		if eta < 5 {
			ADDQ(p3, t)
		}
	}
}

// wino2OutQConsts loads the one-pass kernels' constants from the consts
// argument: 1/9, hi − zp (float), lo − zp and zp (int16), and perm, which
// gathers the packed bytes row by row (see the stores).
func wino2OutQConsts() (inv, hi, lo16, zp16, perm VecVirtual) {
	inv, hi, lo16, zp16, perm = YMM(), YMM(), YMM(), YMM(), YMM()
	cs := Load(Param("consts"), GP64())
	VPBROADCASTD(Mem{Base: cs, Disp: oqInv}, inv)
	VPBROADCASTD(Mem{Base: cs, Disp: oqFHi}, hi)
	VPBROADCASTW(Mem{Base: cs, Disp: oqLoZP}, lo16)
	VPBROADCASTW(Mem{Base: cs, Disp: oqZP}, zp16)
	g := GP64()
	MOVQ(U64(0x0703060205010400), g)
	VMOVQ(g, perm.AsX())
	VPMOVZXBD(perm.AsX(), perm)
	return inv, hi, lo16, zp16, perm
}
