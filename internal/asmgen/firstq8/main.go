// Command firstq8 generates package kernels' AVX-VNNI first-layer
// convolution kernels (kernels/conv_first_q8_amd64.s and their Go
// declarations, kernels/conv_first_q8_decl_amd64.go) with avo. Run from
// internal/asmgen:
//
//	go run ./firstq8 -out ../../kernels/conv_first_q8_amd64.s -stubs ../../kernels/conv_first_q8_decl_amd64.go -pkg kernels
//
// For AVX2 CPUs with AVX-VNNI but without AVX-512 (where the zmm
// kernels of internal/asmgen/firstconv do not run). The products are u8
// quads (VPDPBUSD) read in place from the padded u8-offset image: a
// window row of fW·inC ≤ 16 bytes is ⌈fW·inC/4⌉ quads whose bytes past
// the row meet zero weights, or (the Tail kernels) its whole quads and
// the rows' leftover bytes gathered into one more quad per pixel: 7
// quads per pixel for 3×3×3 instead of 9, VPDPBUSD's rate being the
// bound. The lanes are 16 output channels in two ymm registers, each
// pixel's quad is one VPBROADCASTD from memory, and 6 pixels of a row
// make the 12 accumulators. The requantization is XNNPACK's float32 one
// (kernels/conv_first_q8.go documents the tables and the Go form).
//
// The Pool kernels, the ones prepare picks, write the 2×2 stride-2 max
// pool of the output: two conv rows' int32 sums are reduced by max
// before one requantization per pooled pixel, which the monotone
// requantization allows (the caller checks the scales), and the Sat
// forms leave out the clamps where the caller proved them redundant.
// The Row kernels are the unpooled form (tests, pathFirstQ8): on
// seed-cnn's first layer they measured slower than the segmented
// tail-quad GEMM that pathAuto keeps for unpooled convs. The Wide Pool
// kernels are the pooled form for AVX2 CPUs without VNNI: the image
// widened to int16 and the products int16 pairs (VPMADDWD, VPADDD).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"

	"github.com/qbench/qbench/internal/asmgen/vex"
)

func main() {
	ConstraintExpr("!noasm")
	// 3×2: a 3×3 window over 3 channels (9-byte rows: 2 whole quads
	// and the tail), unrolled.
	for _, v := range []struct {
		tail bool
		fix  shape
	}{{false, shape{}}, {true, shape{}}, {true, shape{fH: 3, nqr: 2}}} {
		for _, half := range []bool{false, true} {
			if v.fix.fH == 0 { // the row kernels only run in tests
				rowKernel(half, v.tail, v.fix)
			}
			poolKernel(half, v.tail, v.fix, false)
			poolKernel(half, v.tail, v.fix, true)
		}
	}
	// int16 pairs (AVX2 without VNNI): pooled only, no tail; 3×5: a 3×3
	// window over 3 channels (9 values a row: 5 pairs), unrolled.
	for _, fix := range []shape{{i16: true}, {fH: 3, nqr: 5, i16: true}} {
		for _, half := range []bool{false, true} {
			poolKernel(half, false, fix, false)
			poolKernel(half, false, fix, true)
		}
	}
	Generate()
}

// ymm returns Y0..Y15.
func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}

// acc is pixel p's accumulator for channels 8h..8h+7 of the group.
func acc(p, h int) VecPhysical { return ymm(2*p + h) }

// The k table (int32 offsets): VPERMD's pixel gather, then the
// broadcast hi − zp (float32 bits), lo − zp and zp (int16 pairs).
const (
	kPerm = 0
	kHi   = 8
	kLo   = 16
	kZP   = 24
)

func suffix(half, tail bool, fix shape) string {
	s := ""
	if tail {
		s += "Tail"
	}
	if fix.fH > 0 {
		s += fmt.Sprintf("%dx%d", fix.fH, fix.nqr)
	}
	if fix.i16 {
		s = "Wide" + s
	}
	if half {
		s += "Half"
	}
	return s
}

// signature is every kernel's: crow is read by the pooled ones, shuf
// and toff by the tail ones.
const signature = "func(a *uint8, w *int8, init *int32, scale *float32, k *int32, out *int8, n, pstep, wrow, fH, nqr, ldo, crow int, shuf *uint8, toff int)"

// args holds the arguments the kernels keep in registers throughout;
// the others (w, init, scale, k, fH, nqr) are read from the frame where
// used, which leaves registers for the loops.
type args struct {
	a, out, pstep, ldo GPVirtual
}

// param returns argument name's frame slot.
func param(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// gp loads argument name into a fresh register.
func gp(name string) GPVirtual {
	r := GP64()
	MOVQ(param(name), r)
	return r
}

func loadArgs() args {
	var r args
	r.a = gp("a")
	r.out = gp("out")
	r.pstep = gp("pstep")
	r.ldo = gp("ldo")
	return r
}

// accumulate emits np ≤ 6 pixels' sums from the window at a (pixel p's
// at a + p·pstep) into Y0..Y(2np−1): init, then per window row and quad the two
// weight vectors and per pixel one broadcast and two VPDPBUSD. With a
// tail buffer (tb), the window rows' leftover bytes past their whole
// quads make one more quad per pixel: per window row the 16 bytes from
// a + toff are broadcast to both lanes and VPSHUFB (shuf, 32 bytes a
// row) moves pixel p's bytes to dword p (lane 1: pixels 4, 5), the rows
// ORed together; the 6 dwords go through tb to the broadcasts.
//
// With fix set (fH and nqr known), the loops are unrolled: weights and
// quads at displacements, the row pointers moved on once a window row.
func accumulate(r args, a GPVirtual, id string, tb *Mem, fix shape, np int) {
	{
		init := gp("init")
		for p := range np {
			VMOVDQU(Mem{Base: init}, acc(p, 0))
			VMOVDQU(Mem{Base: init, Disp: 32}, acc(p, 1))
		}
	}
	if tb != nil {
		// The tail quads first: their broadcasts, at the end, then read
		// tb from the cache instead of forwarding from the store.
		VPXOR(Y14, Y14, Y14)
		t0 := GP64()
		MOVQ(a, t0)
		shuf := gp("shuf")
		// gather ORs one window row's leftover bytes at t0 + d into Y14.
		gather := func(d, sd int) {
			VBROADCASTI128(Mem{Base: t0, Disp: d}, Y15)
			VPSHUFB(Mem{Base: shuf, Disp: sd}, Y15, Y15)
			VPOR(Y15, Y14, Y14)
		}
		if fix.fH > 0 {
			for ky := range fix.fH {
				gather(4*fix.nqr, 32*ky)
				if ky < fix.fH-1 {
					ADDQ(param("wrow"), t0)
				}
			}
		} else {
			ADDQ(param("toff"), t0)
			ky := gp("fH")
			Label("tail" + id)
			gather(0, 0)
			ADDQ(param("wrow"), t0)
			ADDQ(U8(32), shuf)
			DECQ(ky)
			JNE(LabelRef("tail" + id))
		}
		VMOVDQU(Y14, *tb)
	}
	t0, t3 := GP64(), GP64()
	MOVQ(a, t0)
	LEAQ(Mem{Base: r.pstep, Index: r.pstep, Scale: 2}, t3)
	ADDQ(t0, t3)
	wq := gp("w")
	// quad multiplies the np pixels' quads at disp d from t0 and t3 (or
	// from tb) by the weights at wq + wd.
	quad := func(wd, d int, tb *Mem) {
		VMOVDQU(Mem{Base: wq, Disp: wd}, Y12)
		VMOVDQU(Mem{Base: wq, Disp: wd + 32}, Y13)
		for p := range np {
			base := t0
			if p >= 3 {
				base = t3
			}
			m := Mem{Base: base, Disp: d}
			if p%3 > 0 {
				m = Mem{Base: base, Index: r.pstep, Scale: uint8(p % 3), Disp: d}
			}
			if tb != nil {
				m = tb.Offset(4 * p)
			}
			b := Y14
			if p%2 == 1 && !fix.i16 {
				b = Y15
			}
			VPBROADCASTD(m, b)
			if fix.i16 {
				for h := range 2 {
					VPMADDWD(ymm(12+h), b, Y15)
					VPADDD(Y15, acc(p, h), acc(p, h))
				}
				continue
			}
			vex.DPBUSD(Y12, b, acc(p, 0))
			vex.DPBUSD(Y13, b, acc(p, 1))
		}
	}
	wTail := 0 // the tail quad's weights, from wq
	if fix.fH > 0 {
		for ky := range fix.fH {
			for j := range fix.nqr {
				quad(64*(ky*fix.nqr+j), 4*j, nil)
			}
			if ky < fix.fH-1 {
				ADDQ(param("wrow"), t0)
				ADDQ(param("wrow"), t3)
			}
		}
		wTail = 64 * fix.fH * fix.nqr
	} else {
		// adj: the step from a window row's last quad to the next row's
		// first, wrow − 4·nqr.
		adj, j := gp("wrow"), gp("nqr")
		SHLQ(U8(2), j)
		SUBQ(j, adj)
		ky := gp("fH")
		Label("row" + id)
		MOVQ(param("nqr"), j)
		Label("quad" + id)
		quad(0, 0, nil)
		ADDQ(U8(64), wq)
		ADDQ(U8(4), t0)
		ADDQ(U8(4), t3)
		DECQ(j)
		JNE(LabelRef("quad" + id))
		ADDQ(adj, t0)
		ADDQ(adj, t3)
		DECQ(ky)
		JNE(LabelRef("row" + id))
	}
	if tb != nil {
		quad(wTail, 0, tb)
	}
}

// shape is a window's rows and in-place quads (pairs) per row when a
// kernel is generated for one (zero: read from the arguments), and its
// arithmetic: i16, the image widened to int16 and multiplied as pairs
// (VPMADDWD, VPADDD through Y15) for AVX2 CPUs without VNNI; otherwise u8
// quads (VPDPBUSD).
type shape struct {
	fH, nqr int
	i16     bool
}

// requant turns pixel p's two accumulators into int32 outputs less the
// zero point, as the Go form: round(min(float32(acc)·scale, hi − zp)).
// The Sat kernels' requantization (sat) leaves out the float clamp and
// the one to lo: the caller checked that no scaled sum reaches 2³⁰ (so
// the conversion cannot overflow) and that lo and hi are −128 and 127,
// which the saturating zero-point add and packs then apply.
func requant(sc, k GPVirtual, p int, sat bool) {
	for h := range 2 {
		y := acc(p, h)
		VCVTDQ2PS(y, y)
		VMULPS(Mem{Base: sc, Disp: 32 * h}, y, y)
		if !sat {
			VMINPS(Mem{Base: k, Disp: 4 * kHi}, y, y)
		}
		VCVTPS2DQ(y, y)
	}
}

// pack16 packs pixel p's requantized channels to int16 with saturation,
// clamps them below at lo − zp and adds zp: per 128-bit lane channels
// 0..3 (4..7) then 8..11 (12..15).
func pack16(k GPVirtual, p int, sat bool) {
	y := acc(p, 0)
	VPACKSSDW(acc(p, 1), y, y)
	if sat {
		VPADDSW(Mem{Base: k, Disp: 4 * kZP}, y, y)
		return
	}
	VPMAXSW(Mem{Base: k, Disp: 4 * kLo}, y, y)
	VPADDW(Mem{Base: k, Disp: 4 * kZP}, y, y)
}

// store emits the requantization and store of pixels p and q (q < 0: p
// alone) to the addresses mp and mq: 16 bytes each, 8 when half. The
// packs leave per 128-bit lane the dwords p 0..3, p 8..11, q 0..3,
// q 8..11 (lane 1: 4..7, 12..15), and VPERMD (the k table's perm) puts
// p's 16 bytes in lane 0 and q's in lane 1.
func store(half, sat bool, p, q int, mp, mq Mem) {
	sc, k := gp("scale"), gp("k")
	requant(sc, k, p, sat)
	pack16(k, p, sat)
	other := acc(p, 0)
	if q >= 0 {
		requant(sc, k, q, sat)
		pack16(k, q, sat)
		other = acc(q, 0)
	}
	y := acc(p, 0)
	VPACKSSWB(other, y, y)
	VMOVDQU(Mem{Base: k, Disp: 4 * kPerm}, Y15)
	VPERMD(y, Y15, y)
	put := func(x Register, m Mem) {
		if half {
			VMOVQ(x, m)
		} else {
			VMOVDQU(x, m)
		}
	}
	put(y.AsX(), mp)
	if q >= 0 {
		VEXTRACTI128(U8(1), y, acc(q, 0).AsX())
		put(acc(q, 0).AsX(), mq)
	}
}

// blockLoop emits the loop over blocks of per output pixels: body
// computes the block at a (window) and out; after it a and out move on
// by per pixels (pstep and ldo bytes each), and the last block,
// when n is not a multiple of per, steps back to end at pixel n − 1 (its
// first pixels are computed twice, to the same bytes).
func blockLoop(r args, n GPVirtual, per int, body func()) {
	Label("block")
	body()
	SUBQ(U8(per), n)
	JEQ(LabelRef("done"))
	s := GP64() // pixels to move on: per, or n when fewer are left
	MOVQ(U32(per), s)
	CMPQ(n, U8(per))
	JGE(LabelRef("step"))
	MOVQ(n, s)
	MOVQ(U32(per), n)
	Label("step")
	t := GP64()
	MOVQ(s, t)
	IMULQ(r.ldo, t)
	ADDQ(t, r.out)
	IMULQ(r.pstep, s)
	ADDQ(s, r.a)
	JMP(LabelRef("block"))
	Label("done")
	VZEROUPPER()
	RET()
}

// rowKernel emits convFirstQ8Row[Tail][Half]: one output row of n ≥ 6 pixels,
// channels 16·gr.. of the group whose tables w, init and scale point at.
func rowKernel(half, tail bool, fix shape) {
	name := "convFirstQ8Row" + suffix(half, tail, fix)
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is convFirstQ8RowRef's row of n ≥ 6 pixels (%s channels stored per pixel%s).", name, map[bool]string{false: "16", true: "8"}[half], map[bool]string{false: "", true: ", the rows' leftover bytes as a tail quad"}[tail]))
	r := loadArgs()
	n := gp("n")
	var tb *Mem
	if tail {
		m := AllocLocal(32)
		tb = &m
	}
	blockLoop(r, n, 6, func() {
		accumulate(r, r.a, "", tb, fix, 6)
		o3 := GP64()
		LEAQ(Mem{Base: r.ldo, Index: r.ldo, Scale: 2}, o3)
		ADDQ(r.out, o3)
		store(half, false, 0, 1, Mem{Base: r.out}, Mem{Base: r.out, Index: r.ldo, Scale: 1})
		store(half, false, 2, 3, Mem{Base: r.out, Index: r.ldo, Scale: 2}, Mem{Base: o3})
		store(half, false, 4, 5, Mem{Base: o3, Index: r.ldo, Scale: 1}, Mem{Base: o3, Index: r.ldo, Scale: 2})
	})
}

// poolKernel emits convFirstQ8Pool[Tail][3x2][Half][Sat]: one row of n ≥ 1 pixels of the
// 2×2 stride-2 max pool of the conv's outputs, from the conv rows whose
// windows start at a and a + crow, three pooled pixels a block.
func poolKernel(half, tail bool, fix shape, sat bool) {
	name := "convFirstQ8Pool" + suffix(half, tail, fix)
	if sat {
		name += "Sat"
	}
	TEXT(name, NOSPLIT, signature)
	Pragma("noescape")
	Doc(fmt.Sprintf("%s is convFirstQ8PoolRef's pooled row of n ≥ 1 pixels (%s channels stored per pixel%s%s).", name, map[bool]string{false: "16", true: "8"}[half], map[bool]string{false: "", true: ", the rows' leftover bytes as a tail quad"}[tail], map[bool]string{false: "", true: "; requantization without clamps: see requant"}[sat]))
	r := loadArgs()
	n, crow := gp("n"), gp("crow")
	top := AllocLocal(6 * 32) // the top conv row's column-pair maxima
	var tb *Mem
	if tail {
		m := AllocLocal(32)
		tb = &m
	}
	// pairs leaves in Y(4i), Y(4i+1) the max of pixels 2i and 2i+1.
	pairs := func(m int) {
		for i := range m {
			for h := range 2 {
				VPMAXSD(acc(2*i+1, h), acc(2*i, h), acc(2*i, h))
			}
		}
	}
	// block computes m ≤ 3 pooled pixels at a, to out.
	block := func(m int) {
		id := fmt.Sprint(m)
		// Only the 3-pixel blocks are unrolled: the 1- and 2-pixel ones
		// run once a row at most.
		fx := fix
		if m < 3 {
			fx = shape{i16: fix.i16}
		}
		accumulate(r, r.a, "A"+id, tb, fx, 2*m)
		pairs(m)
		for i := range m {
			for h := range 2 {
				VMOVDQU(acc(2*i, h), top.Offset(32*(2*i+h)))
			}
		}
		b := GP64()
		LEAQ(Mem{Base: r.a, Index: crow, Scale: 1}, b)
		accumulate(r, b, "B"+id, tb, fx, 2*m)
		pairs(m)
		for i := range m {
			for h := range 2 {
				VPMAXSD(top.Offset(32*(2*i+h)), acc(2*i, h), acc(2*i, h))
			}
		}
		switch m {
		case 1:
			store(half, sat, 0, -1, Mem{Base: r.out}, Mem{})
		case 2:
			store(half, sat, 0, 2, Mem{Base: r.out}, Mem{Base: r.out, Index: r.ldo, Scale: 1})
		case 3:
			store(half, sat, 0, 2, Mem{Base: r.out}, Mem{Base: r.out, Index: r.ldo, Scale: 1})
			store(half, sat, 4, -1, Mem{Base: r.out, Index: r.ldo, Scale: 2}, Mem{})
		}
	}
	// Blocks of 3 pooled pixels, then one of the 1 or 2 left: no pixel
	// computed twice.
	CMPQ(n, U8(3))
	JL(LabelRef("rest"))
	Label("block")
	block(3)
	{
		t := GP64()
		LEAQ(Mem{Base: r.ldo, Index: r.ldo, Scale: 2}, t)
		ADDQ(t, r.out)
		LEAQ(Mem{Base: r.pstep, Index: r.pstep, Scale: 2}, t)
		SHLQ(U8(1), t)
		ADDQ(t, r.a)
	}
	SUBQ(U8(3), n)
	CMPQ(n, U8(3))
	JGE(LabelRef("block"))
	Label("rest")
	CMPQ(n, U8(1))
	JL(LabelRef("done"))
	JE(LabelRef("one"))
	block(2)
	JMP(LabelRef("done"))
	Label("one")
	block(1)
	Label("done")
	VZEROUPPER()
	RET()
}
