package quant

import (
	"strings"

	"github.com/qbench/qbench/graph"
)

// ParamsOf returns the activation parameters of a quantized graph by the
// name of the float tensor they quantize: the integer copies qbench makes at
// float boundaries ("x_int8", "x_int16") count as "x". Pass the result as
// Options.Fixed to rebuild the same model with other options (KeepFloat).
func ParamsOf(q *graph.Graph) map[string]*graph.Quantization {
	m := map[string]*graph.Quantization{}
	for _, t := range q.Tensors {
		if t.IsConst() || t.Quant == nil || len(t.Quant.Scale) != 1 {
			continue
		}
		if t.DType != graph.Int8 && t.DType != graph.Int16 {
			continue
		}
		name := strings.TrimSuffix(strings.TrimSuffix(t.Name, "_int8"), "_int16")
		if _, dup := m[name]; dup && name != t.Name {
			continue // the natural tensor's parameters win
		}
		m[name] = t.Quant.Clone()
	}
	return m
}

// OptionsOf infers the options a quantized graph was made with: mode (int16
// activations mean 16x8), io dtype, per-tensor weights, and the activation
// parameters (Fixed). Calibration method and bias correction cannot be seen
// in a model and are left at their defaults.
func OptionsOf(q *graph.Graph) Options {
	o := Options{Fixed: ParamsOf(q), IO: graph.Float32}
	if len(q.Inputs) > 0 {
		o.IO = q.Tensors[q.Inputs[0]].DType
	}
	perTensor := false
	for _, op := range q.Ops {
		for _, out := range op.Outputs {
			if q.Tensors[out].DType == graph.Int16 {
				o.Mode = Mode16x8
			}
		}
		switch op.Kind {
		case graph.OpConv2D, graph.OpDepthwiseConv2D, graph.OpFullyConnected:
			if w := q.Tensor(op.Inputs[1]); w != nil && w.IsConst() && w.Quant != nil && len(w.Quant.Scale) == 1 && w.NumElements() > 1 {
				axis := 0
				if op.Kind == graph.OpDepthwiseConv2D {
					axis = 3
				}
				if axis < len(w.Shape) && w.Shape[axis] > 1 {
					perTensor = true
				}
			}
		}
	}
	o.PerTensor = perTensor
	return o
}
