//go:build !noasm

package kernels

// hasFirstBW16 gates the zmm int16-pair form (convFirstS8BW16):
// AVX-512BW without AVX-512 VNNI (Skylake-SP).
var hasFirstBW16 = hasAVX512BW && !hasVNNI

// firstS8Available reports whether the CPU runs a direct kernel:
// AVX-512 VNNI for VPDPBUSD in zmm, the window gather VBMI's VPERMI2B
// (convFirstS8VNNI) or, without VBMI, VPERMD and VPSHUFB (convFirstS8BW);
// else AVX-512BW, the latter gather and exact int16 pairs
// (convFirstS8BW16).
func firstS8Available() bool { return hasVNNI || hasFirstBW16 }

// firstS8Z16 reports whether the CPU's kernel is convFirstS8BW16, the
// one that reads wZ16.
func firstS8Z16() bool { return hasFirstBW16 }

// convFirstS8Tile is firstTileFn through the CPU's kernel.
func convFirstS8Tile(f *firstS8, g *convGeom, a []int8, gr int, out []int8) {
	switch {
	case hasVNNI:
		convFirstS8ZTile(f, g, a, gr, out)
	case hasFirstBW16:
		convFirstS8BW16Tile(f, g, a, gr, out)
	default:
		convFirstS8Ref(f, g, a, gr, out)
	}
}

// convFirstS8ZTile is firstTileFn through the zmm kernels, with the
// bounds the kernel relies on checked here: the last tile's loads run
// 64 bytes on from its first pixel, its stores reach the row's last
// output.
func convFirstS8ZTile(f *firstS8, g *convGeom, a []int8, gr int, out []int8) {
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

// convFirstS8BW16Tile is firstTileFn through the zmm int16-pair kernel
// (the bounds as convFirstS8ZTile's).
func convFirstS8BW16Tile(f *firstS8, g *convGeom, a []int8, gr int, out []int8) {
	nc := min(16, g.outC-16*gr)
	_ = a[(g.outW-1)/16*16*g.inC+int(f.maxOff)+63]
	_ = out[(g.outW-1)*g.outC+nc-1]
	kern := convFirstS8BW16
	if f.noMin {
		kern = convFirstS8BW16NoMin
	}
	kern(f.nq, &a[0], &f.offsW[0], &f.shufW[0], &f.wZ16[gr*f.nq*2048], &f.init[16*gr], &f.scale[16*gr], &f.k[0],
		&out[0], g.outC, g.outW, uint64(1)<<nc-1, 16*g.inC)
}

// firstS8Tiles lists the kernels this CPU runs, by name, for the
// differential test: each against convFirstS8Ref whatever the dispatch.
func firstS8Tiles() map[string]firstTileFn {
	m := map[string]firstTileFn{}
	if hasVNNI {
		m["zmm"] = convFirstS8ZTile
	}
	if hasAVX512BW {
		m["bw16"] = convFirstS8BW16Tile
	}
	return m
}
