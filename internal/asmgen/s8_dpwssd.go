package main

import (
	. "github.com/mmcloughlin/avo/reg"

	"github.com/qbench/qbench/internal/asmgen/vex"
)

// The fused int16-pair kernels for AVX-VNNI CPUs without AVX-512: the
// segmented int16 products of the exact Winograd convolution
// (gemm.PackedI16.MulSegmented) with VPDPWSSD (acc += a₀·b₀ + a₁·b₁ per
// dword) in one instruction where the AVX2 kernels issue VPMADDWD and
// VPADDD. The sum wraps modulo 2³² exactly like VPMADDWD's pair sum plus
// VPADDD, even for the −32768·−32768 pairs (VPMADDWD wraps their 2³¹ to
// −2³¹, VPDPWSSD adds the unreduced 2³¹ modulo 2³²: the same bits);
// VPDPWSSDS would saturate instead. Half the vector µops per product.
// The tiles, tile loops and partial-row kernels are s8SegI16's.

// dpwssdVEX is the AVX-VNNI step (VEX.256 VPDPWSSD, opcode 52, emitted
// as bytes: Go's assembler knows only the EVEX form, which faults
// without AVX-512); it needs no product register.
func dpwssdVEX(b, a, acc, _ VecPhysical) { vex.VNNI("VPDPWSSD", 0x52, b, a, acc) }

// s8AVXVNNIWSegI16All emits the fused segmented int16 kernels of the
// ymm 6×16 tile and its 5- and 4-row forms (s8AVXVNNIWSI16x{mr}x16).
// The 3- and 2-row tiles have too few accumulators (6, 4) to cover
// VPDPWSSD's latency in one chain, so their k loop is split over two
// accumulator sets (s8AVXVNNIWK2SI16x{mr}x16). The 1-row tile is
// bound by its loads, not the chain: split in two or four it measured no
// faster than the AVX2 kernel gemm's avxvnniWS8Set keeps for it.
func s8AVXVNNIWSegI16All() {
	for mr := 6; mr >= 4; mr-- {
		s8SegI16(ymmTile(mr, 2), "s8AVXVNNIW", "AVX-VNNI", dpwssdVEX, 1)
	}
	for mr := 3; mr >= 2; mr-- {
		s8SegI16(ymmTile(mr, 2), "s8AVXVNNIW", "AVX-VNNI", dpwssdVEX, 2)
	}
}
