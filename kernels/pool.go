package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// MAX_POOL_2D and AVERAGE_POOL_2D over NHWC, float32, int8 and int16. The
// window is clipped to the image (padding never counts), as in TFLite's
// reference kernels; integer averages round half away from zero.

// prepareMaxPool2D builds a MAX_POOL_2D kernel (PrepareFunc).
func prepareMaxPool2D(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return preparePool(op, ins, outs, false)
}

// prepareAveragePool2D builds an AVERAGE_POOL_2D kernel (PrepareFunc).
func prepareAveragePool2D(op *graph.Op, ins, outs []*graph.Tensor) (Kernel, error) {
	return preparePool(op, ins, outs, true)
}

func preparePool(op *graph.Op, ins, outs []*graph.Tensor, avg bool) (Kernel, error) {
	opts, ok := op.Options.(*graph.Pool2DOptions)
	if !ok || opts == nil {
		return nil, fmt.Errorf("%s: missing Pool2DOptions", op.Kind)
	}
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return nil, fmt.Errorf("%s: needs input and output tensors", op.Kind)
	}
	in, out := ins[0], outs[0]
	g, err := newConvGeom(op, in, out, opts.FilterH, opts.FilterW, opts.StrideH, opts.StrideW, 1, 1, opts.Padding)
	if err != nil {
		return nil, err
	}
	if g.outC != g.inC {
		return nil, fmt.Errorf("%s: input %q has %d channels, output %q %d", op.Kind, in.Name, g.inC, out.Name, g.outC)
	}
	if in.DType != out.DType {
		return nil, unsupported(op, ins, outs, "input and output dtypes differ")
	}
	p := &pool{op: op, g: g, avg: avg}
	switch in.DType {
	case graph.Float32:
		if p.flo, p.fhi, err = ActivationRangeFloat(opts.Activation); err != nil {
			return nil, fmt.Errorf("%s: %w", op.Kind, err)
		}
		return &poolFloat{p}, nil
	case graph.Int8, graph.Int16:
		sOut, zpOut, err := tensorQuant(op, "output", out)
		if err != nil {
			return nil, err
		}
		if p.lo, p.hi, err = ActivationRangeQuantized(opts.Activation, out.DType, sOut, zpOut); err != nil {
			return nil, fmt.Errorf("%s: output %q: %w", op.Kind, out.Name, err)
		}
		if in.DType == graph.Int8 {
			return &poolInt8{p}, nil
		}
		return &poolInt16{p}, nil
	}
	return nil, unsupported(op, ins, outs, "no pooling kernel for this dtype")
}

// pool is the state shared by the dtype variants.
type pool struct {
	op       *graph.Op
	g        *convGeom
	avg      bool
	flo, fhi float32
	lo, hi   int32
}

// window returns the clipped window [y0, y1) × [x0, x1) of an output pixel.
func (p *pool) window(oy, ox int) (y0, y1, x0, x1 int) {
	g := p.g
	iy, ix := oy*g.strideH-g.padT, ox*g.strideW-g.padL
	return max(iy, 0), min(iy+g.fH, g.inH), max(ix, 0), min(ix+g.fW, g.inW)
}

// run drives one dtype: reduce is called per output pixel and channel with
// the clipped window and returns false when the window is empty.
func (p *pool) run(ins, outs []*Buffer, reduce func(img, c, y0, y1, x0, x1, o int) bool) error {
	g := p.g
	_, _, batch, err := convBuffers(p.op, g, ins, outs)
	if err != nil {
		return err
	}
	perImg := g.inH * g.inW * g.inC
	o := 0
	for b := 0; b < batch; b++ {
		for oy := 0; oy < g.outH; oy++ {
			for ox := 0; ox < g.outW; ox++ {
				y0, y1, x0, x1 := p.window(oy, ox)
				for c := 0; c < g.outC; c++ {
					if !reduce(b*perImg, c, y0, y1, x0, x1, o) {
						return fmt.Errorf("%s: output pixel (%d, %d) has an empty window", p.op.Kind, oy, ox)
					}
					o++
				}
			}
		}
	}
	return nil
}

type poolFloat struct{ *pool }

// Run implements Kernel.
func (p poolFloat) Run(ins, outs []*Buffer) error {
	g := p.g
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return fmt.Errorf("%s: missing input or output buffer", p.op.Kind)
	}
	src, dst := ins[0].F32, outs[0].F32
	return p.run(ins, outs, func(img, c, y0, y1, x0, x1, o int) bool {
		var acc float32
		if !p.avg {
			acc = -math.MaxFloat32
		}
		count := 0
		for y := y0; y < y1; y++ {
			for x := x0; x < x1; x++ {
				v := src[img+(y*g.inW+x)*g.inC+c]
				if p.avg {
					acc += v
				} else {
					acc = max(acc, v)
				}
				count++
			}
		}
		if p.avg {
			if count == 0 {
				return false
			}
			acc /= float32(count)
		}
		dst[o] = min(max(acc, p.flo), p.fhi)
		return true
	})
}

// reduceInt pools one channel of an integer image given an element getter.
func (p *pool) reduceInt(at func(i int) int32, img, c, y0, y1, x0, x1 int) (int32, bool) {
	g := p.g
	var acc int32
	if !p.avg {
		acc = math.MinInt32
	}
	count := int32(0)
	for y := y0; y < y1; y++ {
		for x := x0; x < x1; x++ {
			v := at(img + (y*g.inW+x)*g.inC + c)
			if p.avg {
				acc += v
			} else {
				acc = max(acc, v)
			}
			count++
		}
	}
	if p.avg {
		if count == 0 {
			return 0, false
		}
		// TFLite: round half away from zero with C's truncating division.
		if acc > 0 {
			acc = (acc + count/2) / count
		} else {
			acc = (acc - count/2) / count
		}
	}
	return min(max(acc, p.lo), p.hi), true
}

type poolInt8 struct{ *pool }

// Run implements Kernel.
func (p poolInt8) Run(ins, outs []*Buffer) error {
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return fmt.Errorf("%s: missing input or output buffer", p.op.Kind)
	}
	src, dst := ins[0].I8, outs[0].I8
	at := func(i int) int32 { return int32(src[i]) }
	return p.run(ins, outs, func(img, c, y0, y1, x0, x1, o int) bool {
		v, ok := p.reduceInt(at, img, c, y0, y1, x0, x1)
		if !ok && p.avg {
			return false
		}
		dst[o] = int8(v)
		return true
	})
}

type poolInt16 struct{ *pool }

// Run implements Kernel.
func (p poolInt16) Run(ins, outs []*Buffer) error {
	if len(ins) < 1 || ins[0] == nil || len(outs) < 1 || outs[0] == nil {
		return fmt.Errorf("%s: missing input or output buffer", p.op.Kind)
	}
	src, dst := ins[0].I16, outs[0].I16
	at := func(i int) int32 { return int32(src[i]) }
	return p.run(ins, outs, func(img, c, y0, y1, x0, x1, o int) bool {
		v, ok := p.reduceInt(at, img, c, y0, y1, x0, x1)
		if !ok && p.avg {
			return false
		}
		dst[o] = int16(v)
		return true
	})
}
