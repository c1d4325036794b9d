package kernels

import (
	"encoding/binary"

	"github.com/qbench/qbench/kernels/gemm"
)

// The fused int8 segmented path: gemm.PackedS8.MulRequantSegmentedRows
// requantizes in the micro-kernel and stores each valid pixel straight
// into the NHWC output, reading a padded image whose bytes are offset to
// u8 (XOR 0x80) once here, so the kernel's inner loop has no sign flip.

// segS8Fused is the state of a fused int8 segmented conv.
type segS8Fused struct {
	rows *gemm.RowMap
	pool *freeList // *[]int8: the u8-offset padded image
}

// newSegS8Fused prepares the fused path for plan p (whole-row blocks),
// or returns nil when it does not apply: strided plans, or weights and
// requantization the fused kernels do not cover.
func newSegS8Fused(p *segPlan, g *convGeom, w *gemm.PackedS8, rq *gemm.Requant, zp int32) *segS8Fused {
	if p == nil || p.perRow || !w.FusesRequant(rq) {
		return nil
	}
	n := p.padLen(g)
	if p.direct {
		n = g.inH * g.inW * g.inC
	}
	// The border keeps the offset zero point for the buffer's life:
	// fillFlipped only writes the interior.
	pad := int8(zp) ^ -128
	return &segS8Fused{rows: segRowMap(p, g), pool: &freeList{New: func() any {
		b := make([]int8, n)
		for i := range b {
			b[i] = pad
		}
		return &b
	}}}
}

// xorCopy stores src XOR 0x80 per byte into dst (len(dst) ≥ len(src)).
func xorCopy(dst, src []int8) {
	d, s := int8Bytes(dst[:len(src)]), int8Bytes(src)
	if xor80Vec(d, s) {
		return
	}
	i := 0
	for ; i+8 <= len(s); i += 8 {
		binary.LittleEndian.PutUint64(d[i:i+8:i+8], binary.LittleEndian.Uint64(s[i:i+8:i+8])^0x8080808080808080)
	}
	for ; i < len(s); i++ {
		d[i] = s[i] ^ 0x80
	}
}

// fillFlipped is fillPadded storing each byte XOR 0x80; for a direct
// plan (no padding) it offsets the whole image.
func fillFlipped(dst, img []int8, p *segPlan, g *convGeom) {
	if p.direct {
		xorCopy(dst, img[:g.inH*g.inW*g.inC])
		return
	}
	fillInterior(dst, img, p, g, xorCopy)
}

// runSegS8Fused is the fused int8 segmented convolution over a batch.
func (c *convInt8) runSegS8Fused(batch int, src, dst []int8) {
	p, g, f := c.seg, c.g, c.fused
	bufp := f.pool.Get().(*[]int8)
	defer f.pool.Put(bufp)
	buf := *bufp
	segRowBlocks(p, g, batch, src, dst, func(img []int8) []int8 { fillFlipped(buf, img, p, g); return buf },
		func(m int, a, out []int8) {
			c.w.MulRequantSegmentedRows(1, m, a, p.lda, p.segStride, -c.inZP, c.rq.fast, out, f.rows)
		})
}
