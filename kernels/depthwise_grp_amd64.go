//go:build amd64 && !noasm

package kernels

import (
	"unsafe"

	"golang.org/x/sys/cpu"
)

// hasVNNI gates the VPDPBUSD depthwise loops (AVX-512 VNNI, with BW for
// the byte moves as package gemm requires).
var hasVNNI = cpu.X86.HasAVX512F && cpu.X86.HasAVX512BW && cpu.X86.HasAVX512VNNI

// dwInterleave4AVX2 writes n32 chunks of 128 bytes to dst: for byte i of
// the chunk, dst[4i+k] = s_k[i] XOR xor (k = 0…3), reading 32 bytes of
// each source per chunk.
//
//go:noescape
func dwInterleave4AVX2(dst, s0, s1, s2, s3 *byte, n32 int, xor uint32)

// dwInterleave2S8AVX2 writes n16 chunks of 64 bytes to dst: for byte i,
// the int16 pair (s0[i], s1[i]) sign-extended from int8.
//
//go:noescape
func dwInterleave2S8AVX2(dst, s0, s1 *byte, n16 int)

// dwInterleave2U8AVX2 is dwInterleave2S8AVX2 zero-extending uint8.
//
//go:noescape
func dwInterleave2U8AVX2(dst, s0, s1 *byte, n16 int)

// The accumulation loops share dwAccS8x64AVX512's arguments: acc (row
// stride accStride bytes), src and step (bytes), the taps' byte offsets,
// the weights ([ntaps][lanes] dwords of P packed taps each), the start
// values, the pixel count.

//go:noescape
func dwDotX64VNNI(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)

//go:noescape
func dwDotX16VNNI(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)

//go:noescape
func dwMaddX32AVX2(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)

//go:noescape
func dwMaddX8AVX2(acc *int32, accStride int, src *byte, step int, off *int, ntaps int, w *int32, init *int32, npix int)

// dwGrpAvailable reports which tap-grouped loops run: VNNI's 4-tap one,
// and AVX2's 2-tap one on CPUs without VNNI — with AVX-512 (Skylake-SP)
// only where dwGrp.pays prefers it to dwVec's loops (on the zoo's 3×3
// layers those are faster than the 2-tap ymm loop).
func dwGrpAvailable() (vnni, pairs bool) { return hasVNNI, hasAVX2 && !hasVNNI }

// dwGrpRunnable reports which tap-grouped loops this CPU can run (the
// tests check each).
func dwGrpRunnable() (vnni, pairs bool) { return hasVNNI, hasAVX2 }

// interleave writes the sources into dst as X's lanes (see dwGrp) with
// the vector loop and returns how many bytes of each source it did: all
// of them, the last chunk overlapping the one before (it writes the
// same bytes), unless a row is shorter than one chunk.
func (p *dwGrp) interleave(dst []byte, s [][]byte) int {
	L := len(s[0])
	chunk := 16
	if p.P == 4 {
		chunk = 32
	}
	if L < chunk {
		return 0
	}
	p.interleaveChunks(dst, s, 0, L/chunk)
	if L%chunk != 0 {
		p.interleaveChunks(dst, s, L-chunk, 1)
	}
	return L
}

// interleaveChunks runs the vector loop on n chunks from byte i0.
func (p *dwGrp) interleaveChunks(dst []byte, s [][]byte, i0, n int) {
	if p.P == 4 {
		e := i0 + 32*n
		_, _, _, _, _ = dst[4*e-1], s[0][e-1], s[1][e-1], s[2][e-1], s[3][e-1]
		xor := uint32(0x80808080)
		if p.u8 {
			xor = 0
		}
		dwInterleave4AVX2(&dst[4*i0], &s[0][i0], &s[1][i0], &s[2][i0], &s[3][i0], n, xor)
		return
	}
	e := i0 + 16*n
	_, _, _ = dst[4*e-1], s[0][e-1], s[1][e-1]
	if p.u8 {
		dwInterleave2U8AVX2(&dst[4*i0], &s[0][i0], &s[1][i0], n)
	} else {
		dwInterleave2S8AVX2(&dst[4*i0], &s[0][i0], &s[1][i0], n)
	}
}

// accBlock runs one channel block's loop (n lanes, ntaps (group, column)
// taps with weights w and start values init) over npix pixels; the caller
// (dwGrp.pixels) has checked the bounds.
func (p *dwGrp) accBlock(acc []int32, accStride int, x []byte, step, npix, ntaps int, w, init *int32, n int) {
	a, s := &acc[0], &x[0]
	switch {
	case p.vnni && n == 64:
		dwDotX64VNNI(a, accStride, s, step, &p.off[0], ntaps, w, init, npix)
	case p.vnni:
		dwDotX16VNNI(a, accStride, s, step, &p.off[0], ntaps, w, init, npix)
	case n == 32:
		dwMaddX32AVX2(a, accStride, s, step, &p.off[0], ntaps, w, init, npix)
	default:
		dwMaddX8AVX2(a, accStride, s, step, &p.off[0], ntaps, w, init, npix)
	}
}

// accPacked runs groups of packP pixels of one row as one wide pixel
// (see dwGrp.packP), phase s: group q's accumulators at acc[q·wide:],
// its windows at x[base + 4·q·wide …].
func (p *dwGrp) accPacked(acc []int32, x []byte, base, groups, s int) {
	if groups == 0 {
		return
	}
	wb := 4 * p.wide
	ntaps := p.gs[s] * p.fW
	_, _ = x[base+(groups-1)*wb+p.off[ntaps-1]+wb-1], acc[groups*p.wide-1]
	s0 := (*byte)(unsafe.Add(unsafe.Pointer(&x[0]), base))
	if p.vnni {
		dwDotX64VNNI(&acc[0], wb, s0, wb, &p.off[0], ntaps, &p.w[p.packW[s]], &p.init[p.packInit], groups)
		return
	}
	dwMaddX32AVX2(&acc[0], wb, s0, wb, &p.off[0], ntaps, &p.w[p.packW[s]], &p.init[p.packInit], groups)
}

// dwGrpQAvailable reports whether the fused loops exist in this build.
func dwGrpQAvailable() bool { return true }

// accQ runs one channel block's fused loop (n lanes; see accBlock) over
// npix pixels into dst; the caller has checked the bounds.
func (p *dwGrp) accQ(dst *int8, dstStride int, x *byte, step, npix, ntaps int, w, init, prm *int32, mask uint64, n int) {
	off := &p.off[0]
	switch {
	case p.vnni && n == 64:
		dwDotX64VNNIQ(dst, dstStride, x, step, off, ntaps, w, init, npix, prm, mask)
	case p.vnni:
		dwDotX16VNNIQ(dst, dstStride, x, step, off, ntaps, w, init, npix, prm, mask)
	case n == 32:
		dwMaddX32AVX2Q(dst, dstStride, x, step, off, ntaps, w, init, npix, prm, mask)
	default:
		dwMaddX8AVX2Q(dst, dstStride, x, step, off, ntaps, w, init, npix, prm, mask)
	}
}
