package main

import (
	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// The y (row) transforms of the exact int8 2-D Winograd F(4×4, 3×3)
// (kernels/conv_wino2_ew.go): element-wise streams over n elements of 6
// rows at a stride, so one vector of each row at a time, in ymm (AVX2)
// or zmm (AVX-512BW) registers; the 2-D plan calls the zmm forms where
// the CPU has them (about 1.4× faster on the int16 one, 2× on the int32
// one on Zen 5).

// vecShape is one register width's registers and unaligned move.
type vecShape struct {
	suffix string        // kernel name suffix: AVX2 or AVX512
	bytes  int           // bytes per register
	regs   []VecPhysical // the 16 registers the kernels use
	move   func(src, dst Op)
}

var (
	ymmShape = vecShape{suffix: "AVX2", bytes: 32, move: VMOVDQU,
		regs: []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}}
	zmmShape = vecShape{suffix: "AVX512", bytes: 64, move: func(a, b Op) { VMOVDQU64(a, b) },
		regs: []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15}}
)

// rowAddr holds a base pointer and the byte strides 1·s, 3·s and 5·s, so
// rows 0..5 are Base, Base+s, Base+2s, Base+3s, Base+4s, Base+5s.
type rowAddr struct{ base, s, s3, s5 Register }

// loadRowAddr loads pointer p and the element stride st of elem-byte
// elements into a rowAddr.
func loadRowAddr(p, st string, elemShift uint8) rowAddr {
	r := rowAddr{base: Load(Param(p), GP64()), s: Load(Param(st), GP64()), s3: GP64(), s5: GP64()}
	SHLQ(U8(elemShift), r.s)
	LEAQ(Mem{Base: r.s, Index: r.s, Scale: 2}, r.s3)
	LEAQ(Mem{Base: r.s, Index: r.s, Scale: 4}, r.s5)
	return r
}

// row is row i's address at the current base.
func (r rowAddr) row(i int) Mem {
	switch i {
	case 0:
		return Mem{Base: r.base}
	case 1:
		return Mem{Base: r.base, Index: r.s, Scale: 1}
	case 2:
		return Mem{Base: r.base, Index: r.s, Scale: 2}
	case 3:
		return Mem{Base: r.base, Index: r.s3, Scale: 1}
	case 4:
		return Mem{Base: r.base, Index: r.s, Scale: 4}
	}
	return Mem{Base: r.base, Index: r.s5, Scale: 1}
}

// wino2InY emits the int16 input y-transform: for i < n (a positive
// multiple of the register's lanes), the six rows d_r = src[r·srcStride
// + i] to dst[η·dstStride + i] = (Bᵀ·d)[η], with winoInS8AVX2's
// factoring (every intermediate of bounded inputs stays inside int16).
func wino2InY(v vecShape) {
	name := "wino2InY" + v.suffix
	lanes := v.bytes / 2
	TEXT(name, NOSPLIT, "func(dst *int16, dstStride int, src *int16, srcStride int, n int)")
	Pragma("noescape")
	Doc(name + " is wino2InYGo for n elements, n a positive multiple of " + itoa(lanes) + ".")
	o := loadRowAddr("dst", "dstStride", 1)
	s := loadRowAddr("src", "srcStride", 1)
	n := Load(Param("n"), GP64())
	SHRQ(U8(log2(lanes)), n)
	d := v.regs[:6]
	t0, t1, t2, t3 := v.regs[6], v.regs[7], v.regs[8], v.regs[9]
	Label("loop")
	for i := range d {
		v.move(s.row(i), d[i])
	}
	// v0 = 4·(d0 − d2) + (d4 − d2); v5 = 4·(d1 − d3) + (d5 − d3).
	VPSUBW(d[2], d[4], t2) // t2 = d4 − d2
	VPSUBW(d[2], d[0], t0)
	VPSLLW(U8(2), t0, t0)
	VPADDW(t2, t0, t0)
	v.move(t0, o.row(0))
	VPSUBW(d[3], d[5], t1)
	VPSUBW(d[3], d[1], t0)
	VPSLLW(U8(2), t0, t0)
	VPADDW(t1, t0, t0)
	v.move(t0, o.row(5))
	// t0 = d4 − 4·d2, t1 = d3 − 4·d1: v1 = t0 + t1, v2 = t0 − t1.
	VPSLLW(U8(2), d[2], t0)
	VPSUBW(t0, d[4], t0)
	VPSLLW(U8(2), d[1], t1)
	VPSUBW(t1, d[3], t1)
	VPADDW(t1, t0, t3)
	v.move(t3, o.row(1))
	VPSUBW(t1, t0, t3)
	v.move(t3, o.row(2))
	// t2 = d4 − d2, t3 = 2·(d3 − d1): v3 = t2 + t3, v4 = t2 − t3.
	VPSUBW(d[1], d[3], t3)
	VPSLLW(U8(1), t3, t3)
	VPADDW(t3, t2, t0)
	v.move(t0, o.row(3))
	VPSUBW(t3, t2, t0)
	v.move(t0, o.row(4))
	ADDQ(U32(v.bytes), s.base)
	ADDQ(U32(v.bytes), o.base)
	DECQ(n)
	JNE(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// wino2OutY emits the int32 output y-transform: for i < n (a positive
// multiple of the register's lanes), the six rows m_η = src[η·srcStride
// + i] to dst[r·dstStride + i] = (AT24·m)[r], r = 0..3, where
// AT24 = [[1,4,4,1,1,0],[0,4,-4,2,-2,0],[0,4,4,4,4,0],[0,4,-4,8,-8,4]];
// with a, b = m1 ± m2 and c, d = m3 ± m4 that is m0 + 4a + c,
// 2·(2b + d), 4·(a + c) and 4·(b + 2d + m5), in shifts and adds that
// wrap like the Go loop's multiplies.
func wino2OutY(v vecShape) {
	name := "wino2OutY" + v.suffix
	lanes := v.bytes / 4
	TEXT(name, NOSPLIT, "func(dst *int32, dstStride int, src *int32, srcStride int, n int)")
	Pragma("noescape")
	Doc(name + " is wino2OutYGo for n elements, n a positive multiple of " + itoa(lanes) + ".")
	o := loadRowAddr("dst", "dstStride", 2)
	s := loadRowAddr("src", "srcStride", 2)
	n := Load(Param("n"), GP64())
	SHRQ(U8(log2(lanes)), n)
	m := v.regs[:6]
	a, b, c, d, y := v.regs[6], v.regs[7], v.regs[8], v.regs[9], v.regs[10]
	Label("loop")
	for i := range m {
		v.move(s.row(i), m[i])
	}
	VPADDD(m[2], m[1], a)
	VPSUBD(m[2], m[1], b)
	VPADDD(m[4], m[3], c)
	VPSUBD(m[4], m[3], d)
	// r0 = m0 + 4a + c
	VPSLLD(U8(2), a, y)
	VPADDD(c, y, y)
	VPADDD(m[0], y, y)
	v.move(y, o.row(0))
	// r1 = 2·(2b + d)
	VPSLLD(U8(1), b, y)
	VPADDD(d, y, y)
	VPSLLD(U8(1), y, y)
	v.move(y, o.row(1))
	// r2 = 4·(a + c)
	VPADDD(c, a, y)
	VPSLLD(U8(2), y, y)
	v.move(y, o.row(2))
	// r3 = 4·(b + 2d + m5)
	VPSLLD(U8(1), d, y)
	VPADDD(b, y, y)
	VPADDD(m[5], y, y)
	VPSLLD(U8(2), y, y)
	v.move(y, o.row(3))
	ADDQ(U32(v.bytes), s.base)
	ADDQ(U32(v.bytes), o.base)
	DECQ(n)
	JNE(LabelRef("loop"))
	VZEROUPPER()
	RET()
}

// wino2OutXAVX2 emits the 2-D scheme's x output transform: winoOutS8AVX2
// with the division by 576 = 2⁶·9 (9·0x38E38E39 = 2³³ + 1).
func wino2OutXAVX2() {
	winoOutAVX2("wino2OutXAVX2", "wino2OutXGo", 6, 0x38E38E39)
}

func log2(x int) uint8 {
	var k uint8
	for 1<<k < x {
		k++
	}
	return k
}

func itoa(x int) string {
	if x < 10 {
		return string(rune('0' + x))
	}
	return itoa(x/10) + string(rune('0'+x%10))
}
