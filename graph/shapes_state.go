package graph

// RebatchStates gives the state tensors (Tensor.Variable: an LSTM's output
// and cell state, an SVDF's memory) of g the batch their ops now run at,
// after InferShapes re-batched g from orig (g a clone of orig with new
// input shapes, so op i and tensor t are the same in both). A state's
// leading dimension is its op's batch: TFLite's kernels keep one state row
// per batch row (n_batch · n_output elements), so re-batching the input
// alone leaves a state sized for the old batch, which the kernels refuse.
// Each row of the state belongs to one image, so at any batch every image
// runs independently of the others, as it would alone.
//
// A state is re-batched only when its leading dimension was its op's old
// batch and it has a second dimension (the per-row size); any other layout
// keeps its declared shape and the kernel's checks report it.
func RebatchStates(orig, g *Graph) {
	if len(orig.Ops) != len(g.Ops) || len(orig.Tensors) != len(g.Tensors) {
		return
	}
	for i, op := range g.Ops {
		oldB, ok := stateOpBatch(orig, orig.Ops[i])
		if !ok {
			continue
		}
		newB, ok := stateOpBatch(g, op)
		if !ok || newB == oldB {
			continue
		}
		for _, ti := range op.Inputs {
			t, o := g.Tensor(ti), orig.Tensor(ti)
			if t == nil || o == nil || !t.Variable || t.IsConst() || len(o.Shape) < 2 || o.Shape[0] != oldB {
				continue
			}
			t.Shape = append([]int{newB}, o.Shape[1:]...)
		}
	}
}

// stateOpBatch is the batch of an op that keeps state: dimension 0 of its
// input (dimension 1 of a time-major sequence LSTM's). ok is false for ops
// without state or whose input has no such dimension.
func stateOpBatch(g *Graph, op *Op) (int, bool) {
	if len(op.Inputs) == 0 {
		return 0, false
	}
	x := g.Tensor(op.Inputs[0])
	if x == nil {
		return 0, false
	}
	switch op.Kind {
	case OpSVDF:
		if len(x.Shape) == 2 {
			return x.Shape[0], true
		}
	case OpUnidirectionalSequenceLSTM:
		if len(x.Shape) != 3 {
			return 0, false
		}
		if o, _ := op.Options.(*SequenceLSTMOptions); o != nil && o.TimeMajor {
			return x.Shape[1], true
		}
		return x.Shape[0], true
	}
	return 0, false
}
