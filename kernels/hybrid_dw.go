package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
)

// depthwiseHybrid is a hybrid DEPTHWISE_CONV_2D as TFLite's
// EvalHybridPerChannel computes it (its only hybrid depthwise kernel): each
// image is quantized asymmetrically to int8, each output channel c sums
// w[tap][c]·(x − zp) over the taps inside the image (dilated as the op
// says), and the output is (float32(dot)·s_x)·s_w[c] + bias, in that order
// (measured against the runtime; CONV_2D's per-channel kernel multiplies
// the scales first).
type depthwiseHybrid struct {
	op      *graph.Op
	g       *convGeom
	mult    int
	w       []int32 // [tap][outC], widened once
	chScale []float32
	bias    []float32
	lo, hi  float32
	x       s8Scratch
	acc     freeList // *[]int32, one per output channel
}

func newDepthwiseHybrid(op *graph.Op, g *convGeom, mult int, w, bias *graph.Tensor, act graph.Activation) (Kernel, error) {
	taps := g.fH * g.fW
	wv, scales, _, err := hybridWeights(op, w, g.outC, taps*g.outC)
	if err != nil {
		return nil, err
	}
	if len(scales) != g.outC {
		// TFLite's Prepare requires one scale per channel for a hybrid
		// depthwise filter.
		return nil, fmt.Errorf("%s: hybrid filter %q has %d scales, want one per output channel (%d)", op.Kind, w.Name, len(scales), g.outC)
	}
	bv, err := floatBias(op, bias, g.outC)
	if err != nil {
		return nil, err
	}
	if bv == nil {
		bv = make([]float32, g.outC)
	}
	lo, hi, err := ActivationRangeFloat(act)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", op.Kind, err)
	}
	d := &depthwiseHybrid{op: op, g: g, mult: mult, w: make([]int32, len(wv)), chScale: scales, bias: bv, lo: lo, hi: hi}
	for i, v := range wv {
		d.w[i] = int32(v)
	}
	d.acc.New = func() any { s := make([]int32, g.outC); return &s }
	return d, nil
}

// Run implements Kernel.
func (d *depthwiseHybrid) Run(ins, outs []*Buffer) error {
	g := d.g
	in, out, batch, err := convBuffers(d.op, g, ins, outs)
	if err != nil {
		return err
	}
	xp := d.x.get(len(in.F32))
	defer d.x.put(xp)
	xq := *xp
	ap := d.acc.Get().(*[]int32)
	defer d.acc.Put(ap)
	acc := *ap
	perIn := g.inH * g.inW * g.inC
	for b := 0; b < batch; b++ {
		img := xq[b*perIn : (b+1)*perIn]
		sf, zp := hybridAsymmetric(img, in.F32[b*perIn:(b+1)*perIn])
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				clear(acc)
				iy0, ix0 := oy*g.strideH-g.padT, ox*g.strideW-g.padL
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
						px := img[(iy*g.inW+ix)*g.inC:][:g.inC]
						wt := d.w[(ky*g.fW+kx)*g.outC:][:g.outC]
						for ic, v := range px {
							xv := int32(v) - zp
							for m := 0; m < d.mult; m++ {
								c := ic*d.mult + m
								acc[c] += wt[c] * xv
							}
						}
					}
				}
				dst := out.F32[((b*g.outH+oy)*g.outW+ox)*g.outC:][:g.outC]
				for c, a := range acc {
					v := float32(float32(float32(a)*sf)*d.chScale[c]) + d.bias[c]
					dst[c] = min(max(v, d.lo), d.hi)
				}
			}
		}
	}
	return nil
}
