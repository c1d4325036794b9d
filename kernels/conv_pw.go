package kernels

import (
	"github.com/qbench/qbench/kernels/gemm"
)

// The fused int8 pointwise path. A 1×1 stride-1 convolution's im2col
// matrix is the NHWC input itself and its output rows are the NHWC
// output's, so the whole batch is one GEMM of batch·H·W rows. It runs on
// the fused segmented micro-kernels (one segment of inC bytes per row,
// requantization in registers, int8 rows stored in place) through a
// RowMap whose row i lands i·outC further on; that holds for any
// consecutive rows, so one map of pwChunk rows serves every chunk of
// every batch. The kernels read A offset to u8 (XOR 0x80), so each chunk
// of input rows is flipped into an L1-sized scratch first: one byte
// moved per outC multiply-adds.

// pwChunkBytes bounds the flipped input chunk (it stays in L1 while the
// kernels sweep the weight panels over it).
const pwChunkBytes = 16 << 10

// pwRowUnit is a multiple of every int8 tile height (6, 14, 28), so only
// a product's last chunk ends on a partial tile.
const pwRowUnit = 84

// pwS8 is the state of a fused int8 pointwise conv.
type pwS8 struct {
	chunk int          // rows per call
	rows  *gemm.RowMap // row i of a chunk at i·outC
	pool  *freeList    // *[]int8: chunk·inC flipped input bytes
}

// newPwS8 prepares the fused path over rows of k = g.k() bytes (a
// pointwise conv's input rows, or im2col rows) for weights w (packed by
// PackS8Segmented with one segment of k), or returns nil when the fused
// kernels do not cover w and rq.
func newPwS8(g *convGeom, w *gemm.PackedS8, rq *gemm.Requant) *pwS8 {
	if !w.FusesRequant(rq) {
		return nil
	}
	k := g.k()
	chunk := max(1, pwChunkBytes/(pwRowUnit*k)) * pwRowUnit
	off := make([]int, chunk)
	for i := range off {
		off[i] = i * g.outC
	}
	// Reads may run up to 3 bytes past a row's k (whole groups of 4);
	// the slack keeps the last row's inside the buffer, and the weights'
	// zero padding makes whatever they read count for nothing.
	n := chunk*k + 4
	return &pwS8{chunk: chunk, rows: gemm.NewRowMap(off, g.outC), pool: &freeList{New: func() any {
		b := make([]int8, n)
		return &b
	}}}
}

// runPwS8 is the fused pointwise convolution of m = batch·H·W pixels.
func (c *convInt8) runPwS8(m int, src, dst []int8) {
	f, k, n := c.pw, c.g.inC, c.g.outC
	bufp := f.pool.Get().(*[]int8)
	defer f.pool.Put(bufp)
	buf := *bufp
	for r0 := 0; r0 < m; r0 += f.chunk {
		rows := min(f.chunk, m-r0)
		xorCopy(buf, src[r0*k:(r0+rows)*k])
		c.w.MulRequantSegmentedRows(1, rows, buf[:rows*k+4], k, k, -c.inZP, c.rq.fast, dst[r0*n:(r0+rows)*n], f.rows)
	}
}

// runPadColFused is the padded im2col path (conv_padcol.go) through the
// fused kernels: the im2col rows of consecutive images, stored offset to
// u8, fill a chunk, and each chunk is one product whose rows land in
// place (the output's pixel rows are consecutive across images too).
func (c *convInt8) runPadColFused(batch int, src, dst []int8) {
	g, pc, f := c.g, c.padCol, c.pw
	k, n := g.k(), g.outC
	perImg, inImg := g.outH*g.outW, g.inH*g.inW*g.inC
	bufp := f.pool.Get().(*[]int8)
	defer f.pool.Put(bufp)
	padp := pc.pool.Get().(*[]int8)
	defer pc.pool.Put(padp)
	buf := *bufp
	fill, start := 0, 0 // rows in buf, and the first one's global index
	for b := 0; b < batch; b++ {
		img := src[b*inImg : (b+1)*inImg]
		a := img
		if !pc.p.direct {
			fillPadded(*padp, img, pc.p, g)
			a = *padp
		}
		for r0 := 0; r0 < perImg; {
			rows := min(f.chunk-fill, perImg-r0)
			pc.im2colPaddedXor(buf[fill*k:], a, g, r0, rows, 0x8080808080808080)
			fill += rows
			r0 += rows
			if fill == f.chunk {
				c.w.MulRequantSegmentedRows(1, fill, buf[:fill*k+4], k, k, -c.inZP, c.rq.fast, dst[start*n:(start+fill)*n], f.rows)
				start += fill
				fill = 0
			}
		}
	}
	if fill > 0 {
		c.w.MulRequantSegmentedRows(1, fill, buf[:fill*k+4], k, k, -c.inZP, c.rq.fast, dst[start*n:(start+fill)*n], f.rows)
	}
}

// pwS8Wide is the state of a wide fused int8 pointwise conv (CPUs whose
// int8 kernels work on int16 pairs): each chunk of input rows is widened
// to int16 into an L1-sized scratch (one vector instruction per 16
// values, against outC multiply-adds per value) and runs through
// gemm.PackedS8.MulRequantSegmentedRowsWide, requantized in the
// micro-kernel and stored in place, instead of the direct kernel
// sign-extending every pair once per column sliver into an int32 block
// and a requantization pass over it.
type pwS8Wide struct {
	w     *gemm.PackedS8
	chunk int          // rows per call
	rows  *gemm.RowMap // row i of a chunk at i·outC
	pool  *freeList    // *[]int16: chunk·inC widened input values, +1
}

// newPwS8Wide prepares the wide pointwise path for g with OHWI weights
// wv, or returns nil when the CPU has no wide kernels or they do not
// cover rq.
func newPwS8Wide(g *convGeom, wv []int8, rq *gemm.Requant) *pwS8Wide {
	k := g.k()
	if k == 0 {
		return nil
	}
	w := gemm.PackS8SegmentedWide(wv, g.outC, k, k, k)
	if w == nil || !w.FusesRequantWide(rq) {
		return nil
	}
	chunk := max(1, pwChunkBytes/(pwRowUnit*2*k)) * pwRowUnit
	off := make([]int, chunk)
	for i := range off {
		off[i] = i * g.outC
	}
	// An odd k's rows are read as whole pairs: the element past the
	// last row meets a zero weight but must lie inside the buffer.
	n := chunk*k + 1
	return &pwS8Wide{w: w, chunk: chunk, rows: gemm.NewRowMap(off, g.outC), pool: &freeList{New: func() any {
		b := make([]int16, n)
		return &b
	}}}
}

// runPwS8Wide is the wide fused pointwise convolution of m = batch·H·W
// pixels.
func (c *convInt8) runPwS8Wide(m int, src, dst []int8) {
	f, k, n := c.pww, c.g.inC, c.g.outC
	bufp := f.pool.Get().(*[]int16)
	defer f.pool.Put(bufp)
	buf := *bufp
	for r0 := 0; r0 < m; r0 += f.chunk {
		rows := min(f.chunk, m-r0)
		gemm.WidenS8(buf, src[r0*k:(r0+rows)*k])
		f.w.MulRequantSegmentedRowsWide(1, rows, buf[:rows*k+1], k, k, -c.inZP, c.rq.fast, dst[r0*n:(r0+rows)*n], f.rows)
	}
}
