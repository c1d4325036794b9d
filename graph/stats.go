package graph

// structuralInput reports whether input i of kind is configuration rather
// than learned parameters (a shape, paddings, axes or a pad value), which
// parameter counts leave out.
func structuralInput(kind OpKind, i int) bool {
	switch kind {
	case OpReshape, OpPad, OpMean:
		return i >= 1
	case OpPadV2:
		return i >= 1
	}
	return false
}

// OpStats returns the parameter count and multiply-accumulate count of one
// op. Parameters are the elements of its constant inputs except structural
// ones (reshape shapes, paddings, reduction axes). MACs count the
// multiplications of CONV_2D (output elements × kh × kw × cin, filter OHWI),
// DEPTHWISE_CONV_2D (output elements × kh × kw, filter 1HWC) and
// FULLY_CONNECTED (output elements × input features, weights [out, in]);
// every other op counts 0 MACs, since pooling, additions and activations
// are not multiply-accumulates. Shapes that do not fit give 0 rather than
// an error: this is reporting, and Validate and the interpreter own checks.
func OpStats(g *Graph, op *Op) (params int64, macs int64) {
	for i, in := range op.Inputs {
		t := g.Tensor(in)
		if t == nil || !t.IsConst() || structuralInput(op.Kind, i) {
			continue
		}
		params += int64(t.NumElements())
	}
	if len(op.Outputs) == 0 || len(op.Inputs) < 2 {
		return params, 0
	}
	out, w := g.Tensor(op.Outputs[0]), g.Tensor(op.Inputs[1])
	if out == nil || w == nil {
		return params, 0
	}
	outElems := int64(out.NumElements())
	switch op.Kind {
	case OpConv2D:
		if len(w.Shape) == 4 {
			macs = outElems * int64(w.Shape[1]) * int64(w.Shape[2]) * int64(w.Shape[3])
		}
	case OpDepthwiseConv2D:
		if len(w.Shape) == 4 {
			macs = outElems * int64(w.Shape[1]) * int64(w.Shape[2])
		}
	case OpFullyConnected:
		if len(w.Shape) == 2 {
			macs = outElems * int64(w.Shape[1])
		}
	}
	return params, macs
}

// TotalStats sums OpStats over the graph. A constant tensor read by several
// ops counts once in params.
func TotalStats(g *Graph) (params int64, macs int64) {
	seen := make(map[int]bool)
	for _, op := range g.Ops {
		_, m := OpStats(g, op)
		macs += m
		for i, in := range op.Inputs {
			t := g.Tensor(in)
			if t == nil || !t.IsConst() || structuralInput(op.Kind, i) || seen[in] {
				continue
			}
			seen[in] = true
			params += int64(t.NumElements())
		}
	}
	return params, macs
}
