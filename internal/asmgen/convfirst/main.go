// Command convfirst generates kernels/conv_first_f32_amd64.s and its Go
// declarations (kernels/conv_first_f32_decl_amd64.go) with avo: the direct
// float convolution of few-channel first layers (kernels/conv_first_f32.go).
// Run from internal/asmgen:
//
//	go run ./convfirst -out ../../kernels/conv_first_f32_amd64.s -stubs ../../kernels/conv_first_f32_decl_amd64.go -pkg kernels
//
// A kernel computes one block of 16 output channels (one zmm) of n output
// pixels along a row of a zero-padded image. Each pixel's
// window is `taps` single floats at byte offsets offs[t] from the pixel's
// window origin, and consecutive pixels' origins are `step` floats apart
// (strideW·inC, fixed per kernel so every address is an immediate
// displacement). Pixels go in groups whose accumulators stay in
// registers while every tap is added in order, one FMA per tap and pixel:
// the weights of a tap are one vector, the input value is broadcast.
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// steps are the pixel steps (strideW·inC floats) a kernel exists for:
// one to four channels at stride 1, and 1, 2, 3 or 4 channels at stride 2.
var steps = []int{1, 2, 3, 4, 6, 8}

func main() {
	ConstraintExpr("!noasm")
	for _, s := range steps {
		rowKernel(s)
	}
	Generate()
}

// rowKernel emits convFirstF32AVX512S<step>: for each of n pixels p,
// dst[p·ldd + j] = clamp(Σ_t src[p·step + offs[t]/4]·w[t·16 + j] +
// bias[j]) for the 16 channels j of the block, taps added in order t =
// 0..taps−1 from +0, the bias last, then max with lo and min with hi with
// the sum as the second source so a NaN survives (as in the GEMM
// epilogue). Each input value is an embedded broadcast against the tap's
// weights; 24 pixels' accumulators measured 7% faster than 16 (fewer
// loop and weight loads per multiply-add).
//
// There is no AVX2 form: with 16 ymm registers its best tile (6 pixels ×
// 16 channels) is the segmented GEMM's 6×16 tile, and it measured 2–5%
// slower than that path on seed-cnn's first layer, so AVX2 keeps it.
func rowKernel(step int) {
	groups := []int{24, 8, 4, 1}
	vec := func(i int) VecPhysical {
		return []VecPhysical{Z0, Z1, Z2, Z3, Z4, Z5, Z6, Z7, Z8, Z9, Z10, Z11, Z12, Z13, Z14, Z15,
			Z16, Z17, Z18, Z19, Z20, Z21, Z22, Z23, Z24, Z25, Z26, Z27, Z28, Z29, Z30, Z31}[i]
	}
	name := fmt.Sprintf("convFirstF32AVX512S%d", step)
	TEXT(name, NOSPLIT, "func(dst *float32, ldd int, src *float32, offs *int, taps int, w, bias *float32, n int, lo, hi float32)")
	Pragma("noescape")
	Doc(fmt.Sprintf("%s computes 16 output channels of n pixels %d floats apart in src (a padded image row);", name, step),
		"tap t of a pixel's window is at byte offset offs[t] from its origin, its weights at w[t·16],",
		"and pixel p's outputs are stored at byte offset p·ldd from dst. taps must be at least 1.")
	dst := Load(Param("dst"), GP64())
	ldd := Load(Param("ldd"), GP64())
	src := Load(Param("src"), GP64())
	offs := Load(Param("offs"), GP64())
	taps := Load(Param("taps"), GP64())
	w := Load(Param("w"), GP64())
	bias := Load(Param("bias"), GP64())
	n := Load(Param("n"), GP64())
	t, off, r, wp := GP64(), GP64(), GP64(), GP64()
	for gi, P := range groups {
		top := fmt.Sprintf("group%d", P)
		next := "done"
		if gi+1 < len(groups) {
			next = fmt.Sprintf("group%d", groups[gi+1])
		}
		acc := func(j int) VecPhysical { return vec(j) }
		wv := vec(P) // the tap's weights
		Label(top)
		CMPQ(n, Imm(uint64(P)))
		JL(LabelRef(next))
		for j := 0; j < P; j++ {
			VPXORD(acc(j), acc(j), acc(j)) // VXORPS on zmm would need AVX512DQ
		}
		XORQ(t, t)
		MOVQ(w, wp)
		tapLoop := fmt.Sprintf("taps%d", P)
		Label(tapLoop)
		MOVQ(Mem{Base: offs, Index: t, Scale: 8}, off)
		LEAQ(Mem{Base: src, Index: off, Scale: 1}, r)
		VMOVUPS(Mem{Base: wp}, wv)
		for j := 0; j < P; j++ {
			VFMADD231PS_BCST(Mem{Base: r, Disp: 4 * step * j}, wv, acc(j))
		}
		ADDQ(U32(64), wp)
		INCQ(t)
		CMPQ(t, taps)
		JL(LabelRef(tapLoop))
		// Epilogue: bias, clamp, store (the weight register is free).
		for j := 0; j < P; j++ {
			VADDPS(Mem{Base: bias}, acc(j), acc(j))
		}
		VBROADCASTSS(NewParamAddr("lo", 64), wv)
		for j := 0; j < P; j++ {
			VMAXPS(acc(j), wv, acc(j))
		}
		VBROADCASTSS(NewParamAddr("hi", 68), wv)
		for j := 0; j < P; j++ {
			VMINPS(acc(j), wv, acc(j))
		}
		for j := 0; j < P; j++ {
			VMOVUPS(acc(j), Mem{Base: dst})
			ADDQ(ldd, dst)
		}
		ADDQ(U32(uint64(4*step*P)), src)
		SUBQ(Imm(uint64(P)), n)
		JMP(LabelRef(top))
	}
	Label("done")
	VZEROUPPER()
	RET()
}
