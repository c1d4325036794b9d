package quant

import (
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// DequantizeFloat16 returns a copy of g in which the output of every
// DEQUANTIZE of a constant float16 tensor (graph.IsFloat16Dequantize) is that tensor's exact float32
// value, the DEQUANTIZE removed and the float16 tensor left unused: the
// float model the converter started from, up to float16 rounding of its
// weights. It also returns how many DEQUANTIZEs were removed; a graph
// without them comes back unchanged (not copied) with 0.
func DequantizeFloat16(g *graph.Graph) (*graph.Graph, int) {
	if g.Float16Weights() == 0 {
		return g, 0
	}
	c := g.Clone()
	kept := c.Ops[:0:0]
	n := 0
	for _, op := range c.Ops {
		if !c.IsFloat16Dequantize(op) {
			kept = append(kept, op)
			continue
		}
		in, out := c.Tensors[op.Inputs[0]], c.Tensors[op.Outputs[0]]
		f := make([]float32, in.NumElements())
		for i := range f {
			f[i] = kernels.Float16ToFloat32(uint16(in.Data[2*i]) | uint16(in.Data[2*i+1])<<8)
		}
		out.Data = graph.EncodeFloat32s(f)
		out.ShapeSignature = nil
		n++
	}
	c.Ops = kept
	return c, n
}
