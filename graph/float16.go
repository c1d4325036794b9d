package graph

// IsFloat16Dequantize reports whether op is a DEQUANTIZE that widens a
// constant float16 tensor to a float32 one of the same size: how TFLite's
// float16 quantization stores each weight (FLOAT16 constant → DEQUANTIZE).
func (g *Graph) IsFloat16Dequantize(op *Op) bool {
	if op == nil || op.Kind != OpDequantize || len(op.Inputs) != 1 || len(op.Outputs) != 1 {
		return false
	}
	in, out := g.Tensor(op.Inputs[0]), g.Tensor(op.Outputs[0])
	return in != nil && out != nil && in.DType == Float16 && in.IsConst() &&
		out.DType == Float32 && !out.IsConst() && in.NumElements() == out.NumElements() &&
		len(in.Data) == 2*in.NumElements()
}

// Float16Weights counts g's float16 weights (IsFloat16Dequantize ops); a
// model with some is a float16-quantized float model.
func (g *Graph) Float16Weights() int {
	n := 0
	for _, op := range g.Ops {
		if g.IsFloat16Dequantize(op) {
			n++
		}
	}
	return n
}
