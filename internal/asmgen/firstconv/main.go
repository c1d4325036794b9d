// Command firstconv generates package kernels' direct int8 first-layer
// convolution kernel (kernels/conv_first_s8_amd64.s and its Go
// declarations, kernels/conv_first_s8_decl_amd64.go) with avo. Run from
// internal/asmgen:
//
//	go run ./firstconv -out ../../kernels/conv_first_s8_amd64.s -stubs ../../kernels/conv_first_s8_decl_amd64.go -pkg kernels
//
// A first layer (an RGB image, a 3×3 window, 16 output channels) has
// only 27 products per output, so the GEMM kernels, which hold output
// channels in the vector lanes, pad each 9-byte window row to 12 and
// spend a broadcast per VPDPBUSD and a full requantization per 16
// outputs of one pixel. This kernel turns the layout around: the lanes
// are 16 neighbouring output pixels of one row, so a k-quad of all 16 is
// one VPERMI2B of two window rows of the padded image (each 16 pixels'
// window row spans at most 64 bytes), K is padded only to a multiple of
// 4 (27 → 28), and each channel's weights are VPDPBUSD's embedded
// broadcast operand. The 16×16 int32 tile is requantized a channel per
// vector and transposed to NHWC bytes with packs and in-lane shuffles.
// The BW forms gather without VBMI (see convFirstS8VNNI's bw); the BW16
// forms multiply-add exact int16 pairs for AVX-512BW CPUs without VNNI.
package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	convFirstS8VNNI("convFirstS8VNNI", true, false, false)
	convFirstS8VNNI("convFirstS8VNNINoMin", false, false, false)
	convFirstS8VNNI("convFirstS8BW", true, true, false)
	convFirstS8VNNI("convFirstS8BWNoMin", false, true, false)
	convFirstS8VNNI("convFirstS8BW16", true, true, true)
	convFirstS8VNNI("convFirstS8BW16NoMin", false, true, true)
	Generate()
}

func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

func xmm(i int) VecPhysical {
	return []VecPhysical{X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15,
		X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30, X31}[i]
}

// convFirstS8VNNI emits one 16-pixel × 16-channel tile of the direct
// first-layer conv (kernels/conv_first_s8.go documents the tables):
//
//	acc[c][i] = init[c] + Σ_q Σ_t A_q[i][t]·w[q][c][t]
//	A_q       = VPERMI2B(idx[q], a[offs[2q]:+64], a[offs[2q+1]:+64])
//	out[i·ldo + c] = clamp(sat8(sat16(round(min(float32(acc)·scale[c], fhi))) +sat zp), lo, hi)
//
// for pixels i < npix and the channels whose bit is set in cmask. a is
// u8-offset (each byte XOR 0x80); init holds the bias and the offset's
// zero-point terms. The integer tail is XNNPACK's float32 requantization
// (fixedpoint.FP32Requantize) reordered: its float clamp to
// [lo−zp, hi−zp] equals, on the rounded integers, a clamp of v+zp to
// [lo, hi], and the int16 saturations cannot move a value across the
// bounds (|zp| ≤ 255); only the upper float clamp must stay, because
// VCVTPS2DQ turns a too-large positive value into −2^31.
//
// With clampHi false the float clamp is left out: the caller knows no
// accumulator can reach 2^31 after scaling (its bound
// |bias| + 255·Σ|w| times the scale stays below 2^30), and then the
// saturating packs clamp as the float minimum would.
//
// With bw set the gather uses no VBMI (AVX-512 VNNI CPUs without it:
// Cascade Lake): offs holds per quad the offsets of its one or two parts
// (the window bytes from one row; −1 for no second part) and idx two
// 64-byte VPSHUFB patterns. A part is one VPERMD of the 64 bytes at its
// offset — lane L gets dwords L·inC..L·inC+3, the 16 bytes from its first
// pixel (indices at k[32:48]) — and one in-lane VPSHUFB that picks each
// pixel's bytes and zeroes the other part's; the parts are ORed.
//
// With i16 set (bw too: AVX-512BW CPUs without VNNI, Skylake-SP) the
// multiply-add is exact int16 pairs instead of VPDPBUSD: the quad's
// bytes 0, 2 and 1, 3 widened to words (u8: 0..255), two VPMADDWDs with
// the channel's (w0, w2) and (w1, w3) int16 pairs, pre-broadcast in w
// (quad q, channel c at w + 2048q + 128c: VPMADDWD has no embedded
// broadcast), and two VPADDDs.
func convFirstS8VNNI(name string, clampHi, bw, i16 bool) {
	TEXT(name, NOSPLIT, "func(nq int, a *int8, offs *int64, idx *byte, w *int8, init *int32, scale *float32, k *int32, out *int8, ldo, npix int, cmask uint64, astep int)")
	Pragma("noescape")
	doc := "(see convFirstS8Ref for the arithmetic and conv_first_s8.go for the tables' layout)."
	if !clampHi {
		doc = "without the float clamp, for layers whose scaled accumulators stay below 2^30 " + doc
	}
	Doc(name+" stores one 16-pixel × 16-channel tile of the direct int8 first-layer convolution", doc)
	acc := func(c int) VecPhysical { return zmm(c) }
	ra, av := zmm(16), zmm(17)

	// One call covers an output row: tiles of 16 pixels, a moving on by
	// astep bytes and out by 16·ldo per tile, the last tile partial.
	Label("tile")
	cnt := Load(Param("nq"), GP64())
	a := Load(Param("a"), GP64())
	offs := Load(Param("offs"), GP64())
	idx := Load(Param("idx"), GP64())
	w := Load(Param("w"), GP64())
	{
		ini := Load(Param("init"), GP64())
		for c := 0; c < 16; c++ {
			VPBROADCASTD(Mem{Base: ini, Disp: 4 * c}, acc(c))
		}
	}
	oa, ob := GP64(), GP64()
	perm := zmm(24)
	if bw {
		kp := Load(Param("k"), GP64())
		VMOVDQU64(Mem{Base: kp, Disp: 128}, perm)
		if i16 {
			VPBROADCASTD(Mem{Base: kp, Disp: 16}, zmm(27))
		}
	}
	Label("quad")
	MOVQ(Mem{Base: offs}, oa)
	MOVQ(Mem{Base: offs, Disp: 8}, ob)
	if bw {
		VPERMD(Mem{Base: a, Index: oa, Scale: 1}, perm, av)
		VPSHUFB(Mem{Base: idx}, av, av)
		TESTQ(ob, ob)
		JS(LabelRef("onepart"))
		VPERMD(Mem{Base: a, Index: ob, Scale: 1}, perm, ra)
		VPSHUFB(Mem{Base: idx, Disp: 64}, ra, ra)
		VPORQ(ra, av, av)
		Label("onepart")
	} else {
		VMOVDQU64(Mem{Base: a, Index: oa, Scale: 1}, ra)
		VMOVDQU64(Mem{Base: idx}, av)
		VPERMI2B(Mem{Base: a, Index: ob, Scale: 1}, ra, av)
	}
	if i16 {
		lo, hi := zmm(25), zmm(26)
		VPANDD(zmm(27), av, lo)
		VPSRLW(U8(8), av, hi)
		for c := 0; c < 16; c++ {
			t0, t1 := zmm(28+2*(c%2)), zmm(29+2*(c%2))
			VPMADDWD(Mem{Base: w, Disp: 128 * c}, lo, t0)
			VPMADDWD(Mem{Base: w, Disp: 128*c + 64}, hi, t1)
			VPADDD(t1, t0, t0)
			VPADDD(t0, acc(c), acc(c))
		}
	} else {
		for c := 0; c < 16; c++ {
			VPDPBUSD_BCST(Mem{Base: w, Disp: 4 * c}, av, acc(c))
		}
	}
	ADDQ(U8(16), offs)
	if bw {
		ADDQ(U8(128), idx)
	} else {
		ADDQ(U8(64), idx)
	}
	if i16 {
		ADDQ(U32(2048), w)
	} else {
		ADDQ(U8(64), w)
	}
	DECQ(cnt)
	JNE(LabelRef("quad"))

	// Requantize: a channel per register, pixels in the lanes.
	kp := Load(Param("k"), GP64())
	sc := Load(Param("scale"), GP64())
	fhi, zp, lo, hi, shuf := zmm(18), zmm(19), zmm(20), zmm(21), zmm(22)
	if clampHi {
		VBROADCASTSS(Mem{Base: kp, Disp: 4}, fhi)
	}
	for c := 0; c < 16; c++ {
		VCVTDQ2PS(acc(c), acc(c))
		VMULPS_BCST(Mem{Base: sc, Disp: 4 * c}, acc(c), acc(c))
		if clampHi {
			VMINPS(fhi, acc(c), acc(c))
		}
		VCVTPS2DQ(acc(c), acc(c))
	}
	// int32 → int16 (saturating) pairs of channels, + zp saturating.
	VPBROADCASTW(Mem{Base: kp}, zp)
	for m := 0; m < 8; m++ {
		VPACKSSDW(acc(2*m+1), acc(2*m), acc(2*m))
		VPADDSW(zp, acc(2*m), acc(2*m))
	}
	// int16 → int8: Y_g (in acc(4g)) lane L byte 4c'+j is channel 4g+c'
	// of pixel 4L+j; clamp, then transpose each lane's 4×4 bytes so that
	// dword j holds pixel 4L+j's four channels.
	VPBROADCASTB(Mem{Base: kp, Disp: 8}, lo)
	VPBROADCASTB(Mem{Base: kp, Disp: 12}, hi)
	VMOVDQU64(Mem{Base: kp, Disp: 64}, shuf)
	for g := 0; g < 4; g++ {
		y := acc(4 * g)
		VPACKSSWB(acc(4*g+2), y, y)
		VPMAXSB(lo, y, y)
		VPMINSB(hi, y, y)
		VPSHUFB(shuf, y, y)
	}
	// 4×4 dword transpose across Y_0..Y_3 in each lane: P_j lane L is
	// pixel 4L+j's 16 channels.
	y0, y1, y2, y3 := acc(0), acc(4), acc(8), acc(12)
	t0, t1, t2, t3 := acc(1), acc(2), acc(3), acc(5)
	VPUNPCKLDQ(y1, y0, t0)
	VPUNPCKHDQ(y1, y0, t1)
	VPUNPCKLDQ(y3, y2, t2)
	VPUNPCKHDQ(y3, y2, t3)
	p := []int{6, 7, 9, 10}
	VPUNPCKLQDQ(t2, t0, acc(p[0]))
	VPUNPCKHQDQ(t2, t0, acc(p[1]))
	VPUNPCKLQDQ(t3, t1, acc(p[2]))
	VPUNPCKHQDQ(t3, t1, acc(p[3]))

	out := Load(Param("out"), GP64())
	ldo := Load(Param("ldo"), GP64())
	np := Load(Param("npix"), GP64())
	m := GP64()
	Load(Param("cmask"), m)
	// A whole tile (16 pixels, 16 channels) needs no masks or pixel
	// count checks; with ldo = 16 (a 16-channel layer) it is 256
	// contiguous bytes, four 128-bit-lane transposes away.
	CMPQ(np, U8(16))
	JL(LabelRef("partial"))
	CMPQ(m, U32(0xffff))
	JNE(LabelRef("partial"))
	CMPQ(ldo, U8(16))
	JNE(LabelRef("strided"))
	{
		// P_j lane L is pixel 4L+j; output vector L holds pixels 4L..4L+3,
		// lane j of it from P_j lane L.
		p0, p1, p2, p3 := acc(p[0]), acc(p[1]), acc(p[2]), acc(p[3])
		u0, u1, u2, u3 := acc(11), acc(13), acc(14), acc(15)
		VSHUFI32X4(U8(0x44), p1, p0, u0) // P0.l0 P0.l1 P1.l0 P1.l1
		VSHUFI32X4(U8(0xee), p1, p0, u1) // P0.l2 P0.l3 P1.l2 P1.l3
		VSHUFI32X4(U8(0x44), p3, p2, u2) // P2.l0 P2.l1 P3.l0 P3.l1
		VSHUFI32X4(U8(0xee), p3, p2, u3) // P2.l2 P2.l3 P3.l2 P3.l3
		VSHUFI32X4(U8(0x88), u2, u0, p0) // P0.l0 P1.l0 P2.l0 P3.l0
		VSHUFI32X4(U8(0xdd), u2, u0, p1) // P0.l1 P1.l1 P2.l1 P3.l1
		VSHUFI32X4(U8(0x88), u3, u1, p2) // l2
		VSHUFI32X4(U8(0xdd), u3, u1, p3) // l3
		for l, v := range []VecPhysical{p0, p1, p2, p3} {
			VMOVDQU64(v, Mem{Base: out, Disp: 64 * l})
		}
		JMP(LabelRef("done"))
	}
	Label("strided")
	for i := 0; i < 16; i++ {
		l, j := i/4, i%4
		if l == 0 {
			VMOVDQU(xmm(p[j]), Mem{Base: out})
		} else {
			VEXTRACTI32X4(U8(l), acc(p[j]), Mem{Base: out})
		}
		ADDQ(ldo, out)
	}
	JMP(LabelRef("done"))
	Label("partial")
	KMOVQ(m, K1)
	tmp := xmm(23)
	for i := 0; i < 16; i++ {
		CMPQ(np, U8(i))
		JLE(LabelRef("done"))
		l, j := i/4, i%4
		src := xmm(p[j])
		if l > 0 {
			VEXTRACTI32X4(U8(l), acc(p[j]), tmp)
			src = tmp
		}
		VMOVDQU8(src, K1, Mem{Base: out})
		ADDQ(ldo, out)
	}
	Label("done")
	{
		r := GP64()
		Load(Param("a"), r)
		ADDQ(NewParamAddr("astep", 96), r)
		Store(r, Param("a"))
		o, l := GP64(), GP64()
		Load(Param("out"), o)
		Load(Param("ldo"), l)
		SHLQ(U8(4), l)
		ADDQ(l, o)
		Store(o, Param("out"))
		n := GP64()
		Load(Param("npix"), n)
		SUBQ(U8(16), n)
		Store(n, Param("npix"))
		JG(LabelRef("tile"))
	}
	VZEROUPPER()
	RET()
}
