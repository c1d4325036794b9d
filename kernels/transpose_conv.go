package kernels

import (
	"fmt"

	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels/fixedpoint"
)

// TRANSPOSE_CONV: inputs output_shape (int32 [4]), weights [O, H, W, I],
// input [N, H, W, I] and an optional bias [O]. As TFLite's kernels do, each
// input pixel scatters its products with every filter tap into the output
// (stride apart, shifted by the padding a convolution from the output back
// to the input would use), then bias, rescaling and the activation clamp
// are applied per output value.
//
// Float32; int8 (per-channel or per-tensor symmetric weights, int32 bias);
// uint8 (per-tensor weights with a zero point); 16x8 (int16 activations,
// int8 weights, int64 or int32 bias, int64 accumulators). Integer sums are
// exact, so the order of the scatter does not matter; the rescaling is the
// rounding mode's MultiplyByQuantizedMultiplier. In RuntimeRounding it is
// what the oracle measured: XNNPACK's float32 requantization for int8 with
// per-tensor weights and for uint8 where the delegate takes the layer
// (xnnTakesTransposeConv), double
// rounding for the other int8 and uint8 layers and bias-less int16 ones
// (the runtime's builtin TRANSPOSE_CONV). The fused activation
// is today's TFLite's; the oracle's TFLite (2022) ignores it, so the
// oracle test uses none.

type tconvGeom struct {
	batch, inH, inW, inC     int
	outH, outW, outC         int
	fH, fW, strideH, strideW int
	padT, padL               int
}

// tconvPadding is TFLite's: the padding of a convolution that maps the
// transposed convolution's output back to an input of the size that
// convolution would produce.
func tconvPadding(pad graph.Padding, out, filter, stride int) int {
	return graph.ConvPadding(pad, out, filter, stride, 1, graph.ConvOutputSize(pad, out, filter, stride, 1))
}

type tconvKernel struct {
	op    *graph.Op
	g     tconvGeom
	dt    graph.DType
	shape []int // the planned output shape, checked against a run-time output_shape
	// float32
	wF       []float32
	biasF    []float32
	loF, hiF float32
	// integer
	wI    []int8
	wU8   []uint8
	wZP   int32 // uint8 weights' zero point
	inZP  int32
	rq    *requant
	acc64 bool // 16x8 with a bias: 64-bit rescaling
	// xnn, when set, is XNNPACK's float32 requantization per channel
	// (the runtime's delegate), else rq's multipliers.
	xnn []float32
}

func prepareTransposeConv(p *prep) (Kernel, error) {
	op := p.op
	osT, w, x, bias, y := p.in(0), p.in(1), p.in(2), p.in(3), p.out(0)
	if osT == nil || w == nil || x == nil || y == nil {
		return nil, fmt.Errorf("%s: needs output_shape, weights, input and an output", op.Kind)
	}
	o, ok := op.Options.(*graph.TransposeConvOptions)
	if !ok {
		return nil, fmt.Errorf("%s: options are %T", op.Kind, op.Options)
	}
	if o.StrideH <= 0 || o.StrideW <= 0 {
		return nil, fmt.Errorf("%s: strides %d, %d must be positive", op.Kind, o.StrideH, o.StrideW)
	}
	if osT.DType != graph.Int32 {
		return nil, fmt.Errorf("%s: output_shape %q is %s, want int32", op.Kind, osT.Name, osT.DType)
	}
	if len(x.Shape) != 4 || len(w.Shape) != 4 || len(y.Shape) != 4 {
		return nil, fmt.Errorf("%s: input %v, weights %v and output %v must be 4-D", op.Kind, x.Shape, w.Shape, y.Shape)
	}
	if _, err := graph.TransposeConvShape(x.Shape, w.Shape, y.Shape); err != nil || x.Shape[3] != w.Shape[3] {
		return nil, fmt.Errorf("%s: input %q %v, weights %q %v and output %q %v do not fit: %w",
			op.Kind, x.Name, x.Shape, w.Name, w.Shape, y.Name, y.Shape, graph.ErrShape)
	}
	if v := tensorInts(osT); v != nil && !equalInts(v, y.Shape) {
		return nil, fmt.Errorf("%s: output_shape %v, output %q is %v: %w", op.Kind, v, y.Name, y.Shape, graph.ErrShape)
	}
	g := tconvGeom{batch: x.Shape[0], inH: x.Shape[1], inW: x.Shape[2], inC: x.Shape[3],
		outH: y.Shape[1], outW: y.Shape[2], outC: y.Shape[3], fH: w.Shape[1], fW: w.Shape[2],
		strideH: o.StrideH, strideW: o.StrideW}
	g.padT = tconvPadding(o.Padding, g.outH, g.fH, g.strideH)
	g.padL = tconvPadding(o.Padding, g.outW, g.fW, g.strideW)
	k := &tconvKernel{op: op, g: g, dt: x.DType, shape: append([]int{}, y.Shape...)}
	nW := g.outC * g.fH * g.fW * g.inC
	if y.DType != x.DType {
		return nil, p.unsupported("input and output dtypes differ")
	}
	var err error
	switch x.DType {
	case graph.Float32:
		if k.wF, err = constFloatWeights(op, w, nW); err != nil {
			return nil, err
		}
		if k.biasF, err = floatBias(op, bias, g.outC); err != nil {
			return nil, err
		}
		if k.loF, k.hiF, err = ActivationRangeFloat(o.Activation); err != nil {
			return nil, err
		}
		return k, nil
	case graph.Int8:
		sIn, zpIn, err := tensorQuant(op, "input", x)
		if err != nil {
			return nil, err
		}
		k.inZP = zpIn
		if k.wI, err = constInt8Weights(op, w, nW); err != nil {
			return nil, err
		}
		scales, _, err := weightScales(op, w, g.outC, false)
		if err != nil {
			return nil, err
		}
		bv, _, err := intBias(op, bias, g.outC)
		if err != nil {
			return nil, err
		}
		rnd := p.rnd
		if rnd == fixedpoint.RuntimeRounding {
			// Measured against the oracle (TestTransposeConvMatchesTFLite,
			// tie-prone scales): the delegate takes per-tensor weights in
			// the geometries it accepts; the builtin kernel the rest runs
			// on rounds twice.
			rnd = fixedpoint.DoubleRounding
			if sOut, _, ok := QuantParams(y); ok && len(scales) == 1 && xnnTakesTransposeConv(o, &g, osT) {
				k.xnnScales(fixedpoint.FP32Scale(sIn, scales[0], sOut))
			}
		}
		if k.rq, err = newRequant(rnd, op, sIn, scales, y, o.Activation, bv, g.outC); err != nil {
			return nil, err
		}
		return k, nil
	case graph.Int16:
		rnd := p.rnd
		if rnd == fixedpoint.RuntimeRounding && bias == nil {
			rnd = fixedpoint.DoubleRounding // measured, as for int8
		}
		if k.rq, k.wI, err = prepare16x8(rnd, op, x, w, bias, y, o.Activation, g.outC, nW); err != nil {
			return nil, err
		}
		// TFLite's 16x8 TRANSPOSE_CONV accumulates in int64; the runtime
		// rescales with the 64-bit multiplier when there is a bias and
		// with the 32-bit one, rounding twice, otherwise (measured).
		k.acc64 = bias != nil
		return k, nil
	case graph.UInt8:
		sIn, zpIn, err := tensorQuant(op, "input", x)
		if err != nil {
			return nil, err
		}
		k.inZP = zpIn
		if w.DType != graph.UInt8 || !w.IsConst() || len(w.Data) != nW {
			return nil, unsupportedf(op, "uint8 TRANSPOSE_CONV needs %d constant uint8 weights, %q is %s %v", nW, w.Name, w.DType, w.Shape)
		}
		sW, zpW, err := tensorQuant(op, "weights", w)
		if err != nil {
			return nil, err
		}
		if len(w.Quant.Scale) != 1 {
			return nil, unsupportedf(op, "uint8 weights %q must be quantized per tensor", w.Name)
		}
		k.wU8, k.wZP = w.Data, zpW
		bv, is64, err := intBias(op, bias, g.outC)
		if err != nil {
			return nil, err
		}
		if is64 {
			return nil, unsupportedf(op, "uint8 TRANSPOSE_CONV takes an int32 bias, %q is int64", bias.Name)
		}
		rnd := p.rnd
		if rnd == fixedpoint.RuntimeRounding {
			// As int8 (measured): XNNPACK where the delegate takes the
			// layer, the builtin kernel's double rounding elsewhere.
			rnd = fixedpoint.DoubleRounding
			if xnnTakesTransposeConv(o, &g, osT) {
				k.xnnScales(fixedpoint.FP32Scale(sIn, sW, sOutOf(y)))
			}
		}
		if k.rq, err = newRequant(rnd, op, sIn, []float32{sW}, y, o.Activation, bv, g.outC); err != nil {
			return nil, err
		}
		return k, nil
	}
	return nil, p.unsupported("dtype")
}

// Run implements Kernel.
func (k *tconvKernel) Run(ins, outs []*Buffer) error {
	g := &k.g
	if ins[0] != nil && len(ins[0].I32) > 0 {
		v, err := bufInts(ins[0])
		if err != nil || !equalInts(v, k.shape) {
			return fmt.Errorf("%s: output_shape %v, planned output %v: %w", k.op.Kind, v, k.shape, graph.ErrShape)
		}
	}
	x, y := ins[2], outs[0]
	inN, outN := g.batch*g.inH*g.inW*g.inC, g.batch*g.outH*g.outW*g.outC
	if bufLen(x) != inN || bufLen(y) != outN {
		return fmt.Errorf("%s: buffers hold %d and %d elements, want %d and %d", k.op.Kind, bufLen(x), bufLen(y), inN, outN)
	}
	switch k.dt {
	case graph.Float32:
		acc := y.F32
		clear(acc)
		tconvScatter(g, x.F32, k.wF, acc, 0, 0)
		n := 0
		for i := range acc {
			v := acc[i]
			if k.biasF != nil {
				v += k.biasF[n]
			}
			acc[i] = min(max(v, k.loF), k.hiF)
			if n++; n == g.outC {
				n = 0
			}
		}
	case graph.Int8:
		acc := make([]int32, outN)
		tconvScatter(g, x.I8, k.wI, acc, k.inZP, 0)
		k.requant32(acc, func(i int, v int32) { y.I8[i] = int8(v) })
	case graph.UInt8:
		acc := make([]int32, outN)
		tconvScatter(g, x.U8, k.wU8, acc, k.inZP, k.wZP)
		k.requant32(acc, func(i int, v int32) { y.U8[i] = uint8(v) })
	case graph.Int16:
		acc := make([]int64, outN)
		tconvScatter(g, x.I16, k.wI, acc, 0, 0)
		c := 0
		for i, a := range acc {
			var v int32
			if k.acc64 {
				v = k.rq.apply64(a, c)
			} else {
				v = k.rq.apply32(int32(a), c)
			}
			y.I16[i] = int16(v)
			if c++; c == g.outC {
				c = 0
			}
		}
	}
	return nil
}

func (k *tconvKernel) requant32(acc []int32, set func(i int, v int32)) {
	c := 0
	for i, a := range acc {
		if k.xnn != nil {
			if k.rq.bias32 != nil {
				a += k.rq.bias32[c]
			}
			set(i, fixedpoint.FP32Requantize(a, k.xnn[c], k.rq.outZP, k.rq.lo, k.rq.hi))
		} else {
			set(i, k.rq.apply32(a, c))
		}
		if c++; c == k.g.outC {
			c = 0
		}
	}
}

// tconvScatter adds (x − xZP)·(w − wZP) of every input value and filter
// tap into acc (NHWC), as TFLite's reference TransposeConv loops.
func tconvScatter[X float32 | int8 | uint8 | int16, W float32 | int8 | uint8, A float32 | int32 | int64](g *tconvGeom, x []X, w []W, acc []A, xZP, wZP int32) {
	for b := range g.batch {
		for iy := range g.inH {
			for ix := range g.inW {
				px := x[((b*g.inH+iy)*g.inW+ix)*g.inC:][:g.inC]
				oy0, ox0 := iy*g.strideH-g.padT, ix*g.strideW-g.padL
				for fy := range g.fH {
					oy := oy0 + fy
					if oy < 0 || oy >= g.outH {
						continue
					}
					for fx := range g.fW {
						ox := ox0 + fx
						if ox < 0 || ox >= g.outW {
							continue
						}
						dst := acc[((b*g.outH+oy)*g.outW+ox)*g.outC:][:g.outC]
						for oc := range g.outC {
							wr := w[((oc*g.fH+fy)*g.fW+fx)*g.inC:][:g.inC]
							var s A
							for ic, v := range px {
								s += (A(v) - A(xZP)) * (A(wr[ic]) - A(wZP))
							}
							dst[oc] += s
						}
					}
				}
			}
		}
	}
}

// xnnTakesTransposeConv reports whether the TFLite runtime's XNNPACK
// delegate accepts this layer's geometry (its CalculateTransposeConvPaddings):
// with VALID padding the output must be at least the filter size; with SAME
// padding the output must map back to exactly the input's size and the
// filter must be at least as large as the stride; output_shape must be a
// constant of the file.
func xnnTakesTransposeConv(o *graph.TransposeConvOptions, g *tconvGeom, outShape *graph.Tensor) bool {
	if !outShape.IsConst() || outShape.Folded {
		return false // the delegate wants a static output_shape
	}
	if o.Padding == graph.PaddingValid {
		return g.outH >= g.fH && g.outW >= g.fW
	}
	return (g.outH+g.strideH-1)/g.strideH == g.inH && (g.outW+g.strideW-1)/g.strideW == g.inW &&
		g.fH >= g.strideH && g.fW >= g.strideW
}

// xnnScales sets XNNPACK's requantization scale for every channel, unless
// XNNPACK refuses it (a scale of 256 or more).
func (k *tconvKernel) xnnScales(s float32) {
	if !(s < 256) {
		return
	}
	k.xnn = make([]float32, k.g.outC)
	for c := range k.xnn {
		k.xnn[c] = s
	}
}

func sOutOf(y *graph.Tensor) float32 {
	s, _, _ := QuantParams(y)
	return s
}
