package interp

import (
	"slices"

	"github.com/qbench/qbench/graph"
)

// fuseBiasAdds returns the ops of g with every float32 CONV_2D or
// DEPTHWISE_CONV_2D followed by an ADD of a per-channel constant replaced
// by one convolution that takes that constant as its bias and the ADD's
// activation as its own, writing the ADD's output; orig[i] is the index in
// g.Ops of ops[i] (for a merged pair, the convolution's) and merged how
// many pairs were. g is not modified.
//
// This is the BiasAdd TensorFlow leaves after a dilated convolution's
// BATCH_TO_SPACE_ND (the convolution inside gets a zero bias; see
// fuseDilated), and what Keras layers with a separate bias become. It is
// done only when the convolution's own bias is absent or all zeros, so the
// merged op's bias is the ADD's constant as stored (no new tensor); the
// convolution then adds the same bias once where the pair added 0 and then
// the constant, and clamps once with the ADD's activation where the pair
// clamped to ±MaxFloat32 first: the same value except for the sign of a
// zero sum (−0 + 0 + b against −0 + b when b is −0).
//
// A pair qualifies when the convolution has no activation, its output is
// read by the ADD alone and is not a graph output, the ADD's other input is
// a constant float32 tensor of the convolution's output channels (shape
// [C] or [1 … 1 C]), its output has the convolution output's shape, and
// its activation is one a convolution clamps with (none, RELU, RELU_N1_TO_1,
// RELU6).
func fuseBiasAdds(g *graph.Graph) (ops []*graph.Op, orig []int, merged int) {
	e := newOpEdits(g)
	drop, repl := e.drop, e.repl
	for i, conv := range g.Ops {
		if drop[i] || len(conv.Outputs) != 1 || len(conv.Inputs) < 2 {
			continue
		}
		mid := conv.Outputs[0]
		j, ok := e.soleReader(mid)
		if !ok {
			continue
		}
		add := g.Ops[j]
		if add.Kind != graph.OpAdd || drop[j] || repl[j] != nil || len(add.Inputs) != 2 || len(add.Outputs) != 1 || add.Outputs[0] < 0 {
			continue
		}
		ao, ok := add.Options.(*graph.AddOptions)
		if !ok || ao == nil || !convClamp(ao.Activation) {
			continue
		}
		bias := add.Inputs[1]
		if add.Inputs[1] == mid {
			bias = add.Inputs[0]
		} else if add.Inputs[0] != mid {
			continue
		}
		if bias == mid {
			continue // x + x
		}
		nop := biasAddConv(g, conv, bias, add.Outputs[0], ao.Activation)
		if nop == nil {
			continue
		}
		repl[i] = nop
		drop[j] = true
		merged++
	}
	ops, orig = e.apply(g)
	return ops, orig, merged
}

// convClamp reports whether a is an activation CONV_2D fuses in float.
func convClamp(a graph.Activation) bool {
	switch a {
	case graph.ActNone, graph.ActRelu, graph.ActReluN1To1, graph.ActRelu6:
		return true
	}
	return false
}

// biasAddConv returns conv with bias tensor bias, activation act and output
// out, or nil when the pair does not qualify (see fuseBiasAdds).
func biasAddConv(g *graph.Graph, conv *graph.Op, bias, out int, act graph.Activation) *graph.Op {
	x, w, y, z, b := g.Tensor(conv.Inputs[0]), g.Tensor(conv.Inputs[1]), g.Tensor(conv.Outputs[0]), g.Tensor(out), g.Tensor(bias)
	if x == nil || w == nil || y == nil || z == nil || b == nil ||
		x.DType != graph.Float32 || w.DType != graph.Float32 || y.DType != graph.Float32 || z.DType != graph.Float32 ||
		b.DType != graph.Float32 || !b.IsConst() || len(y.Shape) != 4 || !slices.Equal(y.Shape, z.Shape) {
		return nil
	}
	c := y.Shape[3]
	if b.NumElements() != c || len(b.Data) != 4*c || len(b.Shape) == 0 || len(b.Shape) > 4 || b.Shape[len(b.Shape)-1] != c {
		return nil
	}
	if len(conv.Inputs) > 2 && conv.Inputs[2] >= 0 {
		old := g.Tensor(conv.Inputs[2])
		if old == nil || !old.IsConst() || old.DType != graph.Float32 || !allZeroFloat(old.Data) {
			return nil
		}
	}
	nop := *conv
	switch o := conv.Options.(type) {
	case *graph.Conv2DOptions:
		if conv.Kind != graph.OpConv2D || o == nil || o.Activation != graph.ActNone {
			return nil
		}
		opts := *o
		opts.Activation = act
		nop.Options = &opts
	case *graph.DepthwiseConv2DOptions:
		if conv.Kind != graph.OpDepthwiseConv2D || o == nil || o.Activation != graph.ActNone {
			return nil
		}
		opts := *o
		opts.Activation = act
		nop.Options = &opts
	default:
		return nil
	}
	nop.Inputs = append(append([]int(nil), conv.Inputs[:2]...), bias)
	nop.Outputs = []int{out}
	return &nop
}

// allZeroFloat reports whether little-endian float32 data holds only ±0.
func allZeroFloat(data []byte) bool {
	for i := 0; i+3 < len(data); i += 4 {
		// Clear the sign bit: ±0 is all zero bits otherwise.
		if data[i] != 0 || data[i+1] != 0 || data[i+2] != 0 || data[i+3]&0x7f != 0 {
			return false
		}
	}
	return true
}
