// Command dwgrpq generates kernels/depthwise_grpq_amd64.s and its Go
// declarations (kernels/depthwise_grpq_stubs_amd64.go) with avo: the
// tap-grouped int8/uint8 depthwise loops of package kernels (see
// kernels/depthwise_grp.go) with the output's requantization fused in,
// so that each pixel's accumulators go from registers straight to int8
// bytes instead of through an int32 buffer and a second pass. Run from
// internal/asmgen:
//
//	go run ./dwgrpq -out ../../kernels/depthwise_grpq_amd64.s -stubs ../../kernels/depthwise_grpq_stubs_amd64.go -pkg kernels
//
// The loops are those of kernels/depthwise_grp_amd64.s (VNNI's VPDPBUSD
// on 64 or 16 lanes, AVX2's VPMADDWD on 32 or 8), the start values
// holding the bias as well. The requantization is XNNPACK's float32 one,
// the TFLite runtime's for the layers its delegate takes (see
// fixedpoint.FP32Requantize and gemm.NewRequantFP32): float32(acc) times
// the lane's scale, clamped to [lo − zp, hi − zp] (integers, so clamping
// before the rounding equals after), rounded half to even by VCVTPS2DQ
// under Go's default MXCSR, plus zp. The result is inside int8, so
// VPMOVDB's truncation and AVX2's saturating packs are exact. The
// parameter block of a channel block (prm) holds zp, the float32 bounds
// lo − zp and hi − zp, then from byte 64 one float32 scale per lane.
// VNNI's stores are masked per 16 lanes by mask (bit l: lane l is a
// channel), so a block wider than the channels left never writes the
// next pixel's bytes; the AVX2 forms store every lane and run only where
// every lane is a channel.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	dotVNNIQ(4)
	dotVNNIQ(1)
	perm := permGlobal()
	maddAVX2Q(4, perm)
	maddAVX2Q(1, perm)
	Generate()
}

const sig = "func(dst *int8, dstStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int, prm *int32, mask uint64)"

// args are a loop's arguments in registers.
type args struct {
	dst, dstStride, src, step, off, offEnd, w, init, npix, prm Register
}

func loadArgs() args {
	var a args
	a.dst = Load(Param("dst"), GP64())
	a.dstStride = Load(Param("dstStride"), GP64())
	a.src = Load(Param("src"), GP64())
	a.step = Load(Param("step"), GP64())
	a.off = Load(Param("off"), GP64())
	nt := Load(Param("ntaps"), GP64())
	a.offEnd = GP64()
	LEAQ(Mem{Base: a.off, Index: nt, Scale: 8}, a.offEnd)
	a.w = Load(Param("w"), GP64())
	a.init = Load(Param("init"), GP64())
	a.npix = Load(Param("npix"), GP64())
	a.prm = Load(Param("prm"), GP64())
	return a
}

// dotVNNIQ emits dwDotX64VNNIQ (regs = 4 zmm, 64 lanes; two pixels at a
// time so that their VPDPBUSD chains overlap, then the odd one) or
// dwDotX16VNNIQ (regs = 1).
func dotVNNIQ(regs int) {
	lanes := 16 * regs
	name := fmt.Sprintf("dwDotX%dVNNIQ", lanes)
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is dwDotX%dVNNI with the float32 requantization fused: npix pixels of %d lanes to int8 at dst (stride dstStride bytes), lanes masked by mask.", name, lanes, lanes))
	a := loadArgs()
	zp, flo, fhi := Z28, Z29, Z30
	VPBROADCASTD(Mem{Base: a.prm}, zp)
	VBROADCASTSS(Mem{Base: a.prm, Disp: 4}, flo)
	VBROADCASTSS(Mem{Base: a.prm, Disp: 8}, fhi)
	ks := []OpmaskPhysical{K1, K2, K3, K4}
	m := GP64()
	Load(Param("mask"), m)
	for i := 0; i < regs; i++ {
		KMOVW(m.As32(), ks[i])
		if i+1 < regs {
			SHRQ(U8(16), m)
		}
	}
	zmm := func(i int) VecPhysical {
		return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15, Z16, Z17, Z18, Z19}[i]
	}
	// acc[p][i]: pixel p's accumulator i; in[p][i] its inputs; wt[i] the
	// weights.
	acc := func(p, i int) VecPhysical { return zmm(8*p + i) }
	in := func(p, i int) VecPhysical { return zmm(8*p + 4 + i) }
	wt := func(i int) VecPhysical { return zmm(16 + i) }
	cur, wc, t := GP64(), GP64(), GP64()
	pixels := func(pp int, label string) {
		for p := 0; p < pp; p++ {
			for i := 0; i < regs; i++ {
				VMOVDQU32(Mem{Base: a.init, Disp: 64 * i}, acc(p, i))
			}
		}
		MOVQ(a.off, cur)
		MOVQ(a.w, wc)
		Label(label)
		MOVQ(Mem{Base: cur}, t)
		ADDQ(a.src, t)
		for p := 0; p < pp; p++ {
			for i := 0; i < regs; i++ {
				if p == 0 {
					VMOVDQU32(Mem{Base: t, Disp: 64 * i}, in(p, i))
				} else {
					VMOVDQU32(Mem{Base: t, Index: a.step, Scale: 1, Disp: 64 * i}, in(p, i))
				}
			}
		}
		for i := 0; i < regs; i++ {
			VMOVDQU32(Mem{Base: wc, Disp: 64 * i}, wt(i))
		}
		for p := 0; p < pp; p++ {
			for i := 0; i < regs; i++ {
				VPDPBUSD(wt(i), in(p, i), acc(p, i))
			}
		}
		ADDQ(U32(64*regs), wc)
		ADDQ(U8(8), cur)
		CMPQ(cur, a.offEnd)
		JNE(LabelRef(label))
		for p := 0; p < pp; p++ {
			for i := 0; i < regs; i++ {
				x := acc(p, i)
				VCVTDQ2PS(x, x)
				VMULPS(Mem{Base: a.prm, Disp: 64 + 64*i}, x, x)
				VMAXPS(flo, x, x)
				VMINPS(fhi, x, x)
				VCVTPS2DQ(x, x)
				VPADDD(zp, x, x)
				VPMOVDB(x, ks[i], Mem{Base: a.dst, Disp: 16 * i})
			}
			ADDQ(a.dstStride, a.dst)
		}
	}
	CMPQ(a.npix, U8(2))
	JLT(LabelRef("one"))
	Label("pair")
	pixels(2, "pairtap")
	LEAQ(Mem{Base: a.src, Index: a.step, Scale: 2}, a.src)
	SUBQ(U8(2), a.npix)
	CMPQ(a.npix, U8(2))
	JGE(LabelRef("pair"))
	Label("one")
	TESTQ(a.npix, a.npix)
	JZ(LabelRef("done"))
	pixels(1, "onetap")
	Label("done")
	VZEROUPPER()
	RET()
}

// permGlobal emits the dword order that undoes the in-lane packs of
// maddAVX2Q's 32 lanes.
func permGlobal() Mem {
	g := GLOBL("dwqPerm", RODATA|NOPTR)
	for i, v := range []uint32{0, 4, 1, 5, 2, 6, 3, 7} {
		DATA(4*i, U32(v))
	}
	return g
}

// maddAVX2Q emits dwMaddX32AVX2Q (regs = 4 ymm, 32 lanes) or
// dwMaddX8AVX2Q (regs = 1), one pixel at a time as dwMaddX32AVX2.
func maddAVX2Q(regs int, permData Mem) {
	lanes := 8 * regs
	name := fmt.Sprintf("dwMaddX%dAVX2Q", lanes)
	TEXT(name, NOSPLIT, sig)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is dwMaddX%dAVX2 with the float32 requantization fused: npix pixels of %d lanes to int8 at dst (stride dstStride bytes); every lane is stored (mask unused).", name, lanes, lanes))
	a := loadArgs()
	zp, flo, fhi, perm := Y12, Y13, Y14, Y15
	VPBROADCASTD(Mem{Base: a.prm}, zp)
	VBROADCASTSS(Mem{Base: a.prm, Disp: 4}, flo)
	VBROADCASTSS(Mem{Base: a.prm, Disp: 8}, fhi)
	if regs == 4 {
		VMOVDQU(permData, perm)
	}
	acc := []VecPhysical{Y0, Y1, Y2, Y3}
	in := []VecPhysical{Y4, Y5, Y6, Y7}
	cur, wc, t := GP64(), GP64(), GP64()
	TESTQ(a.npix, a.npix)
	JZ(LabelRef("done"))
	Label("pix")
	for i := 0; i < regs; i++ {
		VMOVDQU(Mem{Base: a.init, Disp: 32 * i}, acc[i])
	}
	MOVQ(a.off, cur)
	MOVQ(a.w, wc)
	Label("tap")
	MOVQ(Mem{Base: cur}, t)
	for i := 0; i < regs; i++ {
		VMOVDQU(Mem{Base: a.src, Index: t, Scale: 1, Disp: 32 * i}, in[i])
	}
	for i := 0; i < regs; i++ {
		VPMADDWD(Mem{Base: wc, Disp: 32 * i}, in[i], in[i])
	}
	for i := 0; i < regs; i++ {
		VPADDD(in[i], acc[i], acc[i])
	}
	ADDQ(U32(32*regs), wc)
	ADDQ(U8(8), cur)
	CMPQ(cur, a.offEnd)
	JNE(LabelRef("tap"))
	for i := 0; i < regs; i++ {
		x := acc[i]
		VCVTDQ2PS(x, x)
		VMULPS(Mem{Base: a.prm, Disp: 64 + 32*i}, x, x)
		VMAXPS(flo, x, x)
		VMINPS(fhi, x, x)
		VCVTPS2DQ(x, x)
		VPADDD(zp, x, x)
	}
	if regs == 4 {
		// Per 128-bit half the packs interleave the four registers'
		// dwords of bytes: Y0[0:4] Y1[0:4] Y2[0:4] Y3[0:4] | Y0[4:8] …;
		// VPERMD puts each register's eight bytes back together.
		VPACKSSDW(Y1, Y0, Y0)
		VPACKSSDW(Y3, Y2, Y2)
		VPACKSSWB(Y2, Y0, Y0)
		VPERMD(Y0, perm, Y0)
		VMOVDQU(Y0, Mem{Base: a.dst})
	} else {
		VEXTRACTI128(U8(1), Y0, X1)
		VPACKSSDW(X1, X0, X0)
		VPACKSSWB(X0, X0, X0)
		VMOVQ(X0, Mem{Base: a.dst})
	}
	ADDQ(a.dstStride, a.dst)
	ADDQ(a.step, a.src)
	DECQ(a.npix)
	JNZ(LabelRef("pix"))
	Label("done")
	VZEROUPPER()
	RET()
}
