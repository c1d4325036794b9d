// Command wino8 generates kernels/conv_wino_s8_amd64.s and its Go
// declarations (kernels/conv_wino_s8_decl_amd64.go) with avo: the AVX2
// input and output transforms of the exact int8 Winograd F(4,3)
// convolution (kernels/conv_wino_s8.go), and the y transforms and the
// ÷576 x output transform of its 2-D form F(4×4, 3×3)
// (kernels/conv_wino2_ew.go, wino2.go here), both x output transforms
// with the int8 requantization fused in (outq.go), and the 2-D form's
// whole output side fused with it (outq2.go), also with a 2×2 max pool
// (outq2pool.go). Run from
// internal/asmgen:
//
//	go run ./wino8 -out ../../kernels/conv_wino_s8_amd64.s -stubs ../../kernels/conv_wino_s8_decl_amd64.go -pkg kernels
//
// All are the plain-Go loops 16 (int16) or 8 (int32) elements at a time
// per ymm register (twice that per zmm register in the AVX-512 forms of
// the 2-D y transforms), with the same integer operations: wrapping int16
// and int32 arithmetic is exact here in any order, so the results are
// bit-identical.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	winoInS8AVX2()
	winoOutS8AVX2()
	wino2InY(ymmShape)
	wino2OutY(ymmShape)
	wino2OutXAVX2()
	wino2InY(zmmShape)
	wino2OutY(zmmShape)
	winoOutQFP32AVX2()
	winoOutQFP32AVX512()
	wino2OutQFP32AVX2()
	wino2OutQPoolFP32AVX2()
	Generate()
}

// winoInS8AVX2 emits the input transform: for channel blocks of 16 below
// cv and tiles tx < tiles, the six int8 pixels d0..d5 at src + (4·tx+i)·C
// widened to int16 and Bᵀ·d stored to dst + ξ·plane + tx·C (elements).
func winoInS8AVX2() {
	TEXT("winoInS8AVX2", NOSPLIT, "func(dst *int16, plane int, src *int8, tiles, C, cv int)")
	Pragma("noescape")
	Doc("winoInS8AVX2 is winoInS8Go for channels 0..cv-1 (cv a positive multiple of 16) of tiles ≥ 1 tiles.")
	dst := Load(Param("dst"), GP64())
	plane := Load(Param("plane"), GP64())
	src := Load(Param("src"), GP64())
	C := Load(Param("C"), GP64())
	cv := Load(Param("cv"), GP64())
	SHLQ(U8(1), plane) // bytes
	SHRQ(U8(4), cv)    // channel blocks
	c4 := GP64()       // 4·C: bytes from one tile's pixels to the next's
	MOVQ(C, c4)
	SHLQ(U8(2), c4)
	c2 := GP64() // 2·C: bytes from one tile's dst to the next's
	MOVQ(C, c2)
	SHLQ(U8(1), c2)
	p3 := GP64() // 3·plane
	LEAQ(Mem{Base: plane, Index: plane, Scale: 2}, p3)
	c3 := GP64() // 3·C: pixel 3's offset
	LEAQ(Mem{Base: C, Index: C, Scale: 2}, c3)
	d := make([]VecPhysical, 6)
	for i := range d {
		d[i] = []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5}[i]
	}
	t0, t1, t2, t3 := Y6, Y7, Y8, Y9
	Label("block")
	s, o := GP64(), GP64()
	MOVQ(src, s)
	MOVQ(dst, o)
	n := GP64()
	Load(Param("tiles"), n)
	Label("tile")
	// Pixels 0-2 at s + i·C, pixels 3-5 from a second base at s + 3·C.
	s3 := GP64()
	LEAQ(Mem{Base: s, Index: c3, Scale: 1}, s3)
	VPMOVSXBW(Mem{Base: s}, d[0])
	VPMOVSXBW(Mem{Base: s, Index: C, Scale: 1}, d[1])
	VPMOVSXBW(Mem{Base: s, Index: C, Scale: 2}, d[2])
	VPMOVSXBW(Mem{Base: s3}, d[3])
	VPMOVSXBW(Mem{Base: s3, Index: C, Scale: 1}, d[4])
	VPMOVSXBW(Mem{Base: s3, Index: C, Scale: 2}, d[5])
	// v0 = 4·(d0 − d2) + (d4 − d2); v5 = 4·(d1 − d3) + (d5 − d3).
	VPSUBW(d[2], d[4], t2) // t2 = d4 − d2
	VPSUBW(d[2], d[0], t0)
	VPSLLW(U8(2), t0, t0)
	VPADDW(t2, t0, t0)
	VMOVDQU(t0, Mem{Base: o})
	VPSUBW(d[3], d[5], t1)
	VPSUBW(d[3], d[1], t0)
	VPSLLW(U8(2), t0, t0)
	VPADDW(t1, t0, t0)
	// dst + 5·plane = o + 3·plane + 2·plane
	o3 := GP64()
	LEAQ(Mem{Base: o, Index: p3, Scale: 1}, o3)
	VMOVDQU(t0, Mem{Base: o3, Index: plane, Scale: 2})
	// t0 = d4 − 4·d2, t1 = d3 − 4·d1: v1 = t0 + t1, v2 = t0 − t1.
	VPSLLW(U8(2), d[2], t0)
	VPSUBW(t0, d[4], t0)
	VPSLLW(U8(2), d[1], t1)
	VPSUBW(t1, d[3], t1)
	VPADDW(t1, t0, t3)
	VMOVDQU(t3, Mem{Base: o, Index: plane, Scale: 1})
	VPSUBW(t1, t0, t3)
	VMOVDQU(t3, Mem{Base: o, Index: plane, Scale: 2})
	// t2 = d4 − d2, t3 = 2·(d3 − d1): v3 = t2 + t3, v4 = t2 − t3.
	VPSUBW(d[1], d[3], t3)
	VPSLLW(U8(1), t3, t3)
	VPADDW(t3, t2, t0)
	VMOVDQU(t0, Mem{Base: o3})
	VPSUBW(t3, t2, t0)
	VMOVDQU(t0, Mem{Base: o3, Index: plane, Scale: 1})
	ADDQ(c4, s)
	ADDQ(c2, o)
	DECQ(n)
	JNE(LabelRef("tile"))
	ADDQ(U8(16), src)
	ADDQ(U8(32), dst)
	DECQ(cv)
	JNE(LabelRef("block"))
	VZEROUPPER()
	RET()
}

// winoOutS8AVX2 emits the 1-D output transform, which divides by 24.
func winoOutS8AVX2() {
	winoOutAVX2("winoOutS8AVX2", "winoOutS8Go", 3, 0xAAAAAAAB)
}

// winoOutAVX2 emits an output transform name (the vector form of the Go
// loop ref): for channel blocks of 8 below cv and full tiles tx < tiles,
// the products m0..m5 at src + ξ·plane + tx·N, y = Aᵀ·m, each y divided
// exactly by its divisor 2^shift·odd (arithmetic shift by shift, multiply
// by inv, odd's inverse mod 2³²) plus corr, stored to the 4 pixels at
// dst + 4·tx·N (elements). The 1-D scheme divides by 24 (3, 0xAAAAAAAB),
// the 2-D one by 576 (6, 0x38E38E39).
func winoOutAVX2(name, ref string, shift uint8, inv uint32) {
	TEXT(name, NOSPLIT, "func(dst, src *int32, plane, tiles, N, cv int, corr *int32)")
	Pragma("noescape")
	Doc(name + " is " + ref + " for channels 0..cv-1 (cv a positive multiple of 8) of tiles ≥ 1 full tiles.")
	dst := Load(Param("dst"), GP64())
	src := Load(Param("src"), GP64())
	plane := Load(Param("plane"), GP64())
	N := Load(Param("N"), GP64())
	cv := Load(Param("cv"), GP64())
	corr := Load(Param("corr"), GP64())
	SHLQ(U8(2), plane) // bytes
	SHLQ(U8(2), N)     // bytes per pixel
	SHRQ(U8(3), cv)
	p3 := GP64()
	LEAQ(Mem{Base: plane, Index: plane, Scale: 2}, p3)
	n4 := GP64() // bytes per tile of output: 4·N
	MOVQ(N, n4)
	SHLQ(U8(2), n4)
	n3 := GP64()
	LEAQ(Mem{Base: N, Index: N, Scale: 2}, n3)
	vinv := Y15
	{
		g := GP32()
		MOVL(U32(inv), g)
		VMOVD(g, vinv.AsX())
		VPBROADCASTD(vinv.AsX(), vinv)
	}
	m := []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5}
	k := Y14
	a, b, cc, dd, y := Y6, Y7, Y8, Y9, Y10
	Label("block")
	VMOVDQU(Mem{Base: corr}, k)
	s, o := GP64(), GP64()
	MOVQ(src, s)
	MOVQ(dst, o)
	n := GP64()
	Load(Param("tiles"), n)
	Label("tile")
	s3 := GP64()
	LEAQ(Mem{Base: s, Index: p3, Scale: 1}, s3)
	VMOVDQU(Mem{Base: s}, m[0])
	VMOVDQU(Mem{Base: s, Index: plane, Scale: 1}, m[1])
	VMOVDQU(Mem{Base: s, Index: plane, Scale: 2}, m[2])
	VMOVDQU(Mem{Base: s3}, m[3])
	VMOVDQU(Mem{Base: s3, Index: plane, Scale: 1}, m[4])
	VMOVDQU(Mem{Base: s3, Index: plane, Scale: 2}, m[5])
	VPADDD(m[2], m[1], a)
	VPSUBD(m[2], m[1], b)
	VPADDD(m[4], m[3], cc)
	VPSUBD(m[4], m[3], dd)
	finish := func(dstMem Mem) {
		VPSRAD(U8(shift), y, y)
		VPMULLD(vinv, y, y)
		VPADDD(k, y, y)
		VMOVDQU(y, dstMem)
	}
	// y0 = m0 + a + cc
	VPADDD(a, m[0], y)
	VPADDD(cc, y, y)
	finish(Mem{Base: o})
	// y1 = b + 2·dd
	VPSLLD(U8(1), dd, y)
	VPADDD(b, y, y)
	finish(Mem{Base: o, Index: N, Scale: 1})
	// y2 = a + 4·cc
	VPSLLD(U8(2), cc, y)
	VPADDD(a, y, y)
	finish(Mem{Base: o, Index: N, Scale: 2})
	// y3 = m5 + b + 8·dd
	VPSLLD(U8(3), dd, y)
	VPADDD(b, y, y)
	VPADDD(m[5], y, y)
	finish(Mem{Base: o, Index: n3, Scale: 1})
	ADDQ(N, s)
	ADDQ(n4, o)
	DECQ(n)
	JNE(LabelRef("tile"))
	ADDQ(U8(32), src)
	ADDQ(U8(32), dst)
	ADDQ(U8(32), corr)
	DECQ(cv)
	JNE(LabelRef("block"))
	VZEROUPPER()
	RET()
}
