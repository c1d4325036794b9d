//go:build !noasm

package train

import "golang.org/x/sys/cpu"

// avx512Asm reports whether the AVX-512 rows (pool, col2im) can run.
// They handle layers whose channel count (pool) or patch row (col2im) is
// a multiple of 16, as all of seed-cnn's after the input are; the plain-Go
// loops in layers.go cover everything else and define the results (the
// rows match them bit for bit except on NaN inputs).
var avx512Asm = cpu.X86.HasAVX512F

// poolFwdRowAVX512 is one output row of poolReluForward with its winners:
// ow pixels of cb·16 channels, input rows r0 and r1.
//
//go:noescape
func poolFwdRowAVX512(ow, cb int, r0, r1, bias, y *float32, arg *uint8)

// poolBwdRowAVX512 is one output row of poolReluBackward: it writes input
// rows d0 and d1 and adds the routed gradients to db (cb·16 values).
//
//go:noescape
func poolBwdRowAVX512(ow, cb int, arg *uint8, y, dy, d0, d1, db *float32)

// addRowsAVX512 adds 16·n16 floats at src to those at dst.
//
//go:noescape
func addRowsAVX512(n16 int, dst, src *float32)
