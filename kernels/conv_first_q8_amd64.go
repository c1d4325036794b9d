//go:build !noasm

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasFirstQ8 gates the AVX-VNNI first-layer kernels: VEX VPDPBUSD and
// AVX2. CPUs with AVX-512 VNNI run conv_first_s8.go's zmm kernels
// instead; tests reach these there through firstQ8Tiles.
var hasFirstQ8 = hasAVX2 && cpu.X86.HasAVXVNNI

// firstQ8Pooled reports whether setPool2x2 may take the pooled kernels
// on this CPU, and their form: u8 quads with AVX-VNNI, int16 pairs
// (wide) on AVX2 without it; neither with AVX-512, whose first-layer
// and Winograd paths were measured faster.
func firstQ8Pooled() (ok, wide bool) {
	switch {
	case hasAVX512 || !hasAVX2:
		return false, false
	case hasFirstQ8:
		return true, false
	}
	return true, true
}

// q8Kernel is every generated kernel's signature.
type q8Kernel func(a *uint8, w *int8, init *int32, scale *float32, k *int32, out *int8, n, pstep, wrow, fH, nqr, ldo, crow int, shuf *uint8, toff int)

// q8RowKernels are the row kernels (tests only) by [tail][half];
// q8PoolKernels the pooled ones by [form][half][sat], form 0 without a
// tail quad, 1 with, 2 with for 3 rows of 2 whole quads (3×3 RGB
// windows), its 3-pixel blocks unrolled;
// q8WideKernels the pooled int16-pair ones by [form][half][sat], form 1
// for 3 rows of 5 pairs (3×3 RGB windows), its 3-pixel blocks unrolled.
var (
	q8RowKernels = [2][2]q8Kernel{
		{convFirstQ8Row, convFirstQ8RowHalf}, {convFirstQ8RowTail, convFirstQ8RowTailHalf}}
	q8WideKernels = [2][2][2]q8Kernel{
		{{convFirstQ8PoolWide, convFirstQ8PoolWideSat}, {convFirstQ8PoolWideHalf, convFirstQ8PoolWideHalfSat}},
		{{convFirstQ8PoolWide3x5, convFirstQ8PoolWide3x5Sat}, {convFirstQ8PoolWide3x5Half, convFirstQ8PoolWide3x5HalfSat}},
	}
	q8PoolKernels = [3][2][2]q8Kernel{
		{{convFirstQ8Pool, convFirstQ8PoolSat}, {convFirstQ8PoolHalf, convFirstQ8PoolHalfSat}},
		{{convFirstQ8PoolTail, convFirstQ8PoolTailSat}, {convFirstQ8PoolTailHalf, convFirstQ8PoolTailHalfSat}},
		{{convFirstQ8PoolTail3x2, convFirstQ8PoolTail3x2Sat}, {convFirstQ8PoolTail3x2Half, convFirstQ8PoolTail3x2HalfSat}},
	}
)

// convFirstQ8Tile is q8RowFn through the kernels, with the bounds they
// rely on checked here: the last window's last quad or tail gather, and
// the last pixel's stored channels.
func convFirstQ8Tile(f *firstQ8, a []int8, gr int, out []int8, n, ldo int, half bool) {
	if f.wide && !f.pooled {
		// No unpooled int16-pair kernels: only tests get here.
		convFirstQ8RowRef(f, a, gr, out, n, ldo, half)
		return
	}
	per := f.groupBytes()
	_ = out[(n-1)*ldo+q8Channels(half)-1]
	px := n - 1 // the last conv pixel, in the last block
	rows := (f.fH - 1) * f.pitchB
	if f.pooled {
		px = 2*n - 1
		rows += f.crow
	}
	_ = a[px*f.pstep+rows+4*f.nqr-1]
	if f.tail {
		// The gather's 16 bytes from the last block's first pixel (at
		// most the last pixel).
		_ = a[px*f.pstep+rows+4*f.nqr+15]
	}
	var shuf *uint8
	form := 0
	if f.tail {
		shuf, form = &f.shuf[0], 1
		if f.fH == 3 && f.nqr == 2 {
			form = 2
		}
	}
	b2i := func(b bool) int {
		if b {
			return 1
		}
		return 0
	}
	kern := q8RowKernels[b2i(f.tail)][b2i(half)]
	switch {
	case f.wide:
		kern = q8WideKernels[b2i(f.fH == 3 && f.nqr == 5)][b2i(half)][b2i(f.sat)]
	case f.pooled:
		kern = q8PoolKernels[form][b2i(half)][b2i(f.sat)]
	}
	kern((*uint8)(unsafe.Pointer(&a[0])), &f.w[gr*per], &f.init[16*gr], &f.scale[16*gr], &f.k[0],
		&out[0], n, f.pstep, f.pitchB, f.fH, f.nqr, ldo, f.crow, shuf, 4*f.nqr)
}

// firstQ8Tiles lists the kernels of the form (wide or quads) this CPU
// runs, by name, for the differential tests (whatever prepare would
// pick).
func firstQ8Tiles(wide bool) map[string]q8RowFn {
	switch {
	case wide && hasAVX2:
		return map[string]q8RowFn{"avx2": convFirstQ8Tile}
	case !wide && hasFirstQ8:
		return map[string]q8RowFn{"avxvnni": convFirstQ8Tile}
	}
	return nil
}
