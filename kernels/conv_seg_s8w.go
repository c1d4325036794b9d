package kernels

import (
	"github.com/qbench/qbench/kernels/gemm"
)

// The wide fused int8 segmented path, for CPUs whose int8 kernels work on
// int16 pairs (AVX2 without AVX-512): the padded image is widened to
// int16 once per image, and gemm.PackedS8.MulRequantSegmentedRowsWide
// reads it in place, requantizes in the micro-kernel and stores each
// valid pixel straight into the NHWC output (no gathered rows, no int32
// block, no requantization pass, no row copies).

// segS8Wide is the state of a wide fused int8 segmented conv.
type segS8Wide struct {
	w    *gemm.PackedS8
	rows *gemm.RowMap
	pool *freeList // *[]int16: the widened padded image
}

// newSegS8Wide prepares the wide path for plan p (whole-row blocks or
// one call per output row), or returns nil when it does not apply: CPUs
// without wide kernels and requantizations they do not cover.
func newSegS8Wide(p *segPlan, g *convGeom, wv []int8, rq *gemm.Requant, zp int32) *segS8Wide {
	if p == nil || rq == nil {
		return nil
	}
	w := gemm.PackS8SegmentedWide(wv, g.outC, g.k(), g.k(), p.seg)
	if w == nil || !w.FusesRequantWide(rq) {
		return nil
	}
	n := p.padLen(g)
	if p.direct {
		n = g.inH * g.inW * g.inC
	}
	// The border keeps the zero point for the buffer's life: fillWide
	// only writes the interior.
	var rows *gemm.RowMap
	if p.perRow {
		// One output row per call: A row i is pixel i.
		offs := make([]int, g.outW)
		for i := range offs {
			offs[i] = i * g.outC
		}
		rows = gemm.NewRowMap(offs, g.outC)
	} else {
		rows = segRowMap(p, g)
	}
	return &segS8Wide{w: w, rows: rows, pool: &freeList{New: func() any {
		b := make([]int16, n)
		for i := range b {
			b[i] = int16(zp)
		}
		return &b
	}}}
}

// fillWide is fillPadded widening each value to int16; for a direct plan
// (no padding) it widens the whole image.
func fillWide(dst []int16, img []int8, p *segPlan, g *convGeom) {
	if p.direct {
		gemm.WidenS8(dst, img[:g.inH*g.inW*g.inC])
		return
	}
	fillInterior(dst, img, p, g, gemm.WidenS8)
}

// runSegS8Wide is the wide fused int8 segmented convolution over a batch.
func (c *convInt8) runSegS8Wide(batch int, src, dst []int8) {
	p, g, f := c.seg, c.g, c.wide
	bufp := f.pool.Get().(*[]int16)
	defer f.pool.Put(bufp)
	buf := *bufp
	inImg := g.inH * g.inW * g.inC
	outRow := g.outW * g.outC
	for b := 0; b < batch; b++ {
		fillWide(buf, src[b*inImg:(b+1)*inImg], p, g)
		out := dst[b*g.outH*outRow : (b+1)*g.outH*outRow]
		if p.perRow {
			for y := 0; y < g.outH; y++ {
				f.w.MulRequantSegmentedRowsWide(1, g.outW, buf[y*g.strideH*p.pitch*g.inC:], p.lda, p.segStride, -c.inZP, c.rq.fast, out[y*outRow:], f.rows)
			}
			continue
		}
		for y0 := 0; y0 < g.outH; y0 += p.rows {
			rows := min(p.rows, g.outH-y0)
			f.w.MulRequantSegmentedRowsWide(1, (rows-1)*p.vpitch+g.outW, buf[y0*g.strideH*p.pitch*g.inC:], p.lda, p.segStride, -c.inZP, c.rq.fast, out[y0*outRow:], f.rows)
		}
	}
}
