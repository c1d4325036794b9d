// Command rowsum generates kernels/rowsum_amd64.s and its Go declarations
// (kernels/rowsum_decl_amd64.go) with avo: the AVX2 loop that adds
// indexed rows of a float32 matrix into a row of accumulators, shared by
// float MEAN/SUM over a middle axis and the GATHER → MEAN/SUM embedding
// bag. Run from internal/asmgen:
//
//	go run ./rowsum -out ../../kernels/rowsum_amd64.s -stubs ../../kernels/rowsum_decl_amd64.go -pkg kernels
//
// Each column block keeps its accumulators in ymm registers while every
// row is added in order, so each column's sum is formed exactly as the
// scalar loop forms it (the same float32 additions in the same order:
// bit-identical, no reassociation).
package main

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

func main() {
	ConstraintExpr("!noasm")
	sumRowsAVX2()
	Generate()
}

// sumRowsAVX2 emits dst[c] += Σ_r src[idx[r]·stride + c] for c < w (w a
// multiple of 8), rows added in order r = 0..n-1, columns in blocks of
// 32, 16 and 8 (4, 2 and 1 accumulators).
func sumRowsAVX2() {
	TEXT("sumRowsF32AVX2", NOSPLIT, "func(dst *float32, w int, src *float32, idx *int32, n, stride int)")
	Pragma("noescape")
	Doc("sumRowsF32AVX2 adds rows idx[0..n) of src (stride elements apart) to the w accumulators at dst,",
		"in row order; w must be a multiple of 8 and every row in range (the Go wrapper checks).")
	dst := Load(Param("dst"), GP64())
	w := Load(Param("w"), GP64())
	src := Load(Param("src"), GP64())
	idx := Load(Param("idx"), GP64())
	n := Load(Param("n"), GP64())
	stride := Load(Param("stride"), GP64())
	SHLQ(U8(2), stride) // bytes per row
	SHLQ(U8(2), w)      // bytes per block row
	c := GP64()         // byte offset of the current column block
	XORQ(c, c)
	blocks := []int{4, 2, 1}
	for bi, nv := range blocks {
		top := fmt.Sprintf("blk%d", nv)
		next := "done"
		if bi+1 < len(blocks) {
			next = fmt.Sprintf("blk%d", blocks[bi+1])
		}
		Label(top)
		rem := GP64()
		MOVQ(w, rem)
		SUBQ(c, rem)
		CMPQ(rem, Imm(uint64(32*nv)))
		JL(LabelRef(next))
		acc := make([]VecVirtual, nv)
		for j := range acc {
			acc[j] = YMM()
			VMOVUPS(Mem{Base: dst, Index: c, Scale: 1, Disp: 32 * j}, acc[j])
		}
		base := GP64()
		LEAQ(Mem{Base: src, Index: c, Scale: 1}, base)
		i := GP64()
		XORQ(i, i)
		loop, end := fmt.Sprintf("rows%d", nv), fmt.Sprintf("rows%dend", nv)
		Label(loop)
		CMPQ(i, n)
		JGE(LabelRef(end))
		off := GP64()
		MOVLQSX(Mem{Base: idx, Index: i, Scale: 4}, off)
		IMULQ(stride, off)
		for j := range acc {
			VADDPS(Mem{Base: base, Index: off, Scale: 1, Disp: 32 * j}, acc[j], acc[j])
		}
		INCQ(i)
		JMP(LabelRef(loop))
		Label(end)
		for j := range acc {
			VMOVUPS(acc[j], Mem{Base: dst, Index: c, Scale: 1, Disp: 32 * j})
		}
		ADDQ(Imm(uint64(32*nv)), c)
		JMP(LabelRef(top))
	}
	Label("done")
	VZEROUPPER()
	RET()
}
