package kernels

import "github.com/qbench/qbench/kernels/gemm"

// The fused int8 segmented path with tail-quad weights
// (gemm.PackS8SegmentedTail): for a stride-1 conv whose window rows are
// not whole k quads, seed-cnn's 3×3 RGB first layer (9-byte window rows)
// above all. The product reads each window row's whole quads in place
// and gathers the leftover bytes of all fH rows into one more quad per
// pixel, 7 quads instead of the plain segmented layout's 9 (each window
// row padded to 3). It runs where gemm has kernels for the shape (AVX-VNNI
// without AVX-512; AVX-512 CPUs take the direct first-layer kernel,
// AVX2-only ones the wide table path) and rq is fused there; otherwise
// newSegS8Tail returns nil and the plain fused path runs.
//
// Its kernels store every row of a tile without testing the row map, so
// the map sends the pitch − outW dropped pixels at the end of each padded
// row to pixels of the next output row, which the product writes later
// (rows are computed in order on one thread): the output ends up as
// with the dropped rows skipped.

// tailSlack is the room the kernels' gather may read past a row tile's
// last byte (16 bytes per segment from each segment's leftover): with it
// after the padded image, every whole row tile runs in the main kernel
// call instead of from a copy.
const tailSlack = 16

// newSegS8Tail returns the tail-quad weights and the fused state for
// plan p, or nil, nil where they do not apply.
func newSegS8Tail(p *segPlan, g *convGeom, wv []int8, rq *gemm.Requant, zp int32) (*gemm.PackedS8, *segS8Fused) {
	// The dropped pixels' redirect needs fW − 1 ≤ outW (each lands on a
	// distinct pixel of the next row's start).
	if p == nil || p.perRow || p.lda != g.inC || p.vpitch != p.pitch || p.pitch-g.outW > g.outW || rq == nil {
		return nil, nil
	}
	w := gemm.PackS8SegmentedTail(wv, g.outC, g.k(), g.k(), p.seg, p.lda, rq)
	if w == nil || !w.FusesRequant(rq) {
		return nil, nil
	}
	n := p.padLen(g)
	if p.direct {
		n = g.inH * g.inW * g.inC
	}
	pad := int8(zp) ^ -128
	return w, &segS8Fused{rows: segRowMapFull(p, g), pool: &freeList{New: func() any {
		b := make([]int8, n+tailSlack)
		for i := range b {
			b[i] = pad
		}
		return &b
	}}}
}

// segRowMapFull is segRowMap with each dropped pixel x ≥ outW of block
// row y mapped to pixel x − outW of row y + 1 (which a later row of the
// product overwrites) instead of nowhere: a map of every row, for
// kernels that store rows untested.
func segRowMapFull(p *segPlan, g *convGeom) *gemm.RowMap {
	offs := make([]int, (p.rows-1)*p.vpitch+g.outW)
	for i := range offs {
		y, x := i/p.vpitch, i%p.vpitch
		if x >= g.outW {
			y, x = y+1, x-g.outW
		}
		offs[i] = (y*g.outW + x) * g.outC
	}
	return gemm.NewRowMap(offs, g.outC)
}
