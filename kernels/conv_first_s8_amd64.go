//go:build !noasm

package kernels

// firstS8Available reports whether the CPU runs the direct kernel:
// AVX-512 VNNI for VPDPBUSD; the window gather is VBMI's VPERMI2B
// (convFirstS8VNNI) or, without VBMI, VPERMD and VPSHUFB (convFirstS8BW).
func firstS8Available() bool { return hasVNNI }

// convFirstS8Tile is firstTileFn through the kernel, with the bounds
// the kernel relies on checked here: the last tile's loads run 64 bytes
// on from its first pixel, its stores reach the row's last output.
func convFirstS8Tile(f *firstS8, g *convGeom, a []int8, gr int, out []int8) {
	nc := min(16, g.outC-16*gr)
	_ = a[(g.outW-1)/16*16*g.inC+int(f.maxOff)+63]
	_ = out[(g.outW-1)*g.outC+nc-1]
	kern, offs, idx := convFirstS8VNNI, &f.offs[0], &f.idx[0]
	switch {
	case hasVBMI && f.noMin:
		kern = convFirstS8VNNINoMin
	case !hasVBMI && f.noMin:
		kern, offs, idx = convFirstS8BWNoMin, &f.offsW[0], &f.shufW[0]
	case !hasVBMI:
		kern, offs, idx = convFirstS8BW, &f.offsW[0], &f.shufW[0]
	}
	kern(f.nq, &a[0], offs, idx, &f.w[gr*f.nq*64], &f.init[16*gr], &f.scale[16*gr], &f.k[0],
		&out[0], g.outC, g.outW, uint64(1)<<nc-1, 16*g.inC)
}
