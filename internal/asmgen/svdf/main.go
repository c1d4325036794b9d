// Command svdf generates kernels/svdf_amd64.s and its Go declarations
// (kernels/svdf_stubs_amd64.go) with avo: the AVX2 time products of the
// integer SVDF (kernels/svdf_int_fast.go). Run from internal/asmgen:
//
//	go run ./svdf -out ../../kernels/svdf_amd64.s -stubs ../../kernels/svdf_stubs_amd64.go -pkg kernels
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	svdfDots(true)
	svdfDots(false)
	Generate()
}

// svdfDots emits the integer SVDF's time products (kernels/svdf_int_fast.go)
// for an int8 (s8) or int16 state: for groups of 8 filters of mem state
// values each (mem a multiple of 8; filter j of a group starts j·mem
// elements after the group), out[j] = Σ_m w[j·mem+m]·st[j·mem+m] in
// wrapping int32, w int16. Each filter accumulates VPMADDWD pair sums in
// its own ymm register over its chunks of 16 values, then one chunk of 8
// when mem is an odd multiple of 8 (VEX.128 forms, which clear the upper
// lanes); a horizontal-add tree turns the eight accumulators into the
// group's eight sums, stored as one vector. The eight filters of a group
// are addressed from one base with index registers mem, 3·mem, 5·mem and
// 7·mem scaled by 1, 2, 4 or 8, so a chunk step is two pointer moves.
func svdfDots(s8 bool) {
	name, ty, es := "svdfDotsS16AVX2", "int16", 2
	if s8 {
		name, ty, es = "svdfDotsS8AVX2", "int8", 1
	}
	TEXT(name, NOSPLIT, fmt.Sprintf("func(st *%s, w *int16, out *int32, groups, mem int)", ty))
	Pragma("noescape")
	Doc(fmt.Sprintf("%s sets out[j] = Σ_m w[j·mem+m]·st[j·mem+m] (wrapping int32) for groups·8 filters of mem %s state values (mem a multiple of 8).", name, ty))
	st := Load(Param("st"), GP64())
	w := Load(Param("w"), GP64())
	out := Load(Param("out"), GP64())
	groups := Load(Param("groups"), GP64())
	m1 := Load(Param("mem"), GP64())
	m3, m5, m7 := GP64(), GP64(), GP64()
	LEAQ(Mem{Base: m1, Index: m1, Scale: 2}, m3)
	LEAQ(Mem{Base: m1, Index: m1, Scale: 4}, m5)
	LEAQ(Mem{Base: m3, Index: m1, Scale: 4}, m7)
	chunks, tail := GP64(), GP64()
	MOVQ(m1, chunks)
	SHRQ(U8(4), chunks)
	MOVQ(m1, tail)
	ANDQ(U8(8), tail)
	// Filter j's offset in elements is idx[j].r·idx[j].k.
	type off struct {
		r Register
		k uint8
	}
	idx := []off{{nil, 0}, {m1, 1}, {m1, 2}, {m3, 1}, {m1, 4}, {m5, 1}, {m3, 2}, {m7, 1}}
	at := func(base Register, j int, size uint8) Mem {
		if j == 0 {
			return Mem{Base: base}
		}
		return Mem{Base: base, Index: idx[j].r, Scale: idx[j].k * size}
	}
	acc := make([]VecVirtual, 8)
	for j := range acc {
		acc[j] = YMM()
	}
	t := YMM()
	a, b, n := GP64(), GP64(), GP64()
	step := func(x bool) {
		for j := range acc {
			v := Register(t)
			if x {
				v = t.AsX()
			}
			if s8 {
				VPMOVSXBW(at(a, j, uint8(es)), v)
			} else {
				VMOVDQU(at(a, j, uint8(es)), v)
			}
			VPMADDWD(at(b, j, 2), v, v)
			VPADDD(t, acc[j], acc[j])
		}
	}
	TESTQ(groups, groups)
	JZ(LabelRef("done"))
	Label("group")
	for _, r := range acc {
		VPXOR(r, r, r)
	}
	MOVQ(st, a)
	MOVQ(w, b)
	MOVQ(chunks, n)
	TESTQ(n, n)
	JZ(LabelRef("tail"))
	Label("chunk")
	step(false)
	ADDQ(U8(16*es), a)
	ADDQ(U8(32), b)
	DECQ(n)
	JNZ(LabelRef("chunk"))
	Label("tail")
	TESTQ(tail, tail)
	JZ(LabelRef("reduce"))
	step(true)
	Label("reduce")
	// [a0 a1 | …] pairs, then quads: per 128-bit lane, h01 = [a0 lo-sums,
	// a1 lo-sums], …; the two lanes of the quads hold the low and high
	// halves of each filter's sum.
	VPHADDD(acc[1], acc[0], acc[0])
	VPHADDD(acc[3], acc[2], acc[2])
	VPHADDD(acc[5], acc[4], acc[4])
	VPHADDD(acc[7], acc[6], acc[6])
	VPHADDD(acc[2], acc[0], acc[0])
	VPHADDD(acc[6], acc[4], acc[4])
	VPERM2I128(U8(0x20), acc[4], acc[0], acc[1])
	VPERM2I128(U8(0x31), acc[4], acc[0], acc[2])
	VPADDD(acc[2], acc[1], acc[1])
	VMOVDQU(acc[1], Mem{Base: out})
	// Next group: 8·mem elements on.
	for range es {
		LEAQ(Mem{Base: st, Index: m1, Scale: 8}, st)
	}
	LEAQ(Mem{Base: w, Index: m1, Scale: 8}, w)
	LEAQ(Mem{Base: w, Index: m1, Scale: 8}, w)
	ADDQ(U8(32), out)
	DECQ(groups)
	JNZ(LabelRef("group"))
	Label("done")
	VZEROUPPER()
	RET()
}
