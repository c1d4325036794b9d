// Command add generates kernels/add_amd64.s and its Go declarations
// (kernels/add_stubs_amd64.go) with avo: the same-shape ADD loops of
// package kernels (float32 with clamp, and XNNPACK's 8-bit ADD), each in
// an AVX-512 and an AVX2 form. Run from internal/asmgen:
//
//	go run ./add -out ../../kernels/add_amd64.s -stubs ../../kernels/add_stubs_amd64.go -pkg kernels
//
// The loops walk x, y and z with one index register (BX) and stop at n,
// which the Go wrappers (kernels/add_amd64.go) round down to whole blocks.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	addF32(true)
	addXNN(true, true)
	addXNN(true, false)
	addF32(false)
	addXNN(false, true)
	addXNN(false, false)
	for _, wide := range []bool{true, false} {
		addF32Scalar(wide, false)
		addF32Scalar(wide, true)
	}
	Generate()
}

// addF32 emits z[i] = min(max(x[i]+y[i], lo), hi) over n values (n a
// multiple of 16 for AVX-512, 8 for AVX2), bit for bit as Go computes it:
// VMAXPS and VMINPS return their second source on equal zeros, which is
// lo or hi as Go's max and min do (lo is never −0, hi never +0); a NaN
// sum, which they would replace by the bound, is put back through the
// unordered compare (a mask register, or VBLENDVPS for AVX2).
func addF32(wide bool) {
	name, form := "addF32AVX2", "addF32AVX512 for AVX2 (n a multiple of 8)."
	if wide {
		name, form = "addF32AVX512", "the float32 same-shape ADD with clamp over n values (n a multiple of 16)."
	}
	TEXT(name, NOSPLIT, "func(x, y, z *float32, n int, lo, hi float32)")
	Pragma("noescape")
	Doc(name + " is " + form)
	x, y, z, n := loadXYZN()
	addF32Loop(name, wide, z, n, func(v VecPhysical) {
		VMOVUPS(Mem{Base: x, Index: RBX, Scale: 4}, v)
		VADDPS(Mem{Base: y, Index: RBX, Scale: 4}, v, v)
	})
}

// addF32Scalar emits addF32's loop with one operand a scalar s broadcast
// along the row (the last axis of a broadcast ADD): z[i] = clamp(v[i] + s)
// or, sFirst, clamp(s + v[i]), the operands in the Go loop's order (the
// first is the addition's first source, whose NaN x86 returns when both
// are NaN).
func addF32Scalar(wide, sFirst bool) {
	isa, lanes := "AVX2", 8
	if wide {
		isa, lanes = "AVX512", 16
	}
	form, sum := "VS", "v[i] + s"
	if sFirst {
		form, sum = "SV", "s + v[i]"
	}
	name := "addF32" + form + isa
	TEXT(name, NOSPLIT, "func(v *float32, s float32, z *float32, n int, lo, hi float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets z[i] = min(max(%s, lo), hi) for n values (n a multiple of %d), as addF32%s does for two vectors.", name, sum, lanes, isa))
	v, z, n := Load(Param("v"), RSI), Load(Param("z"), RDI), Load(Param("n"), RCX)
	sv := Y13
	if wide {
		sv = Z29
	}
	VBROADCASTSS(paramAddr("s"), sv)
	addF32Loop(name, wide, z, n, func(r VecPhysical) {
		if sFirst {
			VADDPS(Mem{Base: v, Index: RBX, Scale: 4}, sv, r)
		} else {
			VMOVUPS(Mem{Base: v, Index: RBX, Scale: 4}, r)
			VADDPS(sv, r, r)
		}
	})
}

// addF32Loop emits the loop of addF32 and addF32Scalar over BX: sum
// leaves a block's sums in its register (Z0 or Y0), which is clamped to
// lo and hi (loaded here) with NaN sums kept, and stored to z.
func addF32Loop(name string, wide bool, z, n Register, sum func(VecPhysical)) {
	lanes := 8
	v, s, bl, bh := Y0, Y1, Y14, Y15
	if wide {
		lanes, v, s, bl, bh = 16, Z0, Z1, Z30, Z31
	}
	VBROADCASTSS(paramAddr("lo"), bl)
	VBROADCASTSS(paramAddr("hi"), bh)
	XORQ(RBX, RBX)
	loop, done := name+"_loop", name+"_done"
	Label(loop)
	CMPQ(RBX, n)
	JGE(LabelRef(done))
	sum(v)
	if wide {
		VCMPPS(U8(3), v, v, K1) // unordered: NaN lanes
		VMAXPS(bl, v, s)
		VMINPS(bh, s, s)
		VMOVAPS(v, K1, s)
	} else {
		VCMPPS(U8(3), v, v, Y2) // unordered: NaN lanes
		VMAXPS(bl, v, s)
		VMINPS(bh, s, s)
		VBLENDVPS(Y2, v, s, s)
	}
	VMOVUPS(s, Mem{Base: z, Index: RBX, Scale: 4})
	ADDQ(U8(lanes), RBX)
	JMP(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// paramAddr is the frame address of the named parameter.
func paramAddr(name string) Mem {
	b, err := Param(name).Resolve()
	if err != nil {
		panic(err)
	}
	return b.Addr
}

// loadXYZN loads the x, y, z pointers and n into SI, DX, DI and CX.
func loadXYZN() (x, y, z, n Register) {
	return Load(Param("x"), RSI), Load(Param("y"), RDX), Load(Param("z"), RDI), Load(Param("n"), RCX)
}

// xnnParams are addXNN's broadcast int32 parameters in argument order.
var xnnParams = []string{"ma", "mb", "bias", "shift", "zo", "lo", "hi"}

// addXNN emits XNNPACK's 8-bit ADD over n values (n a multiple of 16):
// z = clamp((bias + x·ma + y·mb) >>s shift + zo, lo, hi) in int32 lanes
// (products and sums wrap as Go's int32 do), stored as the low bytes. The
// AVX-512 form does 16 values in one zmm and narrows with VPMOVDB; the
// AVX2 form does two blocks of 8 and packs them: the values are already
// clamped into the 8-bit range, so the saturating packs change none, and
// VPERMQ undoes VPACKSSDW's per-lane interleave.
func addXNN(wide, signed bool) {
	ty, ext, pack := "uint8", VPMOVZXBD, VPACKUSWB
	if signed {
		ty, ext, pack = "int8", VPMOVSXBD, VPACKSSWB
	}
	isa := "AVX2"
	if wide {
		isa = "AVX512"
	}
	name := fmt.Sprintf("addXNN%s%s", map[bool]string{true: "I8", false: "U8"}[signed], isa)
	TEXT(name, NOSPLIT, fmt.Sprintf("func(x, y, z *%s, n int, ma, mb, bias, shift, zo, lo, hi int32)", ty))
	Pragma("noescape")
	switch {
	case wide && signed:
		Doc(name + " is addXNNSame's arithmetic over n int8 values (n a multiple of 16).")
	case wide:
		Doc(name + " is addXNNI8AVX512 for uint8.")
	default:
		Doc(fmt.Sprintf("%s is addXNN%sAVX512 for AVX2 (n a multiple of 16).", name, name[6:8]))
	}
	x, y, z, n := loadXYZN()
	// ma, mb, bias, shift, zo, lo, hi in Z24–Z30 (AVX-512) or Y9–Y15.
	p := make([]VecPhysical, len(xnnParams))
	for i, pn := range xnnParams {
		Load(Param(pn), EAX)
		if wide {
			p[i] = zmm(24 + i)
			VPBROADCASTD(EAX, p[i])
		} else {
			p[i] = ymm(9 + i)
			VMOVD(EAX, p[i].AsX())
			VPBROADCASTD(p[i].AsX(), p[i])
		}
	}
	ma, mb, bias, shift, zo, lo, hi := p[0], p[1], p[2], p[3], p[4], p[5], p[6]
	XORQ(RBX, RBX)
	// block computes the 8 or 16 values at byte offset off into r (t a
	// scratch register).
	block := func(off int, r, t VecPhysical) {
		ext(Mem{Base: x, Index: RBX, Scale: 1, Disp: off}, r)
		ext(Mem{Base: y, Index: RBX, Scale: 1, Disp: off}, t)
		VPMULLD(ma, r, r)
		VPMULLD(mb, t, t)
		VPADDD(bias, r, r)
		VPADDD(t, r, r)
		VPSRAVD(shift, r, r)
		VPADDD(zo, r, r)
		VPMAXSD(lo, r, r)
		VPMINSD(hi, r, r)
	}
	loop, done := name+"_loop", name+"_done"
	Label(loop)
	CMPQ(RBX, n)
	JGE(LabelRef(done))
	out := Mem{Base: z, Index: RBX, Scale: 1}
	if wide {
		block(0, Z0, Z1)
		VPMOVDB(Z0, out)
	} else {
		block(0, Y0, Y3)
		block(8, Y1, Y3)
		VPACKSSDW(Y1, Y0, Y0)
		VPERMQ(U8(0xD8), Y0, Y0)
		VEXTRACTI128(U8(1), Y0, X1)
		pack(X1, X0, X0)
		VMOVDQU(X0, out)
	}
	ADDQ(U8(16), RBX)
	JMP(LabelRef(loop))
	Label(done)
	VZEROUPPER()
	RET()
}

// zmm returns the i-th physical zmm register.
func zmm(i int) VecPhysical {
	return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
		Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
}

// ymm returns the i-th physical ymm register.
func ymm(i int) VecPhysical {
	return []VecPhysical{Y0, Y1, Y2, Y3, Y4, Y5, Y6, Y7, Y8, Y9, Y10, Y11, Y12, Y13, Y14, Y15}[i]
}
