package interp

import (
	"github.com/qbench/qbench/graph"
	"github.com/qbench/qbench/kernels"
)

// fuseActivations returns the ops of g with every MAX_POOL_2D → RELU or
// RELU6 pair replaced by one MAX_POOL_2D with the matching fused
// activation writing the RELU's output, orig[i] the index in g.Ops of
// ops[i] (for a fused pool, the pool's) and how many pairs were fused.
// g is not modified: a fused pool is a new Op with new options, every
// other op is g's own (shared, read-only).
//
// Why this is exact: max is monotone, so relu(max(window)) is
// max(window) clamped below at 0, which is what the pool's activation
// clamp computes (Go's min/max in both kernels, so -0 and NaN agree too;
// the unfused pool already clamps to ±MaxFloat32). For int8 and int16 a
// RELU whose input and output share scale and zero point is exactly a
// clamp to the range the pool's activation derives from that same
// quantization; any other RELU also rescales, and stays.
//
// An 8-bit pool followed by a RELU that rescales (its own scale or zero
// point), or by RELU_N1_TO_1, RELU_0_TO_1 or LEAKY_RELU, becomes one
// MAX_POOL_2D with kernels.MaxPoolMapOptions instead: the pool, then the
// element-wise op's table applied to each pooled image while it is in
// cache — the pair's computation, so its bits, in one kernel (seed-cnn:
// every conv's 2×2 pool and rescaling RELU).
//
// A pair qualifies when the pool has no activation, its output is read by
// the RELU alone and is not a graph output.
func fuseActivations(g *graph.Graph) (ops []*graph.Op, orig []int, fused int) {
	e := newOpEdits(g)
	drop, repl := e.drop, e.repl
	for i, op := range g.Ops {
		po, ok := op.Options.(*graph.Pool2DOptions)
		if op.Kind != graph.OpMaxPool2D || !ok || po == nil || po.Activation != graph.ActNone ||
			len(op.Inputs) != 1 || len(op.Outputs) != 1 {
			continue
		}
		mid := op.Outputs[0]
		j, ok := e.soleReader(mid)
		if !ok {
			continue
		}
		relu := g.Ops[j]
		act := graph.ActNone
		switch relu.Kind {
		case graph.OpRelu:
			act = graph.ActRelu
		case graph.OpRelu6:
			act = graph.ActRelu6
		case graph.OpReluN1To1, graph.OpRelu0To1, graph.OpLeakyRelu:
		default:
			continue
		}
		if drop[j] || repl[j] != nil || len(relu.Inputs) != 1 || len(relu.Outputs) != 1 || relu.Outputs[0] < 0 {
			continue
		}
		in, m, out := g.Tensor(op.Inputs[0]), g.Tensors[mid], g.Tensors[relu.Outputs[0]]
		if in == nil || in.DType != m.DType || m.DType != out.DType {
			continue
		}
		nop := *op
		nop.Outputs = []int{relu.Outputs[0]}
		switch {
		case act != graph.ActNone && clampOnly(m, out):
			opts := *po
			opts.Activation = act
			nop.Options = &opts
		case kernels.MaxPoolMapFits(relu, m, out) == nil:
			nop.Options = &kernels.MaxPoolMapOptions{Pool: *po, Map: relu, Mid: m}
		default:
			continue
		}
		repl[i] = &nop
		drop[j] = true
		fused++
	}
	ops, orig = e.apply(g)
	return ops, orig, fused
}

// opEdits is one rewrite pass's edits of g.Ops and what the passes look up
// to find a pair: which ops read each tensor and which tensors are graph
// outputs. An op is dropped, or replaced by repl[i] (standing at i's place
// and counted as op from[i] of g, i unless the pass says otherwise).
type opEdits struct {
	consumers [][]int
	isOutput  []bool
	drop      []bool
	repl      []*graph.Op
	from      []int
}

func newOpEdits(g *graph.Graph) *opEdits {
	e := &opEdits{consumers: g.Consumers(), isOutput: make([]bool, len(g.Tensors)),
		drop: make([]bool, len(g.Ops)), repl: make([]*graph.Op, len(g.Ops)), from: make([]int, len(g.Ops))}
	for _, t := range g.Outputs {
		e.isOutput[t] = true
	}
	for i := range e.from {
		e.from[i] = i
	}
	return e
}

// soleReader returns the op reading tensor t when it is the only reader
// (reading t once) and t is not a graph output: an intermediate a pair may
// absorb.
func (e *opEdits) soleReader(t int) (int, bool) {
	if t < 0 || t >= len(e.consumers) || e.isOutput[t] || len(e.consumers[t]) != 1 {
		return 0, false
	}
	return e.consumers[t][0], true
}

// apply returns g's ops with the edits made and, for each, its index in
// g.Ops (from for a replacement). g is not modified.
func (e *opEdits) apply(g *graph.Graph) (ops []*graph.Op, orig []int) {
	for i, op := range g.Ops {
		switch {
		case e.drop[i]:
			continue
		case e.repl[i] != nil:
			op = e.repl[i]
		}
		ops = append(ops, op)
		orig = append(orig, e.from[i])
	}
	return ops, orig
}

// clampOnly reports whether a RELU from in to out is only a clamp: float32,
// or int8/int16 with the same per-tensor scale and zero point on both.
func clampOnly(in, out *graph.Tensor) bool {
	switch in.DType {
	case graph.Float32:
		return true
	case graph.Int8, graph.Int16:
	default:
		return false
	}
	a, b := in.Quant, out.Quant
	if a == nil || b == nil || len(a.Scale) != 1 || len(b.Scale) != 1 || !(a.Scale[0] > 0) || a.Scale[0] != b.Scale[0] {
		return false
	}
	zp := func(q *graph.Quantization) int64 {
		if len(q.ZeroPoint) == 0 {
			return 0
		}
		return q.ZeroPoint[0]
	}
	return zp(a) == zp(b)
}

// perImage reports whether op computes each image of a batch of b from
// that image alone, so it can run on one image at a time: every activation
// it reads or writes has the batch as dimension 0, and the op only mixes
// values within an image (convolutions and pools over H and W with
// constant weights, elementwise ops, padding and concatenation off the
// batch axis, reductions not over it, RESHAPEs keeping the batch, ADD
// broadcasting a constant without a batch dimension, lookups in a
// constant embedding table by batched ids). FULLY_CONNECTED,
// whose weights are reused across the batch, and anything unlisted is not.
func perImage(g *graph.Graph, op *graph.Op, b int) bool {
	isConst := func(t int) bool { return t >= 0 && g.Tensors[t].IsConst() }
	batched := func(t int) bool {
		x := g.Tensor(t)
		if x == nil || len(x.Shape) == 0 || x.Shape[0] != b {
			return false
		}
		// A quantization along dimension 0 differs per image.
		return x.Quant == nil || len(x.Quant.Scale) <= 1 || x.Quant.Axis != 0
	}
	if len(op.Inputs) == 0 || len(op.Outputs) == 0 {
		return false
	}
	// GATHER from a constant table (an embedding) by batched indices:
	// image i's indices give image i's rows.
	if op.Kind == graph.OpGather {
		o, ok := op.Options.(*graph.GatherOptions)
		if !ok || o == nil || o.Axis != 0 || o.BatchDims != 0 || len(op.Inputs) != 2 || len(op.Outputs) != 1 ||
			!isConst(op.Inputs[0]) || isConst(op.Inputs[1]) {
			return false
		}
		return batched(op.Inputs[1]) && batched(op.Outputs[0])
	}
	if isConst(op.Inputs[0]) {
		return false
	}
	for _, t := range op.Inputs {
		if t >= 0 && !isConst(t) && !batched(t) {
			return false
		}
	}
	for _, t := range op.Outputs {
		if !batched(t) {
			return false
		}
	}
	constOrAbsent := func(k int) bool { return k >= len(op.Inputs) || op.Inputs[k] < 0 || isConst(op.Inputs[k]) }
	rank := len(g.Tensors[op.Outputs[0]].Shape)
	switch op.Kind {
	case graph.OpConv2D, graph.OpDepthwiseConv2D:
		return len(op.Inputs) >= 2 && isConst(op.Inputs[1]) && constOrAbsent(2)
	case graph.OpMaxPool2D, graph.OpAveragePool2D, graph.OpRelu, graph.OpRelu6, graph.OpLeakyRelu,
		graph.OpLogistic, graph.OpQuantize, graph.OpDequantize:
		return len(op.Inputs) == 1
	case graph.OpSoftmax:
		return len(op.Inputs) == 1 && rank >= 2
	case graph.OpEmbeddingLookup:
		// Output row i is the table's row ids[i].
		return len(op.Inputs) == 2 && isConst(op.Inputs[1])
	case graph.OpReshape:
		// Same batch on both sides: image i's elements stay in slice i.
		return constOrAbsent(1)
	case graph.OpPad, graph.OpPadV2:
		if len(op.Inputs) < 2 || !isConst(op.Inputs[1]) || !constOrAbsent(2) {
			return false
		}
		pads := constIntsOf(g.Tensors[op.Inputs[1]])
		return len(pads) >= 2 && pads[0] == 0 && pads[1] == 0
	case graph.OpConcatenation:
		o, ok := op.Options.(*graph.ConcatenationOptions)
		if !ok || o == nil {
			return false
		}
		for _, t := range op.Inputs {
			if t < 0 || isConst(t) {
				return false
			}
		}
		axis := o.Axis
		if axis < 0 {
			axis += rank
		}
		return axis > 0 && axis < rank
	case graph.OpMean:
		if len(op.Inputs) != 2 || !isConst(op.Inputs[1]) {
			return false
		}
		inRank := len(g.Tensors[op.Inputs[0]].Shape)
		axes := constIntsOf(g.Tensors[op.Inputs[1]])
		if axes == nil {
			return false
		}
		for _, a := range axes {
			if a < 0 {
				a += inRank
			}
			if a <= 0 || a >= inRank {
				return false
			}
		}
		return true
	case graph.OpAdd:
		if len(op.Inputs) != 2 {
			return false
		}
		for _, t := range op.Inputs {
			x := g.Tensor(t)
			if x == nil {
				return false
			}
			// Broadcasting aligns trailing dimensions: an activation must
			// have the output's rank so its dimension 0 is the batch; a
			// constant must not have a batch dimension of its own.
			if !isConst(t) && len(x.Shape) != rank {
				return false
			}
			if isConst(t) && len(x.Shape) >= rank && x.Shape[0] != 1 {
				return false
			}
		}
		return true
	}
	return false
}

// constIntsOf decodes a constant int32 or int64 tensor (nil otherwise).
func constIntsOf(t *graph.Tensor) []int {
	var v []int
	switch t.DType {
	case graph.Int32:
		for _, x := range t.Int32s() {
			v = append(v, int(x))
		}
	case graph.Int64:
		for _, x := range t.Int64s() {
			v = append(v, int(x))
		}
	default:
		return nil
	}
	if v == nil {
		v = []int{}
	}
	return v
}
