// Command x16 generates kernels/gemm16x8_amd64.s and its Go declarations
// (kernels/gemm16x8_stubs_amd64.go) with avo: the pair-product tiles of
// the 16x8 (int16 activations, int8 weights) CONV_2D and FULLY_CONNECTED
// kernels, their int64 epilogue (kernels/gemm16x8.go) and the 16x8
// DEPTHWISE_CONV_2D's pixel sums (kernels/depthwise16x8.go). Run from
// internal/asmgen:
//
//	go run ./x16 -out ../../kernels/gemm16x8_amd64.s -stubs ../../kernels/gemm16x8_stubs_amd64.go -pkg kernels
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	for _, t := range [][2]int{{4, 4}, {8, 2}, {8, 1}} {
		x16Tile("AVX512", t[0], t[1])
		x16Tile("VNNI", t[0], t[1])
	}
	for _, t := range [][2]int{{4, 2}, {8, 1}} {
		x16Tile("AVX2", t[0], t[1])
	}
	x16Requant64AVX512()
	x16Requant64AVX2()
	x16Depthwise("AVX512")
	x16Depthwise("AVX2")
	Generate()
}

// x16Tile emits c[i][j] = Σ_p a[i][2p]·b[p][j][0] + a[i][2p+1]·b[p][j][1]
// in wrapping int32 for an mr×(lanes·nv) tile: a is mr rows of 2·kp int16
// (row i at a + i·lda elements), b a packed panel of kp steps of nr int16
// pairs, c the tile stored row by row (ldc = nr). Each step broadcasts a
// row's pair as one dword and multiplies it with the panel's pairs
// (VPMADDWD, whose pair sums cannot overflow: the weights are int8
// values), adding into one accumulator per row and vector; the VNNI form
// fuses the two (VPDPWSSD, wrapping as VPADDD does). Rows are addressed
// from one pointer with index registers lda, 3·lda, 5·lda and 7·lda.
func x16Tile(isa string, mr, nv int) {
	lanes, vb := 16, 64
	vec := func() VecVirtual { return ZMM() }
	if isa == "AVX2" {
		lanes, vb = 8, 32
		vec = func() VecVirtual { return YMM() }
	}
	nr := lanes * nv
	name := fmt.Sprintf("x16%sx%dx%d", isa, mr, nr)
	TEXT(name, NOSPLIT, "func(kp int, a *int16, lda int, b *int16, c *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets the %d×%d int32 tile c to the pair products of %d rows of a (2·kp int16 each, lda apart) and the packed panel b (kp ≥ 1 steps of %d int16 pairs), wrapping.", name, mr, nr, mr, nr))
	kp := Load(Param("kp"), GP64())
	a := Load(Param("a"), GP64())
	l1 := Load(Param("lda"), GP64())
	b := Load(Param("b"), GP64())
	c := Load(Param("c"), GP64())
	SHLQ(U8(1), l1) // bytes
	var l3, l5, l7 GPVirtual
	if mr > 3 {
		l3 = GP64()
		LEAQ(Mem{Base: l1, Index: l1, Scale: 2}, l3)
	}
	if mr > 5 {
		l5 = GP64()
		LEAQ(Mem{Base: l1, Index: l1, Scale: 4}, l5)
	}
	if mr > 7 {
		l7 = GP64()
		LEAQ(Mem{Base: l3, Index: l1, Scale: 4}, l7)
	}
	row := func(i int) Mem {
		switch i {
		case 0:
			return Mem{Base: a}
		case 1:
			return Mem{Base: a, Index: l1, Scale: 1}
		case 2:
			return Mem{Base: a, Index: l1, Scale: 2}
		case 3:
			return Mem{Base: a, Index: l3, Scale: 1}
		case 4:
			return Mem{Base: a, Index: l1, Scale: 4}
		case 5:
			return Mem{Base: a, Index: l5, Scale: 1}
		case 6:
			return Mem{Base: a, Index: l3, Scale: 2}
		case 7:
			return Mem{Base: a, Index: l7, Scale: 1}
		}
		panic("row")
	}
	acc := make([][]VecVirtual, mr)
	for i := range acc {
		acc[i] = make([]VecVirtual, nv)
		for v := range acc[i] {
			acc[i][v] = vec()
			if isa == "AVX2" {
				VPXOR(acc[i][v], acc[i][v], acc[i][v])
			} else {
				VPXORD(acc[i][v], acc[i][v], acc[i][v])
			}
		}
	}
	bv := make([]VecVirtual, nv)
	for v := range bv {
		bv[v] = vec()
	}
	x, t := vec(), vec()
	Label("step")
	for v := range bv {
		if isa == "AVX2" {
			VMOVDQU(Mem{Base: b, Disp: v * vb}, bv[v])
		} else {
			VMOVDQU64(Mem{Base: b, Disp: v * vb}, bv[v])
		}
	}
	for i := 0; i < mr; i++ {
		VPBROADCASTD(row(i), x)
		for v := range bv {
			if isa == "VNNI" {
				VPDPWSSD(bv[v], x, acc[i][v])
				continue
			}
			VPMADDWD(bv[v], x, t)
			VPADDD(t, acc[i][v], acc[i][v])
		}
	}
	ADDQ(U8(4), a)
	ADDQ(U32(nr*4), b)
	DECQ(kp)
	JNZ(LabelRef("step"))
	for i := range acc {
		for v := range acc[i] {
			m := Mem{Base: c, Disp: (i*nr + v*lanes) * 4}
			if isa == "AVX2" {
				VMOVDQU(acc[i][v], m)
			} else {
				VMOVDQU32(acc[i][v], m)
			}
		}
	}
	VZEROUPPER()
	RET()
}

// requantSig is the signature of the int64 epilogues: dst[j] =
// clamp(int32((acc[j]+bias[j])·red[j]+half[j] >> tot[j]) + zp, lo, hi) for
// n values (a multiple of the vector's lanes), the product and sum
// wrapping in int64 as TFLite's MultiplyByQuantizedMultiplier (int64
// form, reduced 16-bit multiplier) does; itot[j] = 64 − tot[j].
const requantSig = "func(acc *int32, bias, red, half, tot, itot *int64, dst *int16, n int, zp, lo, hi int32)"

// mul64 emits x = x·r (mod 2^64) for a non-negative r < 2^32 in every
// lane: x·r = lo32(x)·r + (hi32(x)·r)·2^32, two unsigned 32×32 products.
func mul64(x, r, h Register) {
	VPSRLQ(U8(32), x, h)
	VPMULUDQ(r, h, h)
	VPMULUDQ(r, x, x)
	VPSLLQ(U8(32), h, h)
	VPADDQ(h, x, x)
}

// x16Requant64AVX512 emits the int64 epilogue 16 values a step: two
// halves of 8 int64 lanes, narrowed to int32 (truncating, as C's cast),
// joined, offset, clamped and narrowed to int16.
func x16Requant64AVX512() {
	TEXT("x16Requant64AVX512", NOSPLIT, requantSig)
	Pragma("noescape")
	Doc("x16Requant64AVX512 is the 16x8 int64 epilogue on 16 values a step (n a multiple of 16); see requantSig in internal/asmgen/x16.")
	acc := Load(Param("acc"), GP64())
	bias := Load(Param("bias"), GP64())
	red := Load(Param("red"), GP64())
	half := Load(Param("half"), GP64())
	tot := Load(Param("tot"), GP64())
	dst := Load(Param("dst"), GP64())
	n := Load(Param("n"), GP64())
	zp, lo, hi := ZMM(), ZMM(), ZMM()
	bcast32("zp", zp)
	bcast32("lo", lo)
	bcast32("hi", hi)
	i := GP64()
	XORQ(i, i)
	x, y, h, r := ZMM(), ZMM(), ZMM(), ZMM()
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("step")
	half8 := func(k int, out VecVirtual) {
		VPMOVSXDQ(Mem{Base: acc, Index: i, Scale: 4, Disp: 32 * k}, out)
		VPADDQ(Mem{Base: bias, Index: i, Scale: 8, Disp: 64 * k}, out, out)
		VMOVDQU64(Mem{Base: red, Index: i, Scale: 8, Disp: 64 * k}, r)
		mul64(out, r, h)
		VPADDQ(Mem{Base: half, Index: i, Scale: 8, Disp: 64 * k}, out, out)
		VPSRAVQ(Mem{Base: tot, Index: i, Scale: 8, Disp: 64 * k}, out, out)
	}
	half8(0, x)
	half8(1, y)
	VPMOVQD(x, x.AsY())
	VPMOVQD(y, y.AsY())
	VINSERTI64X4(U8(1), y.AsY(), x, x)
	VPADDD(zp, x, x)
	VPMAXSD(lo, x, x)
	VPMINSD(hi, x, x)
	VPMOVDW(x, Mem{Base: dst, Index: i, Scale: 2})
	ADDQ(U8(16), i)
	CMPQ(i, n)
	JB(LabelRef("step"))
	Label("done")
	VZEROUPPER()
	RET()
}

// x16Requant64AVX2 emits the int64 epilogue 4 values a step. AVX2 has no
// arithmetic 64-bit shift: the logical one is ORed with the sign mask
// shifted left by 64 − tot (tot is 1…63).
func x16Requant64AVX2() {
	TEXT("x16Requant64AVX2", NOSPLIT, requantSig)
	Pragma("noescape")
	Doc("x16Requant64AVX2 is the 16x8 int64 epilogue on 4 values a step (n a multiple of 4); see requantSig in internal/asmgen/x16.")
	acc := Load(Param("acc"), GP64())
	bias := Load(Param("bias"), GP64())
	red := Load(Param("red"), GP64())
	half := Load(Param("half"), GP64())
	tot := Load(Param("tot"), GP64())
	itot := Load(Param("itot"), GP64())
	dst := Load(Param("dst"), GP64())
	n := Load(Param("n"), GP64())
	zp, lo, hi := XMM(), XMM(), XMM()
	bcast32("zp", zp)
	bcast32("lo", lo)
	bcast32("hi", hi)
	zero := YMM()
	VPXOR(zero, zero, zero)
	i := GP64()
	XORQ(i, i)
	x, h, r, m := YMM(), YMM(), YMM(), YMM()
	TESTQ(n, n)
	JZ(LabelRef("done"))
	Label("step")
	VPMOVSXDQ(Mem{Base: acc, Index: i, Scale: 4}, x)
	VPADDQ(Mem{Base: bias, Index: i, Scale: 8}, x, x)
	VMOVDQU(Mem{Base: red, Index: i, Scale: 8}, r)
	mul64(x, r, h)
	VPADDQ(Mem{Base: half, Index: i, Scale: 8}, x, x)
	VPCMPGTQ(x, zero, m) // all ones where x < 0
	VPSRLVQ(Mem{Base: tot, Index: i, Scale: 8}, x, x)
	VPSLLVQ(Mem{Base: itot, Index: i, Scale: 8}, m, m)
	VPOR(m, x, x)
	// Low dwords of the four lanes into the low 128 bits.
	VPSHUFD(U8(0x08), x, x)
	VPERMQ(U8(0x08), x, x)
	VPADDD(zp, x.AsX(), x.AsX())
	VPMAXSD(lo, x.AsX(), x.AsX())
	VPMINSD(hi, x.AsX(), x.AsX())
	VPACKSSDW(x.AsX(), x.AsX(), x.AsX())
	VMOVQ(x.AsX(), Mem{Base: dst, Index: i, Scale: 2})
	ADDQ(U8(4), i)
	CMPQ(i, n)
	JB(LabelRef("step"))
	Label("done")
	VZEROUPPER()
	RET()
}

// bcast32 broadcasts the int32 parameter name into every lane of v.
func bcast32(name string, v VecVirtual) {
	g := Load(Param(name), GP32())
	x := XMM()
	MOVD(g, x)
	VPBROADCASTD(x, v)
}

// x16Depthwise emits one output pixel's depthwise sums for the first c
// channels (a multiple of the lanes): acc[ch] = Σ_t x[xoff[t]+ch] ·
// w[woff[t]+ch] in int32 over taps window taps, x int16 and w the int8
// weights widened to int32. Each block of channels keeps its sum in one
// register across the taps (VPMOVSXWD, VPMULLD, VPADDD); the caller
// bounds the taps so that the sums cannot wrap.
func x16Depthwise(isa string) {
	lanes := 16
	vec := func() VecVirtual { return ZMM() }
	if isa == "AVX2" {
		lanes = 8
		vec = func() VecVirtual { return YMM() }
	}
	name := "x16Dw" + isa
	TEXT(name, NOSPLIT, "func(x *int16, xoff, woff *int64, taps int, w *int32, c int, acc *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets acc[ch] = Σ_t x[xoff[t]+ch]·w[woff[t]+ch] (int32) for ch < c, c a multiple of %d, taps ≥ 1.", name, lanes))
	x := Load(Param("x"), GP64())
	xoff := Load(Param("xoff"), GP64())
	woff := Load(Param("woff"), GP64())
	taps := Load(Param("taps"), GP64())
	w := Load(Param("w"), GP64())
	c := Load(Param("c"), GP64())
	acc := Load(Param("acc"), GP64())
	ch, t, xo, wo := GP64(), GP64(), GP64(), GP64()
	a, v := vec(), vec()
	XORQ(ch, ch)
	TESTQ(c, c)
	JZ(LabelRef("done"))
	Label("block")
	if isa == "AVX2" {
		VPXOR(a, a, a)
	} else {
		VPXORD(a, a, a)
	}
	XORQ(t, t)
	Label("tap")
	MOVQ(Mem{Base: xoff, Index: t, Scale: 8}, xo)
	MOVQ(Mem{Base: woff, Index: t, Scale: 8}, wo)
	ADDQ(ch, xo)
	ADDQ(ch, wo)
	VPMOVSXWD(Mem{Base: x, Index: xo, Scale: 2}, v)
	VPMULLD(Mem{Base: w, Index: wo, Scale: 4}, v, v)
	VPADDD(v, a, a)
	INCQ(t)
	CMPQ(t, taps)
	JB(LabelRef("tap"))
	if isa == "AVX2" {
		VMOVDQU(a, Mem{Base: acc, Index: ch, Scale: 4})
	} else {
		VMOVDQU32(a, Mem{Base: acc, Index: ch, Scale: 4})
	}
	ADDQ(U8(lanes), ch)
	CMPQ(ch, c)
	JB(LabelRef("block"))
	Label("done")
	VZEROUPPER()
	RET()
}
