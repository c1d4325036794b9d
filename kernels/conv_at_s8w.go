package kernels

import "github.com/qbench/qbench/kernels/gemm"

// The wide fused int8 conv over a table of A rows, pathAuto's choice for
// every non-pointwise int8 conv on CPUs whose int8 kernels work on int16
// pairs (AVX2 without AVX-512). The constant-stride wide path
// (conv_seg_s8w.go) computes the pitch − outW padding pixels of each
// row and runs strided windows one output row per call, ending each on
// a partial tile; here neither happens.
// The padded image is widened to int16 once per image, and
// gemm.PackedS8.MulRequantSegmentedWideAt reads output pixel i's window
// rows in place from the offset a table gives (fH segments of fW·inC
// values, dilH padded rows apart), requantizes in the micro-kernel and
// stores the pixel into the NHWC output: no im2col copy, no int32 block,
// and every tile full (the table runs on across output rows).

// atS8Wide is the state of a table-addressed wide int8 conv.
type atS8Wide struct {
	w         *gemm.PackedS8
	p         *segPlan     // the padded image's layout (wp, hp, pitch, direct)
	arows     *gemm.ARows  // an image's output pixels' window starts
	rows      *gemm.RowMap // output pixel i at i·outC
	segStride int
	pool      *freeList // *[]int16: the widened padded image
}

// newAtS8Wide prepares the path for g, or returns nil when it does not
// apply: CPUs without the table kernels, requantizations they do not
// cover, dilated columns, negative padding, and padded images far
// larger than the input (huge row dilations).
func newAtS8Wide(g *convGeom, wv []int8, rq *gemm.Requant, zp int32) *atS8Wide {
	if rq == nil || (g.dilW != 1 && g.fW != 1) || g.padT < 0 || g.padL < 0 || g.k() == 0 || g.outH*g.outW == 0 {
		return nil
	}
	wp := (g.outW-1)*g.strideW + g.fW
	hp := (g.outH-1)*g.strideH + (g.fH-1)*g.dilH + 1
	if hp > 2*(g.inH+g.fH) || wp > 2*(g.inW+g.fW) {
		return nil
	}
	seg := g.fW * g.inC
	w := gemm.PackS8SegmentedWide(wv, g.outC, g.k(), g.k(), seg)
	if w == nil || !w.FusesRequantWideAt(rq) {
		return nil
	}
	p := &segPlan{wp: wp, hp: hp, pitch: wp}
	if g.padT == 0 && g.padL == 0 && wp <= g.inW && hp <= g.inH {
		p.direct, p.pitch = true, g.inW
	}
	c := g.inC
	starts := make([]int, g.outH*g.outW)
	outs := make([]int, len(starts))
	for oy := range g.outH {
		for ox := range g.outW {
			i := oy*g.outW + ox
			starts[i] = (oy*g.strideH*p.pitch + ox*g.strideW) * c
			outs[i] = i * g.outC
		}
	}
	segStride := g.dilH * p.pitch * c
	n := p.padLen(g)
	if p.direct {
		n = g.inH * g.inW * c
	}
	// The kernels read an odd segment's last pair whole: the element
	// past the last window meets a zero weight but must be in the buffer.
	n = max(n, w.WideAtNeed(starts[len(starts)-1], segStride))
	return &atS8Wide{w: w, p: p, arows: gemm.NewARows(starts), rows: gemm.NewRowMap(outs, g.outC), segStride: segStride,
		pool: &freeList{New: func() any {
			// The border keeps the zero point for the buffer's life:
			// fillWide only writes the interior.
			b := make([]int16, n)
			for i := range b {
				b[i] = int16(zp)
			}
			return &b
		}}}
}

// runAtS8Wide is the table-addressed wide int8 convolution over a batch.
func (c *convInt8) runAtS8Wide(batch int, src, dst []int8) {
	g, f := c.g, c.at
	bufp := f.pool.Get().(*[]int16)
	defer f.pool.Put(bufp)
	buf := *bufp
	inImg, outImg := g.inH*g.inW*g.inC, g.outH*g.outW*g.outC
	m := g.outH * g.outW
	for b := 0; b < batch; b++ {
		fillWide(buf, src[b*inImg:(b+1)*inImg], f.p, g)
		f.w.MulRequantSegmentedWideAt(1, m, buf, f.arows, f.segStride, -c.inZP, c.rq.fast, dst[b*outImg:(b+1)*outImg], f.rows)
	}
}
