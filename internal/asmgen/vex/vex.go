// Package vex emits AVX-VNNI instructions in their VEX encoding for the
// asmgen generators. Go's assembler knows only the EVEX (AVX512_VNNI +
// AVX512VL) forms of VPDPBUSD and VPDPWSSD, which fault on a CPU
// without AVX-512 (Intel client cores since Alder Lake, E-core Xeons),
// so the generators that target those CPUs emit the VEX forms as bytes.
package vex

import (
	"fmt"

	. "github.com/mmcloughlin/avo/build"
	"github.com/mmcloughlin/avo/ir"
	. "github.com/mmcloughlin/avo/operand"
	. "github.com/mmcloughlin/avo/reg"
)

// DPBUSD emits VPDPBUSD s8, u8, acc in its VEX.256 encoding
// (VEX.256.66.0F38.W0 50 /r, register operands only): acc += the dot
// products of u8's unsigned byte quads with s8's signed ones, per dword,
// wrapping. In Intel's order acc is ModRM.reg, u8 is VEX.vvvv and s8
// ModRM.rm.
func DPBUSD(s8, u8, acc VecPhysical) { VNNI("VPDPBUSD", 0x50, s8, u8, acc) }

// VNNI emits the AVX-VNNI instruction op (VEX.256.66.0F38.W0 opcode
// /r, register operands only) with acc in ModRM.reg, src1 in VEX.vvvv
// and src2 in ModRM.rm.
func VNNI(op string, opcode byte, src2, src1, acc VecPhysical) {
	d, v, r := int(acc.PhysicalIndex()), int(src1.PhysicalIndex()), int(src2.PhysicalIndex())
	if d > 15 || v > 15 || r > 15 {
		panic("vex.VNNI: VEX reaches ymm0-15 only")
	}
	// Byte 1: inverted R (ModRM.reg bit 3), X (no index: 1), inverted B
	// (ModRM.rm bit 3), map 0F38. Byte 2: W0, inverted vvvv, L = 1
	// (256 bits), pp = 01 (66).
	b1 := (^d>>3&1)<<7 | 1<<6 | (^r>>3&1)<<5 | 0x02
	b2 := (^v&15)<<3 | 1<<2 | 0x01
	modrm := 0xC0 | (d&7)<<3 | r&7
	Comment(fmt.Sprintf("%s Y%d, Y%d, Y%d (VEX)", op, r, v, d))
	Instruction(&ir.Instruction{Opcode: "LONG", Operands: []Op{U32(uint32(0xC4 | b1<<8 | b2<<16 | int(opcode)<<24))}})
	Instruction(&ir.Instruction{Opcode: "BYTE", Operands: []Op{U8(uint8(modrm))}})
}
