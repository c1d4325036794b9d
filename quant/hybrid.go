package quant

import (
	"github.com/qbench/qbench/graph"
)

// HybridWeights returns the indices of the constant int8 weight tensors
// that feed CONV_2D, DEPTHWISE_CONV_2D or FULLY_CONNECTED ops with float32
// inputs: the weights of a hybrid (dynamic-range) model. An empty result
// means g has no hybrid op.
func HybridWeights(g *graph.Graph) []int {
	var idx []int
	seen := map[int]bool{}
	for _, op := range g.Ops {
		switch op.Kind {
		case graph.OpConv2D, graph.OpDepthwiseConv2D, graph.OpFullyConnected:
		default:
			continue
		}
		if len(op.Inputs) < 2 || op.Inputs[0] < 0 || op.Inputs[1] < 0 {
			continue
		}
		in, w := g.Tensor(op.Inputs[0]), g.Tensor(op.Inputs[1])
		if in == nil || w == nil || in.DType != graph.Float32 || w.DType != graph.Int8 || !w.IsConst() || w.Quant == nil || len(w.Quant.Scale) == 0 {
			continue
		}
		if !seen[op.Inputs[1]] {
			seen[op.Inputs[1]] = true
			idx = append(idx, op.Inputs[1])
		}
	}
	return idx
}

// DequantizeHybrid returns a copy of g in which every hybrid weight tensor
// (HybridWeights) is replaced by its float32 values scale·(q − zero point),
// per channel along the quantized dimension, computed as TFLite's
// DEQUANTIZE does; and the number of tensors replaced. A graph without
// hybrid ops comes back unchanged (not copied) with 0.
func DequantizeHybrid(g *graph.Graph) (*graph.Graph, int) {
	idx := HybridWeights(g)
	if len(idx) == 0 {
		return g, 0
	}
	c := g.Clone()
	for _, i := range idx {
		w := c.Tensors[i]
		q := w.Quant
		v := w.Int8s()
		inner := 1
		if len(q.Scale) > 1 {
			for d := q.Axis + 1; d < len(w.Shape); d++ {
				inner *= w.Shape[d]
			}
		}
		f := make([]float32, len(v))
		for j, x := range v {
			ch := 0
			if len(q.Scale) > 1 {
				ch = (j / inner) % len(q.Scale)
			}
			var zp int64
			if ch < len(q.ZeroPoint) {
				zp = q.ZeroPoint[ch]
			}
			f[j] = float32(float64(q.Scale[ch]) * float64(int64(x)-zp))
		}
		w.DType, w.Quant, w.Data = graph.Float32, nil, graph.EncodeFloat32s(f)
	}
	return c, len(idx)
}
