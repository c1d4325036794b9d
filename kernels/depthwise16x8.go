package kernels

// dwInt16Fast is the 16x8 DEPTHWISE_CONV_2D (depth multiplier 1) with
// int32 sums: TFLite accumulates in int64, but a window of at most
// dw16MaxTaps taps sums products of at most 2^22 in magnitude, which
// cannot reach 2^31, so the int32 sums are the int64 ones. Each output
// pixel lists its window's in-image taps (input and weight offsets) and
// the vector loop (gemm16x8_amd64.s) sums whole blocks of channels over
// them; the int64 epilogue is x16Epi's. depthwiseInt16 is its reference.
// With a depth multiplier m > 1, output channel c reads input channel
// c/m: each image is first spread to outC channels (input channel i
// repeated m times), which costs one copy per input value and output
// channel — a tap's share of the multiplies — and the loop is then the
// multiplier-1 one over outC channels.
type dwInt16Fast struct {
	*depthwise
	lv      x16Level
	w32     []int32 // taps×C weights widened
	epi     *x16Epi
	scratch freeList // *dw16Scratch
}

// dw16MaxTaps is the largest window whose int32 sums cannot wrap.
const dw16MaxTaps = 511

// dw16MaxSpread bounds the spread image (int16 values) a multiplier > 1
// needs per Run: larger layers keep the reference loop.
const dw16MaxSpread = 1 << 24

// dw16Scratch is one Run's working memory.
type dw16Scratch struct {
	xoff, woff []int64 // the window's in-image taps
	acc        []int32 // one pixel's sums
	spread     []int16 // with a multiplier > 1: the image at outC channels
}

// newDwInt16Fast returns the fast form of d for level lv, or nil when it
// does not apply (windows too large, or a multiplier's spread image).
func newDwInt16Fast(d *depthwise, lv x16Level) *dwInt16Fast {
	g := d.g
	taps := g.fH * g.fW
	spread := 0
	if d.mult != 1 {
		spread = g.inH * g.inW * g.outC
	}
	if d.mult < 1 || taps > dw16MaxTaps || !d.rq.acc64 || spread > dw16MaxSpread || g.outC != g.inC*d.mult {
		return nil
	}
	f := &dwInt16Fast{depthwise: d, lv: lv, w32: make([]int32, len(d.wi)), epi: newX16Epi(d.rq)}
	for i, v := range d.wi {
		f.w32[i] = int32(v)
	}
	f.scratch.New = func() any {
		return &dw16Scratch{xoff: make([]int64, taps), woff: make([]int64, taps), acc: make([]int32, g.outC), spread: make([]int16, spread)}
	}
	return f
}

// Run implements Kernel.
func (d *dwInt16Fast) Run(ins, outs []*Buffer) error {
	g := d.g
	in, out, batch, err := convBuffers(d.op, g, ins, outs)
	if err != nil {
		return err
	}
	s := d.scratch.Get().(*dw16Scratch)
	defer d.scratch.Put(s)
	C, img := g.outC, g.inH*g.inW*g.inC
	o := 0
	for b := 0; b < batch; b++ {
		src := in.I16[b*img : (b+1)*img]
		if m := d.mult; m > 1 {
			for p := range g.inH * g.inW {
				row := s.spread[p*C : (p+1)*C]
				for i, v := range src[p*g.inC : (p+1)*g.inC] {
					for j := range m {
						row[i*m+j] = v
					}
				}
			}
			src = s.spread
		}
		for oy := 0; oy < g.outH; oy++ {
			iy0 := oy*g.strideH - g.padT
			for ox := 0; ox < g.outW; ox++ {
				ix0 := ox*g.strideW - g.padL
				taps := 0
				for ky := 0; ky < g.fH; ky++ {
					iy := iy0 + ky*g.dilH
					if iy < 0 || iy >= g.inH {
						continue
					}
					for kx := 0; kx < g.fW; kx++ {
						ix := ix0 + kx*g.dilW
						if ix < 0 || ix >= g.inW {
							continue
						}
						s.xoff[taps], s.woff[taps] = int64((iy*g.inW+ix)*C), int64((ky*g.fW+kx)*C)
						taps++
					}
				}
				acc := s.acc
				d.sums(acc, src, s.xoff[:taps], s.woff[:taps])
				d.epi.row(out.I16[o:o+C], acc, 0, d.lv)
				o += C
			}
		}
	}
	return nil
}

// sums sets acc[c] = Σ_t src[xoff[t]+c]·w32[woff[t]+c]: the vector loop
// on whole blocks of channels, the Go loop on the rest.
func (d *dwInt16Fast) sums(acc []int32, src []int16, xoff, woff []int64) {
	c0 := 0
	if len(xoff) > 0 {
		c0 = dw16Vec(d.lv, acc, src, xoff, woff, d.w32)
	} else {
		clear(acc)
		return
	}
	rest := acc[c0:]
	clear(rest)
	for t, xo := range xoff {
		x := src[int(xo)+c0 : int(xo)+len(acc)]
		w := d.w32[int(woff[t])+c0 : int(woff[t])+len(acc)]
		for c := range rest {
			rest[c] += int32(x[c]) * w[c]
		}
	}
}
