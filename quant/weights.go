package quant

import (
	"fmt"
	"math"

	"github.com/qbench/qbench/graph"
)

// weightOp fills ins for CONV_2D, DEPTHWISE_CONV_2D, FULLY_CONNECTED or
// TRANSPOSE_CONV: integer data input, int8 symmetric weights (per output
// channel unless PerTensor) and an int32 (int64 in 16x8 mode) bias with scale s_in·s_w[c].
func (r *rewriter) weightOp(op *graph.Op, ins []int) ([]int, error) {
	// Input, weights and bias positions: TRANSPOSE_CONV has its
	// output_shape first (an int32 constant, copied) and the bias last.
	xi, wi, bi := 0, 1, 2
	if op.Kind == graph.OpTransposeConv {
		xi, bi = 2, 3
		if len(op.Inputs) < 3 {
			return nil, fmt.Errorf("needs output_shape, weights and input, has %d inputs", len(op.Inputs))
		}
		ins[0] = r.getFloat(op.Inputs[0])
	}
	if len(op.Inputs) < 2 {
		return nil, fmt.Errorf("needs input and weights, has %d inputs", len(op.Inputs))
	}
	x := op.Inputs[xi]
	ins[xi] = r.getQuant(x)
	w := r.g.Tensor(op.Inputs[wi])
	if w == nil || !w.IsConst() || w.DType != graph.Float32 {
		return nil, fmt.Errorf("weights must be a float32 constant: %w", ErrUnsupported)
	}
	axis := 0
	if op.Kind == graph.OpDepthwiseConv2D {
		axis = 3
	}
	if len(w.Shape) <= axis {
		return nil, fmt.Errorf("weights %q: shape %v has no output-channel axis %d", w.Name, w.Shape, axis)
	}
	outC := w.Shape[axis]
	wf := w.Float32s()
	wq, ws := QuantizeWeights(wf, w.Shape, axis, !r.opts.PerTensor)
	zps := make([]int64, len(ws))
	wt := &graph.Tensor{Name: w.Name, Shape: append([]int(nil), w.Shape...), DType: graph.Int8,
		Data: graph.EncodeInt8s(wq), Quant: &graph.Quantization{Scale: ws, ZeroPoint: zps, Axis: axis}}
	if len(ws) == 1 {
		wt.Quant.Axis = 0
	}
	ins[wi] = r.ng.AddTensor(wt)

	// Bias (float), corrected for the mean weight-quantization error.
	var bias []float32
	var bt *graph.Tensor
	if len(op.Inputs) > bi && op.Inputs[bi] >= 0 {
		bt = r.g.Tensors[op.Inputs[bi]]
		if !bt.IsConst() || bt.DType != graph.Float32 || bt.NumElements() != outC {
			return nil, fmt.Errorf("bias %q must be a float32 constant of %d values: %w", bt.Name, outC, ErrUnsupported)
		}
		bias = bt.Float32s()
	}
	// Bias correction assumes a convolution's input windows; a transposed
	// convolution's scatter is not corrected.
	if r.opts.BiasCorrection && op.Kind != graph.OpTransposeConv {
		if corr := r.biasCorrection(op, wf, wq, ws, axis, outC); corr != nil {
			if bias == nil {
				bias = make([]float32, outC)
			}
			for c := range bias {
				bias[c] = float32(float64(bias[c]) - corr[c])
			}
		}
	}
	if bias == nil {
		return ins, nil
	}
	bname := r.g.Tensors[op.Outputs[0]].Name + "_bias"
	if bt != nil {
		bname = bt.Name
	}
	sIn := r.params[x].Scale[0]
	bs := BiasScales(sIn, ws, outC)
	b := &graph.Tensor{Name: bname, Shape: []int{outC}, Quant: &graph.Quantization{Scale: bs, ZeroPoint: make([]int64, outC)}}
	if len(ws) == 1 {
		b.Quant.Scale = bs[:1]
		b.Quant.ZeroPoint = []int64{0}
	}
	if r.act == graph.Int16 {
		q := QuantizeBias(bias, bs, math.MinInt64, math.MaxInt64)
		b.DType, b.Data = graph.Int64, graph.EncodeInt64s(q)
	} else {
		q := QuantizeBias(bias, bs, math.MinInt32, math.MaxInt32)
		q32 := make([]int32, len(q))
		for i, v := range q {
			q32[i] = int32(v)
		}
		b.DType, b.Data = graph.Int32, graph.EncodeInt32s(q32)
	}
	for len(ins) <= bi {
		ins = append(ins, -1)
	}
	ins[bi] = r.ng.AddTensor(b)
	return ins, nil
}

// biasCorrection returns, per output channel, the mean extra output the
// rounded weights produce: Σ_k (dequant(wq)−w)[c,k]·E[x_k], where E[x] is
// the calibration mean of the input channel that weight multiplies. Border
// padding is ignored. It returns nil when no means were recorded.
func (r *rewriter) biasCorrection(op *graph.Op, wf []float32, wq []int8, ws []float32, axis, outC int) []float64 {
	means := r.cal.ChannelMeans[op.Inputs[0]]
	if means == nil {
		return nil
	}
	scale := func(c int) float64 {
		if len(ws) == 1 {
			return float64(ws[0])
		}
		return float64(ws[c])
	}
	corr := make([]float64, outC)
	switch op.Kind {
	case graph.OpDepthwiseConv2D:
		// [1, KH, KW, O]; output channel c reads input channel c / multiplier.
		mult := outC / len(means)
		if mult < 1 || mult*len(means) != outC {
			return nil
		}
		for i, v := range wf {
			c := i % outC
			d := float64(wq[i])*scale(c) - float64(v)
			corr[c] += d * means[c/mult]
		}
	default:
		// [O, ..., I]: element i belongs to channel i / inner and multiplies
		// input channel i mod I.
		inner := len(wf) / outC
		in := len(means)
		if inner%in != 0 {
			return nil
		}
		for i, v := range wf {
			c := i / inner
			d := float64(wq[i])*scale(c) - float64(v)
			corr[c] += d * means[i%in]
		}
	}
	return corr
}
