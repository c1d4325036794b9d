package kernels

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// RESIZE_BILINEAR and RESIZE_NEAREST_NEIGHBOR on 4-D NHWC tensors, for
// float32, int8, uint8 and int16. Quantized inputs and outputs keep the
// stored integers' meaning (TFLite never rescales here), so the kernels
// interpolate raw values.
//
// TFLite has several arithmetics for the same op and qbench reproduces
// each (the rounding mode picks, see resizeArith). Bilinear interpolation
// is separable: every form computes, per output row and per output column,
// the two source positions and a weight, then combines four neighbours.
// Positions and weights are computed once when the size input is constant
// and per Run otherwise.

// resizeArith names one interpolation arithmetic.
type resizeArith int

const (
	// rzFloatRef is TFLite's reference bilinear (reference_ops, and TFLite
	// Micro): the four corner products summed in float32.
	rzFloatRef resizeArith = iota
	// rzFloatOpt is TFLite's optimized float bilinear: an exact 2x
	// upsample without align_corners and half_pixel_centers takes a
	// halving special case, other sizes accumulate the four corners
	// one after the other into a zeroed output.
	rzFloatOpt
	// rzXNNF32 is XNNPACK's float bilinear (the delegate the runtime
	// applies): lerp along x on the top and bottom rows, then along y.
	rzXNNF32
	// rzInt10 is TFLite's integer bilinear for int8 and int16
	// (ResizeBilinearInteger): positions in 10 fractional bits, a 20-bit
	// product rounded half away from zero.
	rzInt10
	// rzU8Float is TFLite's optimized uint8 bilinear: the float32
	// reference weights, plus 0.5, truncated.
	rzU8Float
	// rzXNNQ11 is XNNPACK's 8-bit bilinear: float32 positions, weights
	// rounded to 11 fractional bits, a 22-bit result rounded half up.
	rzXNNQ11
	// rzNearestRef is TFLite's reference nearest neighbour: float32
	// positions, floored (rounded half away with align_corners).
	rzNearestRef
	// rzNearestFixed is TFLite's optimized uint8 nearest neighbour
	// without align_corners and half_pixel_centers: a 16.16 fixed-point
	// step (in<<16)/out + 1.
	rzNearestFixed
)

var resizeArithNames = [...]string{"float reference", "float optimized", "XNNPACK float", "integer (10-bit)",
	"uint8 float", "XNNPACK 8-bit (11-bit weights)", "nearest reference", "nearest 16.16"}

func (a resizeArith) String() string { return resizeArithNames[a] }

// resizeArithFor returns the arithmetic the TFLite variant selected by rnd
// uses for this resize: RuntimeRounding is the runtime with its XNNPACK
// delegate (which takes float32, int8 and uint8 bilinear with a constant
// size, measured against the oracle: TestResizeMatchesTFLite), SingleRounding TFLite's builtin kernels alone, DoubleRounding
// the reference kernels (TFLite Micro).
func resizeArithFor(rnd fixedpoint.Rounding, nearest bool, dt graph.DType, o *graph.ResizeOptions) resizeArith {
	if nearest {
		if dt == graph.UInt8 && rnd != fixedpoint.DoubleRounding && !o.AlignCorners && !o.HalfPixelCenters {
			return rzNearestFixed
		}
		return rzNearestRef
	}
	runtime := rnd == fixedpoint.RuntimeRounding
	switch dt {
	case graph.Float32:
		switch rnd {
		case fixedpoint.RuntimeRounding:
			return rzXNNF32
		case fixedpoint.SingleRounding:
			return rzFloatOpt
		}
		return rzFloatRef
	case graph.Int8:
		if runtime {
			return rzXNNQ11
		}
		return rzInt10
	case graph.UInt8:
		if runtime {
			return rzXNNQ11
		}
		return rzU8Float
	}
	return rzInt10
}

func prepareResize(p *prep) (Kernel, error) {
	x, size, y := p.in(0), p.in(1), p.out(0)
	if x == nil || size == nil || y == nil {
		return nil, fmt.Errorf("%s: needs an input, a size and an output", p.op.Kind)
	}
	o, err := resizeOptions(p.op)
	if err != nil {
		return nil, err
	}
	nearest := p.op.Kind == graph.OpResizeNearestNeighbor
	switch x.DType {
	case graph.Float32, graph.Int8, graph.UInt8, graph.Int16:
	default:
		return nil, p.unsupported("dtype")
	}
	if y.DType != x.DType {
		return nil, p.unsupported(fmt.Sprintf("input %q and output %q dtypes differ", x.Name, y.Name))
	}
	if size.DType != graph.Int32 {
		return nil, fmt.Errorf("%s: size %q is %s, want int32", p.op.Kind, size.Name, size.DType)
	}
	if len(x.Shape) != 4 || len(y.Shape) != 4 {
		return nil, fmt.Errorf("%s: input %q %v and output %q %v must be 4-D", p.op.Kind, x.Name, x.Shape, y.Name, y.Shape)
	}
	if y.Shape[0] != x.Shape[0] || y.Shape[3] != x.Shape[3] {
		return nil, fmt.Errorf("%s: output %q %v must keep the batch and channels of input %q %v: %w",
			p.op.Kind, y.Name, y.Shape, x.Name, x.Shape, graph.ErrShape)
	}
	if !nearest && o.AlignCorners && o.HalfPixelCenters {
		return nil, fmt.Errorf("%s: align_corners and half_pixel_centers are both set (TFLite refuses it)", p.op.Kind)
	}
	k := &resizeKernel{op: p.op, opts: *o, dt: x.DType, arith: resizeArithFor(p.rnd, nearest, x.DType, o),
		inShape: [4]int{x.Shape[0], x.Shape[1], x.Shape[2], x.Shape[3]}}
	if (k.arith == rzXNNF32 || k.arith == rzXNNQ11) && (!size.IsConst() || size.Folded) {
		// The delegate takes a resize only when its size is a constant
		// of the file; a size computed at run time (or folded by qbench
		// from a computation TFLite runs) goes to the builtin kernel.
		k.arith = resizeArithFor(fixedpoint.SingleRounding, nearest, x.DType, o)
	}
	if v := tensorInts(size); v != nil {
		if len(v) != 2 || v[0] != y.Shape[1] || v[1] != y.Shape[2] {
			return nil, fmt.Errorf("%s: size %v does not give output %q %v: %w", p.op.Kind, v, y.Name, y.Shape, graph.ErrShape)
		}
		k.plan = k.newPlan(v[0], v[1]) // after the arithmetic is settled: the plan is in its form
	}
	return k, nil
}

func resizeOptions(op *graph.Op) (*graph.ResizeOptions, error) {
	if op.Options == nil {
		return &graph.ResizeOptions{}, nil
	}
	o, ok := op.Options.(*graph.ResizeOptions)
	if !ok {
		return nil, fmt.Errorf("%s: options are %T", op.Kind, op.Options)
	}
	return o, nil
}

type resizeKernel struct {
	op      *graph.Op
	opts    graph.ResizeOptions
	dt      graph.DType
	arith   resizeArith
	inShape [4]int
	plan    *resizePlan // nil: the size input is read per Run
}

// resizeAxis holds, for each output coordinate along one axis, the two
// source coordinates and the weight in the arithmetic's own form.
type resizeAxis struct {
	lo, hi []int32
	f      []float32 // float position (rzFloatRef, rzFloatOpt, rzU8Float) or alpha (rzXNNF32, rzXNNQ11)
	q      []int32   // 10-bit position (rzInt10) or 11-bit alpha (rzXNNQ11)
}

type resizePlan struct {
	outH, outW int
	ys, xs     resizeAxis
	twoX       bool // rzFloatOpt's 2x special case
}

func (k *resizeKernel) newPlan(outH, outW int) *resizePlan {
	pl := &resizePlan{outH: outH, outW: outW}
	pl.ys = k.axis(k.inShape[1], outH)
	pl.xs = k.axis(k.inShape[2], outW)
	pl.twoX = k.arith == rzFloatOpt && !k.opts.AlignCorners && !k.opts.HalfPixelCenters &&
		outH == 2*k.inShape[1] && outW == 2*k.inShape[2]
	return pl
}

// tfliteScale is TFLite's float32 source/destination ratio.
func (k *resizeKernel) tfliteScale(in, out int) float32 {
	if k.opts.AlignCorners && out > 1 {
		return float32(in-1) / float32(out-1)
	}
	return float32(in) / float32(out)
}

func (k *resizeKernel) axis(in, out int) resizeAxis {
	a := resizeAxis{lo: make([]int32, out), hi: make([]int32, out)}
	half := k.opts.HalfPixelCenters
	switch k.arith {
	case rzFloatRef, rzFloatOpt, rzU8Float:
		a.f = make([]float32, out)
		scale := k.tfliteScale(in, out)
		for i := range out {
			var v float32
			if half {
				v = float32((float32(i)+0.5)*scale) - 0.5
			} else {
				v = float32(float32(i) * scale)
			}
			a.f[i] = v
			a.lo[i] = max(int32(math.Floor(float64(v))), 0)
			a.hi[i] = min(int32(math.Ceil(float64(v))), int32(in-1))
		}
	case rzInt10:
		a.q = make([]int32, out)
		var s10 int32
		if k.opts.AlignCorners && out > 1 {
			s10 = int32((1024*(in-1) + (out-1)/2) / (out - 1))
		} else {
			s10 = int32((1024*in + out/2) / out)
		}
		for i := range out {
			v := int32(i) * s10
			if half {
				v += s10/2 - 512
			}
			a.q[i] = v
			a.lo[i] = max(v/1024, 0)
			a.hi[i] = min((v+1023)/1024, int32(in-1))
		}
	case rzXNNF32, rzXNNQ11:
		a.f = make([]float32, out)
		if k.arith == rzXNNQ11 {
			a.q = make([]int32, out)
		}
		adj := 0
		if k.opts.AlignCorners && out != 1 {
			adj = 1
		}
		scale := float32(in-adj) / float32(out-adj)
		legacy := k.opts.AlignCorners || !half
		offset := float32(float32(0.5*scale) - 0.5)
		for i := range out {
			v := float32(float32(i) * scale)
			if !legacy {
				v = min(max(v+offset, 0), float32(in-1))
			}
			lo := int32(v)
			a.lo[i] = lo
			a.hi[i] = min(lo+1, int32(in-1))
			a.f[i] = v - float32(lo)
			if a.q != nil {
				a.q[i] = int32(int16(math.RoundToEven(float64(float32(a.f[i] * 2048)))))
			}
		}
	case rzNearestRef:
		scale := k.tfliteScale(in, out)
		var off float32
		if half {
			off = 0.5
		}
		for i := range out {
			p := float32((float32(i) + off) * scale)
			var v int32
			if k.opts.AlignCorners {
				v = int32(math.Round(float64(p)))
			} else {
				v = int32(math.Floor(float64(p)))
			}
			v = min(v, int32(in-1))
			if half {
				v = max(v, 0)
			}
			a.lo[i] = v
		}
	case rzNearestFixed:
		step := int32((in<<16)/out + 1)
		for i := range out {
			a.lo[i] = min((int32(i)*step)>>16, int32(in-1))
		}
	}
	return a
}

// Run implements Kernel.
func (k *resizeKernel) Run(ins, outs []*Buffer) error {
	x, y := ins[0], outs[0]
	pl := k.plan
	if pl == nil {
		v, err := bufInts(ins[1])
		if err != nil {
			return fmt.Errorf("%s: size: %w", k.op.Kind, err)
		}
		if len(v) != 2 || v[0] <= 0 || v[1] <= 0 {
			return fmt.Errorf("%s: size %v must be two positive values", k.op.Kind, v)
		}
		if len(y.Shape) != 4 || v[0] != y.Shape[1] || v[1] != y.Shape[2] {
			return fmt.Errorf("%s: size %v does not give the planned output %v: %w", k.op.Kind, v, y.Shape, graph.ErrShape)
		}
		pl = k.newPlan(v[0], v[1])
	}
	n, c := k.inShape[0], k.inShape[3]
	if bufLen(x) != n*k.inShape[1]*k.inShape[2]*c || bufLen(y) != n*pl.outH*pl.outW*c {
		return fmt.Errorf("%s: buffers hold %d and %d elements, want %d and %d", k.op.Kind, bufLen(x), bufLen(y),
			n*k.inShape[1]*k.inShape[2]*c, n*pl.outH*pl.outW*c)
	}
	switch k.arith {
	case rzNearestRef, rzNearestFixed:
		k.nearest(pl, x, y)
		return nil
	}
	switch k.dt {
	case graph.Float32:
		k.bilinearFloat(pl, x.F32, y.F32)
	case graph.Int8:
		bilinearInt(k, pl, x.I8, y.I8)
	case graph.UInt8:
		bilinearInt(k, pl, x.U8, y.U8)
	case graph.Int16:
		bilinearInt(k, pl, x.I16, y.I16)
	}
	return nil
}

// nearest copies, per output pixel, the channels of the chosen source
// pixel (by element width, like the layout ops).
func (k *resizeKernel) nearest(pl *resizePlan, x, y *Buffer) {
	switch k.dt.Size() {
	case 1:
		nearestCopy(k, pl, raw[uint8](x), raw[uint8](y))
	case 2:
		nearestCopy(k, pl, raw[uint16](x), raw[uint16](y))
	default:
		nearestCopy(k, pl, raw[uint32](x), raw[uint32](y))
	}
}

func nearestCopy[T uint8 | uint16 | uint32](k *resizeKernel, pl *resizePlan, x, y []T) {
	inH, inW, c := k.inShape[1], k.inShape[2], k.inShape[3]
	o := 0
	for b := range k.inShape[0] {
		img := x[b*inH*inW*c:]
		for oy := range pl.outH {
			row := img[int(pl.ys.lo[oy])*inW*c:]
			for ox := range pl.outW {
				s := int(pl.xs.lo[ox]) * c
				copy(y[o:o+c], row[s:s+c])
				o += c
			}
		}
	}
}

// corners returns the offsets of the four neighbours of output (oy, ox)
// in image b: top-left, top-right, bottom-left, bottom-right.
func (k *resizeKernel) corners(pl *resizePlan, b, oy, ox int) (tl, tr, bl, br int) {
	inH, inW, c := k.inShape[1], k.inShape[2], k.inShape[3]
	base := b * inH * inW * c
	y0, y1 := int(pl.ys.lo[oy])*inW*c, int(pl.ys.hi[oy])*inW*c
	x0, x1 := int(pl.xs.lo[ox])*c, int(pl.xs.hi[ox])*c
	return base + y0 + x0, base + y0 + x1, base + y1 + x0, base + y1 + x1
}

func (k *resizeKernel) bilinearFloat(pl *resizePlan, x, y []float32) {
	c := k.inShape[3]
	if pl.twoX {
		k.float2x(pl, x, y)
		return
	}
	o := 0
	for b := range k.inShape[0] {
		for oy := range pl.outH {
			for ox := range pl.outW {
				tl, tr, bl, br := k.corners(pl, b, oy, ox)
				switch k.arith {
				case rzXNNF32:
					ah, av := pl.xs.f[ox], pl.ys.f[oy]
					for ch := range c {
						t := x[tl+ch] + float32((x[tr+ch]-x[tl+ch])*ah)
						d := x[bl+ch] + float32((x[br+ch]-x[bl+ch])*ah)
						y[o+ch] = t + float32((d-t)*av)
					}
				default:
					// dy, dx are the fractional parts as TFLite computes
					// them (position minus the lower index, in float32).
					dy := pl.ys.f[oy] - float32(pl.ys.lo[oy])
					dx := pl.xs.f[ox] - float32(pl.xs.lo[ox])
					if k.arith == rzFloatRef {
						for ch := range c {
							v := float32(float32(x[tl+ch]*(1-dy))*(1-dx)) + float32(float32(x[bl+ch]*dy)*(1-dx))
							v += float32(float32(x[tr+ch]*(1-dy)) * dx)
							v += float32(float32(x[br+ch]*dy) * dx)
							y[o+ch] = v
						}
						break
					}
					s00, s01 := float32((1-dy)*(1-dx)), float32((1-dy)*dx)
					s10, s11 := float32(dy*(1-dx)), float32(dy*dx)
					for ch := range c {
						v := float32(x[tl+ch] * s00)
						v += float32(x[tr+ch] * s01)
						v += float32(x[bl+ch] * s10)
						v += float32(x[br+ch] * s11)
						y[o+ch] = v
					}
				}
				o += c
			}
		}
	}
}

// float2x is TFLite's optimized exact 2x float upsample: each input pixel
// gives a 2x2 block of itself and the halved sums of its right and lower
// neighbours (the last row and column repeat themselves).
func (k *resizeKernel) float2x(pl *resizePlan, x, y []float32) {
	inH, inW, c := k.inShape[1], k.inShape[2], k.inShape[3]
	outW := pl.outW
	for b := range k.inShape[0] {
		src := x[b*inH*inW*c:]
		dst := y[b*pl.outH*outW*c:]
		for y0 := range inH {
			y1 := min(y0+1, inH-1)
			for x0 := range inW {
				x1 := min(x0+1, inW-1)
				o := (2*y0*outW + 2*x0) * c
				for ch := range c {
					a, r := src[(y0*inW+x0)*c+ch], src[(y0*inW+x1)*c+ch]
					d, dr := src[(y1*inW+x0)*c+ch], src[(y1*inW+x1)*c+ch]
					dst[o+ch] = a
					dst[o+c+ch] = (a + r) / 2
					left := (a + d) / 2
					dst[o+outW*c+ch] = left
					dst[o+outW*c+c+ch] = (left + (r+dr)/2) / 2
				}
			}
		}
	}
}

func bilinearInt[T int8 | uint8 | int16](k *resizeKernel, pl *resizePlan, x, y []T) {
	c := k.inShape[3]
	o := 0
	for b := range k.inShape[0] {
		for oy := range pl.outH {
			for ox := range pl.outW {
				tl, tr, bl, br := k.corners(pl, b, oy, ox)
				switch k.arith {
				case rzXNNQ11:
					ah, av := pl.xs.q[ox], pl.ys.q[oy]
					for ch := range c {
						vtl, vtr, vbl, vbr := int32(x[tl+ch]), int32(x[tr+ch]), int32(x[bl+ch]), int32(x[br+ch])
						t := vtl<<11 + (vtr-vtl)*ah
						d := vbl<<11 + (vbr-vbl)*ah
						acc := t<<11 + (d-t)*av
						y[o+ch] = T((acc + 1<<21) >> 22)
					}
				case rzInt10:
					qy, qx := int64(pl.ys.q[oy]), int64(pl.xs.q[ox])
					fy := qy - 1024*int64(pl.ys.lo[oy])
					fx := qx - 1024*int64(pl.xs.lo[ox])
					for ch := range c {
						v := int64(x[tl+ch])*(1024-fy)*(1024-fx) + int64(x[bl+ch])*fy*(1024-fx) +
							int64(x[tr+ch])*(1024-fy)*fx + int64(x[br+ch])*fy*fx
						r := int64(1 << 19)
						if v <= 0 {
							r = -r
						}
						y[o+ch] = T((v + r) / (1 << 20))
					}
				case rzU8Float:
					dy := pl.ys.f[oy] - float32(pl.ys.lo[oy])
					dx := pl.xs.f[ox] - float32(pl.xs.lo[ox])
					s00, s01 := float32((1-dy)*(1-dx)), float32((1-dy)*dx)
					s10, s11 := float32(dy*(1-dx)), float32(dy*dx)
					for ch := range c {
						v := float32(float32(x[tl+ch])*s00) + float32(float32(x[tr+ch])*s01)
						v += float32(float32(x[bl+ch]) * s10)
						v += float32(float32(x[br+ch]) * s11)
						v += 0.5
						y[o+ch] = T(int32(v))
					}
				}
				o += c
			}
		}
	}
}
