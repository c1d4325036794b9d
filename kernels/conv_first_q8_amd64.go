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

// firstQ8Available reports whether prepare may take the kernels: an
// AVX-VNNI CPU without AVX-512.
func firstQ8Available() bool { return hasFirstQ8 && !hasAVX512 }

// q8Kernel is every generated kernel's signature.
type q8Kernel func(a *uint8, w *int8, init *int32, scale *float32, k *int32, out *int8, n, pstep, wrow, fH, nqr, ldo, crow int, shuf *uint8, toff int)

// q8RowKernels are the row kernels by [form][half], form 0 without a
// tail quad, 1 with, 2 with for 3 rows of 2 whole quads (3×3 RGB
// windows), unrolled; q8PoolKernels the pooled ones by [form][half][sat].
var (
	q8RowKernels = [3][2]q8Kernel{
		{convFirstQ8Row, convFirstQ8RowHalf}, {convFirstQ8RowTail, convFirstQ8RowTailHalf}, {convFirstQ8RowTail3x2, convFirstQ8RowTail3x2Half}}
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
	kern := q8RowKernels[form][b2i(half)]
	if f.pooled {
		kern = q8PoolKernels[form][b2i(half)][b2i(f.sat)]
	}
	kern((*uint8)(unsafe.Pointer(&a[0])), &f.w[gr*per], &f.init[16*gr], &f.scale[16*gr], &f.k[0],
		&out[0], n, f.pstep, f.pitchB, f.fH, f.nqr, ldo, f.crow, shuf, 4*f.nqr)
}

// firstQ8Tiles lists the kernels this CPU runs, by name, for the
// differential test (whatever prepare would pick).
func firstQ8Tiles() map[string]q8RowFn {
	if !hasFirstQ8 {
		return nil
	}
	return map[string]q8RowFn{"avxvnni": convFirstQ8Tile}
}
