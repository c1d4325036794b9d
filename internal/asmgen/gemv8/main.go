// Command gemv8 generates kernels/gemm/s8nib_amd64.s and its Go
// declarations (kernels/gemm/s8nib_decl_amd64.go) with avo: the one-row
// int8 product of the AVX2 int16-pair family (AVX2 without VNNI) that
// multiplies bytes with VPMADDUBSW instead of widening the weights, and
// the loop that splits its input row into nibbles. Run from internal/asmgen:
//
//	go run ./gemv8 -out ../../kernels/gemm/s8nib_amd64.s -stubs ../../kernels/gemm/s8nib_decl_amd64.go -pkg gemm
//
// A dense layer at batch 1 streams its weights once; the few-row
// kernels (s8_avx2_row.go) sign-extend each weight byte (VPMOVSXBW, a
// shuffle) and then multiply int16 pairs (VPMADDWD) and add (VPADDD): six
// vector operations per 32 multiply-adds, and that, not memory, is their
// speed. VPMADDUBSW multiplies unsigned by signed bytes and adds adjacent
// pairs into int16 with saturation, so it is exact only for small
// unsigned operands. Here the unsigned operand is the input row: each
// byte x+128 (0..255) split into nibbles lo and hi (0..15), so
// x+128 = 16·hi + lo, and a pair of products lo·w is at most 2·15·128 =
// 3840 in magnitude. Eight k-quad steps of such pairs add up in int16
// (VPADDW) without overflow (≤ 30720), then VPMADDWD by 1 (lo) and 16
// (hi) widens them to int32: per 32 multiply-adds 2 VPMADDUBSW and 2
// VPADDW, plus a quarter of the 4 widening operations, 4.5 in all.
// Every step is exact integer arithmetic (int32 wraps), so the sums are
// bit-identical to the int16-pair kernels'.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// nibBlock is the number of k-quad steps summed in int16 before the
// sums are widened: 8·2·15·128 = 30720 ≤ 32767.
const nibBlock = 8

func main() {
	ConstraintExpr("!noasm")
	s8Nib(false)
	nibSplitAVX2()
	Generate()
}

func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

// s8Nib emits s8NibAVX2x1x16 (ymm, 16 columns) or with zmm
// s8NibAVX512Wx1x64 (64 columns; not emitted: on the AVX-512BW family
// the zmm few-row kernels measured faster, 3200→256 7.9 against 8.6 µs): c[j] = init[j] + Σ_q Σ_{t<4}
// (16·hi[q][t] + lo[q][t])·b[q][j][t] for k4 quads; lo and hi hold 4
// bytes per quad (the nibbles of the row's x+128), b the u8-quad panel
// (k4 steps of nr columns × 4 signed bytes).
func s8Nib(zmmRegs bool) {
	vec, width, nv, name := ymm, 32, 2, "s8NibAVX2x1x16"
	if zmmRegs {
		vec, width, nv, name = zmm, 64, 4, "s8NibAVX512Wx1x64"
	}
	nr := nv * width / 4
	step := nr * 4 // weight bytes per k quad
	TEXT(name, NOSPLIT, "func(k4 int, lo, hi *uint8, b *int8, c *int32, init *int32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s stores init plus the products of one input row, given as the nibble panels lo and hi (k4×4 bytes each, 16·hi + lo = x+128), and the u8-quad panel b (k4×%d×4 signed bytes) into the %d int32s at c.", name, nr, nr))
	k := Load(Param("k4"), GP64())
	lo := Load(Param("lo"), GP64())
	hi := Load(Param("hi"), GP64())
	b := Load(Param("b"), GP64())
	ini := Load(Param("init"), GP64())
	// Registers: int32 sums, int16 lo and hi sums, the two broadcasts,
	// weight vectors, products, the constants 1 and 16.
	r := 0
	next := func(n int) []VecPhysical {
		v := make([]VecPhysical, n)
		for i := range v {
			v[i] = vec(r)
			r++
		}
		return v
	}
	acc, sl, sh := next(nv), next(nv), next(nv)
	bl, bh := vec(r), vec(r+1)
	r += 2
	w, prod := next(nv), next(2*nv)
	one, sixteen := vec(r), vec(r+1)
	if r+2 > 16*width/32 {
		panic("s8Nib: registers")
	}
	mov := func(src, dst Op) {
		if zmmRegs {
			VMOVDQU32(src, dst)
		} else {
			VMOVDQU(src, dst)
		}
	}
	for v := 0; v < nv; v++ {
		mov(Mem{Base: ini, Disp: width * v}, acc[v])
	}
	// 1 and 16 as int16 lanes.
	if zmmRegs {
		VPTERNLOGD(U8(0xff), one, one, one)
	} else {
		VPCMPEQW(one, one, one)
	}
	VPSRLW(U8(15), one, one)
	VPSLLW(U8(4), one, sixteen)
	// kstep multiplies quad u (bytes 4u of lo/hi, step·u of b); the
	// first step of a block stores the int16 sums, the others add.
	kstep := func(u int, first bool) {
		VPBROADCASTD(Mem{Base: lo, Disp: 4 * u}, bl)
		VPBROADCASTD(Mem{Base: hi, Disp: 4 * u}, bh)
		for v := 0; v < nv; v++ {
			mov(Mem{Base: b, Disp: step*u + width*v}, w[v])
		}
		for v := 0; v < nv; v++ {
			if first {
				VPMADDUBSW(w[v], bl, sl[v])
				VPMADDUBSW(w[v], bh, sh[v])
				continue
			}
			VPMADDUBSW(w[v], bl, prod[2*v])
			VPMADDUBSW(w[v], bh, prod[2*v+1])
			VPADDW(prod[2*v], sl[v], sl[v])
			VPADDW(prod[2*v+1], sh[v], sh[v])
		}
	}
	// flush widens the int16 sums into the int32 ones.
	flush := func() {
		for v := 0; v < nv; v++ {
			VPMADDWD(one, sl[v], prod[2*v])
			VPMADDWD(sixteen, sh[v], prod[2*v+1])
		}
		for v := 0; v < nv; v++ {
			VPADDD(prod[2*v], acc[v], acc[v])
			VPADDD(prod[2*v+1], acc[v], acc[v])
		}
	}
	q := GP64()
	MOVQ(k, q)
	SHRQ(U8(3), q)
	ANDQ(U32(nibBlock-1), k)
	TESTQ(q, q)
	JE(LabelRef("rest"))
	Label("block")
	for u := 0; u < nibBlock; u++ {
		kstep(u, u == 0)
	}
	flush()
	ADDQ(U32(4*nibBlock), lo)
	ADDQ(U32(4*nibBlock), hi)
	ADDQ(U32(step*nibBlock), b)
	DECQ(q)
	JNE(LabelRef("block"))
	Label("rest")
	TESTQ(k, k)
	JE(LabelRef("store"))
	// Fewer than nibBlock quads are left: the first one starts the
	// int16 sums, the loop adds the others.
	kstep(0, true)
	ADDQ(U32(4), lo)
	ADDQ(U32(4), hi)
	ADDQ(U32(step), b)
	DECQ(k)
	JE(LabelRef("last"))
	Label("tail")
	kstep(0, false)
	ADDQ(U32(4), lo)
	ADDQ(U32(4), hi)
	ADDQ(U32(step), b)
	DECQ(k)
	JNE(LabelRef("tail"))
	Label("last")
	flush()
	Label("store")
	c := Load(Param("c"), GP64())
	for v := 0; v < nv; v++ {
		mov(acc[v], Mem{Base: c, Disp: width * v})
	}
	VZEROUPPER()
	RET()
}

// nibSplitAVX2 emits nibSplitAVX2: lo and hi of x+128 for n bytes (a
// multiple of 32). x+128 flips the sign bit only, so lo = x & 15 and
// hi = ((x >> 4) & 15) ^ 8.
func nibSplitAVX2() {
	TEXT("nibSplitAVX2", NOSPLIT, "func(n int, src *int8, lo, hi *uint8)")
	Pragma("noescape")
	Doc("nibSplitAVX2 stores the low and high nibbles of x+128 for the n bytes x at src (n a multiple of 32) into lo and hi.")
	n := Load(Param("n"), GP64())
	src := Load(Param("src"), GP64())
	lo := Load(Param("lo"), GP64())
	hi := Load(Param("hi"), GP64())
	// Byte constants 0x0f and 0x08 from all ones: |−1| = 1 per byte,
	// 0x10 − 0x01 and 0x01 << 3 (word shifts keep bytes apart here).
	one, m0f, m08, x, l, h := Y0, Y1, Y2, Y3, Y4, Y5
	VPCMPEQB(one, one, one)
	VPABSB(one, one)
	VPSLLW(U8(4), one, m0f)
	VPSUBB(one, m0f, m0f)
	VPSLLW(U8(3), one, m08)
	SHRQ(U8(5), n)
	JE(LabelRef("done"))
	Label("loop")
	VMOVDQU(Mem{Base: src}, x)
	VPAND(m0f, x, l)
	VPSRLW(U8(4), x, h)
	VPAND(m0f, h, h)
	VPXOR(m08, h, h)
	VMOVDQU(l, Mem{Base: lo})
	VMOVDQU(h, Mem{Base: hi})
	ADDQ(U32(32), src)
	ADDQ(U32(32), lo)
	ADDQ(U32(32), hi)
	DECQ(n)
	JNE(LabelRef("loop"))
	Label("done")
	VZEROUPPER()
	RET()
}
