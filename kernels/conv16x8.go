package kernels

// convInt16Fast is the 16x8 CONV_2D through the packed pair-product tiles
// (gemm16x8.go): im2col rows of int16 inputs, zero at padded taps, times
// the widened weights. convInt16's direct loop is its reference.
type convInt16Fast struct {
	*convInt16
	p   *pack16x8
	epi *x16Epi // nil unless the accumulator is int64
}

// newConvInt16Fast packs c's weights for the tiles of level lv.
func newConvInt16Fast(c *convInt16, lv x16Level) *convInt16Fast {
	f := &convInt16Fast{convInt16: c, p: newPack16x8(c.w, c.g.outC, c.g.k(), lv)}
	if c.rq.acc64 {
		f.epi = newX16Epi(c.rq)
	}
	return f
}

// Run implements Kernel.
func (c *convInt16Fast) Run(ins, outs []*Buffer) error {
	g := c.g
	in, out, batch, err := convBuffers(c.op, g, ins, outs)
	if err != nil {
		return err
	}
	rows := batch * g.outH * g.outW
	c.p.run(rows, c, in.I16[:batch*g.inH*g.inW*g.inC], c.rq, c.epi, out.I16[:rows*g.outC])
	return nil
}

// fill implements x16Rows: the im2col rows of output pixels r0 … (over
// the batch), or the input pixels themselves for an unpadded stride-1
// 1×1 convolution of even depth.
func (c *convInt16Fast) fill(s *x16Scratch, r0, cnt int) ([]int16, int) {
	g := c.g
	k, kp2 := g.k(), 2*c.p.kp
	if cnt == c.p.tile.mr && k%2 == 0 && g.pointwise() {
		return s.src[r0*k:], k
	}
	inRow, img := g.inW*g.inC, g.inH*g.inW*g.inC
	per := g.outH * g.outW
	for i := 0; i < cnt; i++ {
		row := s.a[i*kp2 : (i+1)*kp2]
		q := r0 + i
		b, rem := q/per, q%per
		oy, ox := rem/g.outW, rem%g.outW
		src := s.src[b*img : (b+1)*img]
		iy0, ix0 := oy*g.strideH-g.padT, ox*g.strideW-g.padL
		o := 0
		for ky := 0; ky < g.fH; ky++ {
			iy := iy0 + ky*g.dilH
			if iy < 0 || iy >= g.inH {
				clear(row[o : o+g.fW*g.inC])
				o += g.fW * g.inC
				continue
			}
			for kx := 0; kx < g.fW; kx++ {
				ix := ix0 + kx*g.dilW
				if ix < 0 || ix >= g.inW {
					clear(row[o : o+g.inC])
				} else {
					copy(row[o:o+g.inC], src[iy*inRow+ix*g.inC:])
				}
				o += g.inC
			}
		}
		clear(row[k:])
	}
	return s.a, kp2
}
