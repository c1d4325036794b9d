// Command lstm generates kernels/lstm_amd64.s and its Go declarations
// (kernels/lstm_stubs_amd64.go) with avo: the float LSTM's fused step
// loops (kernels/lstm_float_fast.go, driven by kernels/lstm_amd64.go).
// Run from internal/asmgen:
//
//	go run ./lstm -out ../../kernels/lstm_amd64.s -stubs ../../kernels/lstm_stubs_amd64.go -pkg kernels
//
// Every loop takes one argument, a pointer to package kernels'
// lstmRowsArgs; its field offsets are the constants below, pinned on the
// Go side by TestLSTMRowsArgsLayout. The program builds in its own avo
// context (not the package-level one behind TEXT) so that the signature
// can name that type.
package main

import (
	"flag"
	"go/token"
	"go/types"
	"os"

	"github.com/mmcloughlin/avo/attr"
	"github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/gotypes"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// Byte offsets of lstmRowsArgs' fields (kernels/lstm_amd64.go).
const (
	offXP, offPre, offBias, offC, offOut   = 0, 8, 16, 24, 32
	offPeepI, offPeepF, offPeepO           = 40, 48, 56
	offXStride, offW, offCStride, offOStr  = 64, 72, 80, 88
	offN, offNC                            = 96, 104
	offGateI, offGateF, offGateG, offGateO = 112, 120, 128, 136
	offCIFG, offClip                       = 144, 152
	offAct, offActStride                   = 160, 168
	offCols, offColStride                  = 176, 184
)

// The bits of expF32's constants (lstm_float_fast.go) broadcast into
// Y10–Y15 (Z10–Z15): the input clamp, log2 e, the rounding magic, 1 and
// the exponent bias folded into the magic.
var expBroadcasts = []struct {
	bits uint32
	what string
}{
	{0xc2ae999a, "-87.3"},
	{0x42b0999a, "88.3"},
	{0x3fb8aa3b, "log2 e"},
	{0x4b400000, "1.5·2^23"},
	{0x3f800000, "1"},
	{0x4b3fff81, "bits(1.5·2^23) − 127"},
}

// expRows are the rows of lstmExpK<>: ln 2's high and low parts, the
// polynomial's six coefficients, then the sign bit (negation), each as
// eight float32 lanes in a 32-byte row.
var expRows = []uint32{
	0x3f318000, // ln2 hi 0.693359375
	0xb95e8083, // ln2 lo -2.12194440e-4
	0x39506967, // 1.9875691500e-4
	0x3ab743ce, // 1.3981999507e-3
	0x3c088908, // 8.3334519073e-3
	0x3d2aa9c1, // 4.1665795894e-2
	0x3e2aaaaa, // 1.6666665459e-1
	0x3f000000, // 5.0000001201e-1 (0.5 in float32)
	0x80000000, // sign bit
}

// signRow is lstmExpK<>'s byte offset of the sign-bit row.
const signRow = 8 * 32

// gen is the generator: its avo context and the two constant tables.
type gen struct {
	*build.Context
	expK, tailMask Mem
	argsPtr        *gotypes.Signature
}

func main() {
	// Package build registers its flags on flag.CommandLine already.
	fs := flag.NewFlagSet(os.Args[0], flag.ExitOnError)
	flags := build.NewFlags(fs)
	if err := fs.Parse(os.Args[1:]); err != nil {
		panic(err)
	}
	g := &gen{Context: build.NewContext()}
	g.ConstraintExpr("!noasm")
	// A stand-in for package kernels holding lstmRowsArgs, so the
	// signature (and the stub written from it) can name the type.
	pkg := types.NewPackage("github.com/qbench/qbench/kernels", "kernels")
	tn := types.NewTypeName(token.NoPos, pkg, "lstmRowsArgs", nil)
	types.NewNamed(tn, types.NewStruct(nil, nil), nil)
	pkg.Scope().Insert(tn)
	sig, err := gotypes.ParseSignatureInPackage(pkg, "func(a *lstmRowsArgs)")
	if err != nil {
		panic(err)
	}
	g.argsPtr = sig
	g.data()
	g.rowsAVX2()
	g.gatesAVX2()
	g.cellsAVX2()
	g.gatesAVX512()
	os.Exit(build.Main(flags.Config(), g.Context))
}

// data declares lstmExpK<> (expRows, eight lanes each) and lstmTailMask<>:
// eight all-ones lanes then eight zero lanes, so the mask of the first r
// lanes is the 8 lanes at lstmTailMask<> + 4·(8 − r).
func (g *gen) data() {
	g.expK = g.StaticGlobal("lstmExpK")
	g.DataAttributes(attr.RODATA | attr.NOPTR)
	for r, bits := range expRows {
		for l := range 8 {
			g.AddDatum(32*r+4*l, U32(bits))
		}
	}
	g.tailMask = g.StaticGlobal("lstmTailMask")
	g.DataAttributes(attr.RODATA | attr.NOPTR)
	for l := range 8 {
		g.AddDatum(4*l, U32(0xffffffff))
	}
	for q := range 4 {
		g.AddDatum(32+8*q, U64(0))
	}
}

// text starts a loop taking *lstmRowsArgs, loads that pointer into DI and
// broadcasts expBroadcasts into registers 10–15 of the width of v0.
func (g *gen) text(name string, wide bool, doc ...string) {
	g.Function(name)
	g.Attributes(attr.NOSPLIT)
	g.Signature(g.argsPtr)
	g.Pragma("noescape")
	g.Doc(doc...)
	g.Load(g.Param("a"), RDI)
	for i, c := range expBroadcasts {
		g.Commentf("%s", c.what)
		g.MOVL(U32(c.bits), EAX)
		if wide {
			g.VPBROADCASTD(EAX, zmm(10+i))
		} else {
			g.MOVQ(RAX, X0)
			g.VPBROADCASTD(X0, ymm(10+i))
		}
	}
}

// arg is field off of the lstmRowsArgs at DI.
func arg(off int) Mem { return Mem{Base: RDI, Disp: off} }

// at is base + idx bytes.
func at(base, idx Register) Mem { return Mem{Base: base, Index: idx, Scale: 1} }

// exp1p sets v[4] = 1 + expF32(v[0]) with FMA (the Go code's operations,
// with x·log2e + magic, the two steps of r and each step of the
// polynomial fused, so within a few ulp of it, not equal): x =
// min(max(lo, x), hi) with a NaN x kept (VMAXPS returns its second source
// when one is NaN); t = x·log2e + magic; n = t − magic; r = x − n·ln2hi −
// n·ln2lo; p·r·r + r + 1 with p the polynomial in r; e = that · 2^n
// (exponent bits from t). It uses v[1]–v[5]; the constants are in
// v[10]–v[15], and the exp's rows are read from lstmExpK<> (krow nil) or
// from the registers krow[0..7].
func (g *gen) exp1p(v []VecPhysical, krow []VecPhysical) {
	row := func(r int) Op {
		if krow != nil {
			return krow[r]
		}
		return g.expK.Offset(32 * r)
	}
	g.VMAXPS(v[0], v[10], v[0])
	g.VMINPS(v[0], v[11], v[0])
	g.VMOVAPS(v[13], v[1])
	g.VFMADD231PS(v[12], v[0], v[1])
	g.VSUBPS(v[13], v[1], v[2])
	g.VMOVAPS(v[0], v[3])
	g.VFNMADD231PS(row(0), v[2], v[3])
	g.VFNMADD231PS(row(1), v[2], v[3])
	if krow != nil {
		g.VMOVAPS(row(2), v[4])
	} else {
		g.VMOVUPS(row(2), v[4])
	}
	for r := 3; r < 8; r++ {
		g.VFMADD213PS(row(r), v[3], v[4])
	}
	g.VMULPS(v[3], v[4], v[4])
	g.VFMADD213PS(v[3], v[3], v[4])
	g.VADDPS(v[14], v[4], v[4])
	g.VPSUBD(v[15], v[1], v[5])
	g.VPSLLD(U8(23), v[5], v[5])
	g.VMULPS(v[5], v[4], v[4])
	g.VADDPS(v[14], v[4], v[4])
}

// ys are Y0–Y15 by number.
var ys = func() []VecPhysical {
	v := make([]VecPhysical, 16)
	for i := range v {
		v[i] = ymm(i)
	}
	return v
}()

// sigmoid sets dst = 1/(1 + expF32(−Y0)) (sigmoidFast).
func (g *gen) sigmoid(dst VecPhysical) {
	g.VXORPS(g.expK.Offset(signRow), Y0, Y0)
	g.exp1p(ys, nil)
	g.VDIVPS(Y4, Y14, dst)
}

// tanh sets Y0 = 1 − 2/(1 + expF32(2·Y0)) (tanhFast).
func (g *gen) tanh() {
	g.VADDPS(Y0, Y0, Y0)
	g.exp1p(ys, nil)
	g.VADDPS(Y14, Y14, Y5)
	g.VDIVPS(Y4, Y5, Y4)
	g.VSUBPS(Y4, Y14, Y0)
}

// gate sets Y0 = (xp + bias) + pre at the gate whose byte offset is
// field off, cell group SI (xp, pre, bias rows in R8, R9, R12).
func (g *gen) gate(off int) {
	g.MOVQ(arg(off), RAX)
	g.ADDQ(RSI, RAX)
	g.VMOVUPS(at(R8, RAX), Y0)
	g.VADDPS(at(R12, RAX), Y0, Y0)
	g.VADDPS(at(R9, RAX), Y0, Y0)
}

// peep adds c·peep (c in Y9) to Y0 when the peephole pointer at field
// off is set.
func (g *gen) peep(off int, skip string) {
	g.MOVQ(arg(off), RAX)
	g.TESTQ(RAX, RAX)
	g.JZ(LabelRef(skip))
	g.VMULPS(at(RAX, RSI), Y9, Y1)
	g.VADDPS(Y1, Y0, Y0)
	g.Label(skip)
}

// cellUpdate sets c (Y9) = min(max(c·f + g·i, −clip), clip) with f, i, g
// in Y7, Y6, Y8 and stores it to the c row (R10) at SI.
func (g *gen) cellUpdate() {
	g.VMULPS(Y7, Y9, Y9)
	g.VMULPS(Y6, Y8, Y1)
	g.VADDPS(Y1, Y9, Y9)
	g.VBROADCASTSS(arg(offClip), Y2)
	g.VXORPS(g.expK.Offset(signRow), Y2, Y1)
	g.VMAXPS(Y9, Y1, Y9)
	g.VMINPS(Y9, Y2, Y9)
	g.VMOVUPS(Y9, at(R10, RSI))
}

// storeOut stores Y0 to the out row (R11) at SI: whole when BX (cells
// left in the row) is 8 or more, then on to the next group (or to next
// when BX reaches 0); masked to the first BX lanes otherwise.
func (g *gen) storeOut(group, tail, next string) {
	g.CMPQ(RBX, U8(8))
	g.JL(LabelRef(tail))
	g.VMOVUPS(Y0, at(R11, RSI))
	g.ADDQ(U8(32), RSI)
	g.SUBQ(U8(8), RBX)
	g.JNZ(LabelRef(group))
	g.JMP(LabelRef(next))
	g.Label(tail)
	g.LEAQ(g.tailMask, RAX)
	g.MOVQ(U32(8), RDX)
	g.SUBQ(RBX, RDX)
	g.VMOVUPS(Mem{Base: RAX, Index: RDX, Scale: 4}, Y1)
	g.VMASKMOVPS(Y0, Y1, at(R11, RSI))
}

// rowsAVX2 emits the one-pass form: lstmRows.runGo with a TANH
// activation, eight cells at a time.
func (g *gen) rowsAVX2() {
	g.text("lstmRowsAVX2", false,
		"lstmRowsAVX2 is lstmRows.runGo with a TANH activation, eight cells at a",
		"time, each operation the Go code's in its order but for the exp's fused",
		"multiply-adds.")
	g.MOVQ(arg(offXP), R8)
	g.MOVQ(arg(offPre), R9)
	g.MOVQ(arg(offBias), R12)
	g.MOVQ(arg(offC), R10)
	g.MOVQ(arg(offOut), R11)
	g.MOVQ(arg(offN), RCX) // rows left
	g.Label("row")
	g.TESTQ(RCX, RCX)
	g.JZ(LabelRef("done"))
	g.XORQ(RSI, RSI) // byte offset of the cell group
	g.MOVQ(arg(offNC), RBX)
	g.Label("group")
	g.VMOVUPS(at(R10, RSI), Y9) // c
	g.Comment("f = σ((xp + bias) + pre + c·peepF)")
	g.gate(offGateF)
	g.peep(offPeepF, "nopf")
	g.sigmoid(Y7)
	g.Comment("i = 1 − f (CIFG) or σ((xp + bias) + pre + c·peepI)")
	g.CMPQ(arg(offCIFG), U8(0))
	g.JE(LabelRef("gatei"))
	g.VSUBPS(Y7, Y14, Y6)
	g.JMP(LabelRef("gateg"))
	g.Label("gatei")
	g.gate(offGateI)
	g.peep(offPeepI, "nopi")
	g.sigmoid(Y6)
	g.Label("gateg")
	g.Comment("g = tanh((xp + bias) + pre)")
	g.gate(offGateG)
	g.tanh()
	g.VMOVAPS(Y0, Y8)
	g.cellUpdate()
	g.Comment("o = σ((xp + bias) + pre + c·peepO); out = tanh(c)·o")
	g.gate(offGateO)
	g.peep(offPeepO, "nopo")
	g.sigmoid(Y6)
	g.outAndNextRow(arg(offXStride), R8, arg(offW), R9, arg(offCStride), R10, arg(offOStr), R11)
}

// outAndNextRow ends the one-pass and cells loops: out = tanh(c)·o (c in
// Y9, o in Y6) stored by storeOut, then each row pointer advanced by its
// stride (pairs of stride and register), the next row, and the return.
func (g *gen) outAndNextRow(advance ...Op) {
	g.VMOVAPS(Y9, Y0)
	g.tanh()
	g.VMULPS(Y6, Y0, Y0)
	g.storeOut("group", "tail", "nextrow")
	g.Label("nextrow")
	for i := 0; i < len(advance); i += 2 {
		g.ADDQ(advance[i], advance[i+1])
	}
	g.DECQ(RCX)
	g.JMP(LabelRef("row"))
	g.Label("done")
	g.VZEROUPPER()
	g.RET()
}

// gatesPass emits the first pass of the two-pass form in v's width (ymm
// or zmm, lanes per group): act = a + b·(k/(1 + expF32(s·((xp + bias) +
// pre)))) for every column of every row, with s, k, b, a per column.
func (g *gen) gatesPass(v []VecPhysical, krow []VecPhysical, lanes int) {
	g.MOVQ(arg(offXP), R8)
	g.MOVQ(arg(offPre), R9)
	g.MOVQ(arg(offBias), R12)
	g.MOVQ(arg(offAct), R11)
	g.MOVQ(arg(offCols), R13) // column parameters: s, k, b, a rows
	g.MOVQ(arg(offColStride), RDX)
	g.MOVQ(arg(offW), RBX) // row width in bytes
	g.MOVQ(arg(offN), RCX) // rows left
	g.Label("row")
	g.TESTQ(RCX, RCX)
	g.JZ(LabelRef("done"))
	g.XORQ(RSI, RSI)
	g.Label("group")
	g.VMOVUPS(at(R8, RSI), v[0])
	g.VADDPS(at(R12, RSI), v[0], v[0])
	g.VADDPS(at(R9, RSI), v[0], v[0])
	g.LEAQ(at(R13, RSI), RAX)
	g.VMULPS(Mem{Base: RAX}, v[0], v[0]) // s·v
	g.exp1p(v, krow)
	g.VMOVUPS(at(RAX, RDX), v[5])
	g.VDIVPS(v[4], v[5], v[4]) // k/(1 + e)
	g.LEAQ(Mem{Base: RAX, Index: RDX, Scale: 2}, RAX)
	g.VMULPS(Mem{Base: RAX}, v[4], v[4]) // b·that
	g.VADDPS(at(RAX, RDX), v[4], v[0])   // a + b·that
	g.VMOVUPS(v[0], at(R11, RSI))
	g.ADDQ(U8(4*lanes), RSI)
	g.CMPQ(RSI, RBX)
	g.JL(LabelRef("group"))
	g.ADDQ(arg(offXStride), R8)
	g.ADDQ(RBX, R9)
	g.ADDQ(arg(offActStride), R11)
	g.DECQ(RCX)
	g.JMP(LabelRef("row"))
	g.Label("done")
	g.VZEROUPPER()
	g.RET()
}

func (g *gen) gatesAVX2() {
	g.text("lstmGatesAVX2", false,
		"lstmGatesAVX2 is the first pass of the two-pass form (no peephole):",
		"act = a + b·(k/(1 + expF32(s·((xp + bias) + pre)))) for every column of",
		"every row, with s, k, b, a per column (sigmoid or tanh: sigmoidFast",
		"and tanhFast with the fused exp). Its iterations are independent, so the CPU",
		"overlaps the long exp chains of successive groups.")
	g.gatesPass(ys, nil, 8)
}

func (g *gen) gatesAVX512() {
	g.text("lstmGatesAVX512", true,
		"lstmGatesAVX512 is lstmGatesAVX2 sixteen columns at a time; it reads up",
		"to 15 values past a row's w and writes up to 8 past its row stride (into",
		"the next row, written after, or the slack).")
	zs := make([]VecPhysical, 32)
	for i := range zs {
		zs[i] = zmm(i)
	}
	// The exp's rows in Z16–Z23 instead of memory operands.
	for r := range 8 {
		g.VBROADCASTSS(g.expK.Offset(32*r), zs[16+r])
	}
	g.gatesPass(zs, zs[16:24], 16)
}

// cellsAVX2 emits the second pass: from the activated gates, the cell
// update and o⊙tanh(c), eight cells at a time.
func (g *gen) cellsAVX2() {
	g.text("lstmCellsAVX2", false,
		"lstmCellsAVX2 is the second pass: from the activated gates, the cell",
		"update and o⊙tanh(c), eight cells at a time.")
	g.MOVQ(arg(offC), R10)
	g.MOVQ(arg(offOut), R11)
	g.MOVQ(arg(offAct), R13)
	g.MOVQ(arg(offN), RCX) // rows left
	// agate sets dst = the activated gate at the byte offset at field off.
	agate := func(off int, dst VecPhysical) {
		g.MOVQ(arg(off), RAX)
		g.ADDQ(RSI, RAX)
		g.VMOVUPS(at(R13, RAX), dst)
	}
	g.Label("row")
	g.TESTQ(RCX, RCX)
	g.JZ(LabelRef("done"))
	g.XORQ(RSI, RSI)
	g.MOVQ(arg(offNC), RBX) // cells left in the row
	g.Label("group")
	g.VMOVUPS(at(R10, RSI), Y9) // c
	agate(offGateF, Y7)
	g.CMPQ(arg(offCIFG), U8(0))
	g.JE(LabelRef("gatei"))
	g.VSUBPS(Y7, Y14, Y6) // i = 1 − f
	g.JMP(LabelRef("gateg"))
	g.Label("gatei")
	agate(offGateI, Y6)
	g.Label("gateg")
	agate(offGateG, Y8)
	g.cellUpdate()
	g.Comment("out = tanh(c)·o")
	agate(offGateO, Y6)
	g.outAndNextRow(arg(offCStride), R10, arg(offOStr), R11, arg(offActStride), R13)
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
