package tflite

import (
	"github.com/qbench/qbench/graph"
)

// compat returns g adjusted so that deployed TFLite runtimes accept the
// written file, or g itself when nothing needs adjusting:
//
//   - CONV_2D and DEPTHWISE_CONV_2D with an omitted bias get an explicit zero
//     bias (float32 for float ops; int32, or int64 for 16x8, quantized with
//     scale s_in·s_w per channel). TFLite's conv kernel before 2.13 rejects
//     a missing bias ("has_bias was not true"), and the converter always
//     writes one, so toolchains such as the Edge TPU compiler expect it.
//   - RESHAPE with no shape input and no new_shape option gets new_shape =
//     the output shape; older kernels otherwise compute an empty shape.
//
// The input graph is never modified: changed ops are copied, tensors are
// shared, and only new tensors are appended to a copied tensor list.
func compat(g *graph.Graph) *graph.Graph {
	var out *graph.Graph
	ensure := func() {
		if out == nil {
			c := *g
			c.Tensors = append([]*graph.Tensor(nil), g.Tensors...)
			c.Ops = append([]*graph.Op(nil), g.Ops...)
			out = &c
		}
	}
	for i, op := range g.Ops {
		switch op.Kind {
		case graph.OpConv2D, graph.OpDepthwiseConv2D:
			if len(op.Inputs) == 3 && op.Inputs[2] != -1 {
				continue
			}
			bias := zeroBias(g, op)
			if bias == nil {
				continue
			}
			ensure()
			nop := *op
			nop.Inputs = []int{op.Inputs[0], op.Inputs[1], out.AddTensor(bias)}
			out.Ops[i] = &nop
		case graph.OpReshape:
			o, _ := op.Options.(*graph.ReshapeOptions)
			if len(op.Inputs) != 1 || (o != nil && len(o.NewShape) > 0) {
				continue
			}
			ensure()
			nop := *op
			nop.Options = &graph.ReshapeOptions{NewShape: append([]int{}, g.Tensors[op.Outputs[0]].Shape...)}
			out.Ops[i] = &nop
		}
	}
	if out == nil {
		return g
	}
	return out
}

// zeroBias builds the zero bias for a conv/depthwise op, or nil when the
// filter's shape or the dtypes do not say what it should be.
func zeroBias(g *graph.Graph, op *graph.Op) *graph.Tensor {
	in, filt := g.Tensor(op.Inputs[0]), g.Tensor(op.Inputs[1])
	if in == nil || filt == nil || len(filt.Shape) != 4 {
		return nil
	}
	ch := filt.Shape[0]
	if op.Kind == graph.OpDepthwiseConv2D {
		ch = filt.Shape[3]
	}
	if ch <= 0 {
		return nil // an empty constant cannot be stored distinctly from "no data"
	}
	b := &graph.Tensor{Name: filt.Name + "/zero_bias", Shape: []int{ch}}
	switch in.DType {
	case graph.Float32:
		b.DType = graph.Float32
	case graph.Int8, graph.Int16:
		b.DType = graph.Int32
		if in.DType == graph.Int16 {
			b.DType = graph.Int64
		}
		if in.Quant == nil || filt.Quant == nil || len(in.Quant.Scale) != 1 || len(filt.Quant.Scale) == 0 {
			return nil
		}
		q := &graph.Quantization{Scale: make([]float32, ch), ZeroPoint: make([]int64, ch)}
		for c := range q.Scale {
			sw := filt.Quant.Scale[0]
			if len(filt.Quant.Scale) == ch {
				sw = filt.Quant.Scale[c]
			}
			q.Scale[c] = in.Quant.Scale[0] * sw
		}
		if ch == 1 {
			q.Scale, q.ZeroPoint = q.Scale[:1], q.ZeroPoint[:1]
		}
		b.Quant = q
	default:
		return nil
	}
	b.Data = make([]byte, b.ByteSize())
	return b
}
